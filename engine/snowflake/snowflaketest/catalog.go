//go:build duckdb_arrow

package snowflaketest

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/hockeystack/sluice/engine/sqltype"
)

// bootstrap creates the macros that give DuckDB Snowflake's functions.
func (s *Server) bootstrap(ctx context.Context) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	err = registerTZ(ctx, conn)
	if err == nil {
		err = registerTZFunctions(ctx, conn)
	}
	if err == nil {
		err = registerSleep(conn)
	}
	conn.Close()
	if err != nil {
		return err
	}
	stmts := []string{
		`CREATE MACRO SF_IFF(c, a, b) AS CASE WHEN c THEN a ELSE b END`,
		`CREATE MACRO SF_NVL2(a, b, c) AS CASE WHEN a IS NOT NULL THEN b ELSE c END`,
		`CREATE MACRO SF_ZEROIFNULL(a) AS COALESCE(a, 0)`,
		`CREATE MACRO SF_NULLIFZERO(a) AS NULLIF(a, 0)`,
		`CREATE MACRO SF_DIV(a, b) AS CASE WHEN b = 0 THEN error('Division by zero') ELSE a / b END`,
		`CREATE MACRO SF_DIV0(a, b) AS CASE WHEN b = 0 THEN 0 ELSE a / b END`,
		`CREATE MACRO SF_DIV0NULL(a, b) AS CASE WHEN b = 0 OR b IS NULL THEN 0 ELSE a / b END`,
		`CREATE MACRO SF_EQUAL_NULL(a, b) AS a IS NOT DISTINCT FROM b`,
		`CREATE MACRO SF_TRY_PARSE_JSON(a) AS CASE WHEN json_valid(a) THEN json(a) ELSE NULL END`,
		`CREATE MACRO SF_TO_JSON(a) AS CAST(to_json(a) AS VARCHAR)`,
		// A VARIANT read as text is its value, not its JSON: a string
		// loses its quotes, a JSON null is NULL. typeof folds at bind
		// time, so other types never reach the JSON branch.
		// A TIMESTAMP_LTZ reads in the session's zone (zonecast.go).
		`CREATE MACRO SF_TEXT(a) AS CASE WHEN typeof(a) = 'JSON' THEN json_extract_string(CAST(a AS JSON), '$')
			WHEN starts_with(typeof(a), '` + ltzAlias + `') THEN CAST(CAST(a AS TIMESTAMPTZ) AS VARCHAR) ELSE CAST(a AS VARCHAR) END`,
		// Text cast to BINARY is read in Snowflake's default
		// BINARY_INPUT_FORMAT, HEX; a BINARY stays as it is.
		`CREATE MACRO SF_BINARY(a) AS CASE WHEN typeof(a) = 'BLOB' THEN CAST(a AS BLOB)
			WHEN regexp_full_match(CAST(a AS VARCHAR), '([0-9A-Fa-f]{2})*') THEN unhex(CAST(a AS VARCHAR))
			ELSE error('The following string is not a legal hex-encoded value: ''' || CAST(a AS VARCHAR) || '''') END`,
		// RANDSTR(length, gen): a random alphanumeric string of that length
		// (hex digits here; the generator is ignored).
		`CREATE MACRO SF_RANDSTR(n, g) AS left(repeat(md5(CAST(random() AS VARCHAR)), CAST(ceil(n / 32.0) AS BIGINT)), CAST(n AS BIGINT))`,
		`CREATE MACRO SF_CURRENT_TIME() AS CAST(CAST(now() AS TIMESTAMP) AS TIME), (p) AS CAST(CAST(now() AS TIMESTAMP) AS TIME)`,
		`CREATE MACRO SF_AS_ARRAY(a) AS CASE WHEN json_type(CAST(a AS JSON)) = 'ARRAY' THEN CAST(a AS JSON) END`,
		`CREATE MACRO SF_AS_OBJECT(a) AS CASE WHEN json_type(CAST(a AS JSON)) = 'OBJECT' THEN CAST(a AS JSON) END`,
		`CREATE MACRO SF_UUID_STRING() AS CAST(uuid() AS VARCHAR)`,
		`CREATE MACRO SF_SYSDATE() AS CAST(timezone('UTC', now()) AS TIMESTAMP)`,
		`CREATE MACRO SF_CURRENT_TIMESTAMP() AS now(), (p) AS now()`,
		// CONVERT_TIMEZONE(zone, t) is a TIMESTAMP_TZ at zone's offset
		// then: the wall clock in zone minus the UTC wall clock.
		`CREATE MACRO SF_CONVERT_TIMEZONE(tz, ts) AS CAST(struct_pack(
				utc := CAST(ts AS TIMESTAMPTZ),
				off := CAST((epoch(timezone(tz, CAST(ts AS TIMESTAMPTZ))) - epoch(timezone('UTC', CAST(ts AS TIMESTAMPTZ)))) / 60 AS SMALLINT))
			AS ` + tzType + `),
			(src, tz, ts) AS timezone(tz, timezone(src, CAST(ts AS TIMESTAMP)))`,
		// TIMEZONE_HOUR and _MINUTE of an offset in minutes: both carry
		// its sign (-03:30 is -3 and -30).
		`CREATE MACRO SF_ZONE_PART(part, x) AS CASE part
			WHEN 'timezone_hour' THEN CAST(trunc(CAST(CAST(x AS ` + tzType + `) AS STRUCT(utc TIMESTAMPTZ, off SMALLINT)).off / 60) AS INTEGER)
			ELSE CAST(CAST(CAST(x AS ` + tzType + `) AS STRUCT(utc TIMESTAMPTZ, off SMALLINT)).off % 60 AS INTEGER) END`,
		// Date arithmetic, truncation and parts work on a TIMESTAMP_TZ's
		// wall clock and keep its offset (SF_WALL, SF_REZONE: tzfuncs.go).
		`CREATE MACRO SF_DATEADD(part, n, x) AS SF_REZONE(x, CASE part
			WHEN 'year' THEN SF_WALL(x) + to_years(CAST(n AS INTEGER))
			WHEN 'quarter' THEN SF_WALL(x) + to_months(CAST(n AS INTEGER) * 3)
			WHEN 'month' THEN SF_WALL(x) + to_months(CAST(n AS INTEGER))
			WHEN 'week' THEN SF_WALL(x) + to_days(CAST(n AS INTEGER) * 7)
			WHEN 'day' THEN SF_WALL(x) + to_days(CAST(n AS INTEGER))
			WHEN 'hour' THEN SF_WALL(x) + to_hours(CAST(n AS BIGINT))
			WHEN 'minute' THEN SF_WALL(x) + to_minutes(CAST(n AS BIGINT))
			WHEN 'second' THEN SF_WALL(x) + to_seconds(CAST(n AS BIGINT))
			WHEN 'millisecond' THEN SF_WALL(x) + to_milliseconds(CAST(n AS BIGINT))
			WHEN 'microsecond' THEN SF_WALL(x) + to_microseconds(CAST(n AS BIGINT))
			ELSE error('unsupported date part ' || part) END)`,
		`CREATE MACRO SF_DATE_TRUNC(part, x) AS SF_REZONE(x, date_trunc(part, SF_WALL(x)))`,
		`CREATE MACRO SF_DATE_PART(part, x) AS date_part(part, SF_WALL(x))`,
	}
	stmts = append(stmts, zoneCastMacros()...)
	for _, q := range stmts {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("snowsim bootstrap: %w\n%s", err, q)
		}
	}
	return nil
}

// metaSchema is the hidden schema of every database that holds snowsim's
// catalog of it: the declared columns and tables behind INFORMATION_SCHEMA,
// DESCRIBE and SHOW. It lives in the database it describes because a DuckDB
// transaction writes to one attached database only, and DDL and its
// catalog rows commit together.
const metaSchema = "__SNOWSIM"

func meta(db, table string) string {
	return quoteIdent(db) + "." + quoteIdent(metaSchema) + "." + quoteIdent(table)
}

// createMeta creates the catalog tables of a new database.
func createMeta(ctx context.Context, conn *sql.Conn, db string) error {
	for _, q := range []string{
		"CREATE SCHEMA " + quoteIdent(db) + "." + quoteIdent(metaSchema),
		"CREATE TABLE " + meta(db, "COLUMNS") + ` (
			"TABLE_CATALOG" VARCHAR, "TABLE_SCHEMA" VARCHAR, "TABLE_NAME" VARCHAR, "COLUMN_NAME" VARCHAR,
			"ORDINAL_POSITION" INTEGER, "COLUMN_DEFAULT" VARCHAR, "IS_NULLABLE" VARCHAR, "DATA_TYPE" VARCHAR,
			"CHARACTER_MAXIMUM_LENGTH" INTEGER, "CHARACTER_OCTET_LENGTH" INTEGER, "NUMERIC_PRECISION" INTEGER,
			"NUMERIC_PRECISION_RADIX" INTEGER, "NUMERIC_SCALE" INTEGER, "DATETIME_PRECISION" INTEGER,
			"COMMENT" VARCHAR, "TYPE_TEXT" VARCHAR)`,
		"CREATE TABLE " + meta(db, "TABLES") + ` (
			"TABLE_CATALOG" VARCHAR, "TABLE_SCHEMA" VARCHAR, "TABLE_NAME" VARCHAR, "TABLE_OWNER" VARCHAR,
			"TABLE_TYPE" VARCHAR, "IS_TRANSIENT" VARCHAR, "CLUSTERING_KEY" VARCHAR, "ROW_COUNT" BIGINT,
			"BYTES" BIGINT, "CREATED" TIMESTAMPTZ, "LAST_ALTERED" TIMESTAMPTZ, "COMMENT" VARCHAR)`,
		// KEYS holds the declared PRIMARY KEY and UNIQUE constraints,
		// one row per column, which Snowflake keeps but does not enforce
		// (SHOW PRIMARY KEYS, SHOW UNIQUE KEYS).
		"CREATE TABLE " + meta(db, "KEYS") + ` (
			"TABLE_CATALOG" VARCHAR, "TABLE_SCHEMA" VARCHAR, "TABLE_NAME" VARCHAR, "COLUMN_NAME" VARCHAR,
			"KEY_SEQUENCE" INTEGER, "CONSTRAINT_NAME" VARCHAR, "CONSTRAINT_TYPE" VARCHAR, "CREATED" TIMESTAMPTZ)`,
		"CREATE TABLE " + meta(db, "LOAD_HISTORY") + ` (
			"SCHEMA_NAME" VARCHAR, "TABLE_NAME" VARCHAR, "FILE_NAME" VARCHAR, "ETAG" VARCHAR,
			"LAST_LOAD_TIME" TIMESTAMPTZ, "STATUS" VARCHAR, "ROW_COUNT" BIGINT, "ROW_PARSED" BIGINT)`,
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// objectName is a resolved DATABASE.SCHEMA.NAME.
type objectName struct{ db, schema, name string }

func (o objectName) String() string { return o.db + "." + o.schema + "." + o.name }

// duck is the fully quoted DuckDB name.
func (o objectName) duck() string {
	if o.db == "" {
		return quoteIdent(o.name)
	}
	return quoteIdent(o.db) + "." + quoteIdent(o.schema) + "." + quoteIdent(o.name)
}

// resolve completes a one-, two- or three-part name with the session's
// current database and schema.
func (sess *session) resolve(parts []string) (objectName, *Error) {
	switch len(parts) {
	case 1:
		if sess.database == "" || sess.schema == "" {
			return objectName{}, sqlError(90105, "22000", "Cannot perform operation. This session does not have a current database. Call 'USE DATABASE', or use a qualified name.")
		}
		return objectName{sess.database, sess.schema, parts[0]}, nil
	case 2:
		if sess.database == "" {
			return objectName{}, sqlError(90105, "22000", "Cannot perform operation. This session does not have a current database. Call 'USE DATABASE', or use a qualified name.")
		}
		return objectName{sess.database, parts[0], parts[1]}, nil
	case 3:
		return objectName{parts[0], parts[1], parts[2]}, nil
	}
	return objectName{}, sqlError(codeSyntax, "42000", "SQL compilation error:\ninvalid object name %s", strings.Join(parts, "."))
}

// use switches the session's current database or schema.
func (s *Server) use(sess *session, what, name string) *Error {
	switch what {
	case "DATABASE":
		if !s.databaseExists(sess, name) {
			return sqlError(codeObjectMissing, "02000", "Object does not exist, or operation cannot be performed.")
		}
		sess.database, sess.schema = name, "PUBLIC"
	case "SCHEMA":
		db, schema := sess.database, name
		if d, sc, ok := strings.Cut(name, "."); ok {
			db, schema = unquoteName(d), unquoteName(sc)
		}
		if !s.schemaExists(sess, db, schema) {
			return sqlError(codeObjectMissing, "02000", "Object does not exist, or operation cannot be performed.")
		}
		sess.database, sess.schema = db, schema
	}
	if _, err := sess.conn.ExecContext(context.Background(), "USE "+quoteIdent(sess.database)+"."+quoteIdent(sess.schema)); err != nil {
		return fromDuck(err)
	}
	return nil
}

func (s *Server) databaseExists(sess *session, name string) bool {
	var n int
	sess.conn.QueryRowContext(context.Background(), "SELECT count(*) FROM duckdb_databases() WHERE database_name = ?", name).Scan(&n)
	return n > 0
}

func (s *Server) schemaExists(sess *session, db, schema string) bool {
	var n int
	sess.conn.QueryRowContext(context.Background(), "SELECT count(*) FROM duckdb_schemas() WHERE database_name = ? AND schema_name = ?", db, schema).Scan(&n)
	return n > 0
}

// columnDef is a column as declared in Snowflake DDL.
type columnDef struct {
	name     string
	typ      sqltype.Type
	nullable bool
	def      string // DuckDB default expression
	defText  string // as written
	comment  string
	// key is "PRIMARY KEY" or "UNIQUE" when the column declares one,
	// named keyName when it says CONSTRAINT name.
	key, keyName string
	// structured is a structured type's declaration (structured.go);
	// typ is then the semi-structured type it is stored as.
	structured *stype
}

// typeText spells a type as DESCRIBE TABLE does: NUMBER(38,0),
// VARCHAR(16777216), TIMESTAMP_NTZ(9).
func typeText(t sqltype.Type) string {
	t.Nullable = true
	switch t.Kind {
	case sqltype.String:
		if t.Fixed || t.Name() == "CHAR" || t.Name() == "CHARACTER" || t.Name() == "NCHAR" {
			return fmt.Sprintf("VARCHAR(%d)", t.Length)
		}
		return fmt.Sprintf("VARCHAR(%d)", max(t.Length, 1))
	case sqltype.Binary:
		return fmt.Sprintf("BINARY(%d)", t.Length)
	}
	return t.String()
}

// dataType is INFORMATION_SCHEMA.COLUMNS.DATA_TYPE: the type's family name.
func dataType(t sqltype.Type) string {
	switch t.Kind {
	case sqltype.Decimal:
		return "NUMBER"
	case sqltype.Float:
		return "FLOAT"
	case sqltype.String:
		return "TEXT"
	case sqltype.Binary:
		return "BINARY"
	case sqltype.Bool:
		return "BOOLEAN"
	case sqltype.Date:
		return "DATE"
	case sqltype.Time:
		return "TIME"
	case sqltype.Timestamp:
		switch t.Zone {
		case sqltype.Local:
			return "TIMESTAMP_LTZ"
		case sqltype.Offset:
			return "TIMESTAMP_TZ"
		}
		return "TIMESTAMP_NTZ"
	case sqltype.JSON:
		return t.Name()
	}
	return "TEXT"
}

// recordTable writes a table's columns into snowsim's catalog, replacing
// what was there, on conn (inside the DDL's transaction).
func recordTable(ctx context.Context, conn *sql.Conn, o objectName, cols []columnDef, owner, kind string, transient bool, comment string) error {
	if err := forgetTable(ctx, conn, o); err != nil {
		return err
	}
	tr := "NO"
	if transient {
		tr = "YES"
	}
	if _, err := conn.ExecContext(ctx, "INSERT INTO "+meta(o.db, "TABLES")+` VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, NULL, now(), now(), ?)`,
		o.db, o.schema, o.name, owner, kind, tr, nullable(comment)); err != nil {
		return err
	}
	for i, c := range cols {
		t := c.typ
		var charLen, octLen, prec, radix, scale, dtPrec any
		switch t.Kind {
		case sqltype.String:
			charLen, octLen = t.Length, t.Length*4
			if t.Length >= 16777216 {
				octLen = 16777216
			}
		case sqltype.Binary:
			charLen, octLen = t.Length, t.Length
		case sqltype.Decimal:
			prec, radix, scale = t.Precision, 10, t.Scale
		case sqltype.Float:
			prec, radix = 53, 2
		case sqltype.Time, sqltype.Timestamp:
			dtPrec = t.Precision
		}
		isNull := "YES"
		if !c.nullable {
			isNull = "NO"
		}
		dt, tt := dataType(t), typeText(t)
		if c.structured != nil {
			dt, tt = strings.ToUpper(string(c.structured.Kind)), c.structured.sql()
		}
		if _, err := conn.ExecContext(ctx, "INSERT INTO "+meta(o.db, "COLUMNS")+` VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			o.db, o.schema, o.name, c.name, i+1, nullable(c.defText), isNull, dt,
			charLen, octLen, prec, radix, scale, dtPrec, nullable(c.comment), tt); err != nil {
			return err
		}
	}
	return nil
}

func forgetTable(ctx context.Context, conn *sql.Conn, o objectName) error {
	if _, err := conn.ExecContext(ctx, "DELETE FROM "+meta(o.db, "COLUMNS")+` WHERE "TABLE_CATALOG" = ? AND "TABLE_SCHEMA" = ? AND "TABLE_NAME" = ?`, o.db, o.schema, o.name); err != nil {
		return err
	}
	_, err := conn.ExecContext(ctx, "DELETE FROM "+meta(o.db, "TABLES")+` WHERE "TABLE_CATALOG" = ? AND "TABLE_SCHEMA" = ? AND "TABLE_NAME" = ?`, o.db, o.schema, o.name)
	return err
}

// keyDef is a declared PRIMARY KEY or UNIQUE constraint.
type keyDef struct {
	kind string // "PRIMARY KEY" or "UNIQUE"
	name string // "" for a name Snowflake makes up
	cols []string
}

// recordKeys replaces the declared keys of table o.
func recordKeys(ctx context.Context, conn *sql.Conn, o objectName, keys []keyDef) error {
	if err := forgetKeys(ctx, conn, o, ""); err != nil {
		return err
	}
	for _, k := range keys {
		name := k.name
		if name == "" {
			// Snowflake names an unnamed constraint SYS_CONSTRAINT_<uuid>.
			var id string
			if err := conn.QueryRowContext(ctx, "SELECT uuid()::VARCHAR").Scan(&id); err != nil {
				return err
			}
			name = "SYS_CONSTRAINT_" + id
		}
		for i, c := range k.cols {
			if _, err := conn.ExecContext(ctx, "INSERT INTO "+meta(o.db, "KEYS")+` VALUES (?, ?, ?, ?, ?, ?, ?, now())`,
				o.db, o.schema, o.name, c, i+1, name, k.kind); err != nil {
				return err
			}
		}
	}
	return nil
}

// forgetKeys drops the declared keys of table o, or of every table of
// o's schema when o.name is "", or only those naming column col.
func forgetKeys(ctx context.Context, conn *sql.Conn, o objectName, col string) error {
	q := "DELETE FROM " + meta(o.db, "KEYS") + ` WHERE "TABLE_SCHEMA" = ?`
	args := []any{o.schema}
	if o.name != "" {
		q += ` AND "TABLE_NAME" = ?`
		args = append(args, o.name)
	}
	if col != "" {
		// Snowflake drops a constraint with its column.
		q += ` AND "CONSTRAINT_NAME" IN (SELECT "CONSTRAINT_NAME" FROM ` + meta(o.db, "KEYS") + ` WHERE "TABLE_SCHEMA" = ? AND "TABLE_NAME" = ? AND "COLUMN_NAME" = ?)`
		args = append(args, o.schema, o.name, col)
	}
	_, err := conn.ExecContext(ctx, q, args...)
	return err
}

// renameKeys moves the declared keys of table o to table name to, or
// renames column from to column to when from is not "".
func renameKeys(ctx context.Context, conn *sql.Conn, o objectName, from, to string) error {
	if from != "" {
		_, err := conn.ExecContext(ctx, "UPDATE "+meta(o.db, "KEYS")+` SET "COLUMN_NAME" = ? WHERE "TABLE_SCHEMA" = ? AND "TABLE_NAME" = ? AND "COLUMN_NAME" = ?`, to, o.schema, o.name, from)
		return err
	}
	_, err := conn.ExecContext(ctx, "UPDATE "+meta(o.db, "KEYS")+` SET "TABLE_NAME" = ? WHERE "TABLE_SCHEMA" = ? AND "TABLE_NAME" = ?`, to, o.schema, o.name)
	return err
}

// forgetLoads drops a table's load history, as Snowflake does when the
// table is dropped or replaced: a new table of the same name loads any
// file again.
func forgetLoads(ctx context.Context, conn *sql.Conn, o objectName) error {
	_, err := conn.ExecContext(ctx, "DELETE FROM "+meta(o.db, "LOAD_HISTORY")+` WHERE "SCHEMA_NAME" = ? AND "TABLE_NAME" = ?`, o.schema, o.name)
	return err
}

// tableColumns reads a table's declared columns back from the catalog.
func tableColumns(ctx context.Context, conn *sql.Conn, o objectName) ([]columnDef, error) {
	rows, err := conn.QueryContext(ctx, `SELECT "COLUMN_NAME", "TYPE_TEXT", "IS_NULLABLE", "COLUMN_DEFAULT", "COMMENT" FROM `+meta(o.db, "COLUMNS")+`
		WHERE "TABLE_CATALOG" = ? AND "TABLE_SCHEMA" = ? AND "TABLE_NAME" = ? ORDER BY "ORDINAL_POSITION"`, o.db, o.schema, o.name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []columnDef
	for rows.Next() {
		var name, typ, isNull string
		var def, comment sql.NullString
		if err := rows.Scan(&name, &typ, &isNull, &def, &comment); err != nil {
			return nil, err
		}
		t, err := sqltype.ParseSnowflake(typ)
		st := structuredText(typ)
		if err != nil && st == nil {
			return nil, err
		} else if st != nil {
			t = st.stored()
		}
		out = append(out, columnDef{name: name, typ: t, nullable: isNull == "YES", defText: def.String, comment: comment.String, structured: st})
	}
	return out, rows.Err()
}

// snowflakeTypeOf maps a DuckDB column type back to the Snowflake type a
// table created from a query gets.
func snowflakeTypeOf(duck string) sqltype.Type {
	d := strings.ToUpper(duck)
	text := "VARCHAR"
	switch {
	case strings.HasPrefix(d, "DECIMAL"):
		text = "NUMBER" + strings.TrimPrefix(d, "DECIMAL")
	case d == "TINYINT" || d == "SMALLINT" || d == "INTEGER" || d == "BIGINT" || d == "HUGEINT" ||
		d == "UTINYINT" || d == "USMALLINT" || d == "UINTEGER" || d == "UBIGINT":
		text = "NUMBER(38,0)"
	case d == "DOUBLE" || d == "FLOAT":
		text = "FLOAT"
	case d == "BOOLEAN":
		text = "BOOLEAN"
	case d == "DATE":
		text = "DATE"
	case d == "TIME" || d == "TIME_NS":
		text = "TIME(9)"
	case d == "TIMESTAMP" || d == "TIMESTAMP_NS" || d == "TIMESTAMP_MS" || d == "TIMESTAMP_S":
		text = "TIMESTAMP_NTZ(9)"
	case d == "TIMESTAMP WITH TIME ZONE" || d == "TIMESTAMPTZ":
		text = "TIMESTAMP_LTZ(9)"
	case d == tzType:
		text = "TIMESTAMP_TZ(9)"
	case d == "BLOB":
		text = "BINARY"
	case d == "JSON" || strings.HasSuffix(d, "[]") || strings.HasPrefix(d, "STRUCT") || strings.HasPrefix(d, "MAP"):
		text = "VARIANT"
	}
	t, _ := sqltype.ParseSnowflake(text)
	return t
}

// describeTable derives a table's columns from DuckDB, for tables created
// by CREATE TABLE ... AS SELECT.
func describeDuck(ctx context.Context, conn *sql.Conn, o objectName) ([]columnDef, error) {
	rows, err := conn.QueryContext(ctx, `SELECT column_name, data_type, is_nullable FROM information_schema.columns
		WHERE table_catalog = ? AND table_schema = ? AND table_name = ? ORDER BY ordinal_position`, o.db, o.schema, o.name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []columnDef
	for rows.Next() {
		var name, typ, isNull string
		if err := rows.Scan(&name, &typ, &isNull); err != nil {
			return nil, err
		}
		out = append(out, columnDef{name: name, typ: snowflakeTypeOf(typ), nullable: isNull == "YES"})
	}
	return out, rows.Err()
}
