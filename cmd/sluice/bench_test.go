//go:build duckdb_arrow

package main

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/hockeystack/sluice/engine/clickhouse/clickhousetest"
	"github.com/hockeystack/sluice/engine/snowflake/snowflaketest"
)

// BenchmarkPull measures the pull end to end: 1M rows of 10 columns from
// the Snowflake simulator through the mapping into a real clickhouse-server,
// as `sluice backfill` loads them (four windows, each replaced in place).
func BenchmarkPull(b *testing.B) {
	const rows = 1_000_000
	sf := snowflaketest.Start(b, snowflaketest.Options{})
	ch := clickhousetest.NewDB(b)
	ctx := context.Background()
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := sf.Exec(ctx, fmt.Sprintf(`CREATE DATABASE BENCH; CREATE TABLE BENCH.PUBLIC.EVENTS (
		ID NUMBER(18,0), ACCOUNT_ID NUMBER(18,0), AMOUNT NUMBER(12,2), SCORE FLOAT, EMAIL VARCHAR,
		KIND VARCHAR, ACTIVE BOOLEAN, DAY DATE, CREATED_AT TIMESTAMP_NTZ, UPDATED_AT TIMESTAMP_NTZ);
		INSERT INTO BENCH.PUBLIC.EVENTS SELECT SEQ4(), SEQ4() %% 5000, (SEQ4() %% 100000) / 100, SEQ4() * 0.5,
		'User' || SEQ4() || '@Example.com', IFF(SEQ4() %% 2 = 0, 'call', 'email'), SEQ4() %% 2 = 0,
		DATEADD(day, SEQ4() %% 365, '2024-01-01'::DATE), DATEADD(second, SEQ4() * 2, '%s'::TIMESTAMP_NTZ),
		DATEADD(second, SEQ4() * 2, '%s'::TIMESTAMP_NTZ) FROM TABLE(GENERATOR(ROWCOUNT => %d))`,
		start.Format(time.DateTime), start.Format(time.DateTime), rows)); err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	writeFiles(b, dir, map[string]string{
		"connections.yaml": fmt.Sprintf(`version: 1
connections:
  sf: {kind: snowflake, access: read_only, account: SNOWSIM, host: 127.0.0.1, port: %d, protocol: http, user: SLUICE,
       database: BENCH, schema: PUBLIC, auth: {method: password, password: {env: SF_PASSWORD}}}
  ch: {kind: clickhouse, access: read_write, host: %s, auth: {method: none}}
`, sf.Port, ch.Addr),
		"p/pipeline.yaml": fmt.Sprintf(`version: 1
name: bench
streams:
  events:
    source:
      connection: sf
      query: q.sql
      incremental: {cursor: UPDATED_AT, start: 2024-01-01, window: 6d}
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
    destination: {connection: ch, table: %s.events, mode: append, partition: toYYYYMM(updated_at), create: true}
`, ch.Name),
		"p/q.sql": "SELECT * FROM EVENTS WHERE UPDATED_AT >= :window_start AND UPDATED_AT < :window_end",
	})
	b.Setenv("SF_PASSWORD", "sluice")
	args := []string{"backfill", "--connections", filepath.Join(dir, "connections.yaml"), "--state", filepath.Join(dir, "state.db"),
		"--from", "2024-01-01", "--to", "2024-01-25", filepath.Join(dir, "p")}
	for b.Loop() {
		if out, errOut, code := sluice(b, args...); code != 0 {
			b.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
	}
	var n uint64
	ch.Conn.QueryRow(ctx, "SELECT count() FROM "+ch.Name+".events").Scan(&n)
	if n != rows {
		b.Fatalf("loaded %d rows, want %d", n, rows)
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
