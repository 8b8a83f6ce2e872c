//go:build duckdb_arrow

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hockeystack/sluice/engine/clickhouse/clickhousetest"
	"github.com/hockeystack/sluice/engine/snowflake/snowflaketest"
)

// TestCrashRecovery kills `sluice run` (SIGKILL, no cleanup) at points
// inside a window — before the destination write, with the window staged
// but not visible, with the window's earlier rows deleted and none or
// some of the staged partitions attached, after the write
// but before the ledger commit, and after a commit between windows — then
// runs again and checks that the destination holds exactly the source's
// rows: counts and per-window checksums.
func TestCrashRecovery(t *testing.T) {
	sf := snowflaketest.Start(t, snowflaketest.Options{})
	ctx := context.Background()
	start := time.Now().UTC().AddDate(0, 0, -70).Truncate(24 * time.Hour)
	if err := sf.Exec(ctx, fmt.Sprintf(`CREATE DATABASE ACME; CREATE SCHEMA ACME.CRM;
		CREATE TABLE ACME.CRM.ACTIVITIES (ACTIVITY_ID VARCHAR NOT NULL, AMOUNT NUMBER(12,2), ACTIVITY_AT TIMESTAMP_NTZ);
		INSERT INTO ACME.CRM.ACTIVITIES SELECT 'a' || SEQ4(), (SEQ4() %% 1000) / 8, DATEADD(minute, SEQ4() * 7, '%s'::TIMESTAMP_NTZ)
		FROM TABLE(GENERATOR(ROWCOUNT => 12000))`, start.Format(time.DateTime))); err != nil {
		t.Fatal(err)
	}
	// What each 7-day window holds at the source, by window index.
	cfg := sf.Config("sluice", "sluice")
	cfg.Database = "ACME"
	src := snowflaketest.Open(cfg)
	defer src.Close()
	want := map[int]string{}
	rows, err := src.QueryContext(ctx, fmt.Sprintf(`SELECT FLOOR(DATEDIFF(second, '%s'::TIMESTAMP_NTZ, ACTIVITY_AT) / 604800)::INT AS W,
		COUNT(*) AS N, SUM(AMOUNT) AS S FROM CRM.ACTIVITIES GROUP BY 1 ORDER BY 1`, start.Format(time.DateTime)))
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var w, n int
		var sum string
		rows.Scan(&w, &n, &sum)
		want[w] = fmt.Sprintf("%d/%s", n, strings.TrimRight(strings.TrimRight(sum, "0"), "."))
	}
	rows.Close()
	if len(want) < 8 {
		t.Fatalf("source spans %d windows, want at least 8", len(want))
	}

	for _, crash := range []string{"begun:3", "staged:4", "deleted:5", "attached-partition:5", "written:6", "committed:7"} {
		t.Run(crash, func(t *testing.T) {
			ch := clickhousetest.NewDB(t)
			dir := t.TempDir()
			writeFiles(t, dir, map[string]string{
				"connections.yaml": snowsimConnections(sf.Port, "read_only", "ACME", "CRM", ch.Addr),
				"p/pipeline.yaml": fmt.Sprintf(`version: 1
name: p
streams:
  activity:
    source:
      connection: sf
      query: q.sql
      incremental: {cursor: ACTIVITY_AT, start: %s, window: 7d}
    columns:
      activity_id: {type: String}
      amount:      {type: "Decimal(12, 2)"}
      activity_at: {type: "DateTime('UTC')", allow_lossy: true}
    destination: {connection: ch, table: %s.activity, mode: append, create: true}
`, start.Format(time.DateOnly), ch.Name),
				"p/q.sql": "SELECT ACTIVITY_ID, AMOUNT, ACTIVITY_AT FROM ACTIVITIES WHERE ACTIVITY_AT >= :window_start AND ACTIVITY_AT < :window_end",
			})
			cli := func(crashAt string) (string, error) { return runCrashing(dir, crashAt) }
			out, err := cli(crash)
			if err == nil || !strings.Contains(err.Error(), "killed") {
				t.Fatalf("the crashing run ended with %v, want a kill\n%s", err, out)
			}
			if out, err := cli(""); err != nil {
				t.Fatalf("the run after the crash: %v\n%s", err, out)
			}
			got := map[int]string{}
			r, err := ch.Conn.Query(ctx, fmt.Sprintf(`SELECT toInt32(intDiv(toUInt32(activity_at) - toUInt32(toDateTime('%s', 'UTC')), 604800)) AS w,
				toString(count()), toString(sum(amount)) FROM %s.activity GROUP BY w ORDER BY w`, start.Format(time.DateTime), ch.Name))
			if err != nil {
				t.Fatal(err)
			}
			for r.Next() {
				var w int32
				var n, sum string
				r.Scan(&w, &n, &sum)
				got[int(w)] = n + "/" + strings.TrimRight(strings.TrimRight(sum, "0"), ".")
			}
			r.Close()
			var diffs []string
			for w := range union(want, got) {
				if want[w] != got[w] {
					diffs = append(diffs, fmt.Sprintf("window %d: source %s, destination %s", w, want[w], got[w]))
				}
			}
			sort.Strings(diffs)
			if len(diffs) > 0 {
				t.Errorf("after a crash at %s:\n%s", crash, strings.Join(diffs, "\n"))
			}
		})
	}
}

// runCrashing runs `sluice run` on dir/p as a child process that kills
// itself (SIGKILL) at the point crashAt names (SLUICE_TEST_CRASH); "" runs
// to the end.
func runCrashing(dir, crashAt string) (string, error) {
	cmd := exec.Command(os.Args[0], "run", "--state", filepath.Join(dir, "state.db"), filepath.Join(dir, "p"))
	cmd.Env = append(os.Environ(), "SLUICE_RUN_AS_CLI=1", "SF_PASSWORD=sluice", "SLUICE_TEST_CRASH="+crashAt,
		"SLUICE_CONNECTIONS="+filepath.Join(dir, "connections.yaml"))
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func union(a, b map[int]string) map[int]bool {
	out := map[int]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}
