//go:build duckdb_arrow

package snowflake

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/hockeystack/sluice/engine"
	"github.com/hockeystack/sluice/engine/config"
	"github.com/hockeystack/sluice/engine/plan"
	"github.com/hockeystack/sluice/engine/snowflake/snowflaketest"
	"github.com/hockeystack/sluice/engine/sqltype"
)

// pushRow is one row of the test push stream.
type pushRow struct {
	id     int64
	amount string // decimal text, scale 2
	note   *string
	at     time.Time
	ok     bool
}

var pushSchema = arrow.NewSchema([]arrow.Field{
	{Name: "ID", Type: arrow.PrimitiveTypes.Int64},
	{Name: "AMOUNT", Type: &arrow.Decimal128Type{Precision: 38, Scale: 2}},
	{Name: "NOTE", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "AT", Type: &arrow.TimestampType{Unit: arrow.Microsecond}},
	{Name: "OK", Type: arrow.FixedWidthTypes.Boolean},
}, nil)

func pushRows(rows ...pushRow) array.RecordReader {
	b := array.NewRecordBuilder(memory.DefaultAllocator, pushSchema)
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
		ts, _ := arrow.TimestampFromTime(r.at, arrow.Microsecond)
		b.Field(3).(*array.TimestampBuilder).Append(ts)
		b.Field(4).(*array.BooleanBuilder).Append(r.ok)
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	rr, _ := array.NewRecordReader(pushSchema, []arrow.RecordBatch{rec})
	return rr
}

func text(s string) *string { return &s }

func at(day int) time.Time { return time.Date(2024, 1, day, 12, 30, 15, 123456000, time.UTC) }

// pushFixture is snowsim with table ACME.CRM.EXPORT and a sink for mode.
type pushFixture struct {
	s    *snowflaketest.Server
	db   *sql.DB
	sink *Sink
}

func newPushFixture(t testing.TB, mode string, create bool, opts snowflaketest.Options) *pushFixture {
	t.Helper()
	s := snowflaketest.Start(t, opts)
	setup := "CREATE DATABASE ACME; CREATE SCHEMA ACME.CRM"
	if !create {
		setup += `; CREATE TABLE ACME.CRM.EXPORT (ID NUMBER(18,0) NOT NULL, AMOUNT NUMBER(38,2), NOTE VARCHAR, AT TIMESTAMP_NTZ(6), OK BOOLEAN);
			INSERT INTO ACME.CRM.EXPORT VALUES (100, 1.00, 'before', '2023-12-31 00:00:00', TRUE)`
	}
	if err := s.Exec(context.Background(), setup); err != nil {
		t.Fatal(err)
	}
	user := opts.Users
	name := "SLUICE"
	if len(user) > 0 {
		name = user[0].Name
	}
	c := connection(s, name, config.Auth{Method: "password", Password: &config.Secret{Env: "PW"}})
	db, err := Open(context.Background(), c, func(string) string { return "sluice" })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	stream := &plan.Stream{Name: "export", Destination: plan.Destination{
		Table: "ACME.CRM.EXPORT", Mode: mode, Key: []string{"ID"}, Create: create,
		DDL: "CREATE TABLE IF NOT EXISTS ACME.CRM.EXPORT (ID NUMBER(18,0) NOT NULL, AMOUNT NUMBER(38,2), NOTE VARCHAR, AT TIMESTAMP_NTZ(6), OK BOOLEAN)",
	}}
	for _, col := range []struct{ name, typ string }{{"ID", "NUMBER(18,0) NOT NULL"}, {"AMOUNT", "NUMBER(38,2)"}, {"NOTE", "VARCHAR"}, {"AT", "TIMESTAMP_NTZ(6)"}, {"OK", "BOOLEAN"}} {
		stream.Columns = append(stream.Columns, plan.Column{Name: col.name, Type: col.typ})
		typ, err := sqltype.ParseSnowflake(col.typ)
		if err != nil {
			t.Fatal(err)
		}
		stream.Exec.Columns = append(stream.Exec.Columns, plan.TypedColumn{Name: col.name, Type: typ})
	}
	stream.Exec.WindowColumn, stream.Exec.Mode = "AT", config.Mode(mode)
	sink, err := NewSink(db, NewCatalog(db, "ACME", "CRM"), stream)
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	return &pushFixture{s: s, db: db, sink: sink}
}

// table renders the destination ordered by ID.
func (f *pushFixture) table(t *testing.T) string {
	t.Helper()
	rows, err := f.db.Query("SELECT ID, TO_VARCHAR(AMOUNT), COALESCE(NOTE, 'NULL'), TO_VARCHAR(AT, 'YYYY-MM-DD HH24:MI:SS.FF6'), OK FROM ACME.CRM.EXPORT ORDER BY ID")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, amount, note, ts string
		var ok bool
		if err := rows.Scan(&id, &amount, &note, &ts, &ok); err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.Join([]string{id, amount, note, ts, map[bool]string{true: "true", false: "false"}[ok]}, " "))
	}
	return strings.Join(out, "\n")
}

var january = engine.Window{Start: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)}

// bulkPaths are the two ways rows reach Snowflake: array-bound INSERTs
// and Parquet files put on a stage and copied in.
var bulkPaths = []struct {
	name string
	rows int64
}{{"bind", -1}, {"copy", 1}}

func TestPushModes(t *testing.T) {
	for _, path := range bulkPaths {
		t.Run(path.name, func(t *testing.T) { testPushModes(t, path.rows) })
	}
}

func testPushModes(t *testing.T, bulkRows int64) {
	ctx := context.Background()
	big := "123456789012345678901234567890123456.78"
	t.Run("append", func(t *testing.T) {
		f := newPushFixture(t, "append", false, snowflaketest.Options{})
		f.sink.BulkRows = bulkRows
		for range 2 { // the second write re-runs the window: no duplicates
			n, err := f.sink.WriteWindow(ctx, january, pushRows(pushRow{1, big, text("it's"), at(2), true}, pushRow{2, "-0.01", nil, at(3), false}))
			if err != nil || n.Rows != 2 {
				t.Fatalf("write: %d rows, %v", n.Rows, err)
			}
		}
		want := "1 " + big + " it's 2024-01-02 12:30:15.123456 true\n2 -0.01 NULL 2024-01-03 12:30:15.123456 false\n100 1.00 before 2023-12-31 00:00:00.000000 true"
		if got := f.table(t); got != want {
			t.Errorf("table:\n%s\nwant:\n%s", got, want)
		}
	})
	t.Run("replace", func(t *testing.T) {
		f := newPushFixture(t, "replace", false, snowflaketest.Options{})
		f.sink.BulkRows = bulkRows
		if _, err := f.sink.WriteWindow(ctx, engine.Window{}, pushRows(pushRow{7, "7.70", text("new"), at(7), true})); err != nil {
			t.Fatal(err)
		}
		if got, want := f.table(t), "7 7.70 new 2024-01-07 12:30:15.123456 true"; got != want {
			t.Errorf("table:\n%s\nwant:\n%s", got, want)
		}
	})
	t.Run("merge", func(t *testing.T) {
		f := newPushFixture(t, "merge", false, snowflaketest.Options{})
		f.sink.BulkRows = bulkRows
		for _, rows := range []array.RecordReader{
			pushRows(pushRow{100, "2.00", text("updated"), at(1), false}, pushRow{3, "3.00", nil, at(3), true}),
			pushRows(pushRow{3, "3.00", nil, at(3), true}), // a re-run changes nothing
		} {
			if _, err := f.sink.WriteWindow(ctx, engine.Window{}, rows); err != nil {
				t.Fatal(err)
			}
		}
		want := "3 3.00 NULL 2024-01-03 12:30:15.123456 true\n100 2.00 updated 2024-01-01 12:30:15.123456 false"
		if got := f.table(t); got != want {
			t.Errorf("table:\n%s\nwant:\n%s", got, want)
		}
	})
	t.Run("create", func(t *testing.T) {
		f := newPushFixture(t, "append", true, snowflaketest.Options{})
		f.sink.BulkRows = bulkRows
		if _, err := f.sink.WriteWindow(ctx, january, pushRows(pushRow{1, "1.00", nil, at(1), true})); err != nil {
			t.Fatal(err)
		}
		if got, want := f.table(t), "1 1.00 NULL 2024-01-01 12:30:15.123456 true"; got != want {
			t.Errorf("table:\n%s\nwant:\n%s", got, want)
		}
	})
}

// TestPushFailureLeavesTableUnchanged fails each mode after its rows are
// loaded, and a request in the middle of a load: the table stays as it
// was.
func TestPushFailureLeavesTableUnchanged(t *testing.T) {
	ctx := context.Background()
	before := "100 1.00 before 2023-12-31 00:00:00.000000 true"
	rows := func() array.RecordReader {
		return pushRows(pushRow{100, "9.99", text("changed"), at(1), true}, pushRow{5, "5.00", nil, at(5), true})
	}
	for _, mode := range []string{"append", "replace", "merge"} {
		t.Run(mode+"/hook", func(t *testing.T) {
			f := newPushFixture(t, mode, false, snowflaketest.Options{})
			w := engine.Window{Start: time.Date(2023, 12, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)}
			if mode != "append" {
				w = engine.Window{}
			}
			f.sink.SetHook(func(engine.HookPoint) error { return errors.New("killed") })
			if _, err := f.sink.WriteWindow(ctx, w, rows()); err == nil {
				t.Fatal("the write succeeded")
			}
			if got := f.table(t); got != before {
				t.Errorf("table after a failed %s:\n%s", mode, got)
			}
		})
		// A request fails after the staging table is made: the first
		// load request (INSERT, or PUT), or the one after it.
		for _, path := range bulkPaths {
			for skip := 1; skip <= 2; skip++ {
				t.Run(fmt.Sprintf("%s/server/%s/%d", mode, path.name, skip), func(t *testing.T) {
					f := newPushFixture(t, mode, false, snowflaketest.Options{})
					f.sink.BulkRows = path.rows
					f.s.FailRequests("/queries/v1/query-request", skip, 100, 400) // not retried: the push fails here
					if _, err := f.sink.WriteWindow(ctx, engine.Window{}, rows()); err == nil {
						t.Fatal("the write succeeded")
					}
					f.s.ClearFaults()
					if got := f.table(t); got != before {
						t.Errorf("table after a failed %s:\n%s", mode, got)
					}
				})
			}
		}
	}
}

// TestPushThroughReadOnlyRole: Snowflake refuses the write, and the error
// says so plainly.
func TestPushThroughReadOnlyRole(t *testing.T) {
	f := newPushFixture(t, "append", false, snowflaketest.Options{Users: []snowflaketest.User{{Name: "READER", Password: "sluice", ReadOnly: true}}})
	_, err := f.sink.WriteWindow(context.Background(), january, pushRows(pushRow{1, "1.00", nil, at(1), true}))
	if err == nil || !strings.Contains(err.Error(), "the connection's role may not write here") {
		t.Fatalf("error %v, want a plain permission error", err)
	}
}

// TestPushRejectedValueIsPermanent: a value the table rejects fails the
// write with an error marked permanent (retrying cannot fix it) on both
// load paths, and leaves the table as it was.
func TestPushRejectedValueIsPermanent(t *testing.T) {
	for _, path := range bulkPaths {
		t.Run(path.name, func(t *testing.T) {
			f := newPushFixture(t, "append", false, snowflaketest.Options{})
			if err := f.s.Exec(context.Background(), `CREATE OR REPLACE TABLE ACME.CRM.EXPORT (ID NUMBER(18,0) NOT NULL, AMOUNT NUMBER(38,2), NOTE VARCHAR(3), AT TIMESTAMP_NTZ(6), OK BOOLEAN);
				INSERT INTO ACME.CRM.EXPORT VALUES (100, 1.00, 'bef', '2023-12-31 00:00:00', TRUE)`); err != nil {
				t.Fatal(err)
			}
			f.sink.BulkRows = path.rows
			_, err := f.sink.WriteWindow(context.Background(), engine.Window{}, pushRows(pushRow{1, "1.00", text("too long"), at(1), true}))
			if err == nil || !engine.IsPermanent(err) || !strings.Contains(err.Error(), "too long") {
				t.Fatalf("error %v, want a permanent one", err)
			}
			if got, want := f.table(t), "100 1.00 bef 2023-12-31 00:00:00.000000 true"; got != want {
				t.Errorf("table after a rejected write:\n%s", got)
			}
		})
	}
}

// TestPushPicksTheLoadPathBySize: by default a small write binds arrays and
// one of DefaultBulkRows rows goes through PUT and COPY INTO.
func TestPushPicksTheLoadPathBySize(t *testing.T) {
	f := newPushFixture(t, "replace", false, snowflaketest.Options{})
	copies := func() (n int) {
		for _, q := range f.s.QueryHistory() {
			if strings.HasPrefix(q.SQL, "COPY INTO") {
				n++
			}
		}
		return n
	}
	if _, err := f.sink.WriteWindow(context.Background(), engine.Window{}, pushRows(pushRow{1, "1.00", nil, at(1), true})); err != nil {
		t.Fatal(err)
	}
	if n := copies(); n != 0 {
		t.Errorf("a one-row write ran %d COPY INTO", n)
	}
	batches := pushBatches(DefaultBulkRows)
	rr, _ := array.NewRecordReader(pushSchema, batches)
	for _, b := range batches {
		b.Release()
	}
	n, err := f.sink.WriteWindow(context.Background(), engine.Window{}, rr)
	rr.Release()
	if err != nil || n.Rows != DefaultBulkRows {
		t.Fatalf("wrote %d rows: %v", n.Rows, err)
	}
	if n := copies(); n != 1 {
		t.Errorf("a write of %d rows ran %d COPY INTO, want one", DefaultBulkRows, n)
	}
}
