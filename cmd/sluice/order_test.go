//go:build duckdb_arrow

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hockeystack/sluice/engine/clickhouse/clickhousetest"
	"github.com/hockeystack/sluice/engine/snowflake/snowflaketest"
)

// orderFixture is a pipeline whose push (a_totals) reads the ClickHouse
// table its pull (b_deals) writes: by name the push would run first.
func orderFixture(t *testing.T) (*snowflaketest.Server, *clickhousetest.DB, string) {
	t.Helper()
	sf := snowflaketest.Start(t, snowflaketest.Options{})
	ch := clickhousetest.NewDB(t)
	if err := sf.Exec(context.Background(), `CREATE DATABASE ACME; CREATE SCHEMA ACME.CRM;
		CREATE TABLE ACME.CRM.DEALS (ID NUMBER(18,0) NOT NULL, REGION VARCHAR NOT NULL, AMOUNT NUMBER(38,2) NOT NULL);
		INSERT INTO ACME.CRM.DEALS VALUES (1, 'east', 10.25), (2, 'east', 4.75), (3, 'west', 99999999999999999999.99), (4, 'north', 0.01)`); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	db := "crm_" + ch.Name // a database no stream has created yet
	writeFiles(t, dir, map[string]string{
		"connections.yaml": snowsimConnections(sf.Port, "read_write", "ACME", "CRM", ch.Addr),
		"p/pipeline.yaml": fmt.Sprintf(`version: 1
name: p
schedule: "0 3 * * *"
streams:
  a_totals:
    source: {connection: ch, query: totals.sql, incremental: false}
    columns:
      REGION: {from: region, type: VARCHAR(16), nullable: false}
      TOTAL:  {from: total, type: "NUMBER(38,2)"}
    destination: {connection: sf, table: ACME.CRM.TOTALS, mode: replace, create: true}
  b_deals:
    source: {connection: sf, query: deals.sql, incremental: false}
    columns:
      id:     {type: Int64}
      region: {type: String}
      amount: {type: "Decimal(38, 2)"}
    destination: {connection: ch, table: %s.deals, mode: replace, order_by: [id], create: true}
`, db),
		"p/deals.sql":  "SELECT ID, REGION, AMOUNT FROM DEALS",
		"p/totals.sql": fmt.Sprintf("SELECT region, sum(amount) AS total FROM %s.deals GROUP BY region", db),
	})
	t.Cleanup(func() { ch.Conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db) })
	t.Setenv("SF_PASSWORD", "sluice")
	return sf, ch, dir
}

func totals(t *testing.T, sf *snowflaketest.Server) string {
	t.Helper()
	_, rows, err := sf.Query(context.Background(), "SELECT REGION, TO_VARCHAR(TOTAL) FROM ACME.CRM.TOTALS ORDER BY REGION")
	if err != nil {
		return err.Error()
	}
	var out []string
	for _, r := range rows {
		out = append(out, strings.Join(r, "="))
	}
	return strings.Join(out, " ")
}

const wantTotals = "east=15.00 north=0.01 west=99999999999999999999.99"

// TestRunInDependencyOrder: on a fresh ClickHouse the plan shows the push
// after the pull it reads and says its source does not exist yet;
// dry-run says so instead of failing; run creates and fills the table,
// then pushes the exact totals.
func TestRunInDependencyOrder(t *testing.T) {
	sf, _, dir := orderFixture(t)
	out, errOut, code := sluice(t, "plan", "--live", "--connections", filepath.Join(dir, "connections.yaml"), filepath.Join(dir, "p"))
	if code != 0 || !strings.Contains(out, "Runs after: b_deals") || strings.Index(out, "Stream b_deals") > strings.Index(out, "Stream a_totals") ||
		!strings.Contains(out, "does not exist yet: stream b_deals creates it earlier in this run") {
		t.Errorf("plan --live: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = runFolder(t, dir, "dry-run")
	if code != 0 || !strings.Contains(out, "not sampled: its source") {
		t.Errorf("dry-run: exit %d\n%s%s", code, out, errOut)
	}
	if out, errOut, code = runFolder(t, dir, "run"); code != 0 {
		t.Fatalf("run: exit %d\n%s%s", code, out, errOut)
	}
	if got := totals(t, sf); got != wantTotals {
		t.Errorf("totals pushed: %s, want %s", got, wantTotals)
	}
}

// TestServeInDependencyOrder: serve runs the push of a tick after the
// pull it reads, though both are queued together.
func TestServeInDependencyOrder(t *testing.T) {
	sf, _, dir := orderFixture(t)
	cmd := exec.Command(os.Args[0], "serve", "--listen", "", "--workers", "4", "--state", filepath.Join(dir, "state.db"), filepath.Join(dir, "p"))
	cmd.Env = append(os.Environ(), "SLUICE_RUN_AS_CLI=1", "SLUICE_CONNECTIONS="+filepath.Join(dir, "connections.yaml"))
	var logs strings.Builder
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	deadline := time.Now().Add(90 * time.Second)
	for totals(t, sf) != wantTotals {
		if time.Now().After(deadline) {
			t.Fatalf("totals %s, want %s\n%s", totals(t, sf), wantTotals, logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()
	// Had the push run first, it would have failed (its table did not
	// exist) and been retried: no stream may fail.
	if strings.Contains(logs.String(), `"msg":"stream failed`) {
		t.Errorf("a stream failed: the push ran before the pull\n%s", logs.String())
	}
}
