// Package serve holds what `sluice serve` decides on its own, apart from
// the job engine (River) and the connectors: when a pipeline is due, what
// to do about a schedule missed while the daemon was down, which failures
// pause a pipeline instead of being retried, and the metrics it exposes.
package serve

import (
	"time"

	"github.com/hockeystack/sluice/engine/config"
)

// Due reports whether a stream whose last run started at last must run
// now on schedule s: it never ran, or a tick fell between then and now
// (the daemon was down, or busy). However many ticks were missed, it runs
// once.
func Due(s *config.Schedule, last, now time.Time) bool {
	if last.IsZero() {
		return true
	}
	return !s.Next(last).After(now)
}
