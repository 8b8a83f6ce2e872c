//go:build duckdb_arrow

package snowflaketest

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	sf "github.com/snowflakedb/gosnowflake/v2"
)

// TestPrecision: TIME(p) and TIMESTAMP_*(p) report their declared scale,
// from a table's column and from a cast, and hold that many digits:
// nanoseconds at 9 (NTZ and TIME), cut below, in Arrow and JSON results
// alike.
func TestPrecision(t *testing.T) {
	s := Start(t, Options{})
	if err := s.Exec(context.Background(), `CREATE DATABASE D; CREATE SCHEMA D.S;
		CREATE TABLE D.S.T (T5 TIME(5), T9 TIME, N0 TIMESTAMP_NTZ(0), N3 TIMESTAMP_NTZ(3), N9 TIMESTAMP_NTZ(9), L6 TIMESTAMP_LTZ(6));
		INSERT INTO D.S.T VALUES ('12:34:56.123456789', '12:34:56.123456789', '1969-07-20 20:17:40.987654321',
			'1969-07-20 20:17:40.987654321', '2024-02-29 12:34:56.123456789', '2024-02-29 12:34:56.123456789')`); err != nil {
		t.Fatal(err)
	}
	// Functions that take microsecond types take the nanosecond ones.
	if _, rows, err := s.Query(context.Background(), "SELECT DATEDIFF(day, N0, N9), DATE_TRUNC('day', N9)::DATE, DATEADD(hour, 1, N9)::DATE, HOUR(T9) FROM D.S.T"); err != nil || len(rows) != 1 ||
		strings.Join(rows[0], " ") != "19947 2024-02-29 2024-02-29 12" {
		t.Errorf("functions of TIMESTAMP_NTZ(9) and TIME(9): %v %v", rows, err)
	}
	clock := func(ns int64) time.Time { return time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(ns)) }
	moon := time.Date(1969, 7, 20, 20, 17, 40, 0, time.UTC)
	leap := time.Date(2024, 2, 29, 12, 34, 56, 0, time.UTC)
	hms := int64(12*3600+34*60+56) * 1e9
	for _, format := range []string{"arrow", "json"} {
		cfg := s.Config("sluice", "sluice")
		cfg.Database, cfg.Schema = "D", "S"
		cfg.Params = map[string]*string{"GO_QUERY_RESULT_FORMAT": ptr(format)}
		db := Open(cfg)
		for _, tc := range []struct {
			q      string
			scales []int64
			want   []time.Time
		}{
			{"SELECT T5, T9, N0, N3, N9, L6 FROM T", []int64{5, 9, 0, 3, 9, 6}, []time.Time{
				clock(hms + 123450000), clock(hms + 123456789), moon, moon.Add(987 * time.Millisecond),
				leap.Add(123456789), leap.Add(123456000)}},
			{"SELECT N9::TIMESTAMP_TZ::TIMESTAMP_NTZ(9), TIMESTAMP_TZ '2024-02-29 14:34:56.123456 +02:00'::TIMESTAMP_NTZ(9), N9::TIME FROM T", []int64{9, 9, 9}, []time.Time{
				leap.Add(123456000), leap.Add(2*time.Hour + 123456000), clock(hms + 123456789)}},
			{"SELECT T9::TIME(2), N9::TIMESTAMP_NTZ(4), '2024-02-29 12:34:56.123456789'::TIMESTAMP_NTZ, N9::TIMESTAMP_LTZ(1), T9 FROM T", []int64{2, 4, 9, 1, 9}, []time.Time{
				clock(hms + 120000000), leap.Add(123400000), leap.Add(123456789), leap.Add(100000000), clock(hms + 123456789)}},
		} {
			rows, err := db.QueryContext(sf.WithHigherPrecision(context.Background()), tc.q)
			if err != nil {
				t.Fatalf("%s: %s: %v", format, tc.q, err)
			}
			types, _ := rows.ColumnTypes()
			got := make([]sql.NullTime, len(types))
			dest := make([]any, len(types))
			for i := range got {
				dest[i] = &got[i]
			}
			if !rows.Next() {
				t.Fatalf("%s: %s: no row: %v", format, tc.q, rows.Err())
			}
			if err := rows.Scan(dest...); err != nil {
				t.Fatalf("%s: %s: %v", format, tc.q, err)
			}
			rows.Close()
			for i, ct := range types {
				if ct.DatabaseTypeName() == "TIME" {
					if p, _, _ := ct.DecimalSize(); p != tc.scales[i] {
						t.Errorf("%s: %s: column %s reports scale %d, want %d", format, tc.q, ct.Name(), p, tc.scales[i])
					}
				}
				g := got[i].Time.UTC()
				if ct.DatabaseTypeName() == "TIME" {
					g = clock(int64(g.Hour()*3600+g.Minute()*60+g.Second())*1e9 + int64(g.Nanosecond()))
				}
				if !g.Equal(tc.want[i]) {
					t.Errorf("%s: %s: column %s = %s, want %s", format, tc.q, ct.Name(), g.Format(time.RFC3339Nano), tc.want[i].Format(time.RFC3339Nano))
				}
			}
		}
		db.Close()
	}
}
