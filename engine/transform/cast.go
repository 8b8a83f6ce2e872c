package transform

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/decimal256"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/hockeystack/sluice/engine/sqltype"
)

// decimal is an exact decimal value: unscaled integer and scale.
type decimal struct {
	v     *big.Int
	scale int32
}

func (d decimal) String() string {
	r := new(big.Rat).SetFrac(d.v, pow10(d.scale))
	return r.FloatString(int(d.scale))
}

// scalar reads row i of a as an exact Go value: int64, uint64, float64,
// decimal, string, []byte, bool or time.Time (UTC).
func scalar(a arrow.Array, i int) any {
	switch a := a.(type) {
	case *array.Int8:
		return int64(a.Value(i))
	case *array.Int16:
		return int64(a.Value(i))
	case *array.Int32:
		return int64(a.Value(i))
	case *array.Int64:
		return a.Value(i)
	case *array.Uint8:
		return uint64(a.Value(i))
	case *array.Uint16:
		return uint64(a.Value(i))
	case *array.Uint32:
		return uint64(a.Value(i))
	case *array.Uint64:
		return a.Value(i)
	case *array.Float32:
		return float64(a.Value(i))
	case *array.Float64:
		return a.Value(i)
	case *array.Decimal128:
		return decimal{a.Value(i).BigInt(), a.DataType().(*arrow.Decimal128Type).Scale}
	case *array.Decimal256:
		return decimal{a.Value(i).BigInt(), a.DataType().(*arrow.Decimal256Type).Scale}
	case *array.String:
		return a.Value(i)
	case *array.Binary:
		return a.Value(i)
	case *array.Boolean:
		return a.Value(i)
	case *array.Date32:
		return a.Value(i).ToTime().UTC()
	case *array.Timestamp:
		return a.Value(i).ToTime(a.DataType().(*arrow.TimestampType).Unit).UTC()
	case *array.Time64:
		return time.Duration(a.Value(i)) * unitDuration(a.DataType().(*arrow.Time64Type).Unit)
	}
	return a.ValueStr(i)
}

func unitDuration(u arrow.TimeUnit) time.Duration {
	switch u {
	case arrow.Second:
		return time.Second
	case arrow.Millisecond:
		return time.Millisecond
	case arrow.Microsecond:
		return time.Microsecond
	}
	return time.Nanosecond
}

// goValue reads row i as expressions see it: integers that fit as
// int64, other numbers as exact decimals (never float64, unless the
// column is a float), times as time.Time, NULL as nil.
func goValue(a arrow.Array, i int) any {
	if a.IsNull(i) {
		return nil
	}
	switch v := scalar(a, i).(type) {
	case decimal:
		return v.normal()
	case uint64:
		if v <= math.MaxInt64 {
			return int64(v)
		}
		return decimal{new(big.Int).SetUint64(v), 0}
	case []byte:
		// A BINARY stays bytes: as a string it would be held to UTF-8
		// where copying it is not, and string functions would change
		// bytes that are not UTF-8.
		return bytes.Clone(v)
	default:
		return v
	}
}

// castColumn converts a source column to the destination column's type,
// keeping only rows in keep (all when nil). Identical types are shared,
// not copied, when no row is dropped and no NULL check applies.
func castColumn(mem memory.Allocator, a arrow.Array, col Column, keep []int) (arrow.Array, error) {
	target := col.Type.Arrow()
	needsNullCheck := !col.Type.Nullable && a.NullN() > 0
	if keep == nil && arrow.TypeEqual(a.DataType(), target) && !needsNullCheck && col.Default == nil && !rangeChecked(col) {
		if s, ok := a.(*array.String); ok {
			if i := invalidUTF8(s); i >= 0 {
				return nil, &cellError{row: i, msg: "invalid UTF-8 in a String value"}
			}
		}
		if i, err := firstTooLong(a, col.Type); i >= 0 {
			return nil, &cellError{row: i, msg: err.Error()}
		}
		a.Retain()
		return a, nil
	}
	if out, ok, err := fastCast(mem, a, col, keep); ok {
		return out, err
	}
	b := array.NewBuilder(mem, target)
	defer b.Release()
	n := a.Len()
	if keep != nil {
		n = len(keep)
	}
	b.Reserve(n)
	for k := 0; k < n; k++ {
		i := k
		if keep != nil {
			i = keep[k]
		}
		if a.IsNull(i) {
			if err := appendNull(b, col); err != nil {
				return nil, &cellError{row: k, msg: err.Error()}
			}
			continue
		}
		v := scalar(a, i)
		if col.Type.Kind == sqltype.String {
			switch a.(type) {
			case *array.Date32:
				v = v.(time.Time).Format(time.DateOnly) // a DATE as text is its date, not midnight UTC
			case *array.Timestamp:
				v = timestampText(v.(time.Time))
			}
		}
		if err := checkRange(col, v); err != nil {
			b.AppendNull()
			return nil, &cellError{row: k, msg: err.Error()}
		}
		if err := appendValue(b, col, v); err != nil {
			return nil, &cellError{row: k, msg: err.Error()}
		}
	}
	return b.NewArray(), nil
}

// rangeChecked reports whether a column's values must be checked against
// the destination's range even when the Arrow types match.
// limitsLength reports that t bounds the length of its values: a
// Snowflake VARCHAR(n) or BINARY(n), or a FixedString(n).
func limitsLength(t sqltype.Type) bool {
	return t.Length > 0 && (t.Dialect == sqltype.Snowflake || t.Fixed)
}

// checkLength refuses a value longer than t holds: characters for a
// Snowflake VARCHAR, bytes for BINARY and FixedString.
func checkLength(s string, t sqltype.Type) error {
	if !limitsLength(t) {
		return nil
	}
	if t.Dialect == sqltype.Snowflake && t.Kind == sqltype.String {
		if utf8.RuneCountInString(s) > t.Length {
			return fmt.Errorf("%q is longer than %d characters (%s)", truncate(s), t.Length, t)
		}
		return nil
	}
	if len(s) > t.Length {
		return fmt.Errorf("%q is longer than %d bytes (%s)", truncate(s), t.Length, t)
	}
	return nil
}

// firstTooLong is the first row of a string or binary column whose value
// t cannot hold, or -1.
func firstTooLong(a arrow.Array, t sqltype.Type) (int, error) {
	if !limitsLength(t) {
		return -1, nil
	}
	for i := 0; i < a.Len(); i++ {
		if a.IsNull(i) {
			continue
		}
		var v string
		switch x := a.(type) {
		case *array.String:
			v = x.Value(i)
		case *array.Binary:
			v = string(x.Value(i))
		default:
			return -1, nil
		}
		if err := checkLength(v, t); err != nil {
			return i, err
		}
	}
	return -1, nil
}

func rangeChecked(col Column) bool {
	_, ok := timeRange(col)
	_, digits := digitLimit(col)
	return ok || digits
}

// digitLimit is the largest magnitude a Snowflake NUMBER(p,0) with p up
// to 18 holds, 10^p-1: such a column travels as int64, whose own range
// is wider, so its values are checked against p's digits here rather
// than left for Snowflake to refuse without naming the row.
func digitLimit(col Column) (int64, bool) {
	t := col.Type
	if t.Dialect != sqltype.Snowflake || t.Kind != sqltype.Decimal || t.Scale != 0 || t.Precision > 18 {
		return 0, false
	}
	lim := int64(1)
	for range t.Precision {
		lim *= 10
	}
	return lim - 1, true
}

// buildFromValues builds a destination column from expression results.
func buildFromValues(mem memory.Allocator, col Column, vals []any) (arrow.Array, error) {
	b := array.NewBuilder(mem, col.Type.Arrow())
	defer b.Release()
	b.Reserve(len(vals))
	for k, v := range vals {
		if v == nil {
			if err := appendNull(b, col); err != nil {
				return nil, &cellError{row: k, msg: err.Error()}
			}
			continue
		}
		if i, ok := v.(int); ok {
			v = int64(i)
		}
		if err := checkRange(col, v); err != nil {
			return nil, &cellError{row: k, msg: err.Error()}
		}
		if err := appendValue(b, col, v); err != nil {
			return nil, &cellError{row: k, msg: err.Error()}
		}
	}
	return b.NewArray(), nil
}

// appendNull writes the column's default for a NULL, or a NULL where the
// column allows one.
func appendNull(b array.Builder, col Column) error {
	if col.Default != nil {
		v, err := parseDefault(col.Type, *col.Default)
		if err != nil {
			return err
		}
		return appendValue(b, col, v)
	}
	if !col.Type.Nullable {
		return fmt.Errorf("NULL into the non-nullable column type %s (make the type nullable or give a default)", col.Type)
	}
	b.AppendNull()
	return nil
}

func parseDefault(t sqltype.Type, s string) (any, error) {
	switch t.Kind {
	case sqltype.Int, sqltype.UInt:
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err
	case sqltype.Float:
		return strconv.ParseFloat(s, 64)
	case sqltype.Decimal:
		return parseDecimal(s)
	case sqltype.Bool:
		return strconv.ParseBool(s)
	case sqltype.Date, sqltype.Timestamp:
		if tm, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return tm, nil
		}
		return time.Parse(time.DateOnly, s)
	}
	return s, nil
}

func parseDecimal(s string) (decimal, error) {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return decimal{}, fmt.Errorf("%q is not a number", s)
	}
	scale := int32(0)
	if i := indexByte(s, '.'); i >= 0 {
		scale = int32(len(s) - i - 1)
	}
	num := new(big.Int).Mul(r.Num(), pow10(scale))
	return decimal{num.Quo(num, r.Denom()), scale}, nil
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

var bigOne = big.NewInt(1)

// appendValue converts v to the builder's type with every check the type
// mapping promises: no wrap on overflow, no clamp on range, no silent
// rounding beyond what the destination's scale needs.
func appendValue(b array.Builder, col Column, v any) error {
	t := col.Type
	switch b := b.(type) {
	case *array.Int8Builder:
		n, err := toInt(v, math.MinInt8, math.MaxInt8, t)
		b.Append(int8(n))
		return err
	case *array.Int16Builder:
		n, err := toInt(v, math.MinInt16, math.MaxInt16, t)
		b.Append(int16(n))
		return err
	case *array.Int32Builder:
		n, err := toInt(v, math.MinInt32, math.MaxInt32, t)
		b.Append(int32(n))
		return err
	case *array.Int64Builder:
		lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
		if lim, ok := digitLimit(col); ok {
			lo, hi = -lim, lim
		}
		n, err := toInt(v, lo, hi, t)
		b.Append(n)
		return err
	case *array.Uint8Builder:
		if bv, ok := v.(bool); ok {
			var n uint8
			if bv {
				n = 1
			}
			b.Append(n)
			return nil
		}
		n, err := toInt(v, 0, math.MaxUint8, t)
		b.Append(uint8(n))
		return err
	case *array.Uint16Builder:
		n, err := toInt(v, 0, math.MaxUint16, t)
		b.Append(uint16(n))
		return err
	case *array.Uint32Builder:
		n, err := toInt(v, 0, math.MaxUint32, t)
		b.Append(uint32(n))
		return err
	case *array.Uint64Builder:
		if u, ok := v.(uint64); ok {
			b.Append(u)
			return nil
		}
		if d, ok := v.(decimal); ok && d.v.Sign() > 0 {
			// Above Int64 a UInt64 still holds it: 2^63 to 2^64-1.
			q, r := new(big.Int).QuoRem(d.v, pow10(d.scale), new(big.Int))
			if r.Sign() == 0 && q.IsUint64() {
				b.Append(q.Uint64())
				return nil
			}
		}
		n, err := toInt(v, 0, math.MaxInt64, t)
		b.Append(uint64(n))
		return err
	case *array.Float32Builder:
		f, err := toFloat(v)
		b.Append(float32(f))
		return err
	case *array.Float64Builder:
		f, err := toFloat(v)
		b.Append(f)
		return err
	case *array.Decimal128Builder:
		dt := b.Type().(*arrow.Decimal128Type)
		d, err := toDecimal(v, dt.Precision, dt.Scale, t, col.AllowLossy)
		if err != nil {
			b.AppendNull()
			return err
		}
		b.Append(decimal128.FromBigInt(d))
		return nil
	case *array.Decimal256Builder:
		// A Decimal(39..76, s) column: the value keeps every digit, so a
		// NUMBER(38, s) widened into it is exact.
		dt := b.Type().(*arrow.Decimal256Type)
		d, err := toDecimal(v, dt.Precision, dt.Scale, t, col.AllowLossy)
		if err != nil {
			b.AppendNull()
			return err
		}
		b.Append(decimal256.FromBigInt(d))
		return nil
	case *array.StringBuilder:
		s, err := toString(v)
		if err == nil {
			err = checkLength(s, t)
		}
		b.Append(s)
		return err
	case *array.BinaryBuilder:
		switch v := v.(type) {
		case []byte:
			b.Append(v)
			return checkLength(string(v), t)
		case string:
			b.Append([]byte(v))
			return checkLength(v, t)
		default:
			b.AppendNull()
			return fmt.Errorf("%v is not bytes", v)
		}
	case *array.BooleanBuilder:
		switch v := v.(type) {
		case bool:
			b.Append(v)
		case int64:
			if v != 0 && v != 1 {
				b.AppendNull()
				return fmt.Errorf("%d is not a boolean", v)
			}
			b.Append(v == 1)
		default:
			b.AppendNull()
			return fmt.Errorf("%v is not a boolean", v)
		}
		return nil
	case *array.Date32Builder:
		tm, ok := v.(time.Time)
		if !ok {
			b.AppendNull()
			return fmt.Errorf("%v is not a date", v)
		}
		b.Append(arrow.Date32FromTime(tm))
		return nil
	case *array.TimestampBuilder:
		tm, ok := v.(time.Time)
		if !ok {
			b.AppendNull()
			return fmt.Errorf("%v is not a timestamp", v)
		}
		ts, err := arrow.TimestampFromTime(tm, b.Type().(*arrow.TimestampType).Unit)
		if err != nil {
			b.AppendNull()
			return err
		}
		if msg := precisionLoss(col, tm); msg != "" {
			b.AppendNull()
			return errors.New(msg)
		}
		b.Append(ts)
		return nil
	case *array.Time64Builder:
		d, ok := v.(time.Duration)
		if !ok {
			b.AppendNull()
			return fmt.Errorf("%v is not a time of day", v)
		}
		b.Append(arrow.Time64(d / unitDuration(b.Type().(*arrow.Time64Type).Unit)))
		return nil
	}
	b.AppendNull()
	return fmt.Errorf("writing %s values is not supported yet", t)
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}

func toInt(v any, lo, hi int64, t sqltype.Type) (int64, error) {
	var n int64
	switch v := v.(type) {
	case int64:
		n = v
	case uint64:
		if v > math.MaxInt64 {
			return 0, fmt.Errorf("%d overflows %s", v, t.Plain())
		}
		n = int64(v)
	case bool:
		if v {
			n = 1
		}
	case decimal:
		q, r := new(big.Int).QuoRem(v.v, pow10(v.scale), new(big.Int))
		if r.Sign() != 0 {
			return 0, fmt.Errorf("%s has a fraction; %s holds integers", v, t.Plain())
		}
		if !q.IsInt64() {
			return 0, fmt.Errorf("%s overflows %s", v, t.Plain())
		}
		n = q.Int64()
	case float64:
		if v != math.Trunc(v) || v < float64(lo) || v > float64(hi) {
			return 0, fmt.Errorf("%v does not fit %s", v, t.Plain())
		}
		n = int64(v)
	default:
		return 0, fmt.Errorf("%v (%T) is not a number", v, v)
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%d overflows %s", n, t.Plain())
	}
	return n, nil
}

func toFloat(v any) (float64, error) {
	if f, ok := asFloat(v); ok {
		return f, nil
	}
	return 0, fmt.Errorf("%v (%T) is not a number", v, v)
}

// toDecimal converts v to an unscaled integer at scale and checks it fits
// precision digits. A value with more decimal places than scale is an
// error, unless round (the column's allow_lossy) says to round it, half
// away from zero.
func toDecimal(v any, precision, scale int32, t sqltype.Type, round bool) (*big.Int, error) {
	var r *big.Rat
	switch v := v.(type) {
	case int64:
		r = new(big.Rat).SetInt64(v)
	case uint64:
		r = new(big.Rat).SetUint64(v)
	case decimal:
		r = new(big.Rat).SetFrac(v.v, pow10(v.scale))
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%v does not fit %s", v, t.Plain())
		}
		r = new(big.Rat).SetFloat64(v)
	case string:
		var ok bool
		if r, ok = new(big.Rat).SetString(v); !ok {
			return nil, fmt.Errorf("%q is not a number", v)
		}
	default:
		return nil, fmt.Errorf("%v (%T) is not a number", v, v)
	}
	scaled := new(big.Rat).Mul(r, new(big.Rat).SetInt(pow10(scale)))
	if !round && !scaled.IsInt() {
		return nil, fmt.Errorf("%s has more decimal places than %s holds", ratText(r), t.Plain())
	}
	q, m := new(big.Int).QuoRem(scaled.Num(), scaled.Denom(), new(big.Int))
	if new(big.Int).Mul(new(big.Int).Abs(m), big.NewInt(2)).Cmp(scaled.Denom()) >= 0 {
		if q.Sign() < 0 || scaled.Sign() < 0 {
			q.Sub(q, bigOne)
		} else {
			q.Add(q, bigOne)
		}
	}
	limit := pow10(precision)
	if new(big.Int).Abs(q).Cmp(limit) >= 0 {
		return nil, fmt.Errorf("%s overflows %s", r.FloatString(int(scale)), t.Plain())
	}
	return q, nil
}

// timestampText is a timestamp as text, YYYY-MM-DD HH:MM:SS and the
// fraction it has (as clockText): an instant (TIMESTAMP_LTZ and _TZ,
// which arrive in UTC) as its UTC clock. Every digit of any precision is
// kept, and the texts sort as the timestamps do.
func timestampText(tm time.Time) string {
	return tm.UTC().Format("2006-01-02 15:04:05.999999999")
}

// clockText is a time of day as HH:MM:SS with the fraction it has.
func clockText(d time.Duration) string {
	return time.Unix(0, 0).UTC().Add(d).Format("15:04:05.999999999")
}

// ratText spells a number that has a finite decimal expansion exactly,
// and others to 40 places.
func ratText(r *big.Rat) string {
	for places := 0; places <= 40; places++ {
		scaled := new(big.Rat).Mul(r, new(big.Rat).SetInt(pow10(int32(places))))
		if scaled.IsInt() {
			return r.FloatString(places)
		}
	}
	return r.FloatString(40) + "…"
}

func toString(v any) (string, error) {
	switch v := v.(type) {
	case string:
		if !utf8.ValidString(v) {
			return v, fmt.Errorf("invalid UTF-8 in a String value")
		}
		return v, nil
	case []byte:
		return string(v), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case uint64:
		return strconv.FormatUint(v, 10), nil
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64), nil
	case bool:
		return strconv.FormatBool(v), nil
	case decimal:
		return v.String(), nil
	case time.Time:
		return timestampText(v), nil
	case time.Duration: // a TIME: the clock, as Snowflake writes it
		return clockText(v), nil
	}
	return fmt.Sprint(v), nil
}
