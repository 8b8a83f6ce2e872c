package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Unit is the unit of a Span.
type Unit string

// Span units. Days, weeks and months are calendar units in the pipeline's
// time zone, so a 1d window is 23 or 25 hours across a DST change and a 1mo
// window is a calendar month.
const (
	Minute Unit = "m"
	Hour   Unit = "h"
	Day    Unit = "d"
	Week   Unit = "w"
	Month  Unit = "mo"
)

// Span is a length of time written like 30m, 2h, 7d, 1w or 1mo.
type Span struct {
	N    int
	Unit Unit
}

// ParseSpan parses a span. "0" is the zero span.
func ParseSpan(s string) (Span, error) {
	if s == "0" {
		return Span{}, nil
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	n, err := strconv.Atoi(s[:i])
	if i == 0 || err != nil {
		return Span{}, fmt.Errorf("invalid span %q: write a number and a unit, like 30m, 2h, 7d, 1w or 1mo", s)
	}
	u := Unit(strings.ToLower(s[i:]))
	switch u {
	case Minute, Hour, Day, Week, Month:
	default:
		return Span{}, fmt.Errorf("invalid span %q: unknown unit %q (use m, h, d, w or mo)", s, s[i:])
	}
	sp := Span{N: n, Unit: u}
	// Longer spans mean nothing for windows and lookbacks, and would
	// overflow the arithmetic that cuts them.
	if sp.N > maxSpan[u] {
		return Span{}, fmt.Errorf("invalid span %q: longer than 100 years", s)
	}
	return sp, nil
}

// maxSpan is 100 years in each unit.
var maxSpan = map[Unit]int{Minute: 100 * 366 * 24 * 60, Hour: 100 * 366 * 24, Day: 100 * 366, Week: 100 * 53, Month: 100 * 12}

// IsZero reports whether s is empty.
func (s Span) IsZero() bool { return s.N == 0 }

// String formats s as it is written in pipeline.yaml.
func (s Span) String() string {
	if s.IsZero() {
		return "0"
	}
	return fmt.Sprintf("%d%s", s.N, s.Unit)
}

// AddTo returns t moved forward by n spans (backward for negative n).
func (s Span) AddTo(t time.Time, n int) time.Time {
	k := s.N * n
	switch s.Unit {
	case Minute:
		return t.Add(time.Duration(k) * time.Minute)
	case Hour:
		return t.Add(time.Duration(k) * time.Hour)
	case Day:
		return t.AddDate(0, 0, k)
	case Week:
		return t.AddDate(0, 0, 7*k)
	case Month:
		return t.AddDate(0, k, 0)
	}
	return t
}

// Approx returns the span's nominal length, for comparisons only.
func (s Span) Approx() time.Duration {
	switch s.Unit {
	case Minute:
		return time.Duration(s.N) * time.Minute
	case Hour:
		return time.Duration(s.N) * time.Hour
	case Day:
		return time.Duration(s.N) * 24 * time.Hour
	case Week:
		return time.Duration(s.N) * 7 * 24 * time.Hour
	case Month:
		return time.Duration(s.N) * 30 * 24 * time.Hour
	}
	return 0
}
