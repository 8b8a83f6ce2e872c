//go:build duckdb_arrow

package snowflaketest

import (
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// LIST, REMOVE, GET and COPY INTO @stage through the driver: a stage
// path is a prefix of its files' paths, GET downloads (the driver
// decrypts what snowsim serves, as from an internal stage) and an unload
// writes data_0_0_0.csv.gz.
func TestStageCommands(t *testing.T) {
	s := Start(t, Options{})
	seed(t, s, `CREATE DATABASE D; CREATE TABLE D.PUBLIC.T (ID NUMBER(38,0), NAME VARCHAR); INSERT INTO D.PUBLIC.T VALUES (1, 'ada'), (2, 'grace')`)
	dir := t.TempDir()
	for name, body := range map[string]string{"a.csv": "1,x\n", "b.csv": "2,y\n"} {
		os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644)
	}
	cfg := s.Config("sluice", "sluice")
	cfg.Database = "D"
	db := Open(cfg)
	defer db.Close()
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	query := func(q string) []string {
		t.Helper()
		rows, err := render(ctx, db, q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return rows
	}
	query("PUT file://" + filepath.Join(dir, "a.csv") + " @~/dir AUTO_COMPRESS=FALSE")
	query("PUT file://" + filepath.Join(dir, "b.csv") + " '@~/dir with space' AUTO_COMPRESS=FALSE")
	if got := query("LIST @~/dir"); len(got) != 3 || !strings.HasPrefix(got[1], "dir with space/b.csv\t4\t") || !strings.HasPrefix(got[2], "dir/a.csv\t4\t") {
		t.Errorf("LIST @~/dir:\n%s", strings.Join(got, "\n"))
	}
	if got := query("LS '@~/dir with space'"); len(got) != 2 {
		t.Errorf("LS '@~/dir with space':\n%s", strings.Join(got, "\n"))
	}
	out := t.TempDir()
	query("GET @~/dir/a.csv 'file://" + out + "'")
	if b, err := os.ReadFile(filepath.Join(out, "a.csv")); err != nil || string(b) != "1,x\n" {
		t.Errorf("GET a.csv: %q, %v", b, err)
	}
	if got := query("RM @~/dir/"); len(got) != 2 || got[1] != "dir/a.csv\tremoved" {
		t.Errorf("RM @~/dir/:\n%s", strings.Join(got, "\n"))
	}
	if got := query("LIST @~"); len(got) != 2 {
		t.Errorf("LIST @~ after RM:\n%s", strings.Join(got, "\n"))
	}
	if got := query("COPY INTO @%T FROM T"); len(got) != 2 || !strings.HasPrefix(got[1], "2\t") {
		t.Errorf("unload:\n%s", strings.Join(got, "\n"))
	}
	if got := query("LIST @%T"); len(got) != 2 || !strings.HasPrefix(got[1], "data_0_0_0.csv.gz\t") {
		t.Errorf("LIST @%%T after unload:\n%s", strings.Join(got, "\n"))
	}
	query("GET @%T 'file://" + out + "'")
	f, err := os.Open(filepath.Join(out, "data_0_0_0.csv.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(gz); string(b) != "1,ada\n2,grace\n" {
		t.Errorf("unloaded CSV = %q", b)
	}
	// COPY INTO a table with no FROM loads its own stage.
	query("TRUNCATE TABLE T")
	query("COPY INTO T FILE_FORMAT = (TYPE = CSV)")
	if got := query("SELECT COUNT(*) FROM T"); len(got) != 2 || got[1] != "2" {
		t.Errorf("COPY INTO T from @%%T: %v", got)
	}
}
