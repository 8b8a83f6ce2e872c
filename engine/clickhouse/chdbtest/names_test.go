//go:build chdb

package chdbtest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	chengine "github.com/hockeystack/sluice/engine"
	"github.com/hockeystack/sluice/engine/clickhouse"
	"github.com/hockeystack/sluice/engine/ddl"
)

// awkward are column names that break SQL built by pasting; the first two
// made a table with an extra column before names were escaped.
var awkward = []string{
	`p\`, `' Int64, injected String, --'`,
	`it's`, `say "hi"`, "back`tick", `a\b`, `\x41`, `with space`, `dot.ted`,
	`ünïcødé 名前`, `1st`, `select`, `index`, `null`, `-- dash`, `/* star`,
	`a(b`, `((`, "tab\there", "new\nline",
}

// TestCurrentDDLAwkwardNames plans a stream whose columns have every
// awkward name, partitioned and ordered by expressions over them, for the
// current release; the table the DDL makes in a current ClickHouse has
// exactly those names, and a window written through the Appender twice
// lands in the right columns once.
func TestCurrentDDLAwkwardNames(t *testing.T) {
	const window = "at `when`"
	var cols strings.Builder
	for i, n := range awkward {
		fmt.Fprintf(&cols, "      %s: {from: C%d, type: String}\n", strconv.Quote(n), i)
	}
	fmt.Fprintf(&cols, "      %s: {from: C, type: \"DateTime64(6, 'UTC')\"}\n", strconv.Quote(window))
	order := strconv.Quote("(" + ddl.QuoteClickHouse(awkward[0]) + ", cityHash64(" + ddl.QuoteClickHouse(awkward[1]) + "))")
	pipeline := fmt.Sprintf(`version: 1
name: names
streams:
  t:
    source:
      connection: sf
      query: t.sql
      incremental: {cursor: C, start: 2024-01-01, window: 1d}
    columns:
%s    destination:
      connection: ch
      table: modern.t
      mode: append
      create: true
      partition: %s
      order_by: [%s]
`, cols.String(), strconv.Quote("toYYYYMMDD("+ddl.QuoteClickHouse(window)+")"), order)
	s := compileFolder(t, pipeline, map[string]string{"t.sql": "SELECT * FROM T WHERE C >= :window_start AND C < :window_end"})["t"]
	if !strings.Contains(strings.Join(s.Destination.Steps, "\n"), ddl.QuoteClickHouse(window)+" >= {window_start}") {
		t.Errorf("the steps do not cut windows on %s:\n%s", window, strings.Join(s.Destination.Steps, "\n"))
	}
	e := open(t)
	e.exec(s.Destination.DDL)
	var want []string
	for _, c := range s.Columns {
		want = append(want, c.Name)
	}
	got := e.query("SELECT arrayStringConcat(groupArray(hex(name)), ' ') FROM (SELECT name FROM system.columns WHERE database = 'modern' AND table = 't' ORDER BY position)")
	var wantHex []string
	for _, n := range want {
		wantHex = append(wantHex, fmt.Sprintf("%X", n))
	}
	if got != strings.Join(wantHex, " ") {
		t.Errorf("the server made other columns than\n%q\nDDL:\n%s", want, s.Destination.DDL)
	}

	a := &clickhouse.Appender{
		ClickHouseAppend: ddl.ClickHouseAppend{Table: "modern.t", Columns: want, Window: window, Strategy: ddl.AppendStrategyFor(ddl.CurrentClickHouse)},
		Run:              runner{e},
	}
	w := chengine.Window{Start: time.Date(2024, 1, 5, 0, 0, 0, 0, time.UTC), End: time.Date(2024, 1, 6, 0, 0, 0, 0, time.UTC)}
	var vals []string
	for _, n := range awkward {
		vals = append(vals, ddl.QuoteString(n))
	}
	row := "(" + strings.Join(vals, ", ") + ", '2024-01-05 10:00:00')"
	for range 2 {
		stage := a.StageName(w)
		e.exec(a.DropStage(stage))
		e.exec(a.CreateStage(stage))
		e.exec(a.Insert(stage) + " VALUES " + row)
		if _, err := a.Finish(context.Background(), stage, w, 1); err != nil {
			t.Fatal(err)
		}
		e.exec(a.DropStage(stage))
	}
	for _, n := range awkward {
		if got := e.query("SELECT hex(" + ddl.QuoteClickHouse(n) + ") FROM modern.t"); got != fmt.Sprintf("%X", n) {
			t.Errorf("column %q holds %s", n, got)
		}
	}
}

// TestKeyFunctionsExist creates a table partitioned and ordered by each
// call of a function a key expression may use.
func TestKeyFunctionsExist(t *testing.T) {
	e := open(t)
	at, id, utc := ddl.ColumnRef("at"), ddl.ColumnRef("id"), ddl.KeyExpr{Kind: ddl.KeyString, Value: "UTC"}
	ten := ddl.KeyExpr{Kind: ddl.KeyNumber, Value: "10"}
	i := 0
	for name, arity := range ddl.KeyFunctions {
		var calls []ddl.KeyExpr
		switch name {
		case "intDiv", "modulo":
			calls = []ddl.KeyExpr{ddl.Call(name, id, ten)}
		case "cityHash64", "sipHash64", "tuple":
			calls = []ddl.KeyExpr{ddl.Call(name, id), ddl.Call(name, id, at)}
		default:
			calls = []ddl.KeyExpr{ddl.Call(name, at)}
			if arity.Max == 2 {
				calls = append(calls, ddl.Call(name, at, utc))
			}
		}
		for _, call := range calls {
			i++
			table := ddl.ClickHouseTable{Name: fmt.Sprintf("modern.k%d", i), Engine: "MergeTree",
				Columns:     []ddl.Column{{Name: "id", Type: "Int64"}, {Name: "at", Type: "DateTime('UTC')"}},
				PartitionBy: &call, OrderBy: []ddl.KeyExpr{call}}
			if _, err := (runner{e}).Strings(context.Background(), table.Create(false)); err != nil {
				t.Errorf("%s: %v", call.SQL(), err)
			}
		}
	}
}
