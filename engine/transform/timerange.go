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
	if !ok {
		return nil
	}
	// The value as the column keeps it: an instant cut to the column's
	// digits (allow_lossy), a day; the copying path compares it so too.
	stored := tm
	switch col.Type.Kind {
	case sqltype.Timestamp:
		if p := col.Type.Precision; p < 9 {
			step := pow10i[9-max(p, 0)]
			stored = time.Unix(tm.Unix(), int64(tm.Nanosecond())/step*step).UTC() // Unix rounds down, Nanosecond is >= 0
		}
	case sqltype.Date:
		stored = time.Date(tm.Year(), tm.Month(), tm.Day(), 0, 0, 0, 0, time.UTC)
	}
	if !stored.Before(r.Earliest) && !stored.After(r.Latest) {
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

// precisionLoss is the one wording of an instant with more sub-second
// digits than its column keeps, unless the column says allow_lossy (the
// plan grades such a column lossy; this stops a value that would
// otherwise lose digits all the same). "" when nothing is lost.
func precisionLoss(col Column, tm time.Time) string {
	if col.AllowLossy || col.Type.Kind != sqltype.Timestamp || col.Type.Precision >= 9 {
		return ""
	}
	if int64(tm.Nanosecond())%pow10i[9-col.Type.Precision] == 0 {
		return ""
	}
	return fmt.Sprintf("%s has sub-second digits beyond the %d %s keeps (set allow_lossy: true to drop them)",
		tm.UTC().Format(time.RFC3339Nano), col.Type.Precision, col.Type.Plain())
}

var pow10i = [...]int64{1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000}
