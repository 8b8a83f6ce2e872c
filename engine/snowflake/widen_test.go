package snowflake

import (
	"math"
	"math/rand"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/hockeystack/sluice/engine/sqltype"
)

// TestCanonicalIntegers: integers of every width Snowflake narrows a
// chunk to read as the same int64 and decimal128 values, NULLs kept,
// from sliced arrays too.
func TestCanonicalIntegers(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	rnd := rand.New(rand.NewSource(1))
	edges := []int64{0, 1, -1, math.MinInt8, math.MaxInt8, math.MinInt16, math.MaxInt16, math.MinInt32, math.MaxInt32, math.MinInt64, math.MaxInt64}
	for _, width := range []int{1, 2, 4, 8} {
		var b array.Builder
		var want []int64
		var valid []bool
		appendVal := func(v int64) {
			switch width {
			case 1:
				v = int64(int8(v))
				b.(*array.Int8Builder).Append(int8(v))
			case 2:
				v = int64(int16(v))
				b.(*array.Int16Builder).Append(int16(v))
			case 4:
				v = int64(int32(v))
				b.(*array.Int32Builder).Append(int32(v))
			default:
				b.(*array.Int64Builder).Append(v)
			}
			want, valid = append(want, v), append(valid, true)
		}
		switch width {
		case 1:
			b = array.NewInt8Builder(mem)
		case 2:
			b = array.NewInt16Builder(mem)
		case 4:
			b = array.NewInt32Builder(mem)
		default:
			b = array.NewInt64Builder(mem)
		}
		for _, v := range edges {
			appendVal(v)
		}
		for i := range 1000 {
			if i%7 == 3 {
				b.AppendNull()
				want, valid = append(want, 0), append(valid, false)
				continue
			}
			appendVal(rnd.Int63() - rnd.Int63())
		}
		whole := b.NewArray()
		b.Release()
		for _, off := range []int{0, 5} {
			in := array.NewSlice(whole, int64(off), int64(whole.Len()))
			for _, target := range []arrow.DataType{arrow.PrimitiveTypes.Int64, &arrow.Decimal128Type{Precision: 38, Scale: 2}} {
				sc := sourceColumn{typ: sqltype.Type{Kind: sqltype.Decimal}, scale: 2}
				out, err := canonicalColumn(mem, in, target, sc)
				if err != nil {
					t.Fatalf("width %d into %s: %v", width, target, err)
				}
				for j := range in.Len() {
					w, ok := want[off+j], valid[off+j]
					if out.IsNull(j) == ok {
						t.Fatalf("width %d into %s, row %d: null %v, want %v", width, target, j, out.IsNull(j), !ok)
					}
					if !ok {
						continue
					}
					switch o := out.(type) {
					case *array.Int64:
						if o.Value(j) != w {
							t.Errorf("width %d, row %d: %d, want %d", width, j, o.Value(j), w)
						}
					case *array.Decimal128:
						if o.Value(j) != decimal128.FromI64(w) {
							t.Errorf("width %d, row %d: %s, want %d", width, j, o.Value(j).BigInt(), w)
						}
					}
				}
				out.Release()
			}
			in.Release()
		}
		whole.Release()
	}
}
