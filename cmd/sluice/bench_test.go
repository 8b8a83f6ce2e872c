//go:build duckdb_arrow

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/hockeystack/sluice/engine"
	"github.com/hockeystack/sluice/engine/clickhouse/clickhousetest"
	"github.com/hockeystack/sluice/engine/config"
	"github.com/hockeystack/sluice/engine/snowflake"
	"github.com/hockeystack/sluice/engine/snowflake/snowflaketest"
)

// benchRows is the large table's size: SLUICE_BENCH_ROWS, 5M by default.
func benchRows() int {
	if n, err := strconv.Atoi(os.Getenv("SLUICE_BENCH_ROWS")); err == nil && n > 0 {
		return n
	}
	return 5_000_000
}

// BenchmarkEndToEnd measures the pull of a 10-column table from snowsim
// into clickhouse-server, at 1M rows and at benchRows, reporting in one
// run: Sluice's rows/s (sluice run as its own process), that process's
// peak memory, clickhouse-client inserting the same rows from a Native
// file (the ceiling on this machine), Sluice's share of the ceiling, and
// the Arrow read alone. Run it with -benchtime 1x: each iteration loads the
// whole table.
func BenchmarkEndToEnd(b *testing.B) {
	for _, rows := range []int{1_000_000, benchRows()} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) { benchEndToEnd(b, rows) })
	}
}

func benchEndToEnd(b *testing.B, rows int) {
	sf := snowflaketest.Start(b, snowflaketest.Options{})
	ch := clickhousetest.NewDB(b)
	ctx := context.Background()
	if err := sf.Exec(ctx, fmt.Sprintf(`CREATE DATABASE BENCH; CREATE TABLE BENCH.PUBLIC.EVENTS (
		ID NUMBER(18,0), ACCOUNT_ID NUMBER(18,0), AMOUNT NUMBER(12,2), SCORE FLOAT, EMAIL VARCHAR,
		KIND VARCHAR, ACTIVE BOOLEAN, DAY DATE, CREATED_AT TIMESTAMP_NTZ, UPDATED_AT TIMESTAMP_NTZ);
		INSERT INTO BENCH.PUBLIC.EVENTS SELECT SEQ4(), SEQ4() %% 5000, (SEQ4() %% 100000) / 100, SEQ4() * 0.5,
		'user' || SEQ4() || '@example.com', IFF(SEQ4() %% 2 = 0, 'call', 'email'), SEQ4() %% 2 = 0,
		DATEADD(day, SEQ4() %% 365, '2024-01-01'::DATE), DATEADD(second, SEQ4(), '2024-01-01'::TIMESTAMP_NTZ),
		DATEADD(second, SEQ4() * 2, '2024-01-01'::TIMESTAMP_NTZ) FROM TABLE(GENERATOR(ROWCOUNT => %d))`, rows)); err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	writeFiles(b, dir, map[string]string{
		"connections.yaml": snowsimConnections(sf.Port, "read_only", "BENCH", "PUBLIC", ch.Addr),
		"p/pipeline.yaml": fmt.Sprintf(`version: 1
name: bench
streams:
  events:
    source: {connection: sf, query: q.sql, incremental: false}
    columns:
      id:         {type: Int64}
      account_id: {type: Int64}
      amount:     {type: "Decimal(18, 2)"}
      score:      {type: Float64}
      email:      {expr: "lower(EMAIL)", type: String}
      kind:       {type: "LowCardinality(String)"}
      active:     {type: UInt8}
      day:        {type: Date}
      created_at: {type: "DateTime('UTC')", allow_lossy: true}
      updated_at: {type: "DateTime('UTC')", allow_lossy: true}
    destination: {connection: ch, table: %s.events, mode: replace, order_by: [id], create: true}
`, ch.Name),
		"p/q.sql": "SELECT * FROM EVENTS",
	})

	var elapsed time.Duration
	var peak int64
	// Where the CPU goes, per run: the sluice process, this process
	// (snowsim, which serves the rows), and clickhouse-server. The three
	// share the machine's cores.
	var sluiceCPU, snowsimCPU, serverCPU time.Duration
	for b.Loop() {
		cmd := exec.Command(os.Args[0], "run", "--state", filepath.Join(dir, "state.db"), filepath.Join(dir, "p"))
		peakFile := filepath.Join(dir, "peak")
		cmd.Env = append(os.Environ(), "SLUICE_RUN_AS_CLI=1", "SF_PASSWORD=sluice", "SLUICE_CONNECTIONS="+filepath.Join(dir, "connections.yaml"),
			"SLUICE_PEAKMEM="+peakFile)
		if os.Getenv("SLUICE_BENCH_GCTRACE") != "" {
			cmd.Env = append(cmd.Env, "GODEBUG=gctrace=1")
		}
		if d := os.Getenv("SLUICE_BENCH_PROFILES"); d != "" {
			cmd.Env = append(cmd.Env, fmt.Sprintf("SLUICE_CPUPROFILE=%s/cpu-%d.prof", d, rows), fmt.Sprintf("SLUICE_MEMPROFILE=%s/mem-%d.prof", d, rows))
		}
		selfBefore := selfCPU()
		serverBefore, _ := ch.CPUTime()
		start := time.Now()
		out, err := cmd.CombinedOutput()
		elapsed += time.Since(start)
		if err != nil {
			b.Fatalf("sluice run: %v\n%s", err, out)
		}
		serverAfter, _ := ch.CPUTime()
		serverCPU += serverAfter - serverBefore
		snowsimCPU += selfCPU() - selfBefore
		sluiceCPU += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		if os.Getenv("SLUICE_BENCH_GCTRACE") != "" {
			os.WriteFile(filepath.Join(os.TempDir(), fmt.Sprintf("gctrace-%d.txt", rows)), out, 0o644)
		}
		kb, err := os.ReadFile(peakFile)
		if err != nil {
			b.Fatal(err)
		}
		n, err := strconv.ParseInt(string(kb), 10, 64)
		if err != nil {
			b.Fatalf("peak memory %q: %v", kb, err)
		}
		peak = max(peak, n)
	}
	var n uint64
	ch.Conn.QueryRow(ctx, "SELECT count() FROM "+ch.Name+".events").Scan(&n)
	if n != uint64(rows) {
		b.Fatalf("loaded %d rows, want %d", n, rows)
	}
	sluiceRate := float64(rows) * float64(b.N) / elapsed.Seconds()
	b.ReportMetric(sluiceRate, "rows/s")
	b.ReportMetric(float64(peak)/1024, "peak-MiB")
	perRun := func(d time.Duration) float64 { return d.Seconds() / float64(b.N) }
	b.ReportMetric(perRun(elapsed), "wall-s")
	b.ReportMetric(perRun(sluiceCPU), "sluice-cpu-s")
	b.ReportMetric(perRun(snowsimCPU), "snowsim-cpu-s")
	b.ReportMetric(perRun(serverCPU), "server-cpu-s")

	// The ceiling: clickhouse-client inserting the same rows from a Native
	// file into a table of the same structure.
	native := filepath.Join(dir, "events.native")
	dump := exec.Command("bash", "-c", fmt.Sprintf("clickhouse-client --host 127.0.0.1 --port %s --query 'SELECT * FROM %s.events FORMAT Native' > %s",
		portOf(ch.Addr), ch.Name, native))
	if out, err := dump.CombinedOutput(); err != nil {
		b.Fatalf("dumping Native: %v\n%s", err, out)
	}
	if err := ch.Conn.Exec(ctx, "CREATE TABLE "+ch.Name+".ceiling AS "+ch.Name+".events"); err != nil {
		b.Fatal(err)
	}
	load := exec.Command("bash", "-c", fmt.Sprintf("clickhouse-client --host 127.0.0.1 --port %s --query 'INSERT INTO %s.ceiling FORMAT Native' < %s",
		portOf(ch.Addr), ch.Name, native))
	start := time.Now()
	if out, err := load.CombinedOutput(); err != nil {
		b.Fatalf("clickhouse-client insert: %v\n%s", err, out)
	}
	ceiling := float64(rows) / time.Since(start).Seconds()
	b.ReportMetric(ceiling, "ceiling-rows/s")
	b.ReportMetric(100*sluiceRate/ceiling, "%-of-ceiling")

	// The Arrow read alone: snowsim to canonical batches, nothing written.
	db, err := snowflake.Open(ctx, &config.Connection{Name: "sf", Kind: "snowflake", Account: "SNOWSIM", User: "SLUICE", Host: sf.Host,
		Port: sf.Port, Protocol: "http", Database: "BENCH", Schema: "PUBLIC",
		Auth: config.Auth{Method: "password", Password: &config.Secret{Env: "PW"}}}, func(string) string { return "sluice" })
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	start = time.Now()
	rr, err := snowflake.NewSource(db, memory.DefaultAllocator).Read(ctx, engine.Read{SQL: "SELECT * FROM EVENTS"})
	if err != nil {
		b.Fatal(err)
	}
	var read int64
	for rr.Next() {
		read += rr.RecordBatch().NumRows()
	}
	rr.Release()
	if read != int64(rows) {
		b.Fatalf("read %d rows", read)
	}
	b.ReportMetric(float64(rows)/time.Since(start).Seconds(), "arrow-read-rows/s")
}

// selfCPU is this process's user and system CPU time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func portOf(addr string) string {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			return addr[i+1:]
		}
	}
	return addr
}
