//go:build duckdb_arrow

package snowflaketest

import (
	"strings"
	"unicode/utf8"

	"github.com/hockeystack/sluice/engine/sqlscan"
)

// literal is what Snowflake knows of a select-list item that is a
// constant: it is never NULL, a number literal is NUMBER(digits, decimals)
// (SELECT 1 is NUMBER(1,0)), a text literal is VARCHAR(its length).
type literal struct {
	constant         bool
	kind             sfKind // OBJECT or ARRAY for what Snowflake types so
	number           bool
	precision, scale int
	length           int // characters of a text literal; 0 when none
}

// selectLiterals reads the select list of a plain SELECT (no set
// operation) and describes each item, or returns nil when it cannot.
func selectLiterals(toks []sqlscan.Token) []literal {
	if len(toks) == 0 || !isWord(toks[0], "SELECT") {
		return nil
	}
	i := 1
	for i < len(toks) && isWord(toks[i], "DISTINCT", "ALL") {
		i++
	}
	var items [][]sqlscan.Token
	start, depth := i, 0
	end := len(toks)
	for k := i; k < len(toks); k++ {
		t := toks[k]
		if depth == 0 && isWord(t, "UNION", "INTERSECT", "EXCEPT", "MINUS") {
			return nil
		}
		if depth == 0 && end == len(toks) && isWord(t, "FROM", "WHERE", "GROUP", "ORDER", "LIMIT", "HAVING", "QUALIFY") {
			end = k
		}
		if k < end {
			if depth == 0 && isPunct(t, ",") {
				items = append(items, toks[start:k])
				start = k + 1
			}
		}
		depth += t.Nesting()
	}
	if start > end {
		return nil
	}
	items = append(items, toks[start:end])
	out := make([]literal, len(items))
	for n, item := range items {
		item = stripAlias(item)
		out[n] = describeLiteral(item)
		out[n].kind = semiStructuredKind(item)
	}
	return out
}

// stripAlias drops a select-list item's alias: AS name, or a name right
// after a literal or a closing parenthesis.
func stripAlias(item []sqlscan.Token) []sqlscan.Token {
	if k := len(item); k >= 2 && (item[k-1].Kind == sqlscan.Ident || item[k-1].Kind == sqlscan.QuotedIdent) {
		switch prev := item[k-2]; {
		case isWord(prev, "AS"):
			return item[:k-2]
		case prev.Kind == sqlscan.String || prev.Kind == sqlscan.Number || isWord(prev, "TRUE", "FALSE") || isPunct(prev, ")"):
			return item[:k-1]
		}
	}
	return item
}

// describeLiteral describes one select-list item, its alias stripped.
func describeLiteral(item []sqlscan.Token) literal {
	// A literal, then casts: 'abcd'::BINARY, 2::NUMBER(18,0).
	core := item
	cast := false
	for k, t := range item {
		if isPunct(t, "::") {
			core, cast = item[:k], true
			break
		}
	}
	sign := false
	if len(core) == 2 && (isPunct(core[0], "-") || isPunct(core[0], "+")) && core[1].Kind == sqlscan.Number {
		core, sign = core[1:], true
	}
	if len(core) != 1 {
		return literal{}
	}
	t := core[0]
	switch {
	case t.Kind == sqlscan.Number:
		l := literal{constant: true}
		if cast {
			return l
		}
		text := strings.ToLower(t.Text)
		if strings.ContainsAny(text, "ex") {
			return l // 1e5 is a FLOAT; 0x.. is not a Snowflake number
		}
		whole, frac, _ := strings.Cut(text, ".")
		whole = strings.TrimLeft(whole, "0")
		l.number, l.precision, l.scale = true, max(1, len(whole)+len(frac)), len(frac)
		return l
	case sign:
		return literal{}
	case t.Kind == sqlscan.String:
		l := literal{constant: true}
		if s, ok := unquoteString(t.Text); ok && !cast {
			l.length = utf8.RuneCountInString(s)
		}
		return l
	case isWord(t, "TRUE", "FALSE"):
		return literal{constant: true}
	}
	return literal{}
}

// applyLiterals reports constant select-list items as Snowflake does:
// not nullable, literal numbers with their own precision and scale,
// literal text with its length.
func applyLiterals(cols []column, lits []literal) {
	if len(lits) != len(cols) {
		return
	}
	for i, l := range lits {
		if l.kind != "" && cols[i].Kind == kVariant {
			cols[i].Kind = l.kind
		}
		if !l.constant {
			continue
		}
		cols[i].Nullable = false
		if l.number && cols[i].Kind == kFixed && l.precision <= 38 {
			cols[i].Precision, cols[i].Scale = l.precision, l.scale
		}
		if l.length > 0 && cols[i].Kind == kText {
			cols[i].Length = l.length
		}
	}
}
