//go:build duckdb_arrow

package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hockeystack/sluice/engine/clickhouse/clickhousetest"
	"github.com/hockeystack/sluice/engine/snowflake/snowflaketest"
)

// writeFiles writes files under dir.

// TestPlanLive plans against a real clickhouse-server and the Snowflake
// simulator: the plan reads both live catalogs, writes DDL for the live
// ClickHouse version, and flags every mismatch between the pipeline and
// the live tables and queries, on both sides.
func TestPlanLive(t *testing.T) {
	ch := clickhousetest.NewDB(t)
	ctx := context.Background()
	for _, q := range []string{
		"CREATE TABLE " + ch.Name + ".touchpoints (touchpoint_id String, contact_id Nullable(Int64), revenue_usd Decimal(38, 2), touched_at DateTime('UTC')) ENGINE = MergeTree ORDER BY touchpoint_id",
		"CREATE TABLE " + ch.Name + ".profiles (contact_id Int64, email Int64) ENGINE = MergeTree ORDER BY contact_id",
	} {
		if err := ch.Conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	sf := snowflaketest.Start(t, snowflaketest.Options{Users: []snowflaketest.User{{Name: "SVC", Password: "pw"}}})
	if err := sf.Exec(ctx, `CREATE DATABASE ACME; CREATE SCHEMA ACME.CRM;
		CREATE TABLE ACME.CRM.PROFILES (CONTACT_ID NUMBER(38,0) NOT NULL, EMAIL VARCHAR, PLAN VARCHAR, SEEN_AT TIMESTAMP_NTZ(9));
		CREATE DATABASE ANALYTICS; CREATE SCHEMA ANALYTICS.HS;
		CREATE TABLE ANALYTICS.HS.TOUCHPOINTS (TOUCHPOINT_ID VARCHAR(64) NOT NULL, REVENUE_USD NUMBER(10,2), LOADED_BY VARCHAR NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"connections.yaml": fmt.Sprintf(`version: 1
connections:
  sf:
    kind: snowflake
    access: read_write
    account: SNOWSIM
    host: 127.0.0.1
    port: %d
    protocol: http
    user: SVC
    database: ACME
    schema: CRM
    auth: {method: password, password: {env: SF_PASSWORD}}
  ch:
    kind: clickhouse
    access: read_write
    host: %s
    database: %s
    auth: {method: none}
`, sf.Port, ch.Addr, ch.Name),
		"p/pipeline.yaml": `version: 1
name: p
defaults:
  source: {connection: sf, incremental: false}
  destination: {connection: ch}
streams:
  profiles:
    source: {query: profiles.sql}
    columns:
      contact_id: {type: Int32}
      email:      {type: String}
      plan:       {type: String}
    destination: {table: profiles, mode: replace}
  events:
    source: {query: profiles.sql}
    columns:
      contact_id: {type: Int64}
      seen_at:    {from: SEEN_AT, type: "DateTime64(6, 'UTC')"}
    destination: {table: events, mode: replace}
  export:
    source: {connection: ch, query: export.sql}
    columns:
      TOUCHPOINT_ID: {from: touchpoint_idd, type: VARCHAR(64)}
      REVENUE_USD:   {from: revenue_usd, type: "NUMBER(10,2)"}
    destination: {connection: sf, table: ANALYTICS.HS.TOUCHPOINTS, mode: replace}
`,
		"p/profiles.sql": "SELECT * FROM PROFILES\n",
		"p/export.sql":   "SELECT * FROM touchpoints\n",
	})
	t.Setenv("SF_PASSWORD", "pw")
	stdout, stderr, code := sluice(t, "plan", "--live", filepath.Join(dir, "p"))
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, stdout, stderr)
	}
	stderr = strings.ReplaceAll(stderr, dir+"/", "")
	for _, want := range []string{
		// Source checks on Snowflake through describe-only queries.
		"p/pipeline.yaml:10:26: warning: column contact_id: NUMBER(38,0) into Int32: NUMBER(38,0) values beyond the range of Int32 stop the window",
		// Destination checks against ClickHouse's system.columns.
		"p/pipeline.yaml:11:26: column email: ch profiles.email is Int64: String values cannot be stored in Int64",
		"p/pipeline.yaml:12:7: column plan: table profiles has no such column",
		"p/pipeline.yaml:19:26: table events does not exist on ch, and create is not set",
		// The live server is 18.16: DateTime64 is downgraded, lossily.
		"p/pipeline.yaml:18:41: column seen_at: ClickHouse 18.16.1 has no DateTime64: DateTime64(6, 'UTC') is stored as DateTime('UTC'), dropping sub-second digits; set allow_lossy: true to accept it",
		// Source checks on ClickHouse through a LIMIT 0 query, for a
		// SELECT * that offline validation cannot see into.
		"p/pipeline.yaml:23:29: column TOUCHPOINT_ID: export.sql has no column touchpoint_idd (did you mean \"touchpoint_id\"?)",
		"p/pipeline.yaml:24:48: warning: column REVENUE_USD: Decimal(38, 2) into NUMBER(10,2): Decimal(38, 2) values beyond 8 integer digits stop the window",
		// Destination checks on Snowflake through INFORMATION_SCHEMA.
		"p/pipeline.yaml:25:42: table ANALYTICS.HS.TOUCHPOINTS has a NOT NULL column LOADED_BY that the stream does not map",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("stderr:\n%s", stderr)
	}

	// With the mistakes fixed, the live plan names both servers and shows
	// the DDL the 18.16 server gets.
	writeFiles(t, dir, map[string]string{
		"p/pipeline.yaml": `version: 1
name: p
defaults:
  source: {connection: sf, incremental: false}
  destination: {connection: ch, create: true}
streams:
  events:
    source: {query: profiles.sql}
    columns:
      contact_id: {type: "Decimal(38, 0)"}
      seen_at:    {from: SEEN_AT, type: "Nullable(DateTime64(6, 'UTC'))", allow_lossy: true}
    destination: {table: events, mode: replace}
`})
	stdout, stderr, code = sluice(t, "plan", "--live", "--json", filepath.Join(dir, "p"))
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, want := range []string{`"live": "Snowflake 9.0.0"`, `"live": "ClickHouse 18.16.1"`, `"source_type": "TIMESTAMP_NTZ(9)"`,
		`"create_type": "Nullable(DateTime('UTC'))"`, `"exists": "no"`} {
		if !strings.Contains(stdout, want) {
			t.Errorf("plan JSON lacks %s", want)
		}
	}
}
