//go:build duckdb_arrow

package snowflaketest

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// sfKind is a Snowflake result column type, as named in rowtype.
type sfKind string

const (
	kFixed    sfKind = "fixed"
	kReal     sfKind = "real"
	kText     sfKind = "text"
	kVariant  sfKind = "variant"
	kObject   sfKind = "object"
	kArray    sfKind = "array"
	kBoolean  sfKind = "boolean"
	kDate     sfKind = "date"
	kTime     sfKind = "time"
	kNTZ      sfKind = "timestamp_ntz"
	kLTZ      sfKind = "timestamp_ltz"
	kTZ       sfKind = "timestamp_tz"
	kBinary   sfKind = "binary"
	maxLength        = 16777216
)

// column describes one result column as Snowflake reports it.
type column struct {
	Name      string
	Kind      sfKind
	Precision int
	Scale     int
	Length    int
	Nullable  bool
	// Struct is the declared type of a structured column (structured.go):
	// Described when the rowtype lists its fields, Native when its values
	// are Arrow struct, list and map arrays rather than JSON text.
	Struct    *stype
	Described bool
	Native    bool
}

func (c column) rowType() map[string]any {
	rt := map[string]any{
		"name": c.Name, "type": string(c.Kind), "nullable": c.Nullable,
		"database": "", "schema": "", "table": "", "collation": nil,
		"precision": nil, "scale": nil, "length": nil, "byteLength": nil,
	}
	switch c.Kind {
	case kFixed:
		rt["precision"], rt["scale"] = c.Precision, c.Scale
	case kTime, kNTZ, kLTZ, kTZ:
		rt["scale"] = c.Scale
		rt["precision"] = 0
	case kText, kVariant, kObject, kArray, kMap:
		l := c.Length
		if l == 0 {
			l = maxLength
		}
		rt["length"], rt["byteLength"] = l, l
	case kBinary:
		rt["length"], rt["byteLength"] = 8388608, 8388608
	}
	if c.Struct != nil && c.Described {
		rt["fields"] = c.Struct.fieldsMeta()
	}
	return rt
}

// result is a finished statement's result, kept so the client can fetch
// it again by query id and download its chunks.
type result struct {
	id            string
	columns       []column
	format        string // "arrow" or "json"
	statementType int64
	total         int64
	// inline is the first chunk, in the response itself; chunks are the
	// rest, encoded when first downloaded.
	inline *chunk
	chunks []*chunk
	// status for DDL and DML: the single row of a non-query statement.
	status      [][]*string
	resultID    []string // statements of a multi-statement request
	resultTypes []string
	err         *Error
	done        chan struct{}
	finished    time.Time
	session     *session
	corrupt     int      // 1 + the row a CorruptText fault spoils; 0 for none
	structured  []*stype // declared structured types of the select list (structured.go)
	// structuredCols are the structured columns, by name, of the one
	// table a query reads.
	structuredCols func() map[string]*stype
	async          bool // submitted with asyncExec
}

// chunk is a slice of a result: Snowflake-encoded Arrow records, or the
// JSON rows, produced once on first use.
type chunk struct {
	rows    int
	records []arrow.RecordBatch // source records (DuckDB's Arrow)
	columns []column
	format  string
	gzip    bool

	once sync.Once
	data []byte // encoded body, for the inline chunk and JSON
	// file holds the encoded body of size bytes of a downloadable Arrow
	// chunk (see chunks.go).
	file string
	size int64
	json [][]*string
	err  error
}

// encode produces the chunk's body: an Arrow IPC stream in Snowflake's
// encoding, or JSON rows without the enclosing brackets, as Snowflake's
// storage serves them.
func (c *chunk) encode() ([]byte, error) {
	c.once.Do(func() {
		if c.format == "json" {
			rows, err := jsonRows(c.records, c.columns)
			if err != nil {
				c.err = err
				return
			}
			c.json = rows
			var b bytes.Buffer
			for i, r := range rows {
				if i > 0 {
					b.WriteByte(',')
				}
				writeJSONRow(&b, r)
			}
			c.data = b.Bytes()
		} else {
			c.data, c.err = arrowChunk(c.records, c.columns)
		}
		if c.err == nil && c.gzip {
			var z bytes.Buffer
			gw := gzip.NewWriter(&z)
			gw.Write(c.data)
			gw.Close()
			c.data = z.Bytes()
		}
	})
	return c.data, c.err
}

// release frees the chunk's records, after any encoding under way.
func (c *chunk) release() {
	c.once.Do(func() { c.err = fmt.Errorf("result evicted") })
	c.data, c.json = nil, nil
	if c.file != "" {
		os.Remove(c.file) // a download under way still reads it
	}
	for _, r := range c.records {
		r.Release()
	}
	c.records = nil
}

func writeJSONRow(b *bytes.Buffer, row []*string) {
	b.WriteByte('[')
	for i, v := range row {
		if i > 0 {
			b.WriteByte(',')
		}
		if v == nil {
			b.WriteString("null")
		} else {
			b.WriteString(strconv.Quote(*v))
		}
	}
	b.WriteByte(']')
}

// The DuckDB types a Snowflake TIME(p), TIMESTAMP_NTZ(p) and
// TIMESTAMP_LTZ(p) are stored as: aliases named by the precision, so a
// column or a cast reports its scale to the driver, as Snowflake does.
// TIME and TIMESTAMP_NTZ of precision 7 to 9 are DuckDB's nanosecond
// types (TIMESTAMP_NS holds 1677-09-21 to 2262-04-11 only; Snowflake
// holds years 1 to 9999); TIMESTAMPTZ holds microseconds, so an LTZ's
// digits beyond 6 are zero. Values are cut to the scale when a result is
// encoded (Snowflake truncates the extra digits on the way in).
const (
	timeAlias = "SF_TIME_"
	ntzAlias  = "SF_NTZ_"
	ltzAlias  = "SF_LTZ_"
)

// A scaleAlias is one alias and the DuckDB type id it names.
type scaleAlias struct {
	name string
	base int
}

// scaleAliases are the aliases of every precision.
func scaleAliases() []scaleAlias {
	var out []scaleAlias
	for p := 0; p <= 9; p++ {
		tm, ntz := duckTime, duckTimestamp
		if p > 6 {
			tm, ntz = duckTimeNS, duckTimestampNS
		}
		out = append(out, scaleAlias{fmt.Sprintf("%s%d", timeAlias, p), tm},
			scaleAlias{fmt.Sprintf("%s%d", ntzAlias, p), ntz},
			scaleAlias{fmt.Sprintf("%s%d", ltzAlias, p), duckTimestampTZ})
	}
	return out
}

// scaleOf is the scale an alias names, and 9 (Snowflake's default) for a
// value of no alias: an expression's result.
func scaleOf(alias, prefix string) int {
	if p, ok := strings.CutPrefix(strings.ToUpper(alias), prefix); ok && len(p) == 1 && p[0] >= '0' && p[0] <= '9' {
		return int(p[0] - '0')
	}
	return 9
}

// columnOf maps a DuckDB Arrow field to the Snowflake column it is
// reported as. alias is DuckDB's type alias (JSON for semi-structured).
func columnOf(f arrow.Field, alias string, declared *column) column {
	c := column{Name: f.Name, Nullable: true}
	switch t := f.Type.(type) {
	case *arrow.Int8Type, *arrow.Int16Type, *arrow.Int32Type, *arrow.Int64Type,
		*arrow.Uint8Type, *arrow.Uint16Type, *arrow.Uint32Type, *arrow.Uint64Type:
		c.Kind, c.Precision = kFixed, 38
	case *arrow.Decimal128Type:
		c.Kind, c.Precision, c.Scale = kFixed, int(t.Precision), int(t.Scale)
	case *arrow.Float32Type, *arrow.Float64Type:
		c.Kind = kReal
	case *arrow.StringType, *arrow.LargeStringType, *arrow.StringViewType:
		c.Kind = kText
		if alias == "JSON" {
			c.Kind = kVariant
		}
	case *arrow.BooleanType:
		c.Kind = kBoolean
	case *arrow.Date32Type, *arrow.Date64Type:
		c.Kind = kDate
	case *arrow.Time32Type, *arrow.Time64Type:
		c.Kind, c.Scale = kTime, scaleOf(alias, timeAlias)
	case *arrow.TimestampType:
		// DuckDB's TIMESTAMPTZ is an instant shown in the session's
		// zone: Snowflake's TIMESTAMP_LTZ.
		c.Kind, c.Scale = kNTZ, scaleOf(alias, ntzAlias)
		if t.TimeZone != "" {
			c.Kind, c.Scale = kLTZ, scaleOf(alias, ltzAlias)
		}
	case *arrow.StructType:
		c.Kind = kText
		if alias == tzType {
			c.Kind, c.Scale = kTZ, 9
		}
	case *arrow.BinaryType, *arrow.LargeBinaryType, *arrow.BinaryViewType, *arrow.FixedSizeBinaryType:
		c.Kind = kBinary
	default:
		c.Kind = kText
	}
	if declared != nil {
		// A table column keeps what its DDL declared: LTZ versus TZ,
		// OBJECT versus VARIANT, VARCHAR lengths.
		switch {
		case declared.Kind == kLTZ && c.Kind == kTZ, declared.Kind == kTZ && c.Kind == kTZ:
			c.Kind = declared.Kind
		case (declared.Kind == kObject || declared.Kind == kArray) && c.Kind == kVariant:
			c.Kind = declared.Kind
		case declared.Kind == kText && c.Kind == kText:
			c.Length = declared.Length
		}
		if declared.Kind == c.Kind && (c.Kind == kNTZ || c.Kind == kLTZ || c.Kind == kTZ || c.Kind == kTime) {
			c.Scale = declared.Scale
		}
		c.Nullable = declared.Nullable
	}
	return c
}

// arrowChunk encodes records as one IPC stream in Snowflake's Arrow
// encoding: integers in the narrowest type that holds every value of the
// chunk, decimals as int64 while they fit, timestamps as epoch/fraction
// structs, times as nanoseconds.
func arrowChunk(records []arrow.RecordBatch, cols []column) ([]byte, error) {
	b := new(bytes.Buffer)
	if err := arrowChunkTo(b, records, cols, false); err != nil || b.Len() == 0 {
		return nil, err
	}
	return b.Bytes(), nil
}

// arrowChunkTo is arrowChunk into b, gzipped when asked; nothing for no
// records.
func arrowChunkTo(b *bytes.Buffer, records []arrow.RecordBatch, cols []column, gz bool) error {
	out, err := snowflakeRecords(records, cols)
	defer func() {
		for _, r := range out {
			r.Release()
		}
	}()
	if err != nil || len(out) == 0 {
		return err
	}
	if !gz {
		return writeIPC(b, out)
	}
	var raw bytes.Buffer
	if err := writeIPC(&raw, out); err != nil {
		return err
	}
	gw := gzip.NewWriter(b)
	gw.Write(raw.Bytes())
	return gw.Close()
}

// snowflakeRecords converts records to Snowflake's encoding.
func snowflakeRecords(records []arrow.RecordBatch, cols []column) ([]arrow.RecordBatch, error) {
	mem := memory.DefaultAllocator
	widths := make([]int, len(cols))
	for i := range cols {
		widths[i] = integerWidth(records, i)
	}
	var fields []arrow.Field
	var out []arrow.RecordBatch
	for _, rec := range records {
		arrs := make([]arrow.Array, len(cols))
		for i := range cols {
			a, err := encodeColumn(mem, rec.Column(i), cols[i], widths[i])
			if err != nil {
				for _, a := range arrs[:i] {
					a.Release()
				}
				return out, fmt.Errorf("column %s: %w", cols[i].Name, err)
			}
			arrs[i] = a
		}
		if fields == nil {
			for i, c := range cols {
				fields = append(fields, arrow.Field{Name: c.Name, Type: arrs[i].DataType(), Nullable: true,
					Metadata: arrow.NewMetadata([]string{"logicalType", "precision", "scale"},
						[]string{strings.ToUpper(string(c.Kind)), strconv.Itoa(c.Precision), strconv.Itoa(c.Scale)})})
			}
		}
		r := array.NewRecordBatch(arrow.NewSchema(fields, nil), arrs, rec.NumRows())
		for _, a := range arrs {
			a.Release()
		}
		out = append(out, r)
	}
	return out, nil
}

// writeIPC writes records as one IPC stream into b.
func writeIPC(b *bytes.Buffer, out []arrow.RecordBatch) error {
	mem := memory.DefaultAllocator
	// Size the buffer up front: growing it copies and clears megabytes.
	size := 4096
	for _, r := range out {
		// A record's message header: a field node and the buffer
		// entries of each column and child (an estimate that fell short
		// doubled the buffer, copying the whole chunk, at the end).
		size += 256 + 32*int(r.NumCols())*4
		for _, c := range r.Columns() {
			size += dataSize(c.Data()) + 64
		}
	}
	b.Grow(size)
	w := ipc.NewWriter(b, ipc.WithSchema(out[0].Schema()), ipc.WithAllocator(mem))
	for _, r := range out {
		if err := w.Write(r); err != nil {
			return err
		}
	}
	return w.Close()
}

// dataSize is the bytes an array's buffers hold, children included.
func dataSize(d arrow.ArrayData) int {
	n := 0
	for _, buf := range d.Buffers() {
		if buf != nil {
			n += buf.Len() + 8
		}
	}
	for _, c := range d.Children() {
		n += dataSize(c)
	}
	return n
}

// integerWidth returns the byte width of the narrowest signed integer that
// holds every value of column i across records (unscaled, for decimals),
// or 16 when some value needs a decimal128. Non-numeric columns get 0.
func integerWidth(records []arrow.RecordBatch, i int) int {
	lo, hi := int64(0), int64(0)
	for _, rec := range records {
		switch a := rec.Column(i).(type) {
		case *array.Decimal128:
			vals := a.Values()
			nulls := a.NullN() > 0
			for j := range vals {
				if nulls && a.IsNull(j) {
					continue
				}
				v := vals[j]
				hiBits, loBits := v.HighBits(), v.LowBits()
				if !(hiBits == 0 && loBits <= math.MaxInt64 || hiBits == -1 && loBits >= 1<<63) {
					return 16
				}
				n := int64(loBits)
				lo, hi = min(lo, n), max(hi, n)
			}
		case *array.Int8:
			lo, hi = intRange(a.Int8Values(), a, lo, hi)
		case *array.Int16:
			lo, hi = intRange(a.Int16Values(), a, lo, hi)
		case *array.Int32:
			lo, hi = intRange(a.Int32Values(), a, lo, hi)
		case *array.Int64:
			lo, hi = intRange(a.Int64Values(), a, lo, hi)
		case *array.Uint8, *array.Uint16, *array.Uint32:
			for j := 0; j < a.Len(); j++ {
				if !a.IsNull(j) {
					hi = max(hi, intValue(a, j))
				}
			}
		case *array.Uint64:
			for j := 0; j < a.Len(); j++ {
				if a.IsNull(j) {
					continue
				}
				if a.Value(j) > math.MaxInt64 {
					return 16
				}
				hi = max(hi, int64(a.Value(j)))
			}
		default:
			return 0
		}
	}
	switch {
	case lo >= math.MinInt8 && hi <= math.MaxInt8:
		return 1
	case lo >= math.MinInt16 && hi <= math.MaxInt16:
		return 2
	case lo >= math.MinInt32 && hi <= math.MaxInt32:
		return 4
	}
	return 8
}

// intRange widens [lo, hi] to hold every valid value of vals, a's values.
func intRange[T int8 | int16 | int32 | int64](vals []T, a arrow.Array, lo, hi int64) (int64, int64) {
	if a.NullN() == 0 {
		for _, v := range vals {
			lo, hi = min(lo, int64(v)), max(hi, int64(v))
		}
		return lo, hi
	}
	for j, v := range vals {
		if a.IsValid(j) {
			lo, hi = min(lo, int64(v)), max(hi, int64(v))
		}
	}
	return lo, hi
}

func intValue(a arrow.Array, j int) int64 {
	switch a := a.(type) {
	case *array.Int8:
		return int64(a.Value(j))
	case *array.Int16:
		return int64(a.Value(j))
	case *array.Int32:
		return int64(a.Value(j))
	case *array.Int64:
		return a.Value(j)
	case *array.Uint8:
		return int64(a.Value(j))
	case *array.Uint16:
		return int64(a.Value(j))
	case *array.Uint32:
		return int64(a.Value(j))
	case *array.Uint64:
		return int64(a.Value(j))
	case *array.Decimal128:
		return int64(a.Value(j).LowBits())
	}
	return 0
}

// encodeColumn converts one DuckDB Arrow column to Snowflake's encoding.
func encodeColumn(mem memory.Allocator, a arrow.Array, c column, width int) (arrow.Array, error) {
	n := a.Len()
	if c.Native {
		a.Retain() // encoded by applyStructured
		return a, nil
	}
	switch c.Kind {
	case kFixed:
		if width == 16 {
			b := array.NewDecimal128Builder(mem, &arrow.Decimal128Type{Precision: int32(max(c.Precision, 1)), Scale: int32(c.Scale)})
			defer b.Release()
			for j := 0; j < n; j++ {
				switch {
				case a.IsNull(j):
					b.AppendNull()
				case a.DataType().ID() == arrow.DECIMAL128:
					b.Append(a.(*array.Decimal128).Value(j))
				case a.DataType().ID() == arrow.UINT64:
					b.Append(decimal128.FromU64(a.(*array.Uint64).Value(j)))
				default:
					b.Append(decimal128.FromI64(intValue(a, j)))
				}
			}
			return b.NewArray(), nil
		}
		return narrowInts(mem, a, width), nil
	case kReal:
		if f, ok := a.(*array.Float32); ok {
			b := array.NewFloat64Builder(mem)
			defer b.Release()
			for j := 0; j < n; j++ {
				if f.IsNull(j) {
					b.AppendNull()
				} else {
					b.Append(float64(f.Value(j)))
				}
			}
			return b.NewArray(), nil
		}
	case kTime:
		b := array.NewInt64Builder(mem)
		defer b.Release()
		for j := 0; j < n; j++ {
			if a.IsNull(j) {
				b.AppendNull()
				continue
			}
			b.Append(timeNanos(a, j) / pow10(9-c.Scale))
		}
		return b.NewArray(), nil
	case kNTZ, kLTZ:
		if c.Scale <= 7 {
			return encodeScaled(mem, a, c)
		}
		return encodeTimestamps(mem, a, c)
	case kTZ:
		return encodeTimestamps(mem, a, c)
	case kText, kVariant, kObject, kArray, kMap:
		if _, ok := a.(*array.String); !ok {
			b := array.NewStringBuilder(mem)
			defer b.Release()
			for j := 0; j < n; j++ {
				if a.IsNull(j) {
					b.AppendNull()
				} else {
					b.Append(a.ValueStr(j))
				}
			}
			return b.NewArray(), nil
		}
	case kBinary:
		if _, ok := a.(*array.Binary); !ok {
			b := array.NewBinaryBuilder(mem, arrow.BinaryTypes.Binary)
			defer b.Release()
			for j := 0; j < n; j++ {
				if a.IsNull(j) {
					b.AppendNull()
				} else {
					b.Append(a.(interface{ Value(int) []byte }).Value(j))
				}
			}
			return b.NewArray(), nil
		}
	}
	a.Retain()
	return a, nil
}

// narrowInts copies integer or decimal values into the integer type of
// width bytes.
func narrowInts(mem memory.Allocator, a arrow.Array, width int) arrow.Array {
	switch width {
	case 1:
		return narrowTo[int8](a, arrow.PrimitiveTypes.Int8)
	case 2:
		return narrowTo[int16](a, arrow.PrimitiveTypes.Int16)
	case 4:
		return narrowTo[int32](a, arrow.PrimitiveTypes.Int32)
	}
	return narrowTo[int64](a, arrow.PrimitiveTypes.Int64)
}

// narrowTo writes the values of a into a new array of type t, whose Go
// type is T, straight into its buffer.
func narrowTo[T int8 | int16 | int32 | int64](a arrow.Array, t arrow.DataType) arrow.Array {
	n := a.Len()
	v := make([]T, n)
	// Values under a null are converted too: they are never read.
	switch a := a.(type) {
	case *array.Int8:
		convertInts(v, a.Int8Values())
	case *array.Int16:
		convertInts(v, a.Int16Values())
	case *array.Int32:
		convertInts(v, a.Int32Values())
	case *array.Int64:
		convertInts(v, a.Int64Values())
	case *array.Decimal128:
		for j, d := range a.Values() {
			v[j] = T(int64(d.LowBits()))
		}
	default:
		for j := range v {
			if a.IsValid(j) {
				v[j] = T(intValue(a, j))
			}
		}
	}
	return fixedArray(t, a, bytesOf(v))
}

// bytesOf is the memory of a slice of fixed-width values.
func bytesOf[T any](v []T) []byte {
	if len(v) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), len(v)*int(unsafe.Sizeof(v[0])))
}

// validityOf is a copy of a's validity bitmap from its offset, nil when
// a has no NULLs.
func validityOf(a arrow.Array) *memory.Buffer {
	if a.NullN() == 0 {
		return nil
	}
	bm := make([]byte, bitutil.BytesForBits(int64(a.Len())))
	bitutil.CopyBitmap(a.NullBitmapBytes(), a.Data().Offset(), a.Len(), bm, 0)
	return memory.NewBufferBytes(bm)
}

// fixedArray makes an array of type t over vals, a's rows' values, with
// a's validity.
func fixedArray(t arrow.DataType, a arrow.Array, vals []byte) arrow.Array {
	d := array.NewData(t, a.Len(), []*memory.Buffer{validityOf(a), memory.NewBufferBytes(vals)}, nil, a.NullN(), 0)
	defer d.Release()
	return array.MakeFromData(d)
}

func convertInts[T, S int8 | int16 | int32 | int64](dst []T, src []S) {
	for j, x := range src {
		dst[j] = T(x)
	}
}

func pow10(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}

// timeNanos returns a time-of-day value in nanoseconds.
func timeNanos(a arrow.Array, j int) int64 {
	switch t := a.(type) {
	case *array.Time64:
		v := int64(t.Value(j))
		if t.DataType().(*arrow.Time64Type).Unit == arrow.Microsecond {
			return v * 1000
		}
		return v
	case *array.Time32:
		v := int64(t.Value(j))
		if t.DataType().(*arrow.Time32Type).Unit == arrow.Millisecond {
			return v * 1_000_000
		}
		return v * 1_000_000_000
	}
	return 0
}

// epochNanos returns a timestamp value as seconds and nanoseconds.
func epochNanos(a *array.Timestamp, j int) (int64, int32) {
	v := int64(a.Value(j))
	var unit int64
	switch a.DataType().(*arrow.TimestampType).Unit {
	case arrow.Second:
		unit = 1_000_000_000
	case arrow.Millisecond:
		unit = 1_000_000
	case arrow.Microsecond:
		unit = 1000
	default:
		unit = 1
	}
	perSec := 1_000_000_000 / unit
	sec := v / perSec
	rem := v % perSec
	if rem < 0 {
		sec--
		rem += perSec
	}
	return sec, int32(rem * unit)
}

// encodeScaled writes TIMESTAMP_NTZ and _LTZ values of scales up to 7
// as Snowflake does: an int64 of the instant in units of 10^-scale
// seconds (years 1 to 9999 fit), rounded down.
func encodeScaled(mem memory.Allocator, a arrow.Array, c column) (arrow.Array, error) {
	ts, _, err := timestampsOf(a)
	if err != nil {
		return nil, err
	}
	b := array.NewInt64Builder(mem)
	defer b.Release()
	for j := 0; j < ts.Len(); j++ {
		if a.IsNull(j) {
			b.AppendNull()
			continue
		}
		sec, frac := epochNanos(ts, j)
		b.Append(sec*pow10(c.Scale) + int64(frac)/pow10(9-c.Scale))
	}
	return b.NewArray(), nil
}

// encodeTimestamps writes timestamps as Snowflake does at scale 9: a
// struct of epoch seconds and nanosecond fraction, plus the time zone
// offset (minutes + 1440) for TIMESTAMP_TZ.
func encodeTimestamps(mem memory.Allocator, a arrow.Array, c column) (arrow.Array, error) {
	ts, offsets, err := timestampsOf(a)
	if err != nil {
		return nil, err
	}
	fields := []arrow.Field{
		{Name: "epoch", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "fraction", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	}
	if c.Kind == kTZ {
		fields = append(fields, arrow.Field{Name: "timezone", Type: arrow.PrimitiveTypes.Int32, Nullable: true})
	}
	// Whole columns at a time, straight into the buffers: a builder call
	// per value cost more than the arithmetic.
	n := ts.Len()
	epochs, fracs := make([]int64, n), make([]int32, n)
	unit := ts.DataType().(*arrow.TimestampType).Unit
	perSec := int64(time.Second / unit.Multiplier())
	nanos := int64(unit.Multiplier())
	cut := int64(pow10(9 - c.Scale)) // the column's scale: digits below it are cut
	for j, v := range ts.TimestampValues() {
		sec, rem := int64(v)/perSec, int64(v)%perSec
		if rem < 0 {
			sec--
			rem += perSec
		}
		frac := rem * nanos
		epochs[j], fracs[j] = sec, int32(frac-frac%cut)
	}
	// A null struct has null fields.
	valid := validityOf(a)
	child := func(t arrow.DataType, vals []byte) arrow.ArrayData {
		return array.NewData(t, n, []*memory.Buffer{valid, memory.NewBufferBytes(vals)}, nil, a.NullN(), 0)
	}
	children := []arrow.ArrayData{child(arrow.PrimitiveTypes.Int64, bytesOf(epochs)), child(arrow.PrimitiveTypes.Int32, bytesOf(fracs))}
	if c.Kind == kTZ {
		tz := make([]int32, n)
		for j := range tz {
			tz[j] = 1440 + offsetOf(offsets, j)
		}
		children = append(children, child(arrow.PrimitiveTypes.Int32, bytesOf(tz)))
	}
	d := array.NewData(arrow.StructOf(fields...), n, []*memory.Buffer{valid}, children, a.NullN(), 0)
	for _, ch := range children {
		ch.Release()
	}
	defer d.Release()
	return array.MakeFromData(d), nil
}

// timestampsOf splits a timestamp column into its instants and, for
// SF_TIMESTAMP_TZ's struct, its offsets in minutes.
func timestampsOf(a arrow.Array) (*array.Timestamp, *array.Int16, error) {
	switch a := a.(type) {
	case *array.Timestamp:
		return a, nil, nil
	case *array.Struct:
		ts, ok1 := a.Field(0).(*array.Timestamp)
		off, ok2 := a.Field(1).(*array.Int16)
		if ok1 && ok2 {
			return ts, off, nil
		}
	}
	return nil, nil, fmt.Errorf("expected timestamps, got %s", a.DataType())
}

func offsetOf(offsets *array.Int16, j int) int32 {
	if offsets == nil {
		return 0
	}
	return int32(offsets.Value(j))
}

// jsonRows renders records as Snowflake's JSON rowset: every value a
// string in the form the driver parses for the column's type.
func jsonRows(records []arrow.RecordBatch, cols []column) ([][]*string, error) {
	var rows [][]*string
	for _, rec := range records {
		base := len(rows)
		for range rec.NumRows() {
			rows = append(rows, make([]*string, len(cols)))
		}
		for i, c := range cols {
			a := rec.Column(i)
			for j := 0; j < a.Len(); j++ {
				if a.IsNull(j) {
					continue
				}
				v, err := jsonValue(a, j, c)
				if err != nil {
					return nil, fmt.Errorf("column %s: %w", c.Name, err)
				}
				rows[base+j][i] = &v
			}
		}
	}
	return rows, nil
}

func jsonValue(a arrow.Array, j int, c column) (string, error) {
	switch c.Kind {
	case kFixed:
		if d, ok := a.(*array.Decimal128); ok {
			return formatDecimal(d.Value(j).BigInt(), c.Scale), nil
		}
		if u, ok := a.(*array.Uint64); ok {
			return strconv.FormatUint(u.Value(j), 10), nil
		}
		return strconv.FormatInt(intValue(a, j), 10), nil
	case kReal:
		switch f := a.(type) {
		case *array.Float64:
			return strconv.FormatFloat(f.Value(j), 'g', -1, 64), nil
		case *array.Float32:
			return strconv.FormatFloat(float64(f.Value(j)), 'g', -1, 32), nil
		}
	case kBoolean:
		if a.(*array.Boolean).Value(j) {
			return "1", nil
		}
		return "0", nil
	case kDate:
		switch d := a.(type) {
		case *array.Date32:
			return strconv.Itoa(int(d.Value(j))), nil
		case *array.Date64:
			return strconv.FormatInt(int64(d.Value(j))/86_400_000, 10), nil
		}
	case kTime:
		ns := timeNanos(a, j)
		ns -= ns % pow10(9-c.Scale)
		return fmt.Sprintf("%d.%09d", ns/1e9, ns%1e9), nil
	case kNTZ, kLTZ, kTZ:
		ts, offsets, err := timestampsOf(a)
		if err != nil {
			return "", err
		}
		sec, frac := epochNanos(ts, j)
		frac -= frac % int32(pow10(9-c.Scale))
		s := fmt.Sprintf("%d.%09d", sec, frac)
		if c.Kind == kTZ {
			s += " " + strconv.Itoa(int(1440+offsetOf(offsets, j)))
		}
		return s, nil
	case kBinary:
		return strings.ToUpper(hex.EncodeToString(a.(interface{ Value(int) []byte }).Value(j))), nil
	}
	return a.ValueStr(j), nil
}

// formatDecimal writes an unscaled integer with scale decimal places.
func formatDecimal(v *big.Int, scale int) string {
	s := v.String()
	if scale == 0 {
		return s
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for len(s) <= scale {
		s = "0" + s
	}
	s = s[:len(s)-scale] + "." + s[len(s)-scale:]
	if neg {
		s = "-" + s
	}
	return s
}

// base64Of encodes an inline chunk for rowsetBase64.
func base64Of(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func newGzipReader(r io.Reader) (io.ReadCloser, error) { return gzip.NewReader(r) }
