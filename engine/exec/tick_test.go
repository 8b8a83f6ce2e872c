package exec

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/hockeystack/sluice/engine"
	"github.com/hockeystack/sluice/engine/config"
	"github.com/hockeystack/sluice/engine/plan"
	"github.com/hockeystack/sluice/engine/sqltype"
	"github.com/hockeystack/sluice/engine/state"
	"github.com/hockeystack/sluice/engine/transform"
)

// memSource answers every read with one row and counts the reads by the
// window they bind.
type memSource struct {
	mu    sync.Mutex
	reads []string
}

func (m *memSource) Read(ctx context.Context, r engine.Read) (array.RecordReader, error) {
	m.mu.Lock()
	m.reads = append(m.reads, label(r.Params[config.WindowStart].(time.Time), r.Params[config.WindowEnd].(time.Time)))
	m.mu.Unlock()
	schema := arrow.NewSchema([]arrow.Field{{Name: "N", Type: arrow.PrimitiveTypes.Int64}}, nil)
	b := array.NewInt64Builder(memory.DefaultAllocator)
	b.Append(1)
	rec := array.NewRecordBatch(schema, []arrow.Array{b.NewArray()}, 1)
	return array.NewRecordReader(schema, []arrow.RecordBatch{rec})
}

func (m *memSource) take() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.reads
	m.reads = nil
	return out
}

// memSink drains what it is given.
type memSink struct{}

func (memSink) Prepare(context.Context) error { return nil }
func (memSink) WriteWindow(ctx context.Context, w engine.Window, rr array.RecordReader) (engine.Written, error) {
	var n int64
	for rr.Next() {
		n += rr.RecordBatch().NumRows()
	}
	return engine.Written{Rows: n}, rr.Err()
}

func label(s, e time.Time) string {
	return s.UTC().Format("01-02T15:04") + ".." + e.UTC().Format("01-02T15:04")
}

// TestTicks runs a stream the way serve does, with a controlled clock:
// each tick cuts at its time, and jobs of at most perJob windows go on
// until the tick has nothing left. A stream behind by any number of
// windows reaches the cut in as many reads as it has windows due, and the
// lookback re-reads its windows once per tick, not once per job.
func TestTicks(t *testing.T) {
	day := config.Span{N: 1, Unit: config.Day}
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	at := func(days int, clock string) time.Time {
		c, _ := time.Parse("15:04", clock)
		return start.AddDate(0, 0, days).Add(time.Duration(c.Hour())*time.Hour + time.Duration(c.Minute())*time.Minute)
	}
	cases := []struct {
		name     string
		lookback config.Span
		ticks    []time.Time // each tick's cut
		want     [][]string  // the windows each tick reads, in order
	}{{
		name:  "behind by 1, no lookback",
		ticks: []time.Time{at(1, "07:00"), at(1, "07:01")},
		want: [][]string{
			{"11-01T00:00..11-02T00:00", "11-02T00:00..11-02T07:00"},
			{"11-02T00:00..11-02T07:01"},
		},
	}, {
		name:     "behind by 2, lookback inside one window",
		lookback: config.Span{N: 10, Unit: config.Minute},
		ticks:    []time.Time{at(2, "07:00"), at(2, "07:01"), at(3, "00:05")},
		want: [][]string{
			{"11-01T00:00..11-02T00:00", "11-02T00:00..11-03T00:00", "11-03T00:00..11-03T07:00"},
			{"11-03T00:00..11-03T07:01"},
			// Past midnight: the day that ended is read in full, and the
			// new one up to the cut.
			{"11-03T00:00..11-04T00:00", "11-04T00:00..11-04T00:05"},
		},
	}, {
		name:     "lookback spanning two windows",
		lookback: config.Span{N: 30, Unit: config.Hour},
		ticks:    []time.Time{at(2, "07:00"), at(2, "08:00"), at(2, "09:00")},
		want: [][]string{
			{"11-01T00:00..11-02T00:00", "11-02T00:00..11-03T00:00", "11-03T00:00..11-03T07:00"},
			// 30h before 07:00 is 11-02T01:00: the window of 11-02 ends
			// after it and is read again, once a tick; 11-01 is not.
			{"11-02T00:00..11-03T00:00", "11-03T00:00..11-03T08:00"},
			{"11-02T00:00..11-03T00:00", "11-03T00:00..11-03T09:00"},
		},
	}}
	behind30 := []string{}
	for d := range 30 {
		behind30 = append(behind30, label(start.AddDate(0, 0, d), start.AddDate(0, 0, d+1)))
	}
	cases = append(cases, struct {
		name     string
		lookback config.Span
		ticks    []time.Time
		want     [][]string
	}{
		name:     "behind by 30, lookback 2h",
		lookback: config.Span{N: 2, Unit: config.Hour},
		ticks:    []time.Time{at(30, "01:00"), at(30, "01:01")},
		// The next tick's lookback (2h before 01:00) reaches into the
		// last day of November: it is read once more.
		want: [][]string{append(behind30, "12-01T00:00..12-01T01:00"), {"11-30T00:00..12-01T00:00", "12-01T00:00..12-01T01:01"}},
	})
	for _, c := range cases {
		for _, perJob := range []int{1, 5} {
			t.Run(fmt.Sprintf("%s/windows-per-job=%d", c.name, perJob), func(t *testing.T) {
				st, err := state.Open(filepath.Join(t.TempDir(), "state.db"))
				if err != nil {
					t.Fatal(err)
				}
				defer st.Close()
				ty, _ := sqltype.ParseClickHouse("Int64")
				stream := &plan.Stream{Name: "s", Exec: plan.Exec{Pipeline: "p", Location: time.UTC, Mode: config.Upsert,
					Mapping:     []transform.Column{{Name: "n", From: "N", Type: ty}},
					Incremental: &config.Incremental{Cursor: "AT", Start: start, Window: day, Lookback: c.lookback}}}
				src := &memSource{}
				r := &Runner{Pipeline: "p", State: st}
				ctx := context.Background()
				for i, cut := range c.ticks {
					jobs, due := 0, len(c.want[i])
					for {
						jobs++
						if jobs > due+1 {
							t.Fatalf("tick %d: still going after %d jobs", i, jobs)
						}
						sum, err := r.Run(ctx, []Stream{{Plan: stream, Source: src, Sink: memSink{}}}, Options{Limit: perJob, Cut: cut})
						if err != nil {
							t.Fatal(err)
						}
						if sum.Repeats != 0 {
							t.Errorf("tick %d: %d window(s) repeated in the tick", i, sum.Repeats)
						}
						if sum.Remaining == 0 {
							break
						}
					}
					if want := (due + perJob - 1) / perJob; jobs != max(want, 1) {
						t.Errorf("tick %d: %d jobs, want %d", i, jobs, want)
					}
					if got := src.take(); strings.Join(got, " ") != strings.Join(c.want[i], " ") {
						t.Errorf("tick %d cut %s reads:\n got %s\nwant %s", i, cut.Format(time.RFC3339), got, c.want[i])
					}
				}
				// Every window up to the last cut is committed, complete
				// where it ended before the cut.
				ws, _ := st.Windows(ctx, "p", "s")
				last := c.ticks[len(c.ticks)-1]
				var got []string
				for _, w := range ws {
					if w.State != state.Committed {
						t.Errorf("window %s is %s", label(w.Start, w.End), w.State)
					}
					got = append(got, label(w.Start, w.End))
				}
				sort.Strings(got)
				if got[len(got)-1] != label(last.Truncate(24*time.Hour), last) {
					t.Errorf("newest window %s, want it cut at %s", got[len(got)-1], last)
				}
			})
		}
	}
}
