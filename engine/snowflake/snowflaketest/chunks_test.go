//go:build duckdb_arrow

package snowflaketest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestStreamedChunksMatchJSON: a result cut into chunks while it streams
// (records sliced where a chunk fills up, NULLs in every type, integers
// narrowed per chunk, timestamps as structs) reads through the driver's
// Arrow path as the same values as through its JSON rows, which are
// rendered from the records by a path of their own; and evicting the
// result removes its chunk files.
func TestStreamedChunksMatchJSON(t *testing.T) {
	s := Start(t, Options{FirstChunkRows: 10, ChunkRows: 777})
	seed(t, s, `CREATE DATABASE D; CREATE TABLE D.PUBLIC.T (ID NUMBER(38,0), SMALL NUMBER(38,0), BIG NUMBER(38,0), AMOUNT NUMBER(12,2),
		F FLOAT, NAME VARCHAR, B BOOLEAN, DAY DATE, N9 TIMESTAMP_NTZ(9), N3 TIMESTAMP_NTZ(3), L6 TIMESTAMP_LTZ(6), Z TIMESTAMP_TZ);
		INSERT INTO D.PUBLIC.T SELECT SEQ4(), IFF(SEQ4() % 7 = 3, NULL, SEQ4() % 100 - 50),
		IFF(SEQ4() % 11 = 5, NULL, SEQ4() * 1000000007 - 1234567890123), IFF(SEQ4() % 5 = 1, NULL, (SEQ4() % 100000) / 100 - 300),
		IFF(SEQ4() % 9 = 2, NULL, SEQ4() * 0.25), IFF(SEQ4() % 6 = 4, NULL, 'n' || SEQ4()), IFF(SEQ4() % 4 = 0, NULL, SEQ4() % 3 = 0),
		IFF(SEQ4() % 8 = 7, NULL, DATEADD(day, SEQ4() - 1000, '1970-01-01'::DATE)),
		IFF(SEQ4() % 10 = 9, NULL, DATEADD(microsecond, SEQ4() * 123457, '1969-12-31 23:00:00.123456789'::TIMESTAMP_NTZ(9))),
		IFF(SEQ4() % 12 = 1, NULL, DATEADD(millisecond, SEQ4() * 1001, '2024-02-29'::TIMESTAMP_NTZ(3))),
		IFF(SEQ4() % 13 = 2, NULL, DATEADD(microsecond, SEQ4() * 999999, '2024-01-01'::TIMESTAMP_LTZ(6))),
		IFF(SEQ4() % 14 = 3, NULL, DATEADD(second, SEQ4(), '2024-01-01 10:00:00 +02:00'::TIMESTAMP_TZ))
		FROM TABLE(GENERATOR(ROWCOUNT => 2500))`)
	read := func(format string) []string {
		cfg := s.Config("sluice", "sluice")
		cfg.Database = "D"
		cfg.Params = map[string]*string{"GO_QUERY_RESULT_FORMAT": ptr(format)}
		db := Open(cfg)
		defer db.Close()
		rows, err := db.QueryContext(context.Background(), "SELECT * FROM T ORDER BY ID")
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		var out []string
		for rows.Next() {
			vals := make([]any, len(cols))
			dest := make([]any, len(cols))
			for i := range vals {
				dest[i] = &vals[i]
			}
			if err := rows.Scan(dest...); err != nil {
				t.Fatalf("%s: %v", format, err)
			}
			var b strings.Builder
			for _, v := range vals {
				switch x := v.(type) {
				case bool: // JSON rows carry booleans as 0 and 1
					v = map[bool]string{false: "0", true: "1"}[x]
				case []byte:
					v = string(x)
				}
				fmt.Fprintf(&b, "%v|", v)
			}
			out = append(out, b.String())
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		return out
	}
	arrowRows, jsonRows := read("arrow"), read("json")
	if len(arrowRows) != 2500 || len(jsonRows) != 2500 {
		t.Fatalf("%d Arrow rows, %d JSON rows, want 2500", len(arrowRows), len(jsonRows))
	}
	for i := range arrowRows {
		if arrowRows[i] != jsonRows[i] {
			t.Errorf("row %d:\n arrow %s\n json  %s", i, arrowRows[i], jsonRows[i])
		}
	}
	if s.spillPath == "" {
		t.Fatal("no chunk was kept in a file")
	}
	files, _ := os.ReadDir(s.spillPath)
	if len(files) == 0 {
		t.Fatal("no chunk files")
	}
	// Evicting every result removes their files.
	s.mu.Lock()
	for id, r := range s.results {
		for _, c := range append(r.chunks, r.inline) {
			if c != nil {
				c.release()
			}
		}
		delete(s.results, id)
	}
	s.mu.Unlock()
	if files, _ := os.ReadDir(s.spillPath); len(files) != 0 {
		t.Errorf("%d chunk files left after eviction", len(files))
	}
}
