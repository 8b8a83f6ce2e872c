//go:build duckdb_arrow

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hockeystack/sluice/engine/clickhouse/clickhousetest"
	"github.com/hockeystack/sluice/engine/snowflake/snowflaketest"
)

// TestInit writes pipeline folders with sluice init from snowsim tables
// (every type, names that need quoting, 300 columns, declared keys) into
// the real clickhouse-server, and from a ClickHouse table into snowsim;
// each folder validates, plans and plans live as it is, the pull loads,
// and running init again adds a new column and table without touching
// an engineer's edits.
func TestInit(t *testing.T) {
	ch := clickhousetest.NewDB(t)
	sf := snowflaketest.Start(t, snowflaketest.Options{})
	ctx := context.Background()
	var wide []string
	for i := 0; i < 299; i++ {
		wide = append(wide, fmt.Sprintf(`"c%03d" %s`, i, []string{"NUMBER(38,0)", "VARCHAR", "FLOAT", "BOOLEAN", "DATE", "TIMESTAMP_TZ(3)", "NUMBER(10,3)", "VARIANT", "BINARY", "TIMESTAMP_NTZ(9)"}[i%10]))
	}
	if err := sf.Exec(ctx, `CREATE DATABASE ACME; CREATE SCHEMA ACME.CRM;
		CREATE TABLE ACME.CRM.CONTACTS (ID NUMBER(38,0) PRIMARY KEY, SMALL NUMBER(9,0), AMOUNT NUMBER(12,2), RATIO FLOAT,
			NAME VARCHAR(50), BLOB BINARY, FLAG BOOLEAN, BORN DATE, AT_TIME TIME, CREATED_AT TIMESTAMP_NTZ(9),
			CLOSED_AT TIMESTAMP_TZ(9), SEEN_AT TIMESTAMP_LTZ(6), PAYLOAD VARIANT, TAGS ARRAY, UPDATED_AT TIMESTAMP_NTZ(6));
		INSERT INTO ACME.CRM.CONTACTS SELECT SEQ4()::NUMBER(38,0) + 9223372036854775807::NUMBER(38,0), SEQ4(), SEQ4() / 100, SEQ4() / 4, 'n' || SEQ4(), TO_BINARY('00ff', 'HEX'),
			SEQ4() % 2 = 0, DATEADD(day, SEQ4(), '1990-01-01'::DATE), '12:34:56'::TIME,
			DATEADD(hour, SEQ4(), '2024-01-01 00:00:00'::TIMESTAMP_NTZ), '2024-05-01 10:00:00 +02:00'::TIMESTAMP_TZ,
			'2024-05-01 10:00:00'::TIMESTAMP_LTZ, PARSE_JSON('{"a": [1, 2]}'), ARRAY_CONSTRUCT(1, 'x'),
			DATEADD(hour, SEQ4() * 3, '2024-06-01 00:00:00'::TIMESTAMP_NTZ)
			FROM TABLE(GENERATOR(ROWCOUNT => 500));
		CREATE TABLE ACME.CRM."Odd ""Names"" T" ("Mixed Col" VARCHAR NOT NULL, "has space" NUMBER(5,0), "quo""te" VARCHAR,
			"ORDER" VARCHAR, "select" VARCHAR, "created" TIMESTAMP_NTZ, CONSTRAINT U_MIXED UNIQUE ("Mixed Col"));
		INSERT INTO ACME.CRM."Odd ""Names"" T" VALUES ('a', 1, 'q', 'o', 's', '2024-02-01 00:00:00'), ('b', 2, NULL, NULL, NULL, '2024-02-03 00:00:00');
		CREATE TABLE ACME.CRM.WIDE (`+strings.Join(wide, ", ")+`, UPDATED_AT TIMESTAMP_NTZ(9));
		CREATE TABLE ACME.CRM.LOOKUP (CODE VARCHAR NOT NULL, LABEL VARCHAR);
		INSERT INTO ACME.CRM.LOOKUP VALUES ('a', 'A')`); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"CREATE TABLE " + ch.Name + ".touchpoints (touchpoint_id String, contact_id Nullable(Int64), `Revenue USD` Decimal(38, 2), touched_at DateTime('UTC'), updated_at DateTime) ENGINE = ReplacingMergeTree(updated_at) ORDER BY touchpoint_id",
		"INSERT INTO " + ch.Name + ".touchpoints SELECT toString(number), number, toDecimal64(number, 2), toDateTime('2024-01-01 00:00:00', 'UTC') + number * 60, toDateTime('2024-01-02 00:00:00') + number * 60 FROM system.numbers LIMIT 100",
	} {
		if err := ch.Conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	root := t.TempDir()
	writeFiles(t, root, map[string]string{"connections.yaml": fmt.Sprintf(`version: 1
connections:
  sf: {kind: snowflake, access: read_only, account: SNOWSIM, host: 127.0.0.1, port: %d, protocol: http, user: SLUICE,
       database: ACME, schema: CRM, auth: {method: password, password: {env: SF_PASSWORD}}}
  sf_rw: {kind: snowflake, access: read_write, account: SNOWSIM, host: 127.0.0.1, port: %d, protocol: http, user: SLUICE,
       database: ACME, schema: CRM, auth: {method: password, password: {env: SF_PASSWORD}}}
  ch: {kind: clickhouse, access: read_write, host: %s, database: %s, auth: {method: none}}
`, sf.Port, sf.Port, ch.Addr, ch.Name)})
	t.Setenv("SF_PASSWORD", "sluice")
	dir := filepath.Join(root, "acme")
	ok := func(args ...string) string {
		t.Helper()
		stdout, stderr, code := sluice(t, args...)
		if code != 0 {
			b, _ := os.ReadFile(filepath.Join(dir, "pipeline.yaml"))
			t.Fatalf("sluice %s: exit %d\n%s%s\n%s", strings.Join(args, " "), code, stdout, stderr, b)
		}
		return stdout + stderr
	}
	checks := func(d string) {
		t.Helper()
		ok("validate", d)
		ok("plan", d)
		ok("plan", "--live", d)
	}

	out := ok("init", dir, "--connection", "sf", "--tables", `ACME.CRM.CONTACTS,crm."Odd ""Names"" T",WIDE`, "--database", ch.Name, "--keep-offset")
	for _, want := range []string{"added stream contacts: ACME.CRM.CONTACTS, 15 columns, mode upsert, cursor UPDATED_AT, window 1mo",
		"added stream odd_names_t: ACME.CRM.Odd \"Names\" T, 6 columns, mode append, cursor created, window 1mo",
		"added stream wide: ACME.CRM.WIDE, 330 columns, mode append, cursor UPDATED_AT, window 1d"} {
		if !strings.Contains(out, want) {
			t.Errorf("init says\n%s\nwant %q", out, want)
		}
	}
	checks(dir)
	y, _ := os.ReadFile(filepath.Join(dir, "pipeline.yaml"))
	q, _ := os.ReadFile(filepath.Join(dir, "sql", "odd_names_t.sql"))
	for _, want := range []string{
		"Destination types are for ClickHouse 18.16.1 (ch, read live).",
		`id: {type: 'Decimal(38, 0)'} # NUMBER(38,0) NOT NULL; Decimal keeps ids beyond Int64`,
		"updated_at: {type: DateTime, allow_lossy: true}", // 18.16 has no DateTime64: acknowledged, and said why
		"CHECK: lossy",
		"closed_at_offset: {type: Nullable(Int16)}",
		"payload: {type: Nullable(String)} # VARIANT; JSON text",
		"CHECK: column AT_TIME (TIME(9)) is left out",
		"Key ID: the primary key Snowflake declares.",
		"Sorted by Mixed Col: unique constraint U_MIXED (no primary key is declared).",
		`quo"te: {type: Nullable(String)}`,
		"order_by: ['`Mixed Col`']",
	} {
		if !strings.Contains(string(y), want) {
			t.Errorf("pipeline.yaml lacks %q", want)
		}
	}
	if !strings.Contains(string(q), `"Mixed Col",`) || !strings.Contains(string(q), `"quo""te",`) || !strings.Contains(string(q), `FROM "ACME"."CRM"."Odd ""Names"" T"`) {
		t.Errorf("odd_names_t.sql:\n%s", q)
	}
	if strings.Contains(string(y), "sluice\n") || strings.Contains(string(y), "SF_PASSWORD") || strings.Contains(string(y), ch.Addr) {
		t.Errorf("pipeline.yaml carries connection details:\n%s", y)
	}

	// The folder runs: every contact arrives, ids beyond Int64 exact.
	state := filepath.Join(root, "state.db")
	ok("run", "--state", state, "--stream", "contacts", dir)
	var n uint64
	var maxID string
	if err := ch.Conn.QueryRow(ctx, "SELECT count(), toString(max(id)) FROM "+ch.Name+".contacts FINAL").Scan(&n, &maxID); err != nil {
		t.Fatal(err)
	}
	if n != 500 || maxID != "9223372036854776306" {
		t.Errorf("contacts: %d rows, max id %s", n, maxID)
	}

	// An engineer edits the folder; the table grows a column; init runs
	// again with one more table.
	edited := strings.Replace(string(y), "      small: {type: Nullable(Int64)}", "      small: {type: Nullable(Int32)} # engineer: fits", 1)
	if edited == string(y) {
		t.Fatalf("no small column in\n%s", y)
	}
	writeFiles(t, dir, map[string]string{"pipeline.yaml": edited})
	if err := sf.Exec(ctx, `ALTER TABLE ACME.CRM.CONTACTS ADD COLUMN "Nick Name" VARCHAR`); err != nil {
		t.Fatal(err)
	}
	out = ok("init", dir, "--connection", "sf", "--tables", "ACME.CRM.CONTACTS,ACME.CRM.LOOKUP", "--database", ch.Name)
	alter := "ALTER TABLE `" + ch.Name + "`.`contacts` ADD COLUMN `Nick Name` Nullable(String)"
	for _, want := range []string{"stream contacts: added column Nick Name (from Nick Name, Nullable(String)) to pipeline.yaml and sql/contacts.sql; if " + ch.Name + ".contacts exists, add the column there before the next run: " + alter,
		"added stream lookup: ACME.CRM.LOOKUP, 2 columns, mode replace"} {
		if !strings.Contains(out, want) {
			t.Errorf("init again says\n%s\nwant %q", out, want)
		}
	}
	y, _ = os.ReadFile(filepath.Join(dir, "pipeline.yaml"))
	if !strings.Contains(string(y), "small: {type: Nullable(Int32)} # engineer: fits") {
		t.Errorf("the engineer's edit is gone:\n%s", y)
	}
	// The table exists (the run created it): the engineer adds the
	// column as init says.
	if err := ch.Conn.Exec(ctx, alter); err != nil {
		t.Fatal(err)
	}
	checks(dir)
	ok("run", "--state", state, "--stream", "contacts", dir)
	if out := ok("init", dir, "--connection", "sf", "--tables", "ACME.CRM.CONTACTS", "--database", ch.Name); !strings.Contains(out, "nothing to add") {
		t.Errorf("a third run: %s", out)
	}

	// Push: a ClickHouse ReplacingMergeTree into Snowflake.
	push := filepath.Join(root, "export")
	out = ok("init", push, "--from-clickhouse", "--connection", "ch", "--to", "sf_rw", "--tables", ch.Name+".touchpoints", "--database", "ACME.CRM")
	if !strings.Contains(out, "added stream touchpoints: "+ch.Name+".touchpoints, 5 columns, mode merge, cursor updated_at, window 1mo") {
		t.Errorf("init --from-clickhouse says\n%s", out)
	}
	checks(push)
	y, _ = os.ReadFile(filepath.Join(push, "pipeline.yaml"))
	for _, want := range []string{"table: ACME.CRM.TOUCHPOINTS", "key: [TOUCHPOINT_ID]", "TOUCHPOINT_ID: {from: touchpoint_id, type: VARCHAR, nullable: false}",
		"Revenue USD: {type: 'NUMBER(38,2)', nullable: false}", "CONTACT_ID: {from: contact_id, type: 'NUMBER(19,0)'}"} {
		if !strings.Contains(string(y), want) {
			t.Errorf("push pipeline.yaml lacks %q\n%s", want, y)
		}
	}
}

// TestInitRecord: init --record records a fixture test for each new
// stream, as sluice test --record does, and the folder's tests pass.
func TestInitRecord(t *testing.T) {
	sluice := withSnowsim(t)
	ch := clickhousetest.NewDB(t)
	live := snowflaketest.Start(t, snowflaketest.Options{})
	if err := live.Exec(context.Background(), `CREATE DATABASE ACME; CREATE SCHEMA ACME.CRM;
		CREATE TABLE ACME.CRM.DEALS (DEAL_ID NUMBER(18,0) NOT NULL, NAME VARCHAR(40), AMOUNT NUMBER(12,2), CREATED_AT TIMESTAMP_NTZ(0) NOT NULL,
			PRIMARY KEY (DEAL_ID));
		INSERT INTO ACME.CRM.DEALS SELECT SEQ4(), 'deal ' || SEQ4(), SEQ4() * 1.25, DATEADD(hour, SEQ4(), '2025-01-01 00:00:00'::TIMESTAMP_NTZ)
			FROM TABLE(GENERATOR(ROWCOUNT => 40))`); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	writeFiles(t, root, map[string]string{"connections.yaml": fmt.Sprintf(`version: 1
connections:
  sf: {kind: snowflake, access: read_only, account: SNOWSIM, host: 127.0.0.1, port: %d, protocol: http, user: SLUICE,
       database: ACME, schema: CRM, auth: {method: password, password: {env: SF_PASSWORD}}}
  ch: {kind: clickhouse, access: read_write, host: %s, database: %s, auth: {method: none}}
`, live.Port, ch.Addr, ch.Name)})
	t.Setenv("SF_PASSWORD", "sluice")
	dir := filepath.Join(root, "deals")
	out, errOut, code := sluice("init", dir, "--connection", "sf", "--tables", "DEALS", "--record", "--limit", "5")
	if code != 0 {
		t.Fatalf("init --record: exit %d\n%s%s", code, out, errOut)
	}
	rec, err := os.ReadFile(filepath.Join(dir, "tests", "deals.yaml"))
	if err != nil {
		t.Fatalf("%v\n%s%s", err, out, errOut)
	}
	if strings.Count(string(rec), "- {DEAL_ID: ") != 5 || !strings.Contains(string(rec), "ACME.CRM.DEALS") {
		t.Errorf("recorded:\n%s", rec)
	}
	if out, errOut, code := sluice("test", dir); code != 0 {
		t.Errorf("sluice test: exit %d\n%s%s", code, out, errOut)
	}
}
