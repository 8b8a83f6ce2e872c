//go:build duckdb_arrow

package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hockeystack/sluice/engine/clickhouse/clickhousetest"
	"github.com/hockeystack/sluice/engine/ddl"
	"github.com/hockeystack/sluice/engine/snowflake/snowflaketest"
)

// awkwardNames are column names that break SQL built by pasting, in both
// dialects: quotes of each kind, a backslash (alone at the end, it used
// to escape the closing backtick), the name that added a column,
// a space, a dot, non-ASCII letters, a leading digit, keywords of both
// databases, comment openers, a parenthesis and control characters.
var awkwardNames = []string{
	`it's`, `say "hi"`, "back`tick", `back\slash`, `p\`, `' Int64, injected String, --'`,
	`with space`, `dot.ted`, `ünïcødé 名前`, `1st`, `select`, `FROM`, `ORDER`,
	`-- dash`, `/* star`, `a(b`, "tab\there", "new\nline",
}

// awkwardValue is what row r holds in column i: the column's own tag, so
// a value in the wrong column shows.
func awkwardValue(i, r int) string { return fmt.Sprintf("c%d-r%d", i, r) }

const awkwardRows = 6 // one every 8 hours from the start: two daily windows

// awkwardWindow is the window column's name on the side the test creates.
const awkwardWindow = `at "when"`

// yamlKey writes name as a double-quoted YAML key.
func yamlKey(name string) string { return strconv.Quote(name) }

// TestPullAwkwardNames pulls a Snowflake table whose columns have every
// awkward name into ClickHouse 18.16 columns of the same names, the
// window column and the table's key expressions among them, through the
// CLI; a second run replaces the windows; every value is in its column.
func TestPullAwkwardNames(t *testing.T) {
	sf := snowflaketest.Start(t, snowflaketest.Options{})
	ch := clickhousetest.NewDB(t)
	ctx := context.Background()
	start := time.Now().UTC().AddDate(0, 0, -3).Truncate(24 * time.Hour)
	var defs, sel, vals []string
	for _, n := range awkwardNames {
		defs = append(defs, ddl.QuoteSnowflake(n)+" VARCHAR")
		sel = append(sel, ddl.QuoteSnowflake(n))
	}
	for r := range awkwardRows {
		var row []string
		for i := range awkwardNames {
			row = append(row, "'"+awkwardValue(i, r)+"'")
		}
		at := start.Add(time.Duration(r) * 8 * time.Hour).Format(time.DateTime)
		vals = append(vals, "("+strings.Join(row, ", ")+", '"+at+"'::TIMESTAMP_NTZ)")
	}
	seed := fmt.Sprintf(`CREATE DATABASE ACME; CREATE SCHEMA ACME.CRM;
		CREATE TABLE ACME.CRM.WEIRD (%s, AT TIMESTAMP_NTZ(0));
		INSERT INTO ACME.CRM.WEIRD VALUES %s`, strings.Join(defs, ", "), strings.Join(vals, ", "))
	if err := sf.Exec(ctx, seed); err != nil {
		t.Fatalf("%v\n%s", err, seed)
	}
	var cols strings.Builder
	for _, n := range awkwardNames {
		fmt.Fprintf(&cols, "      %s: {type: String}\n", yamlKey(n))
	}
	fmt.Fprintf(&cols, "      %s: {from: AT, type: \"DateTime('UTC')\", allow_lossy: true}\n", yamlKey(awkwardWindow))
	partition := "toYYYYMMDD(" + ddl.QuoteClickHouse(awkwardWindow) + ")"
	orderBy := []string{ddl.QuoteClickHouse(`p\`), "cityHash64(" + ddl.QuoteClickHouse(`' Int64, injected String, --'`) + ", " + ddl.QuoteClickHouse("back`tick") + ")"}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"connections.yaml": snowsimConnections(sf.Port, "read_only", "ACME", "CRM", ch.Addr),
		"p/q.sql":          fmt.Sprintf("SELECT %s, AT FROM WEIRD WHERE AT >= :window_start AND AT < :window_end", strings.Join(sel, ", ")),
		"p/pipeline.yaml": fmt.Sprintf(`version: 1
name: p
streams:
  weird:
    source: {connection: sf, query: q.sql, incremental: {cursor: AT, start: %s, window: 1d}}
    columns:
%s    destination: {connection: ch, table: %s.weird, mode: append, create: true, partition: %s, order_by: [%s, %s]}
`, start.Format(time.DateOnly), cols.String(), ch.Name, yamlKey(partition), yamlKey(orderBy[0]), yamlKey(orderBy[1])),
	})
	t.Setenv("SF_PASSWORD", "sluice")
	if out, errOut, code := sluice(t, "validate", "--connections", filepath.Join(dir, "connections.yaml"), filepath.Join(dir, "p")); code != 0 {
		t.Fatalf("validate: exit %d\n%s%s", code, out, errOut)
	}
	for run := range 2 {
		if out, errOut, code := runFolder(t, dir, "backfill", "--from", start.Format(time.DateOnly)); code != 0 {
			t.Fatalf("backfill %d: exit %d\n%s%s", run, code, out, errOut)
		}
	}
	// The live checks read the table's columns by name.
	if out, errOut, code := sluice(t, "plan", "--live", "--connections", filepath.Join(dir, "connections.yaml"), filepath.Join(dir, "p")); code != 0 {
		t.Errorf("plan --live: exit %d\n%s%s", code, out, errOut)
	}
	if out, errOut, code := runFolder(t, dir, "dry-run"); code != 0 || !strings.Contains(out, awkwardValue(0, 0)) {
		t.Errorf("dry-run: exit %d\n%s%s", code, out, errOut)
	}
	var names []string
	rows, err := ch.Conn.Query(ctx, "SELECT name FROM system.columns WHERE database = ? AND table = 'weird'", ch.Name)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		names = append(names, n)
	}
	rows.Close()
	if want := append(append([]string{}, awkwardNames...), awkwardWindow); strings.Join(names, "\n") != strings.Join(want, "\n") {
		t.Errorf("ClickHouse made the columns\n%q\nwant\n%q", names, want)
	}
	w := ddl.QuoteClickHouse(awkwardWindow)
	for i, n := range awkwardNames {
		var got []string
		rows, err := ch.Conn.Query(ctx, fmt.Sprintf("SELECT %s FROM %s ORDER BY %s", ddl.QuoteClickHouse(n), ddl.QuoteClickHouseName(ch.Name+".weird"), w))
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var v string
			rows.Scan(&v)
			got = append(got, v)
		}
		rows.Close()
		var want []string
		for r := range awkwardRows {
			want = append(want, awkwardValue(i, r))
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("column %q holds %q, want %q", n, got, want)
		}
	}
}

// TestPushAwkwardNames pushes a ClickHouse 18.16 table whose columns have
// every awkward name into Snowflake columns of the same names through the
// CLI, by window (append, the window column awkward too) and by key
// (merge on an awkward key), once with bound INSERTs and once through
// Parquet files and COPY INTO; every value is in its column.
func TestPushAwkwardNames(t *testing.T) {
	for _, bulk := range []string{"-1", "1"} {
		t.Run("bulk rows "+bulk, func(t *testing.T) {
			t.Setenv("SLUICE_BULK_ROWS", bulk)
			pushAwkward(t)
		})
	}
}

func pushAwkward(t *testing.T) {
	sf := snowflaketest.Start(t, snowflaketest.Options{})
	ch := clickhousetest.NewDB(t)
	ctx := context.Background()
	start := time.Now().UTC().AddDate(0, 0, -3).Truncate(24 * time.Hour)
	var defs, sel []string
	for _, n := range awkwardNames {
		defs = append(defs, ddl.QuoteClickHouse(n)+" String")
		sel = append(sel, ddl.QuoteClickHouse(n))
	}
	table := ddl.QuoteClickHouseName(ch.Name + ".weird")
	w := ddl.QuoteClickHouse(awkwardWindow)
	if err := ch.Conn.Exec(ctx, fmt.Sprintf("CREATE TABLE %s (%s, %s DateTime('UTC')) ENGINE = MergeTree ORDER BY tuple()", table, strings.Join(defs, ", "), w)); err != nil {
		t.Fatal(err)
	}
	for r := range awkwardRows {
		var row []string
		for i := range awkwardNames {
			row = append(row, ddl.QuoteString(awkwardValue(i, r)))
		}
		row = append(row, fmt.Sprintf("toDateTime(%d, 'UTC')", start.Add(time.Duration(r)*8*time.Hour).Unix()))
		if err := ch.Conn.Exec(ctx, fmt.Sprintf("INSERT INTO %s SELECT %s", table, strings.Join(row, ", "))); err != nil {
			t.Fatal(err)
		}
	}
	if err := sf.Exec(ctx, "CREATE DATABASE ACME; CREATE SCHEMA ACME.CRM"); err != nil {
		t.Fatal(err)
	}
	var cols strings.Builder
	for _, n := range awkwardNames {
		nullable := "" // the merge key may not be NULL
		if n == `p\` {
			nullable = ", nullable: false"
		}
		fmt.Fprintf(&cols, "      %s: {from: %s, type: VARCHAR(64)%s}\n", yamlKey(n), yamlKey(n), nullable)
	}
	fmt.Fprintf(&cols, "      %s: {from: %s, type: TIMESTAMP_NTZ(0), nullable: false}\n", yamlKey(awkwardWindow), yamlKey(awkwardWindow))
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"connections.yaml": fmt.Sprintf(`version: 1
connections:
  sf: {kind: snowflake, access: read_write, account: SNOWSIM, host: 127.0.0.1, port: %d, protocol: http, user: SLUICE,
       database: ACME, schema: CRM, auth: {method: password, password: {env: SF_PASSWORD}}}
  ch: {kind: clickhouse, access: read_only, host: %s, auth: {method: none}}
`, sf.Port, ch.Addr),
		"p/window.sql": fmt.Sprintf("SELECT %s, %s FROM %s WHERE %s >= :window_start AND %s < :window_end", strings.Join(sel, ", "), w, table, w, w),
		"p/all.sql":    fmt.Sprintf("SELECT %s, %s FROM %s", strings.Join(sel, ", "), w, table),
		"p/pipeline.yaml": fmt.Sprintf(`version: 1
name: p
streams:
  by_window:
    source: {connection: ch, query: window.sql, incremental: {cursor: %s, start: %s, window: 1d}}
    columns:
%s    destination: {connection: sf, table: ACME.CRM.BY_WINDOW, mode: append, create: true}
  by_key:
    source: {connection: ch, query: all.sql, incremental: false}
    columns:
%s    destination: {connection: sf, table: ACME.CRM.BY_KEY, mode: merge, key: [%s], create: true}
`, yamlKey(awkwardWindow), start.Format(time.DateOnly), cols.String(), cols.String(), yamlKey(`p\`)),
	})
	t.Setenv("SF_PASSWORD", "sluice")
	for run := range 2 {
		if out, errOut, code := runFolder(t, dir, "backfill", "--from", start.Format(time.DateOnly)); code != 0 {
			t.Fatalf("backfill %d: exit %d\n%s%s", run, code, out, errOut)
		}
	}
	if out, errOut, code := sluice(t, "plan", "--live", "--connections", filepath.Join(dir, "connections.yaml"), filepath.Join(dir, "p")); code != 0 {
		t.Errorf("plan --live: exit %d\n%s%s", code, out, errOut)
	}
	if out, errOut, code := runFolder(t, dir, "dry-run"); code != 0 || !strings.Contains(out, awkwardValue(0, 0)) {
		t.Errorf("dry-run: exit %d\n%s%s", code, out, errOut)
	}
	for _, target := range []string{"ACME.CRM.BY_WINDOW", "ACME.CRM.BY_KEY"} {
		names, rows, err := sf.Query(ctx, fmt.Sprintf("SELECT %s FROM %s ORDER BY %s", ddl.QuoteSnowflakeList(awkwardNames), target, ddl.QuoteSnowflake(awkwardWindow)))
		if err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		if strings.Join(names, "\n") != strings.Join(awkwardNames, "\n") {
			t.Errorf("%s: columns %q, want %q", target, names, awkwardNames)
		}
		if len(rows) != awkwardRows {
			t.Fatalf("%s: %d rows, want %d", target, len(rows), awkwardRows)
		}
		for r, row := range rows {
			for i, v := range row {
				if v != awkwardValue(i, r) {
					t.Errorf("%s: column %q, row %d holds %q, want %q", target, awkwardNames[i], r, v, awkwardValue(i, r))
				}
			}
		}
	}
}
