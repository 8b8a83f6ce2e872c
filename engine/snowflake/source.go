package snowflake

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"sync"
	"time"

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
// the driver's Arrow batches with higher precision and timestamps at
// their declared precision, fetching chunks in parallel.
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
// of precision up to 6 in microseconds and above in nanoseconds,
// TIMESTAMP_TZ and _LTZ in UTC, TIME in nanoseconds), however the driver
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
	// integer arithmetic (snowflakeTimestamps), not a time.Time a value.
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
	schema, cols, err := canonicalSchema(rows.(sf.SnowflakeRows), rowScales(rows, batches))
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
	// Fetches keep the query's options (higher precision, original timestamps).
	rd.start(qctx, max(1, s.Prefetch))
	return rd, nil
}

// sourceColumn is a result column's Snowflake type and scale, which
// decide how its Arrow values are read.
type sourceColumn struct {
	typ   sqltype.Type
	scale int
}

// rowScales are the scales of a result's columns as its row types give
// them: the declared precision of a TIME or TIMESTAMP_*, which
// database/sql does not report for timestamps. Nil when unknown.
func rowScales(rows any, batches []*arrowbatches.ArrowBatch) []int {
	if len(batches) > 0 {
		rts := batches[0].GetRowTypes()
		out := make([]int, len(rts))
		for i, rt := range rts {
			out[i] = int(rt.Scale)
		}
		return out
	}
	return describedScales(rows)
}

// describedScales reads the row types' scales of rows that have no
// batches (a describe-only request, an empty result) through the
// driver's batch data, which GetArrowBatches would have wrapped in
// batches. Nil when the driver does not offer it.
func describedScales(rows any) []int {
	m := reflect.ValueOf(rows).MethodByName("GetArrowBatches")
	if !m.IsValid() || m.Type().NumIn() != 0 || m.Type().NumOut() != 2 {
		return nil
	}
	out := m.Call(nil)
	if !out[1].IsNil() || out[0].IsNil() {
		return nil
	}
	rts := out[0].Elem().FieldByName("RowTypes")
	if rts.Kind() != reflect.Slice {
		return nil
	}
	scales := make([]int, rts.Len())
	for i := range scales {
		f := rts.Index(i).FieldByName("Scale")
		if !f.CanInt() {
			return nil
		}
		scales[i] = int(f.Int())
	}
	return scales
}

// withScale gives a TIME or TIMESTAMP_* type its declared precision,
// the column's scale in the row type.
func withScale(t sqltype.Type, scales []int, i int) sqltype.Type {
	if (t.Kind == sqltype.Time || t.Kind == sqltype.Timestamp) && i < len(scales) && scales[i] >= 0 && scales[i] <= 9 {
		t.Precision = scales[i]
	}
	return t
}

func canonicalSchema(rows sf.SnowflakeRows, scales []int) (*arrow.Schema, []sourceColumn, error) {
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
		t = withScale(t, scales, i)
		if t.Kind == sqltype.Time || t.Kind == sqltype.Timestamp {
			sc = int64(t.Precision)
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
			// A value that cannot be read is read so again: no retry.
			return nil, engine.Permanent(fmt.Errorf("column %s: %w", r.schema.Field(i).Name, err))
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
	if tm, ok := a.(*array.Time64); ok && sc.typ.Kind == sqltype.Time {
		return snowflakeTimes(mem, tm, scale)
	}
	if arrow.TypeEqual(a.DataType(), target) {
		a.Retain()
		return a, nil
	}
	n := a.Len()
	switch t := target.(type) {
	case *arrow.Int64Type:
		if out, ok := widenInts(mem, a, t); ok {
			return out, nil
		}
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
				// A row number here would count within the chunk, not the
				// window: the value names the row instead.
				return nil, fmt.Errorf("%s is beyond Int64 (the result's type said it fits)", a.ValueStr(j))
			}
			b.UnsafeAppend(v)
		}
		return b.NewArray(), nil
	case *arrow.Decimal128Type:
		if scale == int(t.Scale) {
			if d, ok := a.(*array.Decimal128); ok && d.Data().Offset() == 0 {
				// The same unscaled values: only the precision differs.
				data := array.NewData(t, n, d.Data().Buffers(), nil, d.NullN(), 0)
				defer data.Release()
				return array.MakeFromData(data), nil
			}
			if out, ok := widenInts(mem, a, t); ok {
				return out, nil
			}
		}
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
		if t.Unit == arrow.Microsecond || t.Unit == arrow.Nanosecond {
			if out, ok, err := snowflakeTimestamps(mem, a, t, sc); ok || err != nil {
				return out, err
			}
		}
	}
	return nil, fmt.Errorf("cannot read %s as %s", a.DataType(), target)
}

// snowflakeTimes corrects the driver's TIME values. Snowflake sends a
// TIME(p) as an integer scaled by 10^p, and the driver's Arrow batches
// cast that integer to time64[ns] unchanged, so a TIME(3) of 12:00:00.5
// arrives as 43.2005 seconds; only TIME(9) is right as it comes.
func snowflakeTimes(mem memory.Allocator, a *array.Time64, scale int) (arrow.Array, error) {
	if scale >= 9 || scale < 0 {
		a.Retain()
		return a, nil
	}
	mul := pow10[9-scale]
	b := array.NewTime64Builder(mem, arrow.FixedWidthTypes.Time64ns.(*arrow.Time64Type))
	defer b.Release()
	b.Reserve(a.Len())
	for j := 0; j < a.Len(); j++ {
		if a.IsNull(j) {
			b.UnsafeAppendBoolToBitmap(false)
			continue
		}
		v := int64(a.Value(j))
		if v < 0 || v >= 86_400*pow10[scale] {
			return nil, fmt.Errorf("TIME(%d) value %d (in units of 10^-%d s) is not a time of day", scale, v, scale)
		}
		b.UnsafeAppend(arrow.Time64(v * mul))
	}
	return b.NewArray(), nil
}

// snowflakeTimestamps reads timestamps in Snowflake's own Arrow encoding
// (the driver's original-timestamp option) in the target's unit,
// microseconds or nanoseconds, with integer arithmetic rather than a
// time.Time a value: an int64 scaled by 10^scale, a struct of epoch
// seconds and nanoseconds, or for TIMESTAMP_TZ a scaled int64 or epoch
// and fraction beside the offset. Into microseconds, instants round down
// (the source types of precision above 6 travel in nanoseconds, so only
// digits that are zero are dropped). An instant beyond what int64
// nanoseconds hold is an error: it cannot be carried at its precision.
// ok is false for an encoding it does not know.
func snowflakeTimestamps(mem memory.Allocator, a arrow.Array, t *arrow.TimestampType, sc sourceColumn) (out arrow.Array, ok bool, err error) {
	n := a.Len()
	digits := 6
	if t.Unit == arrow.Nanosecond {
		digits = 9
	}
	// at returns the instant in the target unit, and false when it does
	// not fit in an int64 of it.
	var at func(j int) (int64, bool)
	scaled := func(v []int64) func(int) (int64, bool) {
		if sc.scale <= digits {
			mul := pow10[digits-sc.scale]
			return func(j int) (int64, bool) {
				x := v[j]
				if x > math.MaxInt64/mul || x < math.MinInt64/mul {
					return 0, false
				}
				return x * mul, true
			}
		}
		div := pow10[sc.scale-digits]
		return func(j int) (int64, bool) { return num.FloorDiv(v[j], div), true }
	}
	var epochOf func(j int) (int64, int64) // seconds and nanoseconds, for messages
	switch c := a.(type) {
	case *array.Int64:
		v := c.Int64Values()
		at = scaled(v)
		epochOf = func(j int) (int64, int64) { return splitScaled(v[j], sc.scale) }
	case *array.Struct:
		tz := sc.typ.Zone == sqltype.Offset
		switch {
		case tz && c.NumField() == 2:
			f, ok := c.Field(0).(*array.Int64)
			if !ok {
				return nil, false, nil
			}
			v := f.Int64Values()
			at = scaled(v)
			epochOf = func(j int) (int64, int64) { return splitScaled(v[j], sc.scale) }
		case c.NumField() >= 2:
			epoch, ok1 := c.Field(0).(*array.Int64)
			frac, ok2 := c.Field(1).(*array.Int32)
			if !ok1 || !ok2 {
				return nil, false, nil
			}
			e, f := epoch.Int64Values(), frac.Int32Values()
			per := pow10[digits]
			div := pow10[9-digits]
			at = func(j int) (int64, bool) {
				fr := num.FloorDiv(int64(f[j]), div)
				if e[j] < math.MaxInt64/per && e[j] > math.MinInt64/per {
					return e[j]*per + fr, true // |e*per| < 2^63 - per, and 0 <= fr < per
				}
				// At the ends of int64: exactly.
				x := new(big.Int).Mul(big.NewInt(e[j]), big.NewInt(per))
				x.Add(x, big.NewInt(fr))
				return x.Int64(), x.IsInt64()
			}
			epochOf = func(j int) (int64, int64) { return e[j], int64(f[j]) }
		default:
			return nil, false, nil
		}
	default:
		return nil, false, nil
	}
	o := newFixedOut(mem, a, 8)
	vals := arrow.TimestampTraits.CastFromBytes(o.vals.Bytes())
	for j := 0; j < n; j++ {
		if o.isNull(j) {
			vals[j] = 0
			continue
		}
		v, fits := at(j)
		if !fits {
			o.release()
			sec, ns := epochOf(j)
			return nil, true, fmt.Errorf("%s is outside the range a %s is read in at its precision, nanoseconds (%s to %s); "+
				"select it as %s(6) to read it in microseconds", time.Unix(sec, ns).UTC().Format(time.RFC3339Nano), sc.typ.Plain(),
				time.Unix(0, math.MinInt64).UTC().Format(time.RFC3339Nano), time.Unix(0, math.MaxInt64).UTC().Format(time.RFC3339Nano), sc.typ.Name())
		}
		vals[j] = arrow.Timestamp(v)
	}
	return o.array(t), true, nil
}

// splitScaled splits a value scaled by 10^scale into epoch seconds and
// nanoseconds.
func splitScaled(v int64, scale int) (int64, int64) {
	p := pow10[scale]
	sec := num.FloorDiv(v, p)
	return sec, (v - sec*p) * pow10[9-scale]
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
