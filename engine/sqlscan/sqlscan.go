// Package sqlscan tokenizes Snowflake and ClickHouse SQL just enough for
// Sluice's needs: finding :name placeholders, reading select lists, and
// rewriting statements, while keeping string literals, quoted identifiers
// and comments intact.
package sqlscan

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind classifies SQL tokens; only what Sluice's checks need.
type Kind int

const (
	Ident       Kind = iota // identifier or keyword
	QuotedIdent             // "Name" or `name`
	String                  // 'text' or $$text$$
	Number
	Placeholder // :name bound by Sluice
	Punct       // anything else, one token per operator run
)

// Token is one token of a statement.
type Token struct {
	Kind Kind
	// Text is the token as written, except for quoted identifiers and
	// placeholders, where it is the name alone.
	Text      string
	Line, Col int // 1-based, columns in characters
	Off, End  int // byte offsets of the token in the source
}

// Scan tokenizes Snowflake or ClickHouse SQL, skipping comments and
// keeping string literals whole, so that a colon inside a string or a
// comment is never taken for a placeholder. A :name counts as a placeholder
// only when the character before the colon cannot end an expression: in
// v:a.b (a variant path) and x::INT (a cast) it is not one.
func Scan(src string) []Token {
	var toks []Token
	line, col := 1, 1
	i := 0
	advance := func(n int) {
		for _, r := range src[i : i+n] {
			if r == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
		}
		i += n
	}
	for i < len(src) {
		c := src[i]
		startLine, startCol := line, col
		startOff := i
		emit := func(k Kind, text string) {
			toks = append(toks, Token{Kind: k, Text: text, Line: startLine, Col: startCol, Off: startOff})
		}
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			advance(1)
		case strings.HasPrefix(src[i:], "--") || strings.HasPrefix(src[i:], "//"):
			end := strings.IndexByte(src[i:], '\n')
			if end < 0 {
				end = len(src) - i
			}
			advance(end)
		case strings.HasPrefix(src[i:], "/*"):
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				advance(len(src) - i)
			} else {
				advance(end + 4)
			}
		case c == '\'':
			j := i + 1
			for j < len(src) {
				if src[j] == '\\' {
					j += 2
					continue
				}
				if src[j] == '\'' {
					if j+1 < len(src) && src[j+1] == '\'' {
						j += 2
						continue
					}
					break
				}
				j++
			}
			j = min(j+1, len(src))
			emit(String, src[i:j])
			advance(j - i)
		case strings.HasPrefix(src[i:], "$$"):
			end := strings.Index(src[i+2:], "$$")
			n := len(src) - i
			if end >= 0 {
				n = end + 4
			}
			emit(String, src[i:i+n])
			advance(n)
		case c == '"' || c == '`':
			j := i + 1
			var b strings.Builder
			for j < len(src) {
				if src[j] == c {
					if j+1 < len(src) && src[j+1] == c {
						b.WriteByte(c)
						j += 2
						continue
					}
					break
				}
				if c == '`' && src[j] == '\\' && j+1 < len(src) {
					// Backticks are ClickHouse's, where a backslash escapes.
					j += unescapeClickHouse(src[j:], &b)
					continue
				}
				b.WriteByte(src[j])
				j++
			}
			j = min(j+1, len(src))
			emit(QuotedIdent, b.String())
			advance(j - i)
		case c == ':' && i+1 < len(src) && IsIdentStart(rune(src[i+1])) && !endsExpr(src, i):
			j := i + 1
			for j < len(src) && IsIdentPart(rune(src[j])) {
				j++
			}
			emit(Placeholder, src[i+1:j])
			advance(j - i)
		case IsIdentStart(rune(c)) || c >= utf8.RuneSelf:
			j := i
			for j < len(src) {
				r, w := utf8.DecodeRuneInString(src[j:])
				if !IsIdentPart(r) && !(r >= utf8.RuneSelf && unicode.IsLetter(r)) {
					break
				}
				j += w
			}
			if j == i {
				_, w := utf8.DecodeRuneInString(src[i:])
				j = i + w
				emit(Punct, src[i:j])
			} else {
				emit(Ident, src[i:j])
			}
			advance(j - i)
		case c >= '0' && c <= '9':
			j := i
			for j < len(src) && (IsIdentPart(rune(src[j])) || src[j] == '.') {
				// An exponent's sign belongs to the number: 2.5e-10.
				if (src[j] == 'e' || src[j] == 'E') && j+1 < len(src) && (src[j+1] == '-' || src[j+1] == '+') {
					j++
				}
				j++
			}
			emit(Number, src[i:j])
			advance(j - i)
		default:
			j := i + 1
			switch {
			case c == ':' && j < len(src) && src[j] == ':':
				j++ // the cast operator
			case strings.ContainsRune("<>=!|", rune(c)):
				for j < len(src) && strings.ContainsRune("<>=!|", rune(src[j])) {
					j++
				}
			}
			emit(Punct, src[i:j])
			advance(j - i)
		}
	}
	for i := range toks {
		toks[i].End = tokenEnd(src, toks, i)
	}
	return toks
}

// tokenEnd finds where token i ends: where its text does, for the tokens
// whose text is the source, else at the next token or the end of input.
func tokenEnd(src string, toks []Token, i int) int {
	t := toks[i]
	switch t.Kind {
	case Placeholder:
		return t.Off + 1 + len(t.Text)
	case Ident, Number, Punct, String:
		return t.Off + len(t.Text)
	}
	if i+1 < len(toks) {
		end := toks[i+1].Off
		for end > t.Off && strings.ContainsRune(" \t\r\n", rune(src[end-1])) {
			end--
		}
		return end
	}
	return len(strings.TrimRight(src, " \t\r\n"))
}

// BindPlaceholders rewrites each :name placeholder of a query with
// bind(name), leaving strings, comments, casts and variant paths alone.
// Connectors use it to turn placeholders into their driver's parameters.
func BindPlaceholders(sql string, bind func(name string) string) string {
	var b strings.Builder
	last := 0
	for _, t := range Scan(sql) {
		if t.Kind != Placeholder {
			continue
		}
		b.WriteString(sql[last:t.Off])
		b.WriteString(bind(t.Text))
		last = t.End
	}
	b.WriteString(sql[last:])
	return b.String()
}

// Nesting is +1 for an opening parenthesis, -1 for a closing one, else 0.
func (t Token) Nesting() int {
	if t.Kind == Punct {
		switch t.Text {
		case "(":
			return 1
		case ")":
			return -1
		}
	}
	return 0
}

// IsIdentStart reports whether r can start an unquoted identifier.
func IsIdentStart(r rune) bool {
	return r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
}

// IsIdentPart reports whether r can continue an unquoted identifier.
func IsIdentPart(r rune) bool {
	return IsIdentStart(r) || r >= '0' && r <= '9' || r == '$'
}

// endsExpr reports whether the character before src[i] can end an
// expression, making a following colon a path or cast operator.
func endsExpr(src string, i int) bool {
	if i == 0 {
		return false
	}
	p := rune(src[i-1])
	return IsIdentPart(p) || p == ']' || p == ')' || p == '"' || p == ':' || p == '`'
}

// Tables lists the tables a query reads: the names after FROM and JOIN
// that are not its own common table expressions, each once, in order of
// first use, each part as Snowflake keeps it (see Name).
func Tables(q string) []Name {
	toks := Scan(q)
	ctes := map[string]bool{}
	for i := 0; i+2 < len(toks); i++ {
		if (toks[i].Kind == Ident || toks[i].Kind == QuotedIdent) && strings.EqualFold(toks[i+1].Text, "AS") && toks[i+2].Text == "(" {
			ctes[Name{part(toks[i])}.String()] = true
		}
	}
	var out []Name
	seen := map[string]bool{}
	for i := 0; i+1 < len(toks); i++ {
		if !strings.EqualFold(toks[i].Text, "FROM") && !strings.EqualFold(toks[i].Text, "JOIN") || toks[i].Kind != Ident {
			continue
		}
		var name Name
		j := i + 1
		for j < len(toks) && (toks[j].Kind == Ident || toks[j].Kind == QuotedIdent) {
			name = append(name, part(toks[j]))
			if j+1 < len(toks) && toks[j+1].Text == "." {
				j += 2
				continue
			}
			break
		}
		if len(name) == 0 || toks[i+1].Kind == Ident && (name[0] == "TABLE" || name[0] == "LATERAL") {
			continue
		}
		key := name.String()
		if len(name) == 1 && ctes[key] || seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, name)
	}
	return out
}

// part is an identifier token as Snowflake keeps it: upper-cased when
// unquoted, exact when quoted.
func part(t Token) string {
	if t.Kind == QuotedIdent {
		return t.Text
	}
	return strings.ToUpper(t.Text)
}

// Name is a dotted Snowflake name, each part as Snowflake keeps it: an
// unquoted part upper-cased, a double-quoted one exactly as written
// inside the quotes ("" read as ").
type Name []string

// String writes the name as pipeline files and fixtures spell it: a part
// that reads the same unquoted (upper case letters, digits, _ and $) plain,
// any other in double quotes. ParseName reads it back. It is not safe as
// SQL (a part may be a reserved word): use Quoted there.
func (n Name) String() string {
	parts := make([]string, len(n))
	for i, p := range n {
		if plainUpper(p) {
			parts[i] = p
		} else {
			parts[i] = quote(p)
		}
	}
	return strings.Join(parts, ".")
}

// Quoted writes the name as Snowflake SQL, every part double-quoted.
func (n Name) Quoted() string {
	parts := make([]string, len(n))
	for i, p := range n {
		parts[i] = quote(p)
	}
	return strings.Join(parts, ".")
}

func quote(p string) string { return `"` + strings.ReplaceAll(p, `"`, `""`) + `"` }

// plainUpper reports whether p reads the same unquoted in Snowflake.
func plainUpper(p string) bool {
	if p == "" || p[0] != '_' && (p[0] < 'A' || p[0] > 'Z') {
		return false
	}
	for _, r := range p {
		if !(r == '_' || r == '$' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// ParseName reads a dotted name as pipeline files and fixtures write it:
// a part in double quotes is exact ("" for a quote inside); any other part
// is upper-cased when it is a plain identifier, as Snowflake reads it
// unquoted, and otherwise kept as written (as ddl.QuoteSnowflakeName does).
func ParseName(s string) (Name, error) {
	var n Name
	i := 0
	for {
		if i < len(s) && s[i] == '"' {
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(s) {
					return nil, fmt.Errorf("name %s: unterminated quote", s)
				}
				if s[j] == '"' {
					if j+1 < len(s) && s[j+1] == '"' {
						b.WriteByte('"')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(s[j])
				j++
			}
			n = append(n, b.String())
			i = j + 1
			if i < len(s) && s[i] != '.' {
				return nil, fmt.Errorf("name %s: want a dot after the quoted part %s", s, quote(b.String()))
			}
		} else {
			j := strings.IndexByte(s[i:], '.')
			if j < 0 {
				j = len(s) - i
			}
			p := s[i : i+j]
			if strings.ContainsRune(p, '"') {
				return nil, fmt.Errorf("name %s: quote the whole part %s, or none of it", s, p)
			}
			if plainIdent(p) {
				p = strings.ToUpper(p)
			}
			n = append(n, p)
			i += j
		}
		if p := n[len(n)-1]; p == "" {
			return nil, fmt.Errorf("name %s: empty part", s)
		}
		if i >= len(s) {
			return n, nil
		}
		i++ // the dot
	}
}

// plainIdent reports whether p is an identifier Snowflake reads unquoted.
func plainIdent(p string) bool {
	if p == "" || !IsIdentStart(rune(p[0])) {
		return false
	}
	for _, r := range p {
		if !IsIdentPart(r) {
			return false
		}
	}
	return true
}

var controlEscapes = map[byte]byte{'a': '\a', 'b': '\b', 'e': 0x1b, 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t', 'v': '\v', '0': 0}

// unescapeClickHouse writes the character the escape sequence at the
// start of s stands for, as current ClickHouse releases read it in a
// quoted name, and returns the sequence's length.
func unescapeClickHouse(s string, b *strings.Builder) int {
	c := s[1]
	switch c {
	case 'x':
		if len(s) >= 4 {
			if v, err := strconv.ParseUint(s[2:4], 16, 8); err == nil {
				b.WriteByte(byte(v))
				return 4
			}
		}
	case 'a', 'b', 'e', 'f', 'n', 'r', 't', 'v', '0':
		b.WriteByte(controlEscapes[c])
		return 2
	case 'N':
		return 2
	}
	if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
		b.WriteByte('\\') // an escape it does not know keeps its backslash
	}
	b.WriteByte(c)
	return 2
}
