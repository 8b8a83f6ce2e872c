//go:build duckdb_arrow

package snowflaketest

import (
	"context"
	"database/sql/driver"
	"errors"
	"strings"
	"testing"
	"time"

	sf "github.com/snowflakedb/gosnowflake/v2"
)

// A request of only comments is Snowflake's empty statement, 000900.
func TestEmptyStatement(t *testing.T) {
	s := Start(t, Options{})
	db := openD(t, s)
	for _, q := range []string{"--", "/* nothing */", "-- one\n-- two"} {
		_, err := db.Exec(q)
		var sfErr *sf.SnowflakeError
		if !errors.As(err, &sfErr) || sfErr.Number != 900 {
			t.Errorf("%q: %v, want 000900", q, err)
		}
	}
}

// QUERY_HISTORY_BY_SESSION lists the session's statements, most recent
// (the running query itself) first, with their query tags.
func TestQueryHistoryBySession(t *testing.T) {
	s := Start(t, Options{})
	db := openD(t, s)
	if _, err := db.Exec("SELECT 1"); err != nil {
		t.Fatal(err)
	}
	ctx := sf.WithQueryTag(context.Background(), "TAGGED")
	rows, err := db.QueryContext(ctx, "SELECT QUERY_TAG, QUERY_TEXT, EXECUTION_STATUS FROM TABLE(INFORMATION_SCHEMA.QUERY_HISTORY_BY_SESSION())")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var tag, text, status string
		if err := rows.Scan(&tag, &text, &status); err != nil {
			t.Fatal(err)
		}
		got = append(got, tag+"|"+text+"|"+status)
	}
	if len(got) < 2 || got[0] != "TAGGED|SELECT QUERY_TAG, QUERY_TEXT, EXECUTION_STATUS FROM TABLE(INFORMATION_SCHEMA.QUERY_HISTORY_BY_SESSION())|RUNNING" || got[1] != "|SELECT 1|SUCCESS" {
		t.Errorf("history:\n%s", strings.Join(got, "\n"))
	}
}

// INFORMATION_SCHEMA lists its own views and their columns.
func TestInformationSchemaListsItself(t *testing.T) {
	s := Start(t, Options{})
	db := openD(t, s)
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'TABLES'", "INFORMATION_SCHEMA").Scan(&n); err != nil || n != 12 {
		t.Errorf("columns of INFORMATION_SCHEMA.TABLES: %d, %v; want 12", n, err)
	}
	var typ string
	if err := db.QueryRow("SELECT TABLE_TYPE FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = 'INFORMATION_SCHEMA' AND TABLE_NAME = 'COLUMNS'").Scan(&typ); err != nil || typ != "VIEW" {
		t.Errorf("INFORMATION_SCHEMA.COLUMNS in TABLES: %q, %v; want VIEW", typ, err)
	}
}

// The result of an asynchronous query still running is answered with
// 333334, which the driver asks again on (333333 ended its wait with no
// rows).
func TestAsyncResultByIDWhileRunning(t *testing.T) {
	defer func(d time.Duration) { resultWait = d }(resultWait)
	resultWait = 200 * time.Millisecond
	s := Start(t, Options{})
	db := openD(t, s)
	ids := make(chan string, 1)
	ctx := sf.WithQueryIDChan(sf.WithAsyncMode(context.Background()), ids)
	go db.ExecContext(ctx, "CALL SYSTEM$WAIT(1, 'SECONDS')")
	id := <-ids
	rows, err := db.QueryContext(sf.WithFetchResultByID(ctx, id), "")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var v string
	if !rows.Next() {
		t.Fatalf("no row: %v", rows.Err())
	}
	if err := rows.Scan(&v); err != nil || v != "waited 1 seconds" {
		t.Errorf("result by id: %q, %v", v, err)
	}
}

// SQL functions: a scalar one casts its expression to the declared type,
// a table one is called as TABLE(f(...)) with its declared columns; other
// languages are refused.
func TestSQLFunctions(t *testing.T) {
	s := Start(t, Options{})
	seed(t, s, `CREATE DATABASE IF NOT EXISTS D`)
	cfg := s.Config("sluice", "sluice")
	cfg.Database, cfg.Schema = "D", "PUBLIC"
	db := Open(cfg)
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, q := range []string{
		`CREATE OR REPLACE FUNCTION ADD_ONE(X NUMBER) RETURNS NUMBER LANGUAGE SQL AS 'x + 1'`,
		`CREATE OR REPLACE FUNCTION PAIRS("p" text) RETURNS TABLE("r1" text, "r2" number) LANGUAGE SQL AS $$ select p, 2 $$`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var n int
	if err := db.QueryRow("SELECT ADD_ONE(41)").Scan(&n); err != nil || n != 42 {
		t.Errorf("ADD_ONE(41) = %d, %v", n, err)
	}
	var r1 string
	var r2 int
	if err := db.QueryRow("SELECT * FROM TABLE(PAIRS(?))", "x").Scan(&r1, &r2); err != nil || r1 != "x" || r2 != 2 {
		t.Errorf("TABLE(PAIRS('x')) = %q, %d, %v", r1, r2, err)
	}
	var null *string
	if err := db.QueryRow("SELECT r1 FROM TABLE(PAIRS(?))", nil).Scan(&null); err != nil || null != nil {
		t.Errorf("TABLE(PAIRS(NULL)) = %v, %v", null, err)
	}
	var sfErr *sf.SnowflakeError
	if _, err := db.Exec(`CREATE FUNCTION JS(I DOUBLE) RETURNS DOUBLE LANGUAGE JAVASCRIPT AS 'return I'`); !errors.As(err, &sfErr) {
		t.Errorf("a JavaScript function: %v, want an error", err)
	}
}

// SHOW answers in JSON even in a session whose results are Arrow, as in
// Snowflake; a query stays Arrow.
func TestShowAnswersJSON(t *testing.T) {
	s := Start(t, Options{})
	db := openD(t, s)
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	format := func(q string) string {
		var f string
		err := conn.Raw(func(x any) error {
			loader, err := x.(interface {
				QueryArrowStream(context.Context, string, ...driver.NamedValue) (sf.ArrowStreamLoader, error)
			}).QueryArrowStream(context.Background(), q)
			if err != nil {
				return err
			}
			f = loader.(sf.QueryResultFormatProvider).QueryResultFormat()
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return f
	}
	if f := format("SHOW PARAMETERS"); f != "json" {
		t.Errorf("SHOW PARAMETERS answered in %q, want json", f)
	}
	if f := format("SELECT 1"); f != "arrow" {
		t.Errorf("SELECT 1 answered in %q, want arrow", f)
	}
}
