package config

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPlaceholders(t *testing.T) {
	src := `-- :not_a_placeholder in a comment
SELECT v:a.b::string AS X, 'text :nor_in_a_string', "col:x",
       /* :nor_here */ TO_DATE(:window_start)
FROM t WHERE ts >= :window_start AND ts<:window_end AND y = $$ :dollar $$`
	var got []string
	for _, tok := range scanSQL(src) {
		if tok.kind == tokPlaceholder {
			got = append(got, tok.text+"@"+itoa(tok.line)+":"+itoa(tok.col))
		}
	}
	want := []string{"window_start@3:32", "window_start@4:20", "window_end@4:41"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("placeholders (-want +got):\n%s", diff)
	}
}

func itoa(n int) string {
	s := ""
	for n >= 10 {
		s = string(rune('0'+n%10)) + s
		n /= 10
	}
	return string(rune('0'+n)) + s
}

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
		got, complete := resultColumns(scanSQL(tc.sql), tc.upper)
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

func TestBindPlaceholders(t *testing.T) {
	src := "SELECT v:a::int, ':window_start' FROM t -- :window_end\nWHERE x >= :window_start AND x<:window_end"
	got := BindPlaceholders(src, func(name string) string { return "@" + name })
	want := "SELECT v:a::int, ':window_start' FROM t -- :window_end\nWHERE x >= @window_start AND x<@window_end"
	if got != want {
		t.Errorf("BindPlaceholders:\n got %q\nwant %q", got, want)
	}
}
