//go:build duckdb_arrow

package main

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/hockeystack/sluice/engine/clickhouse/clickhousetest"
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
