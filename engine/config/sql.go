package config

import (
	"strings"

	"github.com/hockeystack/sluice/engine/sqlscan"
)

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
func resultColumns(toks []sqlscan.Token, upper bool) (names []string, complete bool) {
	depth, start := 0, -1
	for i, t := range toks {
		depth += t.Nesting()
		if depth == 0 && t.Kind == sqlscan.Ident && strings.EqualFold(t.Text, "SELECT") {
			start = i + 1
			break
		}
	}
	if start < 0 {
		return nil, false
	}
	for start < len(toks) && toks[start].Kind == sqlscan.Ident {
		kw := strings.ToUpper(toks[start].Text)
		if kw != "DISTINCT" && kw != "ALL" {
			break
		}
		start++
	}
	complete = true
	var item []sqlscan.Token
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
		depth += t.Nesting()
		if depth == 0 {
			if t.Kind == sqlscan.Ident && selectEnd[strings.ToUpper(t.Text)] || t.Kind == sqlscan.Punct && t.Text == ";" || depth < 0 {
				break
			}
			if t.Kind == sqlscan.Punct && t.Text == "," {
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
func itemName(item []sqlscan.Token, upper bool) (string, bool) {
	n := len(item)
	if n == 0 {
		return "", false
	}
	last := item[n-1]
	name := func(t sqlscan.Token) string {
		if t.Kind == sqlscan.Ident && upper {
			return strings.ToUpper(t.Text)
		}
		return t.Text
	}
	isName := last.Kind == sqlscan.QuotedIdent || last.Kind == sqlscan.Ident && !notAlias[strings.ToUpper(last.Text)]
	if !isName {
		return "", false
	}
	if n == 1 {
		return name(last), true
	}
	prev := item[n-2]
	switch {
	case prev.Kind == sqlscan.Ident && strings.EqualFold(prev.Text, "AS"):
		return name(last), true
	case prev.Kind == sqlscan.Punct && prev.Text == ".":
		for i := n - 2; i >= 0; i -= 2 {
			if item[i].Kind != sqlscan.Punct || item[i].Text != "." || i == 0 || (item[i-1].Kind != sqlscan.Ident && item[i-1].Kind != sqlscan.QuotedIdent) {
				return "", false
			}
			if i == 1 {
				return name(last), true
			}
		}
		return "", false
	case prev.Kind == sqlscan.Punct && prev.Text != ")" && prev.Text != "]" || prev.Kind == sqlscan.Placeholder:
		return "", false
	}
	// An implicit alias: expr name.
	return name(last), true
}
