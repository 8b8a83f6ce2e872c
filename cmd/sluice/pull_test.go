//go:build duckdb_arrow

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hockeystack/sluice/engine/clickhouse/clickhousetest"
	"github.com/hockeystack/sluice/engine/snowflake/snowflaketest"
)

// pullFixture is a Snowflake simulator and a ClickHouse database with a
// one-stream pipeline folder between them.
type pullFixture struct {
	sf    *snowflaketest.Server
	ch    *clickhousetest.DB
	dir   string
	start time.Time
}

func newPullFixture(t *testing.T, columns string) *pullFixture {
	t.Helper()
	return newPullFixtureOn(t, columns, clickhousetest.NewDB(t))
}

// newPullFixtureOn is newPullFixture writing into ch.
func newPullFixtureOn(t *testing.T, columns string, ch *clickhousetest.DB) *pullFixture {
	t.Helper()
	// A window's rows (432) come in chunks the driver downloads, so
	// SlowChunks slows every window.
	f := &pullFixture{sf: snowflaketest.Start(t, snowflaketest.Options{FirstChunkRows: 100, ChunkRows: 300}), ch: ch, dir: t.TempDir()}
	f.start = time.Now().UTC().AddDate(0, 0, -30).Truncate(24 * time.Hour)
	if err := f.sf.Exec(context.Background(), fmt.Sprintf(`CREATE DATABASE ACME; CREATE SCHEMA ACME.CRM;
		CREATE TABLE ACME.CRM.EVENTS (ID NUMBER(38,0) NOT NULL, LABEL VARCHAR, BIG NUMBER(38,0), AT TIMESTAMP_NTZ);
		INSERT INTO ACME.CRM.EVENTS SELECT SEQ4(), 'label ' || SEQ4(), SEQ4() * 1000000, DATEADD(minute, SEQ4() * 10, '%s'::TIMESTAMP_NTZ)
		FROM TABLE(GENERATOR(ROWCOUNT => 3000))`, f.start.Format(time.DateTime))); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, f.dir, map[string]string{
		"connections.yaml": fmt.Sprintf(`version: 1
connections:
  sf: {kind: snowflake, access: read_only, account: SNOWSIM, host: 127.0.0.1, port: %d, protocol: http, user: SLUICE,
       database: ACME, schema: CRM, auth: {method: password, password: {env: SF_PASSWORD}}}
  ch: {kind: clickhouse, access: read_write, host: %s, auth: {method: none}}
`, f.sf.Port, f.ch.Addr),
		"p/q.sql": `SELECT ID, LABEL, BIG, "AT" FROM EVENTS WHERE "AT" >= :window_start AND "AT" < :window_end`,
	})
	f.pipeline(t, columns)
	t.Setenv("SF_PASSWORD", "sluice")
	return f
}

func (f *pullFixture) pipeline(t *testing.T, columns string) {
	writeFiles(t, f.dir, map[string]string{"p/pipeline.yaml": fmt.Sprintf(`version: 1
name: p
streams:
  events:
    source:
      connection: sf
      query: q.sql
      incremental: {cursor: AT, start: %s, window: 3d}
    columns:
%s
    destination: {connection: ch, table: %s.events, mode: append, create: true}
`, f.start.Format(time.DateOnly), columns, f.ch.Name)})
}

func (f *pullFixture) run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return runFolder(t, f.dir, args...)
}

// runFolder runs a command on the pipeline folder dir/p with the
// connections file and state (but for dry-run, which keeps none) in dir.
func runFolder(t *testing.T, dir string, args ...string) (string, string, int) {
	t.Helper()
	all := []string{args[0], "--connections", filepath.Join(dir, "connections.yaml")}
	if args[0] != "dry-run" {
		all = append(all, "--state", filepath.Join(dir, "state.db"))
	}
	all = append(all, args[1:]...)
	return sluice(t, append(all, filepath.Join(dir, "p"))...)
}

func (f *pullFixture) count(t *testing.T) string {
	t.Helper()
	var n string
	if err := f.ch.Conn.QueryRow(context.Background(), "SELECT toString(count()) FROM "+f.ch.Name+".events").Scan(&n); err != nil {
		return "no table: " + err.Error()
	}
	return n
}

const goodColumns = `      id:    {type: Int64}
      label: {type: String}
      big:   {type: "Decimal(38, 0)"}
      at:    {type: "DateTime('UTC')", allow_lossy: true}`

// TestPullSurvivesSessionExpiryAndFailures: in the middle of a backfill
// the session expires and the server answers 503s; the driver renews and
// retries, and the run loads every row once.
func TestPullSurvivesSessionExpiryAndFailures(t *testing.T) {
	f := newPullFixture(t, goodColumns)
	f.sf.ExpireSessionsAfter(4)
	f.sf.FailRequests("/queries/v1/query-request", 6, 2, 503)
	f.sf.FailRequests("/chunks/", 1, 1, 502)
	if out, errOut, code := f.run(t, "run"); code != 0 {
		t.Fatalf("run: exit %d\n%s%s", code, out, errOut)
	}
	if got := f.count(t); got != "3000" {
		t.Errorf("rows = %s, want 3000", got)
	}
	renewed := 0
	for _, q := range f.sf.QueryHistory() {
		if strings.Contains(q.SQL, "FROM EVENTS") {
			renewed++
		}
	}
	if renewed < 11 {
		t.Errorf("%d window queries ran, want one per window", renewed)
	}
}

// TestBadDataStopsTheWindow: each kind of bad value stops its window with
// an error naming stream, window, column and row; the window is not
// committed, and the windows before it are.
func TestBadDataStopsTheWindow(t *testing.T) {
	for _, tc := range []struct {
		name, columns, setup, want, kept string
	}{
		// BIG reaches 2148000000 at ID 2148, row 421 of the fifth window.
		{"overflow", strings.Replace(goodColumns, `big:   {type: "Decimal(38, 0)"}`, `big:   {type: Int32}`, 1), "",
			"column big, row 421: 2148000000 overflows Int32", "1728"},
		// ID 1000 is row 137 of the third window.
		{"null", goodColumns, "UPDATE ACME.CRM.EVENTS SET LABEL = NULL WHERE ID = 1000",
			"column label, row 137: NULL into the non-nullable column type String", "864"},
		{"expression", strings.Replace(goodColumns, `label: {type: String}`, `label: {expr: "ID == 1000 ? int(LABEL) : LABEL", type: String}`, 1), "",
			"column label, row 137: expr: int: \"label 1000\" is not an integer", "864"},
		// The third window's result arrives with bytes that are not UTF-8
		// in the row of ID 1000, row 137 counting from one (DuckDB itself holds valid
		// UTF-8 only).
		{"invalid UTF-8", goodColumns, "corrupt:FROM EVENTS:2:136",
			"column label, row 137: invalid UTF-8 in a String value", "864"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newPullFixture(t, tc.columns)
			if spec, ok := strings.CutPrefix(tc.setup, "corrupt:"); ok {
				parts := strings.Split(spec, ":")
				skip, _ := strconv.Atoi(parts[1])
				row, _ := strconv.Atoi(parts[2])
				f.sf.CorruptText(parts[0], skip, row)
			} else if tc.setup != "" {
				if err := f.sf.Exec(context.Background(), tc.setup); err != nil {
					t.Skipf("setup: %v", err)
				}
			}
			out, errOut, code := f.run(t, "run")
			if code == 0 {
				t.Fatalf("run succeeded\n%s", out)
			}
			if !strings.Contains(errOut, "stream events, window [") || !strings.Contains(errOut, tc.want) {
				t.Errorf("error output lacks %q:\n%s", tc.want, errOut)
			}
			st, _, _ := f.run(t, "state")
			if !strings.Contains(st, "failed") {
				t.Errorf("the ledger does not show the failed window:\n%s", st)
			}
			// 432 rows a window (10-minute steps, 3-day windows): the
			// windows before the bad one are committed, nothing after.
			if got := f.count(t); got != tc.kept {
				t.Errorf("rows = %s, want the %s of the windows before the bad one", got, tc.kept)
			}
		})
	}
}

// TestDryRunWritesNothing samples rows through the real source and
// mapping and prints them, while both databases and the state file stay
// as they were.
func TestDryRunWritesNothing(t *testing.T) {
	f := newPullFixture(t, strings.Replace(goodColumns, `label: {type: String}`, `label: {expr: "upper(LABEL)", type: String}`, 1))
	before := len(f.sf.QueryHistory())
	out, errOut, code := f.run(t, "dry-run", "--limit", "3")
	if code != 0 {
		t.Fatalf("dry-run: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"id Int64 | label String | big Decimal(38, 0) | at DateTime('UTC')", "LABEL 0", "LABEL 2", "3 rows read, 3 after the filter; nothing written"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry-run output lacks %q:\n%s", want, out)
		}
	}
	jsonOut, _, code := f.run(t, "dry-run", "--limit", "2", "--format", "json")
	if code != 0 || !strings.Contains(jsonOut, `"rows_read": 2`) {
		t.Errorf("json dry-run: exit %d\n%s", code, jsonOut)
	}
	if got := f.count(t); !strings.HasPrefix(got, "no table") {
		t.Errorf("the destination table exists after a dry run: %s", got)
	}
	if _, err := os.Stat(filepath.Join(f.dir, "state.db")); !os.IsNotExist(err) {
		t.Errorf("the state file exists after a dry run: %v", err)
	}
	for _, q := range f.sf.QueryHistory()[before:] {
		if first := strings.ToUpper(strings.Fields(q.SQL)[0]); first != "SELECT" && first != "SHOW" {
			t.Errorf("a dry run sent %q to Snowflake", q.SQL)
		}
	}
}

// snowsimConnections is a connections.yaml with a Snowflake connection sf
// to snowsim at port (user SLUICE, password from $SF_PASSWORD, the given
// access, database and schema) and a ClickHouse connection ch at addr.
func snowsimConnections(port int, access, database, schema, chAddr string) string {
	return fmt.Sprintf(`version: 1
connections:
  sf: {kind: snowflake, access: %s, account: SNOWSIM, host: 127.0.0.1, port: %d, protocol: http, user: SLUICE,
       database: %s, schema: %s, auth: {method: password, password: {env: SF_PASSWORD}}}
  ch: {kind: clickhouse, access: read_write, host: %s, auth: {method: none}}
`, access, port, database, schema, chAddr)
}
