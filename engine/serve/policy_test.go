package serve

import (
	"errors"
	"fmt"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2"
	sf "github.com/snowflakedb/gosnowflake/v2"
)

// TestDecide: a refused login, from either database and however
// wrapped, pauses the pipeline; anything else is retried.
func TestDecide(t *testing.T) {
	for _, c := range []struct {
		err  error
		want Outcome
	}{
		{nil, OutcomeOK},
		{fmt.Errorf("connecting to sf: %w", &sf.SnowflakeError{Number: 390100, Message: "Incorrect username or password was specified."}), OutcomePaused},
		{fmt.Errorf("stream s: %w", &clickhouse.Exception{Code: 516, Message: "Authentication failed"}), OutcomePaused},
		{&sf.SnowflakeError{Number: 2003, Message: "does not exist"}, OutcomeFailed},
		{errors.New("connection reset by peer"), OutcomeFailed},
	} {
		got, why := Decide(c.err)
		if got != c.want || (got == OutcomePaused) != (why != "") {
			t.Errorf("Decide(%v) = %s %q, want %s", c.err, got, why, c.want)
		}
	}
}
