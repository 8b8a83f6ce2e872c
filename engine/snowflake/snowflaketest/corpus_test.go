//go:build duckdb_arrow

package snowflaketest

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	sf "github.com/snowflakedb/gosnowflake/v2"
)

var update = flag.Bool("update", false, "rewrite the expected results in testdata/sql")

// block is one step of a corpus file, in the spirit of sqllogictest:
//
//	statement ok | statement error CODE
//	<SQL>
//
//	query
//	<SQL>
//	----
//	<header, then rows; tab-separated; NULL for null>
type block struct {
	kind    string // "statement" or "query"
	errCode string // for statement error
	sql     string
	want    []string
	line    int
}

func parseCorpus(t *testing.T, path string) []block {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []block
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimRight(lines[i], "\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		b := block{line: i + 1}
		f := strings.Fields(line)
		switch {
		case f[0] == "statement" && len(f) >= 2 && f[1] == "ok":
			b.kind = "statement"
		case f[0] == "statement" && len(f) >= 3 && f[1] == "error":
			b.kind, b.errCode = "statement", f[2]
		case f[0] == "query":
			b.kind = "query"
		default:
			t.Fatalf("%s:%d: expected statement or query, got %q", path, i+1, line)
		}
		var sqlLines []string
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "" && lines[i] != "----"; i++ {
			sqlLines = append(sqlLines, lines[i])
		}
		b.sql = strings.Join(sqlLines, "\n")
		if i < len(lines) && lines[i] == "----" {
			for i++; i < len(lines) && lines[i] != ""; i++ {
				b.want = append(b.want, lines[i])
			}
		}
		blocks = append(blocks, b)
	}
	return blocks
}

// render runs a query and renders header and rows as tab-separated text.
func render(ctx context.Context, db *sql.DB, q string) ([]string, error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	types, _ := rows.ColumnTypes()
	out := []string{strings.Join(cols, "\t")}
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		cells := make([]string, len(cols))
		for i, v := range vals {
			cells[i] = "NULL"
			if !v.Valid {
				continue
			}
			cells[i] = strings.NewReplacer("\t", `\t`, "\n", `\n`).Replace(v.String)
			switch types[i].DatabaseTypeName() {
			case "BOOLEAN":
				// JSON rowsets carry booleans as 1 and 0, as Snowflake's do;
				// Arrow as booleans.
				cells[i] = map[string]string{"1": "true", "0": "false"}[v.String] + map[string]string{"true": "true", "false": "false"}[v.String]
			case "BINARY":
				cells[i] = fmt.Sprintf("%X", v.String)
			}
		}
		out = append(out, strings.Join(cells, "\t"))
	}
	return out, rows.Err()
}

func errorCode(err error) string {
	var se *sf.SnowflakeError
	if errors.As(err, &se) {
		return fmt.Sprintf("%06d", se.Number)
	}
	return "not-a-snowflake-error: " + err.Error()
}

// TestCorpus runs the Snowflake SQL corpus in testdata/sql through the real
// driver, once with JSON results and once with Arrow results; both must
// give the recorded output.
func TestCorpus(t *testing.T) {
	files, _ := filepath.Glob("testdata/sql/*.slt")
	if len(files) == 0 {
		t.Fatal("no corpus files")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			blocks := parseCorpus(t, file)
			got := make([][]string, len(blocks))
			for _, format := range []string{"json", "arrow"} {
				s := Start(t, Options{ResultFormat: format})
				if err := s.Exec(context.Background(), "CREATE DATABASE TEST"); err != nil {
					t.Fatal(err)
				}
				cfg := s.Config("sluice", "sluice")
				cfg.Database, cfg.Schema = "TEST", "PUBLIC"
				db := Open(cfg)
				db.SetMaxOpenConns(1)
				ctx := context.Background()
				for i, b := range blocks {
					where := fmt.Sprintf("%s:%d (%s)", file, b.line, format)
					switch b.kind {
					case "statement":
						_, err := db.ExecContext(ctx, b.sql)
						switch {
						case b.errCode == "" && err != nil:
							t.Errorf("%s: %v\n%s", where, err, b.sql)
						case b.errCode != "" && err == nil:
							t.Errorf("%s: succeeded, want error %s\n%s", where, b.errCode, b.sql)
						case b.errCode != "" && errorCode(err) != b.errCode:
							t.Errorf("%s: error %s (%v), want %s", where, errorCode(err), err, b.errCode)
						}
					case "query":
						out, err := render(ctx, db, b.sql)
						if err != nil {
							t.Errorf("%s: %v\n%s", where, err, b.sql)
							continue
						}
						if got[i] != nil {
							if diff := cmp.Diff(got[i], out); diff != "" {
								t.Errorf("%s: JSON and Arrow results differ (-json +arrow):\n%s", where, diff)
							}
							continue
						}
						got[i] = out
						if !*update {
							if diff := cmp.Diff(b.want, out); diff != "" {
								t.Errorf("%s: (-want +got); go test -tags duckdb_arrow -update rewrites:\n%s\n%s", where, b.sql, diff)
							}
						}
					}
				}
				db.Close()
			}
			if *update {
				writeCorpus(t, file, blocks, got)
			}
		})
	}
}

func writeCorpus(t *testing.T, path string, blocks []block, got [][]string) {
	data, _ := os.ReadFile(path)
	lines := strings.Split(string(data), "\n")
	var out []string
	next := 0
	for i, b := range blocks {
		start := b.line - 1
		out = append(out, lines[next:start]...)
		end := start + 1 + len(strings.Split(b.sql, "\n"))
		out = append(out, lines[start:end]...)
		next = end
		if b.kind == "query" {
			if next < len(lines) && lines[next] == "----" {
				next++
				for next < len(lines) && lines[next] != "" {
					next++
				}
			}
			out = append(out, "----")
			out = append(out, got[i]...)
		}
	}
	out = append(out, lines[next:]...)
	if err := os.WriteFile(path, []byte(strings.Join(out, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
}
