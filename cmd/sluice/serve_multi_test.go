//go:build duckdb_arrow

package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hockeystack/sluice/engine/clickhouse/clickhousetest"
	"github.com/hockeystack/sluice/engine/snowflake/snowflaketest"
	"github.com/hockeystack/sluice/engine/state"
	"github.com/hockeystack/sluice/engine/state/pgtest"
	"github.com/hockeystack/sluice/internal/valuegen"
)

// TestServeManyMachines runs three `sluice serve` workers on one Postgres
// state, real ClickHouse and snowsim. The stream's windows spread over the
// workers, one window a job; one worker kills itself in the middle of a
// window (after the destination write, before the ledger commit) and
// another picks the window up once River takes the job for a dead
// worker's. At the end every window is committed once and the
// destination's counts and checksums per window equal the source's.
func TestServeManyMachines(t *testing.T) {
	pg := pgtest.Start(t)
	stateURL := pg.NewDatabase(t, "sluice")
	sf := snowflaketest.Start(t, snowflaketest.Options{})
	ch := clickhousetest.NewDB(t)
	const days = 30
	start := time.Now().UTC().AddDate(0, 0, -days).Truncate(24 * time.Hour)
	if err := sf.Exec(context.Background(), fmt.Sprintf(`CREATE DATABASE ACME; CREATE SCHEMA ACME.CRM;
		CREATE TABLE ACME.CRM.EVENTS (ID NUMBER(18,0) NOT NULL, AMOUNT NUMBER(12,2), AT TIMESTAMP_NTZ);
		INSERT INTO ACME.CRM.EVENTS SELECT SEQ4(), (SEQ4() %% 997) / 4, DATEADD(minute, SEQ4() * 17, '%s'::TIMESTAMP_NTZ)
		FROM TABLE(GENERATOR(ROWCOUNT => %d))`, start.Format(time.DateTime), days*24*60/17)); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"connections.yaml": fmt.Sprintf(`version: 1
connections:
  sf: {kind: snowflake, access: read_only, account: SNOWSIM, host: 127.0.0.1, port: %d, protocol: http, user: SLUICE,
       database: ACME, schema: CRM, auth: {method: password, password: {env: SF_PASSWORD}}}
  ch: {kind: clickhouse, access: read_write, host: %s, auth: {method: none}}
`, sf.Port, ch.Addr),
		"p/pipeline.yaml": fmt.Sprintf(`version: 1
name: p
schedule: "* * * * *"
streams:
  events:
    source:
      connection: sf
      query: q.sql
      incremental: {cursor: AT, start: %s, window: 1d}
    columns:
      id:     {type: Int64}
      amount: {type: "Decimal(12, 2)"}
      at:     {type: "DateTime('UTC')", allow_lossy: true}
    destination: {connection: ch, table: %s.events, mode: append, create: true}
`, start.Format(time.DateOnly), ch.Name),
		"p/q.sql": `SELECT ID, AMOUNT, "AT" FROM EVENTS WHERE "AT" >= :window_start AND "AT" < :window_end`,
	})
	type worker struct {
		cmd  *exec.Cmd
		logs *strings.Builder
		mu   *sync.Mutex
	}
	startWorker := func(crash string) worker {
		cmd := exec.Command(os.Args[0], "serve", "--listen", "", "--state", stateURL, "--workers", "1", "--window-timeout", "4s", "--retry-after", "1s", filepath.Join(dir, "p"))
		cmd.Env = append(os.Environ(), "SLUICE_RUN_AS_CLI=1", "SF_PASSWORD=sluice", "SLUICE_CONNECTIONS="+filepath.Join(dir, "connections.yaml"), "SLUICE_TEST_CRASH="+crash)
		w := worker{cmd: cmd, logs: &strings.Builder{}, mu: &sync.Mutex{}}
		errPipe, _ := cmd.StderrPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() {
			sc := bufio.NewScanner(errPipe)
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			for sc.Scan() {
				w.mu.Lock()
				w.logs.WriteString(sc.Text() + "\n")
				w.mu.Unlock()
			}
			io.Copy(io.Discard, errPipe)
		}()
		t.Cleanup(func() { cmd.Process.Kill() })
		return w
	}
	workers := []worker{startWorker("written:4"), startWorker(""), startWorker("")}
	st, err := state.Open(stateURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	want := days + 1 // the last window is cut at the time of the run
	deadline := time.Now().Add(3 * time.Minute)
	for {
		ws, _ := st.Windows(context.Background(), "p", "events")
		committed := 0
		for _, w := range ws {
			if w.State == state.Committed {
				committed++
			}
		}
		if committed >= want {
			break
		}
		if time.Now().After(deadline) {
			var all strings.Builder
			for i, w := range workers {
				w.mu.Lock()
				fmt.Fprintf(&all, "--- worker %d\n%s", i, w.logs.String())
				w.mu.Unlock()
			}
			t.Fatalf("%d of %d windows committed\n%s", committed, want, all.String())
		}
		time.Sleep(250 * time.Millisecond)
	}
	// The cron fires once a minute whatever the number of workers: River's
	// leader alone enqueues. Wait for the next tick.
	boundary := time.Now().Truncate(time.Minute).Add(time.Minute)
	time.Sleep(time.Until(boundary) + 8*time.Second)
	pgdb, err := sql.Open("pgx", stateURL)
	if err != nil {
		t.Fatal(err)
	}
	var ticks int
	if err := pgdb.QueryRow(`SELECT count(*) FROM river_job WHERE kind = 'sluice_run' AND created_at >= $1`, boundary).Scan(&ticks); err != nil || ticks != 1 {
		t.Errorf("the tick at %s queued %d jobs (%v), want one", boundary.Format(time.TimeOnly), ticks, err)
	}
	pgdb.Close()
	if err := workers[0].cmd.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("worker 0 ended with %v, want a kill", err)
	}
	busy := 0
	for _, w := range workers[1:] {
		w.cmd.Process.Signal(syscall.SIGTERM)
		if err := w.cmd.Wait(); err != nil {
			t.Errorf("worker ended with %v", err)
		}
		w.mu.Lock()
		if strings.Contains(w.logs.String(), `"msg":"window committed"`) {
			busy++
		}
		w.mu.Unlock()
	}
	workers[0].mu.Lock()
	if strings.Contains(workers[0].logs.String(), `"msg":"window committed"`) {
		busy++
	}
	workers[0].mu.Unlock()
	if busy < 2 {
		t.Errorf("windows ran on %d worker(s), want them spread", busy)
	}
	// Every window once: the source's counts and sums per day.
	src := map[int]string{}
	cfg := sf.Config("sluice", "sluice")
	cfg.Database = "ACME"
	db := snowflaketest.Open(cfg)
	defer db.Close()
	rows, err := db.Query(fmt.Sprintf(`SELECT DATEDIFF(day, '%s'::TIMESTAMP_NTZ, "AT") AS D, COUNT(*), TO_VARCHAR(SUM(AMOUNT)) FROM CRM.EVENTS GROUP BY 1`, start.Format(time.DateTime)))
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var d, n int
		var sum string
		rows.Scan(&d, &n, &sum)
		src[d] = fmt.Sprintf("%d/%s", n, valuegen.TrimZeros(sum))
	}
	rows.Close()
	dst := map[int]string{}
	r, err := ch.Conn.Query(context.Background(), fmt.Sprintf(`SELECT toInt32(intDiv(toUInt32(at) - %d, 86400)) AS d, toString(count()), toString(sum(amount)) FROM %s.events GROUP BY d`, start.Unix(), ch.Name))
	if err != nil {
		t.Fatal(err)
	}
	for r.Next() {
		var d int32
		var n, sum string
		r.Scan(&d, &n, &sum)
		dst[int(d)] = n + "/" + valuegen.TrimZeros(sum)
	}
	r.Close()
	var diffs []string
	for d := range union(src, dst) {
		if src[d] != dst[d] {
			diffs = append(diffs, fmt.Sprintf("day %d: source %s, destination %s", d, src[d], dst[d]))
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Errorf("destination differs:\n%s", strings.Join(diffs, "\n"))
	}
	ws, _ := st.Windows(context.Background(), "p", "events")
	retried := 0
	for _, w := range ws {
		if w.Attempts > 1 {
			retried++
		}
	}
	if len(ws) != want || retried < 1 {
		t.Errorf("%d windows in the ledger (want %d), %d run more than once (want the crashed one)", len(ws), want, retried)
	}
}
