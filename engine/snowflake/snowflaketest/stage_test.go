//go:build duckdb_arrow

package snowflaketest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPutAndCopyInto(t *testing.T) {
	s := Start(t, Options{})
	seed(t, s, `CREATE DATABASE D; CREATE TABLE D.PUBLIC.T (ID NUMBER(38,0) NOT NULL, NAME VARCHAR, AMOUNT NUMBER(10,2))`)
	dir := t.TempDir()
	csv := filepath.Join(dir, "rows.csv")
	os.WriteFile(csv, []byte("id,name,amount\n1,ada,1.50\n2,\"grace, hopper\",\n3,,3\n"), 0o644)
	parquet := filepath.Join(dir, "rows.parquet")
	if _, err := s.db.Exec("COPY (SELECT 'pq' AS NAME, 10 AS ID, 9.99 AS AMOUNT) TO '" + parquet + "' (FORMAT PARQUET)"); err != nil {
		t.Fatal(err)
	}
	cfg := s.Config("sluice", "sluice")
	cfg.Database = "D"
	db := Open(cfg)
	defer db.Close()
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	exec := func(q string) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec("PUT file://" + csv + " @%T")
	exec("PUT file://" + parquet + " @~/pq AUTO_COMPRESS=FALSE")
	copyCSV := "COPY INTO T FROM @%T FILE_FORMAT = (TYPE = CSV SKIP_HEADER = 1 FIELD_OPTIONALLY_ENCLOSED_BY = '\"' NULL_IF = (''))"
	got, err := render(ctx, db, copyCSV)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !strings.HasPrefix(got[1], "rows.csv.gz\tLOADED\t3\t3") {
		t.Errorf("COPY result:\n%s", strings.Join(got, "\n"))
	}
	// The same files again: already loaded, so nothing happens.
	got, _ = render(ctx, db, copyCSV)
	if len(got) != 2 || got[1] != "Copy executed with 0 files processed." {
		t.Errorf("second COPY:\n%s", strings.Join(got, "\n"))
	}
	exec("COPY INTO T FROM @~/pq FILE_FORMAT = (TYPE = PARQUET) MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE")
	rows, err := render(ctx, db, "SELECT ID, NAME, AMOUNT FROM T ORDER BY ID")
	if err != nil {
		t.Fatal(err)
	}
	want := "ID\tNAME\tAMOUNT|1\tada\t1.50|2\tgrace, hopper\tNULL|3\tNULL\t3.00|10\tpq\t9.99"
	if strings.Join(rows, "|") != want {
		t.Errorf("loaded rows:\n%s\nwant\n%s", strings.Join(rows, "|"), want)
	}
	hist, _ := render(ctx, db, "SELECT TABLE_NAME, FILE_NAME, STATUS, ROW_COUNT FROM INFORMATION_SCHEMA.LOAD_HISTORY ORDER BY FILE_NAME")
	if len(hist) != 3 {
		t.Errorf("load history:\n%s", strings.Join(hist, "\n"))
	}
	// FORCE reloads; a file whose columns do not match fails the whole COPY.
	exec("COPY INTO T FROM @%T FILE_FORMAT = (TYPE = CSV SKIP_HEADER = 1 FIELD_OPTIONALLY_ENCLOSED_BY = '\"') FORCE = TRUE")
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("1,too,many,columns\n"), 0o644)
	exec("PUT file://" + bad + " @~/bad")
	_, err = db.ExecContext(ctx, "COPY INTO T FROM @~/bad")
	if se := snowflakeErr(t, err); se.Number != 100080 {
		t.Errorf("column count mismatch: %d %s", se.Number, se.Message)
	}
	var n int
	db.QueryRow("SELECT COUNT(*) FROM T").Scan(&n)
	if n != 7 {
		t.Errorf("rows after FORCE and a failed COPY = %d, want 7", n)
	}
}

// TestLoadHistory: load history names a file by its path in the stage, so
// one name in two folders loads twice; a table dropped or replaced forgets
// its history and loads the file again; PURGE removes loaded files.
func TestLoadHistory(t *testing.T) {
	s := Start(t, Options{})
	seed(t, s, `CREATE DATABASE D; CREATE TABLE D.PUBLIC.T (ID NUMBER(38,0))`)
	dir := t.TempDir()
	f := filepath.Join(dir, "rows.csv")
	os.WriteFile(f, []byte("1\n2\n"), 0o644)
	cfg := s.Config("sluice", "sluice")
	cfg.Database = "D"
	db := Open(cfg)
	defer db.Close()
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	exec := func(q string) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	count := func() (n int) {
		t.Helper()
		db.QueryRow("SELECT COUNT(*) FROM T").Scan(&n)
		return n
	}
	exec("PUT file://" + f + " @~/a AUTO_COMPRESS=FALSE")
	exec("PUT file://" + f + " @~/b AUTO_COMPRESS=FALSE")
	exec("COPY INTO T FROM @~/a/")
	exec("COPY INTO T FROM @~/b/")
	if n := count(); n != 4 {
		t.Errorf("one file name in two folders: %d rows, want 4", n)
	}
	exec("COPY INTO T FROM @~/a/") // loaded before: skipped
	exec("CREATE OR REPLACE TABLE T (ID NUMBER(38,0))")
	exec("COPY INTO T FROM @~/a/ PURGE = TRUE")
	if n := count(); n != 2 {
		t.Errorf("after the table was replaced: %d rows, want 2", n)
	}
	root, _ := s.stageDir(&session{user: &User{Name: "SLUICE"}}, "@~")
	if _, err := os.Stat(filepath.Join(root, "a", "rows.csv")); !os.IsNotExist(err) {
		t.Errorf("PURGE left the loaded file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "b", "rows.csv")); err != nil {
		t.Errorf("a file not loaded by the purging COPY is gone: %v", err)
	}
}

// COPY INTO a TIMESTAMP_TZ column keeps the offsets written in a CSV file
// and reads Parquet's UTC instants at offset zero.
func TestCopyIntoTimestampTZ(t *testing.T) {
	s := Start(t, Options{})
	seed(t, s, `CREATE DATABASE D; CREATE TABLE D.PUBLIC.T (ID NUMBER(38,0), AT TIMESTAMP_TZ)`)
	dir := t.TempDir()
	csv := filepath.Join(dir, "at.csv")
	os.WriteFile(csv, []byte("1,2024-03-01 23:30:00 +05:00\n2,2024-03-01T20:00:00.5-03:30\n3,\n"), 0o644)
	parquet := filepath.Join(dir, "at.parquet")
	if _, err := s.db.Exec("COPY (SELECT 4 AS ID, TIMESTAMPTZ '2024-03-02 01:02:03+00' AS AT) TO '" + parquet + "' (FORMAT PARQUET)"); err != nil {
		t.Fatal(err)
	}
	cfg := s.Config("sluice", "sluice")
	cfg.Database = "D"
	db := Open(cfg)
	defer db.Close()
	ctx := context.Background()
	for _, q := range []string{
		"PUT file://" + csv + " @%T",
		"PUT file://" + parquet + " @~/pq AUTO_COMPRESS=FALSE",
		"COPY INTO T FROM @%T FILE_FORMAT = (TYPE = CSV NULL_IF = (''))",
		"COPY INTO T FROM @~/pq FILE_FORMAT = (TYPE = PARQUET) MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE",
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	rows, err := render(ctx, db, "SELECT ID, TO_VARCHAR(AT) AS AT FROM T ORDER BY ID")
	if err != nil {
		t.Fatal(err)
	}
	want := "ID\tAT|1\t2024-03-01 23:30:00.000 +0500|2\t2024-03-01 20:00:00.500 -0330|3\tNULL|4\t2024-03-02 01:02:03.000 +0000"
	if strings.Join(rows, "|") != want {
		t.Errorf("loaded rows:\n%s\nwant\n%s", strings.Join(rows, "|"), want)
	}
}
