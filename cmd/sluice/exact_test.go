//go:build duckdb_arrow

package main

import (
	"context"
	"fmt"
	"math/big"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/hockeystack/sluice/engine/clickhouse/clickhousetest"
	"github.com/hockeystack/sluice/engine/snowflake/snowflaketest"
)

// exactColumn is one mapped column of TestExactNumbersEndToEnd: the
// mapping and what it must hold for a row, computed here with big.Rat.
type exactColumn struct {
	name, mapping string
	want          func(a, b, c, d *big.Rat) *big.Rat // nil: NULL
	text          bool                               // compare as the exact text of want at scale
	scale         int
}

// TestExactNumbersEndToEnd pulls NUMBER(38,0), NUMBER(38,2),
// NUMBER(38,10) and NUMBER(18,0) values from snowsim into the real
// clickhouse-server, at their edges (±(10^38-1), int64's and uint64's
// ends, the smallest fraction) and 300 random rows of a fixed seed,
// through identity, ??, string(), unary minus, abs, round and
// arithmetic, copied and computed, and compares every cell with what
// big.Rat arithmetic says the documented mapping gives. Expressions went
// through float64 before; this fails on any digit changed.
func TestExactNumbersEndToEnd(t *testing.T) {
	sf := snowflaketest.Start(t, snowflaketest.Options{ChunkRows: 64})
	// A server of its own: in two of three full runs of make test on
	// 2026-12-02 the package's shared 18.16 server died while this test
	// read a window's digest (toString over Decimal128 edge values), and
	// every later test failed to connect. Not reproduced alone, in the
	// same sequence, or under load; see the stop-12 note.
	ch := clickhousetest.NewPrivateDB(t, "exact")
	ctx := context.Background()
	nines := func(n int) string { return strings.Repeat("9", n) }
	type row struct{ a, b, c, d string } // "" is NULL
	rows := []row{
		{nines(38), nines(36) + ".99", nines(28) + "." + nines(10), nines(18)},
		{"-" + nines(38), "-" + nines(36) + ".99", "-" + nines(28) + "." + nines(10), "-" + nines(18)},
		{"9223372036854775807", "0.01", "0.0000000001", "1"},
		{"-9223372036854775808", "-0.01", "-0.0000000001", "-1"},
		{"9223372036854775808", "92233720368547758.08", "0.5000000000", "0"},
		{"18446744073709551615", "184467440737095516.15", "1.0000000005", "9223372036854775"},
		{"18446744073709551616", "0.00", "0", "-9223372036854775"},
		{"0", "", "", ""},
		{"", "1.05", "-1.15", "42"},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	digits := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteByte(byte('0' + rng.IntN(10)))
		}
		return b.String()
	}
	sign := func() string {
		if rng.IntN(2) == 0 {
			return "-"
		}
		return ""
	}
	for range 300 {
		r := row{
			a: sign() + "1" + digits(rng.IntN(38)),
			b: sign() + "1" + digits(rng.IntN(36)) + "." + digits(2),
			c: sign() + digits(1+rng.IntN(28)) + "." + digits(10),
			d: sign() + "1" + digits(rng.IntN(18)),
		}
		if rng.IntN(10) == 0 {
			r.b = ""
		}
		rows = append(rows, r)
	}
	var values []string
	lit := func(s string) string {
		if s == "" {
			return "NULL"
		}
		return s
	}
	for i, r := range rows {
		values = append(values, fmt.Sprintf("(%d, %s, %s, %s, %s)", i+1, lit(r.a), lit(r.b), lit(r.c), lit(r.d)))
	}
	if err := sf.Exec(ctx, `CREATE DATABASE D; CREATE TABLE D.PUBLIC.V (K NUMBER(18,0) NOT NULL, A NUMBER(38,0), B NUMBER(38,2), C NUMBER(38,10), D NUMBER(18,0));
		INSERT INTO D.PUBLIC.V VALUES `+strings.Join(values, ", ")); err != nil {
		t.Fatal(err)
	}
	neg := func(x *big.Rat) *big.Rat { return new(big.Rat).Neg(x) }
	cols := []exactColumn{
		{name: "a_from", mapping: `{from: A, type: "Nullable(Decimal(38, 0))"}`, want: func(a, b, c, d *big.Rat) *big.Rat { return a }},
		{name: "a_expr", mapping: `{expr: "A", type: "Nullable(Decimal(38, 0))"}`, want: func(a, b, c, d *big.Rat) *big.Rat { return a }},
		{name: "a_text", mapping: `{expr: "string(A)", type: "Nullable(String)"}`, want: func(a, b, c, d *big.Rat) *big.Rat { return a }, text: true},
		{name: "a_or_zero", mapping: `{expr: "A ?? 0", type: "Decimal(38, 0)"}`, want: func(a, b, c, d *big.Rat) *big.Rat {
			if a == nil {
				return new(big.Rat)
			}
			return a
		}},
		{name: "a_neg", mapping: `{expr: "-A", type: "Nullable(Decimal(38, 0))"}`, want: func(a, b, c, d *big.Rat) *big.Rat {
			if a == nil {
				return nil
			}
			return neg(a)
		}},
		{name: "b_times", mapping: `{expr: "B * 1", type: "Nullable(Decimal(38, 2))"}`, want: func(a, b, c, d *big.Rat) *big.Rat { return b }},
		{name: "b_abs", mapping: `{expr: "abs(B)", type: "Nullable(Decimal(38, 2))"}`, want: func(a, b, c, d *big.Rat) *big.Rat {
			if b == nil {
				return nil
			}
			return new(big.Rat).Abs(b)
		}},
		{name: "b_round", mapping: `{expr: "round(B, 1)", type: "Nullable(Decimal(38, 1))"}`, want: func(a, b, c, d *big.Rat) *big.Rat {
			if b == nil {
				return nil
			}
			return roundHalfAway(b, 1)
		}},
		{name: "c_expr", mapping: `{expr: "C", type: "Nullable(Decimal(38, 10))"}`, want: func(a, b, c, d *big.Rat) *big.Rat { return c }},
		{name: "c_text", mapping: `{expr: "string(C)", type: "Nullable(String)"}`, want: func(a, b, c, d *big.Rat) *big.Rat { return c }, text: true, scale: 10},
		{name: "d_cents", mapping: `{expr: "D * 100 + D", type: "Nullable(Decimal(38, 0))"}`, want: func(a, b, c, d *big.Rat) *big.Rat {
			if d == nil {
				return nil
			}
			return new(big.Rat).Mul(d, big.NewRat(101, 1))
		}},
	}
	var mapping strings.Builder
	var selects []string
	for _, c := range cols {
		fmt.Fprintf(&mapping, "      %s: %s\n", c.name, c.mapping)
		selects = append(selects, c.name)
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"connections.yaml": snowsimConnections(sf.Port, "read_only", "D", "PUBLIC", ch.Addr),
		"p/pipeline.yaml":  fmt.Sprintf("version: 1\nname: exact\nstreams:\n  v:\n    source: {connection: sf, query: q.sql, incremental: false}\n    columns:\n      k: {type: Int64}\n%s    destination: {connection: ch, table: %s.v, mode: replace, order_by: [k], create: true}\n", mapping.String(), ch.Name),
		"p/q.sql":          "SELECT K, A, B, C, D FROM V",
	})
	t.Setenv("SF_PASSWORD", "sluice")
	if out, errOut, code := sluice(t, "run", "--connections", filepath.Join(dir, "connections.yaml"), "--state", filepath.Join(dir, "state.db"), filepath.Join(dir, "p")); code != 0 {
		t.Fatalf("run: exit %d\n%s%s", code, out, errOut)
	}
	res, err := ch.Conn.Query(ctx, "SELECT k, "+strings.Join(selects, ", ")+" FROM "+ch.Name+".v ORDER BY k")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	parse := func(s string) *big.Rat {
		if s == "" {
			return nil
		}
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			t.Fatalf("%q is not a number", s)
		}
		return r
	}
	cells, bad := 0, 0
	for res.Next() {
		// Read the values themselves: 18.16's toString garbles Decimal128
		// values of 20 and more digits.
		var k int64
		got := make([]*string, len(cols))
		dest := []any{&k}
		decs := make([]*decimal.Decimal, len(cols))
		for i, c := range cols {
			if c.text {
				dest = append(dest, &got[i])
			} else {
				dest = append(dest, &decs[i])
			}
		}
		if err := res.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		for i, dv := range decs {
			if dv != nil {
				s := dv.String()
				got[i] = &s
			}
		}
		r := rows[k-1]
		a, b, c, d := parse(r.a), parse(r.b), parse(r.c), parse(r.d)
		for i, col := range cols {
			cells++
			want := col.want(a, b, c, d)
			var g string
			if got[i] != nil {
				g = *got[i]
			}
			ok := false
			switch {
			case want == nil:
				ok = got[i] == nil || g == "\\N"
			case col.text:
				ok = g == want.FloatString(col.scale)
			case got[i] != nil:
				ok = parse(g) != nil && parse(g).Cmp(want) == 0
			}
			if !ok {
				bad++
				if bad <= 10 {
					w := "NULL"
					if want != nil {
						w = want.FloatString(max(col.scale, 2))
					}
					t.Errorf("row %d (A=%q B=%q C=%q D=%q) column %s: got %q, want %s", k, r.a, r.b, r.c, r.d, col.name, g, w)
				}
			}
		}
	}
	if cells != len(rows)*len(cols) || bad > 0 {
		t.Errorf("%d of %d cells differ (%d rows, %d columns)", bad, cells, len(rows), len(cols))
	}
	t.Logf("%d cells (%d rows, %d columns) equal to big.Rat's answer", cells, len(rows), len(cols))
}

// roundHalfAway rounds x to places decimal places, half away from zero.
func roundHalfAway(x *big.Rat, places int) *big.Rat {
	scale := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(places)), nil))
	y := new(big.Rat).Mul(x, scale)
	q, m := new(big.Int).QuoRem(y.Num(), y.Denom(), new(big.Int))
	if new(big.Int).Mul(new(big.Int).Abs(m), big.NewInt(2)).Cmp(y.Denom()) >= 0 {
		if y.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return new(big.Rat).Quo(new(big.Rat).SetInt(q), scale)
}
