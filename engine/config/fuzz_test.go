package config_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hockeystack/sluice/engine/config"
	"github.com/hockeystack/sluice/engine/diag"
	"github.com/hockeystack/sluice/engine/plan"
	"github.com/hockeystack/sluice/internal/testfs"
)

// Bounds on what one input may cost. Real folders take milliseconds and a
// few MiB; these are far above that, and far below a hang or a blow-up.
const (
	fuzzTime  = 5 * time.Second
	fuzzAlloc = 512 << 20
)

const fuzzConnections = `version: 1
connections:
  sf:
    kind: snowflake
    access: read_only
    account: acme
    user: SVC
    auth: {method: pat, token: {env: SF_TOKEN}}
  sf_rw:
    kind: snowflake
    access: read_write
    account: acme
    user: SVC
    auth: {method: password, password: {env: SF_PASSWORD}}
  ch:
    kind: clickhouse
    access: read_write
    host: 127.0.0.1
`

const fuzzPipeline = `version: 1
name: p
schedule: "0 3 * * *"
timezone: America/New_York
defaults:
  source:
    connection: sf
    incremental: {cursor: UPDATED_AT, start: 2024-01-01, window: 1d, lookback: 2h}
  destination: {connection: ch, create: true}
streams:
  s:
    source: {query: sql/q.sql}
    filter: ID > 0 && NAME != 'x'
    columns:
      id: &int {from: ID, type: Int64}
      name: {expr: "lower(trim(NAME ?? ''))", type: String}
      amount:
        expr: |
          round(ID * 1.5, 2)
        type: Decimal(38, 2)
      updated_at: {type: "DateTime64(6, 'UTC')"}
    destination: {table: d.s, mode: upsert, key: [id], version: updated_at}
  push:
    source: {connection: ch, query: q.sql}
    columns:
      ID: {type: "NUMBER(18,0)", nullable: false}
      UPDATED_AT: {type: TIMESTAMP_TZ(6)}
    destination: {connection: sf_rw, table: A.B.C, mode: merge, key: [ID]}
`

const fuzzSQL = "SELECT ID, NAME, UPDATED_AT FROM T WHERE UPDATED_AT >= :window_start AND UPDATED_AT < :window_end\n"

func billionLaughs(levels int) string {
	var b strings.Builder
	b.WriteString("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 9), ", "))
	}
	return b.String()
}

// FuzzValidate loads and checks a folder made of a fuzzed pipeline.yaml,
// connections.yaml and SQL file (at q.sql and sql/q.sql), plans it when it
// validates, and renders the diagnostics. No input may panic, take more
// than fuzzTime or allocate more than fuzzAlloc, and every diagnostic
// names a file, and a line and column that exist in it when it has one.
// The seeds are the hostile folders Sluice has been shown.
func FuzzValidate(f *testing.F) {
	replace := func(s, old, new string) string { return strings.Replace(s, old, new, 1) }
	many := func(n int, line string) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, line, i)
		}
		return b.String()
	}
	for _, seed := range [][3]string{
		{fuzzPipeline, fuzzConnections, fuzzSQL},
		{"x: &r [*r]\n", fuzzConnections, fuzzSQL},
		{fuzzPipeline, "x: &r [*r]\n", fuzzSQL},
		{billionLaughs(9), billionLaughs(9), fuzzSQL},
		{replace(fuzzPipeline, "start: 2024-01-01, window: 1d", "start: 0001-01-01, window: 1m"), fuzzConnections, fuzzSQL},
		{replace(fuzzPipeline, `"0 3 * * *"`, `"0 0 30 2 *"`), fuzzConnections, fuzzSQL},
		{replace(fuzzPipeline, `"DateTime64(6, 'UTC')"`, `"DateTime('Mars/Olympus')"`), fuzzConnections, fuzzSQL},
		{replace(fuzzPipeline, "ID > 0 && NAME != 'x'", "ID * 2"), fuzzConnections, fuzzSQL},
		{fuzzPipeline, fuzzConnections, fuzzSQL + ";\nDROP TABLE T"},
		{replace(fuzzPipeline, "{from: ID, type: Int64}", `{from: ID, type: "Nullable(Int64)"}`), fuzzConnections, fuzzSQL},
		{fuzzPipeline, fuzzConnections, fuzzSQL + "-- -----BEGIN PRIVATE KEY-----\n-- MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-- -----END PRIVATE KEY-----\n"},
		{replace(fuzzPipeline, "create: true}", "create: true, password: hunter2}"), replace(fuzzConnections, "{env: SF_PASSWORD}", `"hunter2"`), fuzzSQL},
		{replace(fuzzPipeline, "name: p", "name: p\x00"), fuzzConnections, "SELECT \xff FROM T"},
		{"\ufeff" + fuzzPipeline, "\xff\xfev\x00e\x00r\x00", "\ufeff" + fuzzSQL},
		{"", "", ""},
		{"version: 1\nname: \"abc\nstreams: {}\n", "version: 1\nconnections: {a: {kind: x}\n", fuzzSQL},
		{fuzzPipeline + "---\nstreams: {}\n", fuzzConnections, fuzzSQL},
		{"version: 1\nname: p\nstreams:\n" + many(1001, "  s%d: {}\n"), fuzzConnections, fuzzSQL},
		{"version: 1\nname: p\nstreams:\n  s:\n    columns:\n" + many(2001, "      c%d: {expr: ID + 1}\n"), fuzzConnections, fuzzSQL},
		{strings.Repeat("[", 20000) + strings.Repeat("]", 20000), fuzzConnections, strings.Repeat("(", 20000)},
		{replace(fuzzPipeline, "ID > 0 && NAME != 'x'", strings.Repeat("(", 5000)+"ID"+strings.Repeat(")", 5000)), fuzzConnections, fuzzSQL},
		{replace(fuzzPipeline, "lookback: 2h", "lookback: 99999999999999999999m"), fuzzConnections, fuzzSQL},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	f.Fuzz(validateFolder)
}

// validateFolder is one input of FuzzValidate.
func validateFolder(t *testing.T, pipeline, connections, sql string) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	testfs.Write(t, dir, map[string]string{
		config.PipelineFileName:    pipeline,
		config.ConnectionsFileName: connections,
		"q.sql":                    sql,
		"sql/q.sql":                sql,
	})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()

	conns, sources, ds := config.LoadConnections(filepath.Join(dir, config.ConnectionsFileName), config.ConnectionsOptions{Within: dir})
	p, more := config.Load(dir, config.Options{Connections: conns, Now: func() time.Time { return now }})
	ds = append(ds, more...)
	if sources == nil {
		sources = diag.Sources{}
	}
	for k, v := range p.Files {
		sources[k] = v
	}
	if !ds.HasErrors() {
		_, more := plan.Compile(context.Background(), p, plan.Options{Connections: conns})
		ds = append(ds, more...)
	}
	var out bytes.Buffer
	if err := diag.Render(&out, ds.Sort(), sources); err != nil {
		t.Fatal(err)
	}

	took := time.Since(start)
	runtime.ReadMemStats(&after)
	if took > fuzzTime {
		t.Errorf("took %v, over %v", took, fuzzTime)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > fuzzAlloc {
		t.Errorf("allocated %d MiB, over %d", alloc>>20, fuzzAlloc>>20)
	}
	for _, d := range ds {
		if !d.Pos.IsValid() || d.Summary == "" {
			t.Errorf("diagnostic without a file or a message: %#v", d)
			continue
		}
		src, ok := sources[d.Pos.File]
		if !ok || d.Pos.Line == 0 {
			continue
		}
		lines := bytes.Count(src, []byte{'\n'}) + 1
		if d.Pos.Line < 0 || d.Pos.Line > lines || d.Pos.Col < 0 {
			t.Errorf("%s: no such line and column in a file of %d lines", d.Error(), lines)
		}
	}
}

// TestFuzzSeedPlans: the first seed is a clean folder, so mutations of it
// reach planning.
func TestFuzzSeedPlans(t *testing.T) {
	conns, ds := config.ParseConnections(config.ConnectionsFileName, []byte(fuzzConnections))
	files := map[string]string{"pipeline.yaml": fuzzPipeline, "q.sql": fuzzSQL, "sql/q.sql": fuzzSQL}
	p, more := config.Load("p", config.Options{
		Connections: conns,
		ReadFile:    func(name string) ([]byte, error) { return []byte(files[strings.TrimPrefix(name, "p/")]), nil },
	})
	ds = append(ds, more...)
	if len(ds) > 0 {
		t.Fatalf("the seed does not validate:\n%s", ds)
	}
	if _, ds := plan.Compile(context.Background(), p, plan.Options{Connections: conns}); ds.HasErrors() {
		t.Fatalf("the seed does not plan:\n%s", ds)
	}
}
