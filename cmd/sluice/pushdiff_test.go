//go:build duckdb_arrow

package main

import (
	"context"
	"database/sql"
	"encoding/hex"
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
	"unicode/utf8"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/hockeystack/sluice/engine/clickhouse/clickhousetest"
	"github.com/hockeystack/sluice/engine/snowflake/snowflaketest"
	"github.com/hockeystack/sluice/internal/valuegen"
)

// pushDest is one Snowflake type a ClickHouse kind is pushed into: the
// column's mapping (%s is the source column), how the value is read back
// from Snowflake (read: SQL over V giving text; "float": the FLOAT's
// bits; "time": the timestamp's UTC clock), and what the README's push
// mapping makes of a value, or refused when the run must stop naming
// stream, key and column. planRefused marks a mapping the plan refuses.
type pushDest struct {
	name, mapping, read string
	want                func(v valuegen.CHValue) (want string, refused bool)
	same                func(got, want string) bool
	planRefused         string
	readRefused         string // the error of a type the source cannot read, refused by the plan
}

func pushDests(k valuegen.CHKind) []pushDest {
	text := func(f func(valuegen.CHValue) string) func(valuegen.CHValue) (string, bool) {
		return func(v valuegen.CHValue) (string, bool) {
			if v.Null {
				return "NULL", false
			}
			return f(v), false
		}
	}
	number := func(sfType string, lo, hi *big.Int) pushDest {
		scale := k.Scale()
		return pushDest{name: strings.ToLower(strings.NewReplacer("(", "", ")", "", ",", "_").Replace(sfType)),
			mapping: `{from: %s, type: "` + sfType + `"}`, read: "TO_VARCHAR(V)", same: valuegen.SameDecimal,
			want: func(v valuegen.CHValue) (string, bool) {
				if v.Null {
					return "NULL", false
				}
				if lo != nil && (v.Num.Cmp(lo) < 0 || v.Num.Cmp(hi) > 0) {
					return "", true
				}
				return valuegen.DecimalText(v.Num, scale), false
			}}
	}
	digits := func(n int, scale int) (*big.Int, *big.Int) {
		h := new(big.Int).Sub(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil), big.NewInt(1))
		h.Mul(h, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil))
		h.Add(h, new(big.Int).Sub(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil), big.NewInt(1)))
		return new(big.Int).Neg(h), h
	}
	switch k {
	case valuegen.CHInt8, valuegen.CHUInt8:
		return []pushDest{number("NUMBER(3,0)", nil, nil)}
	case valuegen.CHInt16, valuegen.CHUInt16:
		return []pushDest{number("NUMBER(5,0)", nil, nil)}
	case valuegen.CHInt32, valuegen.CHUInt32:
		return []pushDest{number("NUMBER(10,0)", nil, nil)}
	case valuegen.CHInt64:
		lo, hi := digits(18, 0)
		d := number("NUMBER(19,0)", nil, nil)
		expr := d
		expr.name, expr.mapping = "expr", `{expr: "%s", type: "NUMBER(19,0)"}`
		return []pushDest{d, number("NUMBER(18,0)", lo, hi), expr}
	case valuegen.CHUInt64:
		d := number("NUMBER(20,0)", nil, nil)
		expr := d
		expr.name, expr.mapping = "expr", `{expr: "%s ?? 0", type: "NUMBER(20,0)"}`
		return []pushDest{d, expr}
	case valuegen.CHNullInt:
		d := number("NUMBER(19,0)", nil, nil)
		strict := d
		strict.name, strict.mapping = "not_null", `{from: %s, type: "NUMBER(19,0)", nullable: false}`
		strict.want = func(v valuegen.CHValue) (string, bool) {
			if v.Null {
				return "", true
			}
			return v.Num.String(), false
		}
		return []pushDest{d, strict}
	case valuegen.CHDec9:
		return []pushDest{number("NUMBER(9,2)", nil, nil), number("NUMBER(38,2)", nil, nil)}
	case valuegen.CHDec18:
		lo, hi := digits(6, 4)
		return []pushDest{number("NUMBER(18,4)", nil, nil), number("NUMBER(10,4)", lo, hi)}
	case valuegen.CHDec38:
		d := number("NUMBER(38,10)", nil, nil)
		expr := d
		expr.name, expr.mapping = "expr", `{expr: "%s", type: "NUMBER(38,10)"}`
		return []pushDest{d, expr, {name: "number38_2", mapping: `{from: %s, type: "NUMBER(38,2)"}`, planRefused: "set allow_lossy: true to accept it"}}
	case valuegen.CHFloat32, valuegen.CHFloat64:
		return []pushDest{{name: "float", mapping: "{from: %s, type: FLOAT}", read: "float", want: text(func(v valuegen.CHValue) string { return floatBits(v.Float) })}}
	case valuegen.CHString, valuegen.CHNullText, valuegen.CHLowCard:
		// VARCHAR holds UTF-8 only: other bytes stop the run; BINARY
		// holds them.
		utf := func(limit int) func(v valuegen.CHValue) (string, bool) {
			return func(v valuegen.CHValue) (string, bool) {
				if v.Null {
					return "NULL", false
				}
				if !utf8.ValidString(v.Text) || limit > 0 && utf8.RuneCountInString(v.Text) > limit {
					return "", true
				}
				return v.Text, false
			}
		}
		ds := []pushDest{
			{name: "varchar", mapping: "{from: %s, type: VARCHAR}", read: "V", want: utf(0)},
			// BINARY reads back as hex (Snowflake's BINARY_OUTPUT_FORMAT).
			{name: "binary", mapping: "{from: %s, type: BINARY}", read: "V", want: text(func(v valuegen.CHValue) string { return hex.EncodeToString([]byte(v.Text)) }),
				same: strings.EqualFold},
		}
		if k == valuegen.CHString {
			ds = append(ds, pushDest{name: "varchar10", mapping: "{from: %s, type: VARCHAR(10)}", read: "V", want: utf(10)},
				pushDest{name: "expr", mapping: `{expr: "%s", type: VARCHAR}`, read: "V", want: utf(0)},
				pushDest{name: "lower", mapping: `{expr: "lower(%s)", type: VARCHAR}`, read: "V", want: func(v valuegen.CHValue) (string, bool) {
					if !utf8.ValidString(v.Text) {
						return "", true
					}
					return strings.ToLower(v.Text), false
				}})
		}
		return ds
	case valuegen.CHArrInt, valuegen.CHArrText:
		// Arrays are not pushed yet: the plan refuses the query, naming
		// its file and the column, before a row moves (README: Pushes).
		return []pushDest{
			{name: "array", mapping: "{from: %s, type: ARRAY}", readRefused: "column v: reading " + string(k) + " values is not supported"},
			{name: "variant", mapping: "{from: %s, type: VARIANT}", readRefused: "column v: reading " + string(k) + " values is not supported"},
		}
	case valuegen.CHDate:
		return []pushDest{{name: "date", mapping: "{from: %s, type: DATE}", read: "time", want: text(func(v valuegen.CHValue) string { return v.At.Format(time.DateTime) })}}
	case valuegen.CHDateTime:
		at := text(func(v valuegen.CHValue) string { return v.At.Format(time.DateTime) })
		return []pushDest{
			{name: "ntz", mapping: "{from: %s, type: TIMESTAMP_NTZ(0)}", read: "time", want: at},
			{name: "tz", mapping: "{from: %s, type: TIMESTAMP_TZ(0)}", read: "time", want: at},
		}
	}
	return nil
}

func floatBits(f float64) string {
	if math.IsNaN(f) {
		return "NaN"
	}
	return strconv.FormatUint(math.Float64bits(f), 10)
}

// TestPushDifferential pushes ClickHouse values at every edge of each
// type Sluice pushes, and random ones from a fixed seed, from the real
// clickhouse-server (18.16) through `sluice run` into snowsim, in append
// and replace mode, through each Snowflake type the README's push mapping
// allows, copied and through expressions; reads them back from snowsim
// and holds each to what the mapping says, computed here: equal, or the
// run stops naming stream, key and column, or the plan refuses the
// mapping. $SLUICE_DIFF_SEED and $SLUICE_DIFF_ROWS (random values per
// type; 30 by default) make it longer: `make differential`.
func TestPushDifferential(t *testing.T) {
	seed, rows := uint64(11), 30
	if s := os.Getenv("SLUICE_DIFF_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	if s := os.Getenv("SLUICE_DIFF_ROWS"); s != "" {
		rows, _ = strconv.Atoi(s)
	}
	rng := rand.New(rand.NewPCG(seed, 2027))
	sf := snowflaketest.Start(t, snowflaketest.Options{Users: []snowflaketest.User{{Name: "SLUICE", Password: "sluice"}}})
	ch := clickhousetest.NewPrivateDB(t, "pushdiff")
	ctx := clickhouse.Context(context.Background(), clickhouse.WithSettings(clickhouse.Settings{"allow_experimental_low_cardinality_type": 1}))
	dir := t.TempDir()
	t.Setenv("SF_PASSWORD", "sluice")
	if err := sf.Exec(ctx, "CREATE DATABASE ACME; CREATE SCHEMA ACME.CRM"); err != nil {
		t.Fatal(err)
	}
	cfg := sf.Config("SLUICE", "sluice")
	cfg.Database, cfg.Schema = "ACME", "CRM"
	db := snowflaketest.Open(cfg)
	defer db.Close()

	// Every row's cursor is in one day, yesterday: an append run has two
	// windows, the first holding every row.
	day := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -1)
	values := map[valuegen.CHKind][]valuegen.CHValue{}
	cols := []string{"k UInt32", "at DateTime('UTC')"}
	n := 0
	for i, k := range valuegen.CHKinds {
		v := append(valuegen.CHEdges(k), valuegen.CHRandom(rng, k, rows)...)
		values[k] = v
		n = max(n, len(v))
		cols = append(cols, fmt.Sprintf("c%d %s", i, k))
	}
	if err := ch.Conn.Exec(ctx, "CREATE TABLE "+ch.Name+".pv ("+strings.Join(cols, ", ")+") ENGINE = MergeTree ORDER BY k"); err != nil {
		t.Fatal(err)
	}
	for r := 0; r < n; r += 100 {
		var tuples []string
		for j := r; j < min(r+100, n); j++ {
			cells := []string{strconv.Itoa(j + 1), fmt.Sprintf("toDateTime(%d, 'UTC')", day.Unix()+3600)}
			for _, k := range valuegen.CHKinds {
				v := values[k][0] // a filler no stream reads
				if j < len(values[k]) {
					v = values[k][j]
				}
				cells = append(cells, v.Literal)
			}
			tuples = append(tuples, "SELECT "+strings.Join(cells, ", "))
		}
		if err := ch.Conn.Exec(ctx, "INSERT INTO "+ch.Name+".pv "+strings.Join(tuples, " UNION ALL ")); err != nil {
			t.Fatal(err)
		}
	}
	checkCHSource(t, ctx, ch, values)

	writeFiles(t, dir, map[string]string{"connections.yaml": fmt.Sprintf(`version: 1
connections:
  sf: {kind: snowflake, access: read_write, account: SNOWSIM, host: 127.0.0.1, port: %d, protocol: http, user: SLUICE,
       database: ACME, schema: CRM, auth: {method: password, password: {env: SF_PASSWORD}}}
  ch: {kind: clickhouse, access: read_only, host: %s, database: %s, auth: {method: none}}
`, sf.Port, ch.Addr, ch.Name)})
	stream := func(name, mapping, mode, where string) (string, string) {
		inc, cursor := "incremental: false", ""
		sqlText := "SELECT k, %s AS v FROM pv WHERE " + where
		if mode == "append" {
			inc = fmt.Sprintf("incremental: {cursor: at, start: %s, window: 1d}", day.Format(time.DateOnly))
			cursor = "      AT: {from: at, type: TIMESTAMP_NTZ(0), nullable: false}\n"
			sqlText = "SELECT k, at, %s AS v FROM pv WHERE at >= :window_start AND at < :window_end AND " + where
		}
		return fmt.Sprintf("  %s:\n    source: {connection: ch, query: %s.sql, %s}\n    columns:\n      K: {from: k, type: \"NUMBER(10,0)\", nullable: false}\n%s      V: %s\n    destination: {connection: sf, table: ACME.CRM.%s, mode: %s, key: [K], create: true}\n",
			name, name, inc, cursor, fmt.Sprintf(mapping, "v"), strings.ToUpper(name), mode), sqlText
	}
	type check struct {
		stream, read string
		want         map[int]string
		same         func(got, want string) bool
		kind         valuegen.CHKind
	}
	type refusal struct {
		stream, mode, mapping, src string
		key                        int
		value                      valuegen.CHValue
	}
	var pipeline strings.Builder
	files := map[string]string{}
	var checks []check
	var refusals []refusal
	equal, refused, planRefused, readRefused := 0, 0, 0, 0
	for i, k := range valuegen.CHKinds {
		src := fmt.Sprintf("c%d", i)
		for _, d := range pushDests(k) {
			for _, mode := range []string{"replace", "append"} {
				name := fmt.Sprintf("p%d_%s_%s", i, d.name, mode)
				if d.planRefused != "" || d.readRefused != "" {
					pdir := filepath.Join(dir, "plan_"+name)
					body, q := stream(name, d.mapping, mode, "1")
					writeFiles(t, pdir, map[string]string{"pipeline.yaml": "version: 1\nname: refuse\nstreams:\n" + body, name + ".sql": fmt.Sprintf(q, src)})
					_, errOut, code := sluice(t, "run", "--connections", filepath.Join(dir, "connections.yaml"), "--state", filepath.Join(pdir, "state.db"), pdir)
					if d.readRefused != "" {
						if code == 0 || !strings.Contains(errOut, d.readRefused) || !strings.Contains(errOut, name+".sql on ch") {
							t.Errorf("%s (%s): exit %d, want the plan to refuse the query (%q)\n%s", name, k, code, d.readRefused, errOut)
						}
						readRefused += len(values[k])
						continue
					}
					if code == 0 || !strings.Contains(errOut, d.planRefused) || !strings.Contains(errOut, "column V") {
						t.Errorf("%s (%s): exit %d, want the plan to refuse it (%q)\n%s", name, k, code, d.planRefused, errOut)
					}
					planRefused += len(values[k])
					continue
				}
				c := check{stream: name, read: d.read, want: map[int]string{}, same: d.same, kind: k}
				var keys []string
				for j, v := range values[k] {
					want, bad := d.want(v)
					if bad {
						refusals = append(refusals, refusal{stream: name, mode: mode, mapping: d.mapping, src: src, key: j + 1, value: v})
						continue
					}
					c.want[j+1] = want
					keys = append(keys, strconv.Itoa(j+1))
				}
				checks = append(checks, c)
				body, q := stream(name, d.mapping, mode, "k IN ("+strings.Join(keys, ", ")+")")
				pipeline.WriteString(body)
				files["p/"+name+".sql"] = fmt.Sprintf(q, src)
			}
		}
	}
	files["p/pipeline.yaml"] = "version: 1\nname: pushdiff\nstreams:\n" + pipeline.String()
	writeFiles(t, dir, files)
	if out, errOut, code := sluice(t, "run", "--connections", filepath.Join(dir, "connections.yaml"), "--state", filepath.Join(dir, "state.db"), filepath.Join(dir, "p")); code != 0 {
		t.Fatalf("run: exit %d\n%s%s", code, out, errOut)
	}
	for _, c := range checks {
		read := c.read
		if read == "float" || read == "time" {
			read = "V"
		}
		res, err := db.Query(fmt.Sprintf("SELECT K, %s FROM ACME.CRM.%s ORDER BY K", read, strings.ToUpper(c.stream)))
		if err != nil {
			t.Fatalf("%s: %v", c.stream, err)
		}
		seen := 0
		for res.Next() {
			var k int
			var got string
			switch c.read {
			case "float":
				var f sql.NullFloat64
				if err := res.Scan(&k, &f); err != nil {
					t.Fatal(err)
				}
				got = "NULL"
				if f.Valid {
					got = floatBits(f.Float64)
				}
			case "time":
				var tm sql.NullTime
				if err := res.Scan(&k, &tm); err != nil {
					t.Fatal(err)
				}
				got = "NULL"
				if tm.Valid {
					got = tm.Time.UTC().Format(time.DateTime)
				}
			default:
				var s sql.NullString
				if err := res.Scan(&k, &s); err != nil {
					t.Fatal(err)
				}
				got = "NULL"
				if s.Valid {
					got = s.String
				}
			}
			seen++
			want, ok := c.want[k]
			if !ok {
				t.Errorf("%s: key %d arrived and was not sent", c.stream, k)
				continue
			}
			if got != want && (c.same == nil || !c.same(got, want)) {
				t.Errorf("%s: key %d (%s %s): got %q, want %q", c.stream, k, c.kind, values[c.kind][k-1].Literal, got, want)
			} else {
				equal++
			}
		}
		if err := res.Err(); err != nil {
			t.Fatal(err)
		}
		res.Close()
		if seen != len(c.want) {
			t.Errorf("%s: %d rows arrived, want %d", c.stream, seen, len(c.want))
		}
	}

	// Each refused value alone: the run stops naming stream, key and
	// column, and the table holds nothing of it. perDest of each stream
	// (2 by default; every one with $SLUICE_DIFF_REFUSALS=all).
	perDest := 2
	if os.Getenv("SLUICE_DIFF_REFUSALS") == "all" {
		perDest = len(refusals)
	}
	sort.SliceStable(refusals, func(i, j int) bool { return refusals[i].stream < refusals[j].stream })
	notRun := 0
	for i, r := range refusals {
		if i >= perDest && refusals[i-perDest].stream == r.stream {
			notRun++
			continue
		}
		rdir := filepath.Join(dir, fmt.Sprintf("refuse%d", i))
		body, q := stream(r.stream, r.mapping, r.mode, fmt.Sprintf("k = %d", r.key))
		writeFiles(t, rdir, map[string]string{"pipeline.yaml": "version: 1\nname: refuse\nstreams:\n" + body, r.stream + ".sql": fmt.Sprintf(q, r.src)})
		before := db.QueryRow(fmt.Sprintf("SELECT COUNT(*) FROM ACME.CRM.%s WHERE K = %d", strings.ToUpper(r.stream), r.key))
		var had int
		before.Scan(&had)
		_, errOut, code := sluice(t, "run", "--connections", filepath.Join(dir, "connections.yaml"), "--state", filepath.Join(rdir, "state.db"), rdir)
		if code == 0 || !strings.Contains(errOut, "stream "+r.stream) || !strings.Contains(errOut, fmt.Sprintf("key K=%d", r.key)) || !strings.Contains(errOut, "column V") {
			t.Errorf("%s: key %d (%s): exit %d, want an error naming stream, key and column\n%s", r.stream, r.key, r.value.Literal, code, errOut)
			continue
		}
		var arrived int
		if err := db.QueryRow(fmt.Sprintf("SELECT COUNT(*) FROM ACME.CRM.%s WHERE K = %d", strings.ToUpper(r.stream), r.key)).Scan(&arrived); err == nil && arrived != had {
			t.Errorf("%s: key %d arrived though the run failed", r.stream, r.key)
		}
		refused++
	}
	total := 0
	for _, k := range valuegen.CHKinds {
		total += len(values[k])
	}
	t.Logf("push differential (seed %d): %d values of %d ClickHouse types; %d value×destination×mode cases checked: %d equal, %d refused at the row (naming stream, key and column), %d refused by the plan, %d refused by the plan as unreadable (Array: naming the query and column); %d more refusals expected and not run one by one",
		seed, total, len(valuegen.CHKinds), equal+refused+planRefused+readRefused, equal, refused, planRefused, readRefused, notRun)
}

// checkCHSource holds the ClickHouse table to what the generator meant,
// so a difference later is Sluice's: floats by their bits, the rest by
// ClickHouse's text (decimals not: 18.16's toString garbles some).
func checkCHSource(t *testing.T, ctx context.Context, ch *clickhousetest.DB, values map[valuegen.CHKind][]valuegen.CHValue) {
	t.Helper()
	for i, k := range valuegen.CHKinds {
		var expr string
		switch k {
		case valuegen.CHFloat32, valuegen.CHFloat64:
			// Its bytes, little-endian, trailing zero bytes dropped
			// (18.16 reinterprets no float as an integer).
			expr = fmt.Sprintf("hex(reinterpretAsString(c%d))", i)
		case valuegen.CHDate, valuegen.CHDateTime:
			expr = fmt.Sprintf("toString(toUInt32(c%d))", i)
		case valuegen.CHDec9, valuegen.CHDec18, valuegen.CHDec38, valuegen.CHArrInt, valuegen.CHArrText:
			continue
		default:
			expr = fmt.Sprintf("toString(c%d)", i)
		}
		res, err := ch.Conn.Query(ctx, fmt.Sprintf("SELECT k, %s FROM %s.pv ORDER BY k LIMIT %d", expr, ch.Name, len(values[k])))
		if err != nil {
			t.Fatal(err)
		}
		for res.Next() {
			var key uint32
			var got *string
			if err := res.Scan(&key, &got); err != nil {
				t.Fatal(err)
			}
			v := values[k][key-1]
			var want string
			switch {
			case v.Null:
				if got != nil {
					t.Fatalf("generator: c%d key %d: ClickHouse holds %q, want NULL", i, key, *got)
				}
				continue
			case k == valuegen.CHFloat32:
				want = leHex(uint64(math.Float32bits(float32(v.Float))), 4)
			case k == valuegen.CHFloat64:
				want = leHex(math.Float64bits(v.Float), 8)
			case k == valuegen.CHDate:
				want = strconv.FormatInt(v.At.Unix()/86400, 10)
			case k == valuegen.CHDateTime:
				want = strconv.FormatInt(v.At.Unix(), 10)
			case v.Num != nil:
				want = v.Num.String()
			default:
				want = v.Text
			}
			if got == nil || *got != want {
				t.Fatalf("generator: c%d (%s) key %d: ClickHouse holds %v, want %q (%s)", i, k, key, got, want, v.Literal)
			}
		}
		res.Close()
	}
}

// leHex is bits as n little-endian bytes in upper-case hex, trailing
// zero bytes dropped, as ClickHouse's hex(reinterpretAsString(x)) shows.
func leHex(bits uint64, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%02X", byte(bits>>(8*i)))
	}
	s := b.String()
	for strings.HasSuffix(s, "00") {
		s = s[:len(s)-2]
	}
	return s
}
