package transform

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/hockeystack/sluice/engine/sqltype"
)

// batch builds n rows of the source test schema; every 7th EMAIL and
// every 5th AMOUNT is NULL when withNulls.
func batch(mem memory.Allocator, n int, withNulls bool) arrow.RecordBatch {
	ids := make([]int64, n)
	amounts := make([]string, n)
	emails := make([]*string, n)
	ts := make([]time.Time, n)
	for i := range ids {
		ids[i] = int64(i)
		amounts[i] = fmt.Sprintf("%d.%02d", i%1000, i%100)
		e := fmt.Sprintf("  User%d@Example.COM ", i)
		emails[i] = &e
		if withNulls && i%7 == 3 {
			emails[i] = nil
		}
		if withNulls && i%5 == 1 {
			amounts[i] = ""
		}
		ts[i] = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
	}
	return source(mem, ids, amounts, emails, ts)
}

// TestVectorMatchesVM runs the same mappings on the vectorized path and
// on the VM and compares every value, with and without NULLs.
func TestVectorMatchesVM(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	cols := []Column{
		{Name: "email", Type: ch(t, "String"), Expr: "lower(trim(EMAIL ?? ''))"},
		{Name: "domain_ok", Type: ch(t, "Bool"), Expr: "EMAIL != nil && EMAIL == EMAIL"},
		{Name: "amount2", Type: ch(t, "Nullable(Float64)"), Expr: "AMOUNT == nil ? nil : AMOUNT * 2 + 1"},
		{Name: "big", Type: ch(t, "Int64"), Expr: "ID * 3 - 7"},
		{Name: "ratio", Type: ch(t, "Float64"), Expr: "ID / 4", AllowLossy: true},
		{Name: "amount_usd", Type: ch(t, "Decimal(38, 2)"), Expr: "round((AMOUNT ?? 0) * 1.08, 2)"},
		{Name: "id_usd", Type: ch(t, "Decimal(38, 2)"), Expr: "ID * 1.08"},
		{Name: "id_big", Type: ch(t, "Decimal(38, 0)"), Expr: "ID * 9223372036854775 + ID"},
		{Name: "label", Type: ch(t, "String"), Expr: "ID % 2 == 0 ? 'even' : 'odd'"},
	}
	for _, filter := range []string{"", "ID > 10 && ID < 900", "trim(EMAIL ?? '') in ['User4@Example.COM', 'User8@Example.COM'] || ID >= 990"} {
		for _, nulls := range []bool{false, true} {
			rec := batch(mem, 1000, nulls)
			vec, err := Compile(rec.Schema(), cols, filter)
			if err != nil {
				t.Fatal(err)
			}
			vmOnly, _ := Compile(rec.Schema(), cols, filter)
			vmOnly.noVector = true
			a, errA := vec.Apply(mem, rec, Where{})
			b, errB := vmOnly.Apply(mem, rec, Where{})
			if (errA == nil) != (errB == nil) {
				t.Fatalf("filter %q nulls %v: vector error %v, VM error %v", filter, nulls, errA, errB)
			}
			if errA == nil {
				if got, want := render(a), render(b); got != want {
					gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
					for i := range gl {
						if i < len(wl) && gl[i] != wl[i] {
							t.Errorf("filter %q nulls %v: row %d vector %s, VM %s", filter, nulls, i, gl[i], wl[i])
							break
						}
					}
				}
				a.Release()
				b.Release()
			}
			rec.Release()
		}
	}
}

// BenchmarkApply measures a typical mapping (three copied columns, two
// expressions, a filter) per 100k-row batch, vectorized and on the VM.
func BenchmarkApply(b *testing.B) {
	mem := memory.NewGoAllocator()
	rec := batch(mem, 100_000, false)
	defer rec.Release()
	cols := []Column{
		{Name: "id", Type: chType(b, "Int64"), From: "ID"},
		{Name: "amount", Type: chType(b, "Decimal(38, 2)"), From: "AMOUNT"},
		{Name: "at", Type: chType(b, "DateTime('UTC')"), From: "TS"},
		{Name: "email", Type: chType(b, "String"), Expr: "lower(trim(EMAIL ?? ''))"},
		{Name: "amount_x2", Type: chType(b, "Float64"), Expr: "AMOUNT * 2"},
	}
	for _, mode := range []string{"vector", "vm"} {
		b.Run(mode, func(b *testing.B) {
			p, err := Compile(rec.Schema(), cols, "ID >= 0 && EMAIL != ''")
			if err != nil {
				b.Fatal(err)
			}
			p.noVector = mode == "vm"
			for b.Loop() {
				out, err := p.Apply(mem, rec, Where{})
				if err != nil {
					b.Fatal(err)
				}
				out.Release()
			}
			b.ReportMetric(float64(rec.NumRows())*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

func chType(tb testing.TB, s string) sqltype.Type {
	tb.Helper()
	t, err := sqltype.ParseClickHouse(s)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}
