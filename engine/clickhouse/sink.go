package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/shopspring/decimal"

	"github.com/hockeystack/sluice/engine"
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
	cols    []sinkColumn
	version ddl.ClickHouseVersion
	// window is the destination column windows are cut on (append mode).
	window string
	// Hook, when set, is called at named points of a write ("staged",
	// "replaced-partition", "inserted-block") so tests can stop the
	// process there.
	Hook func(point string)
}

func (k *Sink) hook(point string) {
	if k.Hook != nil {
		k.Hook(point)
	}
}

type sinkColumn struct {
	name string
	typ  sqltype.Type // as created on the server
}

// NewSink returns a sink for a planned stream. The caller keeps ownership
// of conn. version is the server's (Catalog.Server tells it).
func NewSink(conn driver.Conn, s *plan.Stream, version ddl.ClickHouseVersion, windowColumn string) (*Sink, error) {
	k := &Sink{conn: conn, dest: s.Destination, version: version, window: windowColumn}
	for _, c := range s.Columns {
		text := c.Type
		if c.Create != "" {
			text = c.Create
		}
		t, err := sqltype.ParseClickHouse(text)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", c.Name, err)
		}
		k.cols = append(k.cols, sinkColumn{name: c.Name, typ: t})
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
		return nil
	}
	if !k.dest.Create {
		return fmt.Errorf("table %s does not exist, and the stream may not create it", k.dest.Table)
	}
	if db, _, ok := strings.Cut(k.dest.Table, "."); ok {
		if err := k.conn.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+ddl.QuoteClickHouse(db)); err != nil {
			return fmt.Errorf("creating database %s: %w", db, err)
		}
	}
	if err := k.conn.Exec(ctx, k.dest.DDL); err != nil {
		return fmt.Errorf("creating %s: %w", k.dest.Table, err)
	}
	return nil
}

func (k *Sink) exists(ctx context.Context, table string) (bool, error) {
	db, name := splitTable(table)
	var n uint64
	q := "SELECT count() FROM system.tables WHERE database = " + quoteString(db) + " AND name = " + quoteString(name)
	if db == "" {
		q = "SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = " + quoteString(name)
	}
	if err := k.conn.QueryRow(ctx, q).Scan(&n); err != nil {
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

func quoteString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// WriteWindow writes the batches of one window (all batches of a full
// read when the stream has no windows). When it returns nil the rows are
// durable and have replaced any earlier write of the same window; when it
// fails, readers see what they saw before (append, replace) or versions
// that later ones supersede (upsert), and running the window again is
// safe. It returns the rows written.
func (k *Sink) WriteWindow(ctx context.Context, w Window, rr array.RecordReader) (int64, error) {
	switch k.dest.Mode {
	case "upsert":
		return k.insert(ctx, k.dest.Table, rr)
	case "replace":
		return k.replace(ctx, rr)
	case "append":
		return k.appendWindow(ctx, w, rr)
	}
	return 0, fmt.Errorf("mode %s is not a ClickHouse write mode", k.dest.Mode)
}

// stagingName names a window's staging table after the window's start.
func (k *Sink) stagingName(w Window) string {
	return k.dest.Table + "__sluice_stage_" + w.Start.UTC().Format("20060102T150405")
}

// appendWindow loads the window into a staging table, completes each
// partition it touches with the target's rows outside the window, and
// swaps those partitions in with REPLACE PARTITION.
func (k *Sink) appendWindow(ctx context.Context, w Window, rr array.RecordReader) (int64, error) {
	if k.window == "" {
		return 0, errors.New("append needs the window column")
	}
	stage := k.stagingName(w)
	q := ddl.QuoteClickHouseName
	if err := k.conn.Exec(ctx, "DROP TABLE IF EXISTS "+q(stage)); err != nil {
		return 0, err
	}
	if err := k.conn.Exec(ctx, "CREATE TABLE "+q(stage)+" AS "+q(k.dest.Table)); err != nil {
		return 0, fmt.Errorf("creating staging table: %w", err)
	}
	defer k.conn.Exec(context.Background(), "DROP TABLE IF EXISTS "+q(stage))
	n, err := k.insert(ctx, stage, rr)
	if err != nil {
		return 0, err
	}
	k.hook("staged")
	wcol := ddl.QuoteClickHouse(k.window)
	inWindow := fmt.Sprintf("%s >= %s AND %s < %s", wcol, timeLiteral(w.Start), wcol, timeLiteral(w.End))
	partition := k.dest.Partition
	if partition == "" {
		partition = "tuple()"
	}
	// The partitions to rebuild: those of the new rows, and those holding
	// rows of the window now (rows deleted at the source go with them).
	parts, err := k.partitions(ctx, fmt.Sprintf(
		"SELECT DISTINCT toString(%[1]s), toTypeName(%[1]s) FROM (SELECT * FROM %[2]s UNION ALL SELECT * FROM %[3]s WHERE %[4]s)",
		partition, q(stage), q(k.dest.Table), inWindow))
	if err != nil {
		return 0, fmt.Errorf("finding partitions: %w", err)
	}
	cols := make([]string, len(k.cols))
	for i, c := range k.cols {
		cols[i] = ddl.QuoteClickHouse(c.name)
	}
	list := strings.Join(cols, ", ")
	for _, p := range parts {
		keep := fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s WHERE %s = %s AND NOT (%s)",
			q(stage), list, list, q(k.dest.Table), partition, p, inWindow)
		if err := k.exec(ctx, keep); err != nil {
			return 0, fmt.Errorf("keeping rows outside the window: %w", err)
		}
	}
	for _, p := range parts {
		if err := k.conn.Exec(ctx, fmt.Sprintf("ALTER TABLE %s REPLACE PARTITION %s FROM %s", q(k.dest.Table), p, q(stage))); err != nil {
			return 0, fmt.Errorf("replacing partition %s: %w", p, err)
		}
		k.hook("replaced-partition")
	}
	return n, nil
}

// exec runs an INSERT ... SELECT, which 18.16 answers without data blocks.
func (k *Sink) exec(ctx context.Context, q string) error {
	return k.conn.Exec(ctx, q)
}

// partitions runs a query of (value, type) pairs and returns each value
// as a literal for a PARTITION clause.
func (k *Sink) partitions(ctx context.Context, q string) ([]string, error) {
	rows, err := k.conn.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v, typ string
		if err := rows.Scan(&v, &typ); err != nil {
			return nil, err
		}
		switch {
		case strings.HasPrefix(typ, "Int") || strings.HasPrefix(typ, "UInt"):
			out = append(out, v)
		case strings.HasPrefix(typ, "Tuple"):
			out = append(out, "tuple()")
		default:
			out = append(out, quoteString(v))
		}
	}
	return out, rows.Err()
}

func timeLiteral(t time.Time) string {
	return "toDateTime(" + quoteString(t.UTC().Format(time.DateTime)) + ", 'UTC')"
}

// replace loads everything into a new table and swaps it in.
func (k *Sink) replace(ctx context.Context, rr array.RecordReader) (int64, error) {
	q := ddl.QuoteClickHouseName
	next := k.dest.Table + "__sluice_new"
	old := k.dest.Table + "__sluice_old"
	create := strings.Replace(k.dest.DDL, "CREATE TABLE IF NOT EXISTS "+q(k.dest.Table), "CREATE TABLE "+q(next), 1)
	if err := k.conn.Exec(ctx, "DROP TABLE IF EXISTS "+q(next)); err != nil {
		return 0, err
	}
	if err := k.conn.Exec(ctx, create); err != nil {
		return 0, fmt.Errorf("creating %s: %w", next, err)
	}
	n, err := k.insert(ctx, next, rr)
	if err != nil {
		k.conn.Exec(context.Background(), "DROP TABLE IF EXISTS "+q(next))
		return 0, err
	}
	exists, err := k.exists(ctx, k.dest.Table)
	if err != nil {
		return 0, err
	}
	switch {
	case !exists:
		err = k.conn.Exec(ctx, "RENAME TABLE "+q(next)+" TO "+q(k.dest.Table))
	case k.version.Has(ddl.ExchangeTables):
		if err = k.conn.Exec(ctx, "EXCHANGE TABLES "+q(next)+" AND "+q(k.dest.Table)); err == nil {
			err = k.conn.Exec(ctx, "DROP TABLE "+q(next))
		}
	default:
		// One RENAME statement swaps both names at once.
		k.conn.Exec(ctx, "DROP TABLE IF EXISTS "+q(old))
		if err = k.conn.Exec(ctx, "RENAME TABLE "+q(k.dest.Table)+" TO "+q(old)+", "+q(next)+" TO "+q(k.dest.Table)); err == nil {
			err = k.conn.Exec(ctx, "DROP TABLE "+q(old))
		}
	}
	if err != nil {
		return 0, fmt.Errorf("swapping in the new table: %w", err)
	}
	return n, nil
}

// insert writes batches with one open insert, sending a block every
// flushRows rows.
func (k *Sink) insert(ctx context.Context, table string, rr array.RecordReader) (int64, error) {
	cols := make([]string, len(k.cols))
	for i, c := range k.cols {
		cols[i] = ddl.QuoteClickHouse(c.name)
	}
	batch, err := k.conn.PrepareBatch(ctx, "INSERT INTO "+ddl.QuoteClickHouseName(table)+" ("+strings.Join(cols, ", ")+")")
	if err != nil {
		return 0, fmt.Errorf("preparing insert into %s: %w", table, err)
	}
	defer batch.Abort()
	var total, pending int64
	for rr.Next() {
		rec := rr.RecordBatch()
		if int(rec.NumCols()) != len(k.cols) {
			return 0, fmt.Errorf("batch has %d columns, the table %d", rec.NumCols(), len(k.cols))
		}
		for i, c := range k.cols {
			vals, err := values(rec.Column(i), c.typ)
			if err != nil {
				return 0, fmt.Errorf("column %s: %w", c.name, err)
			}
			if err := batch.Column(i).Append(vals); err != nil {
				return 0, fmt.Errorf("column %s: %w", c.name, err)
			}
		}
		total += rec.NumRows()
		pending += rec.NumRows()
		if pending >= flushRows {
			if err := batch.Flush(); err != nil {
				return 0, fmt.Errorf("sending rows: %w", err)
			}
			pending = 0
			k.hook("inserted-block")
		}
	}
	if err := rr.Err(); err != nil {
		return 0, err
	}
	if err := batch.Send(); err != nil {
		return 0, fmt.Errorf("sending rows: %w", err)
	}
	return total, nil
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
