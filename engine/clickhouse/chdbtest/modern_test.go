//go:build chdb

package chdbtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chdb-io/chdb-go/chdb"

	chengine "github.com/hockeystack/sluice/engine"
	"github.com/hockeystack/sluice/engine/clickhouse"
	"github.com/hockeystack/sluice/engine/config"
	"github.com/hockeystack/sluice/engine/ddl"
	"github.com/hockeystack/sluice/engine/plan"
)

const pipeline = `version: 1
name: modern
timezone: UTC
streams:
  events:
    source:
      connection: sf
      query: events.sql
      incremental: {cursor: AT, start: 2024-01-01, window: 1d}
    columns:
      id:     {type: String}
      ok:     {type: Bool}
      born:   {type: Date32}
      amount: {type: "Decimal(18, 2)"}
      label:  {type: "LowCardinality(Nullable(String))"}
      at:     {type: "DateTime64(6, 'UTC')"}
    destination: {connection: ch, table: modern.events, mode: append, create: true}
  profiles:
    source: {connection: sf, query: profiles.sql, incremental: false}
    columns:
      id:         {type: Int64}
      email:      {type: String}
      updated_at: {type: "DateTime64(6, 'UTC')"}
    destination: {connection: ch, table: modern.profiles, mode: upsert, key: [id], version: updated_at, create: true}
  snapshot:
    source: {connection: sf, query: snapshot.sql, incremental: false}
    columns:
      id:    {type: Int64}
      stage: {type: String}
    destination: {connection: ch, table: modern.snapshot, mode: replace, key: [id], create: true}
`

const connections = `version: 1
connections:
  sf: {kind: snowflake, access: read_only, account: X, user: U, auth: {method: password, password: {env: PW}}}
  ch: {kind: clickhouse, access: read_write, host: 127.0.0.1, auth: {method: none}}
`

// compile plans the test pipeline for the current ClickHouse release.
func compile(t *testing.T) map[string]*plan.Stream {
	t.Helper()
	return compileFolder(t, pipeline, map[string]string{
		"events.sql":   "SELECT * FROM EVENTS WHERE AT >= :window_start AND AT < :window_end",
		"profiles.sql": "SELECT * FROM PROFILES", "snapshot.sql": "SELECT * FROM SNAPSHOT",
	})
}

// compileFolder plans a pipeline.yaml and its SQL files for the current
// ClickHouse release.
func compileFolder(t *testing.T, pipeline string, sql map[string]string) map[string]*plan.Stream {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{"connections.yaml": connections, "p/pipeline.yaml": pipeline}
	for name, text := range sql {
		files["p/"+name] = text
	}
	for name, text := range files {
		path := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	conns, _, ds := config.LoadConnections(filepath.Join(dir, "connections.yaml"), config.ConnectionsOptions{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	p, ds := config.Load(filepath.Join(dir, "p"), config.Options{Connections: conns})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	pl, ds := plan.Compile(context.Background(), p, plan.Options{Connections: conns, ClickHouse: ddl.CurrentClickHouse})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	streams := map[string]*plan.Stream{}
	for i := range pl.Streams {
		streams[pl.Streams[i].Name] = pl.Streams[i]
	}
	return streams
}

type engine struct {
	t *testing.T
	s *chdb.Session
}

func open(t *testing.T) *engine {
	if os.Getenv("CHDB_LIB_PATH") == "" {
		t.Fatal("CHDB_LIB_PATH is not set: scripts/install-deps fetches libchdb.so")
	}
	s, err := chdb.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Cleanup)
	e := &engine{t: t, s: s}
	e.exec("CREATE DATABASE modern")
	return e
}

func (e *engine) query(q string) string {
	e.t.Helper()
	r, err := e.s.Query(q, "TSVRaw")
	if err != nil {
		e.t.Fatalf("%s\n%v", q, err)
	}
	if err := r.Error(); err != nil {
		e.t.Fatalf("%s\n%v", q, err)
	}
	return strings.TrimSpace(r.String())
}

func (e *engine) exec(q string) { e.t.Helper(); e.query(q) }

// comment is the "-- ..." the plan writes after a step.
var comment = regexp.MustCompile(`\s*--.*$`)

// step makes a plan step runnable: placeholders filled, the comment
// dropped, and the window's rows given as VALUES.
func step(s string, fill map[string]string, rows string) string {
	hasRows := strings.Contains(s, "rows of the window")
	s = comment.ReplaceAllString(s, "")
	for k, v := range fill {
		s = strings.ReplaceAll(s, "{"+k+"}", v)
	}
	if hasRows {
		s += " VALUES " + rows
	}
	return s
}

// TestCurrentDDL creates every table of the plan in a current ClickHouse
// and checks the server's column types are the plan's.
func TestCurrentDDL(t *testing.T) {
	e := open(t)
	for _, name := range []string{"events", "profiles", "snapshot"} {
		s := compile(t)[name]
		e.exec(s.Destination.DDL)
		got := e.query("SELECT name, type FROM system.columns WHERE database = 'modern' AND table = '" + name + "' ORDER BY position")
		var want []string
		for _, c := range s.Columns {
			want = append(want, c.Name+"\t"+c.Type)
		}
		if got != strings.Join(want, "\n") {
			t.Errorf("%s: the server made\n%s\nthe plan says\n%s", name, got, strings.Join(want, "\n"))
		}
	}
}

// runner runs the sink's statements in chdb, so the Appender's own code
// runs on a current release.
type runner struct{ e *engine }

func (r runner) Exec(_ context.Context, q string) error {
	res, err := r.e.s.Query(q, "TSVRaw")
	if err == nil {
		err = res.Error()
	}
	if err != nil {
		return fmt.Errorf("%s: %w", q, err)
	}
	return nil
}

func (r runner) Strings(_ context.Context, q string) ([][]string, error) {
	res, err := r.e.s.Query(q, "TSVRaw")
	if err == nil {
		err = res.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", q, err)
	}
	var out [][]string
	for _, line := range strings.Split(strings.TrimSpace(res.String()), "\n") {
		if line != "" {
			out = append(out, strings.Split(line, "\t"))
		}
	}
	return out, nil
}

// TestAppendWindowRerun runs an append window twice through the
// Appender, as a re-run after a crash would, with each strategy: the
// window's rows are there once, the rows of its partition outside the
// window are kept, and the digest counts the window.
func TestAppendWindowRerun(t *testing.T) {
	e := open(t) // chdb is one engine a process: one session a test
	for _, strategy := range []ddl.AppendStrategy{ddl.AppendReplace, ddl.AppendDelete} {
		table := fmt.Sprintf("modern.events_%d", strategy)
		s := compile(t)["events"]
		e.exec(strings.Replace(s.Destination.DDL, ddl.QuoteClickHouseName("modern.events"), ddl.QuoteClickHouseName(table), 1))
		e.exec(`INSERT INTO ` + table + ` VALUES ('before', true, '1950-01-01', 1.50, NULL, '2024-01-04 23:59:59.999999'),
		('after', false, '2099-12-31', 2.00, 'x', '2024-01-06 00:00:00')`)
		var names []string
		for _, c := range s.Columns {
			names = append(names, c.Name)
		}
		a := &clickhouse.Appender{
			ClickHouseAppend: ddl.ClickHouseAppend{Table: table, Columns: names, Window: "at", Strategy: strategy},
			Run:              runner{e},
		}
		w := chengine.Window{Start: time.Date(2024, 1, 5, 0, 0, 0, 0, time.UTC), End: time.Date(2024, 1, 6, 0, 0, 0, 0, time.UTC)}
		rows := `('w1', true, '1900-01-01', 10.25, 'call', '2024-01-05 00:00:00'), ('w2', false, '2299-12-31', -3.10, NULL, '2024-01-05 23:59:59.123456')`
		ctx := context.Background()
		for range 2 {
			stage := a.StageName(w)
			e.exec(a.DropStage(stage))
			e.exec(a.CreateStage(stage))
			e.exec(a.Insert(stage) + " VALUES " + rows)
			d, err := a.Finish(ctx, stage, w, 2)
			if err != nil {
				t.Fatal(err)
			}
			if d.Rows != 2 || d.Sum == "" {
				t.Errorf("digest %+v", d)
			}
			e.exec(a.DropStage(stage))
		}
		got := e.query("SELECT id, ok, born, amount, label, at FROM " + table + " ORDER BY at")
		want := strings.Join([]string{
			"before\ttrue\t1950-01-01\t1.5\t\\N\t2024-01-04 23:59:59.999999",
			"w1\ttrue\t1900-01-01\t10.25\tcall\t2024-01-05 00:00:00.000000",
			"w2\tfalse\t2299-12-31\t-3.1\t\\N\t2024-01-05 23:59:59.123456",
			"after\tfalse\t2099-12-31\t2\tx\t2024-01-06 00:00:00.000000",
		}, "\n")
		if got != want {
			t.Errorf("strategy %d: after the window ran twice:\n%s\nwant\n%s", strategy, got, want)
		}
		if left := e.query("SELECT count() FROM system.tables WHERE database = 'modern' AND name LIKE '%sluice%'"); left != "0" {
			t.Errorf("%s staging tables left behind", left)
		}
	}
}

// TestReplacePartitionDurable checks the fact the current release's
// append strategy stands on: a partition replaced, then the engine
// closed and opened again on the same data, holds only the new rows.
func TestReplacePartitionDurable(t *testing.T) {
	if os.Getenv("CHDB_LIB_PATH") == "" {
		t.Fatal("CHDB_LIB_PATH is not set: scripts/install-deps fetches libchdb.so")
	}
	dir := t.TempDir()
	s, err := chdb.NewSession(dir)
	if err != nil {
		t.Fatal(err)
	}
	e := &engine{t: t, s: s}
	version, _ := ddl.ParseClickHouseVersion(e.query("SELECT version()"))
	if !version.Has(ddl.DurableReplacePartition) {
		t.Fatalf("chdb is ClickHouse %s, older than the durable REPLACE PARTITION", version)
	}
	for _, q := range []string{
		"CREATE DATABASE d",
		"CREATE TABLE d.t (p UInt8, x UInt64) ENGINE = MergeTree PARTITION BY p ORDER BY x",
		"CREATE TABLE d.s AS d.t",
		"INSERT INTO d.t SELECT 1, number FROM numbers(100)",
		"INSERT INTO d.s SELECT 1, number FROM numbers(50)",
		"ALTER TABLE d.t REPLACE PARTITION 1 FROM d.s",
	} {
		e.exec(q)
	}
	s.Close()
	s, err = chdb.NewSession(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	e = &engine{t: t, s: s}
	if n := e.query("SELECT count() FROM d.t"); n != "50" {
		t.Errorf("%s rows after the engine opened again, want 50", n)
	}
}

// TestUpsertKeepsNewestVersion writes two versions of a key as two runs
// would, staged and attached by the Appender: read with FINAL, the newest
// wins.
func TestUpsertKeepsNewestVersion(t *testing.T) {
	e := open(t)
	s := compile(t)["profiles"]
	e.exec(s.Destination.DDL)
	for _, rows := range []string{
		`(1, 'old@example.com', '2024-01-01 00:00:00'), (2, 'two@example.com', '2024-01-01 00:00:00')`,
		`(1, 'new@example.com', '2024-02-01 00:00:00'), (2, 'two@example.com', '2024-01-01 00:00:00')`,
	} {
		var names []string
		for _, c := range s.Columns {
			names = append(names, c.Name)
		}
		a := &clickhouse.Appender{ClickHouseAppend: ddl.ClickHouseAppend{Table: "modern.profiles", Columns: names}, Run: runner{e}}
		stage := a.StageName(chengine.Window{})
		e.exec(a.DropStage(stage))
		e.exec(a.CreateStage(stage))
		e.exec(a.Insert(stage) + " VALUES " + rows)
		if err := a.AttachAll(context.Background(), stage); err != nil {
			t.Fatal(err)
		}
		e.exec(a.DropStage(stage))
	}
	if got := e.query("SELECT id, email FROM modern.profiles FINAL ORDER BY id"); got != "1\tnew@example.com\n2\ttwo@example.com" {
		t.Errorf("upserted rows:\n%s", got)
	}
}

// TestReplaceSwapsWholeTable loads a new table and swaps it in with
// EXCHANGE TABLES, the current release's path.
func TestReplaceSwapsWholeTable(t *testing.T) {
	e := open(t)
	s := compile(t)["snapshot"]
	if !strings.Contains(strings.Join(s.Destination.Steps, "\n"), "EXCHANGE TABLES") {
		t.Fatalf("the current release's replace does not use EXCHANGE TABLES:\n%s", strings.Join(s.Destination.Steps, "\n"))
	}
	e.exec(s.Destination.DDL)
	e.exec("INSERT INTO modern.snapshot VALUES (1, 'stale'), (2, 'stale')")
	// The statements the sink sends, from the builder plan and sink share.
	var names []string
	for _, c := range s.Exec.Columns {
		names = append(names, c.Name)
	}
	r := ddl.ClickHouseReplace{Table: s.Destination.Table, Create: s.Destination.DDL, Exchange: s.Exec.ClickHouse.Has(ddl.ExchangeTables),
		Append: ddl.ClickHouseAppend{Table: s.Destination.Table, Columns: names}}
	e.exec(r.DropNext())
	e.exec(r.CreateNext())
	e.exec(r.Append.Insert(r.Next()) + " VALUES (3, 'fresh'), (4, 'fresh')")
	if got := e.query(r.Digest()); !strings.HasPrefix(got, "2\t") {
		t.Errorf("the new table's digest: %s, want 2 rows", got)
	}
	for _, st := range r.Swap(true) {
		e.exec(st)
	}
	if got := e.query("SELECT id, stage FROM modern.snapshot ORDER BY id"); got != "3\tfresh\n4\tfresh" {
		t.Errorf("after the swap:\n%s", got)
	}
	if got := e.query("SELECT count() FROM system.tables WHERE database = 'modern'"); got != "1" {
		t.Errorf("%s tables in modern after the swap, want only the target", got)
	}
}
