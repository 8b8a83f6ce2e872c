//go:build duckdb_arrow

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hockeystack/sluice/engine/clickhouse/clickhousetest"
	"github.com/hockeystack/sluice/engine/plan"
	"github.com/hockeystack/sluice/engine/snowflake/snowflaketest"
)

// TestPulledStatementsAreThePlans runs a pull of every ClickHouse write
// mode, windows aligned with partitions and not, an upsert window of one
// block and one staged, against a clickhouse-server that logs every
// statement it runs. What the server ran for each stream must be the
// plan's statements (plan --live --json), in the plan's order: those
// before the first window, then each window's, so plan and engine
// cannot drift apart.
func TestPulledStatementsAreThePlans(t *testing.T) {
	srv, err := clickhousetest.StartLogging()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	sf := snowflaketest.Start(t, snowflaketest.Options{})
	dir := t.TempDir()
	start := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	ctx := context.Background()
	if err := sf.Exec(ctx, fmt.Sprintf(`CREATE DATABASE ACME; CREATE SCHEMA ACME.CRM;
		CREATE TABLE ACME.CRM.EVENTS (ID NUMBER(38,0) NOT NULL, LABEL VARCHAR, AT TIMESTAMP_NTZ);
		INSERT INTO ACME.CRM.EVENTS SELECT SEQ4(), 'label ' || SEQ4(), DATEADD(minute, SEQ4() * 60, '%[1]s'::TIMESTAMP_NTZ)
		FROM TABLE(GENERATOR(ROWCOUNT => 1000));
		CREATE TABLE ACME.CRM.MANY (ID NUMBER(38,0) NOT NULL, LABEL VARCHAR, AT TIMESTAMP_NTZ);
		INSERT INTO ACME.CRM.MANY SELECT SEQ4(), 'label ' || SEQ4(), DATEADD(second, SEQ4(), '%[1]s'::TIMESTAMP_NTZ)
		FROM TABLE(GENERATOR(ROWCOUNT => 120000))`, start.Format(time.DateTime))); err != nil {
		t.Fatal(err)
	}
	columns := `
    columns:
      id:    {type: Int64}
      label: {type: String}
      at:    {type: "DateTime('UTC')", allow_lossy: true}`
	stream := func(name, query, window, dest string) string {
		inc := ""
		if window != "" {
			inc = fmt.Sprintf("\n      incremental: {cursor: AT, start: %s, window: %s}", start.Format(time.DateOnly), window)
		}
		return fmt.Sprintf("  %s:\n    source:\n      connection: sf\n      query: %s%s%s\n    destination: {connection: ch, table: db.%s, create: true, %s}\n",
			name, query, inc, columns, name, dest)
	}
	writeFiles(t, dir, map[string]string{
		"connections.yaml": snowsimConnections(sf.Port, "read_only", "ACME", "CRM", srv.Addr),
		"p/events.sql":     `SELECT ID, LABEL, "AT" FROM EVENTS WHERE "AT" >= :window_start AND "AT" < :window_end`,
		"p/many.sql":       `SELECT ID, LABEL, "AT" FROM MANY WHERE "AT" >= :window_start AND "AT" < :window_end`,
		"p/all.sql":        `SELECT ID, LABEL, "AT" FROM EVENTS`,
		"p/pipeline.yaml": "version: 1\nname: p\nstreams:\n" +
			stream("a_days", "events.sql", "10d", "mode: append") + // windows cut across monthly partitions
			stream("b_month", "events.sql", "1mo", "mode: append") + // a window is a partition
			stream("c_upsert", "events.sql", "10d", "mode: upsert, key: [id], version: at") + // windows of one block
			stream("d_staged", "many.sql", "1mo", "mode: upsert, key: [id]") + // a window of 120,000 rows, staged
			stream("e_replace", "all.sql", "", "mode: replace"),
	})
	t.Setenv("SF_PASSWORD", "sluice")
	out, errOut, code := sluice(t, "plan", "--live", "--json", "--connections", filepath.Join(dir, "connections.yaml"), filepath.Join(dir, "p"))
	if code != 0 {
		t.Fatalf("plan: %s", errOut)
	}
	var p plan.Plan
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatal(err)
	}
	// Twice: the second run finds the tables there, and runs its windows
	// again (the lookback is zero, so only the newest).
	for range 2 {
		if _, errOut, code := runFolder(t, dir, "run"); code != 0 {
			t.Fatalf("run: %s", errOut)
		}
	}
	ran, err := srv.Queries()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range p.Streams {
		t.Run(s.Name, func(t *testing.T) {
			got := sentFor(ran, s.Name)
			want := runPattern(s.Destination)
			if !want.MatchString(strings.Join(got, "\x1e") + "\x1e") {
				t.Errorf("the server ran for %s:\n  %s\nwhich is not the plan's statements, twice:\n  prepare %s\n  windows %s",
					s.Name, strings.Join(got, "\n  "), strings.Join(s.Destination.Prepare, "\n          "), strings.Join(s.Destination.Steps, "\n          "))
			}
		})
	}
}

// sentFor are the statements the server ran for a stream's table (its
// name appears in them), after the catalog last described the table:
// the sink's, run by run.
func sentFor(ran []string, table string) []string {
	var out []string
	for _, q := range ran {
		if !strings.Contains(q, table) || strings.HasPrefix(q, "SELECT * FROM (") {
			continue // another table's, or a query's description
		}
		if strings.Contains(q, "FROM system.columns") {
			continue // the live plan's catalog
		}
		out = append(out, q)
	}
	return out
}

// runPattern matches what runs do: the plan's statements before the
// first window, then each window's, for any number of runs and windows.
// A statement the plan repeats ("for each", "until") may run any number
// of times; one the plan runs "when" a condition holds may be left out;
// of an upsert, a window runs either the one-block path or the staged.
func runPattern(d plan.Destination) *regexp.Regexp {
	var prep strings.Builder
	for _, s := range d.Prepare {
		prep.WriteString(stepPattern(s))
	}
	var win strings.Builder
	if d.Mode == "upsert" {
		fmt.Fprintf(&win, "(?:%s|%s", stepPattern(d.Steps[0]), "")
		for _, s := range d.Steps[1:] {
			win.WriteString(stepPattern(strings.Replace(s, " -- a bigger window:", "", 1)))
		}
		win.WriteString(")")
	} else {
		for _, s := range d.Steps {
			win.WriteString(stepPattern(s))
		}
	}
	return regexp.MustCompile(`^(?:(?:` + prep.String() + `)(?:` + win.String() + `)+)+$`)
}

// stepPattern is one plan step as a pattern of the statement the server
// logs, followed by a separator: the plan's placeholders stand for the
// values a window fills in, and its comment says whether the step
// repeats or may be left out.
func stepPattern(step string) string {
	stmt, note, _ := strings.Cut(step, " -- ")
	p := regexp.QuoteMeta(stmt)
	for _, r := range [][2]string{
		{`\{window\}`, `\d{8}T\d{6}`},
		{`\{window_start\}`, `toDateTime\('[0-9: -]+', 'UTC'\)`},
		{`\{window_end\}`, `toDateTime\('[0-9: -]+', 'UTC'\)`},
		{`\{partition_id\}`, `'[^']*'`},
		{`\{file\}`, `[^']+`},
		{`\{load\}`, `[0-9a-f]+`},
		{"`\\{left\\}`", "`[^`]+`(?:\\.`[^`]+`)?"},
		{`\(\.\.\.\)`, `\([\s\S]*?`}, // the DDL: the server logs it on one line
	} {
		p = strings.ReplaceAll(p, r[0], r[1])
	}
	if strings.HasPrefix(stmt, "INSERT INTO ") && !strings.Contains(stmt, " SELECT ") {
		p += ` (?:VALUES|FORMAT)[\s\S]*?` // the rows follow
	}
	p = "(?:" + p + ")\x1e"
	switch {
	case strings.HasPrefix(note, "for each"), strings.HasPrefix(note, "until"):
		return "(?:" + p + ")*"
	case strings.Contains(note, "when "):
		return "(?:" + p + ")?"
	}
	return p
}

// TestPushedStatementsAreThePlans pushes in every Snowflake write mode,
// through array-bound INSERTs and, in a second run, through Parquet files
// and COPY INTO; what snowsim ran for each stream must be the plan's
// statements, in the plan's order.
func TestPushedStatementsAreThePlans(t *testing.T) {
	f := newPushFixture(t, snowflaketest.Options{Users: []snowflaketest.User{{Name: "SLUICE", Password: "sluice"}}})
	stream := func(name, query, inc, cols, dest string) string {
		return fmt.Sprintf("  %s:\n    source: {connection: ch, query: %s, incremental: %s}\n    columns:\n%s    destination: {connection: sf, table: ACME.CRM.%s, create: true, %s}\n",
			strings.ToLower(name), query, inc, cols, name, dest)
	}
	cols := `      ID:     {from: id, type: VARCHAR(64), nullable: false}
      AMOUNT: {from: amount, type: "NUMBER(38,2)"}
      AT:     {from: at, type: TIMESTAMP_NTZ(6), nullable: false}
`
	weekly := fmt.Sprintf("{cursor: at, start: %s, window: 7d}", f.start.Format(time.DateOnly))
	f.pipeline(t, stream("A_APPEND", "touch.sql", weekly, cols, "mode: append")+
		stream("B_MERGE", "touch.sql", weekly, cols, "mode: merge, key: [ID]")+
		stream("C_REPLACE", "all.sql", "false", cols, "mode: replace"))
	out, errOut, code := sluice(t, "plan", "--live", "--json", "--connections", filepath.Join(f.dir, "connections.yaml"), filepath.Join(f.dir, "p"))
	if code != 0 {
		t.Fatalf("plan: %s", errOut)
	}
	var p plan.Plan
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatal(err)
	}
	before := len(f.sf.QueryHistory())
	if _, errOut, code := f.run(t, "run"); code != 0 {
		t.Fatalf("run: %s", errOut)
	}
	t.Setenv("SLUICE_BULK_ROWS", "100") // every window through Parquet files
	if _, errOut, code := f.run(t, "backfill", "--from", f.start.Format(time.DateOnly)); code != 0 {
		t.Fatalf("backfill: %s", errOut)
	}
	var ran []string
	for _, q := range f.sf.QueryHistory()[before:] {
		ran = append(ran, q.SQL)
	}
	for _, s := range p.Streams {
		t.Run(s.Name, func(t *testing.T) {
			got := pushedFor(ran, strings.ToUpper(s.Name))
			if len(got) == 0 {
				t.Fatalf("snowsim ran nothing for %s", s.Name)
			}
			want := runPattern(s.Destination)
			if !want.MatchString(strings.Join(got, "\x1e") + "\x1e") {
				t.Errorf("snowsim ran for %s:\n  %s\nwhich is not the plan's statements:\n  prepare %s\n  windows %s",
					s.Name, strings.Join(got, "\n  "), strings.Join(s.Destination.Prepare, "\n          "), strings.Join(s.Destination.Steps, "\n          "))
			}
		})
	}
}

// pushedFor are the statements of a push stream's runs: each run's span
// from the first statement naming the table to the last (streams run one
// after another, so what runs between is the stream's: its BEGIN and
// COMMIT, its PUTs), without the catalog's reads.
func pushedFor(ran []string, table string) []string {
	var out []string
	first, last := -1, -1
	flush := func() {
		if first >= 0 {
			for _, q := range ran[first : last+1] {
				if !strings.Contains(q, "INFORMATION_SCHEMA") {
					out = append(out, q)
				}
			}
		}
		first, last = -1, -1
	}
	for i, q := range ran {
		switch {
		case strings.Contains(q, table):
			if first < 0 {
				first = i
			}
			last = i
		case first >= 0 && strings.Contains(q, `"ACME"."CRM".`):
			flush() // another stream's
		}
	}
	flush()
	return out
}
