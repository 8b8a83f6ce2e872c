package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/hockeystack/sluice/engine/clickhouse/clickhousetest"
	"github.com/hockeystack/sluice/engine/config"
	"github.com/hockeystack/sluice/engine/ddl"
	"github.com/hockeystack/sluice/engine/plan"
	"github.com/hockeystack/sluice/engine/sqltype"
)

// event is one row of the test stream: id, amount, note, at.
type event struct {
	id     int64
	amount string
	note   *string
	at     time.Time
}

var eventSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "amount", Type: &arrow.Decimal128Type{Precision: 38, Scale: 2}},
	{Name: "note", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "at", Type: &arrow.TimestampType{Unit: arrow.Second, TimeZone: "UTC"}},
	{Name: "ok", Type: arrow.FixedWidthTypes.Boolean},
}, nil)

func events(rows ...event) array.RecordReader {
	b := array.NewRecordBuilder(memory.DefaultAllocator, eventSchema)
	defer b.Release()
	for _, r := range rows {
		b.Field(0).(*array.Int64Builder).Append(r.id)
		d, _ := decimal128.FromString(r.amount, 38, 2)
		b.Field(1).(*array.Decimal128Builder).Append(d)
		if r.note == nil {
			b.Field(2).AppendNull()
		} else {
			b.Field(2).(*array.StringBuilder).Append(*r.note)
		}
		ts, _ := arrow.TimestampFromTime(r.at, arrow.Second)
		b.Field(3).(*array.TimestampBuilder).Append(ts)
		b.Field(4).(*array.BooleanBuilder).Append(r.id%2 == 0)
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	rr, _ := array.NewRecordReader(eventSchema, []arrow.RecordBatch{rec})
	return rr
}

func day(d int) time.Time { return time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC).AddDate(0, 0, d-1) }

func note(s string) *string { return &s }

// eventStream plans the test stream's destination in db for mode.
func eventStream(t *testing.T, db string, v ddl.ClickHouseVersion, mode string) *plan.Stream {
	t.Helper()
	boolType := "Bool"
	if !v.Has(ddl.Bool) {
		boolType = "UInt8"
	}
	cols := []plan.Column{{Name: "id", Type: "Int64"}, {Name: "amount", Type: "Decimal(38, 2)"},
		{Name: "note", Type: "Nullable(String)"}, {Name: "at", Type: "DateTime('UTC')"}, {Name: "ok", Type: "Bool", Create: boolType}}
	table := ddl.ClickHouseTable{Name: db + ".events", Engine: "MergeTree", OrderBy: []ddl.KeyExpr{ddl.ColumnRef("id")}}
	dest := plan.Destination{Table: db + ".events", Mode: mode, Create: true}
	switch mode {
	case "append":
		p := ddl.Call("toYYYYMM", ddl.ColumnRef("at"))
		table.PartitionBy = &p
		dest.Partition = p.SQL()
	case "upsert":
		table.Engine = "ReplacingMergeTree(at)"
	}
	for _, c := range cols {
		typ := c.Type
		if c.Create != "" {
			typ = c.Create
		}
		table.Columns = append(table.Columns, ddl.Column{Name: c.Name, Type: typ})
	}
	dest.DDL = table.Create(true)
	return executable(t, &plan.Stream{Name: "events", Columns: cols, Destination: dest}, v, "at")
}

// executable fills in what plan.Compile would for a stream the test
// planned by hand: the server version, window column and typed columns.
func executable(t testing.TB, s *plan.Stream, v ddl.ClickHouseVersion, window string) *plan.Stream {
	t.Helper()
	s.Exec.ClickHouse, s.Exec.WindowColumn, s.Exec.Mode = v, window, config.Mode(s.Destination.Mode)
	for _, c := range s.Columns {
		text := c.Type
		if c.Create != "" {
			text = c.Create
		}
		typ, err := sqltype.ParseClickHouse(text)
		if err != nil {
			t.Fatal(err)
		}
		s.Exec.Columns = append(s.Exec.Columns, plan.TypedColumn{Name: c.Name, Type: typ})
	}
	return s
}

func dump(t *testing.T, db *clickhousetest.DB, q string) string {
	t.Helper()
	rows, err := db.Conn.Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

func newSink(t *testing.T, db *clickhousetest.DB, mode string) *Sink {
	t.Helper()
	v, _ := ddl.ParseClickHouseVersion(db.Version)
	k, err := NewSink(db.Conn, eventStream(t, db.Name, v, mode))
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	return k
}

func write(t *testing.T, k *Sink, w Window, rows ...event) {
	t.Helper()
	rr := events(rows...)
	defer rr.Release()
	got, err := k.WriteWindow(context.Background(), w, rr)
	if err != nil {
		t.Fatal(err)
	}
	if got.Rows != int64(len(rows)) {
		t.Errorf("wrote %d rows, want %d", got.Rows, len(rows))
	}
	if k.dest.Mode != "upsert" && (got.Digest.Rows != got.Rows || got.Digest.Sum == "") {
		t.Errorf("digest %+v after writing %d rows", got.Digest, got.Rows)
	}
}

const listEvents = "SELECT concat(toString(id), ':', toString(toFloat64(amount)), ':', ifNull(note, '-'), ':', toString(toDayOfMonth(at)), ':', toString(ok)) FROM %s.events ORDER BY id"

func TestAppendReplacesWindows(t *testing.T) {
	db := clickhousetest.NewDB(t)
	k := newSink(t, db, "append")
	week := func(i int) Window {
		return Window{Start: day(1 + 7*i).Truncate(24 * time.Hour), End: day(8 + 7*i).Truncate(24 * time.Hour)}
	}
	write(t, k, week(0), event{1, "1.10", note("a"), day(1)}, event{2, "2.20", nil, day(5)})
	write(t, k, week(1), event{3, "3.30", note("c"), day(9)})
	// The first week again: row 2 is gone at the source, row 1 changed,
	// row 4 is new. The second week's rows, in the same month partition,
	// stay.
	write(t, k, week(0), event{1, "1.11", note("a2"), day(1)}, event{4, "4.40", nil, day(7)})
	got := dump(t, db, fmt.Sprintf(listEvents, db.Name))
	want := "1:1.11:a2:1:0 3:3.3:c:9:0 4:4.4:-:7:1"
	if !strings.HasPrefix(db.Version, "18.") {
		want = "1:1.11:a2:1:false 3:3.3:c:9:false 4:4.4:-:7:true"
	}
	if got != want {
		t.Errorf("after re-running a window:\n got %s\nwant %s", got, want)
	}
	// An empty window clears its rows and nothing else.
	write(t, k, week(1))
	if got := dump(t, db, fmt.Sprintf("SELECT toString(id) FROM %s.events ORDER BY id", db.Name)); got != "1 4" {
		t.Errorf("after an empty window: %s", got)
	}
	if got := dump(t, db, fmt.Sprintf("SELECT name FROM system.tables WHERE database = '%s' ORDER BY name", db.Name)); got != "events" {
		t.Errorf("tables left behind: %s", got)
	}
}

func TestUpsertAndReplace(t *testing.T) {
	db := clickhousetest.NewDB(t)
	up := newSink(t, db, "upsert")
	write(t, up, Window{}, event{1, "1.00", nil, day(1)}, event{2, "2.00", nil, day(1)})
	write(t, up, Window{}, event{1, "9.00", note("newer"), day(2)})
	if got := dump(t, db, fmt.Sprintf("SELECT concat(toString(id), ':', toString(toFloat64(amount))) FROM %s.events FINAL ORDER BY id", db.Name)); got != "1:9 2:2" {
		t.Errorf("upsert FINAL: %s", got)
	}
	db.Conn.Exec(context.Background(), "DROP TABLE "+db.Name+".events")
	rep := newSink(t, db, "replace")
	write(t, rep, Window{}, event{1, "1.00", nil, day(1)}, event{2, "2.00", nil, day(1)})
	write(t, rep, Window{}, event{3, "3.00", nil, day(1)})
	if got := dump(t, db, fmt.Sprintf("SELECT toString(id) FROM %s.events ORDER BY id", db.Name)); got != "3" {
		t.Errorf("replace: %s", got)
	}
	if got := dump(t, db, fmt.Sprintf("SELECT name FROM system.tables WHERE database = '%s' ORDER BY name", db.Name)); got != "events" {
		t.Errorf("tables left behind: %s", got)
	}
}

// failingReader yields its batches, then fails, as a window does when a
// bad value stops it after rows have been sent.
type failingReader struct {
	array.RecordReader
	err error
}

func (f *failingReader) Next() bool {
	if f.RecordReader.Next() {
		return true
	}
	f.err = fmt.Errorf("row 240000: value out of range")
	return false
}

func (f *failingReader) Err() error { return f.err }

// TestFailedWindowLeavesTableAsItWas: a window that fails after 250,000
// rows, 200,000 of them sent (two blocks), leaves the table as it was, in
// every mode.
func TestFailedWindowLeavesTableAsItWas(t *testing.T) {
	for _, mode := range []string{"upsert", "append", "replace"} {
		t.Run(mode, func(t *testing.T) {
			db := clickhousetest.NewDB(t)
			k := newSink(t, db, mode)
			jan := Window{Start: day(1).Truncate(24 * time.Hour), End: day(32).Truncate(24 * time.Hour)}
			write(t, k, jan, event{1, "1.00", nil, day(1)}, event{2, "2.00", nil, day(2)})
			many := make([]event, 250_000)
			for i := range many {
				many[i] = event{int64(i + 10), "9.99", nil, day(1 + i%28)}
			}
			// The server keeps inserted blocks until it has a million rows
			// to write as a part; with a small threshold the blocks sent
			// before the failure are written, as a big window's are.
			ctx := clickhouse.Context(context.Background(), clickhouse.WithSettings(clickhouse.Settings{"min_insert_block_size_rows": 1000, "min_insert_block_size_bytes": 1000}))
			var recs []arrow.RecordBatch
			for i := 0; i < len(many); i += 50_000 {
				rr := events(many[i : i+50_000]...)
				rr.Next()
				rec := rr.RecordBatch()
				rec.Retain()
				recs = append(recs, rec)
				rr.Release()
			}
			rr, _ := array.NewRecordReader(eventSchema, recs)
			if _, err := k.WriteWindow(ctx, jan, &failingReader{RecordReader: rr}); err == nil {
				t.Fatal("the write succeeded")
			}
			if got := dump(t, db, fmt.Sprintf("SELECT concat(toString(id), ':', toString(toFloat64(amount))) FROM %s.events ORDER BY id", db.Name)); got != "1:1 2:2" {
				t.Errorf("after a failed window the table holds %.60s", got)
			}
			if got := dump(t, db, fmt.Sprintf("SELECT name FROM system.tables WHERE database = '%s' ORDER BY name", db.Name)); got != "events" {
				t.Errorf("tables left behind: %s", got)
			}
		})
	}
}

// TestAppendRefusesRowsOutsideTheWindow: a row whose window column lies
// outside the window it came in stops the window, naming the column,
// and the table is as it was.
func TestAppendRefusesRowsOutsideTheWindow(t *testing.T) {
	db := clickhousetest.NewDB(t)
	k := newSink(t, db, "append")
	jan := Window{Start: day(1).Truncate(24 * time.Hour), End: day(8).Truncate(24 * time.Hour)}
	write(t, k, jan, event{1, "1.00", nil, day(1)})
	rr := events(event{2, "2.00", nil, day(2)}, event{3, "3.00", nil, day(20)})
	defer rr.Release()
	_, err := k.WriteWindow(context.Background(), jan, rr)
	if err == nil || !strings.Contains(err.Error(), "column at: 1 row(s) fall outside the window") {
		t.Fatalf("write with a row outside the window: %v", err)
	}
	if got := dump(t, db, fmt.Sprintf("SELECT toString(id) FROM %s.events ORDER BY id", db.Name)); got != "1" {
		t.Errorf("after the refused window the table holds %s", got)
	}
}
