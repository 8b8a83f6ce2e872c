package snowflake

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	sf "github.com/snowflakedb/gosnowflake/v2"

	"github.com/hockeystack/sluice/engine"
	"github.com/hockeystack/sluice/engine/config"
	"github.com/hockeystack/sluice/engine/ddl"
	"github.com/hockeystack/sluice/engine/plan"
	"github.com/hockeystack/sluice/engine/sqltype"
)

// insertRows is how many rows one array-bound INSERT carries. Snowflake
// itself moves large bindings through a stage past its threshold.
const insertRows = 16384

// Sink writes a push stream into a Snowflake table. Every mode loads the
// rows into a transient staging table first, holding no lock on the
// target while the slow part runs, and then changes the target in one
// short atomic step: append deletes the window's rows and inserts the
// staged ones in one transaction, replace swaps the staging table in
// (SWAP WITH), merge merges it on the key. A client that dies while
// loading leaves only a staging table, replaced by the next run.
type Sink struct {
	db   *sql.DB
	cat  *Catalog
	dest plan.Destination
	cols []sinkColumn
	// window is the destination column windows are cut on (append).
	window string
	// w builds the statements, as the plan shows them.
	w    ddl.SnowflakeWrite
	mode config.Mode
	// hook is called at engine.HookStaged.
	hook engine.Hook
	// BulkRows is the size from which a write loads through Parquet
	// files and COPY INTO instead of array-bound INSERTs: 0 means
	// DefaultBulkRows, a negative value never.
	BulkRows int64
}

type sinkColumn struct {
	name string
	typ  sqltype.Type
}

// NewSink returns a sink for a planned push stream; the caller keeps db.
// cat resolves the table name as the connection does (its database and
// schema).
func NewSink(db *sql.DB, cat *Catalog, s *plan.Stream) (*Sink, error) {
	k := &Sink{db: db, cat: cat, dest: s.Destination, window: s.Exec.WindowColumn, mode: s.Exec.Mode}
	for _, c := range s.Exec.Columns {
		k.cols = append(k.cols, sinkColumn{name: c.Name, typ: c.Type})
	}
	k.w = ddl.SnowflakeWrite{Table: s.Destination.Table, Columns: k.names(), Window: k.window, Key: s.Destination.Key, Mode: string(s.Exec.Mode)}
	return k, nil
}

var _ engine.Sink = (*Sink)(nil)

// SetHook makes the sink call h at the points inside its writes.
func (k *Sink) SetHook(h engine.Hook) { k.hook = h }

// Prepare makes sure the table exists, creating it from the plan's DDL
// when the stream may, before any row moves. Whether its columns accept
// the stream is the live plan's check (plan.Compile with catalogs), which
// runs before Prepare and fails the stream with positions.
func (k *Sink) Prepare(ctx context.Context) error {
	_, err := k.cat.DescribeTable(ctx, k.dest.Table)
	if !errors.Is(err, plan.ErrNoTable) {
		return err
	}
	if !k.dest.Create {
		return fmt.Errorf("table %s does not exist, and the stream may not create it", k.dest.Table)
	}
	if _, err := k.db.ExecContext(ctx, k.dest.DDL); err != nil {
		return fmt.Errorf("creating %s: %w", k.dest.Table, plain(err))
	}
	return nil
}

// WriteWindow writes one window's rows (all rows of a full read). When it
// returns nil they are committed; when it fails the table is as it was,
// and running the window again is safe.
func (k *Sink) WriteWindow(ctx context.Context, w engine.Window, rr array.RecordReader) (engine.Written, error) {
	conn, err := k.db.Conn(ctx)
	if err != nil {
		return engine.Written{}, err
	}
	defer conn.Close()
	stage, n, err := k.stage(ctx, conn, rr)
	if err == nil {
		err = k.apply(ctx, conn, w, stage)
	}
	var d engine.Digest
	if err == nil && k.mode != config.Merge {
		if d, err = k.digest(ctx, conn, w); err == nil && d.Rows != n {
			err = engine.Permanent(fmt.Errorf("the window wrote %d rows but %s holds %d in it", n, k.dest.Table, d.Rows))
		}
	}
	conn.ExecContext(context.WithoutCancel(ctx), k.w.DropStage())
	if err != nil {
		// The session's state is unknown after a failure (a rollback that
		// did not reach the server leaves its transaction open): close it
		// rather than hand it back to the pool.
		conn.Raw(func(any) error { return driver.ErrBadConn })
		return engine.Written{}, plain(err)
	}
	return engine.Written{Rows: n, Digest: d}, nil
}

// Digest reads what the table holds of a window now (the whole table for
// the zero window): verify compares it with the ledger. Merge streams
// keep none: their rows move between windows.
func (k *Sink) Digest(ctx context.Context, w engine.Window) (engine.Digest, error) {
	if k.mode == config.Merge {
		return engine.Digest{}, nil
	}
	conn, err := k.db.Conn(ctx)
	if err != nil {
		return engine.Digest{}, err
	}
	defer conn.Close()
	return k.digest(ctx, conn, w)
}

// digest counts a window's rows and sums HASH of each, which Snowflake
// computes for every type.
func (k *Sink) digest(ctx context.Context, conn *sql.Conn, w engine.Window) (engine.Digest, error) {
	windowed := k.w.Windowed() && !w.IsZero()
	q := k.w.Digest(windowed)
	var args []any
	if windowed {
		args = windowArgs(w)
	}
	var n int64
	var sum sql.NullString
	if err := conn.QueryRowContext(ctx, q, args...).Scan(&n, &sum); err != nil {
		return engine.Digest{}, fmt.Errorf("reading the digest: %w", err)
	}
	return engine.Digest{Rows: n, Sum: cmp.Or(sum.String, "0")}, nil
}

// stage loads every row into a fresh transient table shaped like the
// target and returns its name.
func (k *Sink) stage(ctx context.Context, conn *sql.Conn, rr array.RecordReader) (string, int64, error) {
	stage := k.w.Stage()
	if _, err := conn.ExecContext(ctx, k.w.CreateStage()); err != nil {
		return stage, 0, fmt.Errorf("creating the staging table: %w", err)
	}
	n, err := k.load(ctx, conn, stage, rr)
	if err != nil {
		return stage, 0, err
	}
	return stage, n, k.hook.Call(engine.HookStaged)
}

// apply changes the target from the staged rows in one atomic step.
func (k *Sink) apply(ctx context.Context, conn *sql.Conn, w engine.Window, stage string) error {
	switch k.mode {
	case config.Append:
		return k.appendWindow(ctx, conn, w)
	case config.Replace:
		if _, err := conn.ExecContext(ctx, k.w.Swap()); err != nil {
			return fmt.Errorf("swapping in the new rows: %w", err)
		}
		return nil
	case config.Merge:
		if _, err := conn.ExecContext(ctx, k.w.Merge()); err != nil {
			return fmt.Errorf("merging: %w", err)
		}
		return nil
	}
	return fmt.Errorf("mode %s is not a Snowflake write mode", k.mode)
}

// appendWindow deletes the window's rows (every row for a full read) and
// inserts the staged ones in one transaction, so a re-run replaces its
// window.
func (k *Sink) appendWindow(ctx context.Context, conn *sql.Conn, w engine.Window) (err error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	switch {
	case !w.IsZero() && k.window != "":
		_, err = tx.ExecContext(ctx, k.w.Clear(true), windowArgs(w)...)
	case w.IsZero():
		_, err = tx.ExecContext(ctx, k.w.Clear(false))
	default:
		err = errors.New("append by window needs the window column")
	}
	if err != nil {
		return fmt.Errorf("clearing the window: %w", err)
	}
	if _, err = tx.ExecContext(ctx, k.w.InsertStaged()); err != nil {
		return fmt.Errorf("inserting the staged rows: %w", err)
	}
	return tx.Commit()
}

// windowArgs bind a window's start and end to two ? markers.
func windowArgs(w engine.Window) []any {
	return []any{sf.DataTypeTimestampNtz, w.Start.UTC(), sf.DataTypeTimestampNtz, w.End.UTC()}
}

func (k *Sink) names() []string {
	out := make([]string, len(k.cols))
	for i, c := range k.cols {
		out[i] = c.name
	}
	return out
}

// load writes every batch into table. Loads smaller than BulkRows bind
// arrays of rows to INSERTs; larger ones go through Parquet files and
// COPY INTO (bulk.go). Until the threshold is reached the batches are held,
// so memory stays within BulkRows rows.
func (k *Sink) load(ctx context.Context, conn *sql.Conn, table string, rr array.RecordReader) (int64, error) {
	limit := k.BulkRows
	if limit == 0 {
		limit = DefaultBulkRows
	}
	var held []arrow.RecordBatch
	defer func() {
		for _, r := range held {
			r.Release()
		}
	}()
	var n int64
	for limit > 0 && n < limit && rr.Next() {
		rec := rr.RecordBatch()
		rec.Retain()
		held = append(held, rec)
		n += rec.NumRows()
	}
	if err := rr.Err(); err != nil {
		return 0, err
	}
	if limit > 0 && n >= limit {
		return k.copyInto(ctx, conn, table, held, rr)
	}
	q := k.w.InsertRows(table)
	for _, rec := range held {
		if err := k.insertBatch(ctx, conn, q, rec); err != nil {
			return 0, err
		}
	}
	for rr.Next() { // what is left when bulk loading is off
		rec := rr.RecordBatch()
		if err := k.insertBatch(ctx, conn, q, rec); err != nil {
			return 0, err
		}
		n += rec.NumRows()
	}
	return n, rr.Err()
}

// insertBatch inserts one batch with array-bound INSERTs of at most
// insertRows rows.
func (k *Sink) insertBatch(ctx context.Context, conn *sql.Conn, q string, rec arrow.RecordBatch) error {
	if err := k.check(rec); err != nil {
		return err
	}
	for off := int64(0); off < rec.NumRows(); off += insertRows {
		part := rec.NewSlice(off, min(off+insertRows, rec.NumRows()))
		args, err := k.bind(part)
		part.Release()
		if err != nil {
			return err
		}
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("inserting rows: %w", err)
		}
	}
	return nil
}

func (k *Sink) check(rec arrow.RecordBatch) error {
	if int(rec.NumCols()) != len(k.cols) {
		return fmt.Errorf("batch has %d columns, the stream %d", rec.NumCols(), len(k.cols))
	}
	return nil
}

// bind turns each column into an array binding of its values as text,
// NULLs as nil: Snowflake converts text to the column's type exactly
// (decimals digit for digit, timestamps to the nanosecond), and one
// encoding serves every type.
func (k *Sink) bind(rec arrow.RecordBatch) ([]any, error) {
	args := make([]any, len(k.cols))
	for i, c := range k.cols {
		a := rec.Column(i)
		text, err := textOf(a, c.typ) // one type switch a column, not a value
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", c.name, err)
		}
		vals := make([]any, a.Len())
		for j := range vals {
			if a.IsValid(j) {
				vals[j] = text(j)
			}
		}
		b, err := sf.Array(&vals)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", c.name, err)
		}
		args[i] = b
	}
	return args, nil
}

// textOf returns how to render a column's values the way Snowflake reads
// them back exactly.
func textOf(a arrow.Array, t sqltype.Type) (func(j int) string, error) {
	switch v := a.(type) {
	case *array.Boolean:
		return func(j int) string { return strconv.FormatBool(v.Value(j)) }, nil
	case *array.Float32:
		return func(j int) string { return strconv.FormatFloat(float64(v.Value(j)), 'g', -1, 32) }, nil
	case *array.Float64:
		return func(j int) string { return strconv.FormatFloat(v.Value(j), 'g', -1, 64) }, nil
	case *array.Decimal128:
		scale := v.DataType().(*arrow.Decimal128Type).Scale
		return func(j int) string { return v.Value(j).ToString(scale) }, nil
	case *array.Decimal256:
		scale := v.DataType().(*arrow.Decimal256Type).Scale
		return func(j int) string { return v.Value(j).ToString(scale) }, nil
	case *array.Time64:
		unit := v.DataType().(*arrow.Time64Type).Unit
		return func(j int) string { return v.Value(j).ToTime(unit).Format("15:04:05.999999999") }, nil
	case *array.String:
		return v.Value, nil
	case *array.Binary:
		return func(j int) string { return hex.EncodeToString(v.Value(j)) }, nil
	case *array.Date32:
		return func(j int) string { return v.Value(j).ToTime().Format(time.DateOnly) }, nil
	case *array.Timestamp:
		unit := v.DataType().(*arrow.TimestampType).Unit
		layout := "2006-01-02 15:04:05.999999999"
		if t.Zone == sqltype.Offset || t.Zone == sqltype.Local {
			layout = "2006-01-02T15:04:05.999999999-07:00" // ISO 8601, +00:00
		}
		return func(j int) string { return v.Value(j).ToTime(unit).UTC().Format(layout) }, nil
	case *array.Int8:
		return func(j int) string { return strconv.FormatInt(int64(v.Value(j)), 10) }, nil
	case *array.Int16:
		return func(j int) string { return strconv.FormatInt(int64(v.Value(j)), 10) }, nil
	case *array.Int32:
		return func(j int) string { return strconv.FormatInt(int64(v.Value(j)), 10) }, nil
	case *array.Int64:
		return func(j int) string { return strconv.FormatInt(v.Value(j), 10) }, nil
	case *array.Uint8:
		return func(j int) string { return strconv.FormatUint(uint64(v.Value(j)), 10) }, nil
	case *array.Uint16:
		return func(j int) string { return strconv.FormatUint(uint64(v.Value(j)), 10) }, nil
	case *array.Uint32:
		return func(j int) string { return strconv.FormatUint(uint64(v.Value(j)), 10) }, nil
	case *array.Uint64:
		return func(j int) string { return strconv.FormatUint(v.Value(j), 10) }, nil
	}
	return nil, fmt.Errorf("cannot write %s values into %s", a.DataType(), t)
}

// plain words a permission error from Snowflake so that it says what to
// do, and marks the errors that trying again cannot fix as permanent:
// data exceptions (SQLSTATE class 22), constraint violations (23), syntax
// and access errors (42) and unsupported features (0A).
func plain(err error) error {
	var se *sf.SnowflakeError
	if !errors.As(err, &se) {
		return err
	}
	if se.Number == 3001 {
		err = fmt.Errorf("the connection's role may not write here (Snowflake: insufficient privileges; grant it INSERT, DELETE and CREATE TABLE or use a read_write connection): %w", err)
	}
	switch {
	case se.Number == 3001, strings.HasPrefix(se.SQLState, "22"), strings.HasPrefix(se.SQLState, "23"),
		strings.HasPrefix(se.SQLState, "42"), strings.HasPrefix(se.SQLState, "0A"):
		return engine.Permanent(err)
	}
	return err
}
