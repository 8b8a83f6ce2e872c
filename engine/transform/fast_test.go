package transform

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestSameScaleDecimalsChecked: decimals of the same scale into another
// precision keep their bytes (no copy) yet every value is checked against
// the target's precision, at 18 digits and below (compared as int64) and
// above, NULLs not; a value under a NULL is never an error.
func TestSameScaleDecimalsChecked(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	for _, tc := range []struct {
		target string
		values []string // "" is NULL; "!" prefix marks a NULL over that value
		want   string   // error, or "" for none
	}{
		{"Nullable(Decimal(18, 2))", []string{"9999999999999999.99", "-9999999999999999.99", "0.01", ""}, ""},
		{"Nullable(Decimal(18, 2))", []string{"1.00", "10000000000000000.00"}, "row 1: 10000000000000000.00 overflows Decimal(18, 2)"},
		{"Nullable(Decimal(18, 2))", []string{"-10000000000000000.00"}, "row 0: -10000000000000000.00 overflows Decimal(18, 2)"},
		{"Nullable(Decimal(18, 2))", []string{"!123456789012345678901234.00", "1.00", ""}, ""},
		{"Nullable(Decimal(18, 2))", []string{"1.00", "-123456789012345678901234.00"}, "row 1: -123456789012345678901234.00 overflows"},
		{"Nullable(Decimal(9, 2))", []string{"9999999.99", "10000000.00"}, "row 1: 10000000.00 overflows Decimal(9, 2)"},
		{"Nullable(Decimal(20, 2))", []string{"999999999999999999.99", "-1000000000000000000.00"}, "row 1: -1000000000000000000.00 overflows Decimal(20, 2)"},
	} {
		b := array.NewDecimal128Builder(mem, &arrow.Decimal128Type{Precision: 38, Scale: 2})
		for _, v := range tc.values {
			if v == "" {
				b.AppendNull()
				continue
			}
			d, err := decimal128.FromString(strings.TrimPrefix(v, "!"), 38, 2)
			if err != nil {
				t.Fatal(err)
			}
			b.Append(d)
		}
		in := b.NewDecimal128Array()
		b.Release()
		// A NULL over a value: clear the validity bit of the marked rows.
		for i, v := range tc.values {
			if strings.HasPrefix(v, "!") {
				data := in.Data()
				bm := data.Buffers()[0]
				if bm == nil {
					t.Fatal("no validity bitmap to clear")
				}
				bm.Bytes()[i/8] &^= 1 << (i % 8)
				d := array.NewData(data.DataType(), data.Len(), data.Buffers(), nil, data.NullN()+1, 0)
				in.Release()
				in = array.MakeFromData(d).(*array.Decimal128)
				d.Release()
			}
		}
		out, ok, err := fastCast(mem, in, Column{Name: "d", Type: ch(t, tc.target)}, nil)
		if !ok {
			t.Fatalf("%s: not the fast path", tc.target)
		}
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s %v: %v", tc.target, tc.values, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s %v: %v, want %q", tc.target, tc.values, err, tc.want)
		}
		if err == nil {
			if out.Len() != in.Len() {
				t.Errorf("%d rows out of %d", out.Len(), in.Len())
			}
			out.Release()
		}
		in.Release()
	}
}
