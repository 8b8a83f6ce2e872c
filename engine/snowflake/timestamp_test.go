package snowflake

import (
	"math/rand"
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
			out, ok := snowflakeMicros(mem, in, target, sourceColumn{typ: sqltype.Type{Kind: sqltype.Timestamp, Zone: zone}, scale: scale})
			if !ok {
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
		out, ok := snowflakeMicros(mem, tc.a, target, tc.sc)
		if !ok {
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
