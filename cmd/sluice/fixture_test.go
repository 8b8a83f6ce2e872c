//go:build duckdb_arrow

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hockeystack/sluice/engine/snowflake/snowflaketest"
)

// inProcess is snowsim in the test process, for sluice test.
type inProcess struct{ s *snowflaketest.Server }

func (p inProcess) Exec(ctx context.Context, q string) error { return p.s.Exec(ctx, q) }
func (p inProcess) Port() int                                { return p.s.Port }
func (p inProcess) Close()                                   {}

// withSnowsim runs the CLI in-process with an in-process snowsim for
// sluice test.
func withSnowsim(t *testing.T) func(args ...string) (string, string, int) {
	s := snowflaketest.Start(t, snowflaketest.Options{})
	return func(args ...string) (string, string, int) {
		t.Helper()
		var out, errOut bytes.Buffer
		e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, getenv: os.Getenv,
			simulate: func(*env) (simulator, error) { return inProcess{s}, nil }}
		code := e.main(args)
		return out.String(), errOut.String(), code
	}
}

// copyDir copies the example pipeline folder and its connections file.
func copyExample(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	root := filepath.Join("..", "..", "pipelines")
	filepath.WalkDir(filepath.Join(root, "acme"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.Contains(p, "/demo/") {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		b, _ := os.ReadFile(p)
		writeFiles(t, dir, map[string]string{rel: string(b)})
		return nil
	})
	b, _ := os.ReadFile(filepath.Join(root, "connections.yaml"))
	writeFiles(t, dir, map[string]string{"connections.yaml": string(b)})
	return filepath.Join(dir, "acme")
}

// TestFixtures: the example pipeline's fixture tests pass offline; a
// broken mapping fails them with a diff naming the row and the column.
func TestFixtures(t *testing.T) {
	sluice := withSnowsim(t)
	out, errOut, code := sluice("test", filepath.Join("..", "..", "pipelines", "acme"))
	if code != 0 || !strings.Contains(out, "3 fixture tests passed") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	dir := copyExample(t)
	edit(t, filepath.Join(dir, "pipeline.yaml"), `email:           {expr: "lower(trim(EMAIL ?? ''))", type: String}`, `email:           {expr: "trim(EMAIL ?? '')", type: String}`)
	edit(t, filepath.Join(dir, "sql", "crm_activity.sql"), "LOWER(TYPE)", "UPPER(TYPE)")
	out, errOut, code = sluice("test", dir)
	if code != 1 {
		t.Fatalf("broken mapping: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		`FAIL tests/user_profiles.yaml (stream user_profiles): 1 difference(s)`,
		`row 1 (contact_id=7): column email: want "ada@example.com", got "Ada@Example.com"`,
		// The filter keeps lower-case types only: every expected row is gone.
		`row 1 (activity_id=a1): not written`,
		"ok   tests/opportunity_revenue.yaml",
		"2 of 3 fixture tests failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// A stream that writes a row the fixture does not expect.
	edit(t, filepath.Join(dir, "sql", "crm_activity.sql"), "UPPER(TYPE)", "LOWER(TYPE)")
	edit(t, filepath.Join(dir, "tests", "crm_activity.yaml"), "    - {activity_id: a2,", "    - {activity_id: a9,")
	out, _, _ = sluice("test", "--stream", "crm_activity", dir)
	if !strings.Contains(out, `row 2 (activity_id=a9): not written`) || !strings.Contains(out, `unexpected row (activity_id=a2)`) {
		t.Errorf("unexpected rows:\n%s", out)
	}
	// Bad fixtures point at the file, line and column.
	writeFiles(t, dir, map[string]string{"tests/bad.yaml": "stream: crm_activity\ngiven:\n  T:\n    columns: {A: NUMBR}\nexpect:\n  rows: []\n"})
	if _, errOut, code := sluice("test", dir); code != 1 || !strings.Contains(errOut, "tests/bad.yaml:4:") {
		t.Errorf("bad type: exit %d\n%s", code, errOut)
	}
	writeFiles(t, dir, map[string]string{"tests/bad.yaml": "stream: crm_activity\ngiven:\n  T:\n    columns: {A: INT}\nexpct:\n  rows: []\n"})
	if _, errOut, code := sluice("test", dir); code != 1 || !strings.Contains(errOut, "tests/bad.yaml:5:1: unknown field \"expct\" (did you mean \"expect\"?)") {
		t.Errorf("misspelt key: exit %d\n%s", code, errOut)
	}
}

// TestFixturesWithSnowsimBinary runs sluice test the way a solutions
// engineer does: with snowsim as a separate process (sluice never links
// DuckDB).
func TestFixturesWithSnowsimBinary(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "snowsim")
	build := exec.Command("go", "build", "-tags", "duckdb_arrow,minicore_disabled", "-o", bin, "../snowsim")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building snowsim: %v\n%s", err, out)
	}
	t.Setenv("SLUICE_SNOWSIM", bin)
	out, errOut, code := sluice(t, "test", filepath.Join("..", "..", "pipelines", "acme"))
	if code != 0 || !strings.Contains(out, "3 fixture tests passed") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
}

// TestRecordFixture: --record samples the live source's tables and writes
// a fixture whose expectations are what the mapping makes of the sample;
// the recorded fixture then passes, and a changed mapping fails it.
func TestRecordFixture(t *testing.T) {
	sluice := withSnowsim(t)
	live := snowflaketest.Start(t, snowflaketest.Options{})
	if err := live.Exec(context.Background(), `CREATE DATABASE ACME; CREATE SCHEMA ACME.CRM;
		CREATE TABLE ACME.CRM.ACTIVITIES (ACTIVITY_ID VARCHAR(40) NOT NULL, CONTACT_ID NUMBER(18,0) NOT NULL, TYPE VARCHAR(20), SUBJECT VARCHAR(200), ACTIVITY_AT TIMESTAMP_NTZ(6));
		INSERT INTO ACME.CRM.ACTIVITIES SELECT 'act-' || SEQ4(), SEQ4() % 7 + 1, IFF(SEQ4() % 3 = 0, 'Note', 'Call'), IFF(SEQ4() % 4 = 0, NULL, 'Subject ' || SEQ4()),
			DATEADD(minute, SEQ4() * 90, '2024-02-01 08:00:00.125'::TIMESTAMP_NTZ) FROM TABLE(GENERATOR(ROWCOUNT => 50))`); err != nil {
		t.Fatal(err)
	}
	dir := copyExample(t)
	os.Remove(filepath.Join(dir, "tests", "crm_activity.yaml"))
	writeFiles(t, filepath.Dir(dir), map[string]string{"connections.yaml": fmt.Sprintf(`version: 1
connections:
  acme_snowflake: {kind: snowflake, access: read_only, account: SNOWSIM, host: 127.0.0.1, port: %d, protocol: http, user: SLUICE,
                   database: ACME, auth: {method: password, password: {env: SF_PASSWORD}}}
  acme_snowflake_rw: {kind: snowflake, access: read_write, account: SNOWSIM, host: 127.0.0.1, port: %d, protocol: http, user: SLUICE,
                   database: ANALYTICS, auth: {method: password, password: {env: SF_PASSWORD}}}
  hs_clickhouse: {kind: clickhouse, access: read_write, host: 127.0.0.1, auth: {method: none}}
`, live.Port, live.Port)})
	t.Setenv("SF_PASSWORD", "sluice")
	out, errOut, code := sluice("test", "--record", "--stream", "crm_activity", "--limit", "12", dir)
	if code != 0 {
		t.Fatalf("record: exit %d\n%s%s", code, out, errOut)
	}
	recorded := mustRead(t, filepath.Join(dir, "tests", "crm_activity.yaml"))
	for _, want := range []string{"ACME.CRM.ACTIVITIES:", "TYPE: VARCHAR(20)", "ACTIVITY_ID: act-0", "activity_type: call"} {
		if !strings.Contains(recorded, want) {
			t.Errorf("the recorded fixture lacks %q:\n%s", want, recorded)
		}
	}
	if strings.Count(recorded, "ACTIVITY_ID: act-") != 12 || strings.Contains(recorded, "activity_type: note") {
		t.Errorf("want 12 sampled rows and no filtered-out note:\n%s", recorded)
	}
	if out, errOut, code := sluice("test", "--stream", "crm_activity", dir); code != 0 {
		t.Fatalf("the recorded fixture fails: exit %d\n%s%s", code, out, errOut)
	}
	edit(t, filepath.Join(dir, "sql", "crm_activity.sql"), "SUBJECT,", "UPPER(SUBJECT) AS SUBJECT,")
	if out, _, code := sluice("test", "--stream", "crm_activity", dir); code != 1 || !strings.Contains(out, "column subject: want \"Subject 1\", got \"SUBJECT 1\"") {
		t.Errorf("a changed mapping: exit %d\n%s", code, out)
	}
	if _, errOut, code := sluice("test", "--record", "--stream", "crm_activity", dir); code != 2 || !strings.Contains(errOut, "exists") {
		t.Errorf("recording over a fixture: exit %d\n%s", code, errOut)
	}
}

// TestRecordFixtureQuotedNames: --record finds, samples and records the
// tables of a query that names them in double quotes (mixed case, a
// space, a quote inside, a reserved word), and sluice test creates them on
// snowsim with the same exact names, so the recorded fixture passes.
func TestRecordFixtureQuotedNames(t *testing.T) {
	sluice := withSnowsim(t)
	live := snowflaketest.Start(t, snowflaketest.Options{})
	if err := live.Exec(context.Background(), `CREATE DATABASE ACME; CREATE SCHEMA ACME."Crm";
		CREATE TABLE ACME."Crm"."My ""Big"" Table" ("Activity Id" VARCHAR(40) NOT NULL, "Contact" NUMBER(18,0) NOT NULL, "Kind" NUMBER(3,0), SUBJECT VARCHAR(200), "At" TIMESTAMP_NTZ(6));
		INSERT INTO ACME."Crm"."My ""Big"" Table" SELECT 'act-' || SEQ4(), SEQ4() % 7 + 1, SEQ4() % 3, 'Subject ' || SEQ4(),
			DATEADD(minute, SEQ4() * 90, '2024-02-01 08:00:00.125'::TIMESTAMP_NTZ) FROM TABLE(GENERATOR(ROWCOUNT => 20));
		CREATE TABLE ACME.PUBLIC."select" ("Id" NUMBER(3,0), "type" VARCHAR(20));
		INSERT INTO ACME.PUBLIC."select" VALUES (0, 'Call'), (1, 'Email'), (2, 'Meeting')`); err != nil {
		t.Fatal(err)
	}
	dir := copyExample(t)
	os.Remove(filepath.Join(dir, "tests", "crm_activity.yaml"))
	writeFiles(t, dir, map[string]string{"sql/crm_activity.sql": `SELECT
    a."Activity Id" AS ACTIVITY_ID,
    a."Contact"     AS CONTACT_ID,
    LOWER(k."type") AS ACTIVITY_TYPE,
    a.SUBJECT,
    a."At"          AS ACTIVITY_AT
FROM ACME."Crm"."My ""Big"" Table" a
JOIN "select" k ON k."Id" = a."Kind"
WHERE a."At" >= :window_start
  AND a."At" <  :window_end
`})
	writeFiles(t, filepath.Dir(dir), map[string]string{"connections.yaml": fmt.Sprintf(`version: 1
connections:
  acme_snowflake: {kind: snowflake, access: read_only, account: SNOWSIM, host: 127.0.0.1, port: %d, protocol: http, user: SLUICE,
                   database: ACME, auth: {method: password, password: {env: SF_PASSWORD}}}
  acme_snowflake_rw: {kind: snowflake, access: read_write, account: SNOWSIM, host: 127.0.0.1, port: %d, protocol: http, user: SLUICE,
                   database: ANALYTICS, auth: {method: password, password: {env: SF_PASSWORD}}}
  hs_clickhouse: {kind: clickhouse, access: read_write, host: 127.0.0.1, auth: {method: none}}
`, live.Port, live.Port)})
	t.Setenv("SF_PASSWORD", "sluice")
	out, errOut, code := sluice("test", "--record", "--stream", "crm_activity", "--limit", "12", dir)
	if code != 0 {
		t.Fatalf("record: exit %d\n%s%s", code, out, errOut)
	}
	recorded := mustRead(t, filepath.Join(dir, "tests", "crm_activity.yaml"))
	for _, want := range []string{`ACME."Crm"."My ""Big"" Table":`, `'"select"':`, "Activity Id: act-0", "type: Meeting", "activity_type: meeting"} {
		if !strings.Contains(recorded, want) {
			t.Errorf("the recorded fixture lacks %q:\n%s", want, recorded)
		}
	}
	if strings.Count(recorded, "Activity Id: act-") != 12 {
		t.Errorf("want 12 sampled rows:\n%s", recorded)
	}
	if out, errOut, code := sluice("test", "--stream", "crm_activity", dir); code != 0 {
		t.Fatalf("the recorded fixture fails: exit %d\n%s%s", code, out, errOut)
	}
	edit(t, filepath.Join(dir, "sql", "crm_activity.sql"), "a.SUBJECT,", "UPPER(a.SUBJECT) AS SUBJECT,")
	if out, _, code := sluice("test", "--stream", "crm_activity", dir); code != 1 || !strings.Contains(out, `column subject: want "Subject 1", got "SUBJECT 1"`) {
		t.Errorf("a changed mapping: exit %d\n%s", code, out)
	}
}
