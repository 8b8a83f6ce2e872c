package clickhouse

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/decimal256"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/hockeystack/sluice/engine/clickhouse/clickhousetest"
	"github.com/hockeystack/sluice/engine/ddl"
	"github.com/hockeystack/sluice/engine/sqltype"
)

// nativeTestColumns are the types the native encoder takes on 18.16, each
// plain and Nullable where ClickHouse allows it. arrowUnit overrides the
// Arrow type the values travel as (a DateTime fed microseconds).
var nativeTestColumns = []struct {
	name, typ string
	arrow     arrow.DataType
}{
	{name: "i8", typ: "Int8"}, {name: "i16", typ: "Int16"}, {name: "i32", typ: "Int32"}, {name: "i64", typ: "Int64"},
	{name: "u8", typ: "UInt8"}, {name: "u16", typ: "UInt16"}, {name: "u32", typ: "UInt32"}, {name: "u64", typ: "UInt64"},
	{name: "flag", typ: "UInt8", arrow: arrow.FixedWidthTypes.Boolean},
	{name: "f32", typ: "Float32"}, {name: "f64", typ: "Float64"},
	{name: "d9", typ: "Decimal(9, 2)"}, {name: "d18", typ: "Decimal(18, 4)"}, {name: "d38", typ: "Decimal(38, 10)"},
	{name: "d38s0", typ: "Decimal(38, 0)"},
	{name: "s", typ: "String"}, {name: "lc", typ: "LowCardinality(String)"}, {name: "lcwide", typ: "LowCardinality(String)"},
	{name: "day", typ: "Date"}, {name: "at", typ: "DateTime('UTC')"},
	{name: "atus", typ: "DateTime('UTC')", arrow: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}},
	{name: "ni64", typ: "Nullable(Int64)"}, {name: "nf64", typ: "Nullable(Float64)"}, {name: "nflag", typ: "Nullable(UInt8)", arrow: arrow.FixedWidthTypes.Boolean},
	{name: "nd18", typ: "Nullable(Decimal(18, 2))"}, {name: "nd38", typ: "Nullable(Decimal(38, 6))"},
	{name: "ns", typ: "Nullable(String)"}, {name: "nlc", typ: "LowCardinality(Nullable(String))"},
	{name: "nday", typ: "Nullable(Date)"}, {name: "nat", typ: "Nullable(DateTime('UTC'))"},
}

// randomBatch makes rows rows of cols with ids from id, values drawn from
// r with edges and NULLs mixed in. Each array is cut from a longer one, so
// it starts at an offset into its buffers, as sliced batches do.
func randomBatch(t *testing.T, r *rand.Rand, id int64, rows int, cols []nativeCol) arrow.RecordBatch {
	t.Helper()
	mem := memory.DefaultAllocator
	skip := r.IntN(5)
	fields := []arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}
	ib := array.NewInt64Builder(mem)
	for i := range skip + rows {
		ib.Append(id + int64(i-skip))
	}
	arrays := []arrow.Array{ib.NewArray()}
	ib.Release()
	for _, c := range cols {
		fields = append(fields, arrow.Field{Name: c.name, Type: c.arrow, Nullable: true})
		b := array.NewBuilder(mem, c.arrow)
		for range skip + rows {
			if c.typ.Nullable && r.IntN(8) == 0 {
				b.AppendNull()
				continue
			}
			appendRandom(r, b, c)
		}
		arrays = append(arrays, b.NewArray())
		b.Release()
	}
	for i, a := range arrays {
		arrays[i] = array.NewSlice(a, int64(skip), int64(skip+rows))
		a.Release()
	}
	rec := array.NewRecordBatch(arrow.NewSchema(fields, nil), arrays, int64(rows))
	for _, a := range arrays {
		a.Release()
	}
	return rec
}

type nativeCol struct {
	name  string
	typ   sqltype.Type
	arrow arrow.DataType
}

func pick[T any](r *rand.Rand, edges []T, random func() T) T {
	if r.IntN(6) == 0 {
		return edges[r.IntN(len(edges))]
	}
	return random()
}

var lcWords = []string{"call", "email", "meeting", "", "ünïcode", "a\tb", "x\x00y"}

func appendRandom(r *rand.Rand, b array.Builder, c nativeCol) {
	t := c.typ
	switch b := b.(type) {
	case *array.Int8Builder:
		b.Append(pick(r, []int8{math.MinInt8, math.MaxInt8, 0, -1}, func() int8 { return int8(r.Uint32()) }))
	case *array.Int16Builder:
		b.Append(pick(r, []int16{math.MinInt16, math.MaxInt16, 0, -1}, func() int16 { return int16(r.Uint32()) }))
	case *array.Int32Builder:
		b.Append(pick(r, []int32{math.MinInt32, math.MaxInt32, 0, -1}, func() int32 { return int32(r.Uint32()) }))
	case *array.Int64Builder:
		b.Append(pick(r, []int64{math.MinInt64, math.MaxInt64, 0, -1}, func() int64 { return int64(r.Uint64()) }))
	case *array.Uint8Builder:
		b.Append(pick(r, []uint8{0, math.MaxUint8}, func() uint8 { return uint8(r.Uint32()) }))
	case *array.Uint16Builder:
		b.Append(pick(r, []uint16{0, math.MaxUint16}, func() uint16 { return uint16(r.Uint32()) }))
	case *array.Uint32Builder:
		b.Append(pick(r, []uint32{0, math.MaxUint32}, r.Uint32))
	case *array.Uint64Builder:
		b.Append(pick(r, []uint64{0, math.MaxUint64}, r.Uint64))
	case *array.BooleanBuilder:
		b.Append(r.IntN(2) == 0)
	case *array.Float32Builder:
		b.Append(pick(r, []float32{float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), float32(math.Copysign(0, -1)), math.MaxFloat32, math.SmallestNonzeroFloat32},
			func() float32 { return float32(r.NormFloat64() * 1e6) }))
	case *array.Float64Builder:
		b.Append(pick(r, []float64{math.Inf(1), math.Inf(-1), math.NaN(), math.Copysign(0, -1), math.MaxFloat64, math.SmallestNonzeroFloat64},
			func() float64 { return r.NormFloat64() * 1e12 }))
	case *array.Decimal128Builder:
		b.Append(decimal128.FromBigInt(randomDecimal(r, t.Precision)))
	case *array.Decimal256Builder:
		b.Append(decimal256.FromBigInt(randomDecimal(r, t.Precision)))
	case *array.StringBuilder:
		if t.LowCardinality {
			if c.name == "lcwide" {
				b.Append(fmt.Sprintf("kind-%d", r.IntN(1000))) // more than 255 keys: 16-bit keys
				return
			}
			b.Append(lcWords[r.IntN(len(lcWords))])
			return
		}
		n := pick(r, []int{0, 127, 128, 300}, func() int { return r.IntN(40) })
		if r.IntN(5000) == 0 {
			n = 20000
		}
		s := make([]rune, n)
		for i := range s {
			s[i] = rune(pick(r, []int32{0, '\t', '\n', '\\', 'é', 0x1F600}, func() int32 { return 'a' + r.Int32N(26) }))
		}
		b.Append(string(s))
	case *array.Date32Builder:
		b.Append(arrow.Date32(pick(r, []int32{0, math.MaxUint16}, func() int32 { return r.Int32N(math.MaxUint16 + 1) })))
	case *array.TimestampBuilder:
		perSec := int64(1)
		if b.Type().(*arrow.TimestampType).Unit == arrow.Microsecond {
			perSec = 1_000_000
		}
		v := pick(r, []int64{0, math.MaxUint32*perSec + perSec - 1, perSec - 1}, func() int64 { return r.Int64N(math.MaxUint32 * perSec) })
		b.Append(arrow.Timestamp(v))
	default:
		panic(fmt.Sprintf("no random values for %T", b))
	}
}

// randomDecimal is an unscaled value of up to p digits, the largest and
// smallest included.
func randomDecimal(r *rand.Rand, p int) *big.Int {
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(p)), nil)
	max := new(big.Int).Sub(limit, big.NewInt(1))
	switch r.IntN(8) {
	case 0:
		return max
	case 1:
		return new(big.Int).Neg(max)
	case 2:
		return big.NewInt(0)
	}
	digits := make([]byte, 1+r.IntN(p))
	for i := range digits {
		digits[i] = byte('0' + r.IntN(10))
	}
	v, _ := new(big.Int).SetString(string(digits), 10)
	if r.IntN(2) == 0 {
		v.Neg(v)
	}
	return v
}

func nativeCols(t *testing.T) []nativeCol {
	var cols []nativeCol
	for _, c := range nativeTestColumns {
		typ, err := sqltype.ParseClickHouse(c.typ)
		if err != nil {
			t.Fatal(err)
		}
		a := c.arrow
		if a == nil {
			a = typ.Arrow()
		}
		cols = append(cols, nativeCol{name: c.name, typ: typ, arrow: a})
	}
	return cols
}

// TestNativeMatchesGoValues writes the same random batches (every type
// the native encoder takes on 18.16, NULLs, edges, arrays at offsets,
// several blocks) through the native encoder and through clickhouse-go's
// Go values into two tables of a real server, and compares the tables.
func TestNativeMatchesGoValues(t *testing.T) {
	db := clickhousetest.NewDB(t)
	ctx := context.Background()
	cols := nativeCols(t)
	defs := []string{"id Int64"}
	sinkCols := []sinkColumn{{name: "id", typ: mustType(t, "Int64")}}
	for _, c := range cols {
		defs = append(defs, ddl.QuoteClickHouse(c.name)+" "+c.typ.String())
		sinkCols = append(sinkCols, sinkColumn{name: c.name, typ: c.typ})
	}
	r := rand.New(rand.NewPCG(13, 2026))
	var batches []arrow.RecordBatch
	var id int64
	for id < 230_000 {
		n := 1 + r.IntN(30_000)
		if r.IntN(5) == 0 {
			n = 1 + r.IntN(3)
		}
		batches = append(batches, randomBatch(t, r, id, n, cols))
		id += int64(n)
	}
	defer func() {
		for _, b := range batches {
			b.Release()
		}
	}()
	schema := batches[0].Schema()
	for _, path := range []string{"native", "govalues"} {
		table := db.Name + "." + path
		if err := db.Conn.Exec(ctx, "CREATE TABLE "+table+" ("+strings.Join(defs, ", ")+") ENGINE = MergeTree ORDER BY id"); err != nil {
			t.Fatal(err)
		}
		k := &Sink{conn: db.Conn, cols: sinkCols, GoValues: path == "govalues"}
		rr, err := array.NewRecordReader(schema, batches)
		if err != nil {
			t.Fatal(err)
		}
		n, err := k.insert(ctx, table, rr)
		rr.Release()
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if n != id {
			t.Fatalf("%s: wrote %d rows, want %d", path, n, id)
		}
	}
	// Every value compared as clickhouse-go reads it back (not as the
	// server's text: 18.16 crashes now and then printing Decimal128).
	read := func(table string) []string {
		rows, err := db.Conn.Query(ctx, "SELECT * FROM "+db.Name+"."+table+" ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		types := rows.ColumnTypes()
		dest := make([]any, len(types))
		for i, ct := range types {
			dest[i] = reflect.New(ct.ScanType()).Interface()
		}
		for rows.Next() {
			if err := rows.Scan(dest...); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, d := range dest {
				v := reflect.ValueOf(d).Elem()
				for v.Kind() == reflect.Pointer && !v.IsNil() {
					v = v.Elem()
				}
				if v.Kind() == reflect.Pointer {
					b.WriteString("NULL|")
					continue
				}
				fmt.Fprintf(&b, "%v|", v.Interface())
			}
			out = append(out, b.String())
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	native, goValues := read("native"), read("govalues")
	if len(native) != int(id) || len(goValues) != int(id) {
		t.Fatalf("rows: native %d, Go values %d, want %d", len(native), len(goValues), id)
	}
	bad := 0
	for i := range native {
		if native[i] != goValues[i] {
			if bad++; bad <= 5 {
				t.Errorf("row %d:\nnative    %q\nGo values %q", i, native[i], goValues[i])
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d rows differ", bad, len(native))
	}
}

func mustType(t testing.TB, s string) sqltype.Type {
	t.Helper()
	typ, err := sqltype.ParseClickHouse(s)
	if err != nil {
		t.Fatal(err)
	}
	return typ
}

// TestNativeRefusesWhatItCannotWrite feeds each path a value outside its
// column's storage: a decimal wider than Decimal32 gets clickhouse-go's
// own error from both paths; a Date past 2149 and a DateTime past 2106,
// which clickhouse-go's conversion would wrap into another value, are
// refused by the native path, naming the column and the value.
func TestNativeRefusesWhatItCannotWrite(t *testing.T) {
	db := clickhousetest.NewDB(t)
	ctx := context.Background()
	mem := memory.DefaultAllocator
	cases := []struct {
		typ  string
		arr  func() arrow.Array
		want string // the native path's error; "" for the Go path's
	}{
		{"Decimal(9, 2)", func() arrow.Array {
			b := array.NewDecimal128Builder(mem, &arrow.Decimal128Type{Precision: 9, Scale: 2})
			defer b.Release()
			b.Append(decimal128.FromI64(1))
			b.Append(decimal128.FromI64(math.MaxInt32 + 1))
			return b.NewArray()
		}, ""},
		{"Decimal(9, 2)", func() arrow.Array {
			b := array.NewDecimal128Builder(mem, &arrow.Decimal128Type{Precision: 9, Scale: 2})
			defer b.Release()
			b.Append(decimal128.FromI64(math.MinInt32))
			b.Append(decimal128.FromI64(math.MinInt32 - 1))
			return b.NewArray()
		}, ""},
		{"Decimal(18, 2)", func() arrow.Array {
			b := array.NewDecimal128Builder(mem, &arrow.Decimal128Type{Precision: 18, Scale: 2})
			defer b.Release()
			b.Append(decimal128.FromI64(math.MinInt64))
			b.Append(decimal128.New(0, 1<<63)) // 2^63: the low word alone reads negative
			return b.NewArray()
		}, ""},
		{"Date", func() arrow.Array {
			b := array.NewDate32Builder(mem)
			defer b.Release()
			b.AppendValues([]arrow.Date32{1, math.MaxUint16 + 1}, nil)
			return b.NewArray()
		}, "column v: 2149-06-07 does not fit Date"},
		{"DateTime('UTC')", func() arrow.Array {
			b := array.NewTimestampBuilder(mem, &arrow.TimestampType{Unit: arrow.Second, TimeZone: "UTC"})
			defer b.Release()
			b.AppendValues([]arrow.Timestamp{1, math.MaxUint32 + 1}, nil)
			return b.NewArray()
		}, "column v: 2106-02-07T06:28:16Z does not fit DateTime('UTC')"},
	}
	for i, c := range cases {
		typ := mustType(t, c.typ)
		table := fmt.Sprintf("%s.refuse%d", db.Name, i)
		if err := db.Conn.Exec(ctx, "CREATE TABLE "+table+" (v "+c.typ+") ENGINE = Memory"); err != nil {
			t.Fatal(err)
		}
		a := c.arr()
		rec := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{{Name: "v", Type: a.DataType()}}, nil), []arrow.Array{a}, int64(a.Len()))
		a.Release()
		errs := map[bool]string{}
		for _, goValues := range []bool{false, true} {
			rr, _ := array.NewRecordReader(rec.Schema(), []arrow.RecordBatch{rec})
			k := &Sink{conn: db.Conn, cols: []sinkColumn{{name: "v", typ: typ}}, GoValues: goValues}
			_, err := k.insert(ctx, table, rr)
			rr.Release()
			if err != nil {
				errs[goValues] = err.Error()
			}
			if !goValues {
				var n uint64
				if err := db.Conn.QueryRow(ctx, "SELECT count() FROM "+table).Scan(&n); err != nil || n != 0 {
					t.Errorf("%s: the native path wrote %d rows (%v)", c.typ, n, err)
				}
			}
		}
		rec.Release()
		want := c.want
		if want == "" {
			want = errs[true]
			if want == "" {
				t.Errorf("%s: the Go path took the value", c.typ)
			}
		}
		if errs[false] != want {
			t.Errorf("%s: native path's error %q, want %q", c.typ, errs[false], want)
		}
	}
}

// TestNativeFollowsTheServerType writes into a table whose columns were
// made with another type than the sink's (LowCardinality(String) for
// String): each value arrives as the Go path writes it.
func TestNativeFollowsTheServerType(t *testing.T) {
	db := clickhousetest.NewDB(t)
	ctx := context.Background()
	if err := db.Conn.Exec(ctx, "CREATE TABLE "+db.Name+".t (s LowCardinality(String), n Int64, m Nullable(String)) ENGINE = Memory"); err != nil {
		t.Fatal(err)
	}
	mem := memory.DefaultAllocator
	sb := array.NewStringBuilder(mem)
	sb.AppendValues([]string{"a", "bb", "a"}, nil)
	s := sb.NewArray()
	nb := array.NewInt64Builder(mem)
	nb.AppendValues([]int64{-1, 2, math.MaxInt32}, nil)
	n := nb.NewArray()
	mb := array.NewStringBuilder(mem)
	mb.AppendValues([]string{"x", "", "z"}, []bool{true, false, true})
	m := mb.NewArray()
	rec := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{{Name: "s", Type: s.DataType()}, {Name: "n", Type: n.DataType()}, {Name: "m", Type: m.DataType()}}, nil),
		[]arrow.Array{s, n, m}, 3)
	defer rec.Release()
	rr, _ := array.NewRecordReader(rec.Schema(), []arrow.RecordBatch{rec})
	defer rr.Release()
	k := &Sink{conn: db.Conn, cols: []sinkColumn{{name: "s", typ: mustType(t, "String")}, {name: "n", typ: mustType(t, "Int64")}, {name: "m", typ: mustType(t, "Nullable(String)")}}}
	if _, err := k.insert(ctx, db.Name+".t", rr); err != nil {
		t.Fatal(err)
	}
	var got []string
	rows, err := db.Conn.Query(ctx, "SELECT concat(s, '|', toString(n), '|', ifNull(m, 'NULL')) FROM "+db.Name+".t")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var v string
		rows.Scan(&v)
		got = append(got, v)
	}
	rows.Close()
	if want := "a|-1|x bb|2|NULL a|2147483647|z"; strings.Join(got, " ") != want {
		t.Errorf("got %q, want %q", strings.Join(got, " "), want)
	}
}
