package clickhouse

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/hockeystack/sluice/engine/clickhouse/clickhousetest"
)

// BenchmarkSinkInsert inserts 1M rows shaped like BenchmarkEndToEnd's
// table (cmd/sluice), in batches of 8192, through the native encoder and
// through clickhouse-go's Go values, and reports this process's CPU
// seconds per million rows (user + system: the sink alone, no source, no
// mapping) and the server's.
func BenchmarkSinkInsert(b *testing.B) {
	const rows, per = 1_000_000, 8192
	mem := memory.DefaultAllocator
	types := []string{"Int64", "Int64", "Decimal(18, 2)", "Float64", "String", "LowCardinality(String)", "UInt8", "Date", "DateTime('UTC')", "DateTime('UTC')"}
	names := []string{"id", "account_id", "amount", "score", "email", "kind", "active", "day", "created_at", "updated_at"}
	var cols []sinkColumn
	var fields []arrow.Field
	for i, n := range names {
		t := mustType(b, types[i])
		cols = append(cols, sinkColumn{name: n, typ: t})
		a := t.Arrow()
		if n == "active" {
			a = arrow.FixedWidthTypes.Boolean
		}
		fields = append(fields, arrow.Field{Name: n, Type: a})
	}
	schema := arrow.NewSchema(fields, nil)
	var batches []arrow.RecordBatch
	for start := 0; start < rows; start += per {
		rb := array.NewRecordBuilder(mem, schema)
		for j := start; j < min(start+per, rows); j++ {
			rb.Field(0).(*array.Int64Builder).Append(int64(j))
			rb.Field(1).(*array.Int64Builder).Append(int64(j % 5000))
			rb.Field(2).(*array.Decimal128Builder).Append(decimal128.FromI64(int64(j % 100000)))
			rb.Field(3).(*array.Float64Builder).Append(float64(j) * 0.5)
			rb.Field(4).(*array.StringBuilder).Append(fmt.Sprintf("user%d@example.com", j))
			rb.Field(5).(*array.StringBuilder).Append([]string{"call", "email"}[j%2])
			rb.Field(6).(*array.BooleanBuilder).Append(j%2 == 0)
			rb.Field(7).(*array.Date32Builder).Append(arrow.Date32(19723 + j%365))
			rb.Field(8).(*array.TimestampBuilder).Append(arrow.Timestamp(1704067200 + j))
			rb.Field(9).(*array.TimestampBuilder).Append(arrow.Timestamp(1704067200 + 2*j))
		}
		batches = append(batches, rb.NewRecordBatch())
		rb.Release()
	}
	defer func() {
		for _, r := range batches {
			r.Release()
		}
	}()
	db := clickhousetest.NewDB(b)
	ctx := context.Background()
	var defs string
	for i, n := range names {
		if i > 0 {
			defs += ", "
		}
		defs += n + " " + types[i]
	}
	for _, goValues := range []bool{false, true} {
		name := map[bool]string{false: "native", true: "govalues"}[goValues]
		b.Run(name, func(b *testing.B) {
			table := db.Name + "." + name
			if err := db.Conn.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+table+" ("+defs+") ENGINE = MergeTree ORDER BY id"); err != nil {
				b.Fatal(err)
			}
			var cpu, server, wall time.Duration
			for b.Loop() {
				db.Conn.Exec(ctx, "TRUNCATE TABLE "+table)
				rr, _ := array.NewRecordReader(schema, batches)
				k := &Sink{conn: db.Conn, cols: cols, GoValues: goValues}
				c0, s0, t0 := selfCPU(), serverCPU(db), time.Now()
				if _, err := k.insert(ctx, table, rr); err != nil {
					b.Fatal(err)
				}
				cpu += selfCPU() - c0
				server += serverCPU(db) - s0
				wall += time.Since(t0)
				rr.Release()
			}
			perM := func(d time.Duration) float64 { return d.Seconds() / float64(b.N) / (rows / 1e6) }
			b.ReportMetric(perM(cpu), "cpu-s/Mrows")
			b.ReportMetric(perM(server), "server-cpu-s/Mrows")
			b.ReportMetric(float64(rows)*float64(b.N)/wall.Seconds(), "rows/s")
		})
	}
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func serverCPU(db *clickhousetest.DB) time.Duration {
	d, _ := db.CPUTime()
	return d
}
