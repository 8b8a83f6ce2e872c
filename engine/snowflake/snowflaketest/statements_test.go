//go:build duckdb_arrow

package snowflaketest

import (
	"context"
	"errors"
	"strings"
	"testing"

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
