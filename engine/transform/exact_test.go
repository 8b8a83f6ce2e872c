package transform

import (
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// customers builds a batch shaped like a customer's CRM: 38-digit ids
// and amounts, a NUMBER(38,10) that may be NULL, an id at int64's edge
// and a float.
func customers(t *testing.T, mem memory.Allocator) arrow.RecordBatch {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "CONTACT_ID", Type: &arrow.Decimal128Type{Precision: 38, Scale: 0}},
		{Name: "AMOUNT", Type: &arrow.Decimal128Type{Precision: 38, Scale: 2}},
		{Name: "LTV", Type: &arrow.Decimal128Type{Precision: 38, Scale: 10}, Nullable: true},
		{Name: "ID", Type: arrow.PrimitiveTypes.Int64},
		{Name: "F", Type: arrow.PrimitiveTypes.Float64},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	dec := func(i int, s string) {
		typ := schema.Field(i).Type.(*arrow.Decimal128Type)
		if s == "" {
			b.Field(i).AppendNull()
			return
		}
		d, err := decimal128.FromString(s, typ.Precision, typ.Scale)
		if err != nil {
			t.Fatal(err)
		}
		b.Field(i).(*array.Decimal128Builder).Append(d)
	}
	for _, r := range []struct {
		id, amount, ltv string
		n               int64
		f               float64
	}{
		{"12345678901234567890123456789", "999999999999999999.99", "1234567890123456789012345678.0123456789", math.MaxInt64, 0.1},
		{"99999999999999999999999999999999999999", "12345678901234567.89", "", -42, -2.5},
		{"9223372036854775808", "-0.01", "0.0000000001", math.MinInt64 + 1, 1e300},
	} {
		dec(0, r.id)
		dec(1, r.amount)
		dec(2, r.ltv)
		b.Field(3).(*array.Int64Builder).Append(r.n)
		b.Field(4).(*array.Float64Builder).Append(r.f)
	}
	return b.NewRecordBatch()
}

// TestExactExpressions: expressions over NUMBER keep every digit, on the
// vectorized path and on the VM alike. The values are the ones a
// customer's pull changed when expressions went through float64.
func TestExactExpressions(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	for _, tc := range []struct {
		expr, typ string
		want      []string // per row
	}{
		{"AMOUNT * 100", "Decimal(38, 2)", []string{"99999999999999999999.00", "1234567890123456789.00", "-1.00"}},
		{"CONTACT_ID", "Decimal(38, 0)", []string{"12345678901234567890123456789", "99999999999999999999999999999999999999", "9223372036854775808"}},
		{"string(CONTACT_ID)", "String", []string{"12345678901234567890123456789", "99999999999999999999999999999999999999", "9223372036854775808"}},
		// Past 38 digits: the window stops, naming the row.
		{"CONTACT_ID + 1", "Decimal(38, 0)", []string{"stream , window , column c, row 2: 100000000000000000000000000000000000000 overflows Decimal(38, 0)"}},
		{"CONTACT_ID - 1", "Decimal(38, 0)", []string{"12345678901234567890123456788", "99999999999999999999999999999999999998", "9223372036854775807"}},
		{"LTV ?? 0", "Decimal(38, 10)", []string{"1234567890123456789012345678.0123456789", "0.0000000000", "0.0000000001"}},
		{"ID * 2", "Decimal(38, 0)", []string{"18446744073709551614", "-84", "-18446744073709551614"}},
		{"ID + 1 - 1", "Int64", []string{"9223372036854775807", "-42", "-9223372036854775807"}},
		{"-ID", "Decimal(38, 0)", []string{"-9223372036854775807", "42", "9223372036854775807"}},
		{"round(AMOUNT, 1)", "Decimal(38, 1)", []string{"1000000000000000000.0", "12345678901234567.9", "0.0"}},
		{"round(-AMOUNT)", "Decimal(38, 0)", []string{"-1000000000000000000", "-12345678901234568", "0"}},
		{"floor(AMOUNT)", "Decimal(38, 0)", []string{"999999999999999999", "12345678901234567", "-1"}},
		{"ceil(AMOUNT)", "Decimal(38, 0)", []string{"1000000000000000000", "12345678901234568", "0"}},
		{"abs(-AMOUNT)", "Decimal(38, 2)", []string{"999999999999999999.99", "12345678901234567.89", "0.01"}},
		{"min(AMOUNT, 5)", "Decimal(38, 2)", []string{"5.00", "5.00", "-0.01"}},
		// More decimal places than the column holds: the window stops
		// (allow_lossy rounds instead; see below).
		{"min(AMOUNT, CONTACT_ID)", "Decimal(38, 0)", []string{"stream , window , column c, row 1: 999999999999999999.99 has more decimal places than Decimal(38, 0) holds"}},
		{"max(AMOUNT, CONTACT_ID % 1000000)", "Decimal(38, 2)", []string{"999999999999999999.99", "12345678901234567.89", "775808.00"}},
		{"AMOUNT > 1000 ? AMOUNT : 0", "Decimal(38, 2)", []string{"999999999999999999.99", "12345678901234567.89", "0.00"}},
		{"AMOUNT * 1.1", "Decimal(38, 3)", []string{"1099999999999999999.989", "13580246791358024.679", "-0.011"}},
		{"lossy: AMOUNT / 4", "Decimal(38, 8)", []string{"249999999999999999.99750000", "3086419725308641.97250000", "-0.00250000"}},
		{"AMOUNT == 999999999999999999.99", "UInt8", []string{"1", "0", "0"}},
		{"CONTACT_ID > 9223372036854775807", "UInt8", []string{"1", "1", "1"}},
		{"F * 2", "Float64", []string{"0.2", "-5", "2e+300"}},
		// A negative decimal literal is as exact as a positive one.
		{"ID * -1.1", "Decimal(38, 1)", []string{"-10145709240540253387.7", "46.2", "10145709240540253387.7"}},
		{"lossy: AMOUNT", "Decimal(38, 0)", []string{"1000000000000000000", "12345678901234568", "0"}},
		// What cannot stay exact is refused before a row moves, unless
		// the column allows lossy.
		{"AMOUNT * F", "Float64", []string{"column c: expr: '*' mixes a NUMBER with a FLOAT: the result is a float64, which holds about 15 digits; set allow_lossy: true to accept it"}},
		{"AMOUNT / 3", "Decimal(38, 8)", []string{"column c: expr: a division rounds its quotient to 8 decimal places; set allow_lossy: true to accept it"}},
		{"float(CONTACT_ID)", "Float64", []string{"column c: expr: float() turns a NUMBER into a float64, which holds about 15 digits; set allow_lossy: true to accept it"}},
		{"int(AMOUNT)", "Int64", []string{"column c: expr: int() drops the fraction; set allow_lossy: true to accept it"}},
		{"F * 1.5 + 1", "Float64", []string{"1.15", "-2.75", "1.5e+300"}},
	} {
		for _, vector := range []bool{true, false} {
			rec := customers(t, mem)
			text, lossy := strings.CutPrefix(tc.expr, "lossy: ")
			col := Column{Name: "c", Type: ch(t, "Nullable("+tc.typ+")"), Expr: text, AllowLossy: lossy}
			prog, err := Compile(rec.Schema(), []Column{col}, "")
			var out arrow.RecordBatch
			if err == nil {
				prog.noVector = !vector
				out, err = prog.Apply(mem, rec, Where{})
			}
			rec.Release()
			var got []string
			if err != nil {
				got = []string{err.Error()}
			} else {
				for i := 0; i < int(out.NumRows()); i++ {
					v := out.Column(0).ValueStr(i)
					if d, ok := out.Column(0).(*array.Decimal128); ok {
						v = d.Value(i).ToString(d.DataType().(*arrow.Decimal128Type).Scale)
					}
					if out.Column(0).IsNull(i) {
						v = ""
					}
					got = append(got, v)
				}
				out.Release()
			}
			if strings.Join(got, " | ") != strings.Join(tc.want, " | ") {
				t.Errorf("%s into %s (vector %v):\n got %s\nwant %s", tc.expr, tc.typ, vector, strings.Join(got, " | "), strings.Join(tc.want, " | "))
			}
		}
	}
}
