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
	"fmt"
	"math"
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
)

// Kinds are every kind, in a fixed order.
var Kinds = []Kind{NTZ0, NTZ3, NTZ6, NTZ9, LTZ9, TZ9, Date, Time9, Time3, Varchar, Boolean, Float}

// Value is one generated value. Null values have only Kind and Null.
type Value struct {
	Kind    Kind
	Null    bool
	Literal string // SQL that makes it, cast to Kind
	// What the value is, by kind: an instant in UTC (timestamps; dates at
	// midnight UTC), with the offset it was written at (TIMESTAMP_TZ); a
	// time of day; a text; a bool; a float.
	At     time.Time
	Offset int // minutes east of UTC
	Clock  time.Duration
	Text   string
	Bool   bool
	Float  float64
}

// Precision is the fractional-second digits of a time or timestamp kind.
func (k Kind) Precision() int {
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
			{"2105-12-31 23:59:59.999999", -720}, {"2024-06-30 23:59:59", 840}, {"0001-01-01 00:00:00", 0}} {
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
			"\U0010FFFD private", "tab\tnew\nline", "quote ' and \\ backslash", "nul\x00byte", strings.Repeat("x", 1000)} {
			out = append(out, text(s))
		}
	case Boolean:
		out = append(out, Value{Kind: k, Literal: "TRUE", Bool: true}, Value{Kind: k, Literal: "FALSE"})
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
	lit := strconv.FormatFloat(f, 'g', -1, 64) + "::FLOAT"
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
