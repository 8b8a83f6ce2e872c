// Package valuegen generates Snowflake values at the edges of their types,
// and random ones from a seed, for differential tests: each value carries
// the SQL literal that makes it and what it is (an instant, a clock, a
// text, a float), so a test can compute what the documented mapping must
// make of it without calling the code under test.
//
// Values stay within what snowsim stores: TIMESTAMP_NTZ(7..9) and TIME
// hold 1677-09-21 to 2262-04-11 there (DuckDB's nanosecond types), and
// TIMESTAMP_LTZ and _TZ hold microseconds.
package valuegen

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Kind is the Snowflake type a Value is of.
type Kind string

// The kinds generated.
const (
	NTZ0    Kind = "TIMESTAMP_NTZ(0)"
	NTZ3    Kind = "TIMESTAMP_NTZ(3)"
	NTZ6    Kind = "TIMESTAMP_NTZ(6)"
	NTZ9    Kind = "TIMESTAMP_NTZ(9)"
	LTZ9    Kind = "TIMESTAMP_LTZ(9)"
	TZ9     Kind = "TIMESTAMP_TZ(9)"
	Date    Kind = "DATE"
	Time9   Kind = "TIME(9)"
	Time3   Kind = "TIME(3)"
	Varchar Kind = "VARCHAR"
	Boolean Kind = "BOOLEAN"
	Float   Kind = "FLOAT"
	Num0    Kind = "NUMBER(38,0)"
	Num6    Kind = "NUMBER(38,6)"
	Binary  Kind = "BINARY"
	Variant Kind = "VARIANT"
	Object  Kind = "OBJECT"
	Array   Kind = "ARRAY"
)

// Kinds are every kind, in a fixed order.
var Kinds = []Kind{NTZ0, NTZ3, NTZ6, NTZ9, LTZ9, TZ9, Date, Time9, Time3, Varchar, Boolean, Float,
	Num0, Num6, Binary, Variant, Object, Array}

// Value is one generated value. Null values have only Kind and Null.
type Value struct {
	Kind    Kind
	Null    bool
	Literal string // SQL that makes it, cast to Kind
	// What the value is, by kind: an instant in UTC (timestamps; dates at
	// midnight UTC), with the offset it was written at (TIMESTAMP_TZ); a
	// time of day; a text (VARCHAR; BINARY's bytes; VARIANT, OBJECT and
	// ARRAY as compact JSON with sorted keys); a bool; a float; a number
	// (NUMBER(p,s): the integer of its unscaled digits).
	At     time.Time
	Offset int // minutes east of UTC
	Clock  time.Duration
	Text   string
	Bool   bool
	Float  float64
	Num    *big.Int
}

// Scale is the fractional digits of a NUMBER kind.
func (k Kind) Scale() int {
	if i := strings.IndexByte(string(k), ','); i >= 0 && strings.HasPrefix(string(k), "NUMBER") {
		s, _ := strconv.Atoi(string(k)[i+1 : len(k)-1])
		return s
	}
	return 0
}

// Precision is the fractional-second digits of a time or timestamp kind.
func (k Kind) Precision() int {
	if strings.HasPrefix(string(k), "NUMBER") {
		return 38
	}
	if i := strings.IndexByte(string(k), '('); i >= 0 {
		p, _ := strconv.Atoi(string(k)[i+1 : len(k)-1])
		return p
	}
	return 0
}

// Edges are the values at the edges of k, a NULL among them.
func Edges(k Kind) []Value {
	var out []Value
	ts := func(s string) time.Time {
		t, err := time.Parse("2006-01-02 15:04:05.999999999", s)
		if err != nil {
			panic(err)
		}
		return t
	}
	switch k {
	case NTZ0, NTZ3, NTZ6, NTZ9, LTZ9:
		times := []string{"1970-01-01 00:00:00", "1969-12-31 23:59:59.999999999", "1969-07-20 20:17:40.5",
			"2105-12-31 23:59:59.999999999", "2106-01-01 00:00:00", "2106-02-07 06:28:15", "2024-02-29 12:34:56.123456789",
			"1900-01-01 00:00:00", "1678-01-01 00:00:00", "2262-04-11 23:47:16"}
		if k != NTZ9 {
			times = append(times, "0001-01-01 00:00:00", "9999-12-31 23:59:59.999999999", "2299-12-31 23:59:59.999999")
		}
		for _, s := range times {
			out = append(out, timestamp(k, ts(s), 0))
		}
	case TZ9:
		for _, c := range []struct {
			s   string
			off int
		}{{"2024-01-01 05:30:00.123456", 330}, {"1970-01-01 00:59:59", 60}, {"1969-12-31 19:00:00", -300},
			{"2105-12-31 23:59:59.999999", -720}, {"2024-06-30 23:59:59", 840}, {"0001-01-01 00:00:00", 0},
			{"2024-03-10 08:15:00", 345}, {"1970-01-01 00:00:00", -30}, {"1969-12-31 23:59:59.999999", 30}, {"2024-12-31 23:59:59.5", -570},
			{"2024-01-01 00:00:00", 765}, {"1950-06-15 12:00:00", 825}, {"9999-12-31 23:59:59.999999", -840}} {
			out = append(out, timestamp(k, ts(c.s).Add(-time.Duration(c.off)*time.Minute), c.off))
		}
	case Date:
		for _, s := range []string{"0001-01-01", "1899-12-31", "1900-01-01", "1969-12-31", "1970-01-01", "2105-12-31", "2106-01-01", "2149-06-06", "2299-12-31", "9999-12-31"} {
			out = append(out, date(ts(s+" 00:00:00")))
		}
	case Time9, Time3:
		for _, d := range []time.Duration{0, 24*time.Hour - 1, 12*time.Hour + 123456789, time.Nanosecond, time.Millisecond} {
			out = append(out, clock(k, d))
		}
	case Varchar:
		for _, s := range []string{"", " ", "plain", "ünïcödé", "日本語", "\U0001F600 emoji", "\U00010348 gothic", "\U000E0001 tag",
			"\U0010FFFD private", "e\u0301 combining", "Z\u0351\u036b\u0343\u036a\u0302 zalgo", "\uFEFFbom", "\uFFFF nonchar",
			"\U0001F468\u200D\U0001F469\u200D\U0001F467 zwj", "\u202Ertl\u202C", "\U0001D400 math", "tab\tnew\nline", "quote ' and \\ backslash", "nul\x00byte", strings.Repeat("x", 1000)} {
			out = append(out, text(s))
		}
	case Boolean:
		out = append(out, Value{Kind: k, Literal: "TRUE", Bool: true}, Value{Kind: k, Literal: "FALSE"})
	case Num0, Num6:
		nines := new(big.Int).Sub(new(big.Int).Exp(big.NewInt(10), big.NewInt(38), nil), big.NewInt(1))
		i64 := func(d int64) *big.Int { return new(big.Int).Add(big.NewInt(math.MaxInt64), big.NewInt(d)) }
		u64 := new(big.Int).SetUint64(math.MaxUint64)
		for _, n := range []*big.Int{big.NewInt(0), big.NewInt(1), big.NewInt(-1), i64(0), i64(1), new(big.Int).Neg(i64(1)),
			new(big.Int).Neg(i64(2)), u64, new(big.Int).Add(u64, big.NewInt(1)), nines, new(big.Int).Neg(nines),
			bigText("12345678901234567890123456789"), bigText("100000000000000000000"),
			new(big.Int).Exp(big.NewInt(10), big.NewInt(37), nil), big.NewInt(999999), big.NewInt(-5)} {
			out = append(out, number(k, n))
		}
	case Binary:
		for _, s := range []string{"", "\x00", "\xff", "plain", "\xc3\x28", "\xed\xa0\x80", "\xf8\x88\x80\x80\x80", "\xc0\xaf",
			"\xef\xbb\xbf", "ünï", "\x00\x01\x02\x7f\x80\xfe", strings.Repeat("\xab", 1000)} {
			out = append(out, binary(s))
		}
	case Variant, Object, Array:
		var docs []string
		switch k {
		case Variant:
			docs = []string{"null", "true", "false", "0", "-1", "12345678901234567890123456789", "-99999999999999999999999999999999999999",
				"0.1", "-2.5", `""`, `"x  y"`, `"tab\t\"q\" \\ \u0000 nul"`, `"ünïcödé 😀 \ud83d\ude00"`, "[]", "{}", `[null,1,"a",[[]],{}]`,
				`{"a":[1,{"b":"x  y"}],"c":null}`, `{"":"empty key","ключ":"значение","😀":{"日本":[1,2,3]}}`}
		case Object:
			docs = []string{"{}", `{"a":null}`, `{"a":{"b":{"c":{"d":{"e":[1,[2,[3,[4]]]]}}}}}`, `{"big":9223372036854775808,"neg":-9223372036854775809}`,
				`{"k":"line\nbreak","z":"\u001f"}`, `{"\u00e9":1,"e\u0301":2}`}
		case Array:
			docs = []string{"[]", "[null]", `[1,-1,0.5,"s",true,false,null]`, `[[[[[]]]]]`, `[{"a":1},{"a":2}]`, "[\"日本語\",\"\U0010FFFD\"]",
				"[18446744073709551615,18446744073709551616]"}
		}
		for _, d := range docs {
			out = append(out, jsonValue(k, d))
		}
	case Float:
		for _, f := range []float64{0, math.Copysign(0, -1), 1, -1, 0.1, math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64,
			2.2250738585072014e-308, 2.225073858507201e-308, 1 << 53, 1<<53 + 2, math.Inf(1), math.Inf(-1), math.NaN(), 1e21, 123456.789e-300} {
			out = append(out, float(f))
		}
	}
	return append(out, Value{Kind: k, Null: true, Literal: "NULL::" + string(k)})
}

// Random returns n values of k from rng.
func Random(rng *rand.Rand, k Kind, n int) []Value {
	out := make([]Value, 0, n)
	for range n {
		switch k {
		case NTZ0, NTZ3, NTZ6, NTZ9, LTZ9, TZ9:
			// 1900 to 2300, and for the microsecond kinds years 1 to 9999
			// now and then.
			lo, hi := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
			if k != NTZ9 && rng.IntN(8) == 0 {
				lo, hi = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC).Unix()
			}
			at := time.Unix(lo+rng.Int64N(hi-lo), rng.Int64N(1e9)).UTC()
			off := 0
			if k == TZ9 {
				off = rng.IntN(28*60+1) - 14*60
			}
			out = append(out, timestamp(k, at, off))
		case Date:
			lo, hi := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC).Unix()
			if rng.IntN(2) == 0 {
				lo, hi = time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
			}
			out = append(out, date(time.Unix(lo+rng.Int64N(hi-lo), 0).UTC().Truncate(24*time.Hour)))
		case Time9, Time3:
			out = append(out, clock(k, time.Duration(rng.Int64N(int64(24*time.Hour)))))
		case Varchar:
			var b strings.Builder
			for range rng.IntN(12) {
				// Every plane: BMP, supplementary, and the private planes.
				r := rune(rng.IntN(0x110000))
				if r >= 0xD800 && r <= 0xDFFF {
					r = 'x'
				}
				b.WriteRune(r)
			}
			out = append(out, text(b.String()))
		case Boolean:
			b := rng.IntN(2) == 0
			out = append(out, Value{Kind: k, Literal: strings.ToUpper(strconv.FormatBool(b)), Bool: b})
		case Num0, Num6:
			digits := 1 + rng.IntN(38)
			b := make([]byte, digits)
			for i := range b {
				b[i] = byte('0' + rng.IntN(10))
			}
			n := bigText(string(b))
			if rng.IntN(2) == 0 {
				n.Neg(n)
			}
			out = append(out, number(k, n))
		case Binary:
			b := make([]byte, rng.IntN(24))
			for i := range b {
				b[i] = byte(rng.IntN(256))
			}
			out = append(out, binary(string(b)))
		case Variant, Object, Array:
			var v any
			switch k {
			case Object:
				v = randomObject(rng, 3)
			case Array:
				v = randomArray(rng, 3)
			default:
				v = randomJSON(rng, 3)
			}
			out = append(out, jsonValue(k, compactJSON(v)))
		case Float:
			f := math.Float64frombits(rng.Uint64())
			if math.IsNaN(f) || math.IsInf(f, 0) {
				f = rng.NormFloat64()
			}
			out = append(out, float(f))
		}
	}
	return out
}

// timestamp is the instant at (UTC) of kind k, cut to k's precision,
// written at offset minutes.
func timestamp(k Kind, at time.Time, offset int) Value {
	p := k.Precision()
	at = at.Truncate(time.Duration(math.Pow10(9 - p)))
	if k != NTZ9 && k.Precision() > 6 {
		at = at.Truncate(time.Microsecond) // snowsim's LTZ and TZ hold microseconds
	}
	wall := at.Add(time.Duration(offset) * time.Minute).Format("2006-01-02 15:04:05.000000000")
	lit := "'" + wall + "'::" + string(k)
	if k == TZ9 {
		lit = fmt.Sprintf("'%s %s'::%s", wall, offsetText(offset), k)
	}
	return Value{Kind: k, Literal: lit, At: at, Offset: offset}
}

func offsetText(m int) string {
	sign := '+'
	if m < 0 {
		sign, m = '-', -m
	}
	return fmt.Sprintf("%c%02d:%02d", sign, m/60, m%60)
}

func date(at time.Time) Value {
	return Value{Kind: Date, Literal: "'" + at.Format("2006-01-02") + "'::DATE", At: at}
}

func clock(k Kind, d time.Duration) Value {
	d = d.Truncate(time.Duration(math.Pow10(9 - k.Precision())))
	s := time.Unix(0, int64(d)).UTC().Format("15:04:05.000000000")
	return Value{Kind: k, Literal: "'" + s + "'::" + string(k), Clock: d}
}

func text(s string) Value {
	// A Snowflake string literal: quotes doubled, NUL by CHR(0).
	parts := strings.Split(s, "\x00")
	for i, p := range parts {
		parts[i] = "'" + strings.ReplaceAll(strings.ReplaceAll(p, `\`, `\\`), "'", "''") + "'"
	}
	return Value{Kind: Varchar, Literal: strings.Join(parts, " || CHR(0) || "), Text: s}
}

func float(f float64) Value {
	// Quoted: snowsim reads a numeric literal as a DECIMAL and rounds
	// its cast to FLOAT (0.9198940001518507::FLOAT is one ulp off), text
	// it parses exactly.
	lit := "'" + strconv.FormatFloat(f, 'g', -1, 64) + "'::FLOAT"
	switch {
	case math.IsNaN(f):
		lit = "'NaN'::FLOAT"
	case math.IsInf(f, 1):
		lit = "'inf'::FLOAT"
	case math.IsInf(f, -1):
		lit = "'-inf'::FLOAT"
	case f == 0 && math.Signbit(f):
		lit = "'-0'::FLOAT"
	}
	return Value{Kind: Float, Literal: lit, Float: f}
}

func bigText(s string) *big.Int {
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(s)
	}
	return n
}

// number is the NUMBER(38,s) whose unscaled digits are n.
func number(k Kind, n *big.Int) Value {
	return Value{Kind: k, Literal: DecimalText(n, k.Scale()) + "::" + string(k), Num: n}
}

// DecimalText is the unscaled n with scale places: -12.50.
func DecimalText(n *big.Int, scale int) string {
	s := new(big.Int).Abs(n).String()
	if scale > 0 {
		if len(s) <= scale {
			s = strings.Repeat("0", scale-len(s)+1) + s
		}
		s = s[:len(s)-scale] + "." + s[len(s)-scale:]
	}
	if n.Sign() < 0 {
		s = "-" + s
	}
	return s
}

// binary is a BINARY of the bytes of s, written in hex (Snowflake's
// default BINARY_INPUT_FORMAT).
func binary(s string) Value {
	return Value{Kind: Binary, Literal: "'" + strings.ToUpper(hex.EncodeToString([]byte(s))) + "'::BINARY", Text: s}
}

// jsonValue is a VARIANT, OBJECT or ARRAY parsed from doc; its Text is
// doc compacted (doc's keys are sorted, as Snowflake keeps them).
func jsonValue(k Kind, doc string) Value {
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(doc)); err != nil {
		panic(doc + ": " + err.Error())
	}
	lit := "PARSE_JSON(" + text(doc).Literal + ")"
	if k != Variant {
		lit += "::" + string(k)
	}
	return Value{Kind: k, Literal: lit, Text: buf.String()}
}

// compactJSON is v as compact JSON with sorted keys, without HTML
// escaping.
func compactJSON(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

func randomText(rng *rand.Rand, n int) string {
	var b strings.Builder
	for range rng.IntN(n) {
		r := rune(rng.IntN(0x110000))
		if r >= 0xD800 && r <= 0xDFFF {
			r = 'x'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// randomJSON is a JSON value of at most depth levels: scalars of every
// JSON kind (integers up to 38 digits), objects with unicode keys, arrays.
func randomJSON(rng *rand.Rand, depth int) any {
	switch n := rng.IntN(9); {
	case depth > 0 && n == 0:
		return randomObject(rng, depth)
	case depth > 0 && n == 1:
		return randomArray(rng, depth)
	case n == 2:
		return nil
	case n == 3:
		return rng.IntN(2) == 0
	case n == 4:
		digits := make([]byte, 1+rng.IntN(38))
		for i := range digits {
			digits[i] = byte('0' + rng.IntN(10))
		}
		return json.Number(bigText(string(digits)).String())
	case n == 5:
		return json.Number(strconv.FormatInt(rng.Int64N(2000001)-1000000, 10))
	default:
		return randomText(rng, 8)
	}
}

func randomObject(rng *rand.Rand, depth int) map[string]any {
	m := map[string]any{}
	for range rng.IntN(4) {
		m[randomText(rng, 5)] = randomJSON(rng, depth-1)
	}
	return m
}

func randomArray(rng *rand.Rand, depth int) []any {
	a := []any{}
	for range rng.IntN(4) {
		a = append(a, randomJSON(rng, depth-1))
	}
	return a
}
