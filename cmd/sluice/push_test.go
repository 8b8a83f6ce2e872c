//go:build duckdb_arrow

package main

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hockeystack/sluice/engine/clickhouse/clickhousetest"
	"github.com/hockeystack/sluice/engine/snowflake/snowflaketest"
	"github.com/hockeystack/sluice/internal/valuegen"
)

// pushFixture is a ClickHouse table of touchpoints and a Snowflake
// simulator to push them into, with a pipeline folder between them.
type pushFixture struct {
	sf    *snowflaketest.Server
	ch    *clickhousetest.DB
	dir   string
	start time.Time
	db    *sql.DB // reads the Snowflake side
}

// pushRows is how many touchpoints the ClickHouse table starts with, ten
// minutes apart.
const pushRows = 3000

func newPushFixture(t *testing.T, opts snowflaketest.Options) *pushFixture {
	t.Helper()
	f := &pushFixture{sf: snowflaketest.Start(t, opts), ch: clickhousetest.NewDB(t), dir: t.TempDir()}
	f.start = time.Now().UTC().AddDate(0, 0, -30).Truncate(24 * time.Hour)
	ctx := context.Background()
	if err := f.ch.Conn.Exec(ctx, "CREATE TABLE "+f.ch.Name+`.touch (id String, contact_id Int64, amount Decimal(38, 2),
		at DateTime('UTC'), note Nullable(String)) ENGINE = MergeTree ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	f.addTouchpoints(t, 0, pushRows)
	if err := f.sf.Exec(ctx, "CREATE DATABASE ACME; CREATE SCHEMA ACME.CRM"); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, f.dir, map[string]string{
		"connections.yaml": fmt.Sprintf(`version: 1
connections:
  sf: {kind: snowflake, access: read_write, account: SNOWSIM, host: 127.0.0.1, port: %d, protocol: http, user: %s,
       database: ACME, schema: CRM, auth: {method: password, password: {env: SF_PASSWORD}}}
  ch: {kind: clickhouse, access: read_only, host: %s, database: %s, auth: {method: none}}
`, f.sf.Port, opts.Users[0].Name, f.ch.Addr, f.ch.Name),
		"p/touch.sql":    "SELECT id, contact_id, amount, at, note FROM touch WHERE at >= :window_start AND at < :window_end",
		"p/all.sql":      "SELECT id, contact_id, amount, at, note FROM touch",
		"p/contacts.sql": "SELECT contact_id, sum(amount) AS total, count() AS touches FROM touch GROUP BY contact_id",
	})
	t.Setenv("SF_PASSWORD", "sluice")
	cfg := f.sf.Config(opts.Users[0].Name, "sluice")
	cfg.Database, cfg.Schema = "ACME", "CRM"
	f.db = snowflaketest.Open(cfg)
	t.Cleanup(func() { f.db.Close() })
	return f
}

// addTouchpoints inserts touchpoints number from to to-1.
func (f *pushFixture) addTouchpoints(t *testing.T, from, to int) {
	t.Helper()
	q := fmt.Sprintf(`INSERT INTO %s.touch (id, contact_id, amount, at, note)
		SELECT concat('t', toString(number)), toInt64(number %% 50), toDecimal128(number %% 1000, 2) / 8,
			toDateTime(%d + number * 600, 'UTC'), if(number %% 7 = 0, NULL, concat('note ', toString(number)))
		FROM system.numbers WHERE number >= %d LIMIT %d`, f.ch.Name, f.start.Unix(), from, to-from)
	if err := f.ch.Conn.Exec(context.Background(), q); err != nil {
		t.Fatal(err)
	}
}

// pipeline writes the pipeline folder with the given streams.
func (f *pushFixture) pipeline(t *testing.T, streams string) {
	t.Helper()
	writeFiles(t, f.dir, map[string]string{"p/pipeline.yaml": "version: 1\nname: p\nstreams:\n" + streams})
}

// eventsStream pushes touchpoints window by window into EVENTS.
func (f *pushFixture) eventsStream() string {
	return fmt.Sprintf(`  events:
    source:
      connection: ch
      query: touch.sql
      incremental: {cursor: at, start: %s, window: 7d, lookback: 14d}
    columns:
      ID:         {from: id, type: VARCHAR(64), nullable: false}
      CONTACT_ID: {from: contact_id, type: "NUMBER(18,0)"}
      AMOUNT:     {from: amount, type: "NUMBER(38,2)"}
      AT:         {from: at, type: TIMESTAMP_NTZ(6), nullable: false}
      NOTE:       {from: note, type: VARCHAR}
    destination: {connection: sf, table: ACME.CRM.EVENTS, mode: append, create: true}
`, f.start.Format(time.DateOnly))
}

func (f *pushFixture) run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return runFolder(t, f.dir, args...)
}

// byWeek is count/sum(amount) per 7-day window from the start, as
// "window: n/sum" lines, from ClickHouse or from Snowflake.
func (f *pushFixture) chByWeek(t *testing.T) string {
	t.Helper()
	rows, err := f.ch.Conn.Query(context.Background(), fmt.Sprintf(`SELECT toString(intDiv(toUInt32(at) - %d, 604800)) AS w,
		toString(count()), toString(sum(amount)) FROM %s.touch GROUP BY w ORDER BY toUInt32(w)`, f.start.Unix(), f.ch.Name))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var w, n, sum string
		if err := rows.Scan(&w, &n, &sum); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s: %s/%s", w, n, valuegen.TrimZeros(sum)))
	}
	return strings.Join(out, "\n")
}

func (f *pushFixture) sfByWeek(t *testing.T, table string) string {
	t.Helper()
	return strings.Join(f.sfRows(t, fmt.Sprintf(`SELECT FLOOR(DATEDIFF(second, '%s'::TIMESTAMP_NTZ, AT) / 604800)::INT AS W,
		COUNT(*), TO_VARCHAR(SUM(AMOUNT)) FROM %s GROUP BY 1 ORDER BY 1`, f.start.Format(time.DateTime), table), func(v []string) string {
		return fmt.Sprintf("%s: %s/%s", v[0], v[1], valuegen.TrimZeros(v[2]))
	}), "\n")
}

// sfRows runs a query on the Snowflake side and renders each row.
func (f *pushFixture) sfRows(t *testing.T, q string, render func([]string) string) []string {
	t.Helper()
	rows, err := f.db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		v := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range v {
			ptrs[i] = &v[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		s := make([]string, len(v))
		for i, x := range v {
			s[i] = x.String
			if !x.Valid {
				s[i] = "NULL"
			}
		}
		out = append(out, render(s))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func joined(v []string) string { return strings.Join(v, " ") }

// TestPushEndToEnd pushes ClickHouse rows into Snowflake in each mode
// through `sluice run`: append window by window into a table it creates,
// replace of a whole table, merge on a key; then new rows arrive and a
// second run brings Snowflake level again without duplicates.
func TestPushEndToEnd(t *testing.T) {
	f := newPushFixture(t, snowflaketest.Options{Users: []snowflaketest.User{{Name: "SLUICE", Password: "sluice"}}})
	ctx := context.Background()
	if err := f.sf.Exec(ctx, `CREATE TABLE ACME.CRM.SNAPSHOT (ID VARCHAR(64) NOT NULL, AMOUNT NUMBER(38,2), NOTE VARCHAR);
		INSERT INTO ACME.CRM.SNAPSHOT VALUES ('stale', 1, 'gone after the first run');
		CREATE TABLE ACME.CRM.CONTACTS (CONTACT_ID NUMBER(18,0) NOT NULL, TOTAL NUMBER(38,2), TOUCHES NUMBER(18,0), SOURCE VARCHAR DEFAULT 'crm');
		INSERT INTO ACME.CRM.CONTACTS (CONTACT_ID, TOTAL, TOUCHES, SOURCE) VALUES (7, 0, 0, 'kept'), (999, 5, 1, 'not in ClickHouse')`); err != nil {
		t.Fatal(err)
	}
	f.pipeline(t, f.eventsStream()+`  snapshot:
    source: {connection: ch, query: all.sql, incremental: false}
    columns:
      ID:     {from: id, type: VARCHAR(64), nullable: false}
      AMOUNT: {from: amount, type: "NUMBER(38,2)"}
      NOTE:   {from: note, type: VARCHAR}
    destination: {connection: sf, table: ACME.CRM.SNAPSHOT, mode: replace}
  contacts:
    source: {connection: ch, query: contacts.sql, incremental: false}
    columns:
      CONTACT_ID: {from: contact_id, type: "NUMBER(18,0)", nullable: false}
      TOTAL:      {from: total, type: "NUMBER(38,2)"}
      TOUCHES:    {from: touches, type: "NUMBER(18,0)"}
    destination: {connection: sf, table: ACME.CRM.CONTACTS, mode: merge, key: [CONTACT_ID]}
`)
	// A dry run samples through the mapping and writes nothing.
	out, errOut, code := f.run(t, "dry-run", "--stream", "events", "--limit", "3")
	if code != 0 || !strings.Contains(out, "nothing written") || !strings.Contains(out, "ID VARCHAR(64)") {
		t.Fatalf("dry-run: exit %d\n%s%s", code, out, errOut)
	}
	if got := f.sfRows(t, "SHOW TABLES LIKE 'EVENTS' IN SCHEMA ACME.CRM", joined); len(got) != 0 {
		t.Fatalf("the dry run created the table: %v", got)
	}

	check := func(round string) {
		t.Helper()
		if got, want := f.sfByWeek(t, "ACME.CRM.EVENTS"), f.chByWeek(t); got != want {
			t.Errorf("%s: EVENTS by week:\n%s\nClickHouse:\n%s", round, got, want)
		}
		var chCount, chSum string
		f.ch.Conn.QueryRow(ctx, "SELECT toString(count()), toString(sum(amount)) FROM "+f.ch.Name+".touch").Scan(&chCount, &chSum)
		if got, want := f.sfRows(t, "SELECT COUNT(*), TO_VARCHAR(SUM(AMOUNT)), COUNT(NOTE) FROM ACME.CRM.SNAPSHOT", joined)[0],
			chCount+" "+chSum; !strings.HasPrefix(got+" ", want+" ") {
			t.Errorf("%s: SNAPSHOT holds %s, ClickHouse %s", round, got, want)
		}
		got := f.sfRows(t, "SELECT CONTACT_ID, TO_VARCHAR(TOTAL), TOUCHES, SOURCE FROM ACME.CRM.CONTACTS WHERE CONTACT_ID IN (0, 7, 999) ORDER BY 1", joined)
		var total0, total7, n0, n7 string
		f.ch.Conn.QueryRow(ctx, "SELECT toString(sumIf(amount, contact_id = 0)), toString(sumIf(amount, contact_id = 7)), toString(countIf(contact_id = 0)), toString(countIf(contact_id = 7)) FROM "+f.ch.Name+".touch").
			Scan(&total0, &total7, &n0, &n7)
		want := []string{"0 " + total0 + " " + n0 + " crm", "7 " + total7 + " " + n7 + " kept", "999 5.00 1 not in ClickHouse"}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: CONTACTS:\n%s\nwant:\n%s", round, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	if out, errOut, code := f.run(t, "run"); code != 0 {
		t.Fatalf("run: exit %d\n%s%s", code, out, errOut)
	}
	check("first run")
	// NULLs and the exact decimal and timestamp arrive as they were.
	if got, want := f.sfRows(t, "SELECT ID, CONTACT_ID, TO_VARCHAR(AMOUNT), TO_VARCHAR(AT, 'YYYY-MM-DD HH24:MI:SS'), NOTE FROM ACME.CRM.EVENTS WHERE ID IN ('t7', 't8') ORDER BY 1", joined),
		[]string{"t7 7 0.87 " + f.start.Add(7*600*time.Second).Format(time.DateTime) + " NULL", "t8 8 1.00 " + f.start.Add(8*600*time.Second).Format(time.DateTime) + " note 8"}; strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// New touchpoints arrive, later than the first ones; the next run
	// re-runs the open window and brings every table level.
	f.addTouchpoints(t, pushRows, pushRows+500)
	if out, errOut, code := f.run(t, "run"); code != 0 {
		t.Fatalf("second run: exit %d\n%s%s", code, out, errOut)
	}
	check("second run")
}

// TestPushValidation: before a row moves, the live destination is checked
// against the mapping, and each problem is reported with the column and
// both types at the pipeline's line; nothing is written.
func TestPushValidation(t *testing.T) {
	f := newPushFixture(t, snowflaketest.Options{Users: []snowflaketest.User{{Name: "SLUICE", Password: "sluice"}}})
	for _, tc := range []struct {
		name, table string
		create      string // the destination's CREATE TABLE, if any
		want        []string
	}{
		{"no table", "MISSING", "", []string{"pipeline.yaml:15:", "table ACME.CRM.MISSING does not exist on sf, and create is not set"}},
		{"missing column", "NO_NOTE", "ID VARCHAR(64) NOT NULL, CONTACT_ID NUMBER(18,0), AMOUNT NUMBER(38,2), AT TIMESTAMP_NTZ(6) NOT NULL",
			[]string{"pipeline.yaml:14:", "column NOTE: table ACME.CRM.NO_NOTE has no such column"}},
		{"narrow decimal", "NARROW_AMOUNT", "ID VARCHAR(64) NOT NULL, CONTACT_ID NUMBER(18,0), AMOUNT NUMBER(10,2), AT TIMESTAMP_NTZ(6) NOT NULL, NOTE VARCHAR",
			[]string{"pipeline.yaml:12:", "column AMOUNT", "NUMBER(10,2)", "NUMBER(38,2)"}},
		{"short varchar", "SHORT_NOTE", "ID VARCHAR(64) NOT NULL, CONTACT_ID NUMBER(18,0), AMOUNT NUMBER(38,2), AT TIMESTAMP_NTZ(6) NOT NULL, NOTE VARCHAR(20)",
			[]string{"pipeline.yaml:14:", "column NOTE", "VARCHAR(20)"}},
		{"nullable into not null", "STRICT_NOTE", "ID VARCHAR(64) NOT NULL, CONTACT_ID NUMBER(18,0), AMOUNT NUMBER(38,2), AT TIMESTAMP_NTZ(6) NOT NULL, NOTE VARCHAR NOT NULL",
			[]string{"pipeline.yaml:14:", "column NOTE", "NOT NULL"}},
		{"unmapped not null", "EXTRA", "ID VARCHAR(64) NOT NULL, CONTACT_ID NUMBER(18,0), AMOUNT NUMBER(38,2), AT TIMESTAMP_NTZ(6) NOT NULL, NOTE VARCHAR, REGION VARCHAR NOT NULL",
			[]string{"pipeline.yaml:15:", "NOT NULL column REGION that the stream does not map"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.create != "" {
				if err := f.sf.Exec(context.Background(), "CREATE TABLE ACME.CRM."+tc.table+" ("+tc.create+")"); err != nil {
					t.Fatal(err)
				}
			}
			streams := strings.Replace(f.eventsStream(), "table: ACME.CRM.EVENTS, mode: append, create: true", "table: ACME.CRM."+tc.table+", mode: append", 1)
			f.pipeline(t, streams)
			for _, verb := range []string{"plan", "dry-run", "run"} {
				out, errOut, code := f.run(t, verb)
				if verb == "plan" {
					out, errOut, code = sluice(t, "plan", "--live", "--connections", filepath.Join(f.dir, "connections.yaml"), filepath.Join(f.dir, "p"))
				}
				for _, w := range tc.want {
					if !strings.Contains(errOut, w) {
						t.Errorf("%s: stderr lacks %q:\n%s", verb, w, errOut)
					}
				}
				if code != 1 {
					t.Errorf("%s: exit %d, want 1\n%s%s", verb, code, out, errOut)
				}
			}
			if tc.create != "" {
				if got := f.sfRows(t, "SELECT COUNT(*) FROM ACME.CRM."+tc.table, joined); got[0] != "0" {
					t.Errorf("rows were written: %v", got)
				}
			}
		})
	}
}

// TestPushThroughReadOnlyRole: a connection declared read_write whose
// Snowflake role may only read fails with a plain permission error and
// writes nothing.
func TestPushThroughReadOnlyRole(t *testing.T) {
	f := newPushFixture(t, snowflaketest.Options{Users: []snowflaketest.User{{Name: "READER", Password: "sluice", ReadOnly: true}}})
	if err := f.sf.Exec(context.Background(), "CREATE TABLE ACME.CRM.EVENTS (ID VARCHAR(64) NOT NULL, CONTACT_ID NUMBER(18,0), AMOUNT NUMBER(38,2), AT TIMESTAMP_NTZ(6) NOT NULL, NOTE VARCHAR)"); err != nil {
		t.Fatal(err)
	}
	f.pipeline(t, f.eventsStream())
	out, errOut, code := f.run(t, "run")
	if code != 1 || !strings.Contains(errOut, "the connection's role may not write here") {
		t.Fatalf("exit %d, want 1 with a permission error\n%s%s", code, out, errOut)
	}
	if strings.Contains(errOut, "retrying") {
		t.Errorf("a permission error was retried:\n%s", errOut)
	}
	if got := f.sfRows(t, "SELECT COUNT(*) FROM ACME.CRM.EVENTS", joined); got[0] != "0" {
		t.Errorf("rows were written: %v", got)
	}
}

// TestPushCrashRecovery kills `sluice run` (SIGKILL) inside a push window:
// before the write, with the rows staged but not applied, after the write
// but before the ledger commit, and after a commit; the next run leaves
// Snowflake with exactly ClickHouse's rows, window by window.
func TestPushCrashRecovery(t *testing.T) {
	for _, crash := range []string{"begun:2", "staged:3", "written:3", "committed:2"} {
		t.Run(crash, func(t *testing.T) {
			f := newPushFixture(t, snowflaketest.Options{Users: []snowflaketest.User{{Name: "SLUICE", Password: "sluice"}}})
			f.pipeline(t, f.eventsStream())
			cli := func(crashAt string) (string, error) { return runCrashing(f.dir, crashAt) }
			out, err := cli(crash)
			if err == nil || !strings.Contains(err.Error(), "killed") {
				t.Fatalf("the crashing run ended with %v, want a kill\n%s", err, out)
			}
			if out, err := cli(""); err != nil {
				t.Fatalf("the run after the crash: %v\n%s", err, out)
			}
			got, want := f.sfByWeek(t, "ACME.CRM.EVENTS"), f.chByWeek(t)
			if got != want {
				g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
				sort.Strings(g)
				t.Errorf("after a crash at %s, by week:\n%s\nClickHouse:\n%s", crash, strings.Join(g, "\n"), strings.Join(w, "\n"))
			}
		})
	}
}

// TestPushTypes pushes a value of every ClickHouse type Sluice reads into
// the Snowflake type it maps to, through both load paths, into a table
// Sluice creates: values equal, NULLs kept, decimals exact.
func TestPushTypes(t *testing.T) {
	for _, path := range []struct{ name, rows string }{{"bind", "-1"}, {"copy", "1"}} {
		t.Run(path.name, func(t *testing.T) {
			t.Setenv("SLUICE_BULK_ROWS", path.rows)
			f := newPushFixture(t, snowflaketest.Options{Users: []snowflaketest.User{{Name: "SLUICE", Password: "sluice"}}})
			ctx := context.Background()
			if err := f.ch.Conn.Exec(ctx, "CREATE TABLE "+f.ch.Name+`.types (k Int32, i8 Int8, i64 Int64, u64 UInt64, f32 Float32, f64 Float64,
				d Decimal(38, 10), d2 Decimal(18, 2), s String, fs FixedString(3), n Nullable(String), dt Date, ts DateTime('UTC'), tz DateTime('UTC'))
				ENGINE = MergeTree ORDER BY k`); err != nil {
				t.Fatal(err)
			}
			if err := f.ch.Conn.Exec(ctx, "INSERT INTO "+f.ch.Name+`.types (k, i8, i64, u64, f32, f64, d, d2, s, fs, n, dt, ts, tz)
				SELECT 1, -128, toInt64('-9223372036854775808'), toUInt64('18446744073709551615'), toFloat32(0.25), 1.5e300,
					toDecimal128('1234567890123456789012345678.0123456789', 10), toDecimal64('-0.01', 2), 'héllo, "world"', 'abc', NULL,
					toDate('1970-01-01'), toDateTime('2024-02-29 23:59:59', 'UTC'), toDateTime('2024-02-29 23:59:59', 'UTC')
				UNION ALL SELECT 2, 127, toInt64('9223372036854775807'), 0, toFloat32(-3.5), -0.1,
					toDecimal128('-0.0000000001', 10), toDecimal64('99999999.99', 2), '', 'xyz', 'x',
					toDate('2105-12-31'), toDateTime('1970-01-01 00:00:00', 'UTC'), toDateTime('2000-01-01 12:00:00', 'UTC')`); err != nil {
				t.Fatal(err)
			}
			writeFiles(t, f.dir, map[string]string{"p/types.sql": "SELECT * FROM types"})
			f.pipeline(t, `  types:
    source: {connection: ch, query: types.sql, incremental: false}
    columns:
      K:   {from: k, type: "NUMBER(10,0)", nullable: false}
      I8:  {from: i8, type: "NUMBER(3,0)"}
      I64: {from: i64, type: "NUMBER(19,0)"}
      U64: {from: u64, type: "NUMBER(20,0)"}
      F32: {from: f32, type: FLOAT}
      F64: {from: f64, type: FLOAT}
      D:   {from: d, type: "NUMBER(38,10)"}
      D2:  {from: d2, type: "NUMBER(18,2)"}
      S:   {from: s, type: VARCHAR}
      FS:  {from: fs, type: VARCHAR(3)}
      N:   {from: n, type: VARCHAR}
      DT:  {from: dt, type: DATE}
      TS:  {from: ts, type: TIMESTAMP_NTZ(0)}
      TZ:  {from: tz, type: TIMESTAMP_TZ(0)}
    destination: {connection: sf, table: ACME.CRM.TYPES, mode: replace, create: true}
`)
			if out, errOut, code := f.run(t, "run"); code != 0 {
				t.Fatalf("run: exit %d\n%s%s", code, out, errOut)
			}
			got := f.sfRows(t, `SELECT K, I8, TO_VARCHAR(I64), TO_VARCHAR(U64), F32, F64, TO_VARCHAR(D), TO_VARCHAR(D2), S, FS, N, TO_VARCHAR(DT),
				TO_VARCHAR(TS, 'YYYY-MM-DD HH24:MI:SS'), TO_VARCHAR(CONVERT_TIMEZONE('UTC', TZ), 'YYYY-MM-DD HH24:MI:SS') FROM ACME.CRM.TYPES ORDER BY K`,
				func(v []string) string { return strings.Join(v, " | ") })
			want := []string{
				`1 | -128 | -9223372036854775808 | 18446744073709551615 | 0.25 | 1.5e+300 | 1234567890123456789012345678.0123456789 | -0.01 | héllo, "world" | abc | NULL | 1970-01-01 | 2024-02-29 23:59:59 | 2024-02-29 23:59:59`,
				`2 | 127 | 9223372036854775807 | 0 | -3.5 | -0.1 | -0.0000000001 | 99999999.99 |  | xyz | x | 2105-12-31 | 1970-01-01 00:00:00 | 2000-01-01 12:00:00`,
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("Snowflake holds:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}
