package clickhouse

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/hockeystack/sluice/engine"
	"github.com/hockeystack/sluice/engine/clickhouse/clickhousetest"
)

// readAll reads r through a Source and renders every row, one line each,
// with the Arrow type of each column on the first line.
func readAll(t *testing.T, db *clickhousetest.DB, r engine.Read) (string, int) {
	t.Helper()
	alloc := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer alloc.AssertSize(t, 0)
	rr, err := NewSource(db.Conn, alloc).Read(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Release()
	var lines []string
	for _, f := range rr.Schema().Fields() {
		lines = append(lines, f.Name+" "+f.Type.String())
	}
	out := []string{strings.Join(lines, " | ")}
	batches := 0
	for rr.Next() {
		batches++
		rec := rr.RecordBatch()
		for i := 0; i < int(rec.NumRows()); i++ {
			var cells []string
			for _, c := range rec.Columns() {
				cells = append(cells, c.ValueStr(i))
			}
			out = append(out, strings.Join(cells, " | "))
		}
	}
	if err := rr.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(out, "\n"), batches
}

// TestSourceReadsEveryType reads each type a push stream reads from a real
// server: values exact, NULLs kept, wall-clock and zoned times apart.
func TestSourceReadsEveryType(t *testing.T) {
	db := clickhousetest.NewDB(t)
	ctx := context.Background()
	for _, q := range []string{
		"CREATE TABLE " + db.Name + `.t (i8 Int8, u64 UInt64, i64 Nullable(Int64), f32 Float32, f64 Float64,
			d Decimal(38, 2), d9 Nullable(Decimal(9, 4)), s String, lc LowCardinality(String), fs FixedString(3),
			e Enum8('a' = 1, 'b' = 2), day Date, at DateTime('UTC'), wall DateTime, ns Nullable(String))
			ENGINE = MergeTree ORDER BY i8`,
		// INSERT … SELECT: 18.16 and clickhouse-go disagree on VALUES.
		"INSERT INTO " + db.Name + `.t (i8, u64, i64, f32, f64, d, d9, s, lc, fs, e, day, at, wall, ns)
			SELECT toInt8(-128), toUInt64('18446744073709551615'), CAST(NULL AS Nullable(Int64)), toFloat32(1.5), toFloat64(-0.25),
				toDecimal128('-123456789012345678901234567890123456.78', 2), CAST(NULL AS Nullable(Decimal(9, 4))), 'héllo', 'x', 'abc', 'a',
				toDate('2024-02-29'), toDateTime('2024-03-01 12:34:56', 'UTC'), toDateTime('2024-03-01 12:34:56'), CAST(NULL AS Nullable(String))
			UNION ALL
			SELECT toInt8(127), toUInt64(0), toInt64('-9223372036854775808'), toFloat32(0), toFloat64(1e300),
				toDecimal128('0.01', 2), toDecimal32('12345.6789', 4), '', 'y', 'de', 'b',
				toDate('1970-01-01'), toDateTime(0, 'UTC'), toDateTime('2105-12-31 23:59:59'), 'set'`,
	} {
		if err := db.Conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := readAll(t, db, engine.Read{SQL: "SELECT * FROM " + db.Name + ".t ORDER BY i8"})
	want := strings.Join([]string{
		"i8 int8 | u64 uint64 | i64 int64 | f32 float32 | f64 float64 | d decimal(38, 2) | d9 decimal(9, 4) | s utf8 | lc utf8 | fs utf8 | e utf8 | day date32 | at timestamp[s, tz=UTC] | wall timestamp[s] | ns utf8",
		"-128 | 18446744073709551615 | (null) | 1.5 | -0.25 | -123456789012345678901234567890123456.78 | (null) | héllo | x | abc | a | 2024-02-29 | 2024-03-01T12:34:56Z | 2024-03-01T12:34:56 | (null)",
		"127 | 0 | -9223372036854775808 | 0 | 1e+300 | 0.01 | 12345.6789 |  | y | de\x00 | b | 1970-01-01 | 1970-01-01T00:00:00Z | 2105-12-31T23:59:59 | set",
	}, "\n")
	if got != want {
		t.Errorf("read:\n%s\nwant:\n%s", got, want)
	}
}

// TestSourceBindsWindowsAndBatches: the window bounds are bound as
// parameters, and a large result arrives in bounded batches.
func TestSourceBindsWindowsAndBatches(t *testing.T) {
	db := clickhousetest.NewDB(t)
	start := time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	r := engine.Read{
		SQL:    "SELECT at FROM (SELECT toDateTime(number, 'UTC') AS at FROM system.numbers LIMIT 300000) WHERE at >= :window_start AND at < :window_end;",
		Params: map[string]any{"window_start": start.Add(1000 * time.Second), "window_end": start.Add(151000 * time.Second)},
	}
	got, batches := readAll(t, db, r)
	lines := strings.Split(got, "\n")
	if len(lines)-1 != 150000 || lines[1] != "1970-01-01T00:16:40Z" {
		t.Errorf("read %d rows starting %q, want 150000 from 00:16:40", len(lines)-1, lines[1])
	}
	if batches != 3 {
		t.Errorf("%d batches, want 3 of at most %d rows", batches, sourceBatchRows)
	}
}

// TestSourceErrors: SQL the server rejects and a type the source cannot
// carry both fail the read plainly.
func TestSourceErrors(t *testing.T) {
	db := clickhousetest.NewDB(t)
	src := NewSource(db.Conn, memory.DefaultAllocator)
	for q, want := range map[string]string{
		"SELECT nope FROM system.one": "nope",
		"SELECT [1, 2] AS xs":         "column xs: reading Array(UInt8) values is not supported",
	} {
		rr, err := src.Read(context.Background(), engine.Read{SQL: q})
		if rr != nil {
			rr.Release()
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", q, err, want)
		}
		// A type the source cannot read will not read on a retry: the
		// run stops at once rather than after its backoff.
		if strings.Contains(want, "not supported") && !engine.IsPermanent(err) {
			t.Errorf("%s: %v is not permanent", q, err)
		}
	}
}
