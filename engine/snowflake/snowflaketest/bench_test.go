//go:build duckdb_arrow

package snowflaketest

import (
	"context"
	"database/sql/driver"
	"fmt"
	"sync"
	"testing"

	sf "github.com/snowflakedb/gosnowflake/v2"
	"github.com/snowflakedb/gosnowflake/v2/arrowbatches"
)

// benchRows is the size of the benchmark table: 1M rows of 10 columns.
const benchRows = 1_000_000

// BenchmarkServeArrowBatches measures what snowsim serves to the driver's
// arrowbatches, the way the pull engine reads: a 10-column, 1M-row table,
// higher precision, microsecond timestamps, chunks fetched in parallel.
// UPDATED_AT is a TIMESTAMP_NTZ, or a TIMESTAMP_TZ with offsets that vary
// by row.
func BenchmarkServeArrowBatches(b *testing.B) {
	for _, typ := range []string{"TIMESTAMP_NTZ", "TIMESTAMP_TZ"} {
		b.Run("updated_at="+typ, func(b *testing.B) { benchServe(b, typ) })
	}
}

func benchServe(b *testing.B, updatedAt string) {
	s := Start(b, Options{})
	ctx := context.Background()
	if err := s.Exec(ctx, `CREATE DATABASE BENCH; CREATE TABLE BENCH.PUBLIC.EVENTS (
		ID NUMBER(38,0), ACCOUNT_ID NUMBER(38,0), AMOUNT NUMBER(12,2), SCORE FLOAT, EMAIL VARCHAR,
		KIND VARCHAR, ACTIVE BOOLEAN, DAY DATE, CREATED_AT TIMESTAMP_NTZ, UPDATED_AT `+updatedAt+`)`); err != nil {
		b.Fatal(err)
	}
	updated := "TIMESTAMP '2024-06-01' + to_microseconds(i)"
	if updatedAt == "TIMESTAMP_TZ" {
		updated = "CAST(struct_pack(utc := TIMESTAMPTZ '2024-06-01 00:00:00+00' + to_microseconds(i), off := CAST((i % 57) * 15 - 420 AS SMALLINT)) AS " + tzType + ")"
	}
	if _, err := s.db.Exec(fmt.Sprintf(`INSERT INTO "BENCH"."PUBLIC"."EVENTS" SELECT i, i %% 5000, (i %% 100000) / 100, i * 0.5,
		'user' || i || '@example.com', CASE i %% 3 WHEN 0 THEN 'call' WHEN 1 THEN 'email' ELSE 'meeting' END, i %% 2 = 0,
		DATE '2024-01-01' + CAST(i %% 365 AS INTEGER), TIMESTAMP '2024-01-01' + to_seconds(i), %s
		FROM range(%d) t(i)`, updated, benchRows)); err != nil {
		b.Fatal(err)
	}
	cfg := s.Config("sluice", "sluice")
	cfg.Database = "BENCH"
	db := Open(cfg)
	defer db.Close()
	actx := arrowbatches.WithTimestampOption(sf.WithHigherPrecision(arrowbatches.WithArrowBatches(ctx)), arrowbatches.UseMicrosecondTimestamp)
	conn, err := db.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	b.ResetTimer()
	for b.Loop() {
		var total int64
		err := conn.Raw(func(dc any) error {
			rows, err := dc.(driver.QueryerContext).QueryContext(actx, "SELECT * FROM EVENTS", nil)
			if err != nil {
				return err
			}
			defer rows.Close()
			batches, err := arrowbatches.GetArrowBatches(rows.(sf.SnowflakeRows))
			if err != nil {
				return err
			}
			var mu sync.Mutex
			var wg sync.WaitGroup
			errs := make(chan error, len(batches))
			sem := make(chan struct{}, 4)
			for _, batch := range batches {
				wg.Add(1)
				sem <- struct{}{}
				go func() {
					defer wg.Done()
					defer func() { <-sem }()
					recs, err := batch.Fetch()
					if err != nil {
						errs <- err
						return
					}
					for _, r := range *recs {
						mu.Lock()
						total += r.NumRows()
						mu.Unlock()
						r.Release()
					}
				}()
			}
			wg.Wait()
			close(errs)
			return <-errs
		})
		if err != nil {
			b.Fatal(err)
		}
		if total != benchRows {
			b.Fatalf("read %d rows, want %d", total, benchRows)
		}
	}
	b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
