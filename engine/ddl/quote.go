package ddl

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// QuoteClickHouse quotes an identifier for ClickHouse: always in
// backticks, since a bare word can be a keyword (a column named null is
// the NULL literal in an expression, one named index starts an index in a
// column list). Inside, a backslash and a backtick are escaped with a
// backslash, and control characters are written \xHH: ClickHouse 18.16
// and current releases read those escapes alike. They differ on an escape
// they do not know (\q is q to 18.16 and \q to current releases), so no
// other escape is ever written.
func QuoteClickHouse(name string) string {
	var b strings.Builder
	b.Grow(len(name) + 2)
	b.WriteByte('`')
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '\\' || c == '`':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\x%02X`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('`')
	return b.String()
}

// QuoteClickHouseName quotes each part of a dotted db.table name. Table
// names are plain (config checks them), so a dot always separates parts.
func QuoteClickHouseName(name string) string {
	parts := strings.Split(name, ".")
	for i, p := range parts {
		parts[i] = QuoteClickHouse(p)
	}
	return strings.Join(parts, ".")
}

// QuoteClickHouseList quotes column names and joins them with commas.
func QuoteClickHouseList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = QuoteClickHouse(n)
	}
	return strings.Join(q, ", ")
}

// QuoteSnowflake quotes a column name for Snowflake, keeping its case:
// always in double quotes, a double quote inside doubled. Quoting an upper
// case name changes nothing Snowflake reads, and keeps a name that is a
// reserved word (ORDER, SELECT) a name.
func QuoteSnowflake(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// plainSnowflake is an identifier Snowflake reads unquoted (and upper-cases).
var plainSnowflake = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_$]*$`)

// QuoteSnowflakeName quotes each part of a dotted name. Parts are table
// names as written in pipeline.yaml, where a plain part means what it
// means unquoted in Snowflake, its upper case; so a plain part is
// upper-cased and quoted, and any other part quoted as it is.
func QuoteSnowflakeName(name string) string {
	parts := strings.Split(name, ".")
	for i, p := range parts {
		if plainSnowflake.MatchString(p) {
			p = strings.ToUpper(p)
		}
		parts[i] = QuoteSnowflake(p)
	}
	return strings.Join(parts, ".")
}

// QuoteSnowflakeList quotes column names and joins them with commas.
func QuoteSnowflakeList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = QuoteSnowflake(n)
	}
	return strings.Join(q, ", ")
}

// CheckClickHouseName says why ClickHouse cannot hold a column named
// name, or returns nil. ClickHouse 18.16 keeps each column of a part in
// files named after it (bytes other than letters, digits and _ written
// %XX) with a suffix such as .null.bin: a name whose file name passes
// 240 bytes makes every insert fail once the table exists.
func CheckClickHouseName(name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	n := 0
	for i := 0; i < len(name); i++ {
		if c := name[i]; c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			n++
		} else {
			n += 3
		}
	}
	if n > 240 {
		return fmt.Errorf("ClickHouse 18.16 stores a column in files named after it, and this name makes a %d-byte file name (at most 240, leaving room for the suffix, within the 255 a file name holds): shorten it", n)
	}
	return nil
}

// keyKeywords are the names ClickHouse cannot keep in a table's key
// expressions or a mutation: the server writes the name back into the
// table's metadata unquoted, where it reads as a keyword, and then cannot
// load the table (found on 18.16 and 26.7 with DETACH and ATTACH).
var keyKeywords = map[string]string{
	"not":      "ClickHouse (18.16 and current releases)",
	"null":     "ClickHouse 18.16",
	"interval": "ClickHouse 18.16",
	"distinct": "ClickHouse 18.16",
}

// CheckClickHouseKeyName says why a column named name cannot be used in
// a ClickHouse table's PARTITION BY, ORDER BY or version, or in the
// condition of the delete that replaces an append window; or returns nil.
func CheckClickHouseKeyName(name string) error {
	if who, ok := keyKeywords[strings.ToLower(name)]; ok {
		return fmt.Errorf("%s writes a column named %s back into the table's metadata unquoted, where it reads as the keyword %s, and then cannot load the table: rename the column", who, name, strings.ToUpper(name))
	}
	return nil
}

// CheckSnowflakeName says why Snowflake cannot hold a column named name,
// or returns nil.
func CheckSnowflakeName(name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if n := utf8.RuneCountInString(name); n > 255 {
		return fmt.Errorf("a Snowflake name holds at most 255 characters, not %d", n)
	}
	return nil
}

func checkName(name string) error {
	switch {
	case name == "":
		return errors.New("a name cannot be empty")
	case strings.IndexByte(name, 0) >= 0:
		return errors.New("a name cannot hold a NUL character")
	}
	return nil
}
