package snowflake

import (
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/hockeystack/sluice/engine/sqltype"
)

// driverMicros is the driver's own reading of a scaled value (epoch and
// fraction split by truncation, normalized by time.Unix), in
// microseconds: the reference snowflakeMicros must agree with.
func driverMicros(v int64, scale int) int64 {
	p := pow10[scale]
	return time.Unix(v/p, v%p*pow10[9-scale]).UnixMicro()
}

// TestSnowflakeMicros: every encoding Snowflake uses for timestamps reads
// as the driver would read it, to the microsecond, before 1970 too.
func TestSnowflakeMicros(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	target := &arrow.TimestampType{Unit: arrow.Microsecond}
	rnd := rand.New(rand.NewSource(1))
	values := []int64{0, 1, -1, 999_999_999, -999_999_999, 1_709_251_199_999_999_999 / 1000, -2_208_988_800_123_456}
	for range 200 {
		values = append(values, rnd.Int63n(4e18)-2e18)
	}
	for scale := 0; scale <= 9; scale++ {
		b := array.NewInt64Builder(mem)
		for _, v := range values {
			b.Append(v / pow10[9-scale]) // keep values within range at every scale
		}
		b.AppendNull()
		in := b.NewInt64Array()
		b.Release()
		for _, zone := range []sqltype.Zone{sqltype.NoZone, sqltype.Local} {
			out, ok, err := snowflakeTimestamps(mem, in, target, sourceColumn{typ: sqltype.Type{Kind: sqltype.Timestamp, Zone: zone}, scale: scale})
			if !ok || err != nil {
				t.Fatalf("scale %d: int64 not read", scale)
			}
			got := out.(*array.Timestamp)
			for j := range in.Len() - 1 {
				if want := driverMicros(in.Value(j), scale); int64(got.Value(j)) != want {
					t.Errorf("scale %d, %d: %d, want %d", scale, in.Value(j), got.Value(j), want)
				}
			}
			if !got.IsNull(in.Len() - 1) {
				t.Error("a NULL was read as a value")
			}
			out.Release()
		}
		in.Release()
	}
	// Structs: epoch seconds and nanoseconds (NTZ, LTZ, TZ with three
	// fields), and TIMESTAMP_TZ's scaled value beside its offset.
	epochs := []int64{0, -1, 1_709_251_199, -2_208_988_800}
	fracs := []int32{0, 999_999_999, 123_456_789, 1_000}
	eb, fb, zb := array.NewInt64Builder(mem), array.NewInt32Builder(mem), array.NewInt32Builder(mem)
	for i := range epochs {
		eb.Append(epochs[i])
		fb.Append(fracs[i])
		zb.Append(1440 + 330)
	}
	e, f, z := eb.NewArray(), fb.NewArray(), zb.NewArray()
	defer func() {
		e.Release()
		f.Release()
		z.Release()
		eb.Release()
		fb.Release()
		zb.Release()
	}()
	three, _ := array.NewStructArray([]arrow.Array{e, f, z}, []string{"epoch", "fraction", "timezone"})
	defer three.Release()
	two, _ := array.NewStructArray([]arrow.Array{e, z}, []string{"epoch", "timezone"})
	defer two.Release()
	for _, tc := range []struct {
		name string
		a    arrow.Array
		sc   sourceColumn
		want func(i int) int64
	}{
		{"ntz struct", three, sourceColumn{typ: sqltype.Type{Kind: sqltype.Timestamp}, scale: 9}, func(i int) int64 { return time.Unix(epochs[i], int64(fracs[i])).UnixMicro() }},
		{"tz three fields", three, sourceColumn{typ: sqltype.Type{Kind: sqltype.Timestamp, Zone: sqltype.Offset}, scale: 9}, func(i int) int64 { return time.Unix(epochs[i], int64(fracs[i])).UnixMicro() }},
		{"tz scaled", two, sourceColumn{typ: sqltype.Type{Kind: sqltype.Timestamp, Zone: sqltype.Offset}, scale: 3}, func(i int) int64 { return driverMicros(epochs[i], 3) }},
	} {
		out, ok, err := snowflakeTimestamps(mem, tc.a, target, tc.sc)
		if !ok || err != nil {
			t.Fatalf("%s: not read", tc.name)
		}
		for i := range epochs {
			if got := int64(out.(*array.Timestamp).Value(i)); got != tc.want(i) {
				t.Errorf("%s, row %d: %d, want %d", tc.name, i, got, tc.want(i))
			}
		}
		out.Release()
	}
}

// TestSnowflakeNanos: a timestamp of precision 7 to 9 reads in
// nanoseconds with every digit, from each of Snowflake's encodings, before
// 1970 too; an instant beyond int64 nanoseconds is an error naming the
// value, never a wrapped instant.
func TestSnowflakeNanos(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	target := &arrow.TimestampType{Unit: arrow.Nanosecond}
	ntz, err := sqltype.ParseSnowflake("TIMESTAMP_NTZ(9)")
	if err != nil {
		t.Fatal(err)
	}
	for _, scale := range []int{7, 8, 9} {
		values := []int64{0, 1, -1, 1_709_251_199_123_456_789 / pow10[9-scale], -2_208_988_800_987_654_321 / pow10[9-scale]}
		b := array.NewInt64Builder(mem)
		b.AppendValues(values, nil)
		in := b.NewInt64Array()
		b.Release()
		out, ok, err := snowflakeTimestamps(mem, in, target, sourceColumn{typ: ntz, scale: scale})
		if !ok || err != nil {
			t.Fatalf("scale %d: %v", scale, err)
		}
		for j, v := range values {
			want := time.Unix(0, 0).Add(time.Duration(v * pow10[9-scale])).UnixNano()
			if got := int64(out.(*array.Timestamp).Value(j)); got != want {
				t.Errorf("scale %d, %d: %d, want %d", scale, v, got, want)
			}
		}
		out.Release()
		in.Release()
	}
	// The last of them are int64 nanoseconds' own ends.
	epochs := []int64{1_709_251_199, -2_208_988_800, -1, 9_223_372_036, -9_223_372_037}
	fracs := []int32{123_456_789, 987_654_321, 1, 854_775_807, 145_224_192}
	eb, fb := array.NewInt64Builder(mem), array.NewInt32Builder(mem)
	eb.AppendValues(epochs, nil)
	fb.AppendValues(fracs, nil)
	e, f := eb.NewArray(), fb.NewArray()
	eb.Release()
	fb.Release()
	st, _ := array.NewStructArray([]arrow.Array{e, f}, []string{"epoch", "fraction"})
	out, ok, err := snowflakeTimestamps(mem, st, target, sourceColumn{typ: ntz, scale: 9})
	if !ok || err != nil {
		t.Fatal(err)
	}
	for i := range epochs {
		if got, want := int64(out.(*array.Timestamp).Value(i)), time.Unix(epochs[i], int64(fracs[i])).UnixNano(); got != want {
			t.Errorf("struct row %d: %d, want %d", i, got, want)
		}
	}
	out.Release()
	st.Release()
	e.Release()
	f.Release()
	// 9999-12-31 23:59:59.999999999 does not fit int64 nanoseconds, nor
	// does the nanosecond after its end.
	eb, fb = array.NewInt64Builder(mem), array.NewInt32Builder(mem)
	eb.Append(253402300799)
	fb.Append(999_999_999)
	eb.Append(9_223_372_036)
	fb.Append(854_775_808)
	e, f = eb.NewArray(), fb.NewArray()
	eb.Release()
	fb.Release()
	st, _ = array.NewStructArray([]arrow.Array{e, f}, []string{"epoch", "fraction"})
	defer func() { st.Release(); e.Release(); f.Release() }()
	if out, _, err := snowflakeTimestamps(mem, st, target, sourceColumn{typ: ntz, scale: 9}); err == nil {
		out.Release()
		t.Fatal("9999-12-31 read in nanoseconds without an error")
	} else if want := "9999-12-31T23:59:59.999999999Z is outside the range a TIMESTAMP_NTZ(9) is read in"; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q, want it to start %q", err, want)
	}
}

// TestSnowflakeTimes: a TIME(p) arrives from the driver as its scaled
// integer in a time64[ns]; the source reads it as the time of day.
func TestSnowflakeTimes(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	for _, scale := range []int{0, 3, 5, 9} {
		want := 12*time.Hour + 34*time.Minute + 56*time.Second + 123456789*time.Nanosecond
		want -= want % time.Duration(pow10[9-scale])
		b := array.NewTime64Builder(mem, arrow.FixedWidthTypes.Time64ns.(*arrow.Time64Type))
		b.Append(arrow.Time64(int64(want) / pow10[9-scale]))
		b.AppendNull()
		in := b.NewArray()
		b.Release()
		out, err := canonicalColumn(mem, in, arrow.FixedWidthTypes.Time64ns, sourceColumn{typ: sqltype.Type{Kind: sqltype.Time, Precision: scale}, scale: scale})
		if err != nil {
			t.Fatal(err)
		}
		if got := time.Duration(out.(*array.Time64).Value(0)); got != want || !out.IsNull(1) {
			t.Errorf("TIME(%d): %v, want %v", scale, got, want)
		}
		out.Release()
		in.Release()
	}
}
