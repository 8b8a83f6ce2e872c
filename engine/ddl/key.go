package ddl

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hockeystack/sluice/engine/diag"
)

// A KeyExpr is an expression of a ClickHouse table's PARTITION BY or
// ORDER BY, in the subset Sluice accepts there: column names (bare or in
// backticks), calls of the functions KeyFunctions lists, tuples written
// (a, b) or tuple(a, b), and integer and string literals. ParseKey reads
// one from pipeline.yaml; SQL writes it back with every name quoted, so
// nothing of the text it was read from reaches a statement.
type KeyExpr struct {
	Kind KeyKind
	// Name is a column's name or a function's.
	Name string
	// Value is a literal's value: the digits of a number, the text of a
	// string.
	Value string
	Args  []KeyExpr
	// Offset and End are where the expression was in the text it was
	// parsed from, in bytes; zero for one built in code.
	Offset, End int
}

// KeyKind says what a KeyExpr is.
type KeyKind int

// The kinds of key expression.
const (
	KeyColumn KeyKind = iota
	KeyCall
	KeyTuple
	KeyNumber
	KeyString
)

// ColumnRef is the key expression naming column name.
func ColumnRef(name string) KeyExpr { return KeyExpr{Kind: KeyColumn, Name: name} }

// Call is the key expression calling function fn with args.
func Call(fn string, args ...KeyExpr) KeyExpr { return KeyExpr{Kind: KeyCall, Name: fn, Args: args} }

// KeyFunctions are the functions a key expression may call, with the
// number of arguments each takes (max -1: any number). Each exists in
// ClickHouse 18.16 and current releases alike.
var KeyFunctions = map[string]struct{ Min, Max int }{
	// Dates and times; the optional argument is a time zone.
	"toYYYYMM": {1, 2}, "toYYYYMMDD": {1, 2}, "toDate": {1, 2},
	"toYear": {1, 2}, "toMonth": {1, 2}, "toMonday": {1, 2},
	"toStartOfYear": {1, 2}, "toStartOfQuarter": {1, 2}, "toStartOfMonth": {1, 2},
	"toStartOfDay": {1, 2}, "toStartOfHour": {1, 2},
	// Numbers and hashes.
	"intDiv": {2, 2}, "modulo": {2, 2},
	"cityHash64": {1, -1}, "sipHash64": {1, -1},
	"tuple": {0, -1},
}

// SQL writes the expression as ClickHouse reads it, names quoted with
// QuoteClickHouse and strings with QuoteString.
func (e KeyExpr) SQL() string {
	switch e.Kind {
	case KeyColumn:
		return QuoteClickHouse(e.Name)
	case KeyNumber:
		return e.Value
	case KeyString:
		return QuoteString(e.Value)
	case KeyTuple:
		if len(e.Args) < 2 {
			return "tuple(" + keyList(e.Args) + ")"
		}
		return "(" + keyList(e.Args) + ")"
	}
	return e.Name + "(" + keyList(e.Args) + ")"
}

func keyList(es []KeyExpr) string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.SQL()
	}
	return strings.Join(s, ", ")
}

// Columns returns the column references in e, in order, repeats included.
func (e KeyExpr) Columns() []KeyExpr {
	if e.Kind == KeyColumn {
		return []KeyExpr{e}
	}
	var out []KeyExpr
	for _, a := range e.Args {
		out = append(out, a.Columns()...)
	}
	return out
}

// A KeyError is a problem in a key expression's text: Offset and Len
// locate it, in bytes.
type KeyError struct {
	Offset, Len int
	Msg         string
}

func (e *KeyError) Error() string { return e.Msg }

// ParseKey parses one key expression. An error is a *KeyError.
func ParseKey(text string) (KeyExpr, error) {
	p := &keyParser{src: text}
	p.next()
	if p.err != nil {
		return KeyExpr{}, p.err
	}
	if p.tok.kind == tokEnd {
		return KeyExpr{}, &KeyError{Msg: "empty expression"}
	}
	e := p.expr()
	if p.err == nil && p.tok.kind != tokEnd {
		p.fail(p.tok.off, p.tok.end-p.tok.off, "unexpected %s after the expression; separate expressions as items of a list", p.tok.describe())
	}
	if p.err != nil {
		return KeyExpr{}, p.err
	}
	return e, nil
}

type tokKind int

const (
	tokEnd tokKind = iota
	tokIdent
	tokQuoted // a name in backticks
	tokNumber
	tokString
	tokLParen
	tokRParen
	tokComma
)

type token struct {
	kind     tokKind
	text     string // the name, digits or string value
	off, end int
}

func (t token) describe() string {
	switch t.kind {
	case tokEnd:
		return "end"
	case tokLParen:
		return "("
	case tokRParen:
		return ")"
	case tokComma:
		return ","
	case tokString:
		return "string " + QuoteString(t.text)
	}
	return t.text
}

type keyParser struct {
	src string
	pos int
	tok token
	err *KeyError
}

func (p *keyParser) fail(off, n int, format string, args ...any) {
	if p.err == nil {
		p.err = &KeyError{Offset: off, Len: n, Msg: fmt.Sprintf(format, args...)}
	}
	p.tok = token{kind: tokEnd, off: len(p.src), end: len(p.src)}
}

func (p *keyParser) expr() KeyExpr {
	t := p.tok
	switch t.kind {
	case tokQuoted:
		p.next()
		return KeyExpr{Kind: KeyColumn, Name: t.text, Offset: t.off, End: t.end}
	case tokNumber:
		p.next()
		return KeyExpr{Kind: KeyNumber, Value: t.text, Offset: t.off, End: t.end}
	case tokString:
		p.next()
		return KeyExpr{Kind: KeyString, Value: t.text, Offset: t.off, End: t.end}
	case tokIdent:
		p.next()
		if p.tok.kind != tokLParen {
			return KeyExpr{Kind: KeyColumn, Name: t.text, Offset: t.off, End: t.end}
		}
		args, end := p.args()
		e := KeyExpr{Kind: KeyCall, Name: t.text, Args: args, Offset: t.off, End: end}
		if t.text == "tuple" {
			e.Kind = KeyTuple
		}
		arity, ok := KeyFunctions[t.text]
		switch {
		case !ok:
			if hint := diag.DidYouMean(t.text, keyFunctionNames()); hint != "" {
				p.fail(t.off, t.end-t.off, "unknown function %s%s", t.text, hint)
			} else {
				p.fail(t.off, t.end-t.off, "unknown function %s: a key expression may call %s", t.text, strings.Join(keyFunctionNames(), ", "))
			}
		case len(args) < arity.Min || arity.Max >= 0 && len(args) > arity.Max:
			p.fail(t.off, end-t.off, "%s takes %s, not %d", t.text, argCount(arity.Min, arity.Max), len(args))
		}
		return e
	case tokLParen:
		args, end := p.args()
		if len(args) == 1 {
			return args[0] // (a) is a, as in SQL
		}
		return KeyExpr{Kind: KeyTuple, Args: args, Offset: t.off, End: end}
	case tokEnd:
		p.fail(t.off, 0, "the expression ends early")
	default:
		p.fail(t.off, t.end-t.off, "unexpected %s", t.describe())
	}
	return KeyExpr{}
}

// args parses a parenthesized, comma-separated list, the current token
// being its (, and returns it and the offset after its ).
func (p *keyParser) args() ([]KeyExpr, int) {
	open := p.tok
	p.next()
	var args []KeyExpr
	if p.tok.kind == tokRParen {
		end := p.tok.end
		p.next()
		return args, end
	}
	for p.err == nil {
		args = append(args, p.expr())
		switch p.tok.kind {
		case tokComma:
			p.next()
			continue
		case tokRParen:
			end := p.tok.end
			p.next()
			return args, end
		case tokEnd:
			p.fail(open.off, 1, "( is not closed")
		default:
			p.fail(p.tok.off, p.tok.end-p.tok.off, "unexpected %s: expected , or )", p.tok.describe())
		}
	}
	return args, len(p.src)
}

func argCount(lo, hi int) string {
	switch {
	case hi < 0:
		return fmt.Sprintf("at least %d argument%s", lo, plural(lo))
	case lo == hi:
		return fmt.Sprintf("%d argument%s", lo, plural(lo))
	}
	return fmt.Sprintf("%d or %d arguments", lo, hi)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func keyFunctionNames() []string {
	names := make([]string, 0, len(KeyFunctions))
	for n := range KeyFunctions {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// next reads the next token into p.tok.
func (p *keyParser) next() {
	for p.pos < len(p.src) && strings.IndexByte(" \t\r\n", p.src[p.pos]) >= 0 {
		p.pos++
	}
	start := p.pos
	if start >= len(p.src) {
		p.tok = token{kind: tokEnd, off: start, end: start}
		return
	}
	rest := p.src[start:]
	c := rest[0]
	single := func(k tokKind) {
		p.pos++
		p.tok = token{kind: k, text: rest[:1], off: start, end: p.pos}
	}
	switch {
	case c == '(':
		single(tokLParen)
	case c == ')':
		single(tokRParen)
	case c == ',':
		single(tokComma)
	case isIdentStart(c):
		end := 1
		for end < len(rest) && (isIdentStart(rest[end]) || rest[end] >= '0' && rest[end] <= '9') {
			end++
		}
		p.pos += end
		p.tok = token{kind: tokIdent, text: rest[:end], off: start, end: p.pos}
	case c >= '0' && c <= '9':
		end := 1
		for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
			end++
		}
		if end < len(rest) && (isIdentStart(rest[end]) || rest[end] == '.') {
			p.fail(start, end+1, "a number is written in digits only")
			return
		}
		p.pos += end
		p.tok = token{kind: tokNumber, text: rest[:end], off: start, end: p.pos}
	case c == '`' || c == '\'':
		p.quoted(c)
	case c == ';':
		p.fail(start, 1, "a statement separator (;) cannot be part of an expression")
	case strings.HasPrefix(rest, "--") || strings.HasPrefix(rest, "/*") || c == '#':
		p.fail(start, len(rest), "a comment cannot be part of an expression")
	case c == '"':
		p.fail(start, 1, "double quotes: write a name in backticks (`name`) and a string in single quotes")
	case c == '%':
		p.fail(start, 1, "%% is not allowed in a key expression: write modulo(a, b)")
	case c == '/':
		p.fail(start, 1, "/ is not allowed in a key expression: write intDiv(a, b)")
	default:
		r, n := utf8.DecodeRuneInString(rest)
		p.fail(start, n, "%q is not allowed in a key expression: write column names, function calls, tuples and literals", r)
	}
}

// quoted reads a name in backticks or a string in single quotes, with
// the escapes ClickHouse 18.16 and current releases read alike.
func (p *keyParser) quoted(q byte) {
	start := p.pos
	var b strings.Builder
	i := start + 1
	for i < len(p.src) {
		c := p.src[i]
		switch {
		case c == q && i+1 < len(p.src) && p.src[i+1] == q:
			b.WriteByte(q)
			i += 2
		case c == q:
			p.pos = i + 1
			kind := tokQuoted
			if q == '\'' {
				kind = tokString
			}
			p.tok = token{kind: kind, text: b.String(), off: start, end: p.pos}
			if kind == tokQuoted && b.Len() == 0 {
				p.fail(start, p.pos-start, "an empty name")
			}
			return
		case c == '\\':
			if i+1 >= len(p.src) {
				i++
				continue
			}
			switch e := p.src[i+1]; e {
			case '\\', '\'', '`':
				b.WriteByte(e)
				i += 2
			case 'x':
				v, err := strconv.ParseUint(p.src[i+2:min(i+4, len(p.src))], 16, 8)
				if err != nil || i+4 > len(p.src) {
					p.fail(i, min(4, len(p.src)-i), `\x takes two hex digits`)
					return
				}
				b.WriteByte(byte(v))
				i += 4
			default:
				// ClickHouse versions disagree on what \q means.
				p.fail(i, 2, `unknown escape \%c: escape only \\, \' and a backtick, or write \xHH`, e)
				return
			}
		default:
			b.WriteByte(c)
			i++
		}
	}
	what := "name"
	if q == '\'' {
		what = "string"
	}
	p.fail(start, len(p.src)-start, "the %s is not closed (%c)", what, q)
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
