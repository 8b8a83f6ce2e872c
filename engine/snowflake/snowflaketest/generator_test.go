//go:build duckdb_arrow

package snowflaketest

import (
	"testing"
	"time"
)

// GENERATOR(TIMELIMIT => n) generates rows for n seconds: the query
// takes that long (the driver's TestMultipleAsyncQueries orders two
// async queries by it); ROWCOUNT still gives that many rows.
func TestGeneratorTimeLimit(t *testing.T) {
	s := Start(t, Options{})
	db := openD(t, s)
	start := time.Now()
	var v string
	if err := db.QueryRow("SELECT DISTINCT 'foo' FROM TABLE(GENERATOR(TIMELIMIT => 1))").Scan(&v); err != nil || v != "foo" {
		t.Fatalf("GENERATOR(TIMELIMIT => 1): %q, %v", v, err)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("GENERATOR(TIMELIMIT => 1) returned after %v, want at least 1s", d)
	}
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM TABLE(GENERATOR(ROWCOUNT => 7))").Scan(&n); err != nil || n != 7 {
		t.Errorf("GENERATOR(ROWCOUNT => 7): %d rows, %v", n, err)
	}
}
