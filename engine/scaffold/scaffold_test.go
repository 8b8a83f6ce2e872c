package scaffold

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hockeystack/sluice/engine/config"
	"github.com/hockeystack/sluice/engine/ddl"
	"github.com/hockeystack/sluice/engine/plan"
	"github.com/hockeystack/sluice/engine/sqltype"
)

func sf(t *testing.T, s string) sqltype.Type {
	t.Helper()
	v, err := sqltype.ParseSnowflake(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func ch(t *testing.T, s string) sqltype.Type {
	t.Helper()
	v, err := sqltype.ParseClickHouse(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

var now = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

// everyType is a Snowflake table with a column of every type, names that
// need quoting, a primary key and an update time.
func everyType(t *testing.T) Table {
	cols := []plan.TypedColumn{
		{Name: "ID", Type: sf(t, "NUMBER(38,0) NOT NULL")},
		{Name: "SMALL", Type: sf(t, "NUMBER(9,0)")},
		{Name: "AMOUNT", Type: sf(t, "NUMBER(12,2)")},
		{Name: "RATIO", Type: sf(t, "FLOAT")},
		{Name: "Mixed Case", Type: sf(t, "VARCHAR(20)")},
		{Name: `say "hi"`, Type: sf(t, "VARCHAR")},
		{Name: "ORDER", Type: sf(t, "VARCHAR")},
		{Name: "null", Type: sf(t, "VARCHAR")},
		{Name: "BLOB", Type: sf(t, "BINARY")},
		{Name: "FLAG", Type: sf(t, "BOOLEAN")},
		{Name: "BORN", Type: sf(t, "DATE")},
		{Name: "AT_TIME", Type: sf(t, "TIME")},
		{Name: "CREATED_AT", Type: sf(t, "TIMESTAMP_NTZ(9)")},
		{Name: "CLOSED_AT", Type: sf(t, "TIMESTAMP_TZ(9)")},
		{Name: "SEEN_AT", Type: sf(t, "TIMESTAMP_LTZ(6)")},
		{Name: "PAYLOAD", Type: sf(t, "VARIANT")},
		{Name: "TAGS", Type: sf(t, "ARRAY")},
		{Name: "UPDATED_AT", Type: sf(t, "TIMESTAMP_NTZ(6)")},
	}
	return Table{
		Name:    TableName{"ACME", "CRM", "Contacts"},
		Columns: cols,
		Keys:    []Key{{Columns: []string{"ID"}, Why: "the primary key"}},
		Rows:    50_000_000,
		Spans: map[string]Span{
			"UPDATED_AT": {day("2021-03-04"), day("2026-11-30")},
			"CREATED_AT": {day("2020-01-01"), day("2026-11-30")},
		},
	}
}

const connections = `version: 1
connections:
  sf:
    kind: snowflake
    access: read_write
    account: a
    user: u
    database: ACME
    auth: {method: password, password: {env: P}}
  ch:
    kind: clickhouse
    access: read_write
    host: 127.0.0.1
    auth: {method: none}
`

// write writes a merged folder and returns its directory.
func write(t *testing.T, dir string, f Folder) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "sql"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pipeline.yaml"), f.Pipeline, 0o644); err != nil {
		t.Fatal(err)
	}
	for p, s := range f.SQL {
		if err := os.WriteFile(filepath.Join(dir, p), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func reader(dir string) func(string) (string, bool) {
	return func(p string) (string, bool) {
		b, err := os.ReadFile(filepath.Join(dir, p))
		return string(b), err == nil
	}
}

// compile validates and plans the folder offline for server v.
func compile(t *testing.T, dir string, v ddl.ClickHouseVersion) *plan.Plan {
	t.Helper()
	cpath := filepath.Join(filepath.Dir(dir), "connections.yaml")
	if err := os.WriteFile(cpath, []byte(connections), 0o644); err != nil {
		t.Fatal(err)
	}
	conns, _, ds := config.LoadConnections(cpath, config.ConnectionsOptions{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	p, ds := config.Load(dir, config.Options{Connections: conns})
	if len(ds) > 0 {
		b, _ := os.ReadFile(filepath.Join(dir, "pipeline.yaml"))
		t.Fatalf("validate: %v\n%s", ds, b)
	}
	pl, ds := plan.Compile(context.Background(), p, plan.Options{Connections: conns, ClickHouse: v})
	if ds.HasErrors() {
		b, _ := os.ReadFile(filepath.Join(dir, "pipeline.yaml"))
		t.Fatalf("plan: %v\n%s", ds, b)
	}
	return pl
}

// TestProposeValidatesAndPlans writes a folder for a table of every type
// with awkward names, for a current server and for 18.16, and checks the
// folder validates and plans offline as it is, with the choices and
// their reasons in it.
func TestProposeValidatesAndPlans(t *testing.T) {
	for _, v := range []ddl.ClickHouseVersion{ddl.CurrentClickHouse, {Major: 18, Minor: 16, Patch: 1}} {
		t.Run(v.String(), func(t *testing.T) {
			o := Options{Source: "sf", Destination: "ch", Database: "acme", ClickHouse: v, Server: "ClickHouse " + v.String(), Now: now, KeepOffset: true}
			s, err := Propose(everyType(t), o)
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "acme")
			f, err := Merge(nil, "acme", []Proposal{s}, o, reader(dir))
			if err != nil {
				t.Fatal(err)
			}
			write(t, dir, f)
			compile(t, dir, v)
			y := string(f.Pipeline)
			q := f.SQL["sql/contacts.sql"]
			for _, want := range []string{
				"contacts:", "cursor: UPDATED_AT", "mode: upsert", "key: [id]", "version: updated_at",
				"window: 1mo", // 50M rows over 5.7 years: about 715k a month
				`start: "2021-03-01"`,
				"Cursor UPDATED_AT, an update time",
				"Key ID: the primary key.",
				`id: {type: 'Decimal(38, 0)'} # NUMBER(38,0) NOT NULL; Decimal keeps ids beyond Int64`,
				`Mixed Case: {type: Nullable(String)}`,
				`say "hi": {type: Nullable(String)}`,
				`order: {type: Nullable(String)}`,
				`"null": {type: Nullable(String)} # VARCHAR`,
				"CHECK: column AT_TIME (TIME(9)) is left out",
				"closed_at_offset: {type: Nullable(Int16)} # minutes east of UTC of CLOSED_AT",
			} {
				if !strings.Contains(y, want) {
					t.Errorf("pipeline.yaml lacks %q", want)
				}
			}
			if v.AtLeast(20, 1) {
				for _, want := range []string{`updated_at: {type: DateTime64(6)}`, `payload: {type: Nullable(String)} # VARIANT; JSON text`, `flag: {type: Nullable(Bool)}`, `born: {type: Nullable(Date32)}`,
					`closed_at: {type: 'Nullable(DateTime64(9, ''UTC''))'} # TIMESTAMP_TZ(9)`} {
					if !strings.Contains(y, want) {
						t.Errorf("pipeline.yaml lacks %q", want)
					}
				}
				if strings.Contains(y, "allow_lossy") {
					t.Errorf("a current server needs no allow_lossy:\n%s", y)
				}
			} else {
				for _, want := range []string{`updated_at: {type: DateTime, allow_lossy: true}`, `flag: {type: Nullable(UInt8)}`, `born: {type: Nullable(Date)}`, "CHECK: lossy"} {
					if !strings.Contains(y, want) {
						t.Errorf("pipeline.yaml lacks %q", want)
					}
				}
			}
			for _, want := range []string{`"Mixed Case",`, `"say ""hi""",`, `"ORDER",`, `FROM "ACME"."CRM"."Contacts"`,
				`WHERE "UPDATED_AT" >= :window_start AND "UPDATED_AT" < :window_end`,
				`(DATE_PART(TIMEZONE_HOUR, "CLOSED_AT") * 60 + DATE_PART(TIMEZONE_MINUTE, "CLOSED_AT"))::NUMBER(4,0) AS "CLOSED_AT_OFFSET"`} {
				if !strings.Contains(q, want) {
					t.Errorf("sql lacks %q:\n%s", want, q)
				}
			}
			if strings.Contains(q, "SELECT *") || strings.Contains(q, ".*") {
				t.Errorf("SELECT *:\n%s", q)
			}
			if t.Failed() {
				t.Logf("%s\n%s", y, q)
			}
		})
	}
}

// TestCursorKeyMode checks the choices on smaller tables: a creation
// time without a key appends, no time at all replaces, a unique key with
// an update time upserts.
func TestCursorKeyMode(t *testing.T) {
	base := func(cols ...plan.TypedColumn) Table {
		return Table{Name: TableName{"D", "S", "T"}, Columns: cols, Rows: 1000, Spans: map[string]Span{}}
	}
	id := plan.TypedColumn{Name: "ID", Type: sf(t, "NUMBER(18,0) NOT NULL")}
	created := plan.TypedColumn{Name: "CREATED", Type: sf(t, "TIMESTAMP_NTZ(6)")}
	modified := plan.TypedColumn{Name: "LAST_MODIFIED_DATE", Type: sf(t, "DATE")}
	for _, c := range []struct {
		name   string
		table  Table
		mode   config.Mode
		cursor string
		window string
	}{
		{"creation", func() Table {
			tb := base(id, created)
			tb.Spans["CREATED"] = Span{day("2026-11-01"), day("2026-11-30")}
			return tb
		}(), config.Append, "CREATED", "1mo"},
		{"none", base(id, plan.TypedColumn{Name: "NAME", Type: sf(t, "VARCHAR")}), config.Replace, "", ""},
		{"date update, unique key", func() Table {
			tb := base(id, modified)
			tb.Keys = []Key{{Columns: []string{"ID"}, Why: "unique constraint U"}}
			tb.Rows = 100_000_000
			tb.Spans["LAST_MODIFIED_DATE"] = Span{day("2026-10-01"), day("2026-11-30")}
			return tb
		}(), config.Upsert, "LAST_MODIFIED_DATE", "1d"}, // DATE: never under a day
		{"hot table", func() Table {
			tb := base(id, created)
			tb.Rows = 500_000_000
			tb.Spans["CREATED"] = Span{day("2026-11-29"), day("2026-11-30")}
			return tb
		}(), config.Append, "CREATED", "1h"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := Propose(c.table, Options{Source: "sf", Destination: "ch", ClickHouse: ddl.CurrentClickHouse, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			if s.Mode != c.mode || s.Cursor != c.cursor || s.Window != c.window {
				t.Errorf("mode %s cursor %q window %q, want %s %q %q\n%s", s.Mode, s.Cursor, s.Window, c.mode, c.cursor, c.window, strings.Join(s.Notes, "\n"))
			}
			dir := filepath.Join(t.TempDir(), "p")
			f, err := Merge(nil, "p", []Proposal{s}, Options{Source: "sf", Destination: "ch"}, reader(dir))
			if err != nil {
				t.Fatal(err)
			}
			write(t, dir, f)
			compile(t, dir, ddl.CurrentClickHouse)
		})
	}
}

// TestWideTable: 300 columns plan as they are.
func TestWideTable(t *testing.T) {
	tb := Table{Name: TableName{"D", "S", "WIDE"}, Rows: 10, Spans: map[string]Span{"UPDATED_AT": {day("2026-01-01"), day("2026-02-01")}}}
	types := []string{"NUMBER(38,0)", "VARCHAR", "FLOAT", "BOOLEAN", "DATE", "TIMESTAMP_TZ(3)", "NUMBER(10,3)", "VARIANT", "BINARY", "TIMESTAMP_NTZ(9)"}
	for i := 0; i < 299; i++ {
		tb.Columns = append(tb.Columns, plan.TypedColumn{Name: fmt.Sprintf("C%03d", i), Type: sf(t, types[i%len(types)])})
	}
	tb.Columns = append(tb.Columns, plan.TypedColumn{Name: "UPDATED_AT", Type: sf(t, "TIMESTAMP_NTZ(9)")})
	s, err := Propose(tb, Options{Source: "sf", Destination: "ch", ClickHouse: ddl.CurrentClickHouse, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Columns) != 300 {
		t.Fatalf("%d columns", len(s.Columns))
	}
	dir := filepath.Join(t.TempDir(), "w")
	f, _ := Merge(nil, "w", []Proposal{s}, Options{Source: "sf", Destination: "ch"}, reader(dir))
	write(t, dir, f)
	pl := compile(t, dir, ddl.CurrentClickHouse)
	if n := len(pl.Streams[0].Columns); n != 300 {
		t.Errorf("plan has %d columns", n)
	}
}

// TestMergeKeepsEdits: re-running on a folder an engineer edited adds a
// new table and a table's new column, keeps every edit and comment, and
// says what it changed.
func TestMergeKeepsEdits(t *testing.T) {
	o := Options{Source: "sf", Destination: "ch", ClickHouse: ddl.CurrentClickHouse, Now: now}
	tb := everyType(t)
	s, _ := Propose(tb, o)
	dir := filepath.Join(t.TempDir(), "acme")
	f, _ := Merge(nil, "acme", []Proposal{s}, o, reader(dir))
	write(t, dir, f)

	// The engineer's edits: a comment, a changed type, a renamed column
	// with an expression, a changed window, a filter.
	y := string(f.Pipeline)
	for old, new := range map[string]string{
		"window: 1mo":                          "window: 1d",
		`ratio: {type: Nullable(Float64)}`:     `ratio: {type: Nullable(Float64)} # keep: engineer's note`,
		"  contacts:\n":                        "  contacts:\n    filter: FLAG == true\n",
		`Mixed Case: {type: Nullable(String)}`: `mixed: {expr: "lower(` + "`Mixed Case`" + ` ?? '')", type: String}`,
	} {
		if !strings.Contains(y, old) {
			t.Fatalf("no %q in\n%s", old, y)
		}
		y = strings.Replace(y, old, new, 1)
	}
	if err := os.WriteFile(filepath.Join(dir, "pipeline.yaml"), []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	compile(t, dir, ddl.CurrentClickHouse)

	// The table grows a column; a second table is asked for.
	tb.Columns = append(tb.Columns, plan.TypedColumn{Name: "NEW COL", Type: sf(t, "NUMBER(5,0)")})
	s, _ = Propose(tb, o)
	other := Table{Name: TableName{"ACME", "CRM", "DEALS"}, Columns: []plan.TypedColumn{{Name: "DEAL_ID", Type: sf(t, "VARCHAR NOT NULL")}}, Rows: 3}
	s2, err := Propose(other, o)
	if err != nil {
		t.Fatal(err)
	}
	f2, err := Merge([]byte(y), "acme", []Proposal{s, s2}, o, reader(dir))
	if err != nil {
		t.Fatal(err)
	}
	write(t, dir, f2)
	compile(t, dir, ddl.CurrentClickHouse)
	got := string(f2.Pipeline)
	for _, want := range []string{"window: 1d", "# keep: engineer's note", "filter: FLAG == true", "mixed: {expr:",
		`NEW COL: {type: Nullable(Int64)} # new: added by sluice init; NUMBER(5,0)`, "deals:", "Cursor UPDATED_AT"} {
		if !strings.Contains(got, want) {
			t.Errorf("pipeline.yaml lacks %q", want)
		}
	}
	if strings.Contains(got, `Mixed Case: {type`) {
		t.Errorf("the column the engineer replaced by an expression came back")
	}
	changes := strings.Join(f2.Changes, "\n")
	for _, want := range []string{"stream contacts: added column NEW COL (from NEW COL, Nullable(Int64)) to pipeline.yaml and sql/contacts.sql; if contacts exists, add the column there before the next run: ALTER TABLE `contacts` ADD COLUMN `NEW COL` Nullable(Int64)",
		"added stream deals: ACME.CRM.DEALS, 1 columns, mode replace"} {
		if !strings.Contains(changes, want) {
			t.Errorf("changes lack %q:\n%s", want, changes)
		}
	}
	if q := f2.SQL["sql/contacts.sql"]; !strings.Contains(q, `"UPDATED_AT",`+"\n  "+`"NEW COL"`+"\nFROM") {
		t.Errorf("sql:\n%s", q)
	}

	// Once more: nothing to do.
	f3, _ := Merge(f2.Pipeline, "acme", []Proposal{s, s2}, o, reader(dir))
	if fmt.Sprint(f2.Added) != "[deals]" {
		t.Errorf("added %v, want [deals]", f2.Added)
	}
	if len(f3.Changes) != 0 || len(f3.Added) != 0 || string(f3.Pipeline) != string(f2.Pipeline) || len(f3.SQL) != 0 {
		t.Errorf("a second run changed: %v", f3.Changes)
	}
}

// TestPush proposes a push stream from ClickHouse columns.
func TestPush(t *testing.T) {
	tb := Table{Name: TableName{Database: "hs", Name: "touchpoints"}, Rows: 10,
		Columns: []plan.TypedColumn{
			{Name: "touchpoint_id", Type: ch(t, "String")},
			{Name: "contact_id", Type: ch(t, "Nullable(Int64)")},
			{Name: "Revenue USD", Type: ch(t, "Decimal(38, 2)")},
			{Name: "touched_at", Type: ch(t, "DateTime('UTC')")},
			{Name: "updated_at", Type: ch(t, "DateTime64(3)")},
			{Name: "tags", Type: ch(t, "Array(String)")},
		},
		Keys:  []Key{{Columns: []string{"touchpoint_id"}, Why: "the sorting key of a ReplacingMergeTree"}},
		Spans: map[string]Span{"updated_at": {day("2026-01-01"), day("2026-11-01")}},
	}
	o := Options{Push: true, Source: "ch", Destination: "sf", Database: "ANALYTICS.HS", Now: now}
	s, err := Propose(tb, o)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "push")
	f, _ := Merge(nil, "push", []Proposal{s}, o, reader(dir))
	write(t, dir, f)
	compile(t, dir, ddl.CurrentClickHouse)
	y := string(f.Pipeline)
	for _, want := range []string{"mode: merge", "key: [TOUCHPOINT_ID]", "table: ANALYTICS.HS.TOUCHPOINTS",
		"TOUCHPOINT_ID: {from: touchpoint_id, type: VARCHAR, nullable: false}", `Revenue USD: {type: 'NUMBER(38,2)', nullable: false}`,
		"TOUCHED_AT: {from: touched_at, type: TIMESTAMP_TZ(0), nullable: false}", "CHECK: column tags (Array(String)) is left out"} {
		if !strings.Contains(y, want) {
			t.Errorf("pipeline.yaml lacks %q\n%s", want, y)
		}
	}
	if q := f.SQL["sql/touchpoints.sql"]; !strings.Contains(q, "FROM `hs`.`touchpoints`") || !strings.Contains(q, "`Revenue USD`") {
		t.Errorf("sql:\n%s", q)
	}
}

func TestParseTables(t *testing.T) {
	got, err := ParseTables(`acme.crm.contacts, ACME.CRM."Mixed ""Q"" T",crm.x, y`, false, TableName{Database: "DEF", Schema: "PUBLIC"})
	if err != nil {
		t.Fatal(err)
	}
	want := []TableName{{"ACME", "CRM", "CONTACTS"}, {"ACME", "CRM", `Mixed "Q" T`}, {"DEF", "CRM", "X"}, {"DEF", "PUBLIC", "Y"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %q, want %q", got, want)
	}
	got, err = ParseTables("hs.events,`odd.name`", true, TableName{Database: "default"})
	if err != nil || fmt.Sprint(got) != fmt.Sprint([]TableName{{"hs", "", "events"}, {"default", "", "odd.name"}}) {
		t.Errorf("clickhouse: %q %v", got, err)
	}
	for _, bad := range []string{`a.b.c.d`, `"open`, `a,,b`, "x"} {
		if _, err := ParseTables(bad, false, TableName{}); err == nil {
			t.Errorf("%s: want an error", bad)
		}
	}
}

// TestSameNames: tables of the same name in two schemas get streams
// named after their schemas.
func TestSameNames(t *testing.T) {
	col := []plan.TypedColumn{{Name: "ID", Type: sf(t, "NUMBER(18,0) NOT NULL")}}
	ss, err := ProposeAll([]Table{{Name: TableName{"D", "CRM", "USERS"}, Columns: col}, {Name: TableName{"D", "APP", "USERS"}, Columns: col}, {Name: TableName{"D", "APP", "X"}, Columns: col}}, Options{ClickHouse: ddl.CurrentClickHouse, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if got := []string{ss[0].Name, ss[1].Name, ss[2].Name}; fmt.Sprint(got) != "[crm_users app_users x]" {
		t.Errorf("streams %v", got)
	}
}

// TestKeyNamesClickHouseCannotKeep: a key column named like a keyword
// ClickHouse writes back unquoted into the table's metadata is renamed
// (with from: the source name), so the folder still validates.
func TestKeyNamesClickHouseCannotKeep(t *testing.T) {
	tb := Table{Name: TableName{"D", "S", "T"}, Rows: 2,
		Columns: []plan.TypedColumn{{Name: "NOT", Type: sf(t, "NUMBER(18,0) NOT NULL")}, {Name: "NULL", Type: sf(t, "VARCHAR")}, {Name: "UPDATED_AT", Type: sf(t, "TIMESTAMP_NTZ(6)")}},
		Keys:    []Key{{Columns: []string{"NOT"}, Why: "the primary key"}},
		Spans:   map[string]Span{"UPDATED_AT": {day("2026-01-01"), day("2026-01-02")}}}
	o := Options{Source: "sf", Destination: "ch", ClickHouse: ddl.CurrentClickHouse, Now: now}
	s, err := Propose(tb, o)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "k")
	f, _ := Merge(nil, "k", []Proposal{s}, o, reader(dir))
	write(t, dir, f)
	compile(t, dir, ddl.CurrentClickHouse)
	y := string(f.Pipeline)
	for _, want := range []string{"not_: {from: NOT, type: Int64}", `"null": {type: Nullable(String)}`, "key: [not_]"} {
		if !strings.Contains(y, want) {
			t.Errorf("pipeline.yaml lacks %q\n%s", want, y)
		}
	}
}
