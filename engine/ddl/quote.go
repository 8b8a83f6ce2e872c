package ddl

import (
	"fmt"
	"regexp"
	"strings"
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
