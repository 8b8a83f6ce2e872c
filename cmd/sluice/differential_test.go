//go:build duckdb_arrow

package main

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hockeystack/sluice/engine/clickhouse/clickhousetest"
	"github.com/hockeystack/sluice/engine/snowflake/snowflaketest"
	"github.com/hockeystack/sluice/internal/valuegen"
	"github.com/shopspring/decimal"
)

// diffDest is one destination a kind of value is pulled into: the
// column's mapping (%s is the source column) and what the README's
// mapping makes of a value, as ClickHouse's toString shows it (the
// ClickHouse side reads Float64 columns as their bits), or refused when
// the value must stop the window with an error naming stream, key and
// column. planRefused marks a mapping plan refuses for every value.
type diffDest struct {
	name, typ, mapping string
	want               func(v valuegen.Value) (want string, refused bool)
	planRefused        string // a part of plan's error, when plan refuses the mapping
	// same compares what arrived with want; nil is byte equality.
	same func(got, want string) bool
}

// The ranges the 18.16 server stores (README: Type mapping).
var (
	oldEarliest = time.Unix(0, 0).UTC()
	oldLatest   = time.Date(2105, 12, 31, 23, 59, 59, 0, time.UTC)
	oldLastDay  = time.Date(2105, 12, 31, 0, 0, 0, 0, time.UTC)
)

// floorSecond is the instant's second, rounded down (before 1970 too).
func floorSecond(t time.Time) time.Time { return time.Unix(t.Unix(), 0).UTC() }

// nanoRange is what int64 nanoseconds hold: a TIMESTAMP_*(7..9) outside
// is refused when read (README).
var nanoRange = [2]time.Time{time.Unix(0, math.MinInt64).UTC(), time.Unix(0, math.MaxInt64).UTC()}

// readRefused is the want of a value the source refuses to read.
const readRefused = "(refused when read)"

func diffDests(k valuegen.Kind) []diffDest {
	ds := kindDests(k)
	if k.Precision() > 6 && strings.HasPrefix(string(k), "TIMESTAMP") {
		for i := range ds {
			if ds[i].want == nil {
				continue
			}
			want := ds[i].want
			ds[i].want = func(v valuegen.Value) (string, bool) {
				if !v.Null && (v.At.Before(nanoRange[0]) || v.At.After(nanoRange[1])) {
					return readRefused, true
				}
				return want(v)
			}
		}
	}
	return ds
}

func kindDests(k valuegen.Kind) []diffDest {
	null := func(v valuegen.Value) bool { return v.Null }
	text := func(f func(valuegen.Value) string) func(valuegen.Value) (string, bool) {
		return func(v valuegen.Value) (string, bool) {
			if null(v) {
				return `\N`, false
			}
			return f(v), false
		}
	}
	switch k {
	case valuegen.NTZ0, valuegen.NTZ3, valuegen.NTZ6, valuegen.NTZ9, valuegen.LTZ9, valuegen.TZ9:
		dateTime := func(v valuegen.Value) (string, bool) {
			if null(v) {
				return `\N`, false
			}
			s := floorSecond(v.At)
			if s.Before(oldEarliest) || s.After(oldLatest) {
				return "", true
			}
			return s.Format(time.DateTime), false
		}
		ds := []diffDest{
			{name: "text", typ: "Nullable(String)", mapping: "{from: %s, type: Nullable(String)}", want: text(func(v valuegen.Value) string { return valuegen.UTCText(v.At) })},
			{name: "string_expr", typ: "Nullable(String)", mapping: `{expr: "string(%s)", type: Nullable(String)}`, want: text(func(v valuegen.Value) string { return valuegen.UTCText(v.At) })},
			{name: "datetime", typ: "Nullable(DateTime('UTC'))", mapping: `{from: %s, type: "Nullable(DateTime('UTC'))", allow_lossy: true}`, want: dateTime},
			{name: "datetime_expr", typ: "Nullable(DateTime('UTC'))", mapping: `{expr: "%s", type: "Nullable(DateTime('UTC'))", allow_lossy: true}`, want: dateTime},
		}
		if k.Precision() > 0 {
			ds = append(ds, diffDest{name: "datetime64", typ: "Nullable(DateTime64(6, 'UTC'))", mapping: `{from: %s, type: "Nullable(DateTime64(6, 'UTC'))"}`,
				planRefused: "set allow_lossy: true to accept it"})
		}
		return ds
	case valuegen.Date:
		day := func(v valuegen.Value) (string, bool) {
			if null(v) {
				return `\N`, false
			}
			if v.At.Before(oldEarliest) || v.At.After(oldLastDay) {
				return "", true
			}
			return v.At.Format(time.DateOnly), false
		}
		return []diffDest{
			{name: "text", typ: "Nullable(String)", mapping: "{from: %s, type: Nullable(String)}", want: text(func(v valuegen.Value) string { return v.At.Format(time.DateOnly) })},
			{name: "date", typ: "Nullable(Date)", mapping: "{from: %s, type: Nullable(Date)}", want: day},
			{name: "date32", typ: "Nullable(Date)", mapping: "{from: %s, type: Nullable(Date32)}", want: day}, // 18.16 creates Date32 as Date
		}
	case valuegen.Time9, valuegen.Time3:
		return []diffDest{
			{name: "text", typ: "Nullable(String)", mapping: "{from: %s, type: Nullable(String)}", want: text(func(v valuegen.Value) string { return valuegen.ClockText(v.Clock) })},
		}
	case valuegen.Varchar:
		return []diffDest{
			{name: "text", typ: "Nullable(String)", mapping: "{from: %s, type: Nullable(String)}", want: text(func(v valuegen.Value) string { return v.Text })},
			{name: "text_expr", typ: "Nullable(String)", mapping: `{expr: "%s", type: Nullable(String)}`, want: text(func(v valuegen.Value) string { return v.Text })},
			{name: "text_or", typ: "String", mapping: `{expr: "%s ?? 'none'", type: String}`, want: func(v valuegen.Value) (string, bool) {
				if v.Null {
					return "none", false
				}
				return v.Text, false
			}},
		}
	case valuegen.Boolean:
		return []diffDest{
			{name: "uint8", typ: "Nullable(UInt8)", mapping: "{from: %s, type: Nullable(UInt8)}", want: text(func(v valuegen.Value) string {
				if v.Bool {
					return "1"
				}
				return "0"
			})},
			{name: "text", typ: "Nullable(String)", mapping: "{from: %s, type: Nullable(String)}", want: text(func(v valuegen.Value) string { return strconv.FormatBool(v.Bool) })},
		}
	case valuegen.Num0, valuegen.Num6:
		scale := k.Scale()
		dec := func(n *big.Int) string { return valuegen.DecimalText(n, scale) }
		limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(38), nil)
		fits := func(n *big.Int, lo, hi *big.Int) bool { return n.Cmp(lo) >= 0 && n.Cmp(hi) <= 0 }
		decType := fmt.Sprintf("Decimal(38, %d)", scale)
		ds := []diffDest{
			{name: "dec", typ: "Nullable(" + decType + ")", mapping: `{from: %s, type: "Nullable(` + decType + `)"}`, want: text(func(v valuegen.Value) string { return dec(v.Num) }), same: valuegen.SameDecimal},
			{name: "dec_expr", typ: "Nullable(" + decType + ")", mapping: `{expr: "%s", type: "Nullable(` + decType + `)"}`, want: text(func(v valuegen.Value) string { return dec(v.Num) }), same: valuegen.SameDecimal},
			{name: "dec_or", typ: decType, mapping: `{expr: "%s ?? 0", type: "` + decType + `"}`, want: func(v valuegen.Value) (string, bool) {
				if v.Null {
					return dec(new(big.Int)), false
				}
				return dec(v.Num), false
			}, same: valuegen.SameDecimal},
			{name: "dec_plus", typ: "Nullable(" + decType + ")", mapping: `{expr: "%s + 1", type: "Nullable(` + decType + `)"}`, want: func(v valuegen.Value) (string, bool) {
				if v.Null {
					return `\N`, false
				}
				n := new(big.Int).Add(v.Num, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil))
				if new(big.Int).Abs(n).Cmp(limit) >= 0 {
					return "", true // beyond 38 digits: the row stops
				}
				return dec(n), false
			}, same: valuegen.SameDecimal},
			{name: "text", typ: "Nullable(String)", mapping: "{from: %s, type: Nullable(String)}", want: text(func(v valuegen.Value) string { return dec(v.Num) })},
			{name: "string_expr", typ: "Nullable(String)", mapping: `{expr: "string(%s)", type: Nullable(String)}`, want: text(func(v valuegen.Value) string { return dec(v.Num) })},
			{name: "float", typ: "Nullable(Float64)", mapping: "{from: %s, type: Nullable(Float64)}", planRefused: "set allow_lossy: true to accept it"},
		}
		if scale == 0 {
			i64 := [2]*big.Int{big.NewInt(math.MinInt64), big.NewInt(math.MaxInt64)}
			u64 := [2]*big.Int{new(big.Int), new(big.Int).SetUint64(math.MaxUint64)}
			ranged := func(r [2]*big.Int) func(valuegen.Value) (string, bool) {
				return func(v valuegen.Value) (string, bool) {
					if v.Null {
						return `\N`, false
					}
					if !fits(v.Num, r[0], r[1]) {
						return "", true
					}
					return v.Num.String(), false
				}
			}
			ds = append(ds,
				diffDest{name: "int64", typ: "Nullable(Int64)", mapping: "{from: %s, type: Nullable(Int64)}", want: ranged(i64)},
				diffDest{name: "uint64", typ: "Nullable(UInt64)", mapping: "{from: %s, type: Nullable(UInt64)}", want: ranged(u64)},
			)
		} else {
			// Rounded half away from zero to 2 places by round(x, 2);
			// copied, the plan refuses the lost digits.
			ds = append(ds,
				diffDest{name: "round2", typ: "Nullable(Decimal(38, 2))", mapping: `{expr: "round(%s, 2)", type: "Nullable(Decimal(38, 2))"}`, want: text(func(v valuegen.Value) string {
					q, r := new(big.Int).QuoRem(v.Num, big.NewInt(10000), new(big.Int))
					if r.CmpAbs(big.NewInt(5000)) >= 0 {
						q.Add(q, big.NewInt(int64(v.Num.Sign())))
					}
					return valuegen.DecimalText(q, 2)
				}), same: valuegen.SameDecimal},
				diffDest{name: "dec2", typ: "Nullable(Decimal(38, 2))", mapping: `{from: %s, type: "Nullable(Decimal(38, 2))"}`, planRefused: "set allow_lossy: true to accept it"},
				diffDest{name: "dec18", typ: "Nullable(Decimal(18, 6))", mapping: `{from: %s, type: "Nullable(Decimal(18, 6))"}`, want: func(v valuegen.Value) (string, bool) {
					if v.Null {
						return `\N`, false
					}
					lim := new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)
					if new(big.Int).Abs(v.Num).Cmp(lim) >= 0 {
						return "", true
					}
					return dec(v.Num), false
				}, same: valuegen.SameDecimal},
			)
		}
		return ds
	case valuegen.Binary:
		// BINARY into String: its bytes, whatever they are (README).
		return []diffDest{
			{name: "text", typ: "Nullable(String)", mapping: "{from: %s, type: Nullable(String)}", want: text(func(v valuegen.Value) string { return v.Text })},
			{name: "text_expr", typ: "Nullable(String)", mapping: `{expr: "%s", type: Nullable(String)}`, want: text(func(v valuegen.Value) string { return v.Text })},
		}
	case valuegen.Variant, valuegen.Object, valuegen.Array:
		// Compact JSON of the same value; SQL NULL stays NULL, JSON null
		// is the text null.
		doc := text(func(v valuegen.Value) string { return v.Text })
		return []diffDest{
			{name: "text", typ: "Nullable(String)", mapping: "{from: %s, type: Nullable(String)}", want: doc, same: valuegen.SameJSON},
			{name: "text_expr", typ: "Nullable(String)", mapping: `{expr: "%s", type: Nullable(String)}`, want: doc, same: valuegen.SameJSON},
			{name: "string_expr", typ: "Nullable(String)", mapping: `{expr: "string(%s)", type: Nullable(String)}`, want: doc, same: valuegen.SameJSON},
			{name: "text_or", typ: "String", mapping: `{expr: "%s ?? 'none'", type: String}`, want: func(v valuegen.Value) (string, bool) {
				if v.Null {
					return "none", false
				}
				return v.Text, false
			}, same: valuegen.SameJSON},
		}
	case valuegen.Float:
		bits := func(f float64) string {
			if math.IsNaN(f) {
				return "NaN"
			}
			return strconv.FormatUint(math.Float64bits(f), 10)
		}
		return []diffDest{
			{name: "float", typ: "Nullable(Float64)", mapping: "{from: %s, type: Nullable(Float64)}", want: text(func(v valuegen.Value) string { return bits(v.Float) })},
			{name: "float_or", typ: "Float64", mapping: `{expr: "%s ?? 0", type: Float64}`, want: func(v valuegen.Value) (string, bool) {
				if v.Null {
					return bits(0), false
				}
				return bits(v.Float), false
			}},
			{name: "float_times", typ: "Nullable(Float64)", mapping: `{expr: "%s * 1", type: Nullable(Float64)}`, want: text(func(v valuegen.Value) string { return bits(v.Float * 1) })},
			{name: "text", typ: "Nullable(String)", mapping: "{from: %s, type: Nullable(String)}", want: text(func(v valuegen.Value) string { return strconv.FormatFloat(v.Float, 'g', -1, 64) })},
		}
	}
	return nil
}

// TestDifferential pulls values at every edge of each Snowflake type the
// generator knows, and random ones from a fixed seed, from snowsim into
// the real clickhouse-server (18.16) through each destination type the
// mapping allows, copied and through expressions, and holds each value's
// outcome to what the README's mapping says, computed here: equal, or
// refused with an error naming stream, key and column (one run per
// refused value), or the whole mapping refused by the plan. Never a
// changed value. $SLUICE_DIFF_SEED and $SLUICE_DIFF_ROWS (random rows per
// type; 40 by default) make it longer: `make differential`.
func TestDifferential(t *testing.T) {
	seed, rows := uint64(11), 40
	if s := os.Getenv("SLUICE_DIFF_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	if s := os.Getenv("SLUICE_DIFF_ROWS"); s != "" {
		rows, _ = strconv.Atoi(s)
	}
	rng := rand.New(rand.NewPCG(seed, 2026))
	sf := snowflaketest.Start(t, snowflaketest.Options{ChunkRows: 50})
	// A server of its own: with it the package's shared 18.16 server
	// died, silently, in a later test's query (TestExactNumbersEndToEnd
	// after TestCrashRecovery and this one; not understood yet).
	ch := clickhousetest.NewPrivateDB(t, "differential")
	ctx := context.Background()
	dir := t.TempDir()
	t.Setenv("SF_PASSWORD", "sluice")
	if err := sf.Exec(ctx, "CREATE DATABASE D"); err != nil {
		t.Fatal(err)
	}

	values := map[valuegen.Kind][]valuegen.Value{}
	var cols []string
	n := 0
	for i, k := range valuegen.Kinds {
		v := append(valuegen.Edges(k), valuegen.Random(rng, k, rows)...)
		values[k] = v
		n = max(n, len(v))
		cols = append(cols, fmt.Sprintf("C%d %s", i, k))
	}
	if err := sf.Exec(ctx, "CREATE TABLE D.PUBLIC.V (K NUMBER(18,0) NOT NULL, "+strings.Join(cols, ", ")+")"); err != nil {
		t.Fatal(err)
	}
	for r := 0; r < n; r += 100 {
		var tuples []string
		for j := r; j < min(r+100, n); j++ {
			cells := []string{strconv.Itoa(j + 1)}
			for _, k := range valuegen.Kinds {
				lit := "NULL"
				if j < len(values[k]) {
					lit = values[k][j].Literal
				}
				cells = append(cells, lit)
			}
			tuples = append(tuples, "SELECT "+strings.Join(cells, ", "))
		}
		if err := sf.Exec(ctx, "INSERT INTO D.PUBLIC.V "+strings.Join(tuples, " UNION ALL ")); err != nil {
			t.Fatal(err)
		}
	}

	type refusal struct {
		stream, column string
		key            int
		value          valuegen.Value
		atRead         bool
	}
	type check struct {
		stream, column, typ string
		keys                []int
		want                map[int]string
		kind                valuegen.Kind
		same                func(got, want string) bool
	}
	var streams strings.Builder
	var checks []check
	var refusals []refusal
	files := map[string]string{}
	writeFiles(t, dir, map[string]string{"connections.yaml": snowsimConnections(sf.Port, "read_only", "D", "PUBLIC", ch.Addr)})
	equal, refused, planRefused, readRefusals := 0, 0, 0, 0
	for i, k := range valuegen.Kinds {
		src := fmt.Sprintf("C%d", i)
		for _, d := range diffDests(k) {
			name := fmt.Sprintf("c%d_%s", i, d.name)
			if d.planRefused != "" {
				// The plan refuses the mapping for every value: one run.
				body := fmt.Sprintf("version: 1\nname: refuse\nstreams:\n  %s:\n    source: {connection: sf, query: q.sql, incremental: false}\n    columns:\n      k: {type: Int64}\n      v: %s\n    destination: {connection: ch, table: %s.%s, mode: replace, order_by: [k], create: true}\n",
					name, fmt.Sprintf(d.mapping, "V"), ch.Name, name)
				pdir := filepath.Join(dir, "plan_"+name)
				writeFiles(t, pdir, map[string]string{"pipeline.yaml": body, "q.sql": fmt.Sprintf("SELECT K, %s AS V FROM V", src)})
				_, errOut, code := sluice(t, "run", "--connections", filepath.Join(dir, "connections.yaml"), "--state", filepath.Join(pdir, "state.db"), pdir)
				if code == 0 || !strings.Contains(errOut, d.planRefused) || !strings.Contains(errOut, "column v") {
					t.Errorf("%s (%s into %s): exit %d, want the plan to refuse it (%q)\n%s", name, k, d.typ, code, d.planRefused, errOut)
				}
				planRefused += len(values[k])
				continue
			}
			c := check{stream: name, column: name, typ: d.typ, want: map[int]string{}, kind: k, same: d.same}
			for j, v := range values[k] {
				want, bad := d.want(v)
				if bad {
					refusals = append(refusals, refusal{stream: name, column: name, key: j + 1, value: v, atRead: want == readRefused})
					continue
				}
				c.keys = append(c.keys, j+1)
				c.want[j+1] = want
			}
			checks = append(checks, c)
			fmt.Fprintf(&streams, "  %s:\n    source: {connection: sf, query: %s.sql, incremental: false}\n    columns:\n      k: {type: Int64}\n      %s: %s\n    destination: {connection: ch, table: %s.%s, mode: replace, order_by: [k], create: true}\n",
				name, name, name, fmt.Sprintf(d.mapping, src), ch.Name, name)
			keys := make([]string, len(c.keys))
			for j, key := range c.keys {
				keys[j] = strconv.Itoa(key)
			}
			files["p/"+name+".sql"] = fmt.Sprintf("SELECT K, %s FROM V WHERE K IN (%s)", src, strings.Join(keys, ", "))
		}
	}
	files["p/pipeline.yaml"] = "version: 1\nname: differential\nstreams:\n" + streams.String()
	writeFiles(t, dir, files)
	if out, errOut, code := sluice(t, "run", "--connections", filepath.Join(dir, "connections.yaml"), "--state", filepath.Join(dir, "state.db"), filepath.Join(dir, "p")); code != 0 {
		t.Fatalf("run: exit %d\n%s%s", code, out, errOut)
	}
	for _, c := range checks {
		expr := "toString(" + c.column + ")"
		switch {
		case strings.Contains(c.typ, "Decimal"):
			// Read as decimals: 18.16's toString writes garbage for a
			// negative 38-digit Decimal128 (a server bug; the stored
			// value is right).
			expr = c.column
		case strings.Contains(c.typ, "DateTime"):
			// 18.16 writes the epoch's second as 0000-00-00 00:00:00.
			expr = fmt.Sprintf("if(toUnixTimestamp(%s) = 0, '1970-01-01 00:00:00', toString(%[1]s))", c.column)
		case strings.Contains(c.typ, "Date"):
			expr = fmt.Sprintf("if(toUInt16(%s) = 0, '1970-01-01', toString(%[1]s))", c.column)
		case c.kind == valuegen.Float && strings.Contains(c.typ, "Float64"):
			expr = c.column // read as a float64: its bits are compared
		}
		res, err := ch.Conn.Query(ctx, fmt.Sprintf("SELECT k, %s FROM %s.%s ORDER BY k", expr, ch.Name, c.stream))
		if err != nil {
			t.Fatal(err)
		}
		seen := 0
		for res.Next() {
			var k int64
			var got string
			var text *string
			var f *float64
			var dec *decimal.Decimal
			dest := any(&text)
			isDec := strings.Contains(c.typ, "Decimal")
			switch {
			case isDec:
				dest = &dec
			case expr == c.column:
				dest = &f
			}
			if err := res.Scan(&k, dest); err != nil {
				t.Fatal(err)
			}
			switch {
			case isDec && dec == nil:
				got = `\N`
			case isDec:
				got = dec.String()
			case expr == c.column && f == nil, expr != c.column && text == nil:
				got = `\N`
			case expr == c.column && math.IsNaN(*f):
				got = "NaN"
			case expr == c.column:
				got = strconv.FormatUint(math.Float64bits(*f), 10)
			default:
				got = *text
			}
			seen++
			if want := c.want[int(k)]; got != want && (c.same == nil || !c.same(got, want)) {
				t.Errorf("%s: key %d (%s %s): got %q, want %q", c.stream, k, c.kind, values[c.kind][k-1].Literal, got, want)
			} else {
				equal++
			}
		}
		res.Close()
		if seen != len(c.keys) {
			t.Errorf("%s: %d rows arrived, want %d", c.stream, seen, len(c.keys))
		}
	}
	// Each refused value alone: the run stops naming stream, key and
	// column, and nothing arrives.
	// A run stops at its first bad value, so each is a run of its own:
	// perDest of each destination (the edges first; 3 by default, every
	// one with $SLUICE_DIFF_REFUSALS=all). Those not run are not counted.
	perDest := 3
	if os.Getenv("SLUICE_DIFF_REFUSALS") == "all" {
		perDest = len(refusals)
	}
	sort.Slice(refusals, func(i, j int) bool {
		return refusals[i].stream < refusals[j].stream || refusals[i].stream == refusals[j].stream && refusals[i].key < refusals[j].key
	})
	kept, notRun := refusals[:0:0], 0
	for i, r := range refusals {
		if i >= perDest && refusals[i-perDest].stream == r.stream {
			notRun++
			continue
		}
		kept = append(kept, r)
	}
	for i, r := range kept {
		rdir := filepath.Join(dir, fmt.Sprintf("refuse%d", i))
		var mapping string
		for j, k := range valuegen.Kinds {
			if k != r.value.Kind {
				continue
			}
			for _, d := range diffDests(k) {
				if fmt.Sprintf("c%d_%s", j, d.name) == r.stream {
					mapping = fmt.Sprintf(d.mapping, fmt.Sprintf("C%d", j))
				}
			}
		}
		body := fmt.Sprintf("version: 1\nname: refuse\nstreams:\n  %s:\n    source: {connection: sf, query: q.sql, incremental: false}\n    columns:\n      k: {type: Int64}\n      %s: %s\n    destination: {connection: ch, table: %s.r%d, mode: replace, key: [k], order_by: [k], create: true}\n",
			r.stream, r.column, mapping, ch.Name, i)
		src := "C" + strings.TrimPrefix(strings.SplitN(r.stream, "_", 2)[0], "c")
		writeFiles(t, rdir, map[string]string{"pipeline.yaml": body, "q.sql": fmt.Sprintf("SELECT K, %s FROM V WHERE K = %d", src, r.key)})
		_, errOut, code := sluice(t, "run", "--connections", filepath.Join(dir, "connections.yaml"), "--state", filepath.Join(rdir, "state.db"), rdir)
		named := strings.Contains(errOut, "stream "+r.stream) && strings.Contains(errOut, fmt.Sprintf("key k=%d", r.key)) && strings.Contains(errOut, "column "+r.column)
		if r.atRead {
			// The source refuses it before the row is mapped: the error
			// names stream, source column and the value, not the key.
			named = strings.Contains(errOut, "stream "+r.stream) && strings.Contains(errOut, "column "+src) && strings.Contains(errOut, r.value.At.Format(time.RFC3339Nano))
			readRefusals++
		}
		if code == 0 || !named {
			t.Errorf("%s: key %d (%s): exit %d, want an error naming stream, key and column\n%s", r.stream, r.key, r.value.Literal, code, errOut)
			continue
		}
		var rows uint64
		if err := ch.Conn.QueryRow(ctx, fmt.Sprintf("SELECT count() FROM system.tables WHERE database = '%s' AND name = 'r%d'", ch.Name, i)).Scan(&rows); err == nil && rows > 0 {
			var arrived uint64
			ch.Conn.QueryRow(ctx, fmt.Sprintf("SELECT count() FROM %s.r%d", ch.Name, i)).Scan(&arrived)
			if arrived > 0 {
				t.Errorf("%s: key %d: %d rows arrived though the run failed", r.stream, r.key, arrived)
			}
		}
		refused++
	}
	total := 0
	for _, k := range valuegen.Kinds {
		total += len(values[k])
	}
	t.Logf("differential (seed %d): %d values of %d types; %d value×destination cases checked: %d equal, %d refused at the row (%d of them when read, naming stream, column and value; the rest naming stream, key and column), %d refused by the plan; %d more refusals expected and not run one by one",
		seed, total, len(valuegen.Kinds), equal+refused+planRefused, equal, refused, readRefusals, planRefused, notRun)
}
