//go:build duckdb_arrow

package snowflaketest

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hockeystack/sluice/engine/sqlscan"
	"github.com/hockeystack/sluice/engine/sqltype"
)

// stmt walks the tokens of one statement for the hand-parsed statements:
// DDL, USE, sessions, transactions, DESCRIBE and SHOW.
type stmt struct {
	toks []sqlscan.Token
	src  string
	i    int
}

func (p *stmt) peek() sqlscan.Token {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return sqlscan.Token{Kind: -1}
}

func (p *stmt) done() bool { return p.i >= len(p.toks) || isPunct(p.peek(), ";") }

// accept consumes the words if they come next.
func (p *stmt) accept(words ...string) bool {
	for k, w := range words {
		if p.i+k >= len(p.toks) || !isWord(p.toks[p.i+k], w) {
			return false
		}
	}
	p.i += len(words)
	return true
}

// name reads a dotted object name; unquoted parts are upper-cased.
func (p *stmt) name() ([]string, bool) {
	var parts []string
	for {
		t := p.peek()
		switch t.Kind {
		case sqlscan.Ident:
			parts = append(parts, strings.ToUpper(t.Text))
		case sqlscan.QuotedIdent:
			parts = append(parts, t.Text)
		default:
			return parts, len(parts) > 0
		}
		p.i++
		if !isPunct(p.peek(), ".") {
			return parts, true
		}
		p.i++
	}
}

// rest is the source text from the current token on.
func (p *stmt) rest() string {
	if p.i >= len(p.toks) {
		return ""
	}
	return p.src[p.toks[p.i].Off:]
}

func syntax(format string, args ...any) *Error {
	return sqlError(codeSyntax, "42000", "SQL compilation error:\nsyntax error: "+format, args...)
}

// special handles the statements snowsim implements itself. It reports
// whether it did.
func (s *Server) special(ctx context.Context, res *result, sess *session, toks []sqlscan.Token, text string, args []any) bool {
	p := &stmt{toks: toks, src: text}
	var e *Error
	switch {
	case systemWait(toks) >= 0:
		e = s.wait(ctx, res, systemWait(toks))
	case p.accept("USE"):
		e = s.useStmt(res, sess, p)
	case p.accept("ALTER", "SESSION"):
		e = s.alterSession(ctx, res, sess, p)
	case p.accept("BEGIN") || p.accept("START", "TRANSACTION"):
		e = s.txn(ctx, res, sess, "BEGIN TRANSACTION", true, "Statement executed successfully.")
	case p.accept("COMMIT"):
		e = s.txn(ctx, res, sess, "COMMIT", false, "Statement executed successfully.")
	case p.accept("ROLLBACK"):
		e = s.txn(ctx, res, sess, "ROLLBACK", false, "Statement executed successfully.")
	case p.accept("CREATE"):
		e = s.create(ctx, res, sess, p)
	case p.accept("DROP"):
		e = s.drop(ctx, res, sess, p)
	case p.accept("ALTER", "TABLE"):
		e = s.alterTable(ctx, res, sess, p)
	case p.accept("TRUNCATE"):
		e = s.truncate(ctx, res, sess, p)
	case p.accept("DESCRIBE") || p.accept("DESC"):
		e = s.describe(ctx, res, sess, p)
	case p.accept("SHOW"):
		// Snowflake answers SHOW in JSON whatever the session's result
		// format.
		res.format = "json"
		e = s.show(ctx, res, sess, p)
	case unloadRE.MatchString(text):
		e = s.unload(ctx, res, sess, text)
	case p.accept("COPY", "INTO"):
		e = s.copyInto(ctx, res, sess, text)
	case p.accept("LIST") || p.accept("LS"):
		e = s.list(res, sess, text)
	case p.accept("REMOVE") || p.accept("RM"):
		e = s.remove(res, sess, text)
	default:
		return false
	}
	if e != nil {
		res.err = e
	}
	return true
}

func (s *Server) useStmt(res *result, sess *session, p *stmt) *Error {
	what := "DATABASE"
	switch {
	case p.accept("DATABASE"):
	case p.accept("SCHEMA"):
		what = "SCHEMA"
	case p.accept("WAREHOUSE"):
		what = "WAREHOUSE"
	case p.accept("ROLE"):
		what = "ROLE"
	}
	parts, ok := p.name()
	if !ok {
		return syntax("USE needs a name")
	}
	switch what {
	case "WAREHOUSE":
		sess.warehouse = parts[len(parts)-1]
	case "ROLE":
		sess.role = parts[len(parts)-1]
	case "SCHEMA":
		if len(parts) == 2 {
			if e := s.use(sess, "SCHEMA", quoteIdent(parts[0])+"."+quoteIdent(parts[1])); e != nil {
				return e
			}
		} else if e := s.use(sess, "SCHEMA", parts[0]); e != nil {
			return e
		}
	default:
		if len(parts) == 2 {
			if e := s.use(sess, "DATABASE", parts[0]); e != nil {
				return e
			}
			if e := s.use(sess, "SCHEMA", parts[1]); e != nil {
				return e
			}
		} else if e := s.use(sess, "DATABASE", parts[0]); e != nil {
			return e
		}
	}
	res.setStatus("status", "Statement executed successfully.")
	return nil
}

func (s *Server) alterSession(ctx context.Context, res *result, sess *session, p *stmt) *Error {
	switch {
	case p.accept("SET"):
		for !p.done() {
			key := strings.ToUpper(p.peek().Text)
			p.i++
			if !isPunct(p.peek(), "=") {
				return syntax("expected = after %s", key)
			}
			p.i++
			v := p.peek()
			p.i++
			val := v.Text
			if v.Kind == sqlscan.String {
				val, _ = unquoteString(v.Text)
			}
			if e := sess.setParam(ctx, key, val); e != nil {
				return e
			}
			if isPunct(p.peek(), ",") {
				p.i++
			}
		}
	case p.accept("UNSET"):
		for !p.done() {
			if key := strings.ToUpper(p.peek().Text); key == "TIMEZONE" {
				if e := sess.setParam(ctx, key, ""); e != nil {
					return e
				}
			} else {
				delete(sess.params, key)
			}
			p.i++
			if isPunct(p.peek(), ",") {
				p.i++
			}
		}
	default:
		return syntax("ALTER SESSION SET or UNSET")
	}
	res.setStatus("status", "Statement executed successfully.")
	return nil
}

func (s *Server) txn(ctx context.Context, res *result, sess *session, duck string, begin bool, status string) *Error {
	switch {
	case begin && sess.inTxn:
		// Snowflake ignores a BEGIN inside a transaction.
	case !begin && !sess.inTxn:
		// and a COMMIT or ROLLBACK outside one.
	default:
		if _, err := sess.conn.ExecContext(ctx, duck); err != nil {
			return fromDuck(err)
		}
		sess.inTxn = begin
	}
	res.setStatus("status", status)
	return nil
}

// ddl runs DDL statements the way Snowflake does: an open transaction is
// committed first, and the statement and its catalog updates commit
// together.
func (s *Server) ddl(ctx context.Context, sess *session, f func() error) *Error {
	if sess.inTxn {
		if _, err := sess.conn.ExecContext(ctx, "COMMIT"); err != nil {
			return fromDuck(err)
		}
		sess.inTxn = false
	}
	if _, err := sess.conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return fromDuck(err)
	}
	if err := f(); err != nil {
		sess.conn.ExecContext(context.Background(), "ROLLBACK")
		var se *Error
		if e, ok := err.(*Error); ok {
			se = e
		} else {
			se = fromDuck(err)
		}
		return se
	}
	if _, err := sess.conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fromDuck(err)
	}
	return nil
}

func (s *Server) exec(ctx context.Context, sess *session, q string, args ...any) error {
	_, err := sess.conn.ExecContext(ctx, q, args...)
	return err
}

func (s *Server) create(ctx context.Context, res *result, sess *session, p *stmt) *Error {
	orReplace := p.accept("OR", "REPLACE")
	transient, temporary := false, false
	for {
		switch {
		case p.accept("TRANSIENT"):
			transient = true
			continue
		case p.accept("TEMPORARY"), p.accept("TEMP"), p.accept("LOCAL"), p.accept("GLOBAL"), p.accept("VOLATILE"):
			temporary = true
			continue
		}
		break
	}
	switch {
	case p.accept("DATABASE"):
		return s.createDatabase(ctx, res, sess, p, orReplace)
	case p.accept("SCHEMA"):
		return s.createSchema(ctx, res, sess, p, orReplace)
	case p.accept("TABLE"):
		return s.createTable(ctx, res, sess, p, orReplace, transient, temporary)
	case p.accept("VIEW"):
		return s.createView(ctx, res, sess, p, orReplace)
	case p.accept("STAGE"):
		res.setStatus("status", "Stage area successfully created.")
		return nil
	case p.accept("FUNCTION"):
		return s.createFunction(ctx, res, sess, p, orReplace)
	}
	return sqlError(codeUnsupported, "0A000", "SQL compilation error:\nsnowsim does not support this CREATE statement")
}

func (s *Server) createDatabase(ctx context.Context, res *result, sess *session, p *stmt, orReplace bool) *Error {
	ifNotExists := p.accept("IF", "NOT", "EXISTS")
	parts, ok := p.name()
	if !ok || len(parts) != 1 {
		return syntax("CREATE DATABASE needs a name")
	}
	db := parts[0]
	if s.databaseExists(sess, db) {
		switch {
		case ifNotExists:
			res.setStatus("status", fmt.Sprintf("%s already exists, statement succeeded.", db))
			return nil
		case !orReplace:
			return sqlError(codeAlreadyExists, "42710", "SQL compilation error:\nObject '%s' already exists.", db)
		}
		if e := s.dropDatabase(ctx, sess, db); e != nil {
			return e
		}
	}
	if err := s.exec(ctx, sess, "ATTACH ':memory:' AS "+quoteIdent(db)); err != nil {
		return fromDuck(err)
	}
	if err := s.exec(ctx, sess, "CREATE SCHEMA "+quoteIdent(db)+`."PUBLIC"`); err != nil {
		return fromDuck(err)
	}
	if err := createMeta(ctx, sess.conn, db); err != nil {
		return fromDuck(err)
	}
	if e := s.use(sess, "DATABASE", db); e != nil {
		return e
	}
	res.setStatus("status", fmt.Sprintf("Database %s successfully created.", db))
	return nil
}

func (s *Server) dropDatabase(ctx context.Context, sess *session, db string) *Error {
	if sess.database == db {
		s.exec(ctx, sess, `USE "memory"."main"`)
		sess.database, sess.schema = "", ""
	}
	if err := s.exec(ctx, sess, "DETACH "+quoteIdent(db)); err != nil {
		return fromDuck(err)
	}
	return nil
}

func (s *Server) createSchema(ctx context.Context, res *result, sess *session, p *stmt, orReplace bool) *Error {
	ifNotExists := p.accept("IF", "NOT", "EXISTS")
	parts, ok := p.name()
	if !ok || len(parts) > 2 {
		return syntax("CREATE SCHEMA needs a name")
	}
	db, schema := sess.database, parts[len(parts)-1]
	if len(parts) == 2 {
		db = parts[0]
	}
	if db == "" {
		return sqlError(90105, "22000", "Cannot perform CREATE SCHEMA. This session does not have a current database. Call 'USE DATABASE', or use a qualified name.")
	}
	q := "CREATE SCHEMA "
	if ifNotExists {
		q += "IF NOT EXISTS "
	}
	if orReplace && s.schemaExists(sess, db, schema) {
		if err := s.exec(ctx, sess, "DROP SCHEMA "+quoteIdent(db)+"."+quoteIdent(schema)+" CASCADE"); err != nil {
			return fromDuck(err)
		}
	}
	if err := s.exec(ctx, sess, q+quoteIdent(db)+"."+quoteIdent(schema)); err != nil {
		return fromDuck(err)
	}
	if db == sess.database {
		s.use(sess, "SCHEMA", schema)
	}
	res.setStatus("status", fmt.Sprintf("Schema %s successfully created.", schema))
	return nil
}

func (s *Server) createView(ctx context.Context, res *result, sess *session, p *stmt, orReplace bool) *Error {
	parts, ok := p.name()
	if !ok {
		return syntax("CREATE VIEW needs a name")
	}
	o, e := sess.resolve(parts)
	if e != nil {
		return e
	}
	if !p.accept("AS") {
		return syntax("CREATE VIEW ... AS SELECT")
	}
	body, _, e := translateSQL(p.rest(), sess)
	if e != nil {
		return e
	}
	q := "CREATE "
	if orReplace {
		q += "OR REPLACE "
	}
	if e := s.ddl(ctx, sess, func() error {
		if err := s.exec(ctx, sess, q+"VIEW "+o.duck()+" AS "+body); err != nil {
			return err
		}
		cols, err := describeDuck(ctx, sess.conn, o)
		if err != nil {
			return err
		}
		return recordTable(ctx, sess.conn, o, cols, sess.role, "VIEW", false, "")
	}); e != nil {
		return e
	}
	res.setStatus("status", fmt.Sprintf("View %s successfully created.", o.name))
	return nil
}

// columnStop ends a column's type in a column definition.
var columnStop = []string{"NOT", "NULL", "DEFAULT", "PRIMARY", "UNIQUE", "REFERENCES", "COMMENT", "COLLATE",
	"CONSTRAINT", "AUTOINCREMENT", "IDENTITY", "FOREIGN", "WITH", "MASKING", "TAG", "CHECK"}

func (s *Server) createTable(ctx context.Context, res *result, sess *session, p *stmt, orReplace, transient, temporary bool) *Error {
	ifNotExists := p.accept("IF", "NOT", "EXISTS")
	parts, ok := p.name()
	if !ok {
		return syntax("CREATE TABLE needs a name")
	}
	o, e := sess.resolve(parts)
	if e != nil {
		return e
	}
	var cols []columnDef
	var keys []keyDef
	if isPunct(p.peek(), "(") {
		var e *Error
		cols, keys, e = s.columnDefs(p, sess)
		if e != nil {
			return e
		}
	}
	comment := ""
	var asQuery, like, clone string
	for !p.done() {
		switch {
		case p.accept("CLUSTER", "BY"):
			if isPunct(p.peek(), "(") {
				p.skipGroup()
			}
		case p.accept("COMMENT"):
			if isPunct(p.peek(), "=") {
				p.i++
			}
			comment, _ = unquoteString(p.peek().Text)
			p.i++
		case p.accept("COPY", "GRANTS"):
		case p.accept("AS"):
			asQuery = p.rest()
			p.i = len(p.toks)
		case p.accept("LIKE"):
			n, _ := p.name()
			like = strings.Join(n, ".")
		case p.accept("CLONE"):
			n, _ := p.name()
			clone = strings.Join(n, ".")
		case p.peek().Kind == sqlscan.Ident && p.i+1 < len(p.toks) && isPunct(p.toks[p.i+1], "="):
			// DATA_RETENTION_TIME_IN_DAYS = 0, CHANGE_TRACKING = TRUE, ...
			p.i += 3
		default:
			return syntax("unexpected '%s' in CREATE TABLE", p.peek().Text)
		}
	}
	for i := range cols {
		for _, k := range keys {
			if k.kind == "PRIMARY KEY" && slices.Contains(k.cols, cols[i].name) {
				cols[i].nullable = false // Snowflake's primary keys are NOT NULL
			}
		}
	}
	exists := s.tableExists(ctx, sess, o)
	if exists && ifNotExists {
		res.setStatus("status", fmt.Sprintf("%s already exists, statement succeeded.", o.name))
		return nil
	}
	if exists && !orReplace {
		return sqlError(codeAlreadyExists, "42710", "SQL compilation error:\nObject '%s' already exists.", o.name)
	}
	name := o.duck()
	kind := "BASE TABLE"
	if temporary {
		name, kind = quoteIdent(o.name), "TEMPORARY TABLE"
	}
	e = s.ddl(ctx, sess, func() error {
		if exists {
			if err := s.exec(ctx, sess, "DROP TABLE "+name); err != nil {
				return err
			}
			if err := forgetLoads(ctx, sess.conn, o); err != nil {
				return err
			}
		}
		create := "CREATE TABLE "
		if temporary {
			create = "CREATE TEMPORARY TABLE "
		}
		switch {
		case asQuery != "":
			q, _, e := translateSQL(asQuery, sess)
			if e != nil {
				return e
			}
			if len(cols) > 0 {
				if err := s.exec(ctx, sess, create+name+" ("+duckColumns(cols)+")"); err != nil {
					return err
				}
				if err := s.exec(ctx, sess, "INSERT INTO "+name+" "+q); err != nil {
					return err
				}
				break
			}
			if err := s.exec(ctx, sess, create+name+" AS "+q); err != nil {
				return err
			}
			dc, err := describeDuck(ctx, sess.conn, o)
			if err != nil {
				return err
			}
			cols = dc
		case like != "" || clone != "":
			src := like + clone
			so, e := sess.resolve(strings.Split(src, "."))
			if e != nil {
				return e
			}
			sc, err := tableColumns(ctx, sess.conn, so)
			if err != nil {
				return err
			}
			if len(sc) == 0 {
				return sqlError(codeObjectMissing, "42S02", "SQL compilation error:\nObject '%s' does not exist or not authorized.", so)
			}
			cols = sc
			if err := s.exec(ctx, sess, create+name+" ("+duckColumns(cols)+")"); err != nil {
				return err
			}
			if clone != "" {
				if err := s.exec(ctx, sess, "INSERT INTO "+name+" SELECT * FROM "+so.duck()); err != nil {
					return err
				}
			}
		default:
			if len(cols) == 0 {
				return syntax("CREATE TABLE needs columns, AS SELECT, LIKE or CLONE")
			}
			if err := s.exec(ctx, sess, create+name+" ("+duckColumns(cols)+")"); err != nil {
				return err
			}
		}
		if err := recordTable(ctx, sess.conn, o, cols, sess.role, kind, transient, comment); err != nil {
			return err
		}
		return recordKeys(ctx, sess.conn, o, keys)
	})
	if e != nil {
		return e
	}
	res.setStatus("status", fmt.Sprintf("Table %s successfully created.", o.name))
	return nil
}

func (p *stmt) skipGroup() {
	depth := 0
	for p.i < len(p.toks) {
		depth += p.toks[p.i].Nesting()
		p.i++
		if depth == 0 {
			return
		}
	}
}

// columnDefs parses ( name TYPE [constraints], ..., [table constraints] ),
// with the PRIMARY KEY and UNIQUE constraints declared on columns or on
// the table.
func (s *Server) columnDefs(p *stmt, sess *session) ([]columnDef, []keyDef, *Error) {
	p.i++ // (
	var cols []columnDef
	var keys []keyDef
	for !p.done() && !isPunct(p.peek(), ")") {
		name := ""
		if p.accept("CONSTRAINT") {
			if n, ok := p.name(); ok {
				name = n[0]
			}
		}
		switch {
		case name != "" || isWord(p.peek(), "PRIMARY", "UNIQUE", "FOREIGN"):
			kind := ""
			switch {
			case p.accept("PRIMARY", "KEY"):
				kind = "PRIMARY KEY"
			case p.accept("UNIQUE"):
				kind = "UNIQUE"
			}
			for !p.done() && !isPunct(p.peek(), ",") && !isPunct(p.peek(), ")") {
				if isPunct(p.peek(), "(") {
					start := p.i
					p.skipGroup()
					if kind != "" {
						k := keyDef{kind: kind, name: name}
						for _, t := range p.toks[start:p.i] {
							if t.Kind == sqlscan.Ident {
								k.cols = append(k.cols, strings.ToUpper(t.Text))
							} else if t.Kind == sqlscan.QuotedIdent {
								k.cols = append(k.cols, t.Text)
							}
						}
						keys = append(keys, k)
						kind = ""
					}
					continue
				}
				p.i++
			}
		default:
			c, e := s.columnDef(p, sess)
			if e != nil {
				return nil, nil, e
			}
			cols = append(cols, c)
			if c.key != "" {
				keys = append(keys, keyDef{kind: c.key, name: c.keyName, cols: []string{c.name}})
			}
		}
		if isPunct(p.peek(), ",") {
			p.i++
		}
	}
	if !isPunct(p.peek(), ")") {
		return nil, nil, syntax("missing ) after column definitions")
	}
	p.i++
	return cols, keys, nil
}

func (s *Server) columnDef(p *stmt, sess *session) (columnDef, *Error) {
	var c columnDef
	t := p.peek()
	switch t.Kind {
	case sqlscan.Ident:
		c.name = strings.ToUpper(t.Text)
	case sqlscan.QuotedIdent:
		c.name = t.Text
	default:
		return c, syntax("expected a column name, found '%s'", t.Text)
	}
	p.i++
	start := p.i
	depth := 0
	for !p.done() {
		tok := p.peek()
		if depth == 0 && (isPunct(tok, ",") || isPunct(tok, ")") || isWord(tok, columnStop...)) {
			break
		}
		depth += tok.Nesting()
		p.i++
	}
	var typeText strings.Builder
	for _, tok := range p.toks[start:p.i] {
		if typeText.Len() > 0 && tok.Kind == sqlscan.Ident && !strings.HasSuffix(typeText.String(), "(") {
			typeText.WriteByte(' ')
		}
		typeText.WriteString(tok.Text)
	}
	typ, err := sqltype.ParseSnowflake(typeAlias(typeText.String()))
	if st, next, ok, serr := parseStructured(p.toks[:p.i], start); ok && serr == nil && next == p.i {
		typ, err, c.structured = st.stored(), nil, st
	}
	if err != nil {
		return c, sqlError(codeSyntax, "42000", "SQL compilation error:\nUnsupported data type '%s'.", strings.ToUpper(typeText.String()))
	}
	c.typ = typ
	c.nullable = true
	for !p.done() && !isPunct(p.peek(), ",") && !isPunct(p.peek(), ")") {
		switch {
		case p.accept("NOT", "NULL"):
			c.nullable = false
		case p.accept("NULL"):
		case p.accept("PRIMARY", "KEY"):
			c.nullable = false
			c.key = "PRIMARY KEY"
		case p.accept("UNIQUE"):
			c.key = "UNIQUE"
		case p.accept("REFERENCES"):
			p.name()
			if isPunct(p.peek(), "(") {
				p.skipGroup()
			}
		case p.accept("COMMENT"):
			c.comment, _ = unquoteString(p.peek().Text)
			p.i++
		case p.accept("COLLATE"):
			p.i++
		case p.accept("DEFAULT"):
			dstart := p.i
			depth := 0
			for !p.done() {
				tok := p.peek()
				if depth == 0 && (isPunct(tok, ",") || isPunct(tok, ")") || isWord(tok, columnStop...) && !isWord(tok, "NULL")) {
					break
				}
				depth += tok.Nesting()
				p.i++
			}
			c.defText = strings.TrimSpace(p.src[p.toks[dstart].Off:p.toks[p.i-1].End])
			d, _, e := translateSQL(c.defText, sess)
			if e != nil {
				return c, e
			}
			c.def = d
		case p.accept("CONSTRAINT"):
			if n, ok := p.name(); ok {
				c.keyName = n[0]
			}
		case p.accept("AUTOINCREMENT"), p.accept("IDENTITY"):
			return c, sqlError(codeUnsupported, "0A000", "SQL compilation error:\nsnowsim does not support AUTOINCREMENT columns")
		default:
			return c, syntax("unexpected '%s' in column %s", p.peek().Text, c.name)
		}
	}
	return c, nil
}

// duckColumns writes column definitions for DuckDB. Snowflake's
// PRIMARY KEY and UNIQUE are not enforced, so they are left out; NOT NULL
// is enforced in both.
func duckColumns(cols []columnDef) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		d := quoteIdent(c.name) + " " + duckType(c.typ)
		if !c.nullable {
			d += " NOT NULL"
		}
		if c.def != "" {
			d += " DEFAULT " + c.def
		}
		if c.typ.Kind == sqltype.String && c.typ.Length > 0 && c.typ.Length < 16777216 {
			// Snowflake refuses a string longer than VARCHAR(n) rather
			// than cut it; DuckDB's VARCHAR has no length.
			d += fmt.Sprintf(" CHECK (length(%s) <= %d)", quoteIdent(c.name), c.typ.Length)
		}
		parts[i] = d
	}
	return strings.Join(parts, ", ")
}

func (s *Server) tableExists(ctx context.Context, sess *session, o objectName) bool {
	var n int
	sess.conn.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND schema_name = ? AND table_name = ?`, o.db, o.schema, o.name).Scan(&n)
	if n == 0 {
		sess.conn.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_views() WHERE database_name = ? AND schema_name = ? AND view_name = ?`, o.db, o.schema, o.name).Scan(&n)
	}
	return n > 0
}

func (s *Server) drop(ctx context.Context, res *result, sess *session, p *stmt) *Error {
	kind := ""
	switch {
	case p.accept("TABLE"):
		kind = "TABLE"
	case p.accept("VIEW"):
		kind = "VIEW"
	case p.accept("SCHEMA"):
		kind = "SCHEMA"
	case p.accept("DATABASE"):
		kind = "DATABASE"
	case p.accept("STAGE"):
		res.setStatus("status", "Statement executed successfully.")
		return nil
	default:
		return sqlError(codeUnsupported, "0A000", "SQL compilation error:\nsnowsim does not support this DROP statement")
	}
	ifExists := p.accept("IF", "EXISTS")
	parts, ok := p.name()
	if !ok {
		return syntax("DROP %s needs a name", kind)
	}
	switch kind {
	case "DATABASE":
		db := parts[0]
		if !s.databaseExists(sess, db) {
			if ifExists {
				res.setStatus("status", "Drop statement executed successfully ("+db+" already dropped).")
				return nil
			}
			return sqlError(codeObjectMissing, "02000", "SQL compilation error:\nDatabase '%s' does not exist or not authorized.", db)
		}
		if e := s.dropDatabase(ctx, sess, db); e != nil {
			return e
		}
		res.setStatus("status", db+" successfully dropped.")
		return nil
	case "SCHEMA":
		db, schema := sess.database, parts[len(parts)-1]
		if len(parts) == 2 {
			db = parts[0]
		}
		if e := s.ddl(ctx, sess, func() error {
			q := "DROP SCHEMA "
			if ifExists {
				q += "IF EXISTS "
			}
			if err := s.exec(ctx, sess, q+quoteIdent(db)+"."+quoteIdent(schema)+" CASCADE"); err != nil {
				return err
			}
			if err := s.exec(ctx, sess, "DELETE FROM "+meta(db, "COLUMNS")+` WHERE "TABLE_SCHEMA" = ?`, schema); err != nil {
				return err
			}
			if err := forgetKeys(ctx, sess.conn, objectName{db: db, schema: schema}, ""); err != nil {
				return err
			}
			return s.exec(ctx, sess, "DELETE FROM "+meta(db, "TABLES")+` WHERE "TABLE_SCHEMA" = ?`, schema)
		}); e != nil {
			return e
		}
		res.setStatus("status", schema+" successfully dropped.")
		return nil
	}
	o, e := sess.resolve(parts)
	if e != nil {
		return e
	}
	if !s.tableExists(ctx, sess, o) {
		if ifExists {
			res.setStatus("status", "Drop statement executed successfully ("+o.name+" already dropped).")
			return nil
		}
		return sqlError(codeObjectMissing, "42S02", "SQL compilation error:\nTable '%s' does not exist or not authorized.", o)
	}
	if e := s.ddl(ctx, sess, func() error {
		if err := s.exec(ctx, sess, "DROP "+kind+" "+o.duck()); err != nil {
			return err
		}
		if err := forgetLoads(ctx, sess.conn, o); err != nil {
			return err
		}
		if err := forgetKeys(ctx, sess.conn, o, ""); err != nil {
			return err
		}
		return forgetTable(ctx, sess.conn, o)
	}); e != nil {
		return e
	}
	res.setStatus("status", o.name+" successfully dropped.")
	return nil
}

func (s *Server) alterTable(ctx context.Context, res *result, sess *session, p *stmt) *Error {
	o, found, e := s.tableArg(ctx, res, sess, p, "ALTER TABLE")
	if e != nil || !found {
		return e
	}
	cols, err := tableColumns(ctx, sess.conn, o)
	if err != nil {
		return fromDuck(err)
	}
	var props struct {
		transient, comment string
	}
	sess.conn.QueryRowContext(ctx, `SELECT "IS_TRANSIENT", coalesce("COMMENT", '') FROM `+meta(o.db, "TABLES")+` WHERE "TABLE_CATALOG" = ? AND "TABLE_SCHEMA" = ? AND "TABLE_NAME" = ?`,
		o.db, o.schema, o.name).Scan(&props.transient, &props.comment)
	save := func(o objectName, cols []columnDef) error {
		return recordTable(ctx, sess.conn, o, cols, sess.role, "BASE TABLE", props.transient == "YES", props.comment)
	}
	switch {
	case p.accept("SWAP", "WITH"):
		other, _ := p.name()
		b, e := sess.resolve(other)
		if e != nil {
			return e
		}
		if b.db != o.db || b.schema != o.schema {
			return sqlError(codeUnsupported, "0A000", "snowsim swaps tables within one schema only")
		}
		if !s.tableExists(ctx, sess, b) {
			return sqlError(codeObjectMissing, "42S02", "SQL compilation error:\nTable '%s' does not exist or not authorized.", b)
		}
		bcols, err := tableColumns(ctx, sess.conn, b)
		if err != nil {
			return fromDuck(err)
		}
		tmp := objectName{o.db, o.schema, o.name + "__SNOWSIM_SWAP"}
		if e := s.ddl(ctx, sess, func() error {
			for _, q := range []string{
				"ALTER TABLE " + o.duck() + " RENAME TO " + quoteIdent(tmp.name),
				"ALTER TABLE " + b.duck() + " RENAME TO " + quoteIdent(o.name),
				"ALTER TABLE " + tmp.duck() + " RENAME TO " + quoteIdent(b.name),
			} {
				if err := s.exec(ctx, sess, q); err != nil {
					return err
				}
			}
			if err := save(o, bcols); err != nil {
				return err
			}
			for _, r := range [][2]string{{o.name, tmp.name}, {b.name, o.name}, {tmp.name, b.name}} {
				if err := renameKeys(ctx, sess.conn, objectName{o.db, o.schema, r[0]}, "", r[1]); err != nil {
					return err
				}
			}
			return save(b, cols)
		}); e != nil {
			return e
		}
		res.setStatus("status", "Statement executed successfully.")
		return nil
	case p.accept("RENAME", "TO"):
		newParts, _ := p.name()
		n, e := sess.resolve(newParts)
		if e != nil {
			return e
		}
		if n.db != o.db || n.schema != o.schema {
			return sqlError(codeUnsupported, "0A000", "snowsim renames tables within one schema only")
		}
		if e := s.ddl(ctx, sess, func() error {
			if err := s.exec(ctx, sess, "ALTER TABLE "+o.duck()+" RENAME TO "+quoteIdent(n.name)); err != nil {
				return err
			}
			if err := forgetTable(ctx, sess.conn, o); err != nil {
				return err
			}
			if err := renameKeys(ctx, sess.conn, o, "", n.name); err != nil {
				return err
			}
			return save(n, cols)
		}); e != nil {
			return e
		}
	case p.accept("ADD"):
		p.accept("COLUMN")
		ifNotExists := p.accept("IF", "NOT", "EXISTS")
		c, e := s.columnDef(p, sess)
		if e != nil {
			return e
		}
		for _, old := range cols {
			if old.name == c.name {
				if ifNotExists {
					res.setStatus("status", "Statement executed successfully.")
					return nil
				}
				return sqlError(codeAlreadyExists, "42701", "SQL compilation error:\ncolumn '%s' already exists", c.name)
			}
		}
		if e := s.ddl(ctx, sess, func() error {
			if err := s.exec(ctx, sess, "ALTER TABLE "+o.duck()+" ADD COLUMN "+duckColumns([]columnDef{c})); err != nil {
				return err
			}
			return save(o, append(cols, c))
		}); e != nil {
			return e
		}
	case p.accept("DROP"):
		p.accept("COLUMN")
		p.accept("IF", "EXISTS")
		names, _ := p.name()
		name := names[len(names)-1]
		var kept []columnDef
		for _, c := range cols {
			if c.name != name {
				kept = append(kept, c)
			}
		}
		if len(kept) == len(cols) {
			return sqlError(codeInvalidIdentifier, "42000", "SQL compilation error: error line 0 at position 0\ninvalid identifier '%s'", name)
		}
		if e := s.ddl(ctx, sess, func() error {
			if err := s.exec(ctx, sess, "ALTER TABLE "+o.duck()+" DROP COLUMN "+quoteIdent(name)); err != nil {
				return err
			}
			if err := forgetKeys(ctx, sess.conn, o, name); err != nil {
				return err
			}
			return save(o, kept)
		}); e != nil {
			return e
		}
	case p.accept("RENAME", "COLUMN"):
		from, _ := p.name()
		if !p.accept("TO") {
			return syntax("RENAME COLUMN a TO b")
		}
		to, _ := p.name()
		found := false
		for i := range cols {
			if cols[i].name == from[0] {
				cols[i].name, found = to[0], true
			}
		}
		if !found {
			return sqlError(codeInvalidIdentifier, "42000", "SQL compilation error: error line 0 at position 0\ninvalid identifier '%s'", from[0])
		}
		if e := s.ddl(ctx, sess, func() error {
			if err := s.exec(ctx, sess, "ALTER TABLE "+o.duck()+" RENAME COLUMN "+quoteIdent(from[0])+" TO "+quoteIdent(to[0])); err != nil {
				return err
			}
			if err := renameKeys(ctx, sess.conn, o, from[0], to[0]); err != nil {
				return err
			}
			return save(o, cols)
		}); e != nil {
			return e
		}
	default:
		return sqlError(codeUnsupported, "0A000", "SQL compilation error:\nsnowsim does not support this ALTER TABLE")
	}
	res.setStatus("status", "Statement executed successfully.")
	return nil
}

// tableArg reads [IF EXISTS] name and resolves an existing table. found is
// false, with res set to Snowflake's no-op status, when IF EXISTS names a
// missing table.
func (s *Server) tableArg(ctx context.Context, res *result, sess *session, p *stmt, what string) (objectName, bool, *Error) {
	ifExists := p.accept("IF", "EXISTS")
	parts, ok := p.name()
	if !ok {
		return objectName{}, false, syntax("%s needs a table name", what)
	}
	o, e := sess.resolve(parts)
	if e != nil {
		return o, false, e
	}
	if !s.tableExists(ctx, sess, o) {
		if ifExists {
			res.setStatus("status", "Statement executed successfully.")
			return o, false, nil
		}
		return o, false, sqlError(codeObjectMissing, "42S02", "SQL compilation error:\nTable '%s' does not exist or not authorized.", o)
	}
	return o, true, nil
}

func (s *Server) truncate(ctx context.Context, res *result, sess *session, p *stmt) *Error {
	p.accept("TABLE")
	o, found, e := s.tableArg(ctx, res, sess, p, "TRUNCATE")
	if e != nil || !found {
		return e
	}
	if err := s.exec(ctx, sess, "DELETE FROM "+o.duck()); err != nil {
		return fromDuck(err)
	}
	res.setStatus("status", "Statement executed successfully.")
	return nil
}

// describe answers DESCRIBE TABLE from the catalog, in Snowflake's shape.
func (s *Server) describe(ctx context.Context, res *result, sess *session, p *stmt) *Error {
	p.accept("TABLE")
	p.accept("VIEW")
	parts, ok := p.name()
	if !ok {
		return syntax("DESCRIBE TABLE needs a name")
	}
	o, e := sess.resolve(parts)
	if e != nil {
		return e
	}
	if !s.tableExists(ctx, sess, o) {
		return sqlError(codeObjectMissing, "42S02", "SQL compilation error:\nTable '%s' does not exist or not authorized.", o)
	}
	q := `SELECT "COLUMN_NAME" AS "name", "TYPE_TEXT" || CASE WHEN "IS_NULLABLE" = 'NO' THEN ' NOT NULL' ELSE '' END AS "type",
		'COLUMN' AS "kind", CASE WHEN "IS_NULLABLE" = 'YES' THEN 'Y' ELSE 'N' END AS "null?", "COLUMN_DEFAULT" AS "default",
		'N' AS "primary key", 'N' AS "unique key", CAST(NULL AS VARCHAR) AS "check", CAST(NULL AS VARCHAR) AS "expression",
		"COMMENT" AS "comment", CAST(NULL AS VARCHAR) AS "policy name"
		FROM ` + meta(o.db, "COLUMNS") + ` WHERE "TABLE_CATALOG" = ? AND "TABLE_SCHEMA" = ? AND "TABLE_NAME" = ? ORDER BY "ORDINAL_POSITION"`
	s.query(ctx, res, sess, q, []any{o.db, o.schema, o.name}, false)
	// DESCRIBE shows TYPE_TEXT without the NOT NULL suffix in Snowflake;
	// the null? column carries it.
	return nil
}

// show answers SHOW TABLES [LIKE 'x'] [IN [DATABASE|SCHEMA] name].
func (s *Server) show(ctx context.Context, res *result, sess *session, p *stmt) *Error {
	p.accept("TERSE")
	switch {
	case p.accept("PRIMARY", "KEYS"):
		return s.showKeys(ctx, res, sess, p, "PRIMARY KEY")
	case p.accept("UNIQUE", "KEYS"):
		return s.showKeys(ctx, res, sess, p, "UNIQUE")
	case p.accept("PARAMETERS"):
		return s.showParameters(ctx, res, sess, p)
	}
	if !p.accept("TABLES") {
		return sqlError(codeUnsupported, "0A000", "SQL compilation error:\nsnowsim supports SHOW TABLES, SHOW PRIMARY KEYS and SHOW UNIQUE KEYS only")
	}
	where := []string{`"TABLE_TYPE" <> 'VIEW'`}
	var args []any
	if p.accept("LIKE") {
		pat, _ := unquoteString(p.peek().Text)
		p.i++
		where = append(where, `"TABLE_NAME" ILIKE ?`)
		args = append(args, pat)
	}
	db, schema := sess.database, sess.schema
	if p.accept("IN") {
		switch {
		case p.accept("ACCOUNT"):
			db, schema = "", ""
		case p.accept("DATABASE"):
			n, _ := p.name()
			db, schema = n[0], ""
		default:
			p.accept("SCHEMA")
			n, _ := p.name()
			if len(n) == 2 {
				db, schema = n[0], n[1]
			} else {
				schema = n[0]
			}
		}
	}
	if schema != "" {
		where = append(where, `"TABLE_SCHEMA" = ?`)
		args = append(args, schema)
	}
	dbs := []string{db}
	if db == "" {
		dbs = s.databases(ctx, sess)
	}
	if len(dbs) == 0 {
		dbs = nil
	}
	var parts []string
	var allArgs []any
	for _, d := range dbs {
		parts = append(parts, "SELECT * FROM "+meta(d, "TABLES")+" WHERE "+strings.Join(where, " AND "))
		allArgs = append(allArgs, args...)
	}
	from := strings.Join(parts, " UNION ALL ")
	if from == "" {
		from = "SELECT * FROM (SELECT NULL::TIMESTAMPTZ AS \"CREATED\", NULL AS \"TABLE_NAME\", NULL AS \"TABLE_CATALOG\", NULL AS \"TABLE_SCHEMA\", NULL AS \"IS_TRANSIENT\", NULL AS \"TABLE_TYPE\", NULL AS \"COMMENT\", NULL AS \"TABLE_OWNER\") WHERE FALSE"
	}
	q := `SELECT "CREATED" AS "created_on", "TABLE_NAME" AS "name", "TABLE_CATALOG" AS "database_name", "TABLE_SCHEMA" AS "schema_name",
		CASE WHEN "IS_TRANSIENT" = 'YES' THEN 'TRANSIENT' WHEN "TABLE_TYPE" = 'TEMPORARY TABLE' THEN 'TEMPORARY' ELSE 'TABLE' END AS "kind",
		coalesce("COMMENT", '') AS "comment", '' AS "cluster_by", CAST(0 AS BIGINT) AS "rows", CAST(0 AS BIGINT) AS "bytes", "TABLE_OWNER" AS "owner"
		FROM (` + from + `) ORDER BY "TABLE_CATALOG", "TABLE_SCHEMA", "TABLE_NAME"`
	args = allArgs
	s.query(ctx, res, sess, q, args, false)
	return nil
}

// showKeys answers SHOW PRIMARY KEYS and SHOW UNIQUE KEYS [IN [TABLE]
// name | IN SCHEMA [name] | IN DATABASE [name]] with Snowflake's columns:
// one row per column of each constraint, in key order.
func (s *Server) showKeys(ctx context.Context, res *result, sess *session, p *stmt, kind string) *Error {
	db, schema, table := sess.database, sess.schema, ""
	if p.accept("IN") {
		switch {
		case p.accept("DATABASE"):
			schema = ""
			if n, ok := p.name(); ok {
				db = n[0]
			}
		case p.accept("SCHEMA"):
			if n, ok := p.name(); ok {
				if len(n) == 2 {
					db, schema = n[0], n[1]
				} else {
					schema = n[0]
				}
			}
		default:
			p.accept("TABLE")
			n, ok := p.name()
			if !ok {
				return syntax("SHOW %sS IN TABLE needs a name", kind)
			}
			o, e := sess.resolve(n)
			if e != nil {
				return e
			}
			if !s.tableExists(ctx, sess, o) {
				return sqlError(codeObjectMissing, "42S02", "SQL compilation error:\nTable '%s' does not exist or not authorized.", o)
			}
			db, schema, table = o.db, o.schema, o.name
		}
	}
	if db == "" {
		return sqlError(90105, "22000", "Cannot perform SHOW. This session does not have a current database. Call 'USE DATABASE', or use a qualified name.")
	}
	where := []string{`"CONSTRAINT_TYPE" = ?`}
	args := []any{kind}
	if schema != "" {
		where, args = append(where, `"TABLE_SCHEMA" = ?`), append(args, schema)
	}
	if table != "" {
		where, args = append(where, `"TABLE_NAME" = ?`), append(args, table)
	}
	q := `SELECT "CREATED" AS "created_on", "TABLE_CATALOG" AS "database_name", "TABLE_SCHEMA" AS "schema_name",
		"TABLE_NAME" AS "table_name", "COLUMN_NAME" AS "column_name", "KEY_SEQUENCE" AS "key_sequence",
		"CONSTRAINT_NAME" AS "constraint_name", 'false' AS "rely", CAST(NULL AS VARCHAR) AS "comment"
		FROM ` + meta(db, "KEYS") + ` WHERE ` + strings.Join(where, " AND ") + `
		ORDER BY "TABLE_SCHEMA", "TABLE_NAME", "CONSTRAINT_NAME", "KEY_SEQUENCE"`
	s.query(ctx, res, sess, q, args, false)
	return nil
}

// databases lists the Snowflake databases: attached DuckDB databases with
// a snowsim catalog.
func (s *Server) databases(ctx context.Context, sess *session) []string {
	rows, err := sess.conn.QueryContext(ctx, `SELECT DISTINCT database_name FROM duckdb_schemas() WHERE schema_name = ? ORDER BY 1`, metaSchema)
	if err != nil {
		return nil
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var d string
		rows.Scan(&d)
		out = append(out, d)
	}
	return out
}

// parameterDefaults are the session parameters SHOW PARAMETERS lists,
// with the account's defaults.
var parameterDefaults = map[string]string{
	"TIMEZONE": "UTC", "CLIENT_SESSION_KEEP_ALIVE": "false", "CLIENT_SESSION_KEEP_ALIVE_HEARTBEAT_FREQUENCY": "3600",
	"QUERY_TAG": "", "MULTI_STATEMENT_COUNT": "1", "AUTOCOMMIT": "true", "BINARY_INPUT_FORMAT": "HEX",
	"BINARY_OUTPUT_FORMAT": "HEX", "DATE_OUTPUT_FORMAT": "YYYY-MM-DD", "TIME_OUTPUT_FORMAT": "HH24:MI:SS",
	"TIMESTAMP_OUTPUT_FORMAT": "YYYY-MM-DD HH24:MI:SS.FF3 TZHTZM", "TIMESTAMP_NTZ_OUTPUT_FORMAT": "",
	"TIMESTAMP_LTZ_OUTPUT_FORMAT": "", "TIMESTAMP_TZ_OUTPUT_FORMAT": "", "TIMESTAMP_TYPE_MAPPING": "TIMESTAMP_NTZ",
	"CLIENT_VALIDATE_DEFAULT_PARAMETERS": "true",
}

// showParameters answers SHOW PARAMETERS [LIKE 'pattern'] [IN SESSION]:
// the session's parameters, each with its value, default and level.
func (s *Server) showParameters(ctx context.Context, res *result, sess *session, p *stmt) *Error {
	pattern := "%"
	if p.accept("LIKE") {
		pattern, _ = unquoteString(p.peek().Text)
		p.i++
	}
	keys := map[string]bool{}
	for k := range parameterDefaults {
		keys[k] = true
	}
	for k := range sess.params {
		keys[k] = true
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	var rows []string
	var args []any
	for _, k := range names {
		v, set := sess.params[k]
		def := parameterDefaults[k]
		if !set {
			v = def
		}
		level := ""
		if set && v != def {
			level = "SESSION"
		}
		typ := "STRING"
		switch def {
		case "true", "false":
			typ = "BOOLEAN"
			v = strings.ToLower(v)
		}
		rows = append(rows, "(?, ?, ?, ?, '', ?)")
		args = append(args, k, v, def, level, typ)
	}
	args = append(args, pattern)
	q := `SELECT "key", "value", "default", "level", "description", "type" FROM (VALUES ` + strings.Join(rows, ", ") +
		`) AS p("key", "value", "default", "level", "description", "type") WHERE "key" ILIKE ? ORDER BY "key"`
	s.query(ctx, res, sess, q, args, false)
	return nil
}

// systemWait reads CALL SYSTEM$WAIT(n [, 'unit']) or SELECT SYSTEM$WAIT(...)
// as a duration in milliseconds, or -1 for another statement.
func systemWait(toks []sqlscan.Token) time.Duration {
	if len(toks) < 5 || !isWord(toks[0], "CALL", "SELECT") || !isWord(toks[1], "SYSTEM$WAIT") || !isPunct(toks[2], "(") ||
		toks[3].Kind != sqlscan.Number {
		return -1
	}
	n, err := strconv.ParseFloat(toks[3].Text, 64)
	if err != nil {
		return -1
	}
	unit, k := time.Second, 4
	if isPunct(toks[k], ",") && k+1 < len(toks) && toks[k+1].Kind == sqlscan.String {
		u, _ := unquoteString(toks[k+1].Text)
		switch strings.ToUpper(u) {
		case "MILLISECONDS":
			unit = time.Millisecond
		case "MINUTES":
			unit = time.Minute
		case "HOURS":
			unit = time.Hour
		}
		k += 2
	}
	if k != len(toks)-1 || !isPunct(toks[k], ")") {
		return -1
	}
	return time.Duration(n * float64(unit))
}

// wait answers SYSTEM$WAIT: it returns after d, or fails when the query
// is canceled.
func (s *Server) wait(ctx context.Context, res *result, d time.Duration) *Error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return sqlError(codeQueryCancelled, "57014", "SQL execution canceled")
	}
	res.statementType = typeSelect
	res.setStatus("SYSTEM$WAIT", "waited "+strconv.FormatFloat(d.Seconds(), 'f', -1, 64)+" seconds")
	return nil
}
