//go:build duckdb_arrow

package snowflake

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/hockeystack/sluice/engine"
	"github.com/hockeystack/sluice/engine/snowflake/snowflaketest"
)

// pushBatches builds n rows of the test push stream in batches of 65536.
func pushBatches(n int) []arrow.RecordBatch {
	var out []arrow.RecordBatch
	b := array.NewRecordBuilder(memory.DefaultAllocator, pushSchema)
	defer b.Release()
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).(*array.Decimal128Builder).Append(decimal128.FromI64(int64(i%100000) * 37))
		if i%5 == 0 {
			b.Field(2).AppendNull()
		} else {
			b.Field(2).(*array.StringBuilder).Append("note " + strconv.Itoa(i))
		}
		ts, _ := arrow.TimestampFromTime(base.Add(time.Duration(i)*time.Second), arrow.Microsecond)
		b.Field(3).(*array.TimestampBuilder).Append(ts)
		b.Field(4).(*array.BooleanBuilder).Append(i%2 == 0)
		if (i+1)%65536 == 0 || i == n-1 {
			out = append(out, b.NewRecordBatch())
		}
	}
	return out
}

// BenchmarkPush writes rows into snowsim through each load path: array-
// bound INSERTs and Parquet files put on a stage and copied in. Rows per
// second are of the whole write (staging, load, the append's DELETE and
// INSERT SELECT, commit). SLUICE_PUSH_ROWS sets the size (default 1M).
func BenchmarkPush(b *testing.B) {
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("SLUICE_PUSH_ROWS")); err == nil {
		n = v
	}
	batches := pushBatches(n)
	defer func() {
		for _, r := range batches {
			r.Release()
		}
	}()
	for _, path := range bulkPaths {
		b.Run(fmt.Sprintf("%s/rows=%d", path.name, n), func(b *testing.B) {
			f := newPushFixture(b, "append", false, snowflaketest.Options{})
			f.sink.BulkRows = path.rows
			ctx := context.Background()
			b.ResetTimer()
			for b.Loop() {
				rr, _ := array.NewRecordReader(pushSchema, batches)
				got, err := f.sink.WriteWindow(ctx, engine.Window{}, rr)
				rr.Release()
				if err != nil || got.Rows != int64(n) {
					b.Fatalf("wrote %d rows: %v", got.Rows, err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
