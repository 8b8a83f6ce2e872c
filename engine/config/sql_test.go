package config

import (
	"github.com/hockeystack/sluice/engine/sqlscan"

	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestResultColumns(t *testing.T) {
	for _, tc := range []struct {
		sql      string
		upper    bool
		want     []string
		complete bool
	}{
		{"SELECT a, b.c, d AS e, \"Mixed\" FROM t", true, []string{"A", "C", "E", "Mixed"}, true},
		{"select a, b from t", false, []string{"a", "b"}, true},
		{"WITH x AS (SELECT q FROM t) SELECT DISTINCT x.q, COUNT(*) n FROM x", true, []string{"Q", "N"}, true},
		{"SELECT CASE WHEN a THEN 1 ELSE 2 END AS k, CASE WHEN a THEN 1 END FROM t", true, []string{"K"}, false},
		{"SELECT v:plan::string AS PLAN, SUM(x) total FROM t GROUP BY 1", true, []string{"PLAN", "TOTAL"}, true},
		{"SELECT * FROM t", true, nil, false},
		{"SELECT t.* FROM t", true, nil, false},
		{"SELECT a + 1 FROM t", true, nil, false},
		{"SELECT a FROM (SELECT a, b FROM t) WHERE a > 1 QUALIFY ROW_NUMBER() OVER (ORDER BY a) = 1", true, []string{"A"}, true},
	} {
		got, complete := resultColumns(sqlscan.Scan(tc.sql), tc.upper)
		if diff := cmp.Diff(tc.want, got); diff != "" || complete != tc.complete {
			t.Errorf("resultColumns(%q) = %v, %v; want %v, %v", tc.sql, got, complete, tc.want, tc.complete)
		}
	}
}

func TestParseSpan(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		err  bool
	}{
		{"7d", "7d", false}, {"1mo", "1mo", false}, {"30m", "30m", false}, {"2h", "2h", false},
		{"1w", "1w", false}, {"0", "0", false}, {"7x", "", true}, {"d", "", true}, {"1.5d", "", true},
	} {
		s, err := ParseSpan(tc.in)
		if (err != nil) != tc.err || err == nil && s.String() != tc.want {
			t.Errorf("ParseSpan(%q) = %v, %v", tc.in, s, err)
		}
	}
}
