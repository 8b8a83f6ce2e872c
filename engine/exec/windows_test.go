package exec

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hockeystack/sluice/engine/config"
	"github.com/hockeystack/sluice/engine/state"
)

func render(slots []Slot) string {
	var out []string
	for _, s := range slots {
		mark := ""
		if !s.Complete {
			mark = "*"
		}
		out = append(out, fmt.Sprintf("%s..%s%s", s.Start.Format("01-02T15"), s.End.Format("01-02T15"), mark))
	}
	return strings.Join(out, " ")
}

func TestWindows(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	inc := &config.Incremental{Start: time.Date(2024, 3, 8, 0, 0, 0, 0, ny), Window: config.Span{N: 1, Unit: config.Day}, Lookback: config.Span{N: 2, Unit: config.Hour}}
	now := time.Date(2024, 3, 11, 15, 0, 0, 0, ny)
	// A fresh stream: every day up to now, the last one cut at now. Days
	// are calendar days in the pipeline's zone, across the DST change.
	got := render(Windows(inc, ny, now, nil, time.Time{}, time.Time{}, false))
	if want := "03-08T00..03-09T00 03-09T00..03-10T00 03-10T00..03-11T00 03-11T00..03-11T15*"; got != want {
		t.Errorf("fresh:\n got %s\nwant %s", got, want)
	}
	committed := func(day int, complete bool) state.Entry {
		s := time.Date(2024, 3, day, 0, 0, 0, 0, ny)
		e := s.AddDate(0, 0, 1)
		if !complete {
			e = now
		}
		return state.Entry{Start: s, End: e, Complete: complete, State: state.Committed}
	}
	ledger := []state.Entry{committed(8, true), committed(9, true), committed(10, true), committed(11, false)}
	// The next run, a day later: the partial window runs again (now in
	// full), then the new day up to now. The newest commit ends 03-11T15,
	// so the 2h lookback reaches back to 13:00: no complete window ends
	// after that, and none reruns.
	later := now.Add(24 * time.Hour)
	got = render(Windows(inc, ny, later, ledger, time.Time{}, time.Time{}, false))
	if want := "03-11T00..03-12T00 03-12T00..03-12T15*"; got != want {
		t.Errorf("incremental:\n got %s\nwant %s", got, want)
	}
	// A forced backfill of a range runs its windows again.
	got = render(Windows(inc, ny, later, ledger, time.Date(2024, 3, 9, 12, 0, 0, 0, ny), time.Date(2024, 3, 10, 1, 0, 0, 0, ny), true))
	if want := "03-09T00..03-10T00 03-10T00..03-11T00"; got != want {
		t.Errorf("backfill:\n got %s\nwant %s", got, want)
	}
}
