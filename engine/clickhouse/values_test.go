package clickhouse

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/shopspring/decimal"

	"github.com/hockeystack/sluice/engine/sqltype"
)

// TestDecimalValues covers both conversions of values: the int64 fast
// path and big integers, at and across the int64 boundary, both signs.
func TestDecimalValues(t *testing.T) {
	in := []string{
		"0.00", "-0.01", "12.34", "-12.34",
		"92233720368547758.07", "-92233720368547758.08", // int64 max and min, scale 2
		"92233720368547758.08", "-92233720368547758.09", // one past each
		"123456789012345678901234567890123456.78", "-123456789012345678901234567890123456.78",
	}
	b := array.NewDecimal128Builder(memory.DefaultAllocator, &arrow.Decimal128Type{Precision: 38, Scale: 2})
	defer b.Release()
	for _, s := range in {
		d, err := decimal128.FromString(s, 38, 2)
		if err != nil {
			t.Fatal(err)
		}
		b.Append(d)
	}
	a := b.NewArray()
	defer a.Release()
	typ, err := sqltype.ParseClickHouse("Decimal(38, 2)")
	if err != nil {
		t.Fatal(err)
	}
	got, err := values(a, typ)
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range got.([]decimal.Decimal) {
		if d.StringFixed(2) != in[i] {
			t.Errorf("value %d: got %s, want %s", i, d.StringFixed(2), in[i])
		}
	}
}
