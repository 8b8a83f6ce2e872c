package transform

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/hockeystack/sluice/engine/sqltype"
)

// timeRange is the range a column's values must fall in: the one the
// destination server gave, else its type's own; ok is false when nothing
// bounds it.
func timeRange(col Column) (sqltype.TimeRange, bool) {
	if !col.Range.IsZero() {
		return col.Range, true
	}
	return col.Type.TimeRange()
}

// outOfRange is the one wording of a date or time the column cannot
// store, whichever path found it.
func outOfRange(col Column, r sqltype.TimeRange, tm time.Time) string {
	if col.Type.Kind == sqltype.Date {
		return fmt.Sprintf("%s is outside the range %s stores on this server (%s to %s)",
			tm.UTC().Format(time.DateOnly), col.Type.Plain(), r.Earliest.Format(time.DateOnly), r.Latest.Format(time.DateOnly))
	}
	return fmt.Sprintf("%s is outside the range %s stores on this server (%s to %s)",
		tm.UTC().Format(time.RFC3339Nano), col.Type.Plain(), r.Earliest.Format(time.RFC3339Nano), r.Latest.Format(time.RFC3339Nano))
}

// checkRange refuses a date or time outside the column's range.
func checkRange(col Column, v any) error {
	tm, ok := v.(time.Time)
	if !ok {
		return nil
	}
	r, ok := timeRange(col)
	if !ok || !tm.Before(r.Earliest) && !tm.After(r.Latest) {
		return nil
	}
	return errors.New(outOfRange(col, r, tm))
}

// unitBounds are a range's ends counted in a timestamp unit from the
// epoch, saturated at what int64 holds.
func unitBounds(r sqltype.TimeRange, unit arrow.TimeUnit) (lo, hi int64) {
	return countIn(r.Earliest, unit), countIn(r.Latest, unit)
}

func countIn(t time.Time, unit arrow.TimeUnit) int64 {
	per := int64(unitDuration(unit))
	sec := t.Unix()
	n := int64(time.Second) / per // units in a second
	if sec > math.MaxInt64/n-1 {
		return math.MaxInt64
	}
	if sec < math.MinInt64/n+1 {
		return math.MinInt64
	}
	return sec*n + int64(t.Nanosecond())/per
}
