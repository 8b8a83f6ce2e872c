package config

import (
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
)

// cronParser accepts the five standard fields and descriptors like @daily.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Schedule is a pipeline's cron schedule in its time zone. It satisfies
// River's PeriodicSchedule.
type Schedule struct {
	Expr string
	loc  *time.Location
	s    cron.Schedule
}

// ParseSchedule reads a five-field cron expression (or @daily and the
// like) to be read in the IANA time zone tz. Load does it for every
// pipeline (Pipeline.Cron).
func ParseSchedule(expr, tz string) (*Schedule, error) {
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", tz, err)
	}
	s, err := cronParser.Parse(expr)
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

// Interval is the time between the schedule's next two ticks after t.
func (s *Schedule) Interval(t time.Time) time.Duration {
	a := s.Next(t)
	return s.Next(a).Sub(a)
}
