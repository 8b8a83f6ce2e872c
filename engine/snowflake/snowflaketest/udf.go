//go:build duckdb_arrow

package snowflaketest

import (
	"context"
	"fmt"
	"strings"

	"github.com/hockeystack/sluice/engine/sqlscan"
	"github.com/hockeystack/sluice/engine/sqltype"
)

// SQL user-defined functions: CREATE FUNCTION f(a T, ...) RETURNS T
// [LANGUAGE SQL] AS 'expr' is a DuckDB macro that casts expr to T;
// RETURNS TABLE (c T, ...) AS 'query' a table macro whose columns are the
// query's, named and cast as declared, called as TABLE(f(...)). Other
// languages are refused.

// typeSpan reads a Snowflake type at p (a name and an optional
// parenthesized group) and returns its DuckDB spelling.
func typeSpan(p *stmt) (string, bool) {
	if p.peek().Kind != sqlscan.Ident {
		return "", false
	}
	text := p.peek().Text
	p.i++
	if isWord(p.peek(), "PRECISION") || isWord(p.peek(), "VARYING") {
		text += " " + p.peek().Text
		p.i++
	}
	if isPunct(p.peek(), "(") {
		start := p.peek().Off
		p.skipGroup()
		end := len(p.src)
		if p.i < len(p.toks) {
			end = p.toks[p.i].Off
		}
		text += strings.TrimSpace(p.src[start:end])
	}
	typ, err := sqltype.ParseSnowflake(text)
	if err != nil {
		return "", false
	}
	return duckType(typ), true
}

// namedTypes reads ( name type, ... ).
func namedTypes(p *stmt) (names, types []string, ok bool) {
	if !isPunct(p.peek(), "(") {
		return nil, nil, false
	}
	p.i++
	for !isPunct(p.peek(), ")") {
		t := p.peek()
		if t.Kind != sqlscan.Ident && t.Kind != sqlscan.QuotedIdent {
			return nil, nil, false
		}
		p.i++
		typ, ok := typeSpan(p)
		if !ok {
			return nil, nil, false
		}
		names, types = append(names, t.Text), append(types, typ)
		if isPunct(p.peek(), ",") {
			p.i++
		}
	}
	p.i++
	return names, types, true
}

func (s *Server) createFunction(ctx context.Context, res *result, sess *session, p *stmt, orReplace bool) *Error {
	parts, ok := p.name()
	if !ok {
		return syntax("CREATE FUNCTION needs a name")
	}
	o, e := sess.resolve(parts)
	if e != nil {
		return e
	}
	params, _, ok := namedTypes(p)
	if !ok {
		return syntax("CREATE FUNCTION %s(name type, ...)", o.name)
	}
	if !p.accept("RETURNS") {
		return syntax("CREATE FUNCTION ... RETURNS")
	}
	var cols, colTypes []string
	var ret string
	table := p.accept("TABLE")
	if table {
		if cols, colTypes, ok = namedTypes(p); !ok {
			return syntax("RETURNS TABLE (name type, ...)")
		}
	} else if ret, ok = typeSpan(p); !ok {
		return syntax("RETURNS type")
	}
	language := "SQL"
	var body string
	for !p.done() {
		switch {
		case p.accept("LANGUAGE"):
			language = strings.ToUpper(p.peek().Text)
			p.i++
		case p.accept("AS"):
			if p.peek().Kind != sqlscan.String {
				return syntax("AS '<body>'")
			}
			body, _ = unquoteString(p.peek().Text)
			p.i++
		default:
			p.i++ // NOT NULL, STRICT, IMMUTABLE, COMMENT = '...', ...
		}
	}
	if language != "SQL" {
		return sqlError(codeUnsupported, "0A000", "SQL compilation error:\nsnowsim runs SQL functions only, not %s", language)
	}
	translated, _, e := translateSQL(body, sess)
	if e != nil {
		return e
	}
	var macro string
	if table {
		var sel []string
		for i, c := range cols {
			sel = append(sel, castTo(fmt.Sprintf("__f.__c%d", i), colTypes[i])+" AS "+quoteIdent(strings.ToUpper(c)))
		}
		var aliases []string
		for i := range cols {
			aliases = append(aliases, fmt.Sprintf("__c%d", i))
		}
		macro = fmt.Sprintf("AS TABLE SELECT %s FROM (%s) AS __f(%s)", strings.Join(sel, ", "), translated, strings.Join(aliases, ", "))
	} else {
		macro = "AS " + castTo("("+translated+")", ret)
	}
	var names []string
	for _, n := range params {
		names = append(names, quoteIdent(strings.ToUpper(n)))
	}
	q := "CREATE "
	if orReplace {
		q += "OR REPLACE "
	}
	q += "MACRO " + o.duck() + "(" + strings.Join(names, ", ") + ") " + macro
	if err := s.exec(ctx, sess, q); err != nil {
		return fromDuck(err)
	}
	res.setStatus("status", fmt.Sprintf("Function %s successfully created.", o.name))
	return nil
}

// castTo is CAST(expr AS typ), in the session's zone where that matters
// (zonecast.go).
func castTo(expr, typ string) string {
	if call, ok := zoneCastCall(expr, typ); ok {
		return call
	}
	return "CAST(" + expr + " AS " + typ + ")"
}
