package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hockeystack/sluice/engine/state/pgtest"
)

func TestLedger(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state", "sluice.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	cut := time.Date(2024, 1, 20, 3, 0, 0, 0, time.UTC)
	run, err := s.StartRun(ctx, "acme", cut)
	if err != nil {
		t.Fatal(err)
	}
	d := func(day int) time.Time { return time.Date(2024, 1, day, 0, 0, 0, 0, time.UTC) }
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	begin := func(from, to int, cut time.Time, wantRepeat bool) {
		t.Helper()
		repeat, err := s.Begin(ctx, "acme", Entry{Stream: "contacts", Start: d(from), End: d(to), Complete: true, Cut: cut}, run)
		must(err)
		if repeat != wantRepeat {
			t.Errorf("window %d..%d in cut %v: repeat %v, want %v", from, to, cut, repeat, wantRepeat)
		}
	}
	begin(8, 15, cut, false)
	begin(1, 8, cut, false)
	must(s.Commit(ctx, "acme", "contacts", d(1), 10, ""))
	must(s.Fail(ctx, "acme", "contacts", d(8), errors.New("boom")))
	begin(8, 15, cut, false) // a retry
	// Committed in this cut: running it again in the same cut is a
	// repeat; in the next cut it is not.
	begin(1, 8, cut, true)
	must(s.Commit(ctx, "acme", "contacts", d(1), 10, ""))
	begin(1, 8, cut.Add(time.Minute), false)
	must(s.Commit(ctx, "acme", "contacts", d(1), 10, ""))
	must(s.FinishRun(ctx, run, RunStats{Windows: 2, Rows: 10, Reads: 4, Repeats: 1}, nil))
	must(s.Close())
	// Only its owner reads the state, and its folder.
	for _, p := range []string{path, filepath.Dir(path)} {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s: mode %v, %v; want no access for group and others", p, fi.Mode(), err)
		}
	}
	if known, err := reopenKnown(path, "acme"); !known || err != nil {
		t.Errorf("acme is not known to the state: %v", err)
	}
	if known, _ := reopenKnown(path, "nobody"); known {
		t.Error("a pipeline never run is known")
	}

	s, err = Open(path) // what was written survives a reopen
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ws, err := s.Windows(ctx, "acme", "contacts")
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 2 || !ws[0].Start.Equal(d(1)) || ws[0].State != Committed || ws[0].Rows != 10 || !ws[0].Cut.Equal(cut.Add(time.Minute)) ||
		ws[1].State != Loading || ws[1].Attempts != 2 || ws[1].Error != "" || !ws[1].Cut.Equal(cut) {
		t.Errorf("windows: %+v", ws)
	}
	runs, err := s.Runs(ctx, "acme", 5)
	if err != nil || len(runs) != 1 || runs[0].Status != "succeeded" || runs[0].Rows != 10 || runs[0].Reads != 4 || runs[0].Repeats != 1 || !runs[0].Cut.Equal(cut) {
		t.Errorf("runs: %+v %v", runs, err)
	}
	if n, err := s.Reset(ctx, "acme", "contacts", d(5)); err != nil || n != 1 {
		t.Errorf("reset: %d %v", n, err)
	}
	if err := s.Commit(ctx, "acme", "contacts", d(8), 1, ""); err == nil {
		t.Error("committing a window not in the ledger succeeded")
	}
}

func TestScheduleAndPauses(t *testing.T) {
	st, err := Open(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	if last, err := st.LastStarted(ctx, "p", "s"); err != nil || !last.IsZero() {
		t.Fatalf("never started: %v %v", last, err)
	}
	at := time.Date(2024, 5, 1, 3, 0, 0, 0, time.UTC)
	st.Started(ctx, "p", "s", at)
	st.Started(ctx, "p", "s", at.Add(time.Hour))
	if last, _ := st.LastStarted(ctx, "p", "s"); !last.Equal(at.Add(time.Hour)) {
		t.Errorf("last started %v", last)
	}
	if err := st.Pause(ctx, "p", "credentials rejected", at); err != nil {
		t.Fatal(err)
	}
	if reason, since, paused, err := st.Paused(ctx, "p"); !paused || reason != "credentials rejected" || !since.Equal(at) || err != nil {
		t.Errorf("paused %v %q %v %v", paused, reason, since, err)
	}
	st.Resume(ctx, "p")
	if _, _, paused, _ := st.Paused(ctx, "p"); paused {
		t.Error("still paused")
	}
}

// TestPostgres: the same ledger, runs, schedule and pauses in Postgres.
func TestPostgres(t *testing.T) {
	url := pgtest.Start(t).NewDatabase(t, "state")
	st, err := Open(url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if !st.Postgres() {
		t.Fatal("not Postgres")
	}
	ctx := context.Background()
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	run, err := st.StartRun(ctx, "p", start.Add(48*time.Hour))
	if err != nil || run != 1 {
		t.Fatalf("run %d, %v", run, err)
	}
	w := Entry{Stream: "s", Start: start, End: start.Add(24 * time.Hour), Complete: true, Cut: start.Add(48 * time.Hour)}
	if _, err := st.Begin(ctx, "p", w, run); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Begin(ctx, "p", w, run); err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(ctx, "p", "s", start, 42, ""); err != nil {
		t.Fatal(err)
	}
	ws, err := st.Windows(ctx, "p", "s")
	if err != nil || len(ws) != 1 || ws[0].State != Committed || ws[0].Rows != 42 || ws[0].Attempts != 2 || !ws[0].Complete || !ws[0].End.Equal(start.Add(24*time.Hour)) {
		t.Fatalf("windows %+v, %v", ws, err)
	}
	if repeat, err := st.Begin(ctx, "p", w, run); err != nil || !repeat {
		t.Fatalf("a committed window begun again in its cut: repeat %v, %v", repeat, err)
	}
	st.Commit(ctx, "p", "s", start, 42, "")
	if err := st.FinishRun(ctx, run, RunStats{Windows: 1, Rows: 42}, nil); err != nil {
		t.Fatal(err)
	}
	if runs, err := st.Runs(ctx, "p", 5); err != nil || len(runs) != 1 || runs[0].Status != "succeeded" {
		t.Fatalf("runs %+v, %v", runs, err)
	}
	st.Pause(ctx, "p", "why", start)
	if reason, _, paused, err := st.Paused(ctx, "p"); !paused || reason != "why" || err != nil {
		t.Errorf("paused %v %q %v", paused, reason, err)
	}
	// A second worker opening the same state finds the tables.
	st2, err := Open(url)
	if err != nil {
		t.Fatal(err)
	}
	st2.Close()
	if got := redactURL("postgres://u:secret@h:5432/db"); got != "postgres://u:[redacted]@h:5432/db" {
		t.Errorf("redacted %s", got)
	}
}

// TestSlotsAcrossProcesses: two stores on one Postgres share n slots.
func TestSlotsAcrossProcesses(t *testing.T) {
	url := pgtest.Start(t).NewDatabase(t, "slots")
	a, err := Open(url)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(url)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	r1, ok1, _ := a.Slot(ctx, "conn:x", 2)
	r2, ok2, _ := b.Slot(ctx, "conn:x", 2)
	_, ok3, _ := a.Slot(ctx, "conn:x", 2)
	if !ok1 || !ok2 || ok3 {
		t.Fatalf("slots taken: %v %v %v, want the third refused", ok1, ok2, ok3)
	}
	if _, ok, _ := b.Slot(ctx, "conn:y", 2); !ok {
		t.Error("another key shares the slots")
	}
	r1()
	r4, ok4, _ := b.Slot(ctx, "conn:x", 2)
	if !ok4 {
		t.Error("a released slot is not free")
	}
	r2()
	r4()
}

// TestKeepRuns: finishing a run forgets the pipeline's runs beyond the
// newest KeepRuns, and only that pipeline's.
func TestKeepRuns(t *testing.T) {
	st, err := Open(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	other, _ := st.StartRun(ctx, "other", time.Time{})
	st.FinishRun(ctx, other, RunStats{}, nil)
	for i := 0; i < KeepRuns+7; i++ {
		id, err := st.StartRun(ctx, "p", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.FinishRun(ctx, id, RunStats{Windows: i}, nil); err != nil {
			t.Fatal(err)
		}
	}
	runs, _ := st.Runs(ctx, "p", 2*KeepRuns)
	if len(runs) != KeepRuns || runs[0].Windows != KeepRuns+6 || runs[len(runs)-1].Windows != 7 {
		t.Errorf("%d runs kept, newest %d oldest %d; want %d, the newest", len(runs), runs[0].Windows, runs[len(runs)-1].Windows, KeepRuns)
	}
	if o, _ := st.Runs(ctx, "other", 5); len(o) != 1 {
		t.Errorf("another pipeline's history pruned: %d runs", len(o))
	}
}

// TestMigrate: a state file made before windows and runs had a cut opens,
// keeps its rows and gains the columns.
func TestMigrate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE windows (pipeline TEXT NOT NULL, stream TEXT NOT NULL, start TEXT NOT NULL, "end" TEXT NOT NULL,
		complete BOOLEAN NOT NULL, state TEXT NOT NULL, rows INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,
		error TEXT, run_id INTEGER, updated TEXT NOT NULL, PRIMARY KEY (pipeline, stream, start));
		CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, pipeline TEXT NOT NULL, started TEXT NOT NULL, finished TEXT,
		status TEXT NOT NULL, windows INTEGER NOT NULL DEFAULT 0, rows INTEGER NOT NULL DEFAULT 0, error TEXT);
		INSERT INTO windows VALUES ('p', 's', '2024-01-01T00:00:00.000000000Z', '2024-01-02T00:00:00.000000000Z', 1, 'committed', 5, 1, NULL, 1, '2024-01-02T00:00:00.000000000Z');
		INSERT INTO runs (pipeline, started, status, windows, rows) VALUES ('p', '2024-01-02T00:00:00.000000000Z', 'succeeded', 1, 5)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	st, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	ws, err := st.Windows(ctx, "p", "s")
	if err != nil || len(ws) != 1 || ws[0].Rows != 5 || !ws[0].Cut.IsZero() {
		t.Fatalf("windows after migration: %+v %v", ws, err)
	}
	runs, err := st.Runs(ctx, "p", 5)
	if err != nil || len(runs) != 1 || runs[0].Rows != 5 || runs[0].Reads != 0 {
		t.Fatalf("runs after migration: %+v %v", runs, err)
	}
}

func TestWatermarks(t *testing.T) {
	st, err := Open(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	d := func(day int) time.Time { return time.Date(2024, 1, day, 0, 0, 0, 0, time.UTC) }
	for _, w := range []struct {
		pipeline, stream string
		from, to         int
		commit           bool
	}{{"p", "a", 1, 2, true}, {"p", "a", 2, 3, true}, {"p", "a", 3, 4, false}, {"p", "b", 1, 2, true}, {"q", "a", 5, 6, true}} {
		st.Begin(ctx, w.pipeline, Entry{Stream: w.stream, Start: d(w.from), End: d(w.to), Complete: true}, 0)
		if w.commit {
			st.Commit(ctx, w.pipeline, w.stream, d(w.from), 1, "")
		}
	}
	got, err := st.Watermarks(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, w := range got {
		s = append(s, fmt.Sprintf("%s.%s=%d", w.Pipeline, w.Stream, w.End.Day()))
	}
	if strings.Join(s, " ") != "p.a=3 p.b=2 q.a=6" {
		t.Errorf("watermarks %s", s)
	}
	if one, _ := st.Watermarks(ctx, "q"); len(one) != 1 || one[0].Pipeline != "q" {
		t.Errorf("watermarks of q: %+v", one)
	}
	// The newest window loading again (the next run's longer cut) keeps
	// the watermark where its last commit left it until it commits.
	st.Begin(ctx, "q", Entry{Stream: "a", Start: d(5), End: d(7)}, 0)
	if one, _ := st.Watermarks(ctx, "q"); len(one) != 1 || one[0].End.Day() != 6 {
		t.Errorf("watermark of q while its window loads again: %+v", one)
	}
	st.Fail(ctx, "q", "a", d(5), errors.New("boom"))
	if one, _ := st.Watermarks(ctx, "q"); len(one) != 1 || one[0].End.Day() != 6 {
		t.Errorf("watermark of q after the reload failed: %+v", one)
	}
	st.Begin(ctx, "q", Entry{Stream: "a", Start: d(5), End: d(7)}, 0)
	st.Commit(ctx, "q", "a", d(5), 1, "")
	if one, _ := st.Watermarks(ctx, "q"); len(one) != 1 || one[0].End.Day() != 7 {
		t.Errorf("watermark of q after the reload: %+v", one)
	}
}

func reopenKnown(path, pipeline string) (bool, error) {
	s, err := Open(path)
	if err != nil {
		return false, err
	}
	defer s.Close()
	return s.Known(context.Background(), pipeline)
}
