//go:build duckdb_arrow

package snowflaketest

import (
	"testing"
	"time"
)

// In a session whose TIMEZONE is not UTC, an explicit cast between
// TIMESTAMP_LTZ and the naive types reads or renders the wall clock in
// that zone, at every declared precision, as Snowflake does.
func TestZoneCastsInSessionZone(t *testing.T) {
	s := Start(t, Options{})
	seed(t, s, `CREATE DATABASE IF NOT EXISTS D`)
	cfg := s.Config("sluice", "sluice")
	cfg.Database = "D"
	la := "America/Los_Angeles"
	cfg.Params["TIMEZONE"] = &la
	db := Open(cfg)
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, q := range []string{
		"CREATE TABLE T (N TIMESTAMP_NTZ(3), L TIMESTAMP_LTZ(3), D DATE)",
		"INSERT INTO T SELECT '2024-01-02 03:04:05'::TIMESTAMP_NTZ(3), '2024-01-02 03:04:05 +00:00'::TIMESTAMP_LTZ(3), '2024-01-02'::DATE",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(q, err)
		}
	}
	for _, c := range []struct{ q, want string }{
		{"SELECT '2024-01-02 03:04:05'::TIMESTAMP_NTZ::TIMESTAMP_LTZ", "2024-01-02T11:04:05Z"},
		{"SELECT CAST(CAST('2024-01-02 03:04:05' AS TIMESTAMP_NTZ(3)) AS TIMESTAMP_LTZ(3))", "2024-01-02T11:04:05Z"},
		{"SELECT '2024-01-02 03:04:05'::TIMESTAMP_LTZ", "2024-01-02T11:04:05Z"},
		{"SELECT '2024-01-02'::DATE::TIMESTAMP_LTZ", "2024-01-02T08:00:00Z"},
		{"SELECT N::TIMESTAMP_LTZ FROM T", "2024-01-02T11:04:05Z"},
		{"SELECT TO_TIMESTAMP_LTZ(N) FROM T", "2024-01-02T11:04:05Z"},
		{"SELECT D::TIMESTAMP_LTZ FROM T", "2024-01-02T08:00:00Z"},
		{"SELECT L::TIMESTAMP_NTZ::VARCHAR FROM T", "2024-01-01 19:04:05"},
		{"SELECT TO_TIMESTAMP_NTZ(L)::VARCHAR FROM T", "2024-01-01 19:04:05"},
		{"SELECT CAST(L AS DATE)::VARCHAR FROM T", "2024-01-01"},
		{"SELECT L::TIME::VARCHAR FROM T", "19:04:05"},
		{"SELECT L::VARCHAR FROM T", "2024-01-01 19:04:05-08"},
	} {
		var v string
		var ltz any
		err := db.QueryRow(c.q).Scan(&ltz)
		switch x := ltz.(type) {
		case time.Time: // an LTZ: its instant
			v = x.UTC().Format(time.RFC3339)
		case string:
			v = x
		}
		if err != nil {
			t.Errorf("%s: %v", c.q, err)
		} else if v != c.want {
			t.Errorf("%s = %q, want %q", c.q, v, c.want)
		}
	}
}
