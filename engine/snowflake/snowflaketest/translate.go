//go:build duckdb_arrow

package snowflaketest

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/hockeystack/sluice/engine/sqlscan"
	"github.com/hockeystack/sluice/engine/sqltype"
)

// translator rewrites Snowflake SQL into DuckDB SQL, token by token:
// unquoted identifiers are upper-cased (as Snowflake resolves them), types
// and functions are mapped, variant paths become JSON extraction, and
// binds become DuckDB parameters.
type translator struct {
	toks []sqlscan.Token
	i    int
	out  []string
	// primary is the index in out where the last identifier chain began,
	// the operand of a following variant path.
	primary int
	err     *Error
	// binds counts ? placeholders, for the statement-count check.
	binds int
	// infoDB is the current database, for INFORMATION_SCHEMA references
	// without one.
	infoDB string
	// context answers CURRENT_USER() and its kin.
	context map[string]string
	// sess is the session translated for, nil for none.
	sess *session
}

// translateSQL rewrites a Snowflake statement (or fragment) into DuckDB
// SQL.
func translateSQL(src string, sess *session) (string, int, *Error) {
	t := &translator{toks: divisions(sqlscan.Scan(src)), primary: -1, context: map[string]string{}}
	if sess != nil {
		t.sess = sess
		t.infoDB = sess.database
		t.context = map[string]string{
			"CURRENT_USER": sess.user.Name, "CURRENT_ROLE": sess.role, "CURRENT_WAREHOUSE": sess.warehouse,
			"CURRENT_DATABASE": sess.database, "CURRENT_SCHEMA": sess.schema, "CURRENT_VERSION": "9.0.0",
			"CURRENT_ACCOUNT": sess.account, "CURRENT_REGION": "SNOWSIM", "CURRENT_CLIENT": "snowsim",
		}
	}
	t.run(len(t.toks))
	if t.err != nil {
		return "", 0, t.err
	}
	return strings.Join(t.out, " "), t.binds, nil
}

func (t *translator) peek(k int) sqlscan.Token {
	if t.i+k < len(t.toks) {
		return t.toks[t.i+k]
	}
	return sqlscan.Token{Kind: -1}
}

func (t *translator) emit(s string) { t.out = append(t.out, s) }

func isWord(tok sqlscan.Token, words ...string) bool {
	if tok.Kind != sqlscan.Ident {
		return false
	}
	for _, w := range words {
		if strings.EqualFold(tok.Text, w) {
			return true
		}
	}
	return false
}

func isPunct(tok sqlscan.Token, p string) bool { return tok.Kind == sqlscan.Punct && tok.Text == p }

// run translates tokens up to index end.
func (t *translator) run(end int) {
	for t.i < end && t.err == nil {
		tok := t.toks[t.i]
		switch tok.Kind {
		case sqlscan.Ident:
			t.ident(end)
		case sqlscan.QuotedIdent:
			t.markPrimary()
			t.emit(quoteIdent(tok.Text))
			t.i++
		case sqlscan.String:
			t.markPrimary()
			text := sqlString(tok.Text)
			if t.zonedLiteral() {
				// Snowflake reads '2024-01-01 10:00:00 +05:00' as a
				// TIMESTAMP_TZ; DuckDB wants the offset without the space.
				text = offsetSpace.ReplaceAllString(text, "$1$2")
			}
			t.emit(text)
			t.i++
		case sqlscan.Placeholder:
			// :1 style binds scan as a number after a colon; a named
			// placeholder has no Snowflake meaning.
			t.err = sqlError(codeSyntax, "42000", "SQL compilation error:\nsyntax error unexpected ':%s'", tok.Text)
		case sqlscan.Punct:
			t.punct(end)
		default:
			t.emit(tok.Text)
			t.i++
		}
	}
}

// typedLiteral spells Snowflake's typed literals (TIMESTAMP_TZ '...') in
// DuckDB.
var typedLiteral = map[string]string{"TIMESTAMP_NTZ": "TIMESTAMP", "TIMESTAMP_TZ": tzType, "TIMESTAMP_LTZ": "TIMESTAMPTZ"}

var offsetSpace = regexp.MustCompile(`(\d)\s+([+-]\d\d:?\d\d')$`)

// zonedLiteral reports whether the string literal at the current token
// is read as a zoned timestamp: TIMESTAMP_TZ '...', '...'::TIMESTAMP_LTZ.
func (t *translator) zonedLiteral() bool {
	zoned := func(tok sqlscan.Token) bool {
		return isWord(tok, "TIMESTAMP_TZ", "TIMESTAMP_LTZ", "TIMESTAMPTZ", "TIMESTAMPLTZ")
	}
	if t.i > 0 && zoned(t.toks[t.i-1]) {
		return true
	}
	return isPunct(t.peek(1), "::") && zoned(t.peek(2))
}

func (t *translator) markPrimary() {
	if t.i > 0 && isPunct(t.toks[t.i-1], ".") {
		return // continues a chain
	}
	t.primary = len(t.out)
}

func (t *translator) punct(end int) {
	tok := t.toks[t.i]
	switch {
	case tok.Text == "::":
		castOfString := t.i > 0 && t.toks[t.i-1].Kind == sqlscan.String
		t.i++
		if st, next, ok, err := parseStructured(t.toks[:end], t.i); ok {
			// A structured type is kept as JSON; structured.go checks and
			// converts the values when the result is encoded.
			if err != nil {
				t.err = sqlError(codeSyntax, "42000", "SQL compilation error:\n%v", err)
				return
			}
			_ = st
			t.i = next
			t.emit("::")
			t.emit("JSON")
			return
		}
		typ, ok := t.typeAt(end)
		if !ok {
			return
		}
		if wrap := castMacros[typ]; wrap != "" && t.primary >= 0 && t.primary < len(t.out) {
			base := strings.Join(t.out[t.primary:], "")
			t.out = append(t.out[:t.primary], functionName(wrap)+"("+base+")")
			return
		}
		if zoneCastMacro(typ) != "" && t.primary >= 0 && t.primary < len(t.out) {
			call, _ := zoneCastCall(strings.Join(t.out[t.primary:], ""), typ)
			t.out = append(t.out[:t.primary], call)
			return
		}
		t.emit("::")
		if strings.HasPrefix(typ, ltzAlias) && castOfString {
			// '...'::TIMESTAMP_LTZ through DuckDB's TIMESTAMPTZ, whose
			// cast reads a wall clock in the session's zone; a cast
			// straight to the alias reads it as UTC.
			t.emit("TIMESTAMPTZ::")
		}
		t.emit(typ)
	case tok.Text == ":" && t.i > 0 && t.toks[t.i-1].Kind == sqlscan.String:
		// {'k': 1}: an object constant's key and value, not a bind or a path.
		t.primary = -1
		t.emit(":")
		t.i++
	case tok.Text == ":" && t.peek(1).Kind == sqlscan.Number:
		t.emit("$" + t.peek(1).Text)
		t.i += 2
	case tok.Text == ":" && t.primary >= 0 && (t.peek(1).Kind == sqlscan.Ident || t.peek(1).Kind == sqlscan.QuotedIdent):
		t.variantPath(end)
	case tok.Text == "{" && isPunct(t.peek(1), "}"):
		// {} is the empty OBJECT constant.
		t.markPrimary()
		t.emit("json_object()")
		t.i += 2
	case tok.Text == "?":
		t.primary = -1
		t.binds++
		t.emit("?")
		t.i++
	case tok.Text == ".":
		t.emit(".")
		t.i++
	default:
		t.primary = -1
		t.emit(tok.Text)
		t.i++
	}
}

// castMacros are the casts (by DuckDB type) that are macros in snowsim,
// as Snowflake's differ from DuckDB's: a VARIANT cast to text is its
// value, not its JSON; text cast to BINARY is hex.
var castMacros = map[string]string{"VARCHAR": "SF_TEXT", "BLOB": "SF_BINARY"}

// variantPath turns base:a.b[0].c into json_extract(base, '$.a.b[0].c'),
// or json_extract_string when a cast follows, so that v:plan::string is
// the text without JSON quotes, as in Snowflake.
func (t *translator) variantPath(end int) {
	base := strings.Join(t.out[t.primary:], "")
	t.out = t.out[:t.primary]
	path := "$"
	t.i++ // the colon
	first := true
	for t.i < end {
		tok := t.toks[t.i]
		switch {
		case (tok.Kind == sqlscan.Ident || tok.Kind == sqlscan.QuotedIdent) && first:
			path += "." + jsonKey(tok.Text)
			t.i++
			first = false
		case isPunct(tok, ".") && (t.peek(1).Kind == sqlscan.Ident || t.peek(1).Kind == sqlscan.QuotedIdent):
			path += "." + jsonKey(t.peek(1).Text)
			t.i += 2
		case isPunct(tok, "[") && t.peek(1).Kind == sqlscan.Number && isPunct(t.peek(2), "]"):
			path += "[" + t.peek(1).Text + "]"
			t.i += 3
		case isPunct(tok, "[") && t.peek(1).Kind == sqlscan.String && isPunct(t.peek(2), "]"):
			key, _ := unquoteString(t.peek(1).Text)
			path += "." + jsonKey(key)
			t.i += 3
		default:
			goto done
		}
	}
done:
	fn := "json_extract"
	if isPunct(t.peek(0), "::") {
		fn = "json_extract_string"
	}
	t.emit(fmt.Sprintf("%s(%s, %s)", fn, base, sqlQuote(path)))
	t.primary = -1
}

func jsonKey(k string) string {
	if strings.IndexFunc(k, func(r rune) bool { return !sqlscan.IsIdentPart(r) }) >= 0 {
		return strconv.Quote(k)
	}
	return k
}

// typeAt reads a Snowflake type at the current token and returns its
// DuckDB spelling.
func (t *translator) typeAt(end int) (string, bool) {
	start := t.i
	if t.i >= end || t.toks[t.i].Kind != sqlscan.Ident {
		t.err = sqlError(codeSyntax, "42000", "SQL compilation error:\nsyntax error: expected a type")
		return "", false
	}
	text := t.toks[t.i].Text
	t.i++
	if isWord(t.toks[start], "DOUBLE") && isWord(t.peek(0), "PRECISION") {
		text += " PRECISION"
		t.i++
	}
	if isPunct(t.peek(0), "(") {
		depth := 0
		for t.i < end {
			tok := t.toks[t.i]
			text += tok.Text
			depth += tok.Nesting()
			t.i++
			if depth == 0 {
				break
			}
		}
	}
	typ, err := sqltype.ParseSnowflake(typeAlias(text))
	if err != nil {
		t.err = sqlError(codeSyntax, "42000", "SQL compilation error:\nUnsupported data type '%s'.", strings.ToUpper(text))
		return "", false
	}
	return duckType(typ), true
}

// duckType is the DuckDB type a Snowflake type is stored as.
func duckType(t sqltype.Type) string {
	switch t.Kind {
	case sqltype.Decimal:
		return fmt.Sprintf("DECIMAL(%d,%d)", t.Precision, t.Scale)
	case sqltype.Float:
		return "DOUBLE"
	case sqltype.String:
		return "VARCHAR"
	case sqltype.Binary:
		return "BLOB"
	case sqltype.Bool:
		return "BOOLEAN"
	case sqltype.Date:
		return "DATE"
	case sqltype.Time:
		return fmt.Sprintf("%s%d", timeAlias, t.Precision)
	case sqltype.Timestamp:
		switch t.Zone {
		case sqltype.NoZone:
			return fmt.Sprintf("%s%d", ntzAlias, t.Precision)
		case sqltype.Offset:
			return tzType
		}
		return fmt.Sprintf("%s%d", ltzAlias, t.Precision)
	case sqltype.JSON:
		return "JSON"
	}
	return "VARCHAR"
}

// functions maps Snowflake functions to DuckDB ones or to the macros
// bootstrap defines. Functions not listed keep their name.
var functions = map[string]string{
	"NVL": "COALESCE", "IFNULL": "COALESCE", "LISTAGG": "STRING_AGG", "PARSE_JSON": "JSON",
	"TRY_PARSE_JSON": "SF_TRY_PARSE_JSON", "OBJECT_CONSTRUCT": "JSON_OBJECT", "OBJECT_CONSTRUCT_KEEP_NULL": "JSON_OBJECT", "ARRAY_CONSTRUCT": "JSON_ARRAY",
	"ARRAY_SIZE": "JSON_ARRAY_LENGTH", "SHA2": "SHA256", "UUID_STRING": "SF_UUID_STRING",
	"SYSDATE": "SF_SYSDATE", "CURRENT_TIMESTAMP": "SF_CURRENT_TIMESTAMP", "GETDATE": "SF_CURRENT_TIMESTAMP",
	"LOCALTIMESTAMP": "SF_CURRENT_TIMESTAMP", "CURRENT_DATE": "CURRENT_DATE",
	"SF_DIV": "SF_DIV", "IFF": "SF_IFF", "NVL2": "SF_NVL2", "ZEROIFNULL": "SF_ZEROIFNULL", "DIV0": "SF_DIV0", "DIV0NULL": "SF_DIV0NULL",
	"NULLIFZERO": "SF_NULLIFZERO", "EQUAL_NULL": "SF_EQUAL_NULL", "CONVERT_TIMEZONE": "SF_CONVERT_TIMEZONE",
	"TO_VARIANT": "TO_JSON", "TO_JSON": "SF_TO_JSON", "SF_TEXT": "SF_TEXT", "SF_BINARY": "SF_BINARY", "RANDSTR": "SF_RANDSTR", "CURRENT_TIME": "SF_CURRENT_TIME", "LOCALTIME": "SF_CURRENT_TIME", "AS_ARRAY": "SF_AS_ARRAY", "AS_OBJECT": "SF_AS_OBJECT", "SF_ZONE_PART": "SF_ZONE_PART",
	"DATEADD": "SF_DATEADD", "TIMESTAMPADD": "SF_DATEADD", "TIMEADD": "SF_DATEADD",
	"DATE_TRUNC": "SF_DATE_TRUNC", "DATE_PART": "SF_DATE_PART",
	"DATEDIFF": "DATE_DIFF", "TIMESTAMPDIFF": "DATE_DIFF", "TIMEDIFF": "DATE_DIFF",
}

// contextFunctions answer from the session, as literals.
var contextFunctions = map[string]bool{
	"CURRENT_USER": true, "CURRENT_ROLE": true, "CURRENT_WAREHOUSE": true, "CURRENT_DATABASE": true,
	"CURRENT_SCHEMA": true, "CURRENT_VERSION": true, "CURRENT_ACCOUNT": true, "CURRENT_REGION": true, "CURRENT_CLIENT": true,
}

// functionName is the DuckDB function for a Snowflake one. snowsim's own
// macros live in the default catalog, outside the search path of a session
// that has switched databases, so they are called by qualified name.
func functionName(name string) string {
	f, ok := functions[name]
	if !ok {
		return name
	}
	if strings.HasPrefix(f, "SF_") {
		return `"memory"."main".` + f
	}
	return f
}

// partFunctions are Snowflake's one-part extractors and the date part
// each reads.
var partFunctions = map[string]string{
	"YEAR": "year", "QUARTER": "quarter", "MONTH": "month", "WEEK": "week", "WEEKOFYEAR": "week",
	"DAY": "day", "DAYOFMONTH": "day", "DAYOFWEEK": "dow", "DAYOFYEAR": "doy",
	"HOUR": "hour", "MINUTE": "minute", "SECOND": "second",
}

// datePartFunctions take a date part as a bare word first argument, which
// DuckDB wants as a string.
var datePartFunctions = map[string]bool{
	"DATEADD": true, "TIMESTAMPADD": true, "TIMEADD": true, "DATEDIFF": true, "TIMESTAMPDIFF": true,
	"TIMEDIFF": true, "DATE_TRUNC": true, "DATE_PART": true, "TIME_SLICE": false, "LAST_DAY": false,
}

// castFunctions convert their argument to a type, with an optional
// Snowflake format string.
var castFunctions = map[string]string{
	"TO_DATE": "DATE", "DATE": "DATE", "TRY_TO_DATE": "DATE",
	"TO_TIMESTAMP": "TIMESTAMP", "TO_TIMESTAMP_NTZ": "TIMESTAMP", "TRY_TO_TIMESTAMP": "TIMESTAMP", "TRY_TO_TIMESTAMP_NTZ": "TIMESTAMP",
	"TO_TIMESTAMP_LTZ": "TIMESTAMPTZ", "TO_TIMESTAMP_TZ": tzType, "TRY_TO_TIMESTAMP_TZ": tzType, "TRY_TO_TIMESTAMP_LTZ": "TIMESTAMPTZ",
	"TO_VARCHAR": "VARCHAR", "TO_CHAR": "VARCHAR", "TO_DOUBLE": "DOUBLE", "TRY_TO_DOUBLE": "DOUBLE",
	"TO_BOOLEAN": "BOOLEAN", "TRY_TO_BOOLEAN": "BOOLEAN", "TO_TIME": "TIME", "TRY_TO_TIME": "TIME",
	"TO_NUMBER": "DECIMAL", "TO_DECIMAL": "DECIMAL", "TO_NUMERIC": "DECIMAL",
	"TRY_TO_NUMBER": "DECIMAL", "TRY_TO_DECIMAL": "DECIMAL", "TRY_TO_NUMERIC": "DECIMAL",
}

func (t *translator) ident(end int) {
	tok := t.toks[t.i]
	name := strings.ToUpper(tok.Text)
	next := t.peek(1)
	if name == "VALUES" && t.i > 0 && isWord(t.toks[t.i-1], "FROM", "JOIN") && isPunct(next, "(") {
		t.valuesTable(end)
		return
	}
	if isPunct(next, "(") && !(t.i > 0 && isPunct(t.toks[t.i-1], ".")) {
		t.call(name, end)
		return
	}
	// [DB.]INFORMATION_SCHEMA.COLUMNS and friends read snowsim's catalog.
	if name == "INFORMATION_SCHEMA" && isPunct(next, ".") && t.peek(2).Kind == sqlscan.Ident {
		db := t.infoDB
		if len(t.out) >= 2 && t.out[len(t.out)-1] == "." {
			db = strings.Trim(t.out[len(t.out)-2], `"`)
			t.out = t.out[:len(t.out)-2]
		}
		view := strings.ToUpper(t.peek(2).Text)
		t.i += 3
		t.emit(infoSchemaView(view, db))
		if !(t.peek(0).Kind == sqlscan.Ident && !isClauseWord(t.peek(0))) && !isWord(t.peek(0), "AS") {
			t.emit("AS " + quoteIdent(view))
		}
		return
	}
	if name == "DUAL" && t.i > 0 && isWord(t.toks[t.i-1], "FROM") {
		// FROM DUAL: one row of nothing.
		t.emit("(SELECT 1) AS DUAL")
		t.i++
		return
	}
	if name == "WITHIN" && isWord(next, "GROUP") {
		t.withinGroup(end)
		return
	}
	t.markPrimary()
	switch {
	case name == "TRUE" || name == "FALSE" || name == "NULL":
		t.emit(name)
	case isKeyword(name) || t.contextualKeyword(name):
		if typed, ok := typedLiteral[name]; ok && t.peek(1).Kind == sqlscan.String {
			// TIMESTAMP_LTZ '...' is DuckDB's TIMESTAMPTZ '...', one
			// operand with its string for a cast that follows.
			text := sqlString(t.peek(1).Text)
			if name != "TIMESTAMP_NTZ" {
				text = offsetSpace.ReplaceAllString(text, "$1$2")
			}
			t.markPrimary()
			t.emit(typed + " " + text)
			t.i += 2
			return
		}
		t.emit(name)
	default:
		t.emit(quoteIdent(name))
	}
	t.i++
}

// contextualKeyword reports whether a word that is often a column name
// (DATE, TIME, AT, DAY, ...) is syntax where it stands.
func (t *translator) contextualKeyword(name string) bool {
	next := t.peek(1)
	var prev sqlscan.Token
	if t.i > 0 {
		prev = t.toks[t.i-1]
	}
	switch name {
	case "DATE", "TIME", "TIMESTAMP", "TIMESTAMP_NTZ", "TIMESTAMP_TZ", "TIMESTAMP_LTZ", "INTERVAL":
		return next.Kind == sqlscan.String || name == "TIME" && (isWord(next, "ZONE") || isWord(prev, "AT"))
	case "AT":
		return isWord(next, "TIME") || isWord(next, "LOCAL")
	case "ZONE":
		return isWord(prev, "TIME")
	case "YEAR", "QUARTER", "MONTH", "WEEK", "DAY", "HOUR", "MINUTE", "SECOND", "MILLISECOND", "MICROSECOND",
		"YEARS", "MONTHS", "DAYS", "HOURS", "MINUTES", "SECONDS":
		// INTERVAL '3' DAY, INTERVAL (n) DAY
		return prev.Kind == sqlscan.String && t.i > 1 && isWord(t.toks[t.i-2], "INTERVAL") || isPunct(prev, ")") && t.intervalBefore()
	case "FIRST", "LAST":
		return isWord(prev, "NULLS")
	case "KEY":
		return isWord(prev, "PRIMARY", "FOREIGN")
	}
	return false
}

// intervalBefore reports whether the parenthesized group before the
// current token follows INTERVAL.
func (t *translator) intervalBefore() bool {
	depth := 0
	for k := t.i - 1; k >= 0; k-- {
		depth -= t.toks[k].Nesting()
		if depth == 0 {
			return k > 0 && isWord(t.toks[k-1], "INTERVAL")
		}
	}
	return false
}

// isClauseWord reports words that follow a table reference without being
// its alias.
func isClauseWord(tok sqlscan.Token) bool {
	return isWord(tok, "WHERE", "ORDER", "GROUP", "LIMIT", "JOIN", "LEFT", "RIGHT", "INNER", "FULL",
		"CROSS", "ON", "UNION", "HAVING", "QUALIFY", "NATURAL", "USING", "EXCEPT", "MINUS", "INTERSECT", "WINDOW", "OFFSET")
}

// call translates a function call, with the functions whose arguments
// change shape.
func (t *translator) call(name string, end int) {
	closeAt := t.matching(t.i + 1)
	if closeAt < 0 {
		t.err = sqlError(codeSyntax, "42000", "SQL compilation error:\nsyntax error: missing ) after %s(", name)
		return
	}
	args := t.splitArgs(t.i+2, closeAt)
	start := len(t.out)
	t.primary = start
	switch {
	case name == "EXTRACT" && len(args) == 1 && len(args[0]) >= 3 && isWord(t.toks[args[0][1]], "FROM"):
		// EXTRACT(part FROM x) is DATE_PART(part, x).
		t.datePartCall("DATE_PART", partText(t.toks[args[0][0]]), [][]int{args[0][2:]})
	case partFunctions[name] != "" && len(args) == 1:
		// HOUR(x) and its kin are DATE_PART(hour, x).
		t.datePartCall("DATE_PART", partFunctions[name], args)
	case datePartFunctions[name] && len(args) > 0 && len(args[0]) == 1 && (t.toks[args[0][0]].Kind == sqlscan.Ident || t.toks[args[0][0]].Kind == sqlscan.String):
		t.datePartCall(name, partText(t.toks[args[0][0]]), args[1:])
	case castFunctions[name] != "":
		t.castCall(name, args)
	case t.context[name] != "" || len(args) == 0 && contextFunctions[name]:
		if v := t.context[name]; v != "" {
			t.emit(sqlQuote(v))
		} else {
			t.emit("CAST(NULL AS VARCHAR)")
		}
	case name == "TABLE" && len(args) == 1 && t.sess != nil && t.historyCall(args[0]) >= 0:
		// TABLE([INFORMATION_SCHEMA.]QUERY_HISTORY_BY_SESSION(...)).
		limit := 100
		for i, k := range args[0] {
			if i >= 2 && t.toks[k].Kind == sqlscan.Number && isPunct(t.toks[args[0][i-1]], "=>") && isWord(t.toks[args[0][i-2]], "RESULT_LIMIT") {
				limit, _ = strconv.Atoi(t.toks[k].Text)
			}
		}
		t.emit(queryHistoryTable(t.sess, limit))
	case name == "TABLE" && len(args) == 1 && isWord(t.toks[args[0][0]], "FLATTEN"):
		// TABLE(FLATTEN(...)) is FLATTEN(...).
		t.sub(args[0][0], args[0][len(args[0])-1]+1)
	case name == "TABLE" && len(args) == 1 && len(args[0]) > 2 && t.toks[args[0][0]].Kind == sqlscan.Ident && !isWord(t.toks[args[0][0]], "GENERATOR"):
		// TABLE(f(...)): a table function, a table macro in DuckDB
		// (udf.go).
		t.sub(args[0][0], args[0][len(args[0])-1]+1)
	case name == "FLATTEN":
		t.flatten(args)
	case name == "TABLE" && len(args) == 1 && isWord(t.toks[args[0][0]], "GENERATOR"):
		// TABLE(GENERATOR(ROWCOUNT => n)): n rows of nothing;
		// TIMELIMIT => s alone: rows for s seconds, here one row after
		// s seconds (generator.go).
		n, limit := "", ""
		for i, k := range args[0] {
			if t.toks[k].Kind == sqlscan.Number && i >= 2 && isPunct(t.toks[args[0][i-1]], "=>") {
				if isWord(t.toks[args[0][i-2]], "TIMELIMIT") {
					limit = t.toks[k].Text
				} else {
					n = t.toks[k].Text
				}
			}
		}
		switch {
		case n == "" && limit != "":
			t.emit(`(SELECT range FROM range(1) WHERE SF_SLEEP(` + limit + `)) AS __generator(__row)`)
		default:
			t.emit("range(" + orDefault(n, "0") + ") AS __generator(__row)")
		}
	case name == "SEQ1" || name == "SEQ2" || name == "SEQ4" || name == "SEQ8":
		t.emit("(row_number() OVER () - 1)")
	case name == "CAST" || name == "TRY_CAST":
		// CAST(x AS type): the type is Snowflake's.
		as := -1
		depth := 0
		for k := t.i + 2; k < closeAt; k++ {
			depth += t.toks[k].Nesting()
			if depth == 0 && isWord(t.toks[k], "AS") {
				as = k
			}
		}
		if as < 0 {
			t.err = syntax("%s(value AS type)", name)
			return
		}
		t.emit(name + "(")
		t.sub(t.i+2, as)
		save := t.i
		t.i = as + 1
		typ, ok := t.typeAt(closeAt)
		t.i = save
		if !ok {
			return
		}
		if name == "CAST" {
			if call, ok := zoneCastCall(strings.Join(t.out[start+1:], ""), typ); ok {
				t.out = append(t.out[:start], call)
				break
			}
		}
		t.emit("AS " + typ + ")")
	case name == "ARRAY_AGG":
		// An aggregate: it cannot hide in a macro, as WITHIN GROUP must
		// reach it.
		t.emit("TO_JSON(LIST(")
		for k, a := range args {
			if k > 0 {
				t.emit(",")
			}
			t.sub(a[0], a[len(a)-1]+1)
		}
		t.emit("))")
	case name == "TO_BINARY" || name == "TRY_TO_BINARY":
		fn := "UNHEX"
		if len(args) == 2 && len(args[1]) == 1 {
			f, _ := unquoteString(t.toks[args[1][0]].Text)
			switch strings.ToUpper(f) {
			case "BASE64":
				fn = "FROM_BASE64"
			case "UTF-8", "UTF8":
				fn = "ENCODE"
			}
		}
		t.emit(fn + "(")
		t.sub(args[0][0], args[0][len(args[0])-1]+1)
		t.emit(")")
	default:
		t.emit(functionName(name) + "(")
		for k, a := range args {
			if k > 0 {
				t.emit(",")
			}
			t.sub(a[0], a[len(a)-1]+1)
		}
		t.emit(")")
	}
	// The call is the operand of a cast or variant path that follows,
	// whatever its arguments marked.
	t.primary = start
	t.i = closeAt + 1
}

// historyCall is the index in toks of QUERY_HISTORY_BY_SESSION when toks
// are [INFORMATION_SCHEMA.]QUERY_HISTORY_BY_SESSION(...), else -1.
func (t *translator) historyCall(toks []int) int {
	k := 0
	if len(toks) > 2 && isWord(t.toks[toks[0]], "INFORMATION_SCHEMA") && isPunct(t.toks[toks[1]], ".") {
		k = 2
	}
	if len(toks) > k+1 && isWord(t.toks[toks[k]], "QUERY_HISTORY_BY_SESSION") && isPunct(t.toks[toks[k+1]], "(") {
		return k
	}
	return -1
}

// flatten translates FLATTEN(input => expr [, path => 'a.b']) into a
// subquery over DuckDB's json_each with Snowflake's output columns: SEQ,
// KEY (object keys), PATH, INDEX (array positions), VALUE and THIS.
func (t *translator) flatten(args [][]int) {
	named := map[string][]int{}
	for i, a := range args {
		if len(a) >= 2 && t.toks[a[0]].Kind == sqlscan.Ident && isPunct(t.toks[a[1]], "=>") {
			named[strings.ToUpper(t.toks[a[0]].Text)] = a[2:]
		} else if i == 0 {
			named["INPUT"] = a
		}
	}
	in, ok := named["INPUT"]
	if !ok || len(in) == 0 {
		t.err = syntax("FLATTEN needs input => <expression>")
		return
	}
	save := t.out
	t.out = nil
	t.sub(in[0], in[len(in)-1]+1)
	expr := "CAST(" + strings.Join(t.out, " ") + " AS JSON)"
	t.out = save
	if p, ok := named["PATH"]; ok && len(p) == 1 && t.toks[p[0]].Kind == sqlscan.String {
		path, _ := unquoteString(t.toks[p[0]].Text)
		expr = "json_extract(" + expr + ", " + sqlQuote("$."+path) + ")"
	}
	t.emit(`(SELECT CAST(1 AS BIGINT) AS "SEQ",
		CASE WHEN json_type(` + expr + `) = 'OBJECT' THEN __je.key END AS "KEY",
		__je.fullkey AS "PATH",
		CASE WHEN json_type(` + expr + `) = 'ARRAY' THEN CAST(__je.key AS BIGINT) END AS "INDEX",
		__je.value AS "VALUE", ` + expr + ` AS "THIS"
		FROM json_each(` + expr + `) AS __je)`)
}

// castCall translates TO_DATE(x [, fmt]) and its kin.
func (t *translator) castCall(name string, args [][]int) {
	target := castFunctions[name]
	try := strings.HasPrefix(name, "TRY_")
	if len(args) == 0 {
		t.err = sqlError(codeSyntax, "42000", "SQL compilation error:\nnot enough arguments for function [%s]", name)
		return
	}
	cast := "CAST"
	if try {
		cast = "TRY_CAST"
	}
	if target == "DECIMAL" {
		p, s := "38", "0"
		if len(args) >= 2 && len(args[1]) == 1 && t.toks[args[1][0]].Kind == sqlscan.Number {
			p = t.toks[args[1][0]].Text
		}
		if len(args) >= 3 && len(args[2]) == 1 && t.toks[args[2][0]].Kind == sqlscan.Number {
			s = t.toks[args[2][0]].Text
		}
		target = "DECIMAL(" + p + "," + s + ")"
		args = args[:1]
	}
	if len(args) >= 2 && len(args[1]) == 1 && t.toks[args[1][0]].Kind == sqlscan.String {
		format, _ := unquoteString(t.toks[args[1][0]].Text)
		fn := "STRPTIME"
		if target == "VARCHAR" {
			fn = "STRFTIME"
		} else if try {
			fn = "TRY_STRPTIME"
		}
		t.emit(cast + "(" + fn + "(")
		t.sub(args[0][0], args[0][len(args[0])-1]+1)
		t.emit(", " + sqlQuote(strftimeFormat(format)) + ") AS " + target + ")")
		return
	}
	if target == "VARCHAR" && !try {
		t.emit(functionName("SF_TEXT") + "(")
		t.sub(args[0][0], args[0][len(args[0])-1]+1)
		t.emit(")")
		return
	}
	if !try && zoneCastMacro(target) != "" {
		start := len(t.out)
		t.sub(args[0][0], args[0][len(args[0])-1]+1)
		call, _ := zoneCastCall(strings.Join(t.out[start:], ""), target)
		t.out = append(t.out[:start], call)
		return
	}
	t.emit(cast + "(")
	t.sub(args[0][0], args[0][len(args[0])-1]+1)
	t.emit(" AS " + target + ")")
}

// valuesTable translates FROM VALUES (...), (...) [alias], whose columns
// Snowflake names COLUMN1, COLUMN2, ..., into a DuckDB subquery.
func (t *translator) valuesTable(end int) {
	start := t.i + 1
	k := start
	width := 0
	for k < end && isPunct(t.toks[k], "(") {
		closeAt := t.matching(k)
		if closeAt < 0 {
			break
		}
		if width == 0 {
			width = len(t.splitArgs(k+1, closeAt))
		}
		k = closeAt + 1
		if k < end && isPunct(t.toks[k], ",") && k+1 < end && isPunct(t.toks[k+1], "(") {
			k++
			continue
		}
		break
	}
	t.emit("(VALUES")
	t.sub(start, k)
	alias := "__values"
	if k < end && isWord(t.toks[k], "AS") {
		k++
	}
	if k < end && (t.toks[k].Kind == sqlscan.QuotedIdent || t.toks[k].Kind == sqlscan.Ident && !isClauseWord(t.toks[k]) && !isKeyword(strings.ToUpper(t.toks[k].Text))) {
		alias = t.toks[k].Text
		if t.toks[k].Kind == sqlscan.Ident {
			alias = strings.ToUpper(alias)
		}
		k++
	}
	cols := make([]string, width)
	for i := range cols {
		cols[i] = quoteIdent(fmt.Sprintf("COLUMN%d", i+1))
	}
	t.emit(") AS " + quoteIdent(alias) + "(" + strings.Join(cols, ", ") + ")")
	t.i = k
}

// withinGroup moves WITHIN GROUP (ORDER BY ...) into the preceding
// aggregate call, where DuckDB takes it.
func (t *translator) withinGroup(end int) {
	open := t.i + 2
	closers := ""
	if len(t.out) > 0 {
		closers = t.out[len(t.out)-1]
	}
	if !isPunct(t.peek(2), "(") || closers == "" || strings.Trim(closers, ")") != "" {
		t.emit("WITHIN")
		t.i++
		return
	}
	closeAt := t.matching(open)
	if closeAt < 0 {
		t.err = sqlError(codeSyntax, "42000", "SQL compilation error:\nsyntax error in WITHIN GROUP")
		return
	}
	t.out = t.out[:len(t.out)-1] // the aggregate's closing parentheses
	t.sub(open+1, closeAt)
	t.emit(closers)
	t.i = closeAt + 1
}

// sub translates tokens [from, to) into the output.
func (t *translator) sub(from, to int) {
	saveI := t.i
	t.i = from
	t.run(to)
	t.i = saveI
}

// matching returns the index of the parenthesis closing the one at open.
func (t *translator) matching(open int) int {
	depth := 0
	for k := open; k < len(t.toks); k++ {
		depth += t.toks[k].Nesting()
		if depth == 0 {
			return k
		}
	}
	return -1
}

// splitArgs splits tokens (from, to) at top-level commas into argument
// token index lists.
func (t *translator) splitArgs(from, to int) [][]int {
	var args [][]int
	var cur []int
	depth := 0
	for k := from; k < to; k++ {
		tok := t.toks[k]
		depth += tok.Nesting()
		if depth == 0 && isPunct(tok, ",") {
			args = append(args, cur)
			cur = nil
			continue
		}
		cur = append(cur, k)
	}
	if len(cur) > 0 {
		args = append(args, cur)
	}
	return args
}

// datePartCall emits a function whose first argument is a date part.
// DATE_PART reads a TIMESTAMP_TZ's own wall clock (SF_DATE_PART), except
// that seconds since the epoch count the instant and the TIMEZONE_ parts
// read the offset (SF_ZONE_PART: DuckDB's own would answer the session's
// offset for every value).
func (t *translator) datePartCall(name, part string, args [][]int) {
	part = datePart(part)
	fn := functionName(name)
	if name == "DATE_PART" {
		switch {
		case strings.HasPrefix(part, "epoch"):
			fn = "DATE_PART"
		case part == "timezone_hour" || part == "timezone_minute":
			fn = functionName("SF_ZONE_PART")
		}
	}
	t.emit(fn + "(" + sqlQuote(part))
	for _, a := range args {
		t.emit(",")
		t.sub(a[0], a[len(a)-1]+1)
	}
	t.emit(")")
}

// partText is a date part as written: a word or a string.
func partText(tok sqlscan.Token) string {
	if tok.Kind == sqlscan.String {
		text, _ := unquoteString(tok.Text)
		return text
	}
	return tok.Text
}

// datePart normalizes Snowflake's date part names and abbreviations.
func datePart(p string) string {
	switch strings.ToLower(p) {
	case "y", "yy", "yyy", "yyyy", "yr", "years", "yrs", "year":
		return "year"
	case "q", "qtr", "qtrs", "quarters", "quarter":
		return "quarter"
	case "mm", "mon", "mons", "months", "month":
		return "month"
	case "w", "wk", "weekofyear", "woy", "wy", "weeks", "week":
		return "week"
	case "d", "dd", "days", "dayofmonth", "day":
		return "day"
	case "h", "hh", "hr", "hours", "hrs", "hour":
		return "hour"
	case "m", "mi", "min", "minutes", "mins", "minute":
		return "minute"
	case "s", "sec", "seconds", "secs", "second":
		return "second"
	case "ms", "msec", "milliseconds", "millisecond":
		return "millisecond"
	case "us", "usec", "microseconds", "microsecond":
		return "microsecond"
	case "ns", "nsec", "nanosec", "nanoseconds", "nanosecond":
		return "nanosecond"
	case "dow", "dayofweek", "weekday":
		return "dow"
	case "doy", "dayofyear", "yearday":
		return "doy"
	case "epoch_second", "epoch":
		return "epoch"
	case "tzh", "timezone_hour":
		return "timezone_hour"
	case "tzm", "timezone_minute":
		return "timezone_minute"
	}
	return strings.ToLower(p)
}

// strftimeFormat converts a Snowflake format string (YYYY-MM-DD HH24:MI:SS)
// to strftime's (%Y-%m-%d %H:%M:%S).
func strftimeFormat(f string) string {
	repl := []struct{ sf, c string }{
		{"YYYY", "%Y"}, {"YY", "%y"}, {"MMMM", "%B"}, {"MON", "%b"}, {"MM", "%m"}, {"DD", "%d"},
		{"DY", "%a"}, {"HH24", "%H"}, {"HH12", "%I"}, {"HH", "%H"}, {"MI", "%M"}, {"SS", "%S"},
		{"FF9", "%n"}, {"FF6", "%f"}, {"FF3", "%g"}, {"FF", "%f"}, {"AM", "%p"}, {"PM", "%p"},
		{"TZH:TZM", "%z"}, {"TZHTZM", "%z"},
	}
	var b strings.Builder
	for i := 0; i < len(f); {
		if f[i] == '"' {
			j := strings.IndexByte(f[i+1:], '"')
			if j < 0 {
				b.WriteString(f[i+1:])
				break
			}
			b.WriteString(f[i+1 : i+1+j])
			i += j + 2
			continue
		}
		matched := false
		for _, r := range repl {
			if strings.HasPrefix(strings.ToUpper(f[i:]), r.sf) {
				b.WriteString(r.c)
				i += len(r.sf)
				matched = true
				break
			}
		}
		if !matched {
			if f[i] == '%' {
				b.WriteString("%%")
			} else {
				b.WriteByte(f[i])
			}
			i++
		}
	}
	return b.String()
}

// quoteIdent quotes a name for DuckDB.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// sqlQuote writes s as a standard SQL string literal.
func sqlQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// unquoteString decodes a Snowflake string literal: '...' with ” and
// backslash escapes, or $$...$$ taken literally.
func unquoteString(lit string) (string, bool) {
	if strings.HasPrefix(lit, "$$") {
		return strings.TrimSuffix(strings.TrimPrefix(lit, "$$"), "$$"), true
	}
	if len(lit) < 2 || lit[0] != '\'' || lit[len(lit)-1] != '\'' {
		return lit, false
	}
	body := lit[1 : len(lit)-1]
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '\'' && i+1 < len(body) && body[i+1] == '\'':
			b.WriteByte('\'')
			i++
		case c == '\\' && i+1 < len(body):
			i++
			switch body[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '0':
				b.WriteByte(0)
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			default:
				b.WriteByte(body[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}

// sqlString re-encodes a Snowflake string literal for DuckDB.
func sqlString(lit string) string {
	s, _ := unquoteString(lit)
	return sqlQuote(s)
}

// keywords are the words left unquoted: SQL syntax DuckDB must see as
// such. Every other unquoted word is an identifier, upper-cased and quoted
// so that DuckDB never mistakes a column called TYPE or NAME for syntax.
var keywords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`SELECT FROM WHERE AND OR NOT NULL IS IN AS ON JOIN LEFT RIGHT INNER OUTER FULL
		CROSS NATURAL USING GROUP BY ORDER HAVING LIMIT OFFSET UNION ALL DISTINCT CASE WHEN THEN ELSE END
		TRUE FALSE ASC DESC NULLS LIKE ILIKE BETWEEN EXISTS ANY SOME WITH RECURSIVE OVER PARTITION
		ROWS UNBOUNDED PRECEDING FOLLOWING CURRENT ROW QUALIFY INSERT INTO VALUES UPDATE SET DELETE
		MERGE MATCHED CREATE TABLE VIEW OR REPLACE TEMPORARY TEMP IF DROP ALTER ADD COLUMN RENAME TO
		DEFAULT PRIMARY UNIQUE CHECK REFERENCES FOREIGN CONSTRAINT CAST TRY_CAST INTERVAL EXCEPT
		INTERSECT LATERAL WINDOW FILTER RESPECT IGNORE EXCLUDE ESCAPE COLLATE TABLESAMPLE SAMPLE
		SCHEMA DATABASE TRUNCATE BEGIN COMMIT ROLLBACK TRANSACTION WORK START EXTRACT RLIKE REGEXP
		CURRENT_TIMESTAMP CURRENT_DATE CURRENT_TIME LOCALTIMESTAMP`) {
		keywords[w] = true
	}
}

func isKeyword(w string) bool { return keywords[w] }

// infoSchemaView is the query that stands for a Snowflake
// INFORMATION_SCHEMA view of database db.
func infoSchemaView(view, db string) string {
	switch view {
	case "COLUMNS":
		// The views' own columns too (infoself.go).
		return `(SELECT * EXCLUDE ("TYPE_TEXT") FROM ` + meta(db, "COLUMNS") + " UNION ALL " + infoSelfColumns(db) + ")"
	case "TABLES":
		return "(SELECT * FROM " + meta(db, "TABLES") + " UNION ALL " + infoSelfTables(db) + ")"
	case "LOAD_HISTORY":
		return `(SELECT * EXCLUDE ("ETAG") FROM ` + meta(db, "LOAD_HISTORY") + ")"
	case "SCHEMATA":
		return fmt.Sprintf(`(SELECT catalog_name AS "CATALOG_NAME", schema_name AS "SCHEMA_NAME" FROM information_schema.schemata WHERE catalog_name = %s AND schema_name NOT IN ('main', %s))`, sqlQuote(db), sqlQuote(metaSchema))
	}
	return fmt.Sprintf(`(SELECT NULL AS "UNSUPPORTED_%s" WHERE FALSE)`, view)
}

// divisions rewrites a / b as SF_DIV(a, b), which fails on a zero divisor
// as Snowflake does, where DuckDB would return NULL. The left operand is
// the run of operands joined by *, / and % before the slash (they
// associate left), the right operand the single operand after it.
func divisions(toks []sqlscan.Token) []sqlscan.Token {
	for {
		k := slashAt(toks)
		if k < 0 {
			return toks
		}
		l := leftOperand(toks, k)
		r := rightOperand(toks, k)
		if l == k || r == k+1 {
			return toks // not a division we can see the operands of
		}
		out := append([]sqlscan.Token{}, toks[:l]...)
		out = append(out, ident("SF_DIV"), punct("("))
		out = append(out, toks[l:k]...)
		out = append(out, punct(","))
		out = append(out, toks[k+1:r]...)
		out = append(out, punct(")"))
		toks = append(out, toks[r:]...)
	}
}

func ident(s string) sqlscan.Token { return sqlscan.Token{Kind: sqlscan.Ident, Text: s} }
func punct(s string) sqlscan.Token { return sqlscan.Token{Kind: sqlscan.Punct, Text: s} }

func slashAt(toks []sqlscan.Token) int {
	for k, t := range toks {
		if isPunct(t, "/") {
			return k
		}
	}
	return -1
}

// operandStart returns where the operand ending just before index end
// starts: a literal, a name chain, a call, a parenthesized group, with
// casts and subscripts after it.
func operandStart(toks []sqlscan.Token, end int) int {
	k := end - 1
	for k >= 0 {
		t := toks[k]
		switch {
		case isPunct(t, ")") || isPunct(t, "]"):
			depth := 0
			for ; k >= 0; k-- {
				depth -= toks[k].Nesting()
				if isPunct(toks[k], "]") {
					depth++
				} else if isPunct(toks[k], "[") {
					depth--
				}
				if depth == 0 {
					break
				}
			}
			k--
			if k >= 0 && (toks[k].Kind == sqlscan.Ident || toks[k].Kind == sqlscan.QuotedIdent) && !isKeyword(strings.ToUpper(toks[k].Text)) {
				k-- // a function name
			}
		case t.Kind == sqlscan.Ident || t.Kind == sqlscan.QuotedIdent || t.Kind == sqlscan.Number || t.Kind == sqlscan.String:
			if t.Kind == sqlscan.Ident && isKeyword(strings.ToUpper(t.Text)) {
				return k + 1
			}
			k--
		default:
			return k + 1
		}
		// continue through . :: and : links
		if k >= 0 && (isPunct(toks[k], ".") || isPunct(toks[k], "::") || isPunct(toks[k], ":")) {
			k--
			continue
		}
		return k + 1
	}
	return 0
}

func leftOperand(toks []sqlscan.Token, slash int) int {
	start := operandStart(toks, slash)
	for start > 0 && (isPunct(toks[start-1], "*") || isPunct(toks[start-1], "%")) {
		s := operandStart(toks, start-1)
		if s == start-1 {
			break
		}
		start = s
	}
	return start
}

func rightOperand(toks []sqlscan.Token, slash int) int {
	k := slash + 1
	if k < len(toks) && (isPunct(toks[k], "-") || isPunct(toks[k], "+")) {
		k++
	}
	for k < len(toks) {
		t := toks[k]
		switch {
		case isPunct(t, "("):
			depth := 0
			for ; k < len(toks); k++ {
				depth += toks[k].Nesting()
				if depth == 0 {
					break
				}
			}
			k++
		case t.Kind == sqlscan.Ident || t.Kind == sqlscan.QuotedIdent || t.Kind == sqlscan.Number || t.Kind == sqlscan.String:
			if t.Kind == sqlscan.Ident && isKeyword(strings.ToUpper(t.Text)) {
				return k
			}
			k++
			if k < len(toks) && isPunct(toks[k], "(") {
				continue
			}
		default:
			return k
		}
		if k < len(toks) && (isPunct(toks[k], ".") || isPunct(toks[k], "::") || isPunct(toks[k], ":")) {
			k++
			continue
		}
		if k < len(toks) && isPunct(toks[k], "[") {
			for ; k < len(toks) && !isPunct(toks[k], "]"); k++ {
			}
			k++
		}
		return k
	}
	return k
}
