//go:build chdb

package chdbtest

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/decimal256"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/hockeystack/sluice/engine/clickhouse"
	"github.com/hockeystack/sluice/engine/ddl"
)

// TestNativeBlocksLoad encodes random batches of the types only current
// releases have (Bool, Date32, DateTime64 at 3, 6 and 9 digits,
// LowCardinality(Nullable(String)), Decimal256) with the sink's native
// encoder, loads them into chdb's ClickHouse with FORMAT Native, and
// compares the table with the same rows inserted as SQL literals written
// from the Arrow values, which the server parses itself.
func TestNativeBlocksLoad(t *testing.T) {
	e := open(t)
	names := []string{"id", "ok", "nok", "born", "nborn", "at3", "at6", "at9", "nat6", "label", "d256", "nd256", "d128", "s"}
	types := []string{"Int64", "Bool", "Nullable(Bool)", "Date32", "Nullable(Date32)", "DateTime64(3, 'UTC')", "DateTime64(6, 'UTC')",
		"DateTime64(9, 'UTC')", "Nullable(DateTime64(6, 'UTC'))", "LowCardinality(Nullable(String))", "Decimal(76, 10)",
		"Nullable(Decimal(50, 5))", "Decimal(38, 38)", "LowCardinality(String)"}
	units := map[string]arrow.TimeUnit{"at3": arrow.Millisecond, "at6": arrow.Microsecond, "at9": arrow.Nanosecond, "nat6": arrow.Microsecond}
	fields := []arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "ok", Type: arrow.FixedWidthTypes.Boolean}, {Name: "nok", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "born", Type: arrow.FixedWidthTypes.Date32}, {Name: "nborn", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "at3", Type: &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}},
		{Name: "at6", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}},
		{Name: "at9", Type: &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}},
		{Name: "nat6", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
		{Name: "label", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "d256", Type: &arrow.Decimal256Type{Precision: 76, Scale: 10}},
		{Name: "nd256", Type: &arrow.Decimal256Type{Precision: 50, Scale: 5}, Nullable: true},
		{Name: "d128", Type: &arrow.Decimal128Type{Precision: 38, Scale: 38}},
		{Name: "s", Type: arrow.BinaryTypes.String},
	}
	schema := arrow.NewSchema(fields, nil)
	var defs []string
	for i, n := range names {
		defs = append(defs, n+" "+types[i])
	}
	e.exec("CREATE TABLE modern.native (" + strings.Join(defs, ", ") + ") ENGINE = MergeTree ORDER BY id")
	e.exec("CREATE TABLE modern.literal (" + strings.Join(defs, ", ") + ") ENGINE = MergeTree ORDER BY id")

	r := rand.New(rand.NewPCG(13, 26))
	// Date32 and DateTime64 hold 1900-01-01 to 2299-12-31; nanoseconds
	// in an int64 end in 2262.
	minDay, maxDay := int32(-25567), int32(120529)
	lo, hi := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2299, 12, 31, 23, 59, 59, 999999000, time.UTC)
	nsLo, nsHi := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2262, 4, 11, 23, 47, 16, 854775807, time.UTC)
	randTime := func(lo, hi time.Time, unit arrow.TimeUnit) int64 {
		s := lo.Unix() + r.Int64N(hi.Unix()-lo.Unix())
		switch r.IntN(6) {
		case 0:
			s = lo.Unix()
		case 1:
			s = hi.Unix()
		}
		per := int64(time.Second / unit.Multiplier())
		v := s*per + r.Int64N(per)
		if s == hi.Unix() {
			v = s*per + int64(hi.Nanosecond())/int64(unit.Multiplier())
		}
		return v
	}
	randDecimal := func(p int) *big.Int {
		digits := make([]byte, 1+r.IntN(p))
		for i := range digits {
			digits[i] = byte('0' + r.IntN(10))
		}
		if r.IntN(5) == 0 {
			digits = []byte(strings.Repeat("9", p))
		}
		v, _ := new(big.Int).SetString(string(digits), 10)
		if r.IntN(2) == 0 {
			v.Neg(v)
		}
		return v
	}
	id := int64(0)
	for batch := 0; batch < 4; batch++ {
		rows := 1 + r.IntN(3000)
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		var lits []string
		for range rows {
			var lit []string
			null := func(i int) bool {
				if fields[i].Nullable && r.IntN(7) == 0 {
					b.Field(i).AppendNull()
					lit = append(lit, "NULL")
					return true
				}
				return false
			}
			b.Field(0).(*array.Int64Builder).Append(id)
			lit = append(lit, fmt.Sprint(id))
			id++
			for i := 1; i <= 2; i++ {
				if !null(i) {
					v := r.IntN(2) == 0
					b.Field(i).(*array.BooleanBuilder).Append(v)
					lit = append(lit, fmt.Sprint(v))
				}
			}
			for i := 3; i <= 4; i++ {
				if !null(i) {
					d := minDay + r.Int32N(maxDay-minDay+1)
					if r.IntN(8) == 0 {
						d = []int32{minDay, maxDay, 0, -1}[r.IntN(4)]
					}
					b.Field(i).(*array.Date32Builder).Append(arrow.Date32(d))
					lit = append(lit, ddl.QuoteString(time.Unix(int64(d)*86400, 0).UTC().Format(time.DateOnly)))
				}
			}
			for i := 5; i <= 8; i++ {
				if null(i) {
					continue
				}
				unit := units[names[i]]
				var v int64
				if unit == arrow.Nanosecond {
					v = randTime(nsLo, nsHi, unit)
				} else {
					v = randTime(lo, hi, unit)
				}
				b.Field(i).(*array.TimestampBuilder).Append(arrow.Timestamp(v))
				digits := map[arrow.TimeUnit]int{arrow.Millisecond: 3, arrow.Microsecond: 6, arrow.Nanosecond: 9}[unit]
				per := int64(time.Second / unit.Multiplier())
				sec, frac := v/per, v%per
				if frac < 0 {
					sec, frac = sec-1, frac+per
				}
				lit = append(lit, fmt.Sprintf("'%s.%0*d'", time.Unix(sec, 0).UTC().Format(time.DateTime), digits, frac))
			}
			if !null(9) {
				s := []string{"call", "email", "", "ünïcode", "it's", `back\slash`}[r.IntN(6)]
				b.Field(9).(*array.StringBuilder).Append(s)
				lit = append(lit, ddl.QuoteString(s))
			}
			for _, i := range []int{10, 11} {
				if null(i) {
					continue
				}
				dt := fields[i].Type.(*arrow.Decimal256Type)
				v := randDecimal(int(dt.Precision))
				b.Field(i).(*array.Decimal256Builder).Append(decimal256.FromBigInt(v))
				lit = append(lit, ddl.QuoteString(decimalText(v, int(dt.Scale))))
			}
			v := randDecimal(38)
			b.Field(12).(*array.Decimal128Builder).Append(decimal128.FromBigInt(v))
			lit = append(lit, ddl.QuoteString(decimalText(v, 38)))
			s := fmt.Sprintf("kind-%d", r.IntN(400))
			b.Field(13).(*array.StringBuilder).Append(s)
			lit = append(lit, ddl.QuoteString(s))
			lits = append(lits, "("+strings.Join(lit, ", ")+")")
		}
		rec := b.NewRecordBatch()
		b.Release()
		block, err := clickhouse.EncodeNative(rec, names, types)
		rec.Release()
		if err != nil {
			t.Fatal(err)
		}
		var hex strings.Builder
		for _, c := range block {
			fmt.Fprintf(&hex, `\x%02x`, c)
		}
		e.exec("INSERT INTO modern.native SELECT * FROM format(Native, '" + hex.String() + "') SETTINGS max_query_size = 1000000000")
		e.exec("INSERT INTO modern.literal VALUES " + strings.Join(lits, ", "))
	}
	if got := e.query("SELECT count() FROM modern.native"); got != fmt.Sprint(id) {
		t.Fatalf("the Native blocks loaded %s rows, want %d", got, id)
	}
	if got := e.query("SELECT count() FROM modern.native AS n JOIN modern.literal AS l USING id"); got != fmt.Sprint(id) {
		t.Fatalf("%s rows of both tables share an id, want %d", got, id)
	}
	for _, n := range names[1:] {
		q := "SELECT id, n." + n + ", l." + n + " FROM modern.native AS n JOIN modern.literal AS l USING id WHERE NOT isNotDistinctFrom(n." + n + ", l." + n + ") ORDER BY id LIMIT 3"
		if got := e.query(q); got != "" {
			t.Errorf("column %s differs (id, from Native, from literals):\n%s", n, got)
		}
	}
}

// decimalText writes an unscaled value with scale digits after the point.
func decimalText(v *big.Int, scale int) string {
	s := new(big.Int).Abs(v).String()
	if len(s) <= scale {
		s = strings.Repeat("0", scale-len(s)+1) + s
	}
	s = s[:len(s)-scale] + "." + s[len(s)-scale:]
	if v.Sign() < 0 {
		s = "-" + s
	}
	return s
}
