package serve

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/hockeystack/sluice/engine/state"
	"github.com/hockeystack/sluice/internal/testfs"
)

// BenchmarkStatusPage500 times what a request to the status page costs
// serve with 500 pipelines, each with a stream of 120 committed daily
// windows in the ledger (SQLite): the first page of 50 with its strips,
// rendered as HTML, and the whole fleet as /api/status computes it
// (without strips, as the alert check does).
func BenchmarkStatusPage500(b *testing.B) {
	const pipelines, windows = 500, 120
	dir := b.TempDir()
	files := map[string]string{"connections.yaml": `version: 1
connections:
  sf: {kind: snowflake, access: read_only, account: A, host: 127.0.0.1, port: 1, protocol: http, user: U, database: D, schema: S, auth: {method: password, password: {env: PW}}}
  ch: {kind: clickhouse, access: read_write, host: "127.0.0.1:1", auth: {method: none}}
`}
	for i := range pipelines {
		files[fmt.Sprintf("p%03d/pipeline.yaml", i)] = fmt.Sprintf(`version: 1
name: p%03d
streams:
  events:
    source: {connection: sf, query: q.sql, incremental: {cursor: AT, start: 2026-01-01, window: 1d}}
    columns:
      id: {type: Int64}
      at: {type: "DateTime('UTC')"}
    destination: {connection: ch, table: db.events_%03d, mode: append, create: true}
`, i, i)
		files[fmt.Sprintf("p%03d/q.sql", i)] = `SELECT ID, "AT" FROM EVENTS WHERE "AT" >= :window_start AND "AT" < :window_end`
	}
	testfs.Write(b, dir, files)
	st, err := state.Open(filepath.Join(dir, "state.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := New(Config{ConnectionsFile: filepath.Join(dir, "connections.yaml"), State: st})
	defer s.Close()
	for i := range pipelines {
		f, err := s.loadFolder(filepath.Join(dir, fmt.Sprintf("p%03d", i)))
		if err != nil {
			b.Fatal(err)
		}
		s.folders[f.l.Pipeline.Name] = f
		name := f.l.Pipeline.Name
		run, err := st.StartRun(ctx, name, start.AddDate(0, 0, windows))
		if err != nil {
			b.Fatal(err)
		}
		for w := range windows {
			ws := start.AddDate(0, 0, w)
			if _, err := st.Begin(ctx, name, state.Entry{Stream: "events", Start: ws, End: ws.AddDate(0, 0, 1), Complete: true}, run); err != nil {
				b.Fatal(err)
			}
			if err := st.Commit(ctx, name, "events", ws, 100, ""); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("page", func(b *testing.B) {
		for b.Loop() {
			st, err := s.status(ctx, "", 1, 50, true)
			if err != nil {
				b.Fatal(err)
			}
			if err := st.WriteHTML(io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fleet", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.status(ctx, "", 1, 1<<30, false); err != nil {
				b.Fatal(err)
			}
		}
	})
}
