//go:build duckdb_arrow

package snowflaketest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	sf "github.com/snowflakedb/gosnowflake/v2"
	"github.com/snowflakedb/gosnowflake/v2/arrowbatches"
)

func snowflakeErr(t *testing.T, err error) *sf.SnowflakeError {
	t.Helper()
	var se *sf.SnowflakeError
	if !errors.As(err, &se) {
		t.Fatalf("got %v (%T), want a *gosnowflake.SnowflakeError", err, err)
	}
	return se
}

func newKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestLogins(t *testing.T) {
	key, other := newKey(t), newKey(t)
	s := Start(t, Options{Users: []User{
		{Name: "SVC", PublicKey: &key.PublicKey},
		{Name: "PAT_USER", Token: "pat-secret"},
		{Name: "OAUTH_USER", Token: "oauth-secret"},
	}})
	ping := func(cfg *sf.Config) error {
		db := Open(cfg)
		defer db.Close()
		return db.PingContext(context.Background())
	}
	if err := ping(s.KeyPairConfig("svc", key)); err != nil {
		t.Errorf("key-pair login: %v", err)
	}
	if se := snowflakeErr(t, ping(s.KeyPairConfig("svc", other))); se.Number != 390144 {
		t.Errorf("key-pair login with another key: %d, want 390144", se.Number)
	}
	pat := s.Config("pat_user", "")
	pat.Authenticator, pat.Token = sf.AuthTypePat, "pat-secret"
	if err := ping(pat); err != nil {
		t.Errorf("PAT login: %v", err)
	}
	oauth := s.Config("oauth_user", "")
	oauth.Authenticator, oauth.Token = sf.AuthTypeOAuth, "oauth-secret"
	if err := ping(oauth); err != nil {
		t.Errorf("OAuth login: %v", err)
	}
	oauth.Token = "stale"
	if err := ping(oauth); err == nil {
		t.Error("OAuth login with a bad token succeeded")
	}
	s.RemoveUser("PAT_USER")
	if se := snowflakeErr(t, ping(pat)); se.Number != 390100 {
		t.Errorf("login of a removed user: %d, want 390100", se.Number)
	}
}

func TestSessionRenewalAndLogout(t *testing.T) {
	s := Start(t, Options{})
	db := Open(s.Config("sluice", "sluice"))
	db.SetMaxOpenConns(1)
	var n int
	if err := db.QueryRow("SELECT 1").Scan(&n); err != nil {
		t.Fatal(err)
	}
	s.ExpireSessions()
	if err := db.QueryRow("SELECT 2").Scan(&n); err != nil || n != 2 {
		t.Fatalf("query after the session expired: %v", err)
	}
	if s.Sessions() != 1 {
		t.Errorf("sessions = %d, want 1 (renewed, not replaced)", s.Sessions())
	}
	db.Close()
	if s.Sessions() != 0 {
		t.Errorf("sessions after close = %d, want 0", s.Sessions())
	}
}

func TestTransientFailuresAreRetried(t *testing.T) {
	s := Start(t, Options{})
	db := Open(s.Config("sluice", "sluice"))
	defer db.Close()
	db.SetMaxOpenConns(1)
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	s.FailRequests("/queries/v1/query-request", 0, 2, 503)
	var n int
	if err := db.QueryRow("SELECT 7").Scan(&n); err != nil || n != 7 {
		t.Fatalf("query through two 503s: %d, %v", n, err)
	}
}

func TestChunkedResults(t *testing.T) {
	for _, gz := range []bool{false, true} {
		t.Run(fmt.Sprintf("gzip=%v", gz), func(t *testing.T) { testChunkedResults(t, gz) })
	}
}

func testChunkedResults(t *testing.T, gz bool) {
	s := Start(t, Options{ChunkRows: 40_000, Gzip: gz})
	seed(t, s, `CREATE DATABASE D;
		CREATE TABLE D.PUBLIC.BIG AS SELECT seq4() AS ID FROM TABLE(GENERATOR(ROWCOUNT => 1))`)
	// DuckDB's range() stands in for GENERATOR in the seed.
	if err := s.Exec(context.Background(), `CREATE OR REPLACE TABLE D.PUBLIC.BIG (ID NUMBER(38,0), SMALL NUMBER(38,0), AMOUNT NUMBER(12,2), TS TIMESTAMP_NTZ, NAME VARCHAR)`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(`INSERT INTO "D"."PUBLIC"."BIG" SELECT i, i % 100, i / 100, TIMESTAMP '2024-01-01' + to_microseconds(i), 'n' || i FROM range(100000) t(i)`); err != nil {
		t.Fatal(err)
	}
	cfg := s.Config("sluice", "sluice")
	cfg.Database = "D"
	db := Open(cfg)
	defer db.Close()
	ctx := context.Background()

	// database/sql over the chunks, with one chunk cut short and retried.
	s.CutChunks(1)
	var count, sum int64
	rows, err := db.QueryContext(ctx, "SELECT ID FROM BIG")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		count++
		sum += id
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if count != 100000 || sum != 100000*99999/2 {
		t.Errorf("rows = %d, sum = %d", count, sum)
	}

	// Arrow batches with higher precision and microsecond timestamps, as
	// the pull engine reads: the narrowest integer per chunk, decimals
	// scaled, timestamps in microseconds.
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	actx := arrowbatches.WithTimestampOption(sf.WithHigherPrecision(arrowbatches.WithArrowBatches(ctx)), arrowbatches.UseMicrosecondTimestamp)
	var total int64
	var smallType, amountType, tsType string
	err = conn.Raw(func(dc any) error {
		rows, err := dc.(driver.QueryerContext).QueryContext(actx, "SELECT ID, SMALL, AMOUNT, TS, NAME FROM BIG", nil)
		if err != nil {
			return err
		}
		defer rows.Close()
		batches, err := arrowbatches.GetArrowBatches(rows.(sf.SnowflakeRows))
		if err != nil {
			return err
		}
		if len(batches) != 3 {
			return fmt.Errorf("%d batches, want 3 chunks", len(batches))
		}
		for _, b := range batches {
			recs, err := b.Fetch()
			if err != nil {
				return err
			}
			for _, r := range *recs {
				total += r.NumRows()
				smallType = r.Schema().Field(1).Type.String()
				amountType = r.Schema().Field(2).Type.String()
				tsType = r.Schema().Field(3).Type.String()
				r.Release()
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if total != 100000 {
		t.Errorf("arrow rows = %d", total)
	}
	if smallType != arrow.PrimitiveTypes.Int8.String() || amountType != "int32" || tsType != "timestamp[us]" {
		t.Errorf("arrow types: SMALL %s, AMOUNT %s, TS %s; want int8, int32 (scaled), timestamp[us]", smallType, amountType, tsType)
	}
}

func TestMultiStatementAsyncAndResultByID(t *testing.T) {
	s := Start(t, Options{})
	seed(t, s, "CREATE DATABASE D; CREATE TABLE D.PUBLIC.T (A NUMBER)")
	cfg := s.Config("sluice", "sluice")
	cfg.Database = "D"
	db := Open(cfg)
	defer db.Close()
	db.SetMaxOpenConns(1)
	ctx := context.Background()

	if _, err := db.ExecContext(sf.WithMultiStatement(ctx, 2), "INSERT INTO T VALUES (1); INSERT INTO T VALUES (2), (3)"); err != nil {
		t.Fatalf("multi-statement: %v", err)
	}
	_, err := db.ExecContext(ctx, "INSERT INTO T VALUES (4); INSERT INTO T VALUES (5)")
	if se := snowflakeErr(t, err); se.Number != 8 {
		t.Errorf("two statements without MULTI_STATEMENT_COUNT: %d, want 000008", se.Number)
	}

	rows, err := db.QueryContext(sf.WithAsyncMode(ctx), "SELECT COUNT(*) FROM T")
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for rows.Next() {
		rows.Scan(&n)
	}
	rows.Close()
	if n != 3 {
		t.Errorf("async count = %d, want 3", n)
	}

	ids := make(chan string, 1)
	if err := db.QueryRowContext(sf.WithQueryIDChan(ctx, ids), "SELECT SUM(A) FROM T").Scan(&n); err != nil {
		t.Fatal(err)
	}
	qid := <-ids
	if err := db.QueryRowContext(sf.WithFetchResultByID(ctx, qid), "").Scan(&n); err != nil || n != 6 {
		t.Errorf("result by id %s: %d, %v", qid, n, err)
	}
	conn, _ := db.Conn(ctx)
	defer conn.Close()
	conn.Raw(func(dc any) error {
		st, err := dc.(sf.SnowflakeConnection).GetQueryStatus(ctx, qid)
		if err != nil {
			t.Errorf("query status: %v", err)
		} else if st == nil {
			t.Error("no query status")
		}
		return nil
	})
}

func TestDescribeOnlyAndQueryTag(t *testing.T) {
	s := Start(t, Options{})
	seed(t, s, "CREATE DATABASE D; CREATE TABLE D.PUBLIC.T (ID NUMBER(18,0) NOT NULL, EMAIL VARCHAR(64), TS TIMESTAMP_TZ); INSERT INTO D.PUBLIC.T VALUES (1, 'x', CURRENT_TIMESTAMP())")
	cfg := s.Config("sluice", "sluice")
	cfg.Database = "D"
	db := Open(cfg)
	defer db.Close()
	ctx := sf.WithQueryTag(sf.WithDescribeOnly(context.Background()), `{"pipeline":"acme"}`)
	rows, err := db.QueryContext(ctx, "SELECT ID, EMAIL, TS FROM T WHERE TS >= ?", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	types, _ := rows.ColumnTypes()
	var got []string
	for _, ct := range types {
		got = append(got, ct.Name()+" "+ct.DatabaseTypeName())
	}
	if rows.Next() {
		t.Error("describe-only returned rows")
	}
	rows.Close()
	if strings.Join(got, ", ") != "ID FIXED, EMAIL TEXT, TS TIMESTAMP_TZ" {
		t.Errorf("described columns: %v", got)
	}
	h := s.QueryHistory()
	if last := h[len(h)-1]; last.QueryTag != `{"pipeline":"acme"}` {
		t.Errorf("query tag = %q", last.QueryTag)
	}
}

func TestBinds(t *testing.T) {
	s := Start(t, Options{})
	seed(t, s, `CREATE DATABASE D; CREATE TABLE D.PUBLIC.B (I NUMBER(38,0), F FLOAT, S VARCHAR, OK BOOLEAN, D DATE,
		NTZ TIMESTAMP_NTZ, TZ TIMESTAMP_TZ, TM TIME, LTZ TIMESTAMP_LTZ, BIN BINARY, N VARCHAR)`)
	cfg := s.Config("sluice", "sluice")
	cfg.Database = "D"
	db := Open(cfg)
	defer db.Close()
	ts := time.Date(2024, 3, 4, 5, 6, 7, 123456000, time.UTC)
	_, err := db.Exec("INSERT INTO B VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		int64(9007199254740993), 0.25, "it's", true, sf.DataTypeDate, ts, sf.DataTypeTimestampNtz, ts,
		sf.DataTypeTimestampTz, ts, sf.DataTypeTime, ts, sf.DataTypeTimestampLtz, ts, sf.DataTypeBinary, []byte{0xCA, 0xFE}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ids := []int64{1, 2, 3}
	names := []string{"a", "b", "c"}
	ia, _ := sf.Array(&ids)
	na, _ := sf.Array(&names)
	res, err := db.Exec("INSERT INTO B (I, S) VALUES (?, ?)", ia, na)
	if err != nil {
		t.Fatalf("array binds: %v", err)
	}
	if n, _ := res.RowsAffected(); n != 3 {
		t.Errorf("array insert affected %d rows, want 3", n)
	}
	var i int64
	var f float64
	var str string
	var ok bool
	var d, ntz, tz time.Time
	var bin []byte
	var null sql.NullString
	var tm, ltz time.Time
	err = db.QueryRow("SELECT I, F, S, OK, D, NTZ, TZ, BIN, N, TM, LTZ FROM B WHERE S = ? AND I > ?", "it's", 5).Scan(&i, &f, &str, &ok, &d, &ntz, &tz, &bin, &null, &tm, &ltz)
	if err != nil {
		t.Fatal(err)
	}
	if i != 9007199254740993 || f != 0.25 || str != "it's" || !ok || d.Format(time.DateOnly) != "2024-03-04" ||
		!ntz.Equal(ts) || !tz.Equal(ts) || fmt.Sprintf("%X", bin) != "CAFE" || null.Valid ||
		tm.Format("15:04:05.000000") != "05:06:07.123456" || !ltz.Equal(ts) {
		t.Errorf("read back %d %v %q %v %v %v %v %X %v %v %v", i, f, str, ok, d, ntz, tz, bin, null, tm, ltz)
	}
}

func TestErrors(t *testing.T) {
	s := Start(t, Options{Users: []User{{Name: "SLUICE", Password: "sluice"}, {Name: "READER", Password: "r", ReadOnly: true}}})
	seed(t, s, "CREATE DATABASE D; CREATE TABLE D.PUBLIC.T (ID NUMBER NOT NULL, NAME VARCHAR)")
	cfg := s.Config("sluice", "sluice")
	cfg.Database = "D"
	db := Open(cfg)
	defer db.Close()
	rcfg := s.Config("reader", "r")
	rcfg.Database = "D"
	reader := Open(rcfg)
	defer reader.Close()
	for _, tc := range []struct {
		db         *sql.DB
		sql        string
		code       int
		state, msg string
	}{
		{db, "SELECT * FROM MISSING", 2003, "42S02", "does not exist or not authorized"},
		{db, "SELEC 1", 1003, "42000", "syntax error"},
		{db, "SELECT NOPE FROM T", 904, "42000", "invalid identifier"},
		{db, "SELECT 1/0", 100051, "22012", "Division by zero"},
		{db, "INSERT INTO T (NAME) VALUES ('x')", 100072, "22000", "NULL result in a non-nullable column"},
		{reader, "INSERT INTO T VALUES (1, 'x')", 3001, "42501", "Insufficient privileges"},
		{reader, "DROP TABLE T", 3001, "42501", "Insufficient privileges"},
	} {
		_, err := tc.db.Exec(tc.sql)
		if err == nil {
			t.Errorf("%s: succeeded", tc.sql)
			continue
		}
		se := snowflakeErr(t, err)
		if se.Number != tc.code || se.SQLState != tc.state || !strings.Contains(se.Message, tc.msg) {
			t.Errorf("%s: %d %s %q, want %d %s containing %q", tc.sql, se.Number, se.SQLState, se.Message, tc.code, tc.state, tc.msg)
		}
	}
	var n int
	if err := reader.QueryRow("SELECT COUNT(*) FROM T").Scan(&n); err != nil {
		t.Errorf("read-only user cannot read: %v", err)
	}
}

func TestCatalogViews(t *testing.T) {
	s := Start(t, Options{})
	seed(t, s, `CREATE DATABASE ANALYTICS; CREATE SCHEMA ANALYTICS.HOCKEYSTACK;
		CREATE TRANSIENT TABLE ANALYTICS.HOCKEYSTACK.TOUCHPOINTS (TOUCHPOINT_ID VARCHAR(64) NOT NULL, REVENUE_USD NUMBER(10,2),
		TOUCHED_AT TIMESTAMP_TZ(6), PAYLOAD VARIANT, PRIMARY KEY (TOUCHPOINT_ID)) CLUSTER BY (TOUCHED_AT) COMMENT = 'from HockeyStack'`)
	cfg := s.Config("sluice", "sluice")
	cfg.Database = "ANALYTICS"
	cfg.Schema = "HOCKEYSTACK"
	db := Open(cfg)
	defer db.Close()
	got, err := render(context.Background(), db, `SELECT COLUMN_NAME, DATA_TYPE, IS_NULLABLE, CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION
		FROM ANALYTICS.INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = 'HOCKEYSTACK' AND TABLE_NAME = 'TOUCHPOINTS' ORDER BY ORDINAL_POSITION`)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"COLUMN_NAME\tDATA_TYPE\tIS_NULLABLE\tCHARACTER_MAXIMUM_LENGTH\tNUMERIC_PRECISION\tNUMERIC_SCALE\tDATETIME_PRECISION",
		"TOUCHPOINT_ID\tTEXT\tNO\t64\tNULL\tNULL\tNULL",
		"REVENUE_USD\tNUMBER\tYES\tNULL\t10\t2\tNULL",
		"TOUCHED_AT\tTIMESTAMP_TZ\tYES\tNULL\tNULL\tNULL\t6",
		"PAYLOAD\tVARIANT\tYES\tNULL\tNULL\tNULL\tNULL",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("INFORMATION_SCHEMA.COLUMNS:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	got, err = render(context.Background(), db, "DESCRIBE TABLE TOUCHPOINTS")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 || !strings.HasPrefix(got[1], "TOUCHPOINT_ID\tVARCHAR(64) NOT NULL\tCOLUMN\tN") || !strings.HasPrefix(got[3], "TOUCHED_AT\tTIMESTAMP_TZ(6)\tCOLUMN\tY") {
		t.Errorf("DESCRIBE TABLE:\n%s", strings.Join(got, "\n"))
	}
	got, err = render(context.Background(), db, "SHOW TABLES LIKE 'TOUCH%'")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !strings.Contains(got[1], "TOUCHPOINTS\tANALYTICS\tHOCKEYSTACK\tTRANSIENT\tfrom HockeyStack") {
		t.Errorf("SHOW TABLES:\n%s", strings.Join(got, "\n"))
	}
}

func TestTransactionsAndSwap(t *testing.T) {
	s := Start(t, Options{})
	seed(t, s, "CREATE DATABASE D; CREATE TABLE D.PUBLIC.T (A NUMBER); INSERT INTO D.PUBLIC.T VALUES (1)")
	cfg := s.Config("sluice", "sluice")
	cfg.Database = "D"
	db := Open(cfg)
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, q := range []string{"BEGIN", "INSERT INTO T VALUES (2)", "ROLLBACK",
		"CREATE OR REPLACE TRANSIENT TABLE T_STAGE LIKE T", "INSERT INTO T_STAGE VALUES (10), (20)", "ALTER TABLE T SWAP WITH T_STAGE"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var n, old int
	db.QueryRow("SELECT SUM(A) FROM T").Scan(&n)
	db.QueryRow("SELECT SUM(A) FROM T_STAGE").Scan(&old)
	if n != 30 || old != 1 {
		t.Errorf("after swap T sums %d (want 30), T_STAGE %d (want 1: the rollback undid 2)", n, old)
	}
}

func TestCancel(t *testing.T) {
	s := Start(t, Options{})
	db := Open(s.Config("sluice", "sluice"))
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := db.ExecContext(ctx, "SELECT COUNT(*) FROM range(100000000000) a")
	if err == nil {
		t.Fatal("a cancelled query succeeded")
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("cancel took %v", time.Since(start))
	}
}

func TestHeartbeatAndAbort(t *testing.T) {
	s := Start(t, Options{})
	cfg := s.Config("sluice", "sluice")
	cfg.ServerSessionKeepAlive = true
	cfg.Params["CLIENT_SESSION_KEEP_ALIVE"] = ptr("true")
	db := Open(cfg)
	defer db.Close()
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	// The heartbeat endpoint answers a live session and rejects others.
	for _, tc := range []struct {
		token string
		ok    bool
	}{{s.anyToken(), true}, {"bogus", false}} {
		req, _ := http.NewRequest("POST", s.URL+"/session/heartbeat", nil)
		req.Header.Set("Authorization", `Snowflake Token="`+tc.token+`"`)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct{ Success bool }
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if body.Success != tc.ok {
			t.Errorf("heartbeat with token %q: success %v", tc.token, body.Success)
		}
	}
}

// TIMESTAMP_TZ values keep their own offsets through binds, array binds
// and both result formats; TIMESTAMP_LTZ is an instant in the session's
// zone, and each column reports its own type.
func TestTimestampTZOffsets(t *testing.T) {
	for _, format := range []string{"json", "arrow"} {
		t.Run(format, func(t *testing.T) {
			s := Start(t, Options{ResultFormat: format})
			seed(t, s, `CREATE DATABASE D; CREATE TABLE D.PUBLIC.E (ID NUMBER(38,0), AT TIMESTAMP_TZ, SEEN TIMESTAMP_LTZ);
				INSERT INTO D.PUBLIC.E VALUES (1, '2024-03-01 23:30:00 +05:00', '2024-03-01 18:30:00')`)
			cfg := s.Config("sluice", "sluice")
			cfg.Database = "D"
			db := Open(cfg)
			defer db.Close()
			kolkata := time.FixedZone("", 5*3600+1800)
			newYork := time.FixedZone("", -4*3600)
			at := time.Date(2024, 7, 1, 8, 0, 0, 123456000, newYork)
			if _, err := db.Exec("INSERT INTO E VALUES (2, ?, ?)", sf.DataTypeTimestampTz, at, sf.DataTypeTimestampLtz, at); err != nil {
				t.Fatal(err)
			}
			ids := []int64{3, 4}
			times := []time.Time{time.Date(2024, 1, 1, 0, 0, 0, 0, kolkata), time.Date(2023, 12, 31, 12, 0, 0, 0, time.UTC)}
			ia, _ := sf.Array(&ids)
			ta, _ := sf.Array(&times, sf.TimestampTZType)
			if _, err := db.Exec("INSERT INTO E (ID, AT) VALUES (?, ?)", ia, ta); err != nil {
				t.Fatalf("array binds: %v", err)
			}
			// A plain time bound against a TIMESTAMP_TZ column compares instants.
			rows, err := db.Query("SELECT ID, AT, SEEN FROM E WHERE AT >= ? ORDER BY ID", time.Date(2023, 12, 31, 12, 0, 0, 0, time.UTC))
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			types, _ := rows.ColumnTypes()
			if got := types[1].DatabaseTypeName() + " " + types[2].DatabaseTypeName(); got != "TIMESTAMP_TZ TIMESTAMP_LTZ" {
				t.Errorf("column types %s", got)
			}
			var got []string
			for rows.Next() {
				var id int64
				var tz time.Time
				var ltz sql.NullTime
				if err := rows.Scan(&id, &tz, &ltz); err != nil {
					t.Fatal(err)
				}
				line := fmt.Sprintf("%d %s", id, tz.Format(time.RFC3339Nano))
				if ltz.Valid {
					line += " " + ltz.Time.UTC().Format(time.RFC3339Nano)
				}
				got = append(got, line)
			}
			want := []string{
				"1 2024-03-01T23:30:00+05:00 2024-03-01T18:30:00Z",
				"2 2024-07-01T08:00:00.123456-04:00 2024-07-01T12:00:00.123456Z",
				"3 2024-01-01T00:00:00+05:30",
				"4 2023-12-31T12:00:00Z",
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("read back\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// A TEMPORARY table belongs to its session: another session cannot see
// it, and it is gone once its session logs out.
func TestTemporaryTables(t *testing.T) {
	s := Start(t, Options{})
	seed(t, s, "CREATE DATABASE D")
	cfg := s.Config("sluice", "sluice")
	cfg.Database = "D"
	open := func() *sql.DB {
		db := Open(cfg)
		db.SetMaxOpenConns(1)
		return db
	}
	a, b := open(), open()
	defer b.Close()
	if _, err := a.Exec("CREATE TEMPORARY TABLE SCRATCH (ID NUMBER(38,0))"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Exec("INSERT INTO SCRATCH VALUES (1), (2)"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := a.QueryRow("SELECT COUNT(*) FROM SCRATCH").Scan(&n); err != nil || n != 2 {
		t.Fatalf("own session reads %d rows, %v", n, err)
	}
	var sfErr *sf.SnowflakeError
	if err := b.QueryRow("SELECT COUNT(*) FROM SCRATCH").Scan(&n); !errors.As(err, &sfErr) || sfErr.Number != 2003 {
		t.Errorf("another session reading the temporary table: %v, want 002003", err)
	}
	a.Close()
	c := open()
	defer c.Close()
	if err := c.QueryRow("SELECT COUNT(*) FROM SCRATCH").Scan(&n); !errors.As(err, &sfErr) || sfErr.Number != 2003 {
		t.Errorf("after its session closed: %v, want 002003", err)
	}
}

// A session runs in the TIMEZONE it asks for, at login or by ALTER
// SESSION: TIMESTAMP_LTZ values are rendered in it and NTZ values
// converted to LTZ are read there. An unknown zone is refused.
func TestSessionTimezone(t *testing.T) {
	s := Start(t, Options{})
	cfg := s.Config("sluice", "sluice")
	la := "America/Los_Angeles"
	cfg.Params = map[string]*string{"TIMEZONE": &la}
	db := Open(cfg)
	defer db.Close()
	db.SetMaxOpenConns(1)
	var ltz time.Time
	if err := db.QueryRow("SELECT '2024-01-02 03:04:05'::TIMESTAMP_NTZ::TIMESTAMP_LTZ").Scan(&ltz); err != nil {
		t.Fatalf("login in %s: %v", la, err)
	}
	if got, want := ltz.UTC(), time.Date(2024, 1, 2, 11, 4, 5, 0, time.UTC); !got.Equal(want) {
		t.Errorf("NTZ 03:04:05 as LTZ in %s = %v, want %v", la, got, want)
	}
	if ltz.Location().String() != la {
		t.Errorf("LTZ rendered in %v, want %s", ltz.Location(), la)
	}
	var zone string
	if err := db.QueryRow("SELECT current_setting('TimeZone')").Scan(&zone); err == nil && zone != la {
		t.Errorf("DuckDB session zone %q, want %s", zone, la)
	}
	if _, err := db.Exec("ALTER SESSION SET TIMEZONE = 'Asia/Kolkata'"); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("SELECT '2024-01-02 03:04:05+00:00'::TIMESTAMP_LTZ").Scan(&ltz); err != nil {
		t.Fatal(err)
	}
	if ltz.Location().String() != "Asia/Kolkata" || ltz.Hour() != 8 || ltz.Minute() != 34 {
		t.Errorf("LTZ after ALTER SESSION = %v, want 08:34 in Asia/Kolkata", ltz)
	}
	var tokyo time.Time
	if err := db.QueryRow("SELECT CONVERT_TIMEZONE('Asia/Tokyo', '2024-01-02 03:04:05+00:00'::TIMESTAMP_LTZ)").Scan(&tokyo); err != nil {
		t.Fatal(err)
	}
	if _, off := tokyo.Zone(); off != 9*3600 || tokyo.Hour() != 12 {
		t.Errorf("CONVERT_TIMEZONE to Tokyo in a Kolkata session = %v, want 12:04 +09:00", tokyo)
	}
	var sfErr *sf.SnowflakeError
	if _, err := db.Exec("ALTER SESSION SET TIMEZONE = 'Mars/Olympus'"); !errors.As(err, &sfErr) {
		t.Errorf("ALTER SESSION SET TIMEZONE = 'Mars/Olympus': %v, want an error", err)
	}
	if _, err := db.Exec("ALTER SESSION UNSET TIMEZONE"); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("SELECT '2024-01-02 03:04:05+00:00'::TIMESTAMP_LTZ").Scan(&ltz); err != nil {
		t.Fatal(err)
	}
	if ltz.Location().String() != "UTC" || ltz.Hour() != 3 {
		t.Errorf("LTZ after UNSET = %v, want 03:04 UTC", ltz)
	}
}
