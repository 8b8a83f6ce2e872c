// Package serve holds what `sluice serve` decides on its own, apart from
// the job engine (River) and the connectors: when a pipeline is due, what
// to do about a schedule missed while the daemon was down, which failures
// pause a pipeline instead of being retried, and the metrics it exposes.
package serve

import (
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
)

var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Schedule is a pipeline's cron schedule in its time zone. It satisfies
// River's PeriodicSchedule.
type Schedule struct {
	Expr string
	loc  *time.Location
	s    cron.Schedule
}

// ParseSchedule reads a five-field cron expression (or @daily and the
// like) to be read in the IANA time zone tz.
func ParseSchedule(expr, tz string) (*Schedule, error) {
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", tz, err)
	}
	s, err := parser.Parse(expr)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w", expr, err)
	}
	return &Schedule{Expr: expr, loc: loc, s: s}, nil
}

// Next is the first time after t the schedule fires, read in its zone
// (so "0 3 * * *" is 03:00 local, across daylight-saving changes).
func (s *Schedule) Next(t time.Time) time.Time {
	return s.s.Next(t.In(s.loc))
}

// Due reports whether a stream whose last run started at last must run
// now: it never ran, or a tick fell between then and now (the daemon was
// down, or busy). However many ticks were missed, it runs once.
func (s *Schedule) Due(last, now time.Time) bool {
	if last.IsZero() {
		return true
	}
	return !s.Next(last).After(now)
}
