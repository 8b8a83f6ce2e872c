//go:build duckdb_arrow

package snowflaketest

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	sf "github.com/snowflakedb/gosnowflake/v2"
)

// The tests in this file pin behaviour gosnowflake's own test suite
// expects of Snowflake (make driver-suite), each through the real driver.

// openD opens a handle on database D of a fresh server, for one session.
func openD(t *testing.T, s *Server) *sql.DB {
	t.Helper()
	seed(t, s, `CREATE DATABASE IF NOT EXISTS D`)
	cfg := s.Config("sluice", "sluice")
	cfg.Database = "D"
	db := Open(cfg)
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

// A DATE bind is the instant's day: before 1970, with a time of day, the
// driver's epoch milliseconds are negative and must be floored, not
// truncated toward zero (which gave the next day).
func TestDateBindBefore1970(t *testing.T) {
	s := Start(t, Options{})
	db := openD(t, s)
	if _, err := db.Exec(`CREATE TABLE T (D DATE)`); err != nil {
		t.Fatal(err)
	}
	for _, in := range []time.Time{
		time.Date(1960, 1, 2, 6, 2, 26, 0, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 2, 29, 13, 0, 0, 0, time.UTC),
	} {
		if _, err := db.Exec(`DELETE FROM T`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO T VALUES (?)`, sf.DataTypeDate, in); err != nil {
			t.Fatal(err)
		}
		var got string
		if err := db.QueryRow(`SELECT TO_VARCHAR(D) FROM T`).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if want := in.Format(time.DateOnly); got != want {
			t.Errorf("DATE bind of %v stored %s, want %s", in, got, want)
		}
	}
}

// Snowflake reads text cast to BINARY in BINARY_INPUT_FORMAT, HEX by
// default.
func TestBinaryCastReadsHex(t *testing.T) {
	s := Start(t, Options{})
	db := openD(t, s)
	var b []byte
	if err := db.QueryRow(`SELECT 'abcd'::BINARY`).Scan(&b); err != nil {
		t.Fatal(err)
	}
	if string(b) != "\xab\xcd" {
		t.Errorf("'abcd'::BINARY = %x, want abcd", b)
	}
	if _, err := db.Exec(`CREATE TABLE T (S VARCHAR, B BINARY)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO T SELECT 'CAFE', 'CAFE'::BINARY`); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT S::BINARY FROM T`).Scan(&b); err != nil {
		t.Fatal(err)
	}
	if string(b) != "\xca\xfe" {
		t.Errorf("S::BINARY = %x, want cafe", b)
	}
	if err := db.QueryRow(`SELECT B::BINARY FROM T`).Scan(&b); err != nil {
		t.Fatal(err)
	}
	if string(b) != "\xca\xfe" {
		t.Errorf("B::BINARY = %x, want cafe", b)
	}
	if _, err := db.Exec(`SELECT 'xyz'::BINARY`); err == nil {
		t.Error("'xyz'::BINARY succeeded; Snowflake refuses text that is not hex")
	}
}

// A query request sent again with the same request id, in the same
// session, returns the first execution's result: a retried INSERT is
// applied once. Another session's request with that id runs anew.
func TestRequestIDRunsOnce(t *testing.T) {
	s := Start(t, Options{})
	db := openD(t, s)
	ctx := context.Background()
	if _, err := db.Exec(`CREATE TABLE T (I INT)`); err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	id := sf.NewUUID()
	for range 2 {
		res, err := conn.ExecContext(sf.WithRequestID(ctx, id), `INSERT INTO T VALUES (1)`)
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			t.Errorf("rows affected = %d, want 1", n)
		}
	}
	count := func() int {
		var n int
		if err := conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM T`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 1 {
		t.Errorf("after the same request twice: %d rows, want 1", n)
	}
	sel := sf.NewUUID()
	var first int
	if err := conn.QueryRowContext(sf.WithRequestID(ctx, sel), `SELECT COUNT(*) FROM T`).Scan(&first); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO T VALUES (2)`); err != nil {
		t.Fatal(err)
	}
	var again int
	if err := conn.QueryRowContext(sf.WithRequestID(ctx, sel), `SELECT COUNT(*) FROM T`).Scan(&again); err != nil {
		t.Fatal(err)
	}
	if again != first {
		t.Errorf("a repeated SELECT request returned %d, want the first result %d", again, first)
	}
	// Another session runs its own request, even with the same id.
	db2 := Open(s.Config("sluice", "sluice"))
	defer db2.Close()
	if _, err := db2.ExecContext(sf.WithRequestID(ctx, id), `INSERT INTO D.PUBLIC.T VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 3 {
		t.Errorf("after another session's request: %d rows, want 3", n)
	}
}

// ALTER SESSION SET GO_QUERY_RESULT_FORMAT = JSON, unquoted as the
// driver's tests send it, switches the session to JSON results.
func TestResultFormatParameterIgnoresCase(t *testing.T) {
	s := Start(t, Options{})
	db := openD(t, s)
	for _, stmt := range []string{`ALTER SESSION SET GO_QUERY_RESULT_FORMAT = JSON`, `ALTER SESSION SET GO_QUERY_RESULT_FORMAT = 'json'`} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRow(`SELECT 1`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		h := s.QueryHistory()
		if res := s.lookup(h[len(h)-1].QueryID); res == nil || res.format != "json" {
			t.Errorf("after %s: the result is not JSON", stmt)
		}
		if _, err := db.Exec(`ALTER SESSION UNSET GO_QUERY_RESULT_FORMAT`); err != nil {
			t.Fatal(err)
		}
	}
}

// A login answers with the session's parameters, which the driver takes
// over: CLIENT_SESSION_KEEP_ALIVE asked for at login is true in the
// answer (the driver starts its heartbeat from it), and TIMEZONE is the
// session's.
func TestLoginAnswersSessionParameters(t *testing.T) {
	s := Start(t, Options{})
	body := `{"data": {"ACCOUNT_NAME": "SNOWSIM", "LOGIN_NAME": "sluice", "PASSWORD": "sluice",
		"SESSION_PARAMETERS": {"CLIENT_SESSION_KEEP_ALIVE": true, "TIMEZONE": "Europe/Berlin"}}}`
	resp, err := http.Post(s.URL+"/session/v1/login-request", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var answer struct {
		Success bool
		Data    struct {
			Parameters []struct {
				Name  string
				Value any
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil || !answer.Success {
		t.Fatalf("login: %v, success %v", err, answer.Success)
	}
	got := map[string]any{}
	for _, p := range answer.Data.Parameters {
		got[p.Name] = p.Value
	}
	if got["CLIENT_SESSION_KEEP_ALIVE"] != true {
		t.Errorf("CLIENT_SESSION_KEEP_ALIVE = %v, want true", got["CLIENT_SESSION_KEEP_ALIVE"])
	}
	if got["TIMEZONE"] != "Europe/Berlin" {
		t.Errorf("TIMEZONE = %v, want Europe/Berlin", got["TIMEZONE"])
	}
}

// A login naming a database or schema that does not exist fails with
// 390201, unless the client turns CLIENT_VALIDATE_DEFAULT_PARAMETERS off.
func TestLoginMissingDatabaseOrSchema(t *testing.T) {
	s := Start(t, Options{})
	seed(t, s, `CREATE DATABASE D`)
	for _, tc := range []struct{ db, schema string }{{"NOPE", ""}, {"NOPE", "NOPE"}, {"D", "NOPE"}} {
		cfg := s.Config("sluice", "sluice")
		cfg.Database, cfg.Schema = tc.db, tc.schema
		db := Open(cfg)
		err := db.Ping()
		db.Close()
		if se := snowflakeErr(t, err); se.Number != 390201 {
			t.Errorf("login to %s.%s: %d, want 390201", tc.db, tc.schema, se.Number)
		}
	}
	cfg := s.Config("sluice", "sluice")
	cfg.Database, cfg.ValidateDefaultParameters = "NOPE", sf.ConfigBoolFalse
	db := Open(cfg)
	defer db.Close()
	if err := db.Ping(); err != nil {
		t.Errorf("login to a missing database without validation: %v", err)
	}
}

// Constants are reported as Snowflake does: not nullable, a number
// literal as NUMBER(digits, decimals), a text literal as VARCHAR(length);
// a column keeps its own.
func TestConstantColumnTypes(t *testing.T) {
	s := Start(t, Options{})
	db := openD(t, s)
	if _, err := db.Exec(`CREATE TABLE T (N NUMBER(38,0), S VARCHAR)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO T VALUES (1, 'x')`); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(`SELECT 1, 12.50 AS D, 't3' AS C3, 1.0::NUMBER(30,2) AS C1, TRUE AS B, N, S, NULL AS Z FROM T`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cts, err := rows.ColumnTypes()
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		nullable  bool
		prec, sc  int64
		length    int64
		typeName  string
		checkPrec bool
		checkLen  bool
	}
	for i, w := range []want{
		{false, 1, 0, 0, "FIXED", true, false},
		{false, 4, 2, 0, "FIXED", true, false},
		{false, 0, 0, 2, "TEXT", false, true},
		{false, 30, 2, 0, "FIXED", true, false},
		{false, 0, 0, 0, "BOOLEAN", false, false},
		{true, 38, 0, 0, "FIXED", true, false},
		{true, 0, 0, 16777216, "TEXT", false, true},
		{true, 0, 0, 0, "", false, false},
	} {
		ct := cts[i]
		if n, _ := ct.Nullable(); n != w.nullable {
			t.Errorf("%s: nullable %v, want %v", ct.Name(), n, w.nullable)
		}
		if w.typeName != "" && ct.DatabaseTypeName() != w.typeName {
			t.Errorf("%s: type %s, want %s", ct.Name(), ct.DatabaseTypeName(), w.typeName)
		}
		if p, sc, _ := ct.DecimalSize(); w.checkPrec && (p != w.prec || sc != w.sc) {
			t.Errorf("%s: NUMBER(%d,%d), want NUMBER(%d,%d)", ct.Name(), p, sc, w.prec, w.sc)
		}
		if l, _ := ct.Length(); w.checkLen && l != w.length {
			t.Errorf("%s: length %d, want %d", ct.Name(), l, w.length)
		}
	}
}

// VARIANT, OBJECT and ARRAY values read as Snowflake shows them: JSON
// indented by two spaces. OBJECT_CONSTRUCT is an OBJECT and
// ARRAY_CONSTRUCT an ARRAY, in both result formats.
func TestSemiStructuredText(t *testing.T) {
	for _, format := range []string{"arrow", "json"} {
		t.Run(format, func(t *testing.T) {
			s := Start(t, Options{ResultFormat: format})
			db := openD(t, s)
			rows, err := db.Query(`SELECT PARSE_JSON('{"a": [1, {"b": "x  y"}], "c": {}}') AS V, OBJECT_CONSTRUCT('k', 1) AS O,
				ARRAY_CONSTRUCT(1, 2) AS A, ARRAY_CONSTRUCT() AS E, PARSE_JSON('"s"') AS S, PARSE_JSON('[1]')::ARRAY AS C`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			cts, _ := rows.ColumnTypes()
			var got []string
			for _, ct := range cts {
				got = append(got, ct.DatabaseTypeName())
			}
			if want := "VARIANT OBJECT ARRAY ARRAY VARIANT ARRAY"; strings.Join(got, " ") != want {
				t.Errorf("types %s, want %s", strings.Join(got, " "), want)
			}
			vals := make([]string, len(cts))
			ptrs := make([]any, len(vals))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if !rows.Next() {
				t.Fatal("no row")
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, want := range []string{
				"{\n  \"a\": [\n    1,\n    {\n      \"b\": \"x  y\"\n    }\n  ],\n  \"c\": {}\n}",
				"{\n  \"k\": 1\n}",
				"[\n  1,\n  2\n]",
				"[]",
				`"s"`,
				"[\n  1\n]",
			} {
				if vals[i] != want {
					t.Errorf("%s = %q, want %q", cts[i].Name(), vals[i], want)
				}
			}
		})
	}
}

// An account that declares its warehouses and roles refuses a login
// naming another: 390201 for a warehouse (unless the client turns
// validation off), 390189 for a role.
func TestLoginMissingWarehouseOrRole(t *testing.T) {
	s := Start(t, Options{Warehouses: []string{"WH"}, Roles: []string{"ANALYST"}})
	login := func(wh, role string, validate bool) error {
		cfg := s.Config("sluice", "sluice")
		cfg.Warehouse, cfg.Role = wh, role
		if !validate {
			cfg.ValidateDefaultParameters = sf.ConfigBoolFalse
		}
		db := Open(cfg)
		defer db.Close()
		return db.Ping()
	}
	if err := login("wh", "analyst", true); err != nil {
		t.Errorf("login with a declared warehouse and role: %v", err)
	}
	if se := snowflakeErr(t, login("NOPE", "", true)); se.Number != 390201 {
		t.Errorf("missing warehouse: %d, want 390201", se.Number)
	}
	if err := login("NOPE", "", false); err != nil {
		t.Errorf("missing warehouse without validation: %v", err)
	}
	if se := snowflakeErr(t, login("", "NOPE", true)); se.Number != 390189 {
		t.Errorf("missing role: %d, want 390189", se.Number)
	}
}

// RANDSTR(n, gen) is a random string of n characters, as the driver's
// tests generate rows with it.
func TestRandstr(t *testing.T) {
	s := Start(t, Options{})
	db := openD(t, s)
	var n, distinct int
	err := db.QueryRow(`SELECT MIN(LENGTH(R)), COUNT(DISTINCT R) FROM (SELECT SEQ8() AS I, RANDSTR(1000, RANDOM()) AS R FROM TABLE(GENERATOR(ROWCOUNT => 100)))`).Scan(&n, &distinct)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1000 || distinct != 100 {
		t.Errorf("RANDSTR(1000, ...) over 100 rows: shortest %d, %d distinct; want 1000 and 100", n, distinct)
	}
}

// Statements and functions the driver's tests use: FROM DUAL,
// CURRENT_TIME(), AS_ARRAY, SHOW PARAMETERS, SYSTEM$WAIT (canceled with
// its query).
func TestDriverSuiteStatements(t *testing.T) {
	s := Start(t, Options{})
	cfg := s.Config("sluice", "sluice")
	tz := "America/Los_Angeles"
	cfg.Params["TIMEZONE"] = &tz
	cfg.Params["CLIENT_SESSION_KEEP_ALIVE"] = ptr("true")
	db := Open(cfg)
	defer db.Close()
	db.SetMaxOpenConns(1)
	var n int
	if err := db.QueryRow(`SELECT 1 FROM DUAL`).Scan(&n); err != nil || n != 1 {
		t.Errorf("SELECT 1 FROM DUAL: %d, %v", n, err)
	}
	var tm time.Time
	if err := db.QueryRow(`SELECT CURRENT_TIME()`).Scan(&tm); err != nil {
		t.Errorf("CURRENT_TIME(): %v", err)
	}
	var arr sql.NullString
	if err := db.QueryRow(`SELECT AS_ARRAY(PARSE_JSON('[1]')), AS_ARRAY(PARSE_JSON('{}'))`).Scan(&arr, new(sql.NullString)); err != nil || arr.String != "[\n  1\n]" {
		t.Errorf("AS_ARRAY: %q, %v", arr.String, err)
	}
	for key, want := range map[string]string{"TIMEZONE": tz, "CLIENT_SESSION_KEEP_ALIVE": "true", "QUERY_TAG": ""} {
		var k, v, def, level, desc, typ string
		if err := db.QueryRow(`SHOW PARAMETERS LIKE '`+strings.ToLower(key)+`'`).Scan(&k, &v, &def, &level, &desc, &typ); err != nil {
			t.Errorf("SHOW PARAMETERS LIKE %s: %v", key, err)
			continue
		}
		if k != key || v != want {
			t.Errorf("SHOW PARAMETERS LIKE %s: %s = %q, want %q", key, k, v, want)
		}
	}
	var waited string
	if err := db.QueryRow(`SELECT SYSTEM$WAIT(10, 'MILLISECONDS')`).Scan(&waited); err != nil || waited != "waited 0.01 seconds" {
		t.Errorf("SYSTEM$WAIT: %q, %v", waited, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := db.ExecContext(ctx, `CALL SYSTEM$WAIT(60, 'SECONDS')`); err == nil {
		t.Error("CALL SYSTEM$WAIT(60) under a 300 ms context succeeded")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("a canceled SYSTEM$WAIT took %v", d)
	}
}
