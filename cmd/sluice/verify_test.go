//go:build duckdb_arrow

package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/hockeystack/sluice/engine/clickhouse/clickhousetest"
	"github.com/hockeystack/sluice/engine/snowflake/snowflaketest"
)

// TestVerifyRepairsRestartDuplication reproduces the duplication a
// REPLACE PARTITION and a restart of ClickHouse 18.16 make (the parts it
// replaced come back beside their replacement), and a value changed in
// place: verify finds every window they touch, --repair runs exactly
// those again, and the table is exact.
func TestVerifyRepairsRestartDuplication(t *testing.T) {
	srv, err := clickhousetest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	conn, err := srv.Connect("default")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := conn.Exec(ctx, "CREATE DATABASE v"); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	f := newPullFixtureOn(t, goodColumns, &clickhousetest.DB{Server: srv, Name: "v"})
	if out, errOut, code := f.run(t, "run"); code != 0 {
		t.Fatalf("run: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code := f.run(t, "verify")
	if code != 0 || !strings.Contains(out, "events: 11 window(s) verified, all match") {
		t.Fatalf("verify after the run: exit %d\n%s%s", code, out, errOut)
	}

	// What a REPLACE PARTITION and a restart do on 18.16, by hand: the
	// first month's partition replaced by a copy of itself, then the
	// server restarted before its cleanup.
	db := f.connect(t)
	var part string
	if err := db.QueryRow(ctx, "SELECT min(partition_id) FROM system.parts WHERE database = 'v' AND table = 'events' AND active").Scan(&part); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"CREATE TABLE v.copy AS v.events",
		"ALTER TABLE v.copy ATTACH PARTITION ID '" + part + "' FROM v.events",
		"ALTER TABLE v.events REPLACE PARTITION ID '" + part + "' FROM v.copy",
		"DROP TABLE v.copy",
	} {
		if err := db.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	if err := srv.Restart(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	f.ch.Conn = f.connect(t)
	defer f.ch.Conn.Close()
	n := f.count(t)
	t.Logf("after the restart the table holds %s rows; the run wrote 3000", n)
	if n == "3000" {
		t.Fatalf("the restart brought no replaced part back (the server's cleanup won); the test needs the duplication")
	}
	db = f.connect(t)
	defer db.Close()

	out, errOut, code = f.run(t, "verify")
	if code != 1 || !strings.Contains(out, "differ from the ledger") {
		t.Fatalf("verify after the damage: exit %d\n%s%s", code, out, errOut)
	}
	t.Logf("verify:\n%s", out)
	differing := strings.Count(out, "the ledger has")
	if differing < 2 {
		t.Errorf("verify found %d windows that differ:\n%s", differing, out)
	}
	out, errOut, code = f.run(t, "verify", "--repair")
	if code != 0 || !strings.Contains(out, "repaired: every window matches the ledger") {
		t.Fatalf("verify --repair: exit %d\n%s%s", code, out, errOut)
	}
	t.Logf("verify --repair:\n%s", out)
	if n := f.count(t); n != "3000" {
		t.Errorf("after the repair the table holds %s rows, want 3000", n)
	}
	var label string
	if err := db.QueryRow(ctx, "SELECT label FROM v.events WHERE id = 2999").Scan(&label); err != nil || label != "label 2999" {
		t.Errorf("row 2999 after the repair: %q, %v", label, err)
	}
	if out, errOut, code := f.run(t, "verify"); code != 0 || strings.Contains(out, "differ") {
		t.Errorf("verify after the repair: exit %d\n%s%s", code, out, errOut)
	}

	// One value changed in place: the same count, another checksum.
	if err := db.Exec(ctx, "ALTER TABLE v.events UPDATE label = 'changed' WHERE id = 2999"); err != nil {
		t.Fatal(err)
	}
	waitMutations(t, db)
	out, errOut, code = f.run(t, "verify", "--repair")
	if code != 0 || strings.Count(out, "the ledger has 408 rows") != 1 || !strings.Contains(out, "the destination 408") {
		t.Fatalf("verify --repair after a changed value: exit %d\n%s%s", code, out, errOut)
	}
	if err := db.QueryRow(ctx, "SELECT label FROM v.events WHERE id = 2999").Scan(&label); err != nil || label != "label 2999" {
		t.Errorf("row 2999 after the repair: %q, %v", label, err)
	}
}

// connect opens a connection to the fixture's ClickHouse.
func (f *pullFixture) connect(t *testing.T) driver.Conn {
	t.Helper()
	conn, err := f.ch.Server.Connect("default")
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

// waitMutations waits until the server has no mutation left to do.
func waitMutations(t *testing.T, db driver.Conn) {
	t.Helper()
	for range 600 {
		var n uint64
		if err := db.QueryRow(context.Background(), "SELECT count() FROM system.mutations WHERE NOT is_done").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("mutations still pending after 30 s")
}

// TestServeReportsDrift: serve verifies the streams it runs on a
// schedule. Rows doubled behind its back make /healthz unhealthy and
// /metrics count the windows; `sluice verify --repair` on the same state
// puts them right.
func TestServeReportsDrift(t *testing.T) {
	f := newFleet(t, "0 3 * * *", []tickPipeline{{name: "drifty", behind: 5, append: true}})
	stateFile := filepath.Join(f.dir, "state.db")
	d := f.serve(t, stateFile, "--verify-every", "500ms")
	healthz := func() (int, string) {
		resp, err := http.Get("http://" + d.addr + "/healthz")
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	series := `{pipeline="drifty",stream="events"}`
	waitFor(t, d, 60*time.Second, "a tick and a verify that matches", func() bool {
		code, _ := healthz()
		return code == http.StatusOK && d.metric("sluice_ticks_total", series) == 1 && d.metric("sluice_verifications_total", `{pipeline="drifty",stream="events",result="match"}`) >= 1
	})
	// Double every row older than two days, as a restart that brought
	// replaced parts back would.
	old := f.today.AddDate(0, 0, -2).Format(time.DateTime)
	if err := f.ch.Conn.Exec(context.Background(), fmt.Sprintf("INSERT INTO %[1]s.drifty (id, amount, at) SELECT id, amount, at FROM %[1]s.drifty WHERE at < toDateTime('%[2]s', 'UTC')", f.ch.Name, old)); err != nil {
		t.Fatal(err)
	}
	var body string
	waitFor(t, d, 30*time.Second, "the drift reported", func() bool {
		var code int
		code, body = healthz()
		return code == http.StatusServiceUnavailable && strings.Contains(body, "1 stream(s) drifting") &&
			strings.Contains(body, "drifting drifty/events: 3 window(s) differ from the ledger") && d.metric("sluice_windows_drifted", series) == 3
	})
	t.Logf("healthz:\n%s", body)
	d.stop(t)
	t.Setenv("SF_PASSWORD", "sluice")
	out, errOut, code := sluice(t, "verify", "--repair", "--connections", filepath.Join(f.dir, "connections.yaml"), "--state", stateFile, filepath.Join(f.dir, "drifty"))
	if code != 0 || !strings.Contains(out, "repaired: every window matches the ledger") {
		t.Fatalf("verify --repair: exit %d\n%s%s", code, out, errOut)
	}
}

// waitFor polls cond until it holds, failing the test after limit with
// the daemon's last log lines.
func waitFor(t *testing.T, d *daemon, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			m := d.metrics()
			var keys []string
			for k := range m {
				if strings.Contains(k, "verif") || strings.Contains(k, "drift") || strings.Contains(k, "ticks") {
					keys = append(keys, fmt.Sprint(k, " ", m[k]))
				}
			}
			t.Fatalf("no %s within %v\n%s\n%s", what, limit, strings.Join(keys, "\n"), lastLines(d.log(), 20))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestVerifyPush: a push's windows are verified against Snowflake too;
// a row changed there is found by its checksum and put back by --repair.
func TestVerifyPush(t *testing.T) {
	f := newPushFixture(t, snowflaketest.Options{Users: []snowflaketest.User{{Name: "WRITER", Password: "sluice"}}})
	f.pipeline(t, f.eventsStream())
	if out, errOut, code := f.run(t, "run"); code != 0 {
		t.Fatalf("run: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code := f.run(t, "verify")
	if code != 0 || !strings.Contains(out, "all match") || strings.Contains(out, "without a digest") {
		t.Fatalf("verify after the push: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := f.db.ExecContext(context.Background(), "UPDATE ACME.CRM.EVENTS SET NOTE = 'changed' WHERE ID = 't5'"); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = f.run(t, "verify", "--repair")
	if code != 0 || strings.Count(out, "the ledger has") != 1 || !strings.Contains(out, "repaired") {
		t.Fatalf("verify --repair after a changed row: exit %d\n%s%s", code, out, errOut)
	}
	if got := f.sfRows(t, "SELECT NOTE FROM ACME.CRM.EVENTS WHERE ID = 't5'", joined); got[0] != "note 5" {
		t.Errorf("row t5 after the repair: %v", got)
	}
}
