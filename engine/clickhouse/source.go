package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/shopspring/decimal"

	"github.com/hockeystack/sluice/engine"
	"github.com/hockeystack/sluice/engine/sqltype"
)

// sourceBatchRows is how many rows a source batch holds at most.
const sourceBatchRows = 65536

// Source reads a push stream's ClickHouse SQL into Arrow batches, in the
// Arrow types sqltype gives the result's ClickHouse types.
type Source struct {
	conn  driver.Conn
	alloc memory.Allocator
}

// NewSource returns a source over conn; the caller keeps conn. A nil alloc
// means the default allocator.
func NewSource(conn driver.Conn, alloc memory.Allocator) *Source {
	if alloc == nil {
		alloc = memory.DefaultAllocator
	}
	return &Source{conn: conn, alloc: alloc}
}

var _ engine.Source = (*Source)(nil)

// Read runs r.SQL with its placeholders bound as parameters and streams the
// result. The server sends blocks as it reads them, so memory stays within
// a block and a batch whatever the result's size.
func (s *Source) Read(ctx context.Context, r engine.Read) (array.RecordReader, error) {
	sql, args := Bind(r.SQL, r.Params)
	rows, err := s.conn.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	var fields []arrow.Field
	var cols []sourceColumn
	for _, ct := range rows.ColumnTypes() {
		typ, err := sqltype.ParseClickHouse(ct.DatabaseTypeName())
		if err == nil {
			var c sourceColumn
			if c, err = newSourceColumn(typ); err == nil {
				cols = append(cols, c)
				fields = append(fields, arrow.Field{Name: ct.Name(), Type: typ.Arrow(), Nullable: typ.Nullable})
				continue
			}
		}
		rows.Close()
		// A type the source cannot read will not read on a retry.
		return nil, engine.Permanent(fmt.Errorf("column %s: %w", ct.Name(), err))
	}
	rd := &sourceReader{refs: 1, rows: rows, cols: cols, schema: arrow.NewSchema(fields, nil), alloc: s.alloc}
	rd.dests = make([]any, len(cols))
	for i, c := range cols {
		rd.dests[i] = c.dest
	}
	return rd, nil
}

// sourceColumn scans one column's values into dest, row by row, and moves
// each into an Arrow builder.
type sourceColumn struct {
	dest  any
	apply func(b array.Builder)
}

// newSourceColumn picks the Go value clickhouse-go scans a column of type t
// into, and how that value becomes Arrow. Nullable columns scan into a
// pointer that stays nil for NULL.
func newSourceColumn(t sqltype.Type) (sourceColumn, error) {
	switch t.Kind {
	case sqltype.Int:
		switch t.Bits {
		case 8:
			return scalar(t, func(b *array.Int8Builder, v int8) { b.Append(v) }), nil
		case 16:
			return scalar(t, func(b *array.Int16Builder, v int16) { b.Append(v) }), nil
		case 32:
			return scalar(t, func(b *array.Int32Builder, v int32) { b.Append(v) }), nil
		case 64:
			return scalar(t, func(b *array.Int64Builder, v int64) { b.Append(v) }), nil
		}
	case sqltype.UInt:
		switch t.Bits {
		case 8:
			return scalar(t, func(b *array.Uint8Builder, v uint8) { b.Append(v) }), nil
		case 16:
			return scalar(t, func(b *array.Uint16Builder, v uint16) { b.Append(v) }), nil
		case 32:
			return scalar(t, func(b *array.Uint32Builder, v uint32) { b.Append(v) }), nil
		case 64:
			return scalar(t, func(b *array.Uint64Builder, v uint64) { b.Append(v) }), nil
		}
	case sqltype.Float:
		if t.Bits == 32 {
			return scalar(t, func(b *array.Float32Builder, v float32) { b.Append(v) }), nil
		}
		return scalar(t, func(b *array.Float64Builder, v float64) { b.Append(v) }), nil
	case sqltype.Bool:
		return scalar(t, func(b *array.BooleanBuilder, v bool) { b.Append(v) }), nil
	case sqltype.String, sqltype.Enum, sqltype.UUID, sqltype.JSON:
		return scalar(t, func(b *array.StringBuilder, v string) { b.Append(v) }), nil
	case sqltype.Decimal:
		if t.Precision > 38 {
			break
		}
		scale := int32(t.Scale)
		return scalar(t, func(b *array.Decimal128Builder, v decimal.Decimal) {
			// A Decimal(p, s) value has at most s fractional digits, so
			// shifted by s it is an exact integer.
			b.Append(decimal128.FromBigInt(v.Shift(scale).BigInt()))
		}), nil
	case sqltype.Date:
		return scalar(t, func(b *array.Date32Builder, v time.Time) {
			y, m, d := v.Date()
			b.Append(arrow.Date32FromTime(time.Date(y, m, d, 0, 0, 0, 0, time.UTC)))
		}), nil
	case sqltype.Timestamp:
		unit := t.Arrow().(*arrow.TimestampType).Unit
		wall := t.Zone == sqltype.NoZone
		return scalar(t, func(b *array.TimestampBuilder, v time.Time) {
			if wall {
				// A DateTime without a zone is a wall clock: Arrow keeps
				// it as that clock read in UTC.
				y, mo, d := v.Date()
				h, mi, s := v.Clock()
				v = time.Date(y, mo, d, h, mi, s, v.Nanosecond(), time.UTC)
			}
			ts, _ := arrow.TimestampFromTime(v, unit)
			b.Append(ts)
		}), nil
	}
	return sourceColumn{}, fmt.Errorf("reading %s values is not supported", t)
}

// scalar builds the column reader for values of Go type T appended by
// add to a builder of type B.
func scalar[B array.Builder, T any](t sqltype.Type, add func(B, T)) sourceColumn {
	if t.Nullable {
		p := new(*T)
		return sourceColumn{dest: p, apply: func(b array.Builder) {
			if *p == nil {
				b.AppendNull()
				return
			}
			add(b.(B), **p)
		}}
	}
	p := new(T)
	return sourceColumn{dest: p, apply: func(b array.Builder) { add(b.(B), *p) }}
}

type sourceReader struct {
	refs   int64
	rows   driver.Rows
	cols   []sourceColumn
	dests  []any
	schema *arrow.Schema
	alloc  memory.Allocator
	cur    arrow.RecordBatch
	err    error
	done   bool
}

func (r *sourceReader) Schema() *arrow.Schema { return r.schema }

// Next reads up to sourceBatchRows rows into the next batch.
func (r *sourceReader) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.done {
		return false
	}
	b := array.NewRecordBuilder(r.alloc, r.schema)
	defer b.Release()
	n := 0
	for n < sourceBatchRows {
		if !r.rows.Next() {
			r.done = true
			r.err = r.rows.Err()
			break
		}
		if err := r.rows.Scan(r.dests...); err != nil {
			r.done, r.err = true, err
			break
		}
		for i, c := range r.cols {
			c.apply(b.Field(i))
		}
		n++
	}
	if r.err != nil || n == 0 {
		return false
	}
	r.cur = b.NewRecordBatch()
	return true
}

func (r *sourceReader) RecordBatch() arrow.RecordBatch { return r.cur }

// Record is RecordBatch under its deprecated name.
func (r *sourceReader) Record() arrow.RecordBatch { return r.cur }

func (r *sourceReader) Err() error { return r.err }

func (r *sourceReader) Retain() { r.refs++ }

func (r *sourceReader) Release() {
	if r.refs--; r.refs > 0 {
		return
	}
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	r.rows.Close()
}
