//go:build duckdb_arrow

package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/hockeystack/sluice/engine/clickhouse/clickhousetest"
	"github.com/hockeystack/sluice/engine/snowflake/snowflaketest"
)

// TestTypesRoundTrip pulls every Snowflake type of the mapping into the
// ClickHouse type DESIGN.md maps it to (18.16's where current ClickHouse
// has a newer one) and compares every value: equal, NULLs kept, decimals
// exact, timestamps to the second 18.16 stores, NUMBER(38,0) beyond Int64
// in a Decimal(38,0). Zoned timestamps carry offsets of their own: they
// land as the UTC instant, and the offset lands in a column of its own.
func TestTypesRoundTrip(t *testing.T) {
	sf := snowflaketest.Start(t, snowflaketest.Options{ChunkRows: 2})
	ch := clickhousetest.NewDB(t)
	ctx := context.Background()
	if err := sf.Exec(ctx, `CREATE DATABASE D;
		CREATE TABLE D.PUBLIC.T (K NUMBER(18,0) NOT NULL, SMALL NUMBER(18,0), HUGE NUMBER(38,0), MONEY NUMBER(38,4), F FLOAT,
			S VARCHAR, B BOOLEAN, DT DATE, NTZ TIMESTAMP_NTZ(9), TZ TIMESTAMP_TZ(9), LTZ TIMESTAMP_LTZ(9), V VARIANT, BIN BINARY,
			AT TIMESTAMP_NTZ);
		INSERT INTO D.PUBLIC.T VALUES
			(1, -999999999999999999, 99999999999999999999999999999999999999, 12345678901234567890123456789012.3456, 1.5e300,
			 'ünïcödé 😀', TRUE, '1970-01-01', '2024-02-29 23:59:59.999999', '2024-01-01 17:30:00 +05:30', '2024-01-01 12:00:00+00:00',
			 PARSE_JSON('{"a":[1,null,"x"]}'), TO_BINARY('CAFE00', 'HEX'), '2024-01-01'),
			(2, 999999999999999999, -99999999999999999999999999999999999999, -0.0001, -2.5e-10, '', FALSE, '2105-12-31',
			 '1970-01-01 00:00:00', '2105-12-31 20:59:59 -03:00', NULL, PARSE_JSON('"str"'), TO_BINARY('', 'HEX'), '2024-01-01'),
			(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '2024-01-01')`); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"connections.yaml": snowsimConnections(sf.Port, "read_only", "D", "PUBLIC", ch.Addr),
		"p/pipeline.yaml": fmt.Sprintf(`version: 1
name: types
streams:
  t:
    source: {connection: sf, query: q.sql, incremental: false}
    columns:
      k:     {type: Int64}
      small: {type: Nullable(Int64)}
      huge:  {type: "Nullable(Decimal(38, 0))"}
      money: {type: "Nullable(Decimal(38, 4))"}
      f:     {type: Nullable(Float64)}
      s:     {type: Nullable(String)}
      b:     {type: Nullable(UInt8)}
      dt:    {type: Nullable(Date)}
      ntz:   {type: "Nullable(DateTime('UTC'))", allow_lossy: true}
      tz:    {type: "Nullable(DateTime('UTC'))", allow_lossy: true}
      tz_offset: {type: Nullable(Int16)}
      ltz:   {type: "Nullable(DateTime('UTC'))", allow_lossy: true}
      v:     {type: Nullable(String)}
      bin:   {type: Nullable(String)}
    destination: {connection: ch, table: %s.t, mode: replace, order_by: [k], create: true}
`, ch.Name),
		"p/q.sql": `SELECT K, SMALL, HUGE, MONEY, F, S, B, DT, NTZ, TZ,
  (DATE_PART(TIMEZONE_HOUR, TZ) * 60 + DATE_PART(TIMEZONE_MINUTE, TZ))::NUMBER(4,0) AS TZ_OFFSET, LTZ, V, BIN FROM T`,
	})
	t.Setenv("SF_PASSWORD", "sluice")
	if out, errOut, code := sluice(t, "run", "--connections", filepath.Join(dir, "connections.yaml"), "--state", filepath.Join(dir, "state.db"), filepath.Join(dir, "p")); code != 0 {
		t.Fatalf("run: exit %d\n%s%s", code, out, errOut)
	}
	rows, err := ch.Conn.Query(ctx, `SELECT k, small, huge, money, f, s, b, dt, ntz, tz, tz_offset, ltz, v, bin FROM `+ch.Name+`.t ORDER BY k`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var k int64
		var small *int64
		var huge, money *decimal.Decimal
		var f *float64
		var s, v, bin *string
		var b *uint8
		var offset *int16
		var dt, ntz, tz, ltz *time.Time
		if err := rows.Scan(&k, &small, &huge, &money, &f, &s, &b, &dt, &ntz, &tz, &offset, &ltz, &v, &bin); err != nil {
			t.Fatal(err)
		}
		show := func(p any) string {
			switch p := p.(type) {
			case *int64:
				if p != nil {
					return fmt.Sprint(*p)
				}
			case *decimal.Decimal:
				if p != nil {
					return p.String()
				}
			case *float64:
				if p != nil {
					return fmt.Sprint(*p)
				}
			case *uint8:
				if p != nil {
					return fmt.Sprint(*p)
				}
			case *int16:
				if p != nil {
					return fmt.Sprint(*p)
				}
			case *string:
				if p != nil {
					return *p
				}
			case *time.Time:
				if p != nil {
					return p.UTC().Format(time.DateTime)
				}
			}
			return "NULL"
		}
		binHex := "NULL"
		if bin != nil {
			binHex = fmt.Sprintf("%X", *bin)
		}
		day := "NULL"
		if dt != nil {
			day = dt.Format(time.DateOnly)
		}
		got = append(got, strings.Join([]string{fmt.Sprint(k), show(small), show(huge), show(money), show(f), show(s), show(b),
			day, show(ntz), show(tz), show(offset), show(ltz), show(v), binHex}, "|"))
	}
	rows.Close()
	want := []string{
		"1|-999999999999999999|99999999999999999999999999999999999999|12345678901234567890123456789012.3456|1.5e+300|ünïcödé 😀|1|1970-01-01|2024-02-29 23:59:59|2024-01-01 12:00:00|330|2024-01-01 12:00:00|{\"a\":[1,null,\"x\"]}|CAFE00",
		"2|999999999999999999|-99999999999999999999999999999999999999|-0.0001|-2.5e-10||0|2105-12-31|1970-01-01 00:00:00|2105-12-31 23:59:59|-180|NULL|\"str\"|",
		"3|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("round trip:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// A date past what the server stores stops the run, naming column and
	// row; the replace leaves the table as it was.
	if err := sf.Exec(ctx, "INSERT INTO D.PUBLIC.T (K, DT) VALUES (4, '2149-06-06')"); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := sluice(t, "run", "--connections", filepath.Join(dir, "connections.yaml"), "--state", filepath.Join(dir, "state.db"), filepath.Join(dir, "p"))
	if code == 0 || !strings.Contains(errOut, "column dt, row 4: 2149-06-06 is outside the range Date stores on this server (1970-01-01 to 2105-12-31)") {
		t.Errorf("out-of-range date: exit %d\n%s", code, errOut)
	}
	var n uint64
	if err := ch.Conn.QueryRow(ctx, "SELECT count() FROM "+ch.Name+".t").Scan(&n); err != nil || n != 3 {
		t.Errorf("after the failed replace the table has %d rows (%v), want the 3 it had", n, err)
	}
}
