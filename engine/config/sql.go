package config

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// sqlTokenKind classifies SQL tokens; only what Sluice's checks need.
type sqlTokenKind int

const (
	tokIdent       sqlTokenKind = iota // identifier or keyword
	tokQuotedIdent                     // "Name" or `name`
	tokString                          // 'text' or $$text$$
	tokNumber
	tokPlaceholder // :name bound by Sluice
	tokPunct       // anything else, one token per operator run
)

type sqlToken struct {
	kind      sqlTokenKind
	text      string // for quoted identifiers and placeholders: the name alone
	line, col int    // 1-based, columns in characters
	off, end  int    // byte offsets of the token in the source
}

// scanSQL tokenizes Snowflake or ClickHouse SQL, skipping comments and
// keeping string literals whole, so that a colon inside a string or a
// comment is never taken for a placeholder. A :name counts as a placeholder
// only when the character before the colon cannot end an expression: in
// v:a.b (a variant path) and x::INT (a cast) it is not one.
func scanSQL(src string) []sqlToken {
	var toks []sqlToken
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
		emit := func(k sqlTokenKind, text string) {
			toks = append(toks, sqlToken{kind: k, text: text, line: startLine, col: startCol, off: startOff})
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
			emit(tokString, src[i:j])
			advance(j - i)
		case strings.HasPrefix(src[i:], "$$"):
			end := strings.Index(src[i+2:], "$$")
			n := len(src) - i
			if end >= 0 {
				n = end + 4
			}
			emit(tokString, src[i:i+n])
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
				b.WriteByte(src[j])
				j++
			}
			j = min(j+1, len(src))
			emit(tokQuotedIdent, b.String())
			advance(j - i)
		case c == ':' && i+1 < len(src) && isIdentStart(rune(src[i+1])) && !endsExpr(src, i):
			j := i + 1
			for j < len(src) && isIdentPart(rune(src[j])) {
				j++
			}
			emit(tokPlaceholder, src[i+1:j])
			advance(j - i)
		case isIdentStart(rune(c)) || c >= utf8.RuneSelf:
			j := i
			for j < len(src) {
				r, w := utf8.DecodeRuneInString(src[j:])
				if !isIdentPart(r) && !(r >= utf8.RuneSelf && unicode.IsLetter(r)) {
					break
				}
				j += w
			}
			if j == i {
				_, w := utf8.DecodeRuneInString(src[i:])
				j = i + w
				emit(tokPunct, src[i:j])
			} else {
				emit(tokIdent, src[i:j])
			}
			advance(j - i)
		case c >= '0' && c <= '9':
			j := i
			for j < len(src) && (isIdentPart(rune(src[j])) || src[j] == '.') {
				j++
			}
			emit(tokNumber, src[i:j])
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
			emit(tokPunct, src[i:j])
			advance(j - i)
		}
	}
	for i := range toks {
		toks[i].end = tokenEnd(src, toks, i)
	}
	return toks
}

// tokenEnd finds where token i ends: where its text does, for the tokens
// whose text is the source, else at the next token or the end of input.
func tokenEnd(src string, toks []sqlToken, i int) int {
	t := toks[i]
	switch t.kind {
	case tokPlaceholder:
		return t.off + 1 + len(t.text)
	case tokIdent, tokNumber, tokPunct, tokString:
		return t.off + len(t.text)
	}
	if i+1 < len(toks) {
		end := toks[i+1].off
		for end > t.off && strings.ContainsRune(" \t\r\n", rune(src[end-1])) {
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
	for _, t := range scanSQL(sql) {
		if t.kind != tokPlaceholder {
			continue
		}
		b.WriteString(sql[last:t.off])
		b.WriteString(bind(t.text))
		last = t.end
	}
	b.WriteString(sql[last:])
	return b.String()
}

// nesting is +1 for an opening parenthesis, -1 for a closing one.
func (t sqlToken) nesting() int {
	if t.kind == tokPunct {
		switch t.text {
		case "(":
			return 1
		case ")":
			return -1
		}
	}
	return 0
}

func isIdentStart(r rune) bool {
	return r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
}

func isIdentPart(r rune) bool {
	return isIdentStart(r) || r >= '0' && r <= '9' || r == '$'
}

// endsExpr reports whether the character before src[i] can end an
// expression, making a following colon a path or cast operator.
func endsExpr(src string, i int) bool {
	if i == 0 {
		return false
	}
	p := rune(src[i-1])
	return isIdentPart(p) || p == ']' || p == ')' || p == '"' || p == ':' || p == '`'
}

// selectEnd lists the keywords that end a select list.
var selectEnd = map[string]bool{
	"FROM": true, "WHERE": true, "GROUP": true, "HAVING": true, "QUALIFY": true, "ORDER": true,
	"LIMIT": true, "UNION": true, "EXCEPT": true, "INTERSECT": true, "MINUS": true, "WINDOW": true,
	"SETTINGS": true, "FORMAT": true,
}

// notAlias lists keywords that can end an expression, and so are never an
// implicit alias.
var notAlias = map[string]bool{
	"END": true, "NULL": true, "TRUE": true, "FALSE": true, "AND": true, "OR": true, "NOT": true,
	"ASC": true, "DESC": true, "DISTINCT": true,
}

// resultColumns reads the names of a query's result columns from its
// outermost select list. upper upper-cases unquoted names, as Snowflake
// does. complete is false when some column's name cannot be known without
// a database: a * or an expression without an alias.
func resultColumns(toks []sqlToken, upper bool) (names []string, complete bool) {
	depth, start := 0, -1
	for i, t := range toks {
		depth += t.nesting()
		if depth == 0 && t.kind == tokIdent && strings.EqualFold(t.text, "SELECT") {
			start = i + 1
			break
		}
	}
	if start < 0 {
		return nil, false
	}
	for start < len(toks) && toks[start].kind == tokIdent {
		kw := strings.ToUpper(toks[start].text)
		if kw != "DISTINCT" && kw != "ALL" {
			break
		}
		start++
	}
	complete = true
	var item []sqlToken
	flush := func() {
		name, ok := itemName(item, upper)
		if ok {
			names = append(names, name)
		} else {
			complete = false
		}
		item = nil
	}
	depth = 0
	for _, t := range toks[start:] {
		depth += t.nesting()
		if depth == 0 {
			if t.kind == tokIdent && selectEnd[strings.ToUpper(t.text)] || t.kind == tokPunct && t.text == ";" || depth < 0 {
				break
			}
			if t.kind == tokPunct && t.text == "," {
				flush()
				continue
			}
		}
		if depth < 0 {
			break
		}
		item = append(item, t)
	}
	if len(item) > 0 {
		flush()
	}
	return names, complete
}

// itemName names one select-list item: its alias, or the last part of a
// plain column reference.
func itemName(item []sqlToken, upper bool) (string, bool) {
	n := len(item)
	if n == 0 {
		return "", false
	}
	last := item[n-1]
	name := func(t sqlToken) string {
		if t.kind == tokIdent && upper {
			return strings.ToUpper(t.text)
		}
		return t.text
	}
	isName := last.kind == tokQuotedIdent || last.kind == tokIdent && !notAlias[strings.ToUpper(last.text)]
	if !isName {
		return "", false
	}
	if n == 1 {
		return name(last), true
	}
	prev := item[n-2]
	switch {
	case prev.kind == tokIdent && strings.EqualFold(prev.text, "AS"):
		return name(last), true
	case prev.kind == tokPunct && prev.text == ".":
		for i := n - 2; i >= 0; i -= 2 {
			if item[i].kind != tokPunct || item[i].text != "." || i == 0 || (item[i-1].kind != tokIdent && item[i-1].kind != tokQuotedIdent) {
				return "", false
			}
			if i == 1 {
				return name(last), true
			}
		}
		return "", false
	case prev.kind == tokPunct && prev.text != ")" && prev.text != "]" || prev.kind == tokPlaceholder:
		return "", false
	}
	// An implicit alias: expr name.
	return name(last), true
}
