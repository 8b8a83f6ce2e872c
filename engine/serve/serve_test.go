package serve

import (
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/hockeystack/sluice/engine/config"
)

// TestDue: with a controlled clock, a stream that never ran is due, one
// that ran after the last tick is not, and one that missed any number of
// ticks is due once.
func TestDue(t *testing.T) {
	s, _ := config.ParseSchedule("0 3 * * *", "UTC")
	at := func(v string) time.Time { t, _ := time.Parse(time.RFC3339, v); return t }
	now := at("2024-05-10T12:00:00Z")
	for _, tc := range []struct {
		last string
		want bool
	}{
		{"", true},
		{"2024-05-10T03:00:05Z", false}, // ran at today's tick
		{"2024-05-09T03:00:00Z", true},  // missed today's
		{"2024-04-01T03:00:00Z", true},  // missed forty: due, once
	} {
		var last time.Time
		if tc.last != "" {
			last = at(tc.last)
		}
		if got := Due(s, last, now); got != tc.want {
			t.Errorf("Due(last %s) = %v, want %v", tc.last, got, tc.want)
		}
	}
}

func TestMetricsText(t *testing.T) {
	m := NewMetrics()
	m.Describe("sluice_rows_total", "counter", "Rows written.")
	m.Add("sluice_rows_total", 5, "pipeline", "acme", "stream", "a")
	m.Add("sluice_rows_total", 2, "pipeline", "acme", "stream", "a")
	m.Set("sluice_lag_seconds", 1.5, "pipeline", `we"ird`)
	var b strings.Builder
	m.Write(&b)
	got := b.String()
	for _, w := range []string{"# HELP sluice_rows_total Rows written.\n# TYPE sluice_rows_total counter\n", `sluice_rows_total{pipeline="acme",stream="a"} 7`, `sluice_lag_seconds{pipeline="we\"ird"} 1.5`} {
		if !strings.Contains(got, w) {
			t.Errorf("metrics lack %q:\n%s", w, got)
		}
	}
}

// TestBackoff: with a controlled clock, retries wait 30 s, 1 min, 2 min,
// ... and never more than the cap.
func TestBackoff(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	b := Backoff{Base: 30 * time.Second, Max: 10 * time.Minute, Now: func() time.Time { return now }}
	for attempt, want := range map[int]time.Duration{1: 30 * time.Second, 2: time.Minute, 3: 2 * time.Minute, 5: 8 * time.Minute, 6: 10 * time.Minute, 40: 10 * time.Minute} {
		if got := b.NextRetry(&rivertype.JobRow{Attempt: attempt}); !got.Equal(now.Add(want)) {
			t.Errorf("attempt %d: retry at %s, want %s later", attempt, got, want)
		}
	}
}
