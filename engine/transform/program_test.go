package transform

import (
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/hockeystack/sluice/engine/sqltype"
)

func ch(t *testing.T, s string) sqltype.Type {
	t.Helper()
	typ, err := sqltype.ParseClickHouse(s)
	if err != nil {
		t.Fatal(err)
	}
	return typ
}

// source builds a batch like the Snowflake source produces for
// ID NUMBER(18,0), AMOUNT NUMBER(12,2), EMAIL VARCHAR, TS TIMESTAMP_NTZ.
func source(mem memory.Allocator, ids []int64, amounts []string, emails []*string, ts []time.Time) arrow.RecordBatch {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "ID", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "AMOUNT", Type: &arrow.Decimal128Type{Precision: 12, Scale: 2}, Nullable: true},
		{Name: "EMAIL", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "TS", Type: &arrow.TimestampType{Unit: arrow.Microsecond}, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for i := range ids {
		b.Field(0).(*array.Int64Builder).Append(ids[i])
		if amounts[i] == "" {
			b.Field(1).AppendNull()
		} else {
			d, _ := decimal128.FromString(amounts[i], 12, 2)
			b.Field(1).(*array.Decimal128Builder).Append(d)
		}
		if emails[i] == nil {
			b.Field(2).AppendNull()
		} else {
			b.Field(2).(*array.StringBuilder).Append(*emails[i])
		}
		tsv, _ := arrow.TimestampFromTime(ts[i], arrow.Microsecond)
		b.Field(3).(*array.TimestampBuilder).Append(tsv)
	}
	return b.NewRecordBatch()
}

func str(s string) *string { return &s }

func render(rec arrow.RecordBatch) string {
	var rows []string
	for i := 0; i < int(rec.NumRows()); i++ {
		var cells []string
		for c := 0; c < int(rec.NumCols()); c++ {
			cells = append(cells, rec.Column(c).ValueStr(i))
		}
		rows = append(rows, strings.Join(cells, "|"))
	}
	return strings.Join(rows, "\n")
}

func TestApply(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ts := time.Date(2024, 1, 2, 3, 4, 5, 678901000, time.UTC)
	rec := source(mem, []int64{1, 2, 3}, []string{"10.25", "", "7.50"}, []*string{str("A@X.COM "), nil, str("b@y.com")}, []time.Time{ts, ts, ts})
	defer rec.Release()
	free := "free"
	prog, err := Compile(rec.Schema(), []Column{
		{Name: "id", Type: ch(t, "Int32"), From: "ID"},
		{Name: "amount", Type: ch(t, "Decimal(38, 4)"), From: "AMOUNT", Default: str("0")},
		{Name: "email", Type: ch(t, "String"), Expr: "lower(trim(EMAIL ?? ''))"},
		{Name: "plan", Type: ch(t, "LowCardinality(String)"), Expr: "nil", Default: &free},
		{Name: "doubled", Type: ch(t, "Nullable(Float64)"), Expr: "AMOUNT == nil ? nil : AMOUNT * 2"},
		{Name: "ts", Type: ch(t, "DateTime('UTC')"), From: "TS", AllowLossy: true},
	}, "ID != 2 || EMAIL == nil")
	if err != nil {
		t.Fatal(err)
	}
	out, err := prog.Apply(mem, rec, Where{Stream: "s", Window: "w"})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	want := "1|10.25|a@x.com|free|20.5|2024-01-02T03:04:05Z\n" +
		"2|0||free|(null)|2024-01-02T03:04:05Z\n" +
		"3|7.5|b@y.com|free|15|2024-01-02T03:04:05Z"
	if got := render(out); got != want {
		t.Errorf("Apply:\n%s\nwant\n%s", got, want)
	}
}

func TestApplyErrors(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ts := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	rec := source(mem, []int64{1, 3_000_000_000}, []string{"1.00", ""}, []*string{str("ok"), str("bad\xff")}, []time.Time{ts, ts})
	defer rec.Release()
	where := Where{Stream: "contacts", Window: "[2024-01-01, 2024-01-08)", Row: 100}
	for _, tc := range []struct {
		col  Column
		want string
	}{
		{Column{Name: "id", Type: ch(t, "Int32"), From: "ID"}, "stream contacts, window [2024-01-01, 2024-01-08), column id, row 102: 3000000000 overflows Int32"},
		{Column{Name: "amount", Type: ch(t, "Decimal(38, 2)"), From: "AMOUNT"}, "column amount, row 102: NULL into the non-nullable column type Decimal(38, 2)"},
		{Column{Name: "email", Type: ch(t, "String"), From: "EMAIL"}, "column email, row 102: invalid UTF-8 in a String value"},
		{Column{Name: "small", Type: ch(t, "Decimal(3, 2)"), From: "AMOUNT", Default: str("99.999")}, "column small, row 102: 99.999 has more decimal places than Decimal(3, 2) holds"},
		{Column{Name: "small", Type: ch(t, "Decimal(3, 2)"), From: "AMOUNT", Default: str("99.999"), AllowLossy: true}, "column small, row 102: 100.00 overflows Decimal(3, 2)"},
		{Column{Name: "e", Type: ch(t, "Int64"), Expr: "int(string(ID) + 'x')"}, "column e, row 101: expr:"},
		// Text that is not UTF-8 stops the window when an expression reads it, too.
		{Column{Name: "e", Type: ch(t, "String"), Expr: "lower(EMAIL)"}, "column e, row 102: invalid UTF-8 in a String value"},
	} {
		prog, err := Compile(rec.Schema(), []Column{tc.col}, "")
		if err != nil {
			t.Fatal(err)
		}
		out, err := prog.Apply(mem, rec, where)
		if err == nil {
			out.Release()
			t.Errorf("column %s: no error", tc.col.Name)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("column %s: %v\nwant %q", tc.col.Name, err, tc.want)
		}
	}
}

// TestBooleanIntoUInt8: BOOLEAN becomes 1 and 0 in a UInt8 column, NULLs
// stay NULL in a Nullable one, on the fast path and through a filter;
// with a default, the general path gives the same.
func TestBooleanIntoUInt8(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{{Name: "ID", Type: arrow.PrimitiveTypes.Int64}, {Name: "OK", Type: arrow.FixedWidthTypes.Boolean, Nullable: true}}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 2, 3, 4}, nil)
	b.Field(1).(*array.BooleanBuilder).AppendValues([]bool{true, false, false, true}, []bool{true, true, false, true})
	rec := b.NewRecordBatch()
	defer rec.Release()
	zero := "0"
	for _, tc := range []struct {
		name, filter string
		col          Column
		want         string
	}{
		{"fast", "", Column{Name: "ok", Type: ch(t, "Nullable(UInt8)"), From: "OK"}, "1\n0\n(null)\n1"},
		{"filtered", "ID != 2", Column{Name: "ok", Type: ch(t, "Nullable(UInt8)"), From: "OK"}, "1\n(null)\n1"},
		{"default", "", Column{Name: "ok", Type: ch(t, "UInt8"), From: "OK", Default: &zero}, "1\n0\n0\n1"},
	} {
		prog, err := Compile(rec.Schema(), []Column{tc.col}, tc.filter)
		if err != nil {
			t.Fatal(err)
		}
		out, err := prog.Apply(mem, rec, Where{Stream: "s", Window: "w"})
		if err != nil {
			t.Fatal(err)
		}
		if got := render(out); got != tc.want {
			t.Errorf("%s:\n%s\nwant\n%s", tc.name, got, tc.want)
		}
		out.Release()
	}
}

// TestTextOfDatesAndTimes: a DATE into a String column is its date and a
// TIME its clock, not midnight UTC or a Go duration.
func TestTextOfDatesAndTimes(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{{Name: "D", Type: arrow.FixedWidthTypes.Date32}, {Name: "T", Type: arrow.FixedWidthTypes.Time64ns}}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	b.Field(0).(*array.Date32Builder).Append(arrow.Date32FromTime(time.Date(2024, 1, 3, 0, 0, 0, 0, time.UTC)))
	b.Field(1).(*array.Time64Builder).Append(arrow.Time64((13*3600+4*60+5)*1e9 + 250_000_000))
	rec := b.NewRecordBatch()
	defer rec.Release()
	prog, err := Compile(schema, []Column{{Name: "d", Type: ch(t, "String"), From: "D"}, {Name: "t", Type: ch(t, "String"), From: "T"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	out, err := prog.Apply(mem, rec, Where{})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	if got := render(out); got != "2024-01-03|13:04:05.25" {
		t.Errorf("got %s", got)
	}
}

// TestErrorNamesKey: a value that cannot be written names its row's key
// values beside the row number, from a copied or a computed key column.
func TestErrorNamesKey(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ts := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	rec := source(mem, []int64{7, 3_000_000_000}, []string{"1.00", "2.00"}, []*string{str("a@x"), str("b@x")}, []time.Time{ts, ts})
	defer rec.Release()
	for _, key := range []Column{
		{Name: "id", Type: ch(t, "Int64"), From: "ID", Key: true},
		{Name: "id", Type: ch(t, "Int64"), Expr: "ID", Key: true},
	} {
		cols := []Column{key, {Name: "email", Type: ch(t, "String"), From: "EMAIL", Key: true}, {Name: "small", Type: ch(t, "Int32"), From: "ID"}}
		prog, err := Compile(rec.Schema(), cols, "")
		if err != nil {
			t.Fatal(err)
		}
		_, err = prog.Apply(mem, rec, Where{Stream: "s", Window: "w", Row: 10})
		if want := "stream s, window w, column small, row 12 (key id=3000000000, email=b@x): 3000000000 overflows Int32"; err == nil || err.Error() != want {
			t.Errorf("%+v: %v\nwant %s", key, err, want)
		}
	}
	// A key that cannot be computed shows as "?".
	cols := []Column{{Name: "id", Type: ch(t, "Int64"), Expr: "int(EMAIL)", Key: true, AllowLossy: true}, {Name: "small", Type: ch(t, "Int32"), From: "ID"}}
	prog, err := Compile(rec.Schema(), cols, "")
	if err != nil {
		t.Fatal(err)
	}
	out, err := prog.Apply(mem, rec, Where{Stream: "s", Window: "w"})
	if out != nil {
		out.Release()
	}
	if err == nil || !strings.Contains(err.Error(), "(key id=?)") {
		t.Errorf("uncomputable key: %v", err)
	}
}
