package snowflake

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// The canonical conversions of whole columns: values written in place
// into one buffer with the source's validity copied, rather than a
// builder call (and a type switch) a value, which is where reading a
// result spent its time after the download.

// fixedOut is a column of n fixed-width values being written in place,
// with the validity of the array it is converted from.
type fixedOut struct {
	vals, valid *memory.Buffer
	n, nulls    int
}

func newFixedOut(mem memory.Allocator, src arrow.Array, width int) *fixedOut {
	n := src.Len()
	o := &fixedOut{n: n, nulls: src.NullN()}
	o.vals = memory.NewResizableBuffer(mem)
	o.vals.Resize(n * width)
	if o.nulls > 0 {
		o.valid = memory.NewResizableBuffer(mem)
		o.valid.Resize(int(bitutil.BytesForBits(int64(n))))
		bitutil.CopyBitmap(src.NullBitmapBytes(), src.Data().Offset(), n, o.valid.Bytes(), 0)
	}
	return o
}

// isNull reports whether row j is NULL.
func (o *fixedOut) isNull(j int) bool {
	return o.valid != nil && !bitutil.BitIsSet(o.valid.Bytes(), j)
}

// array makes the column an array of type t; o is used up.
func (o *fixedOut) array(t arrow.DataType) arrow.Array {
	d := array.NewData(t, o.n, []*memory.Buffer{o.valid, o.vals}, nil, o.nulls, 0)
	o.release()
	defer d.Release()
	return array.MakeFromData(d)
}

// release frees the buffers of a column not made into an array.
func (o *fixedOut) release() {
	o.vals.Release()
	if o.valid != nil {
		o.valid.Release()
	}
}

// widenInts converts an integer array of any signed width to int64 (t
// Int64) or to decimal128 of the same scale (t Decimal128), exactly:
// every value of a narrower integer fits. ok is false for other arrays,
// which the caller converts value by value. Values under NULLs are zero.
func widenInts(mem memory.Allocator, a arrow.Array, t arrow.DataType) (arrow.Array, bool) {
	var width int
	switch t.ID() {
	case arrow.INT64:
		width = 8
	case arrow.DECIMAL128:
		width = 16
	default:
		return nil, false
	}
	var put func(out []byte)
	switch x := a.(type) {
	case *array.Int8:
		put = func(out []byte) { widen(out, width, x.Int8Values()) }
	case *array.Int16:
		put = func(out []byte) { widen(out, width, x.Int16Values()) }
	case *array.Int32:
		put = func(out []byte) { widen(out, width, x.Int32Values()) }
	case *array.Int64:
		put = func(out []byte) { widen(out, width, x.Int64Values()) }
	default:
		return nil, false
	}
	o := newFixedOut(mem, a, width)
	out := o.vals.Bytes()
	put(out)
	if o.nulls > 0 {
		for j := 0; j < o.n; j++ {
			if o.isNull(j) {
				clear(out[j*width : (j+1)*width])
			}
		}
	}
	return o.array(t), true
}

// widen writes each value of src as a little-endian two's-complement
// integer of width 8 or 16 bytes.
func widen[S int8 | int16 | int32 | int64](out []byte, width int, src []S) {
	if width == 8 {
		dst := arrow.Int64Traits.CastFromBytes(out)
		for j, v := range src {
			dst[j] = int64(v)
		}
		return
	}
	dst := arrow.Int64Traits.CastFromBytes(out) // low and high words
	for j, v := range src {
		dst[2*j] = int64(v)
		dst[2*j+1] = int64(v) >> 63
	}
}
