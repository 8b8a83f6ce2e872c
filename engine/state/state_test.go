package state

import (
	"context"
	"errors"
	"path/filepath"
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
	run, err := s.StartRun(ctx, "acme")
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
	must(s.Begin(ctx, "acme", "contacts", d(8), d(15), true, run))
	must(s.Begin(ctx, "acme", "contacts", d(1), d(8), true, run))
	must(s.Commit(ctx, "acme", "contacts", d(1), 10))
	must(s.Fail(ctx, "acme", "contacts", d(8), errors.New("boom")))
	must(s.Begin(ctx, "acme", "contacts", d(8), d(15), true, run)) // a retry
	must(s.FinishRun(ctx, run, 2, 10, nil))
	must(s.Close())

	s, err = Open(path) // what was written survives a reopen
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ws, err := s.Windows(ctx, "acme", "contacts")
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 2 || !ws[0].Start.Equal(d(1)) || ws[0].State != Committed || ws[0].Rows != 10 ||
		ws[1].State != Loading || ws[1].Attempts != 2 || ws[1].Error != "" {
		t.Errorf("windows: %+v", ws)
	}
	runs, err := s.Runs(ctx, "acme", 5)
	if err != nil || len(runs) != 1 || runs[0].Status != "succeeded" || runs[0].Rows != 10 {
		t.Errorf("runs: %+v %v", runs, err)
	}
	if n, err := s.Reset(ctx, "acme", "contacts", d(5)); err != nil || n != 1 {
		t.Errorf("reset: %d %v", n, err)
	}
	if err := s.Commit(ctx, "acme", "contacts", d(8), 1); err == nil {
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
	run, err := st.StartRun(ctx, "p")
	if err != nil || run != 1 {
		t.Fatalf("run %d, %v", run, err)
	}
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := st.Begin(ctx, "p", "s", start, start.Add(24*time.Hour), true, run); err != nil {
		t.Fatal(err)
	}
	if err := st.Begin(ctx, "p", "s", start, start.Add(24*time.Hour), true, run); err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(ctx, "p", "s", start, 42); err != nil {
		t.Fatal(err)
	}
	ws, err := st.Windows(ctx, "p", "s")
	if err != nil || len(ws) != 1 || ws[0].State != Committed || ws[0].Rows != 42 || ws[0].Attempts != 2 || !ws[0].Complete || !ws[0].End.Equal(start.Add(24*time.Hour)) {
		t.Fatalf("windows %+v, %v", ws, err)
	}
	if err := st.FinishRun(ctx, run, 1, 42, nil); err != nil {
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
