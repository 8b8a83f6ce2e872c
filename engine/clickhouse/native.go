package clickhouse

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"

	"github.com/hockeystack/sluice/engine/internal/num"
	"github.com/hockeystack/sluice/engine/sqltype"
)

// The native encoder writes Arrow columns as ClickHouse Native column data
// straight from Arrow's buffers: fixed-width values copied, decimals from
// their two's-complement bytes, dates and times by integer arithmetic,
// strings from offsets and data, null maps from validity bitmaps, and
// LowCardinality dictionaries built per block. No value becomes a Go
// value on the way (no time.Time, big.Int or pointer per value), which is
// where the conversion through clickhouse-go's Go slices spent its CPU
// and made its garbage.
//
// The encoded bytes are what a Native block carries for the column after
// its name and type (and, for LowCardinality, after the serialization
// prefix, which the block writer adds). The sink hands them to
// clickhouse-go's column Decode, so the handshake, compression, block
// framing and server errors stay with the driver; see Sink.insert.

// nativeKind says how a column's values are encoded.
type nativeKind int

const (
	nativeCopy           nativeKind = iota // fixed-width values, Arrow's bytes as they are
	nativeBool                             // Arrow booleans to UInt8/Bool bytes 0 and 1
	nativeDate                             // Arrow date32 days to Date's UInt16
	nativeDateTime                         // Arrow timestamps to DateTime's UInt32 seconds
	nativeDecimal                          // Arrow decimal128/256 to Decimal32/64/128/256
	nativeString                           // Arrow string/binary to String
	nativeLowCardinality                   // Arrow string to LowCardinality(String)
)

// nativeColumn accumulates one column of a block.
type nativeColumn struct {
	name  string
	typ   sqltype.Type
	arrow arrow.DataType // the Arrow type the column takes
	kind  nativeKind
	width int // bytes per value of nativeCopy, nativeDecimal
	rows  int
	data  []byte // values (nativeString: length-prefixed strings)
	nulls []byte // Nullable's null map, one byte a row
	// LowCardinality: the dictionary (clickhouse-go's layout: row 0 the
	// default, and row 1 too when the column is Nullable, NULL being key 0)
	// and a key per row.
	dict     map[string]uint64
	dictData []byte
	dictRows int
	keys     []uint64
}

// newNativeColumn returns the encoder for a column of type t, or false
// when the native path does not encode that type (the column then goes
// through clickhouse-go's Go values).
func newNativeColumn(name string, t sqltype.Type) (*nativeColumn, bool) {
	c := &nativeColumn{name: name, typ: t, arrow: t.Arrow()}
	switch t.Kind {
	case sqltype.Int, sqltype.UInt, sqltype.Float:
		if t.LowCardinality || t.Bits > 64 {
			return nil, false
		}
		c.kind, c.width = nativeCopy, t.Bits/8
	case sqltype.Bool:
		if t.LowCardinality {
			return nil, false
		}
		c.kind = nativeBool
	case sqltype.Decimal:
		if t.LowCardinality {
			return nil, false
		}
		c.kind, c.width = nativeDecimal, decimalWidth(t.Precision)
	case sqltype.Date:
		if t.LowCardinality {
			return nil, false
		}
		c.kind = nativeDate
		if t.Name() == "Date32" {
			c.kind, c.width = nativeCopy, 4 // Date32 is Int32 days, as Arrow's date32
		}
	case sqltype.Timestamp:
		if t.LowCardinality {
			return nil, false
		}
		switch t.Name() {
		case "DateTime":
			c.kind = nativeDateTime
		case "DateTime64":
			// Arrow carries DateTime64(p) in the unit of p: the same
			// integer when the unit is exactly 10^-p seconds.
			if unit := c.arrow.(*arrow.TimestampType).Unit; time.Duration(math.Pow10(9-t.Precision)) != unit.Multiplier() {
				return nil, false
			}
			c.kind, c.width = nativeCopy, 8
		default:
			return nil, false
		}
	case sqltype.String:
		if t.Fixed || t.Name() != "String" {
			return nil, false
		}
		c.kind = nativeString
		if t.LowCardinality {
			c.kind = nativeLowCardinality
		}
	default:
		return nil, false
	}
	if t.Kind == sqltype.UInt && t.Bits == 8 {
		// Booleans go to UInt8 columns on servers without Bool, so a
		// UInt8 column takes Arrow's uint8 or boolean arrays.
		c.kind, c.arrow = nativeBool, nil
	}
	return c, true
}

// decimalWidth is the bytes ClickHouse stores a Decimal of precision p in.
func decimalWidth(p int) int {
	switch {
	case p <= 9:
		return 4
	case p <= 18:
		return 8
	case p <= 38:
		return 16
	}
	return 32
}

// takes reports whether the column encodes arrays of a's type.
func (c *nativeColumn) takes(a arrow.Array) bool {
	if c.arrow == nil { // UInt8: unsigned bytes or booleans
		id := a.DataType().ID()
		if id == arrow.BOOL {
			return true
		}
		return id == arrow.UINT8
	}
	switch c.kind {
	case nativeString, nativeLowCardinality:
		switch a.DataType().ID() {
		case arrow.STRING, arrow.BINARY:
			return true
		}
		return false
	case nativeDateTime:
		_, ok := a.DataType().(*arrow.TimestampType)
		return ok
	case nativeDecimal:
		switch d := a.DataType().(type) {
		case *arrow.Decimal128Type:
			return int(d.Scale) == c.typ.Scale
		case *arrow.Decimal256Type:
			return int(d.Scale) == c.typ.Scale
		}
		return false
	}
	return arrow.TypeEqual(a.DataType(), c.arrow)
}

// notExact is append's error for a value the native path cannot encode
// exactly (outside the storage type's range); the caller reports it.
type notExact struct{ row int }

func (e *notExact) Error() string { return fmt.Sprintf("row %d does not fit its type", e.row) }

// append adds an array's rows. On a *notExact error the column is left as it
// was.
func (c *nativeColumn) append(a arrow.Array) error {
	n := a.Len()
	if n == 0 {
		return nil
	}
	mark := [...]int{len(c.data), len(c.nulls), len(c.keys)}
	var err error
	switch c.kind {
	case nativeCopy:
		c.data = append(c.data, fixedBytes(a, c.width)...)
		c.zeroNulls(a, mark[0], c.width)
	case nativeBool:
		if b, ok := a.(*array.Boolean); ok {
			// Only the validity of a boolean array says null; the value
			// bit under a null is written as clickhouse-go writes it, 0.
			bits := b.Data().Buffers()[1].Bytes()
			off := b.Data().Offset()
			c.data = grow(c.data, n)
			out := c.data[len(c.data)-n:]
			for i := range out {
				out[i] = 0
				if bitutil.BitIsSet(bits, off+i) {
					out[i] = 1
				}
			}
		} else { // UInt8
			c.data = append(c.data, fixedBytes(a, 1)...)
		}
		c.zeroNulls(a, mark[0], 1)
	case nativeDate:
		days := a.(*array.Date32).Date32Values()
		c.data = grow(c.data, 2*n)
		out := c.data[mark[0]:]
		nulls := a.NullN() > 0
		for i, d := range days {
			if nulls && !a.IsValid(i) {
				d = 0
			}
			if d < 0 || d > math.MaxUint16 {
				err = &notExact{i}
				break
			}
			binary.LittleEndian.PutUint16(out[2*i:], uint16(d))
		}
	case nativeDateTime:
		ts := a.(*array.Timestamp)
		perSec := int64(time.Second / ts.DataType().(*arrow.TimestampType).Unit.Multiplier())
		c.data = grow(c.data, 4*n)
		out := c.data[mark[0]:]
		nulls := a.NullN() > 0
		for i, v := range ts.TimestampValues() {
			s := int64(0)
			if !nulls || a.IsValid(i) {
				s = num.FloorDiv(int64(v), perSec)
			}
			if s < 0 || s > math.MaxUint32 {
				err = &notExact{i}
				break
			}
			binary.LittleEndian.PutUint32(out[4*i:], uint32(s))
		}
	case nativeDecimal:
		err = c.appendDecimals(a, mark[0])
	case nativeString:
		c.appendStrings(a)
	case nativeLowCardinality:
		c.appendKeys(a)
	}
	if err != nil {
		c.data, c.keys = c.data[:mark[0]], c.keys[:mark[2]]
		return err
	}
	if c.typ.Nullable && c.kind != nativeLowCardinality {
		c.nulls = appendNullMap(c.nulls, a)
	}
	c.rows += n
	return nil
}

// grow extends b by n bytes.
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), 2*cap(b)+n)
		copy(nb, b)
		b = nb
	}
	return b[:len(b)+n]
}

// fixedBytes is the value buffer of a fixed-width array, width bytes a
// value, from its offset: Arrow's little-endian layout is Native's.
func fixedBytes(a arrow.Array, width int) []byte {
	d := a.Data()
	buf := d.Buffers()[1].Bytes()
	return buf[d.Offset()*width : (d.Offset()+d.Len())*width]
}

// zeroNulls writes zero over the values of null rows appended from start,
// the value clickhouse-go writes for them, so the bytes do not depend on
// what Arrow left under a null.
func (c *nativeColumn) zeroNulls(a arrow.Array, start, width int) {
	if a.NullN() == 0 {
		return
	}
	for i := 0; i < a.Len(); i++ {
		if a.IsNull(i) {
			clear(c.data[start+i*width : start+(i+1)*width])
		}
	}
}

// appendNullMap adds a byte a row, 1 for NULL.
func appendNullMap(nulls []byte, a arrow.Array) []byte {
	n := a.Len()
	start := len(nulls)
	nulls = grow(nulls, n)
	out := nulls[start:]
	if a.NullN() == 0 {
		clear(out)
		return nulls
	}
	for i := range out {
		out[i] = 0
		if a.IsNull(i) {
			out[i] = 1
		}
	}
	return nulls
}

// appendDecimals writes two's-complement integers of c.width bytes from
// Arrow's decimal128 (16 bytes, low word first) or decimal256 (32 bytes).
// A value wider than the column's storage is not exact.
func (c *nativeColumn) appendDecimals(a arrow.Array, start int) error {
	n := a.Len()
	d := a.Data()
	src := 16
	if d.DataType().ID() == arrow.DECIMAL256 {
		src = 32
	}
	raw := d.Buffers()[1].Bytes()[d.Offset()*src : (d.Offset()+n)*src]
	w := c.width
	c.data = grow(c.data, w*n)
	out := c.data[start:]
	if src == 16 && w <= 8 && a.NullN() == 0 {
		return appendNarrowDecimals(out, raw, w, n)
	}
	for i := 0; i < n; i++ {
		v := raw[i*src : (i+1)*src]
		o := out[i*w : (i+1)*w]
		if !a.IsValid(i) {
			clear(o)
			continue
		}
		if w >= src {
			copy(o, v)
			ext := byte(0)
			if v[src-1]&0x80 != 0 {
				ext = 0xff
			}
			for j := src; j < w; j++ {
				o[j] = ext
			}
			continue
		}
		// Narrower storage: the bytes above w must be the sign
		// extension of the bytes below.
		ext := byte(0)
		if v[w-1]&0x80 != 0 {
			ext = 0xff
		}
		for j := w; j < src; j++ {
			if v[j] != ext {
				return &notExact{i}
			}
		}
		copy(o, v[:w])
	}
	return nil
}

// appendNarrowDecimals writes n decimal128 values of raw, none NULL, as
// Decimal64 (w 8) or Decimal32 (w 4) storage, a word at a time: a value
// fits when its high word is the sign extension of its low word, and for
// Decimal32 when its low word is the sign extension of its low 4 bytes.
func appendNarrowDecimals(out, raw []byte, w, n int) error {
	for i := 0; i < n; i++ {
		lo := binary.LittleEndian.Uint64(raw[i*16:])
		hi := binary.LittleEndian.Uint64(raw[i*16+8:])
		if hi != uint64(int64(lo)>>63) {
			return &notExact{i}
		}
		if w == 8 {
			binary.LittleEndian.PutUint64(out[i*8:], lo)
			continue
		}
		if int64(lo) != int64(int32(lo)) {
			return &notExact{i}
		}
		binary.LittleEndian.PutUint32(out[i*4:], uint32(lo))
	}
	return nil
}

// arrowBytes returns a string or binary array's offsets and the bytes
// they index, from offsets[0], without copying.
func arrowBytes(a arrow.Array) (offsets []int32, data []byte, ok bool) {
	switch s := a.(type) {
	case *array.String:
		return s.ValueOffsets(), s.ValueBytes(), true
	case *array.Binary:
		return s.ValueOffsets(), s.ValueBytes(), true
	}
	return nil, nil, false
}

// appendStrings writes each value as its length (unsigned LEB128) and
// bytes; NULL as the empty string.
func (c *nativeColumn) appendStrings(a arrow.Array) {
	offs, data, _ := arrowBytes(a)
	n := a.Len()
	base := offs[0]
	// Room for every value's bytes and a 1-byte length each; longer
	// lengths grow as they come.
	need := int(offs[n]-base) + n
	if cap(c.data)-len(c.data) < need {
		c.data = grow(c.data, need)[:len(c.data)]
	}
	nulls := a.NullN() > 0
	for i := 0; i < n; i++ {
		if nulls && a.IsNull(i) {
			c.data = append(c.data, 0)
			continue
		}
		v := data[offs[i]-base : offs[i+1]-base]
		c.data = binary.AppendUvarint(c.data, uint64(len(v)))
		c.data = append(c.data, v...)
	}
}

// appendKeys adds each row's dictionary key, adding new values to the
// dictionary.
func (c *nativeColumn) appendKeys(a arrow.Array) {
	if c.dict == nil {
		c.dict = map[string]uint64{}
	}
	if c.dictRows == 0 {
		// clickhouse-go's layout: the default value first, and for
		// Nullable a second one, NULL being key 0.
		c.dictData = append(c.dictData, 0)
		c.dictRows = 1
		if c.typ.Nullable {
			c.dictData = append(c.dictData, 0)
			c.dictRows = 2
		}
	}
	offs, data, _ := arrowBytes(a)
	base := offs[0]
	nulls := a.NullN() > 0
	for i := 0; i < a.Len(); i++ {
		if nulls && a.IsNull(i) {
			c.keys = append(c.keys, 0)
			continue
		}
		v := data[offs[i]-base : offs[i+1]-base]
		k, ok := c.dict[unsafe.String(unsafe.SliceData(v), len(v))]
		if !ok {
			k = uint64(c.dictRows)
			c.dict[strings.Clone(string(v))] = k
			c.dictData = binary.AppendUvarint(c.dictData, uint64(len(v)))
			c.dictData = append(c.dictData, v...)
			c.dictRows++
		}
		c.keys = append(c.keys, k)
	}
}

// LowCardinality serialization, as ClickHouse (and clickhouse-go) write
// it: a UInt64 of flags and key width, the dictionary, the keys.
const (
	lcHasAdditionalKeys    = 1 << 9
	lcNeedUpdateDictionary = 1 << 10
	// lcKeysVersion is the state prefix a Native block writes before a
	// LowCardinality column's data (SharedDictionariesWithAdditionalKeys).
	lcKeysVersion = 1
)

// encode appends the column's Native data to b.
func (c *nativeColumn) encode(b []byte) []byte {
	if c.kind != nativeLowCardinality {
		if c.typ.Nullable {
			b = append(b, c.nulls...)
		}
		return append(b, c.data...)
	}
	if c.rows == 0 {
		return b
	}
	var key, width uint64
	switch {
	case c.dictRows < math.MaxUint8:
		key, width = 0, 1
	case c.dictRows < math.MaxUint16:
		key, width = 1, 2
	case c.dictRows < math.MaxUint32:
		key, width = 2, 4
	default:
		key, width = 3, 8
	}
	b = binary.LittleEndian.AppendUint64(b, lcHasAdditionalKeys|lcNeedUpdateDictionary|key)
	b = binary.LittleEndian.AppendUint64(b, uint64(c.dictRows))
	b = append(b, c.dictData...)
	b = binary.LittleEndian.AppendUint64(b, uint64(len(c.keys)))
	for _, k := range c.keys {
		switch width {
		case 1:
			b = append(b, byte(k))
		case 2:
			b = binary.LittleEndian.AppendUint16(b, uint16(k))
		case 4:
			b = binary.LittleEndian.AppendUint32(b, uint32(k))
		default:
			b = binary.LittleEndian.AppendUint64(b, k)
		}
	}
	return b
}

// reset empties the column for the next block, keeping its buffers.
func (c *nativeColumn) reset() {
	c.rows = 0
	c.data, c.nulls, c.keys = c.data[:0], c.nulls[:0], c.keys[:0]
	c.dictData, c.dictRows = c.dictData[:0], 0
	clear(c.dict)
}

// EncodeNative writes the rows of rec as one block of ClickHouse's Native
// format (what `INSERT ... FORMAT Native` reads): for each column its
// name, its type and its data, encoded as the sink encodes it. types are
// the columns' ClickHouse types, in rec's column order. It fails for a
// type or an Arrow array the native path does not encode.
func EncodeNative(rec arrow.RecordBatch, names []string, types []string) ([]byte, error) {
	if int(rec.NumCols()) != len(names) || len(names) != len(types) {
		return nil, fmt.Errorf("%d columns, %d names, %d types", rec.NumCols(), len(names), len(types))
	}
	b := binary.AppendUvarint(nil, uint64(len(names)))
	b = binary.AppendUvarint(b, uint64(rec.NumRows()))
	for i, name := range names {
		t, err := sqltype.ParseClickHouse(types[i])
		if err != nil {
			return nil, err
		}
		c, ok := newNativeColumn(name, t)
		if !ok || !c.takes(rec.Column(i)) {
			return nil, fmt.Errorf("column %s: cannot encode %s as %s", name, rec.Column(i).DataType(), types[i])
		}
		if err := c.append(rec.Column(i)); err != nil {
			return nil, fmt.Errorf("column %s: %w", name, err)
		}
		b = appendString(b, name)
		b = appendString(b, types[i])
		if c.kind == nativeLowCardinality {
			b = binary.LittleEndian.AppendUint64(b, lcKeysVersion)
		}
		b = c.encode(b)
	}
	return b, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}
