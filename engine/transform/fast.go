package transform

import (
	"fmt"
	"math"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/hockeystack/sluice/engine/internal/num"
	"github.com/hockeystack/sluice/engine/sqltype"
)

// fastCast converts the common column pairs a loop at a time, without
// boxing values: timestamps between units, decimals between precisions,
// integers between widths and into decimals and floats, booleans into
// UInt8. ok is false for
// any other pair, which then takes the general path. NULLs stay NULL; a
// column that must fill or refuse NULLs takes the general path too.
func fastCast(mem memory.Allocator, a arrow.Array, col Column, keep []int) (out arrow.Array, ok bool, err error) {
	if col.Default != nil || (!col.Type.Nullable && a.NullN() > 0) {
		return nil, false, nil
	}
	n := a.Len()
	if keep != nil {
		n = len(keep)
	}
	at := func(k int) int {
		if keep != nil {
			return keep[k]
		}
		return k
	}
	target := col.Type.Arrow()
	switch src := a.(type) {
	case *array.Timestamp:
		dt, isTS := target.(*arrow.TimestampType)
		if !isTS {
			return nil, false, nil
		}
		from := unitDuration(src.DataType().(*arrow.TimestampType).Unit)
		to := unitDuration(dt.Unit)
		r, bounded := timeRange(col)
		lo, hi := unitBounds(r, dt.Unit)
		// grain is how many source units make the column's smallest
		// step; a value off the grain would lose digits.
		var grain int64 = 1
		if step := time.Duration(pow10i[9-min(max(col.Type.Precision, 0), 9)]); col.Type.Kind == sqltype.Timestamp && step > from {
			grain = int64(step / from)
		}
		checkDigits := grain > 1 && !col.AllowLossy
		o := newFixedOut(mem, n, 8, src.NullN() > 0)
		defer o.release()
		vals := arrow.Int64Traits.CastFromBytes(o.vals.Bytes())
		for k := 0; k < n; k++ {
			i := at(k)
			if src.IsNull(i) {
				o.null(k)
				vals[k] = 0
				continue
			}
			v := int64(src.Value(i))
			if from > to {
				mul := int64(from / to)
				if v > math.MaxInt64/mul || v < math.MinInt64/mul {
					// Into nanoseconds from 2262 on: it would wrap.
					return nil, true, &cellError{row: k, msg: fmt.Sprintf("%s is outside the range %s holds in nanoseconds (%s to %s)",
						src.Value(i).ToTime(src.DataType().(*arrow.TimestampType).Unit).UTC().Format(time.RFC3339Nano), col.Type.Plain(),
						time.Unix(0, math.MinInt64).UTC().Format(time.RFC3339Nano), time.Unix(0, math.MaxInt64).UTC().Format(time.RFC3339Nano))}
				}
				v *= mul
			} else if from < to {
				v = num.FloorDiv(v, int64(to/from))
			}
			if bounded && (v < lo || v > hi) {
				return nil, true, &cellError{row: k, msg: outOfRange(col, r, src.Value(i).ToTime(src.DataType().(*arrow.TimestampType).Unit))}
			}
			if checkDigits && int64(src.Value(i))-num.FloorDiv(int64(src.Value(i)), grain)*grain != 0 {
				return nil, true, &cellError{row: k, msg: precisionLoss(col, src.Value(i).ToTime(src.DataType().(*arrow.TimestampType).Unit))}
			}
			vals[k] = v
		}
		return o.array(dt), true, nil
	case *array.Boolean:
		// BOOLEAN into UInt8 (ClickHouse before Bool): 1 and 0.
		if target.ID() != arrow.UINT8 {
			return nil, false, nil
		}
		o := newFixedOut(mem, n, 1, src.NullN() > 0)
		defer o.release()
		vals := o.vals.Bytes()
		for k := 0; k < n; k++ {
			i := at(k)
			vals[k] = 0
			switch {
			case src.IsNull(i):
				o.null(k)
			case src.Value(i):
				vals[k] = 1
			}
		}
		return o.array(target), true, nil
	case *array.Date32:
		if target.ID() != arrow.DATE32 {
			return nil, false, nil
		}
		r, bounded := timeRange(col)
		lo, hi := int64(arrow.Date32FromTime(r.Earliest)), int64(arrow.Date32FromTime(r.Latest))
		if keep == nil {
			// Every row, unchanged: check the range, and the same array
			// serves.
			if bounded {
				nulls := src.NullN() > 0
				for i, d := range src.Date32Values() {
					if (d < arrow.Date32(lo) || d > arrow.Date32(hi)) && !(nulls && src.IsNull(i)) {
						return nil, true, &cellError{row: i, msg: outOfRange(col, r, d.ToTime())}
					}
				}
			}
			src.Retain()
			return src, true, nil
		}
		b := array.NewDate32Builder(mem)
		defer b.Release()
		b.Reserve(n)
		for k := 0; k < n; k++ {
			i := at(k)
			if src.IsNull(i) {
				b.UnsafeAppendBoolToBitmap(false)
				continue
			}
			if d := int64(src.Value(i)); bounded && (d < lo || d > hi) {
				return nil, true, &cellError{row: k, msg: outOfRange(col, r, src.Value(i).ToTime())}
			}
			b.UnsafeAppend(src.Value(i))
		}
		return b.NewArray(), true, nil
	case *array.Decimal128:
		dt, isDec := target.(*arrow.Decimal128Type)
		sdt := src.DataType().(*arrow.Decimal128Type)
		if !isDec || dt.Scale < sdt.Scale {
			return nil, false, nil
		}
		mul := decimal128.GetScaleMultiplier(int(dt.Scale - sdt.Scale))
		limit := decimal128.GetScaleMultiplier(int(dt.Precision))
		if dt.Scale == sdt.Scale && keep == nil {
			// Every row, the same unscaled values: check each fits the
			// precision, and the same bytes serve.
			if k, ok := decimalsFit(src, dt.Precision, limit); !ok {
				v := src.Value(k)
				return nil, true, &cellError{row: k, msg: fmt.Sprintf("%s overflows %s", v.ToString(dt.Scale), col.Type.Plain())}
			}
			d := array.NewData(dt, src.Len(), src.Data().Buffers(), nil, src.NullN(), src.Data().Offset())
			defer d.Release()
			return array.MakeFromData(d), true, nil
		}
		b := array.NewDecimal128Builder(mem, dt)
		defer b.Release()
		b.Reserve(n)
		for k := 0; k < n; k++ {
			i := at(k)
			if src.IsNull(i) {
				b.UnsafeAppendBoolToBitmap(false)
				continue
			}
			v := src.Value(i)
			if dt.Scale != sdt.Scale {
				v = v.Mul(mul)
			}
			if v.Abs().Greater(limit) || v.Abs() == limit {
				return nil, true, &cellError{row: k, msg: fmt.Sprintf("%s overflows %s", v.ToString(dt.Scale), col.Type.Plain())}
			}
			b.UnsafeAppend(v)
		}
		return b.NewArray(), true, nil
	case *array.Int64:
		switch dt := target.(type) {
		case *arrow.Decimal128Type:
			mul := decimal128.GetScaleMultiplier(int(dt.Scale))
			limit := decimal128.GetScaleMultiplier(int(dt.Precision))
			b := array.NewDecimal128Builder(mem, dt)
			defer b.Release()
			b.Reserve(n)
			for k := 0; k < n; k++ {
				i := at(k)
				if src.IsNull(i) {
					b.UnsafeAppendBoolToBitmap(false)
					continue
				}
				v := decimal128.FromI64(src.Value(i)).Mul(mul)
				if !v.Abs().Less(limit) {
					return nil, true, &cellError{row: k, msg: fmt.Sprintf("%d overflows %s", src.Value(i), col.Type.Plain())}
				}
				b.UnsafeAppend(v)
			}
			return b.NewArray(), true, nil
		case *arrow.Float64Type:
			b := array.NewFloat64Builder(mem)
			defer b.Release()
			b.Reserve(n)
			for k := 0; k < n; k++ {
				i := at(k)
				if src.IsNull(i) {
					b.UnsafeAppendBoolToBitmap(false)
					continue
				}
				b.UnsafeAppend(float64(src.Value(i)))
			}
			return b.NewArray(), true, nil
		}
		lo, hi, isInt := intRange(target)
		if !isInt {
			return nil, false, nil
		}
		if lim, ok := digitLimit(col); ok {
			lo, hi = -lim, lim
		}
		b := array.NewBuilder(mem, target)
		defer b.Release()
		b.Reserve(n)
		for k := 0; k < n; k++ {
			i := at(k)
			if src.IsNull(i) {
				b.AppendNull()
				continue
			}
			v := src.Value(i)
			if v < lo || v > hi {
				return nil, true, &cellError{row: k, msg: fmt.Sprintf("%d overflows %s", v, col.Type.Plain())}
			}
			appendInt(b, v)
		}
		return b.NewArray(), true, nil
	}
	return nil, false, nil
}

// intRange is the range of an integer Arrow type that int64 values can
// fill.
func intRange(t arrow.DataType) (lo, hi int64, ok bool) {
	switch t.ID() {
	case arrow.INT8:
		return math.MinInt8, math.MaxInt8, true
	case arrow.INT16:
		return math.MinInt16, math.MaxInt16, true
	case arrow.INT32:
		return math.MinInt32, math.MaxInt32, true
	case arrow.INT64:
		return math.MinInt64, math.MaxInt64, true
	case arrow.UINT8:
		return 0, math.MaxUint8, true
	case arrow.UINT16:
		return 0, math.MaxUint16, true
	case arrow.UINT32:
		return 0, math.MaxUint32, true
	case arrow.UINT64:
		return 0, math.MaxInt64, true
	}
	return 0, 0, false
}

func appendInt(b array.Builder, v int64) {
	switch b := b.(type) {
	case *array.Int8Builder:
		b.UnsafeAppend(int8(v))
	case *array.Int16Builder:
		b.UnsafeAppend(int16(v))
	case *array.Int32Builder:
		b.UnsafeAppend(int32(v))
	case *array.Int64Builder:
		b.UnsafeAppend(v)
	case *array.Uint8Builder:
		b.UnsafeAppend(uint8(v))
	case *array.Uint16Builder:
		b.UnsafeAppend(uint16(v))
	case *array.Uint32Builder:
		b.UnsafeAppend(uint32(v))
	case *array.Uint64Builder:
		b.UnsafeAppend(uint64(v))
	}
}

// decimalsFit reports whether every valid value of src is below limit,
// 10^precision, in absolute value; when not, k is the first row that is
// not. Values of up to 18 digits are compared as int64.
func decimalsFit(src *array.Decimal128, precision int32, limit decimal128.Num) (k int, ok bool) {
	nulls := src.NullN() > 0
	vals := src.Values()
	if precision <= 18 {
		lim := int64(limit.LowBits())
		for i, v := range vals {
			lo := int64(v.LowBits())
			if (v.HighBits() != lo>>63 || lo <= -lim || lo >= lim) && !(nulls && src.IsNull(i)) {
				return i, false
			}
		}
		return 0, true
	}
	for i, v := range vals {
		if a := v.Abs(); !a.Less(limit) && !(nulls && src.IsNull(i)) {
			return i, false
		}
	}
	return 0, true
}

// fixedOut is a column of n fixed-width values being written in place,
// with a validity bitmap when it may hold NULLs.
type fixedOut struct {
	vals, valid *memory.Buffer
	n, nulls    int
}

func newFixedOut(mem memory.Allocator, n, width int, nullable bool) *fixedOut {
	o := &fixedOut{n: n}
	o.vals = memory.NewResizableBuffer(mem)
	o.vals.Resize(n * width)
	if nullable {
		o.valid = memory.NewResizableBuffer(mem)
		o.valid.Resize(int(bitutil.BytesForBits(int64(n))))
		bitutil.SetBitsTo(o.valid.Bytes(), 0, int64(n), true)
	}
	return o
}

// null marks row k NULL; the column must have been made nullable.
func (o *fixedOut) null(k int) {
	bitutil.ClearBit(o.valid.Bytes(), k)
	o.nulls++
}

// array makes the column an array of type t; the caller still releases o.
func (o *fixedOut) array(t arrow.DataType) arrow.Array {
	valid := o.valid
	if o.nulls == 0 {
		valid = nil
	}
	d := array.NewData(t, o.n, []*memory.Buffer{valid, o.vals}, nil, o.nulls, 0)
	defer d.Release()
	return array.MakeFromData(d)
}

// release frees o's references to its buffers.
func (o *fixedOut) release() {
	o.vals.Release()
	if o.valid != nil {
		o.valid.Release()
	}
}
