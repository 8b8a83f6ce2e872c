//go:build duckdb_arrow

package main

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hockeystack/sluice/engine/clickhouse/clickhousetest"
	"github.com/hockeystack/sluice/engine/snowflake/snowflaketest"
)

// TestRunEndToEnd pulls a pipeline from the Snowflake simulator into a
// real clickhouse-server: a backfill, an incremental run after new rows
// arrive, and a forced backfill that replaces windows without
// duplicating them.
func TestRunEndToEnd(t *testing.T) {
	ch := clickhousetest.NewDB(t)
	sf := snowflaketest.Start(t, snowflaketest.Options{ChunkRows: 500})
	ctx := context.Background()
	if err := sf.Exec(ctx, `CREATE DATABASE ACME; CREATE SCHEMA ACME.CRM;
		CREATE TABLE ACME.CRM.CONTACTS (CONTACT_ID NUMBER(18,0) NOT NULL, EMAIL VARCHAR, PLAN VARCHAR, UPDATED_AT TIMESTAMP_NTZ);
		CREATE TABLE ACME.CRM.ACTIVITIES (ACTIVITY_ID VARCHAR NOT NULL, CONTACT_ID NUMBER(18,0), KIND VARCHAR, AMOUNT NUMBER(12,2), ACTIVITY_AT TIMESTAMP_NTZ)`); err != nil {
		t.Fatal(err)
	}
	// The history starts 400 days back; rows arrive every few hours of it.
	// Rows that arrive later carry recent cursor values, as updates do.
	base := time.Now().UTC().AddDate(0, 0, -400).Truncate(24 * time.Hour)
	seedRows := func(from, to int, at time.Time, step string) {
		t.Helper()
		q := fmt.Sprintf(`INSERT INTO ACME.CRM.CONTACTS SELECT SEQ4() + %[1]d, 'USER' || (SEQ4() + %[1]d) || '@EXAMPLE.COM', IFF((SEQ4() + %[1]d) %% 3 = 0, NULL, 'pro'),
			DATEADD(%[4]s, SEQ4() * 7, '%[3]s'::TIMESTAMP_NTZ) FROM TABLE(GENERATOR(ROWCOUNT => %[2]d));
			INSERT INTO ACME.CRM.ACTIVITIES SELECT 'a' || (SEQ4() + %[1]d), SEQ4() + %[1]d, IFF((SEQ4() + %[1]d) %% 2 = 0, 'call', 'email'), (SEQ4() + %[1]d) / 4,
			DATEADD(%[4]s, SEQ4() * 5, '%[3]s'::TIMESTAMP_NTZ) FROM TABLE(GENERATOR(ROWCOUNT => %[2]d))`, from, to-from, at.Format(time.DateTime), step)
		if err := sf.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	seedRows(0, 1200, base, "hour")
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"connections.yaml": fmt.Sprintf(`version: 1
connections:
  acme_snowflake:
    kind: snowflake
    access: read_only
    account: SNOWSIM
    host: 127.0.0.1
    port: %d
    protocol: http
    user: SLUICE
    database: ACME
    schema: CRM
    auth: {method: password, password: {env: SF_PASSWORD}}
  hs_clickhouse:
    kind: clickhouse
    access: read_write
    host: %s
    auth: {method: none}
`, sf.Port, ch.Addr),
		"acme/pipeline.yaml": fmt.Sprintf(`version: 1
name: acme
defaults:
  source:
    connection: acme_snowflake
    incremental: {cursor: UPDATED_AT, start: %[2]s, window: 1mo}
  destination: {connection: hs_clickhouse, create: true}
streams:
  contacts:
    source: {query: contacts.sql}
    columns:
      contact_id: {type: Int64}
      email:      {expr: "lower(EMAIL)", type: String}
      plan:       {type: "LowCardinality(String)", default: free}
      updated_at: {type: "DateTime('UTC')", allow_lossy: true}
    destination: {table: %[1]s.contacts, mode: upsert, key: [contact_id], version: updated_at}
  activity:
    source:
      query: activity.sql
      incremental: {cursor: ACTIVITY_AT, window: 7d}
    filter: KIND == 'call'
    columns:
      activity_id: {type: String}
      contact_id:  {type: Int64}
      amount:      {type: "Decimal(18, 2)"}
      activity_at: {type: "DateTime('UTC')", allow_lossy: true}
    destination: {table: %[1]s.activity, mode: append, order_by: [activity_at]}
`, ch.Name, base.Format(time.DateOnly)),
		"acme/contacts.sql": "SELECT CONTACT_ID, EMAIL, PLAN, UPDATED_AT FROM CONTACTS WHERE UPDATED_AT >= :window_start AND UPDATED_AT < :window_end",
		"acme/activity.sql": "SELECT ACTIVITY_ID, CONTACT_ID, KIND, AMOUNT, ACTIVITY_AT FROM ACTIVITIES WHERE ACTIVITY_AT >= :window_start AND ACTIVITY_AT < :window_end",
	})
	t.Setenv("SF_PASSWORD", "sluice")
	statePath := filepath.Join(dir, "state.db")
	run := func(args ...string) string {
		t.Helper()
		stdout, stderr, code := sluice(t, append(append([]string{args[0], "--state", statePath}, args[1:]...), filepath.Join(dir, "acme"))...)
		if code != 0 {
			t.Fatalf("sluice %s: exit %d\n%s%s", args[0], code, stdout, stderr)
		}
		return stdout
	}
	count := func(q string) string {
		t.Helper()
		var s string
		if err := ch.Conn.QueryRow(ctx, "SELECT toString(("+q+"))").Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	check := func(contacts, calls int, sumCents int64) {
		t.Helper()
		if got := count("SELECT count() FROM " + ch.Name + ".contacts FINAL"); got != fmt.Sprint(contacts) {
			t.Errorf("contacts = %s, want %d", got, contacts)
		}
		if got := count("SELECT count() FROM " + ch.Name + ".activity"); got != fmt.Sprint(calls) {
			t.Errorf("calls = %s, want %d", got, calls)
		}
		if got := count("SELECT toInt64(sum(amount) * 100) FROM " + ch.Name + ".activity"); got != fmt.Sprint(sumCents) {
			t.Errorf("sum(amount) cents = %s, want %d", got, sumCents)
		}
	}
	// Even ids are calls; amount is id/4 rounded to cents.
	want := func(n int) (int, int64) {
		calls, cents := 0, int64(0)
		for i := 0; i < n; i += 2 {
			calls++
			cents += int64(i) * 100 / 4
		}
		return calls, cents
	}
	out := run("run")
	if !strings.Contains(out, "acme: ") {
		t.Fatalf("run output:\n%s", out)
	}
	calls, cents := want(1200)
	check(1200, calls, cents)
	if got := count("SELECT count() FROM " + ch.Name + ".contacts FINAL WHERE plan = 'free'"); got != "400" {
		t.Errorf("contacts with the default plan = %s, want 400", got)
	}

	// New rows arrive; the next run loads them and nothing twice.
	seedRows(1200, 1500, time.Now().UTC().Add(-3*time.Hour), "second")
	run("run")
	calls, cents = want(1500)
	check(1500, calls, cents)

	// A forced backfill of everything replaces windows: still no
	// duplicates.
	run("backfill", "--from", base.Format(time.DateOnly), "--parallel", "3")
	check(1500, calls, cents)

	st := run("state")
	if !strings.Contains(st, "committed") || !strings.Contains(st, "Recent runs:") || !regexp.MustCompile(`Watermarks .*:\n  \w+ +\d{4}-`).MatchString(st) {
		t.Errorf("state output:\n%s", st)
	}
}
