package clickhouse

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/hockeystack/sluice/engine/clickhouse/clickhousetest"
	"github.com/hockeystack/sluice/engine/ddl"
	"github.com/hockeystack/sluice/engine/plan"
)

// awkward are column names that break SQL built by pasting: each
// character a quoting function has to get right, the pair of names from
// the issue that made a table with an extra column (a trailing backslash
// escaped the closing backtick), and names the driver's own parsing of an
// INSERT gets wrong.
var awkward = []string{
	`p\`,
	`' Int64, injected String, --'`,
	`it's`, `say "hi"`, "back`tick", `back\slash`, `a\b`, `\x41`,
	`with space`, `dot.ted`, `ünïcødé 名前`, `1st`, `select`, `from`, `index`,
	`-- dash`, `/* star`, `a(b`, `a)b`, `f(x)`, `((`, `a,b`, "tab\there", "new\nline",
}

// TestCreateAwkwardNames creates a table with every awkward name on the
// real server and reads its columns back: exactly those names, no more.
func TestCreateAwkwardNames(t *testing.T) {
	db := clickhousetest.NewDB(t)
	table := ddl.ClickHouseTable{Name: db.Name + ".t", Engine: "MergeTree"}
	for _, n := range awkward {
		table.Columns = append(table.Columns, ddl.Column{Name: n, Type: "String"})
	}
	if err := db.Conn.Exec(context.Background(), table.Create(false)); err != nil {
		t.Fatalf("%v\n%s", err, table.Create(false))
	}
	got := columnNames(t, db, "t")
	if !slices.Equal(got, awkward) {
		t.Errorf("the server made the columns\n%q\nthe table declares\n%q", got, awkward)
	}
}

func columnNames(t *testing.T, db *clickhousetest.DB, table string) []string {
	t.Helper()
	rows, err := db.Conn.Query(context.Background(), "SELECT name FROM system.columns WHERE database = ? AND table = ? ORDER BY position", db.Name, table)
	if err != nil {
		// 18.16's system.columns has no position: its rows come in order.
		rows, err = db.Conn.Query(context.Background(), "SELECT name FROM system.columns WHERE database = ? AND table = ?", db.Name, table)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

// TestSinkAwkwardNames writes windows through the sink into columns with
// every awkward name, the window column among them, and reads each
// column back: each holds the values written for it.
func TestSinkAwkwardNames(t *testing.T) {
	db := clickhousetest.NewDB(t)
	v, _ := ddl.ParseClickHouseVersion(db.Version)
	window := `at "when" \`
	names := append(slices.Clone(awkward), window)
	partition := ddl.Call("toYYYYMM", ddl.ColumnRef(window))
	table := ddl.ClickHouseTable{Name: db.Name + ".t", Engine: "MergeTree",
		PartitionBy: &partition, OrderBy: []ddl.KeyExpr{ddl.ColumnRef(awkward[0]), ddl.ColumnRef(awkward[1])}}
	var cols []plan.Column
	var fields []arrow.Field
	for _, n := range awkward {
		cols = append(cols, plan.Column{Name: n, Type: "String"})
		table.Columns = append(table.Columns, ddl.Column{Name: n, Type: "String"})
		fields = append(fields, arrow.Field{Name: n, Type: arrow.BinaryTypes.String})
	}
	cols = append(cols, plan.Column{Name: window, Type: "DateTime('UTC')"})
	table.Columns = append(table.Columns, ddl.Column{Name: window, Type: "DateTime('UTC')"})
	fields = append(fields, arrow.Field{Name: window, Type: &arrow.TimestampType{Unit: arrow.Second, TimeZone: "UTC"}})
	stream := &plan.Stream{Name: "t", Columns: cols, Destination: plan.Destination{Table: table.Name, Mode: "append", Create: true, DDL: table.Create(true)}}
	k, err := NewSink(db.Conn, executable(t, stream, v, window))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := k.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	schema := arrow.NewSchema(fields, nil)
	// rows of one window: in row r, each column holds its own name and r.
	rows := func(w Window, n int) array.RecordReader {
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		defer b.Release()
		for r := 0; r < n; r++ {
			for i, name := range awkward {
				b.Field(i).(*array.StringBuilder).Append(fmt.Sprintf("%s#%d", name, r))
			}
			ts, _ := arrow.TimestampFromTime(w.Start.Add(time.Duration(r)*time.Hour), arrow.Second)
			b.Field(len(awkward)).(*array.TimestampBuilder).Append(ts)
		}
		rec := b.NewRecordBatch()
		defer rec.Release()
		rr, _ := array.NewRecordReader(schema, []arrow.RecordBatch{rec})
		return rr
	}
	day := func(d int) Window {
		s := time.Date(2024, 1, d, 0, 0, 0, 0, time.UTC)
		return Window{Start: s, End: s.AddDate(0, 0, 1)}
	}
	for _, w := range []struct {
		day, rows int
	}{{1, 3}, {2, 2}, {1, 2}} { // day 1 again replaces its rows
		rr := rows(day(w.day), w.rows)
		got, err := k.WriteWindow(ctx, day(w.day), rr)
		rr.Release()
		if err != nil {
			t.Fatal(err)
		}
		if got.Rows != int64(w.rows) || got.Digest.Rows != int64(w.rows) {
			t.Fatalf("day %d: wrote %+v, want %d rows", w.day, got, w.rows)
		}
	}
	if got := columnNames(t, db, "t"); !slices.Equal(got, names) {
		t.Errorf("the server made the columns\n%q\nthe table declares\n%q", got, names)
	}
	for _, name := range awkward {
		got := dump(t, db, fmt.Sprintf("SELECT %s FROM %s ORDER BY %s, %s", ddl.QuoteClickHouse(name), ddl.QuoteClickHouseName(table.Name), ddl.QuoteClickHouse(window), ddl.QuoteClickHouse(name)))
		want := strings.Join([]string{name + "#0", name + "#1", name + "#0", name + "#1"}, " ")
		if got != want {
			t.Errorf("column %q holds\n%q\nwant\n%q", name, got, want)
		}
	}
}

// keyFunctionCalls calls every function a key expression may use, with
// its fewest and most arguments, over the columns of keyTable.
func keyFunctionCalls() []ddl.KeyExpr {
	at, id, utc := ddl.ColumnRef("at"), ddl.ColumnRef("id"), ddl.KeyExpr{Kind: ddl.KeyString, Value: "UTC"}
	ten := ddl.KeyExpr{Kind: ddl.KeyNumber, Value: "10"}
	var out []ddl.KeyExpr
	for name, arity := range ddl.KeyFunctions {
		switch name {
		case "intDiv", "modulo":
			out = append(out, ddl.Call(name, id, ten))
		case "cityHash64", "sipHash64", "tuple":
			out = append(out, ddl.Call(name, id), ddl.Call(name, id, at))
		default:
			out = append(out, ddl.Call(name, at))
			if arity.Max == 2 {
				out = append(out, ddl.Call(name, at, utc))
			}
		}
	}
	return out
}

// TestKeyFunctionsExist creates a table partitioned by each call of a
// function a key expression may use, on the real server.
func TestKeyFunctionsExist(t *testing.T) {
	db := clickhousetest.NewDB(t)
	for i, call := range keyFunctionCalls() {
		table := ddl.ClickHouseTable{Name: fmt.Sprintf("%s.k%d", db.Name, i), Engine: "MergeTree",
			Columns:     []ddl.Column{{Name: "id", Type: "Int64"}, {Name: "at", Type: "DateTime('UTC')"}},
			PartitionBy: &call, OrderBy: []ddl.KeyExpr{call}}
		if err := db.Conn.Exec(context.Background(), table.Create(false)); err != nil {
			t.Errorf("%s: %v", call.SQL(), err)
		}
	}
}
