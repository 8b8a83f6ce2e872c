//go:build duckdb_arrow

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hockeystack/sluice/engine/clickhouse/clickhousetest"
	"github.com/hockeystack/sluice/engine/snowflake/snowflaketest"
	"github.com/hockeystack/sluice/engine/state"
)

// TestServeOneMachine runs `sluice serve` as a process on two pipelines
// whose streams are due at start: one loads every window; the other's
// Snowflake user has been revoked, so it is paused after one failed
// attempt while the first keeps running. /healthz and /metrics say so; a
// folder broken before SIGHUP keeps its last good plan; SIGTERM ends the
// daemon cleanly.
func TestServeOneMachine(t *testing.T) {
	sf := snowflaketest.Start(t, snowflaketest.Options{Users: []snowflaketest.User{{Name: "SLUICE", Password: "sluice"}, {Name: "REVOKED", Password: "sluice"}}})
	ch := clickhousetest.NewDB(t)
	start := time.Now().UTC().AddDate(0, 0, -20).Truncate(24 * time.Hour)
	if err := sf.Exec(context.Background(), fmt.Sprintf(`CREATE DATABASE ACME; CREATE SCHEMA ACME.CRM;
		CREATE TABLE ACME.CRM.EVENTS (ID NUMBER(18,0) NOT NULL, LABEL VARCHAR, AT TIMESTAMP_NTZ);
		INSERT INTO ACME.CRM.EVENTS SELECT SEQ4(), 'label ' || SEQ4(), DATEADD(minute, SEQ4() * 10, '%s'::TIMESTAMP_NTZ)
		FROM TABLE(GENERATOR(ROWCOUNT => 2500))`, start.Format(time.DateTime))); err != nil {
		t.Fatal(err)
	}
	sf.RemoveUser("REVOKED")
	dir := t.TempDir()
	pipeline := func(name, conn, table string) string {
		return fmt.Sprintf(`version: 1
name: %s
schedule: "0 3 * * *"
timezone: Europe/Berlin
streams:
  events:
    source:
      connection: %s
      query: q.sql
      incremental: {cursor: AT, start: %s, window: 5d}
    columns:
      id:    {type: Int64}
      label: {type: String}
      at:    {type: "DateTime('UTC')", allow_lossy: true}
    destination: {connection: ch, table: %s.%s, mode: append, create: true}
`, name, conn, start.Format(time.DateOnly), ch.Name, table)
	}
	q := `SELECT ID, LABEL, "AT" FROM EVENTS WHERE "AT" >= :window_start AND "AT" < :window_end`
	writeFiles(t, dir, map[string]string{
		"connections.yaml": fmt.Sprintf(`version: 1
connections:
  sf: {kind: snowflake, access: read_only, account: SNOWSIM, host: 127.0.0.1, port: %d, protocol: http, user: SLUICE,
       database: ACME, schema: CRM, auth: {method: password, password: {env: SF_PASSWORD}}}
  sf_revoked: {kind: snowflake, access: read_only, account: SNOWSIM, host: 127.0.0.1, port: %d, protocol: http, user: REVOKED,
       database: ACME, schema: CRM, auth: {method: password, password: {env: SF_PASSWORD}}}
  ch: {kind: clickhouse, access: read_write, host: %s, auth: {method: none}}
`, sf.Port, sf.Port, ch.Addr),
		"good/pipeline.yaml": pipeline("good", "sf", "events"), "good/q.sql": q,
		"revoked/pipeline.yaml": pipeline("revoked", "sf_revoked", "events_revoked"), "revoked/q.sql": q,
	})
	// serve finds the pipeline folders below the one it is given.
	cmd := exec.Command(os.Args[0], "serve", "--listen", "127.0.0.1:0", "--state", filepath.Join(dir, "state.db"), dir)
	cmd.Env = append(os.Environ(), "SLUICE_RUN_AS_CLI=1", "SF_PASSWORD=sluice", "SLUICE_CONNECTIONS="+filepath.Join(dir, "connections.yaml"))
	var logs strings.Builder
	cmd.Stderr = &logs
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	m := regexp.MustCompile(`http://(\S+)`).FindStringSubmatch(line)
	if err != nil || m == nil {
		t.Fatalf("serve did not start: %q %v\n%s", line, err, logs.String())
	}
	go io.Copy(io.Discard, out)
	get := func(path string) string {
		resp, err := http.Get("http://" + m[1] + path)
		if err != nil {
			return err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	deadline := time.Now().Add(90 * time.Second)
	for !(strings.Contains(get("/metrics"), `sluice_runs_total{pipeline="good",stream="events",result="ok"} 1`) &&
		strings.Contains(get("/metrics"), `sluice_runs_total{pipeline="revoked",stream="events",result="paused"} 1`)) {
		if time.Now().After(deadline) {
			t.Fatalf("the runs did not finish:\n%s\nlogs:\n%s", get("/metrics"), logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	var n uint64
	if err := ch.Conn.QueryRow(context.Background(), "SELECT count() FROM "+ch.Name+".events").Scan(&n); err != nil || n != 2500 {
		t.Errorf("good pipeline: %d rows, %v; want 2500", n, err)
	}
	metrics := get("/metrics")
	for _, want := range []string{`sluice_rows_total{pipeline="good",stream="events"} 2500`, `sluice_windows_total{pipeline="good",stream="events",result="committed"} 5`, `sluice_freshness_lag_seconds{pipeline="good",stream="events"}`, `sluice_bytes_total{pipeline="good",stream="events"} `} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s:\n%s", want, metrics)
		}
	}
	// A paused pipeline makes the daemon unhealthy, and says why.
	if h := get("/healthz"); !strings.HasPrefix(h, "unhealthy: 2 pipeline(s), 1 paused, 0 stream(s) failing") || !strings.Contains(h, "paused revoked: credentials rejected") {
		t.Errorf("healthz: %s", h)
	}
	if resp, err := http.Get("http://" + m[1] + "/healthz"); err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("healthz with a paused pipeline: %v %v, want 503", resp.Status, err)
	} else {
		resp.Body.Close()
	}
	if c := strings.Count(logs.String(), `"msg":"credentials rejected`); c != 1 {
		t.Errorf("%d credential failures logged, want one attempt:\n%s", c, logs.String())
	}
	// A folder broken on disk keeps its last good plan after SIGHUP; a new
	// one is found and served.
	writeFiles(t, dir, map[string]string{"good/pipeline.yaml": "version: 1\nname: good\nstreams: {}\nbogus: 1\n",
		"more/extra/pipeline.yaml": strings.Replace(pipeline("extra", "sf", "events_extra"), "window: 5d", "window: 10d", 1), "more/extra/q.sql": q})
	cmd.Process.Signal(syscall.SIGHUP)
	for !strings.Contains(get("/healthz"), "unhealthy: 3 pipeline(s), 1 paused, 0 stream(s) failing, 1 folder(s) failing to reload") {
		if time.Now().After(deadline) {
			t.Fatalf("reload not reported: %s\n%s", get("/healthz"), logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve ended with %v\n%s", err, logs.String())
	}
	st, err := state.Open(filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if reason, _, paused, _ := st.Paused(context.Background(), "revoked"); !paused || !strings.Contains(reason, "390100") {
		t.Errorf("revoked: paused %v, %q", paused, reason)
	}
	if _, _, paused, _ := st.Paused(context.Background(), "good"); paused {
		t.Error("the good pipeline is paused")
	}
	st.Close()
	hist, errOut, code := sluice(t, "history", "--state", filepath.Join(dir, "state.db"), "--connections", filepath.Join(dir, "connections.yaml"), filepath.Join(dir, "good"))
	if code != 0 || !strings.Contains(hist, "Runs of good, newest first") || strings.Count(hist, "succeeded") != 5 {
		t.Errorf("history: exit %d, want five runs (one window each)\n%s%s", code, hist, errOut)
	}
	hist, _, code = sluice(t, "history", "--json", "--limit", "2", "--state", filepath.Join(dir, "state.db"), "--connections", filepath.Join(dir, "connections.yaml"), filepath.Join(dir, "good"))
	if code != 0 || strings.Count(hist, `"status": "succeeded"`) != 2 || !strings.Contains(hist, `"seconds": `) {
		t.Errorf("history --json: exit %d\n%s", code, hist)
	}
	if out, errOut, code := sluice(t, "resume", "--state", filepath.Join(dir, "state.db"), "revoked"); code != 0 || out != "revoked: resumed\n" {
		t.Fatalf("resume: exit %d\n%s%s", code, out, errOut)
	}
	if out, errOut, code := sluice(t, "resume", "--state", filepath.Join(dir, "state.db"), "good"); code != 0 || out != "good: not paused\n" {
		t.Errorf("resume of a pipeline that is not paused: exit %d\n%s%s", code, out, errOut)
	}
	if out, errOut, code := sluice(t, "resume", "--state", filepath.Join(dir, "state.db"), "no_such_pipeline"); code != 1 || !strings.Contains(errOut, "has no pipeline no_such_pipeline") {
		t.Errorf("resume of an unknown pipeline: exit %d\n%s%s", code, out, errOut)
	}
	st2, _ := state.Open(filepath.Join(dir, "state.db"))
	defer st2.Close()
	if _, _, paused, _ := st2.Paused(context.Background(), "revoked"); paused {
		t.Error("still paused after resume")
	}
}

// TestServeDrainsOnSIGTERM: SIGTERM in the middle of a window lets that
// window finish and commit, starts no other, and ends the daemon cleanly.
func TestServeDrainsOnSIGTERM(t *testing.T) {
	f := newPullFixture(t, goodColumns)
	f.sf.SlowChunks(400 * time.Millisecond)
	cmd := exec.Command(os.Args[0], "serve", "--listen", "", "--state", filepath.Join(f.dir, "state.db"), filepath.Join(f.dir, "p"))
	cmd.Env = append(os.Environ(), "SLUICE_RUN_AS_CLI=1", "SF_PASSWORD=sluice", "SLUICE_CONNECTIONS="+filepath.Join(f.dir, "connections.yaml"))
	var logs strings.Builder
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	st, err := state.Open(filepath.Join(f.dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	windows := func() (loading, committed int) {
		ws, _ := st.Windows(context.Background(), "p", "events")
		for _, w := range ws {
			switch w.State {
			case state.Loading:
				loading++
			case state.Committed:
				committed++
			}
		}
		return
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if l, _ := windows(); l == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no window started\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve ended with %v\n%s", err, logs.String())
	}
	if l, c := windows(); l != 0 || c != 1 {
		t.Errorf("after SIGTERM: %d window(s) loading, %d committed; want the running one committed and no other started\n%s", l, c, logs.String())
	}
}

// TestServeUnhealthyWhileFailing: a stream whose run fails makes /healthz
// answer 503 and name the stream and why.
func TestServeUnhealthyWhileFailing(t *testing.T) {
	f := newFleet(t, "0 3 * * *", []tickPipeline{{name: "broken", behind: 1}})
	writeFiles(t, f.dir, map[string]string{"broken/q.sql": `SELECT ID, AMOUNT, "AT" FROM NO_SUCH_TABLE WHERE "AT" >= :window_start AND "AT" < :window_end`})
	d := f.serve(t, filepath.Join(f.dir, "state.db"))
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + d.addr + "/healthz")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusServiceUnavailable && strings.Contains(string(b), "unhealthy: 1 pipeline(s), 0 paused, 1 stream(s) failing") &&
				strings.Contains(string(b), "failing broken/events: the live plan has problems") && strings.Contains(string(b), "q.sql on sf_broken: 002003") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("healthz: %d %s\n%s", resp.StatusCode, b, lastLines(d.log(), 20))
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	d.stop(t)
}
