//go:build duckdb_arrow

package snowflake

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/hockeystack/sluice/engine"
	"github.com/hockeystack/sluice/engine/config"
	"github.com/hockeystack/sluice/engine/snowflake/snowflaketest"
)

// TestSourceCanonicalTypes reads every Snowflake type of the mapping
// through the source, in both the small inline result and chunked results,
// and checks the canonical Arrow types and values. The zoned timestamps
// carry offsets of their own, which must read as the same UTC instant.
// Semi-structured text arrives compact, whatever layout Snowflake's result
// gave it (it indents by two spaces).
func TestSourceCanonicalTypes(t *testing.T) {
	for _, chunkRows := range []int{100_000, 3} {
		t.Run(fmt.Sprintf("chunks of %d", chunkRows), func(t *testing.T) {
			s := snowflaketest.Start(t, snowflaketest.Options{ChunkRows: chunkRows, FirstChunkRows: 2})
			err := s.Exec(context.Background(), `CREATE DATABASE ACME; CREATE SCHEMA ACME.CRM;
				CREATE TABLE ACME.CRM.ALLTYPES (ID NUMBER(18,0), BIG NUMBER(38,0), AMOUNT NUMBER(12,2), RATIO FLOAT,
					NAME VARCHAR, OK BOOLEAN, DAY DATE, NTZ TIMESTAMP_NTZ, TZ TIMESTAMP_TZ, LTZ TIMESTAMP_LTZ,
					DOC VARIANT, BIN BINARY);
				INSERT INTO ACME.CRM.ALLTYPES VALUES
					(1, 123456789012345678901234567890, 1234567890.12, 0.5, 'ünïcode', TRUE, '1969-07-20',
					 '2024-02-29 12:34:56.789012', '2024-01-01 05:30:00 +05:30', '2023-12-31 16:00:00-08:00', PARSE_JSON('{"a": [1, {"b": "x  y"}]}'), TO_BINARY('00FF', 'HEX')),
					(2, -5, -0.01, -1e300, '', FALSE, '2262-04-11', '1900-01-01 00:00:00', NULL, NULL, PARSE_JSON('[]'), NULL),
					(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
					(4, 9223372036854775807, 0, 0, 'x', TRUE, '2024-01-01', '2024-01-01', NULL, NULL, NULL, NULL)`)
			if err != nil {
				t.Fatal(err)
			}
			db, err := Open(context.Background(), connection(s, "sluice", config.Auth{Method: "password", Password: &config.Secret{Env: "PW"}}),
				func(string) string { return "sluice" })
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			src := NewSource(db, mem)
			rr, err := src.Read(context.Background(), engine.Read{
				SQL:    "SELECT * FROM ALLTYPES WHERE DAY IS NULL OR DAY < :window_end ORDER BY ID",
				Params: map[string]any{"window_end": time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)},
				Tag:    `{"stream":"alltypes"}`,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer rr.Release()
			var types []string
			for _, f := range rr.Schema().Fields() {
				types = append(types, f.Name+" "+f.Type.String())
			}
			wantTypes := "ID int64, BIG decimal(38, 0), AMOUNT decimal(12, 2), RATIO float64, NAME utf8, OK bool, DAY date32, " +
				"NTZ timestamp[ns], TZ timestamp[ns, tz=UTC], LTZ timestamp[ns, tz=UTC], DOC utf8, BIN binary"
			if strings.Join(types, ", ") != wantTypes {
				t.Errorf("schema:\n got %s\nwant %s", strings.Join(types, ", "), wantTypes)
			}
			var rows []string
			for rr.Next() {
				rec := rr.RecordBatch()
				for i := 0; i < int(rec.NumRows()); i++ {
					var cells []string
					for c := 0; c < int(rec.NumCols()); c++ {
						cells = append(cells, rec.Column(c).ValueStr(i))
					}
					rows = append(rows, strings.Join(cells, "|"))
				}
			}
			if err := rr.Err(); err != nil {
				t.Fatal(err)
			}
			want := []string{
				"1|123456789012345678901234567890|1234567890.12|0.5|ünïcode|true|1969-07-20|2024-02-29T12:34:56.789012|2024-01-01T00:00:00Z|2024-01-01T00:00:00Z|{\"a\":[1,{\"b\":\"x  y\"}]}|AP8=",
				"2|-5|-0.01|-1e+300||false|2262-04-11|1900-01-01T00:00:00|(null)|(null)|[]|(null)",
				"3|(null)|(null)|(null)|(null)|(null)|(null)|(null)|(null)|(null)|(null)|(null)",
				"4|9223372036854775807|0|0|x|true|2024-01-01|2024-01-01T00:00:00|(null)|(null)|(null)|(null)",
			}
			if strings.Join(rows, "\n") != strings.Join(want, "\n") {
				t.Errorf("rows:\n%s\nwant\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
			}
			if h := s.QueryHistory(); h[len(h)-1].QueryTag != `{"stream":"alltypes"}` {
				t.Errorf("query tag %q", h[len(h)-1].QueryTag)
			}
		})
	}
}

// TestSourceLogsInAgain: when a session can no longer be renewed (its
// master token expired, as after hours of backfill), the next read logs in
// again with a new key-pair token.
func TestSourceLogsInAgain(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s := snowflaketest.Start(t, snowflaketest.Options{Users: []snowflaketest.User{{Name: "SVC", PublicKey: &key.PublicKey}}})
	if err := s.Exec(context.Background(), "CREATE DATABASE ACME; CREATE SCHEMA ACME.CRM; CREATE TABLE ACME.CRM.T AS SELECT 1 AS A"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	keyFile := filepath.Join(dir, "key.p8")
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	db, err := Open(context.Background(), connection(s, "svc", config.Auth{Method: "key_pair", PrivateKey: &config.Secret{File: keyFile}}), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	src := NewSource(db, nil)
	read := func() {
		t.Helper()
		rr, err := src.Read(context.Background(), engine.Read{SQL: "SELECT A FROM T"})
		if err != nil {
			t.Fatal(err)
		}
		defer rr.Release()
		n := 0
		for rr.Next() {
			n += int(rr.RecordBatch().NumRows())
		}
		if n != 1 || rr.Err() != nil {
			t.Fatalf("read %d rows, %v", n, rr.Err())
		}
	}
	read()
	s.ExpireLogins()
	read()
}

// TestSourceReleasesOnErrorAndCancel reads a result of many chunks
// through the driver, with every Arrow allocation (the driver's and the
// conversion's) from a checked allocator, and ends the read each way a
// read ends early: the context cancelled mid-read, a chunk download
// that fails mid-stream, the reader released after its first batch. The
// read fails (a cut-short result is never its end) and nothing stays
// allocated once the reader is released.
func TestSourceReleasesOnErrorAndCancel(t *testing.T) {
	s := snowflaketest.Start(t, snowflaketest.Options{ChunkRows: 10, FirstChunkRows: 10})
	var values []string
	for i := range 300 {
		values = append(values, fmt.Sprintf("(%d, %d, 'row %d', '2024-01-01 00:00:%02d.123456')", i, i*1000, i, i%60))
	}
	err := s.Exec(context.Background(), `CREATE DATABASE ACME; CREATE SCHEMA ACME.CRM;
		CREATE TABLE ACME.CRM.T (ID NUMBER(18,0), BIG NUMBER(38,0), NAME VARCHAR, AT TIMESTAMP_NTZ);
		INSERT INTO ACME.CRM.T VALUES `+strings.Join(values, ", "))
	if err != nil {
		t.Fatal(err)
	}
	db, err := Open(context.Background(), connection(s, "sluice", config.Auth{Method: "password", Password: &config.Secret{Env: "PW"}}),
		func(string) string { return "sluice" })
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	read := func(t *testing.T, ctx context.Context, mem memory.Allocator, after func(batches int) bool) (rows int, err error) {
		t.Helper()
		src := NewSource(db, mem)
		rr, err := src.Read(ctx, engine.Read{SQL: "SELECT ID, BIG, NAME, AT FROM T ORDER BY ID"})
		if err != nil {
			t.Fatal(err)
		}
		defer rr.Release()
		for batches := 1; rr.Next(); batches++ {
			rows += int(rr.RecordBatch().NumRows())
			if !after(batches) {
				return rows, nil
			}
		}
		return rows, rr.Err()
	}
	t.Run("read to the end", func(t *testing.T) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		held := 0
		rows, err := read(t, context.Background(), mem, func(int) bool {
			held = max(held, mem.CurrentAlloc())
			return true
		})
		if held == 0 {
			t.Error("the batches are not from the allocator given")
		}
		if rows != 300 || err != nil {
			t.Fatalf("%d rows, %v", rows, err)
		}
	})
	t.Run("cancelled mid-read", func(t *testing.T) {
		s.SlowChunks(20 * time.Millisecond)
		defer s.ClearFaults()
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		rows, err := read(t, ctx, mem, func(batches int) bool {
			if batches == 2 {
				cancel()
			}
			return true
		})
		if !errors.Is(err, context.Canceled) || rows >= 300 {
			t.Fatalf("cancelled after two batches: %d rows, error %v; want context.Canceled", rows, err)
		}
	})
	t.Run("a chunk fails mid-stream", func(t *testing.T) {
		s.FailRequests("/chunks/", 3, 1000, 400)
		defer s.ClearFaults()
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		rows, err := read(t, context.Background(), mem, func(int) bool { return true })
		if err == nil || rows >= 300 {
			t.Fatalf("%d rows, error %v; want the chunk's error", rows, err)
		}
	})
	t.Run("released after the first batch", func(t *testing.T) {
		s.SlowChunks(5 * time.Millisecond)
		defer s.ClearFaults()
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		rows, err := read(t, context.Background(), mem, func(int) bool { return false })
		if rows != 10 || err != nil {
			t.Fatalf("%d rows, %v", rows, err)
		}
	})
}

// TestSourcePinsUTC: an account whose default zone is not UTC (Snowflake's
// is America/Los_Angeles) reads the same as a UTC one, because every
// session Sluice opens sets TIMEZONE = 'UTC': window bounds bound as
// instants select NTZ rows by their UTC wall clock, and NTZ converted to
// LTZ is read as UTC (without the pin: 11:00Z for 03:00).
func TestSourcePinsUTC(t *testing.T) {
	s := snowflaketest.Start(t, snowflaketest.Options{TimeZone: "America/Los_Angeles"})
	err := s.Exec(context.Background(), `CREATE DATABASE ACME; CREATE SCHEMA ACME.CRM;
		CREATE TABLE ACME.CRM.EVENTS (ID NUMBER(18,0), AT TIMESTAMP_NTZ);
		INSERT INTO ACME.CRM.EVENTS VALUES (1, '2024-01-01 23:30:00'), (2, '2024-01-02 03:00:00'), (3, '2024-01-03 00:00:00')`)
	if err != nil {
		t.Fatal(err)
	}
	db, err := Open(context.Background(), connection(s, "sluice", config.Auth{Method: "password", Password: &config.Secret{Env: "PW"}}),
		func(string) string { return "sluice" })
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rr, err := NewSource(db, mem).Read(context.Background(), engine.Read{
		SQL: `SELECT ID, AT::TIMESTAMP_LTZ AS LTZ FROM EVENTS WHERE AT >= :window_start AND AT < :window_end ORDER BY ID`,
		Params: map[string]any{
			"window_start": time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC),
			"window_end":   time.Date(2024, 1, 3, 0, 0, 0, 0, time.UTC),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Release()
	var rows []string
	for rr.Next() {
		rec := rr.RecordBatch()
		for i := 0; i < int(rec.NumRows()); i++ {
			rows = append(rows, rec.Column(0).ValueStr(i)+"|"+rec.Column(1).ValueStr(i))
		}
	}
	if err := rr.Err(); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(rows, "\n"), "2|2024-01-02T03:00:00Z"; got != want {
		t.Errorf("the window [2024-01-02, 2024-01-03) UTC read\n%s\nwant\n%s", got, want)
	}
}
