package exec

import (
	"time"

	"github.com/hockeystack/sluice/engine/config"
	"github.com/hockeystack/sluice/engine/state"
)

// Slot is a window to run: its bounds and whether it has its full size
// (the last window of a run is cut at the run's start and runs again next
// time).
type Slot struct {
	Start, End time.Time
	Complete   bool
}

// Windows returns the windows a run cut at now loads for an incremental
// stream, in order: every window of the grid from the stream's start, in
// its window size and the pipeline's zone, that the ledger does not hold
// committed and complete, plus the committed ones that end within the
// lookback of the newest committed window (rows that arrived late). A
// window committed in this same cut (by an earlier job of the same serve
// tick) is done: the lookback re-reads once per cut, not once per job.
// Windows run oldest first, so the lookback's windows run before the
// newer ones that move its reach. With force, every window in [from, to)
// runs whatever the ledger says, once per cut.
func Windows(inc *config.Incremental, loc *time.Location, now time.Time, ledger []state.Entry, from, to time.Time, force bool) []Slot {
	start := inc.Start.In(loc)
	done := map[time.Time]state.Entry{}
	var newest time.Time
	for _, w := range ledger {
		done[w.Start.UTC()] = w
		if w.State == state.Committed && w.End.After(newest) {
			newest = w.End
		}
	}
	cutoff := inc.Lookback.AddTo(newest, -1)
	end := now
	if !to.IsZero() && to.Before(end) {
		end = to
	}
	var out []Slot
	for k := 0; ; k++ {
		ws := inc.Window.AddTo(start, k)
		we := inc.Window.AddTo(start, k+1)
		if !ws.Before(end) {
			break
		}
		if !from.IsZero() && !we.After(from) {
			continue
		}
		slot := Slot{Start: ws, End: we, Complete: true}
		if we.After(now) {
			slot.End, slot.Complete = now, false
		}
		if w, ok := done[ws.UTC()]; ok && w.State == state.Committed {
			if w.Cut.Equal(now) {
				continue // committed in this cut already
			}
			if !force && w.Complete && !w.End.After(cutoff) {
				continue
			}
		}
		out = append(out, slot)
	}
	return out
}
