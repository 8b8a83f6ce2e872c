package ddl

import (
	"testing"
	"time"
)

// TestTimeRangesDate32: a Date32 column is created as Date before 21.9,
// so its values are held to Date's range there, not Date32's (1900 into
// 18.16's Date wrapped to a date in 2079).
func TestTimeRangesDate32(t *testing.T) {
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		v        ClickHouseVersion
		lo, hi   time.Time
		hasRange bool
	}{
		{ClickHouseVersion{Major: 18, Minor: 16, Patch: 1}, day(1970, 1, 1), day(2105, 12, 31), true},
		{ClickHouseVersion{Major: 21, Minor: 3}, day(1970, 1, 1), day(2149, 6, 6), true},
		{ClickHouseVersion{Major: 21, Minor: 9}, day(1925, 1, 1), day(2283, 11, 11), true},
		{ClickHouseVersion{Major: 23, Minor: 1}, time.Time{}, time.Time{}, false},
	} {
		r, ok := tc.v.TimeRanges()["Date32"]
		if ok != tc.hasRange || ok && (!r.Earliest.Equal(tc.lo) || !r.Latest.Equal(tc.hi)) {
			t.Errorf("%s: Date32 range %v..%v (%v), want %v..%v (%v)", tc.v, r.Earliest, r.Latest, ok, tc.lo, tc.hi, tc.hasRange)
		}
	}
}
