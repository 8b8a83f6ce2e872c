package clickhouse

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	chproto "github.com/ClickHouse/ch-go/proto"
	"github.com/ClickHouse/clickhouse-go/v2/lib/column"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/shopspring/decimal"

	"github.com/hockeystack/sluice/engine"
	"github.com/hockeystack/sluice/engine/config"
	"github.com/hockeystack/sluice/engine/ddl"
	"github.com/hockeystack/sluice/engine/internal/num"
	"github.com/hockeystack/sluice/engine/plan"
	"github.com/hockeystack/sluice/engine/sqltype"
)

// flushRows is how many rows an insert buffers before sending a block.
const flushRows = 100_000

// Sink writes a stream's windows into a ClickHouse table, in the mode the
// plan chose: append (each window replaced atomically by partition),
// upsert (ReplacingMergeTree) or replace (a new table swapped in).
type Sink struct {
	conn    driver.Conn
	dest    plan.Destination
	mode    config.Mode
	cols    []sinkColumn
	version ddl.ClickHouseVersion
	// window is the destination column windows are cut on (append mode).
	window string
	// appender finishes append windows and reads digests.
	appender *Appender
	// hook is called at the points inside a write (engine.HookStaged,
	// engine.HookInsertedBlock and the Appender's).
	hook engine.Hook
	// GoValues, when set, sends every column through clickhouse-go's Go
	// values rather than the native encoder (the differential test
	// compares the two).
	GoValues bool
}

// SetHook makes the sink call h at the points inside its writes.
func (k *Sink) SetHook(h engine.Hook) {
	k.hook = h
	k.appender.Hook = h
}

type sinkColumn struct {
	name string
	typ  sqltype.Type // as created on the server
}

// NewSink returns a sink for a planned stream, writing the statements
// planned for the server version the plan names. The caller keeps
// ownership of conn.
func NewSink(conn driver.Conn, s *plan.Stream) (*Sink, error) {
	x := s.Exec
	k := &Sink{conn: conn, dest: s.Destination, mode: x.Mode, version: x.ClickHouse, window: x.WindowColumn}
	var names, types []string
	for _, c := range x.Columns {
		k.cols = append(k.cols, sinkColumn{name: c.Name, typ: c.Type})
		names = append(names, c.Name)
		types = append(types, c.Type.String())
	}
	k.appender = &Appender{
		ClickHouseAppend: ddl.ClickHouseAppend{Table: k.dest.Table, Columns: names, Window: x.WindowColumn, Strategy: ddl.AppendStrategyFor(x.ClickHouse),
			Raw: ddl.DigestRaw(x.ClickHouse, names, types)},
		Run: ConnRunner{conn},
	}
	return k, nil
}

// Window is a half-open interval of the window column's values.
type Window = engine.Window

var _ engine.Sink = (*Sink)(nil)

// Prepare makes sure the table exists, creating it from the plan's DDL
// when the stream may, before any row moves.
func (k *Sink) Prepare(ctx context.Context) error {
	exists, err := k.exists(ctx, k.dest.Table)
	if err != nil {
		return err
	}
	if exists {
		if k.mode != config.Replace {
			return k.appender.DropLeftStages(ctx)
		}
		return nil
	}
	if !k.dest.Create {
		return fmt.Errorf("table %s does not exist, and the stream may not create it", k.dest.Table)
	}
	if c := ddl.CreateDatabase(k.dest.Table); c != "" {
		if err := k.conn.Exec(ctx, c); err != nil {
			return fmt.Errorf("creating the database of %s: %w", k.dest.Table, err)
		}
	}
	if err := k.conn.Exec(ctx, k.dest.DDL); err != nil {
		return fmt.Errorf("creating %s: %w", k.dest.Table, err)
	}
	return nil
}

func (k *Sink) exists(ctx context.Context, table string) (bool, error) {
	var n uint64
	if err := k.conn.QueryRow(ctx, ddl.TableExists(table)).Scan(&n); err != nil {
		return false, fmt.Errorf("checking %s: %w", table, err)
	}
	return n > 0, nil
}

func splitTable(t string) (db, name string) {
	if d, n, ok := strings.Cut(t, "."); ok {
		return d, n
	}
	return "", t
}

// WriteWindow writes the batches of one window (all batches of a full
// read when the stream has no windows). When it returns nil the rows are
// durable and have replaced any earlier write of the same window; when it
// fails, readers see what they saw before (replace), the window's rows
// of before or none of them (append), or versions that later ones
// supersede (upsert), and running the window again is safe.
func (k *Sink) WriteWindow(ctx context.Context, w Window, rr array.RecordReader) (engine.Written, error) {
	switch k.mode {
	case config.Upsert:
		// A window of one block goes straight in: its rows are all mapped
		// (and a bad one stops the window) before the block is sent. A
		// bigger one is staged, then attached, so a window that stops on
		// a bad row at row 240,000 has sent nothing to the target.
		p, big := peek(rr, flushRows)
		defer p.drop()
		if !big {
			n, err := k.insert(ctx, k.dest.Table, p)
			return engine.Written{Rows: n}, err
		}
		return k.staged(ctx, w, p, func(stage string, n int64) (engine.Digest, error) {
			return engine.Digest{}, k.appender.AttachAll(ctx, stage)
		})
	case config.Replace:
		return k.replace(ctx, rr)
	case config.Append:
		return k.appendWindow(ctx, w, rr)
	}
	return engine.Written{}, fmt.Errorf("mode %s is not a ClickHouse write mode", k.mode)
}

// Digest reads what the table holds of a window now (of the whole table
// for the zero window): verify compares it with the ledger.
func (k *Sink) Digest(ctx context.Context, w Window) (engine.Digest, error) {
	if k.mode == config.Upsert {
		return engine.Digest{}, nil
	}
	return k.appender.Digest(ctx, w)
}

// appendWindow loads the window into a staging table and has the
// appender move it into the target.
func (k *Sink) appendWindow(ctx context.Context, w Window, rr array.RecordReader) (engine.Written, error) {
	if k.window == "" {
		return engine.Written{}, errors.New("append needs the window column")
	}
	return k.staged(ctx, w, rr, func(stage string, n int64) (engine.Digest, error) {
		return k.appender.Finish(ctx, stage, w, n)
	})
}

// staged loads the window into its staging table, then has move bring
// the staged rows into the target; the staging table is dropped after.
func (k *Sink) staged(ctx context.Context, w Window, rr array.RecordReader, move func(stage string, n int64) (engine.Digest, error)) (engine.Written, error) {
	a := k.appender
	stage := a.StageName(w)
	if err := k.conn.Exec(ctx, a.DropStage(stage)); err != nil {
		return engine.Written{}, err
	}
	if err := k.conn.Exec(ctx, a.CreateStage(stage)); err != nil {
		return engine.Written{}, fmt.Errorf("creating staging table: %w", err)
	}
	defer k.conn.Exec(context.Background(), a.DropStage(stage))
	n, err := k.insert(ctx, stage, rr)
	if err != nil {
		return engine.Written{}, err
	}
	if err := k.hook.Call(engine.HookStaged); err != nil {
		return engine.Written{}, err
	}
	d, err := move(stage, n)
	if err != nil {
		return engine.Written{}, err
	}
	return engine.Written{Rows: n, Digest: d}, nil
}

func timeLiteral(t time.Time) string {
	return "toDateTime(" + ddl.QuoteString(t.UTC().Format(time.DateTime)) + ", 'UTC')"
}

// replace loads everything into a new table and swaps it in, with the
// statements the plan shows (ddl.ClickHouseReplace).
func (k *Sink) replace(ctx context.Context, rr array.RecordReader) (engine.Written, error) {
	r := ddl.ClickHouseReplace{Table: k.dest.Table, Create: k.dest.DDL, Exchange: k.version.Has(ddl.ExchangeTables), Append: k.appender.ClickHouseAppend}
	drop := func() { k.conn.Exec(context.Background(), r.DropNext()) }
	if err := k.conn.Exec(ctx, r.DropNext()); err != nil {
		return engine.Written{}, err
	}
	if err := k.conn.Exec(ctx, r.CreateNext()); err != nil {
		return engine.Written{}, fmt.Errorf("creating %s: %w", r.Next(), err)
	}
	n, err := k.insert(ctx, r.Next(), rr)
	if err != nil {
		drop()
		return engine.Written{}, err
	}
	// The digest is read from the new table before the swap: the same
	// rows, and no read of a table just renamed over a dropped one (a
	// read there crashed 18.16 now and then, in Decimal128's text).
	d, err := digest(ctx, k.appender.Run, r.Digest())
	if err == nil && d.Rows != n {
		err = engine.Permanent(fmt.Errorf("the load wrote %d rows but %s holds %d", n, r.Next(), d.Rows))
	}
	if err != nil {
		drop()
		return engine.Written{}, err
	}
	exists, err := k.exists(ctx, k.dest.Table)
	if err != nil {
		return engine.Written{}, err
	}
	for _, st := range r.Swap(exists) {
		if err := k.conn.Exec(ctx, st); err != nil {
			return engine.Written{}, fmt.Errorf("swapping in the new table: %w", err)
		}
	}
	return engine.Written{Rows: n, Digest: d}, nil
}

// insert writes batches with one open insert, sending a block every
// flushRows rows or more. Columns the native encoder takes (see
// native.go) are encoded straight from Arrow and handed to the driver's
// column as Native data when a block is sent; the others go through
// values. The next batch is read (and mapped, upstream) while the last
// one is encoded and sent.
func (k *Sink) insert(ctx context.Context, table string, rr array.RecordReader) (int64, error) {
	cols := make([]string, len(k.cols))
	for i, c := range k.cols {
		cols[i] = c.name
	}
	batch, err := prepareInsert(ctx, k.conn, table, cols)
	if err != nil {
		return 0, fmt.Errorf("preparing insert into %s: %w", table, err)
	}
	defer batch.Abort()
	b := newBlockWriter(batch, k.cols, k.GoValues)
	recs, stop := prefetch(rr)
	defer stop()
	var total int64
	for rec := range recs {
		err := b.append(rec)
		rec.Release()
		if err != nil {
			return 0, err
		}
		total += rec.NumRows()
		if b.pending >= flushRows {
			if err := b.flush(); err != nil {
				return 0, fmt.Errorf("sending rows: %w", err)
			}
			if err := k.hook.Call(engine.HookInsertedBlock); err != nil {
				return 0, err
			}
		}
	}
	if err := stop(); err != nil {
		return 0, err
	}
	if err := b.decode(); err != nil {
		return 0, fmt.Errorf("sending rows: %w", err)
	}
	if err := batch.Send(); err != nil {
		return 0, fmt.Errorf("sending rows: %w", err)
	}
	return total, nil
}

// prefetch reads rr in a goroutine, one batch ahead of the caller, and
// hands each batch on retained (the receiver releases it). stop ends the
// reading, waits for the goroutine (rr is never touched after stop
// returns) and returns rr's error; it may be called more than once.
func prefetch(rr array.RecordReader) (<-chan arrow.RecordBatch, func() error) {
	recs := make(chan arrow.RecordBatch, 1)
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(recs)
		for rr.Next() {
			rec := rr.RecordBatch()
			rec.Retain()
			select {
			case recs <- rec:
			case <-quit:
				rec.Release()
				return
			}
		}
	}()
	var once sync.Once
	return recs, func() error {
		once.Do(func() {
			close(quit)
			<-done
			for rec := range recs { // batches read ahead and not taken
				rec.Release()
			}
		})
		return rr.Err()
	}
}

// blockWriter fills an open insert's block: native columns accumulate
// encoded data that decode hands to the driver's columns; the others
// append Go values as they come.
type blockWriter struct {
	batch   driver.Batch
	cols    []sinkColumn
	driver  []column.Interface
	native  []*nativeColumn // nil where the column goes through values
	buf     []byte
	pending int64
}

func newBlockWriter(batch driver.Batch, cols []sinkColumn, goValues bool) *blockWriter {
	b := &blockWriter{batch: batch, cols: cols, driver: batch.Columns(), native: make([]*nativeColumn, len(cols))}
	if !goValues {
		// The encoding follows the type the server's column has, which a
		// table made before this plan may have other than the plan's (a
		// LowCardinality(String) for String, say); the Arrow type must
		// still be the one that type travels as (takes), else the column
		// goes through values.
		for i, c := range cols {
			t, err := sqltype.ParseClickHouse(string(b.driver[i].Type()))
			if err != nil {
				continue
			}
			if nc, ok := newNativeColumn(c.name, t); ok {
				b.native[i] = nc
			}
		}
	}
	return b
}

// append adds a batch's rows to the block.
func (b *blockWriter) append(rec arrow.RecordBatch) error {
	if int(rec.NumCols()) != len(b.cols) {
		return fmt.Errorf("batch has %d columns, the table %d", rec.NumCols(), len(b.cols))
	}
	for i, nc := range b.native {
		if nc != nil && !nc.takes(rec.Column(i)) {
			// An Arrow type the encoder does not take: the column goes
			// through values from here on, from a fresh block.
			if err := b.flush(); err != nil {
				return fmt.Errorf("sending rows: %w", err)
			}
			b.native[i] = nil
		}
	}
	for i, c := range b.cols {
		a := rec.Column(i)
		if nc := b.native[i]; nc != nil {
			err := nc.append(a)
			if err == nil {
				continue
			}
			var ne *notExact
			if !errors.As(err, &ne) {
				return fmt.Errorf("column %s: %w", c.name, err)
			}
			// A value the encoder cannot write exactly: the error is the
			// one converting it to Go values gives (the insert is
			// aborted, so what that conversion appends is never sent),
			// or, where that conversion would have taken it, the value's.
			if vals, verr := values(a, c.typ); verr != nil {
				return fmt.Errorf("column %s: %w", c.name, verr)
			} else if verr = b.batch.Column(i).Append(vals); verr != nil {
				return fmt.Errorf("column %s: %w", c.name, verr)
			}
			return fmt.Errorf("column %s: %s does not fit %s", c.name, a.ValueStr(ne.row), nc.typ)
		}
		vals, err := values(a, c.typ)
		if err != nil {
			return fmt.Errorf("column %s: %w", c.name, err)
		}
		if err := b.batch.Column(i).Append(vals); err != nil {
			return fmt.Errorf("column %s: %w", c.name, err)
		}
	}
	b.pending += rec.NumRows()
	return nil
}

// decode hands the native columns' data to the driver's columns.
func (b *blockWriter) decode() error {
	for i, nc := range b.native {
		if nc == nil || nc.rows == 0 {
			continue
		}
		b.buf = nc.encode(b.buf[:0])
		col := b.driver[i]
		col.Reset()
		if err := col.Decode(chproto.NewReader(bytes.NewReader(b.buf)), nc.rows); err != nil {
			return fmt.Errorf("column %s: %w", b.cols[i].name, err)
		}
		nc.reset()
	}
	return nil
}

// flush sends the block's rows, if it has any.
func (b *blockWriter) flush() error {
	if b.pending == 0 {
		return nil
	}
	if err := b.decode(); err != nil {
		return err
	}
	b.pending = 0
	return b.batch.Flush()
}

// values converts an Arrow column to the Go slice clickhouse-go appends to
// a column of type t: pointers for Nullable columns.
func values(a arrow.Array, t sqltype.Type) (any, error) {
	n := a.Len()
	nullable := t.Nullable
	switch t.Kind {
	case sqltype.Int, sqltype.UInt, sqltype.Bool:
		return intValues(a, t, n)
	case sqltype.Float:
		if t.Bits == 32 {
			return collect(a, nullable, func(i int) float32 { return float32(floatAt(a, i)) }), nil
		}
		return collect(a, nullable, func(i int) float64 { return floatAt(a, i) }), nil
	case sqltype.Decimal:
		d, ok := a.(*array.Decimal128)
		if !ok {
			return nil, fmt.Errorf("expected decimals, got %s", a.DataType())
		}
		scale := d.DataType().(*arrow.Decimal128Type).Scale
		return collect(a, nullable, func(i int) decimal.Decimal {
			v := d.Value(i)
			if lo := int64(v.LowBits()); v.HighBits() == lo>>63 { // fits in int64: one allocation, not three
				return decimal.New(lo, -scale)
			}
			return decimal.NewFromBigInt(v.BigInt(), -scale)
		}), nil
	case sqltype.String, sqltype.JSON, sqltype.UUID, sqltype.Enum:
		switch s := a.(type) {
		case *array.String:
			return collect(a, nullable, s.Value), nil
		case *array.Binary:
			return collect(a, nullable, func(i int) string { return string(s.Value(i)) }), nil
		}
	case sqltype.Date, sqltype.Timestamp:
		switch ts := a.(type) {
		case *array.Timestamp:
			unit := ts.DataType().(*arrow.TimestampType).Unit
			if t.Name() == "DateTime" {
				// DateTime holds whole seconds; clickhouse-go takes them as
				// int64, without a time.Time a value.
				perSec := int64(time.Second / unit.Multiplier())
				v := ts.TimestampValues()
				return collect(a, nullable, func(i int) int64 { return num.FloorDiv(int64(v[i]), perSec) }), nil
			}
			return collect(a, nullable, func(i int) time.Time { return ts.Value(i).ToTime(unit) }), nil
		case *array.Date32:
			return collect(a, nullable, func(i int) time.Time { return ts.Value(i).ToTime() }), nil
		}
	}
	return nil, fmt.Errorf("cannot write %s values into %s", a.DataType(), t)
}

// collect builds []T, or []*T for nullable columns.
func collect[T any](a arrow.Array, nullable bool, at func(int) T) any {
	n := a.Len()
	if !nullable {
		out := make([]T, n)
		for i := range out {
			if a.IsValid(i) {
				out[i] = at(i)
			}
		}
		return out
	}
	out := make([]*T, n)
	vals := make([]T, n)
	for i := range out {
		if a.IsValid(i) {
			vals[i] = at(i)
			out[i] = &vals[i]
		}
	}
	return out
}

func floatAt(a arrow.Array, i int) float64 {
	switch f := a.(type) {
	case *array.Float64:
		return f.Value(i)
	case *array.Float32:
		return float64(f.Value(i))
	}
	return 0
}

// intValues converts integer and boolean columns; booleans go to UInt8 as
// []uint8 (18.16 has no Bool), or to Bool as []bool.
func intValues(a arrow.Array, t sqltype.Type, n int) (any, error) {
	nullable := t.Nullable
	if b, ok := a.(*array.Boolean); ok {
		if t.Kind == sqltype.Bool {
			return collect(a, nullable, b.Value), nil
		}
		return collect(a, nullable, func(i int) uint8 {
			if b.Value(i) {
				return 1
			}
			return 0
		}), nil
	}
	switch x := a.(type) {
	case *array.Int8:
		return collect(a, nullable, x.Value), nil
	case *array.Int16:
		return collect(a, nullable, x.Value), nil
	case *array.Int32:
		return collect(a, nullable, x.Value), nil
	case *array.Int64:
		return collect(a, nullable, x.Value), nil
	case *array.Uint8:
		return collect(a, nullable, x.Value), nil
	case *array.Uint16:
		return collect(a, nullable, x.Value), nil
	case *array.Uint32:
		return collect(a, nullable, x.Value), nil
	case *array.Uint64:
		return collect(a, nullable, x.Value), nil
	}
	return nil, fmt.Errorf("cannot write %s values into %s", a.DataType(), t)
}
