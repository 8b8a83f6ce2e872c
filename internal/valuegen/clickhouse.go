package valuegen

import (
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	mrand "math/rand"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// CHKind is a ClickHouse type a CHValue is of, as ClickHouse spells it.
type CHKind string

// The ClickHouse kinds generated: every type Sluice pushes that 18.16
// holds.
const (
	CHInt8     CHKind = "Int8"
	CHInt16    CHKind = "Int16"
	CHInt32    CHKind = "Int32"
	CHInt64    CHKind = "Int64"
	CHUInt8    CHKind = "UInt8"
	CHUInt16   CHKind = "UInt16"
	CHUInt32   CHKind = "UInt32"
	CHUInt64   CHKind = "UInt64"
	CHFloat32  CHKind = "Float32"
	CHFloat64  CHKind = "Float64"
	CHDec9     CHKind = "Decimal(9, 2)"
	CHDec18    CHKind = "Decimal(18, 4)"
	CHDec38    CHKind = "Decimal(38, 10)"
	CHString   CHKind = "String"
	CHDate     CHKind = "Date"
	CHDateTime CHKind = "DateTime('UTC')"
	CHNullInt  CHKind = "Nullable(Int64)"
	CHNullText CHKind = "Nullable(String)"
	CHLowCard  CHKind = "LowCardinality(String)"
	CHArrInt   CHKind = "Array(Int64)"
	CHArrText  CHKind = "Array(String)"
)

// CHKinds are every ClickHouse kind, in a fixed order.
var CHKinds = []CHKind{CHInt8, CHInt16, CHInt32, CHInt64, CHUInt8, CHUInt16, CHUInt32, CHUInt64, CHFloat32, CHFloat64,
	CHDec9, CHDec18, CHDec38, CHString, CHDate, CHDateTime, CHNullInt, CHNullText, CHLowCard, CHArrInt, CHArrText}

// CHValue is one generated ClickHouse value: the SQL expression that
// makes it and what it is (an integer or a decimal's unscaled digits, a
// float, bytes, a day or an instant).
type CHValue struct {
	Kind    CHKind
	Null    bool
	Literal string
	Num     *big.Int
	Float   float64
	Text    string
	At      time.Time
	Elems   []any // an Array's elements: int64 or string
}

// Scale is a Decimal kind's scale.
func (k CHKind) Scale() int {
	if i := strings.IndexByte(string(k), ','); i >= 0 && strings.HasPrefix(string(k), "Decimal") {
		s, _ := strconv.Atoi(strings.TrimSpace(string(k)[i+1 : len(k)-1]))
		return s
	}
	return 0
}

// intRange is the range of an integer kind (Nullable(Int64) is Int64's).
func (k CHKind) intRange() (lo, hi *big.Int, ok bool) {
	name := strings.TrimSuffix(strings.TrimPrefix(string(k), "Nullable("), ")")
	bits := 0
	fmt.Sscanf(strings.TrimLeft(name, "UInt"), "%d", &bits)
	switch {
	case strings.HasPrefix(name, "UInt"):
		return new(big.Int), new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), uint(bits)), big.NewInt(1)), true
	case strings.HasPrefix(name, "Int"):
		h := new(big.Int).Lsh(big.NewInt(1), uint(bits-1))
		return new(big.Int).Neg(h), h.Sub(h, big.NewInt(1)), true
	case strings.HasPrefix(name, "Decimal"):
		var p int
		fmt.Sscanf(name, "Decimal(%d", &p)
		h := new(big.Int).Sub(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(p)), nil), big.NewInt(1))
		return new(big.Int).Neg(h), h, true
	}
	return nil, nil, false
}

// CHEdges are the values at the edges of k, a NULL among them when k is
// Nullable.
func CHEdges(k CHKind) []CHValue {
	var out []CHValue
	if lo, hi, ok := k.intRange(); ok {
		ns := []*big.Int{lo, hi, big.NewInt(0), big.NewInt(1), new(big.Int).Add(lo, big.NewInt(1)), new(big.Int).Sub(hi, big.NewInt(1))}
		if lo.Sign() < 0 {
			ns = append(ns, big.NewInt(-1))
		}
		// Int64's and 18 digits' edges, where they are inside k.
		for _, s := range []string{"999999999999999999", "-999999999999999999", "1000000000000000000", "-1000000000000000000", "9223372036854775808", "18446744073709551616"} {
			n, _ := new(big.Int).SetString(s, 10)
			if n.Cmp(lo) >= 0 && n.Cmp(hi) <= 0 {
				ns = append(ns, n)
			}
		}
		for _, n := range ns {
			out = append(out, chNumber(k, n))
		}
	}
	switch k {
	case CHFloat32:
		for _, f := range []float32{0, float32(math.Copysign(0, -1)), 1, -1, 0.1, math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32,
			1.1754942e-38, 1 << 24, 1<<24 + 2, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())} {
			out = append(out, chFloat32(f))
		}
	case CHFloat64:
		for _, f := range []float64{0, math.Copysign(0, -1), 1, -1, 0.1, math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64,
			2.2250738585072014e-308, 2.225073858507201e-308, 1 << 53, 1<<53 + 2, math.Inf(1), math.Inf(-1), math.NaN(), 1e21, 123456.789e-300} {
			out = append(out, chFloat64(f))
		}
	case CHString, CHNullText, CHLowCard:
		for _, s := range []string{"", " ", "plain", "ünïcödé", "\U0001F600 emoji", "\U0010FFFD", "e\u0301", "nul\x00byte", "tab\tnew\nline",
			"quote ' \" \\", strings.Repeat("x", 1000), "\xff", "bad \xc3\x28", "\xed\xa0\x80 surrogate", "\xc0\xaf overlong"} {
			out = append(out, chText(k, s))
		}
	case CHDate:
		for _, s := range []string{"1970-01-01", "1970-01-02", "2000-02-29", "2105-12-31", "2106-01-01", "2149-06-06"} {
			t, _ := time.Parse(time.DateOnly, s)
			out = append(out, chDate(t))
		}
	case CHDateTime:
		for _, s := range []int64{0, 1, math.MaxInt32, math.MaxInt32 + 1, 951782400, 4102444799, math.MaxUint32} {
			out = append(out, chDateTime(time.Unix(s, 0).UTC()))
		}
	case CHArrInt:
		for _, e := range [][]any{{}, {int64(0)}, {int64(math.MinInt64), int64(math.MaxInt64), int64(-1)}, {int64(1), int64(1), int64(1)}} {
			out = append(out, chArray(k, e))
		}
	case CHArrText:
		for _, e := range [][]any{{}, {""}, {"a", "ünï", "\U0001F600", "quote \" ' \\", "tab\tnl\n", "nul\x00"}, {"\xff"}} {
			out = append(out, chArray(k, e))
		}
	}
	if strings.HasPrefix(string(k), "Nullable") {
		out = append(out, CHValue{Kind: k, Null: true, Literal: "NULL"})
	}
	return out
}

// CHRandom returns n values of k from rng.
func CHRandom(rng *rand.Rand, k CHKind, n int) []CHValue {
	out := make([]CHValue, 0, n)
	for range n {
		if strings.HasPrefix(string(k), "Nullable") && rng.IntN(5) == 0 {
			out = append(out, CHValue{Kind: k, Null: true, Literal: "NULL"})
			continue
		}
		if lo, hi, ok := k.intRange(); ok {
			span := new(big.Int).Sub(hi, lo)
			span.Add(span, big.NewInt(1))
			src := mrand.New(randSource{rng})
			r := new(big.Int).Rand(src, span)
			r.Add(r, lo)
			if rng.IntN(2) == 0 {
				// Small numbers too, not only ones of the type's width.
				m := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(1+rng.IntN(6))), nil)
				small := new(big.Int).Rand(src, new(big.Int).Add(new(big.Int).Lsh(m, 1), big.NewInt(1)))
				if small.Sub(small, m); small.Cmp(lo) >= 0 && small.Cmp(hi) <= 0 {
					r = small
				}
			}
			out = append(out, chNumber(k, r))
			continue
		}
		switch k {
		case CHFloat32:
			f := math.Float32frombits(rng.Uint32())
			if f != f || math.IsInf(float64(f), 0) {
				f = float32(rng.NormFloat64())
			}
			out = append(out, chFloat32(f))
		case CHFloat64:
			f := math.Float64frombits(rng.Uint64())
			if math.IsNaN(f) || math.IsInf(f, 0) {
				f = rng.NormFloat64()
			}
			out = append(out, chFloat64(f))
		case CHString, CHNullText, CHLowCard:
			if rng.IntN(3) == 0 {
				b := make([]byte, rng.IntN(16))
				for i := range b {
					b[i] = byte(rng.IntN(256))
				}
				out = append(out, chText(k, string(b)))
			} else {
				out = append(out, chText(k, randomText(rng, 12)))
			}
		case CHDate:
			out = append(out, chDate(time.Unix(0, 0).UTC().AddDate(0, 0, rng.IntN(49710))))
		case CHDateTime:
			out = append(out, chDateTime(time.Unix(rng.Int64N(math.MaxUint32+1), 0).UTC()))
		case CHArrInt, CHArrText:
			e := []any{}
			for range rng.IntN(5) {
				if k == CHArrInt {
					e = append(e, int64(rng.Uint64()))
				} else {
					e = append(e, randomText(rng, 6))
				}
			}
			out = append(out, chArray(k, e))
		}
	}
	return out
}

// randSource feeds math/big's Rand from a math/rand/v2 generator.
type randSource struct{ r *rand.Rand }

func (s randSource) Int63() int64 { return s.r.Int64() }
func (s randSource) Seed(int64)   {}

func chNumber(k CHKind, n *big.Int) CHValue {
	name := strings.TrimSuffix(strings.TrimPrefix(string(k), "Nullable("), ")")
	lit := fmt.Sprintf("CAST('%s' AS %s)", n, name)
	if strings.HasPrefix(name, "Decimal") {
		var p int
		fmt.Sscanf(name, "Decimal(%d", &p)
		fn := "toDecimal128"
		switch {
		case p <= 9:
			fn = "toDecimal32"
		case p <= 18:
			fn = "toDecimal64"
		}
		lit = fmt.Sprintf("%s('%s', %d)", fn, DecimalText(n, k.Scale()), k.Scale())
	}
	return CHValue{Kind: k, Literal: lit, Num: n}
}

// chFloat32 and chFloat64 write a float by its bits, so no text parser
// rounds it.
func chFloat32(f float32) CHValue {
	return CHValue{Kind: CHFloat32, Literal: fmt.Sprintf("reinterpretAsFloat32(unhex('%s'))", leHex(uint64(math.Float32bits(f)), 4)), Float: float64(f)}
}

func chFloat64(f float64) CHValue {
	return CHValue{Kind: CHFloat64, Literal: fmt.Sprintf("reinterpretAsFloat64(unhex('%s'))", leHex(math.Float64bits(f), 8)), Float: f}
}

func leHex(bits uint64, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(bits >> (8 * i))
	}
	return hex.EncodeToString(b)
}

func chText(k CHKind, s string) CHValue {
	return CHValue{Kind: k, Literal: "unhex('" + hex.EncodeToString([]byte(s)) + "')", Text: s}
}

func chDate(t time.Time) CHValue {
	return CHValue{Kind: CHDate, Literal: fmt.Sprintf("toDate(toUInt16(%d))", t.Unix()/86400), At: t}
}

func chDateTime(t time.Time) CHValue {
	return CHValue{Kind: CHDateTime, Literal: fmt.Sprintf("toDateTime(toUInt32(%d), 'UTC')", t.Unix()), At: t}
}

func chArray(k CHKind, elems []any) CHValue {
	parts := make([]string, len(elems))
	for i, e := range elems {
		switch e := e.(type) {
		case int64:
			parts[i] = fmt.Sprintf("toInt64('%d')", e)
		case string:
			parts[i] = "unhex('" + hex.EncodeToString([]byte(e)) + "')"
		}
	}
	lit := "[" + strings.Join(parts, ", ") + "]"
	if len(elems) == 0 {
		lit = "emptyArrayInt64()"
		if k == CHArrText {
			lit = "emptyArrayString()"
		}
	}
	return CHValue{Kind: k, Literal: lit, Elems: elems}
}
