package snowflake

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	sf "github.com/snowflakedb/gosnowflake/v2"
	"github.com/snowflakedb/gosnowflake/v2/arrowbatches"

	"github.com/hockeystack/sluice/engine"
	"github.com/hockeystack/sluice/engine/internal/num"
	"github.com/hockeystack/sluice/engine/sqltype"
)

// Source reads Snowflake query results as Arrow record batches, through
// the driver's Arrow batches with higher precision and microsecond
// timestamps, fetching chunks in parallel.
type Source struct {
	db    *sql.DB
	alloc memory.Allocator
	// Prefetch is how many result chunks download ahead of the reader.
	Prefetch int
}

// NewSource returns a source over db; the caller keeps ownership of db.
func NewSource(db *sql.DB, alloc memory.Allocator) *Source {
	if alloc == nil {
		alloc = memory.DefaultAllocator
	}
	return &Source{db: db, alloc: alloc, Prefetch: 4}
}

var _ engine.Source = (*Source)(nil)

// Read runs r and returns its result in its canonical Arrow schema: each
// column in the Arrow type of its Snowflake type (sqltype's mapping:
// NUMBER(p<=18,0) as int64, other NUMBERs as decimal128(p,s), timestamps
// in microseconds, TIMESTAMP_TZ and _LTZ in UTC), however the driver
// encoded each chunk.
func (s *Source) Read(ctx context.Context, r engine.Read) (array.RecordReader, error) {
	rr, err := s.read(ctx, r)
	if loginExpired(err) {
		// The session could not be renewed (its master token aged out, as
		// it does after hours of backfill): read again on a new login,
		// which mints a new key-pair token.
		rr, err = s.read(ctx, r)
	}
	return rr, err
}

// loginExpired reports errors that only a new login cures.
func loginExpired(err error) bool {
	var se *sf.SnowflakeError
	if !errors.As(err, &se) {
		return false
	}
	switch se.Number {
	case 390114, 390111, 390112: // master token expired, session gone, session expired
		return true
	}
	return false
}

func (s *Source) read(ctx context.Context, r engine.Read) (array.RecordReader, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("connecting: %w", err)
	}
	q, args := Bind(r.SQL, r.Params)
	// Timestamps come in Snowflake's own encoding and are read with
	// integer arithmetic (snowflakeMicros), not a time.Time a value.
	qctx := arrowbatches.WithTimestampOption(sf.WithHigherPrecision(arrowbatches.WithArrowBatches(ctx)), arrowbatches.UseOriginalTimestamp)
	qctx = sf.WithArrowAllocator(qctx, s.alloc)
	if r.Tag != "" {
		qctx = sf.WithQueryTag(qctx, r.Tag)
	}
	var batches []*arrowbatches.ArrowBatch
	var rows driver.Rows
	err = conn.Raw(func(dc any) error {
		named := make([]driver.NamedValue, len(args))
		for i, a := range args {
			named[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
		}
		var err error
		rows, err = dc.(driver.QueryerContext).QueryContext(qctx, q, named)
		if err != nil {
			return err
		}
		batches, err = arrowbatches.GetArrowBatches(rows.(sf.SnowflakeRows))
		return err
	})
	if err != nil {
		if rows != nil {
			rows.Close()
		}
		if loginExpired(err) {
			// Drop the connection from the pool: its session is dead.
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		conn.Close()
		return nil, err
	}
	schema, cols, err := canonicalSchema(rows.(sf.SnowflakeRows), q)
	if err != nil {
		rows.Close()
		conn.Close()
		return nil, err
	}
	chunks := make([]func(context.Context) ([]arrow.RecordBatch, error), len(batches))
	for i, b := range batches {
		chunks[i] = func(ctx context.Context) ([]arrow.RecordBatch, error) {
			recs, err := b.WithContext(ctx).Fetch()
			if recs == nil {
				return nil, err
			}
			return *recs, err
		}
	}
	rd := &reader{
		refs: 1, schema: schema, cols: cols, alloc: s.alloc, chunks: chunks,
		close: func() { rows.Close(); conn.Close() },
	}
	// Fetches keep the query's options (higher precision, microseconds).
	rd.start(qctx, max(1, s.Prefetch))
	return rd, nil
}

// sourceColumn is a result column's Snowflake type and scale, which
// decide how its Arrow values are read.
type sourceColumn struct {
	typ   sqltype.Type
	scale int
}

func canonicalSchema(rows sf.SnowflakeRows, q string) (*arrow.Schema, []sourceColumn, error) {
	types, ok := rows.(interface {
		ColumnTypeDatabaseTypeName(int) string
		ColumnTypePrecisionScale(int) (int64, int64, bool)
		ColumnTypeNullable(int) (bool, bool)
		Columns() []string
	})
	if !ok {
		return nil, nil, errors.New("driver rows do not describe their columns")
	}
	names := types.Columns()
	fields := make([]arrow.Field, len(names))
	cols := make([]sourceColumn, len(names))
	for i, name := range names {
		text := types.ColumnTypeDatabaseTypeName(i)
		p, sc, _ := types.ColumnTypePrecisionScale(i)
		switch text {
		case "FIXED":
			text = fmt.Sprintf("NUMBER(%d,%d)", max(p, 1), sc)
		case "REAL":
			text = "FLOAT"
		case "TEXT":
			text = "VARCHAR"
		}
		t, err := sqltype.ParseSnowflake(text)
		if err != nil {
			return nil, nil, fmt.Errorf("column %s: type %s: %w", name, text, err)
		}
		if n, ok := types.ColumnTypeNullable(i); ok {
			t.Nullable = n
		}
		cols[i] = sourceColumn{typ: t, scale: int(sc)}
		fields[i] = arrow.Field{Name: name, Type: t.Arrow(), Nullable: true}
	}
	return arrow.NewSchema(fields, nil), cols, nil
}

// reader streams converted batches in result order while later chunks
// download. Every record it makes is released by the time Release
// returns, however the read ended: read to the end, failed, cancelled,
// or released early.
type reader struct {
	refs   int64
	schema *arrow.Schema
	cols   []sourceColumn
	alloc  memory.Allocator
	// chunks fetch the result's chunks in order, each returning the
	// driver's records, which the reader releases. The first may hold
	// records the driver decoded with the query's response: fetching it
	// is what releases them, so it is always fetched.
	chunks []func(context.Context) ([]arrow.RecordBatch, error)
	close  func()

	ctx       context.Context // the fetches'; ended by Release
	results   chan chunkResult
	credits   chan struct{} // one per chunk that may be in memory
	held      bool          // the reader holds a credit for its current chunk
	delivered int           // chunks received by Next
	cancel    context.CancelFunc
	pending   []arrow.RecordBatch
	cur       arrow.RecordBatch
	err       error
	once      sync.Once
}

// chunkResult is one converted chunk, or the error that stopped it (then
// recs is nil: what the chunk made is released already).
type chunkResult struct {
	recs []arrow.RecordBatch
	err  error
}

func release(recs []arrow.RecordBatch) {
	for _, rec := range recs {
		rec.Release()
	}
}

// start downloads chunks with up to n in flight and delivers them in
// order. A chunk holds its place among the n until the reader has moved
// past it, so memory stays bounded by n chunks whatever the result's size.
// When delivery stops (the end, an error, the context ending) the chunks
// still downloading are waited for and released before results closes.
func (r *reader) start(ctx context.Context, n int) {
	ctx, r.cancel = context.WithCancel(ctx)
	r.ctx = ctx
	r.results = make(chan chunkResult)
	r.credits = make(chan struct{}, n)
	for range n {
		r.credits <- struct{}{}
	}
	slots := make([]chan chunkResult, len(r.chunks))
	for i := range slots {
		slots[i] = make(chan chunkResult, 1)
	}
	started := make(chan int, 1) // how many fetches began, once no more will
	go func() {
		i := 0
		defer func() { started <- i }()
		for ; i < len(r.chunks); i++ {
			select {
			case <-r.credits:
			case <-ctx.Done():
				if i > 0 {
					return
				}
				<-r.credits // the first chunk is always fetched (see chunks)
			}
			go func(i int) { slots[i] <- r.fetch(ctx, i) }(i)
		}
	}()
	go func() {
		defer close(r.results)
		next := 0 // slots received
		defer func() {
			r.cancel()
			for n := <-started; next < n; next++ {
				release((<-slots[next]).recs)
			}
		}()
		for next < len(slots) {
			var res chunkResult
			select {
			case res = <-slots[next]:
				next++
			case <-ctx.Done():
				return
			}
			select {
			case r.results <- res:
			case <-ctx.Done():
				release(res.recs)
				return
			}
			if res.err != nil {
				return
			}
		}
	}()
}

// fetch downloads chunk i and converts its records. On an error it
// releases whatever it made.
func (r *reader) fetch(ctx context.Context, i int) chunkResult {
	recs, err := r.chunks[i](ctx)
	var out []arrow.RecordBatch
	for _, rec := range recs {
		if err == nil {
			var c arrow.RecordBatch
			if c, err = r.convert(rec); err == nil {
				out = append(out, c)
			}
		}
		rec.Release()
	}
	if err != nil {
		release(out)
		return chunkResult{err: err}
	}
	return chunkResult{recs: out}
}

func (r *reader) Schema() *arrow.Schema { return r.schema }

func (r *reader) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	for len(r.pending) == 0 {
		if r.held {
			r.credits <- struct{}{} // done with the last chunk
			r.held = false
		}
		if r.err != nil {
			return false
		}
		res, ok := <-r.results
		if !ok {
			if r.delivered < len(r.chunks) {
				// Delivery stopped short: the context ended. Not the end
				// of the result.
				r.err = r.ctx.Err()
				if r.err == nil {
					r.err = errors.New("the result ended early")
				}
				r.err = fmt.Errorf("reading result chunk %d of %d: %w", r.delivered+1, len(r.chunks), r.err)
			}
			return false
		}
		r.delivered++
		r.held = true
		if res.err != nil {
			r.err = res.err
			return false
		}
		r.pending = res.recs
	}
	r.cur, r.pending = r.pending[0], r.pending[1:]
	return true
}

func (r *reader) RecordBatch() arrow.RecordBatch { return r.cur }

// Record is RecordBatch under its deprecated name.
func (r *reader) Record() arrow.RecordBatch { return r.cur }

func (r *reader) Err() error { return r.err }

func (r *reader) Retain() { r.refs++ }

// Release stops the downloads, waits for those under way and releases
// every record the reader holds, then closes the driver's rows and the
// connection.
func (r *reader) Release() {
	r.refs--
	if r.refs > 0 {
		return
	}
	r.once.Do(func() {
		r.cancel()
		if r.cur != nil {
			r.cur.Release()
			r.cur = nil
		}
		release(r.pending)
		r.pending = nil
		for res := range r.results {
			release(res.recs)
		}
		r.close()
	})
}

// convert turns one driver record into the canonical schema.
func (r *reader) convert(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	cols := make([]arrow.Array, len(r.cols))
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i, sc := range r.cols {
		c, err := canonicalColumn(r.alloc, rec.Column(i), r.schema.Field(i).Type, sc)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", r.schema.Field(i).Name, err)
		}
		cols[i] = c
	}
	return array.NewRecordBatch(r.schema, cols, rec.NumRows()), nil
}

// canonicalColumn converts one column: integers of any width (scaled by
// scale) and decimals into the target int64 or decimal128, timestamps
// relabelled into the target zone; other types pass through.
func canonicalColumn(mem memory.Allocator, a arrow.Array, target arrow.DataType, sc sourceColumn) (arrow.Array, error) {
	scale := sc.scale
	if s, ok := a.(*array.String); ok && sc.typ.Kind == sqltype.JSON {
		return compactJSON(mem, s)
	}
	if arrow.TypeEqual(a.DataType(), target) {
		a.Retain()
		return a, nil
	}
	n := a.Len()
	switch t := target.(type) {
	case *arrow.Int64Type:
		b := array.NewInt64Builder(mem)
		defer b.Release()
		b.Reserve(n)
		for j := 0; j < n; j++ {
			if a.IsNull(j) {
				b.AppendNull()
				continue
			}
			v, ok := integer(a, j)
			if !ok {
				return nil, fmt.Errorf("row %d: value out of Int64 range", j)
			}
			b.UnsafeAppend(v)
		}
		return b.NewArray(), nil
	case *arrow.Decimal128Type:
		b := array.NewDecimal128Builder(mem, t)
		defer b.Release()
		b.Reserve(n)
		for j := 0; j < n; j++ {
			if a.IsNull(j) {
				b.AppendNull()
				continue
			}
			var v decimal128.Num
			if d, ok := a.(*array.Decimal128); ok {
				v = d.Value(j)
			} else {
				i, _ := integer(a, j)
				v = decimal128.FromI64(i)
			}
			if scale != int(t.Scale) {
				v = rescale(v, scale, int(t.Scale))
			}
			b.UnsafeAppend(v)
		}
		return b.NewArray(), nil
	case *arrow.TimestampType:
		if ts, ok := a.(*array.Timestamp); ok && ts.DataType().(*arrow.TimestampType).Unit == t.Unit {
			data := array.NewData(t, n, ts.Data().Buffers(), nil, ts.NullN(), ts.Data().Offset())
			defer data.Release()
			return array.MakeFromData(data), nil
		}
		if t.Unit == arrow.Microsecond {
			if out, ok := snowflakeMicros(mem, a, t, sc); ok {
				return out, nil
			}
		}
	}
	return nil, fmt.Errorf("cannot read %s as %s", a.DataType(), target)
}

// snowflakeMicros reads timestamps in Snowflake's own Arrow encoding (the
// driver's original-timestamp option) as microseconds, with integer
// arithmetic rather than a time.Time a value: an int64 scaled by
// 10^scale, a struct of epoch seconds and nanoseconds, or for
// TIMESTAMP_TZ a scaled int64 or epoch and fraction beside the offset.
// Instants round down to the microsecond, as the driver's own conversion
// does.
func snowflakeMicros(mem memory.Allocator, a arrow.Array, t *arrow.TimestampType, sc sourceColumn) (arrow.Array, bool) {
	n := a.Len()
	var at func(j int) int64
	scaled := func(v []int64) func(int) int64 {
		if sc.scale <= 6 {
			mul := pow10[6-sc.scale]
			return func(j int) int64 { return v[j] * mul }
		}
		div := pow10[sc.scale-6]
		return func(j int) int64 { return num.FloorDiv(v[j], div) }
	}
	switch c := a.(type) {
	case *array.Int64:
		at = scaled(c.Int64Values())
	case *array.Struct:
		tz := sc.typ.Zone == sqltype.Offset
		switch {
		case tz && c.NumField() == 2:
			v, ok := c.Field(0).(*array.Int64)
			if !ok {
				return nil, false
			}
			at = scaled(v.Int64Values())
		case c.NumField() >= 2:
			epoch, ok1 := c.Field(0).(*array.Int64)
			frac, ok2 := c.Field(1).(*array.Int32)
			if !ok1 || !ok2 {
				return nil, false
			}
			e, f := epoch.Int64Values(), frac.Int32Values()
			at = func(j int) int64 { return e[j]*1_000_000 + num.FloorDiv(int64(f[j]), 1000) }
		default:
			return nil, false
		}
	default:
		return nil, false
	}
	b := array.NewTimestampBuilder(mem, t)
	defer b.Release()
	b.Reserve(n)
	for j := 0; j < n; j++ {
		if a.IsNull(j) {
			b.UnsafeAppendBoolToBitmap(false)
			continue
		}
		b.UnsafeAppend(arrow.Timestamp(at(j)))
	}
	return b.NewArray(), true
}

var pow10 = [...]int64{1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000}

// integer reads an integer value of any integer or decimal array.
func integer(a arrow.Array, j int) (int64, bool) {
	switch a := a.(type) {
	case *array.Int8:
		return int64(a.Value(j)), true
	case *array.Int16:
		return int64(a.Value(j)), true
	case *array.Int32:
		return int64(a.Value(j)), true
	case *array.Int64:
		return a.Value(j), true
	case *array.Decimal128:
		v := a.Value(j)
		if !v.BigInt().IsInt64() {
			return 0, false
		}
		return v.BigInt().Int64(), true
	}
	return 0, false
}

// rescale moves an unscaled decimal from scale from to scale to, rounding
// half away from zero when digits are dropped.
func rescale(v decimal128.Num, from, to int) decimal128.Num {
	if to > from {
		out, _ := v.Rescale(int32(from), int32(to))
		return out
	}
	b := v.BigInt()
	div := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(from-to)), nil)
	q, m := new(big.Int).QuoRem(b, div, new(big.Int))
	if new(big.Int).Mul(new(big.Int).Abs(m), big.NewInt(2)).Cmp(div) >= 0 {
		if b.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return decimal128.FromBigInt(q)
}

// compactJSON writes VARIANT, OBJECT and ARRAY text in one canonical form,
// JSON without whitespace outside strings, whatever layout Snowflake gave
// it (its results indent by two spaces): the same value always lands as
// the same text. Text that is not JSON is an error naming its row.
func compactJSON(mem memory.Allocator, s *array.String) (arrow.Array, error) {
	b := array.NewStringBuilder(mem)
	defer b.Release()
	b.Reserve(s.Len())
	var buf bytes.Buffer
	for j := 0; j < s.Len(); j++ {
		if s.IsNull(j) {
			b.AppendNull()
			continue
		}
		buf.Reset()
		if err := json.Compact(&buf, []byte(s.Value(j))); err != nil {
			return nil, fmt.Errorf("row %d: a semi-structured value that is not JSON: %v", j, err)
		}
		b.Append(buf.String())
	}
	return b.NewArray(), nil
}
