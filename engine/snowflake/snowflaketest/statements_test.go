//go:build duckdb_arrow

package snowflaketest

import (
	"errors"
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
