package plan_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hockeystack/sluice/engine/clickhouse"
	"github.com/hockeystack/sluice/engine/clickhouse/clickhousetest"
	"github.com/hockeystack/sluice/engine/config"
	"github.com/hockeystack/sluice/engine/ddl"
	"github.com/hockeystack/sluice/engine/plan"
	"github.com/hockeystack/sluice/internal/testfs"
)

func TestMain(m *testing.M) { os.Exit(clickhousetest.Main(m)) }

const connections = `version: 1
connections:
  sf:
    kind: snowflake
    access: read_only
    account: acme
    user: SVC
    auth: {method: pat, token: {env: SF_TOKEN}}
  ch:
    kind: clickhouse
    access: read_write
    host: 127.0.0.1
`

// compile loads a pipeline from files and compiles it offline.
func compile(t *testing.T, pipeline string, sql map[string]string, opts plan.Options) (*plan.Plan, string) {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{"p/pipeline.yaml": pipeline}
	for k, v := range sql {
		files["p/"+k] = v
	}
	testfs.Write(t, dir, files)
	conns, ds := config.ParseConnections("connections.yaml", []byte(connections))
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	p, ds := config.Load(filepath.Join(dir, "p"), config.Options{Connections: conns})
	if ds.HasErrors() {
		t.Fatalf("load: %v", ds)
	}
	opts.Connections = conns
	out, ds := plan.Compile(context.Background(), p, opts)
	return out, strings.ReplaceAll(ds.Error(), dir+"/", "")
}

const allTypes = `version: 1
name: types
defaults:
  source: {connection: sf, incremental: false}
  destination: {connection: ch, create: true}
streams:
  everything:
    source: {query: q.sql}
    columns:
      i8:   {from: A, type: Int8}
      i16:  {from: A, type: Int16}
      i32:  {from: A, type: Int32}
      i64:  {from: A, type: Int64}
      u8:   {from: A, type: UInt8}
      u64:  {from: A, type: UInt64}
      f32:  {from: A, type: Float32}
      f64:  {from: A, type: Float64}
      dec:  {from: A, type: "Decimal(38, 2)"}
      dec9: {from: A, type: "Decimal(9, 4)"}
      s:    {from: A, type: String}
      fs:   {from: A, type: FixedString(8)}
      uuid: {from: A, type: UUID}
      b:    {from: A, type: Bool}
      d:    {from: A, type: Date}
      d32:  {from: A, type: Date32}
      dt:   {from: A, type: DateTime}
      dtz:  {from: A, type: "DateTime('UTC')"}
      dt3:  {from: A, type: DateTime64(3), allow_lossy: true}
      dt6:  {from: A, type: "DateTime64(6, 'UTC')", allow_lossy: true}
      ns:   {from: A, type: Nullable(String)}
      lc:   {from: A, type: LowCardinality(String)}
      lcn:  {from: A, type: LowCardinality(Nullable(String))}
      arr:  {from: A, type: Array(String)}
      arrn: {from: A, type: Array(Nullable(Int64))}
      en:   {from: A, type: "Enum8('a' = 1, 'b' = 2)"}
    destination: {table: %s.everything, mode: replace}
  events:
    source: {query: w.sql, incremental: {cursor: TS, start: 2024-01-01, window: 1mo}}
    columns:
      id: {type: Int64}
      ts: {type: "DateTime('UTC')"}
    destination: {table: %s.events, mode: append}
  latest:
    source: {query: w.sql, incremental: {cursor: TS, start: 2024-01-01, window: 1d}}
    columns:
      id: {type: Int64}
      ts: {type: "DateTime('UTC')"}
    destination: {table: %s.latest, mode: upsert, key: [id], version: ts, partition: toYYYYMM(ts)}
`

var allTypesSQL = map[string]string{
	"q.sql": "SELECT A FROM T",
	"w.sql": "SELECT ID, TS FROM T WHERE TS >= :window_start AND TS < :window_end",
}

// TestDDLRunsOnClickHouse creates every table a plan would create, with
// the DDL written for the live server, and reads the columns back.
func TestDDLRunsOnClickHouse(t *testing.T) {
	db := clickhousetest.NewDB(t)
	v, err := ddl.ParseClickHouseVersion(db.Version)
	if err != nil {
		t.Fatal(err)
	}
	p, ds := compile(t, fmt.Sprintf(allTypes, db.Name, db.Name, db.Name), allTypesSQL, plan.Options{ClickHouse: v})
	if strings.Contains(ds, "error") {
		t.Fatalf("compile: %s", ds)
	}
	ctx := context.Background()
	cat := clickhouse.NewCatalog(db.Conn, db.Name)
	for _, s := range p.Streams {
		if err := db.Conn.Exec(ctx, s.Destination.DDL); err != nil {
			t.Fatalf("stream %s: %v\n%s", s.Name, err, s.Destination.DDL)
		}
		live, err := cat.DescribeTable(ctx, s.Destination.Table)
		if err != nil {
			t.Fatal(err)
		}
		if len(live) != len(s.Columns) {
			t.Fatalf("stream %s: %d columns created, want %d", s.Name, len(live), len(s.Columns))
		}
		for i, c := range s.Columns {
			want := c.Type
			if c.Create != "" {
				want = c.Create
			}
			if got := live[i].Type.String(); live[i].Name != c.Name || got != want {
				t.Errorf("stream %s: column %d is %s %s, want %s %s", s.Name, i, live[i].Name, got, c.Name, want)
			}
		}
	}
	if !v.Has(ddl.DateTime64) {
		// On 18.16 the downgrades are visible in the plan.
		checked := 0
		for _, c := range stream(p, "everything").Columns {
			if c.Name == "dt6" || c.Name == "b" {
				checked++
			}
			if c.Name == "dt6" && (c.Create != "DateTime('UTC')" || c.Fit != "lossy") {
				t.Errorf("dt6 on %s: create %q fit %s", db.Version, c.Create, c.Fit)
			}
			if c.Name == "b" && c.Create != "UInt8" {
				t.Errorf("Bool on %s created as %q", db.Version, c.Create)
			}
		}
		if checked != 2 {
			t.Errorf("checked %d downgraded columns, want 2", checked)
		}
	}
}

func TestModernDDL(t *testing.T) {
	p, ds := compile(t, fmt.Sprintf(allTypes, "db", "db", "db"), allTypesSQL, plan.Options{})
	if ds != "p/pipeline.yaml:48:86: warning: upsert keeps one row per key only within a partition: a row whose ts moves to another partition keeps its old version there" {
		t.Errorf("diagnostics: %s", ds)
	}
	for _, c := range stream(p, "everything").Columns {
		if c.Create != "" || c.Fit != "exact" {
			t.Errorf("column %s on current ClickHouse: create %q, fit %s", c.Name, c.Create, c.Fit)
		}
	}
	byName := map[string]*plan.Stream{}
	for _, s := range p.Streams {
		byName[s.Name] = s
	}
	if got := strings.Join(byName["everything"].Destination.Steps, "\n"); !strings.Contains(got, "\nEXCHANGE TABLES `db`.`everything__sluice_new` AND `db`.`everything` -- when there is\n") {
		t.Errorf("replace swap on current ClickHouse:\n%s", got)
	}
	if got := byName["events"].Destination.Strategy; !strings.Contains(got, "deleted with a mutation") {
		t.Errorf("append strategy before 26.6 = %q", got)
	}
	fixed, _ := compile(t, fmt.Sprintf(allTypes, "db", "db", "db"), allTypesSQL, plan.Options{ClickHouse: ddl.ClickHouseVersion{Major: 26, Minor: 6}})
	if got := stream(fixed, "events").Destination.Strategy; !strings.Contains(got, "REPLACE PARTITION") || !strings.Contains(got, "1mo windows cover whole month partitions") {
		t.Errorf("aligned append strategy from 26.6 = %q", got)
	}
	if got := byName["events"].Destination.Partition; got != "toYYYYMM(`ts`)" {
		t.Errorf("default partition = %q", got)
	}
	if got := byName["latest"].Destination.DDL; !strings.Contains(got, "ENGINE = ReplacingMergeTree(`ts`)") || !strings.Contains(got, "PARTITION BY toYYYYMM(`ts`)") || !strings.Contains(got, "ORDER BY `id`") {
		t.Errorf("upsert DDL:\n%s", got)
	}

	old, _ := compile(t, fmt.Sprintf(allTypes, "db", "db", "db"), allTypesSQL, plan.Options{ClickHouse: ddl.ClickHouseVersion{Major: 18, Minor: 16, Patch: 1}})
	if got := strings.Join(stream(old, "everything").Destination.Steps, "\n"); !strings.Contains(got, "\nRENAME TABLE `db`.`everything` TO `db`.`everything__sluice_old`, `db`.`everything__sluice_new` TO `db`.`everything` -- when there is\n") ||
		strings.Contains(got, "EXCHANGE") {
		t.Errorf("replace swap on 18.16:\n%s", got)
	}
}

func TestLossyNeedsAcknowledgement(t *testing.T) {
	pipeline := `version: 1
name: p
defaults:
  source: {connection: sf, incremental: false}
  destination: {connection: ch}
streams:
  s:
    source: {query: q.sql}
    columns:
      ts: {from: A, type: DateTime64(6)}
    destination: {table: d.t, mode: replace}
`
	_, ds := compile(t, pipeline, map[string]string{"q.sql": "SELECT A FROM T"}, plan.Options{ClickHouse: ddl.ClickHouseVersion{Major: 18, Minor: 16}})
	want := "p/pipeline.yaml:10:27: column ts: ClickHouse 18.16.0 has no DateTime64: DateTime64(6) is stored as DateTime, dropping sub-second digits; set allow_lossy: true to accept it"
	if ds != want {
		t.Errorf("diagnostics:\n got %s\nwant %s", ds, want)
	}
}

func TestWindowsAndSchedule(t *testing.T) {
	pipeline := `version: 1
name: p
schedule: "30 6 * * 1"
timezone: Europe/Berlin
defaults:
  source: {connection: sf}
  destination: {connection: ch}
streams:
  s:
    source: {query: q.sql, incremental: {cursor: TS, start: 2024-03-01, window: 1mo, lookback: 6h}}
    columns:
      ts: {type: "DateTime('Europe/Berlin')"}
    destination: {table: d.t, mode: append}
`
	p, ds := compile(t, pipeline, map[string]string{"q.sql": "SELECT TS FROM T WHERE TS >= :window_start AND TS < :window_end"}, plan.Options{ClickHouse: ddl.ClickHouseVersion{Major: 26, Minor: 6}})
	if ds != "" {
		t.Fatal(ds)
	}
	if p.Schedule.Summary != "weekly on Monday at 06:30" {
		t.Errorf("schedule summary = %q", p.Schedule.Summary)
	}
	w := p.Streams[0].Windows
	// Windows are calendar months in the pipeline's zone, across DST.
	want := []plan.Window{
		{Start: "2024-03-01T00:00:00+01:00", End: "2024-04-01T00:00:00+02:00"},
		{Start: "2024-04-01T00:00:00+02:00", End: "2024-05-01T00:00:00+02:00"},
		{Start: "2024-05-01T00:00:00+02:00", End: "2024-06-01T00:00:00+02:00"},
	}
	for i := range want {
		if w.First[i] != want[i] {
			t.Errorf("window %d = %v, want %v", i, w.First[i], want[i])
		}
	}
	if !strings.Contains(p.Streams[0].Destination.Strategy, "cover whole month partitions") {
		t.Errorf("partitions in the pipeline's zone should align: %s", p.Streams[0].Destination.Strategy)
	}
}

// TestPartitionExpressions: partition and order_by are parsed and written
// back with names quoted, and alignment is read from the parsed partition,
// its own time zone included.
func TestPartitionExpressions(t *testing.T) {
	const pipeline = `version: 1
name: p
timezone: Europe/Berlin
defaults:
  source: {connection: sf}
  destination: {connection: ch}
streams:
  s:
    source: {query: q.sql, incremental: {cursor: TS, start: 2024-03-01, window: 1d}}
    columns:
      ts: {type: "DateTime('UTC')"}
      "say \"hi\"": {from: TS, type: "DateTime('UTC')"}
    destination: {table: d.t, mode: append, partition: "toYYYYMMDD( ts , 'Europe/Berlin')", order_by: ["(ts, toDate(` + "`say \\\"hi\\\"`" + `))"]}
`
	p, ds := compile(t, pipeline, map[string]string{"q.sql": "SELECT TS FROM T WHERE TS >= :window_start AND TS < :window_end"}, plan.Options{ClickHouse: ddl.ClickHouseVersion{Major: 26, Minor: 6}})
	if ds != "" {
		t.Fatal(ds)
	}
	d := p.Streams[0].Destination
	if want := "PARTITION BY toYYYYMMDD(`ts`, 'Europe/Berlin')\nORDER BY (`ts`, toDate(`say \"hi\"`))"; !strings.Contains(d.DDL, want) {
		t.Errorf("DDL:\n%s\nwant it to hold\n%s", d.DDL, want)
	}
	if !strings.Contains(d.Strategy, "1d windows cover whole day partitions") {
		t.Errorf("a day partition in the pipeline's zone should align: %s", d.Strategy)
	}
}

func stream(p *plan.Plan, name string) *plan.Stream {
	for _, s := range p.Streams {
		if s.Name == name {
			return s
		}
	}
	panic("no stream " + name)
}

// BenchmarkCompileExample loads, checks and plans the example customer's
// pipeline: the work of `sluice validate` plus `sluice plan` offline.
func BenchmarkCompileExample(b *testing.B) {
	conns, _, ds := config.LoadConnections("../../pipelines/connections.yaml", config.ConnectionsOptions{})
	if ds.HasErrors() {
		b.Fatal(ds)
	}
	for b.Loop() {
		p, ds := config.Load("../../pipelines/acme", config.Options{Connections: conns})
		if ds.HasErrors() {
			b.Fatal(ds)
		}
		if _, ds := plan.Compile(context.Background(), p, plan.Options{Connections: conns}); ds.HasErrors() {
			b.Fatal(ds)
		}
	}
}
