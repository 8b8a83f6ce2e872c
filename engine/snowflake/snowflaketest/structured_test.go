//go:build duckdb_arrow

package snowflaketest

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	sf "github.com/snowflakedb/gosnowflake/v2"
)

// structuredFormats switches a session to each way Snowflake sends
// structured types: JSON rows, Arrow with JSON text, native Arrow.
var structuredFormats = map[string][]string{
	"JSON": {"ALTER SESSION SET GO_QUERY_RESULT_FORMAT = JSON"},
	"ARROW": {"ALTER SESSION SET GO_QUERY_RESULT_FORMAT = ARROW",
		"ALTER SESSION SET FORCE_ENABLE_STRUCTURED_TYPES_NATIVE_ARROW_FORMAT = false"},
	"NATIVE_ARROW": {"ALTER SESSION SET GO_QUERY_RESULT_FORMAT = ARROW",
		"ALTER SESSION SET FORCE_ENABLE_STRUCTURED_TYPES_NATIVE_ARROW_FORMAT = true"},
}

func forStructuredFormats(t *testing.T, db *sql.DB, f func(t *testing.T)) {
	for _, name := range []string{"JSON", "ARROW", "NATIVE_ARROW"} {
		t.Run(name, func(t *testing.T) {
			for _, q := range append([]string{"ALTER SESSION SET ENABLE_STRUCTURED_TYPES_IN_CLIENT_RESPONSE = true"}, structuredFormats[name]...) {
				if _, err := db.Exec(q); err != nil {
					t.Fatal(q, err)
				}
			}
			f(t)
		})
	}
}

type sample struct {
	S  string
	I  int64
	N  float64
	D  time.Time
	TS time.Time
	B  []byte
	A  []int64
}

func (o *sample) Scan(v any) error {
	st, ok := v.(sf.StructuredObject)
	if !ok {
		return fmt.Errorf("got %T, want a StructuredObject", v)
	}
	var err error
	if o.S, err = st.GetString("s"); err != nil {
		return err
	}
	if o.I, err = st.GetInt64("i"); err != nil {
		return err
	}
	if o.N, err = st.GetFloat64("n"); err != nil {
		return err
	}
	if o.D, err = st.GetTime("d"); err != nil {
		return err
	}
	if o.TS, err = st.GetTime("ts"); err != nil {
		return err
	}
	if o.B, err = st.GetBytes("b"); err != nil {
		return err
	}
	a, err := st.GetRaw("a")
	if err != nil {
		return err
	}
	o.A, _ = a.([]int64)
	return nil
}

// OBJECT(...), ARRAY(T) and MAP(K, V) casts come back typed, with the
// fields the driver reads them by, in all three result encodings.
func TestStructuredTypesRead(t *testing.T) {
	s := Start(t, Options{})
	db := openD(t, s)
	ctx := sf.WithStructuredTypesEnabled(context.Background())
	forStructuredFormats(t, db, func(t *testing.T) {
		var o sample
		q := `SELECT {'s': 'x', 'i': 9223372036854775807, 'n': 1.25, 'd': '2024-03-21'::DATE,
			'ts': '2023-05-22 01:17:19.5'::TIMESTAMP_NTZ, 'b': TO_BINARY('61FF5C0027', 'HEX'), 'a': ARRAY_CONSTRUCT(1, 2)}
			::OBJECT(s VARCHAR, i BIGINT, n NUMBER(10, 2), d DATE, ts TIMESTAMP_NTZ, b BINARY, a ARRAY(INTEGER)) AS O`
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		cts, err := rows.ColumnTypes()
		if err != nil {
			t.Fatal(err)
		}
		if cts[0].DatabaseTypeName() != "OBJECT" || cts[0].ScanType() != reflect.TypeFor[sf.ObjectType]() {
			t.Errorf("column type %s %v, want OBJECT sf.ObjectType", cts[0].DatabaseTypeName(), cts[0].ScanType())
		}
		if !rows.Next() {
			t.Fatal(rows.Err())
		}
		if err := rows.Scan(&o); err != nil {
			t.Fatal(err)
		}
		want := sample{S: "x", I: 9223372036854775807, N: 1.25, D: time.Date(2024, 3, 21, 0, 0, 0, 0, time.UTC),
			TS: time.Date(2023, 5, 22, 1, 17, 19, 500_000_000, time.UTC), B: []byte{'a', 0xff, '\\', 0, '\''}, A: []int64{1, 2}}
		if !o.TS.Equal(want.TS) || !o.D.Equal(want.D) {
			t.Errorf("times %v %v, want %v %v", o.D, o.TS, want.D, want.TS)
		}
		o.D, o.TS = want.D, want.TS
		if !reflect.DeepEqual(o, want) {
			t.Errorf("got %+v, want %+v", o, want)
		}
		rows.Close()

		var arr []int64
		if err := db.QueryRowContext(ctx, `SELECT ARRAY_CONSTRUCT(1, 2, 3)::ARRAY(INTEGER)`).Scan(&arr); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(arr, []int64{1, 2, 3}) {
			t.Errorf("ARRAY(INTEGER) %v", arr)
		}
		var m map[string]int64
		if err := db.QueryRowContext(ctx, `SELECT {'a': 1, 'b': 2}::MAP(VARCHAR, INTEGER)`).Scan(&m); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(m, map[string]int64{"a": 1, "b": 2}) {
			t.Errorf("MAP(VARCHAR, INTEGER) %v", m)
		}
		var empty *map[string]int64
		if err := db.QueryRowContext(ctx, `SELECT {}::MAP(VARCHAR, INTEGER)`).Scan(&empty); err != nil {
			t.Fatal(err)
		}
		if empty == nil || len(*empty) != 0 {
			t.Errorf("empty MAP %v", empty)
		}
	})
}

// Without the structured context the driver reads the value as text:
// the declared fields in their declared order.
func TestStructuredTypesAsText(t *testing.T) {
	s := Start(t, Options{})
	db := openD(t, s)
	for _, name := range []string{"JSON", "ARROW"} {
		t.Run(name, func(t *testing.T) {
			for _, q := range append([]string{"ALTER SESSION SET ENABLE_STRUCTURED_TYPES_IN_CLIENT_RESPONSE = true"}, structuredFormats[name]...) {
				if _, err := db.Exec(q); err != nil {
					t.Fatal(err)
				}
			}
			var got string
			if err := db.QueryRow(`SELECT {'z': 'b', 'a': 3, 'd': '2024-01-02'::DATE}::OBJECT(z VARCHAR, a INTEGER, d DATE)`).Scan(&got); err != nil {
				t.Fatal(err)
			}
			compact := strings.Join(strings.Fields(got), "")
			if want := `{"z":"b","a":3,"d":"2024-01-02"}`; compact != want {
				t.Errorf("got %s, want %s", got, want)
			}
			if err := db.QueryRow(`SELECT {'10': 'x', '2': 'y'}::MAP(INTEGER, VARCHAR)`).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if compact, want := strings.Join(strings.Fields(got), ""), `{"2":"y","10":"x"}`; compact != want {
				t.Errorf("got %s, want %s", got, want)
			}
		})
	}
}

// A value that does not fit the declared type fails the statement, as
// Snowflake's cast does; it never arrives changed.
func TestStructuredTypesRefuseMisfits(t *testing.T) {
	s := Start(t, Options{})
	db := openD(t, s)
	for _, q := range []string{
		`SELECT {'i': 'abc'}::OBJECT(i INTEGER)`,
		`SELECT {'i': 1, 'extra': 2}::OBJECT(i INTEGER)`,
		`SELECT ARRAY_CONSTRUCT(123.456)::ARRAY(NUMBER(3, 1))`,
	} {
		var v string
		err := db.QueryRow(q).Scan(&v)
		if err == nil || !strings.Contains(err.Error(), "100071") {
			t.Errorf("%s: got %q, %v; want error 100071", q, v, err)
		}
	}
}

// A table's structured columns keep their declared types: a query reading
// the table gets them typed, in every result encoding, and the catalog
// shows the declaration.
func TestStructuredTableColumns(t *testing.T) {
	s := Start(t, Options{})
	db := openD(t, s)
	ctx := sf.WithStructuredTypesEnabled(context.Background())
	for _, q := range []string{
		`CREATE TABLE T (ID INT, O OBJECT(s VARCHAR, i INTEGER NOT NULL), A ARRAY(NUMBER(10, 2)), M MAP(VARCHAR, DATE), V VARIANT)`,
		`INSERT INTO T SELECT 1, {'s': 'x', 'i': 7}::OBJECT(s VARCHAR, i INTEGER), ARRAY_CONSTRUCT(1.5, 2)::ARRAY(NUMBER(10, 2)),
			{'d': '2024-02-29'::DATE}::MAP(VARCHAR, DATE), PARSE_JSON('{"k": 1}')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(q, err)
		}
	}
	var typ string
	if err := db.QueryRow(`SELECT DATA_TYPE FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_NAME = 'T' AND COLUMN_NAME = 'M'`).Scan(&typ); err != nil {
		t.Fatal(err)
	}
	if typ != "MAP" {
		t.Errorf("DATA_TYPE of M %q, want MAP", typ)
	}
	forStructuredFormats(t, db, func(t *testing.T) {
		rows, err := db.QueryContext(ctx, `SELECT * FROM T WHERE ID = 1`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		cts, _ := rows.ColumnTypes()
		var names []string
		for _, c := range cts {
			names = append(names, c.DatabaseTypeName())
		}
		if got := strings.Join(names, " "); got != "FIXED OBJECT ARRAY MAP VARIANT" {
			t.Errorf("column types %s", got)
		}
		if !rows.Next() {
			t.Fatal(rows.Err())
		}
		var id int
		var o struct{ sf.StructuredObject }
		var a []float64
		var m map[string]time.Time
		var v string
		if err := rows.Scan(&id, &structScanner{&o.StructuredObject}, &a, &m, &v); err != nil {
			t.Fatal(err)
		}
		i, err := o.GetInt64("i")
		if err != nil || i != 7 {
			t.Errorf("O.i %v %v", i, err)
		}
		if !reflect.DeepEqual(a, []float64{1.5, 2}) {
			t.Errorf("A %v", a)
		}
		if d := m["d"]; !d.Equal(time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("M %v", m)
		}
		if strings.Join(strings.Fields(v), "") != `{"k":1}` {
			t.Errorf("V %q", v)
		}
	})
}

// structScanner keeps the StructuredObject the driver scans into it.
type structScanner struct{ o *sf.StructuredObject }

func (s *structScanner) Scan(v any) error {
	o, ok := v.(sf.StructuredObject)
	if !ok {
		return fmt.Errorf("got %T, want a StructuredObject", v)
	}
	*s.o = o
	return nil
}

type bound struct {
	S  string
	I  int32
	D  time.Time `sf:"d,date"`
	TS time.Time `sf:"ts,ltz"`
	B  []byte
}

func (o *bound) Write(w sf.StructuredObjectWriterContext) error { return w.WriteAll(o) }
func (o *bound) Scan(v any) error {
	st, ok := v.(sf.StructuredObject)
	if !ok {
		return fmt.Errorf("got %T", v)
	}
	return st.ScanTo(o)
}

// A structured value bound from Go (the driver's JSON with its schema)
// lands in a structured column as a cast would put it, and reads back
// equal; a bound value compares equal to the stored one.
func TestStructuredBinds(t *testing.T) {
	s := Start(t, Options{})
	db := openD(t, s)
	ctx := sf.WithStructuredTypesEnabled(context.Background())
	for _, q := range []string{
		"ALTER SESSION SET ENABLE_STRUCTURED_TYPES_IN_CLIENT_RESPONSE = true",
		"ALTER SESSION SET TIMEZONE = 'Europe/Warsaw'",
		"ALTER SESSION SET TIMESTAMP_OUTPUT_FORMAT = 'YYYY-MM-DD HH24:MI:SS.FF9 TZHTZM'",
		"CREATE TABLE T (O OBJECT(s VARCHAR, i INTEGER, d DATE, ts TIMESTAMP_LTZ, b BINARY), A ARRAY(INTEGER), M MAP(VARCHAR, BOOLEAN))",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(q, err)
		}
	}
	warsaw, _ := time.LoadLocation("Europe/Warsaw")
	in := &bound{S: "x", I: 7, D: time.Date(2024, 5, 24, 0, 0, 0, 0, time.UTC),
		TS: time.Date(2025, 5, 24, 11, 22, 33, 44, warsaw), B: []byte{0, 'a', '"', '\\', 'x', 0xff, '\''}}
	if _, err := db.ExecContext(ctx, "INSERT INTO T SELECT ?, ?, ?", in, []int64{1, 2}, map[string]bool{"a": true}); err != nil {
		t.Fatal(err)
	}
	forStructuredFormats(t, db, func(t *testing.T) {
		var out bound
		var a []int64
		var m map[string]bool
		if err := db.QueryRowContext(ctx, "SELECT * FROM T WHERE O = ?", in).Scan(&out, &a, &m); err != nil {
			t.Fatal(err)
		}
		if out.S != in.S || out.I != in.I || !out.D.Equal(in.D) || !out.TS.Equal(in.TS) || !reflect.DeepEqual(out.B, in.B) {
			t.Errorf("got %+v, want %+v", out, *in)
		}
		if !reflect.DeepEqual(a, []int64{1, 2}) || !reflect.DeepEqual(m, map[string]bool{"a": true}) {
			t.Errorf("A %v, M %v", a, m)
		}
	})
}

// An OBJECT bind without a schema is read as Snowflake's JSON parser
// reads it: single-quoted strings too.
func TestSemiStructuredBindSingleQuotes(t *testing.T) {
	s := Start(t, Options{})
	db := openD(t, s)
	if _, err := db.Exec(`CREATE TABLE T (O OBJECT)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO T SELECT (?)`, sf.DataTypeObject, `{'s': 'it\'s', "t": "y"}`); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := db.QueryRow(`SELECT O FROM T`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if c := strings.Join(strings.Fields(got), ""); c != `{"s":"it's","t":"y"}` {
		t.Errorf("got %s", got)
	}
}

// A text literal cast to TIMESTAMP_LTZ is a wall clock in the session's
// zone, inside a structured value too.
func TestLTZLiteralInSessionZone(t *testing.T) {
	s := Start(t, Options{})
	db := openD(t, s)
	ctx := sf.WithStructuredTypesEnabled(context.Background())
	for _, q := range []string{"ALTER SESSION SET TIMEZONE = 'Europe/Warsaw'", "ALTER SESSION SET ENABLE_STRUCTURED_TYPES_IN_CLIENT_RESPONSE = true"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	want := time.Date(2024, 1, 5, 10, 22, 33, 0, time.UTC)
	var ltz time.Time
	if err := db.QueryRow(`SELECT '2024-01-05 11:22:33'::TIMESTAMP_LTZ`).Scan(&ltz); err != nil {
		t.Fatal(err)
	}
	if !ltz.Equal(want) {
		t.Errorf("LTZ literal %v, want %v", ltz, want)
	}
	var arr []time.Time
	if err := db.QueryRowContext(ctx, `SELECT ARRAY_CONSTRUCT('2024-01-05 11:22:33'::TIMESTAMP_LTZ)::ARRAY(TIMESTAMP_LTZ)`).Scan(&arr); err != nil {
		t.Fatal(err)
	}
	if len(arr) != 1 || !arr[0].Equal(want) {
		t.Errorf("ARRAY(TIMESTAMP_LTZ) %v, want [%v]", arr, want)
	}
}
