//go:build duckdb_arrow

package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hockeystack/sluice/engine/config"
	"github.com/hockeystack/sluice/engine/state"
	"github.com/hockeystack/sluice/engine/state/pgtest"
)

// soakEnv reads a soak setting: SLUICE_SOAK_<name>, else def.
func soakEnv(name, def string) string {
	if v := os.Getenv("SLUICE_SOAK_" + name); v != "" {
		return v
	}
	return def
}

// TestServeSoak serves many customers at once on a short schedule, on one
// machine with a SQLite state and on three workers sharing Postgres,
// against one snowsim and one clickhouse-server, and checks tick by tick:
// every pipeline's due windows read and committed once per tick (the rule
// of checkTicks), no window twice in a tick, Snowflake receiving nothing
// but those reads once the streams are planned, every pipeline's
// freshness lag under two schedule intervals, and every table exact at
// the end. It prints serve's CPU and memory, the state's size and the
// reads per tick. `make test` runs 50 pipelines for 3 ticks of 20
// seconds; `make soak` 500 pipelines for 10 ticks of a minute
// (SLUICE_SOAK_PIPELINES, _TICKS, _SCHEDULE, and _MODES: sqlite,postgres).
func TestServeSoak(t *testing.T) {
	n, _ := strconv.Atoi(soakEnv("PIPELINES", "50"))
	ticks, _ := strconv.Atoi(soakEnv("TICKS", "3"))
	schedule := soakEnv("SCHEDULE", "@every 20s")
	sched, err := config.ParseSchedule(schedule, "UTC")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	interval := sched.Next(sched.Next(now)).Sub(sched.Next(now))
	perPlan := 0 // statements planning one stream live costs, from the one-machine run
	for _, mode := range strings.Split(soakEnv("MODES", "sqlite,postgres"), ",") {
		t.Run(mode, func(t *testing.T) {
			var ps []tickPipeline
			for i := range n {
				ps = append(ps, tickPipeline{name: fmt.Sprintf("customer%03d", i), behind: 1, lookback: 10 * time.Minute})
			}
			f := newFleet(t, schedule, ps)
			var ds []*daemon
			var stateLoc string
			var st *state.Store
			if mode == "sqlite" {
				stateLoc = filepath.Join(f.dir, "state.db")
				ds = append(ds, f.serve(t, stateLoc, "--workers", "4", "--per-connection", "2"))
			} else {
				stateLoc = pgtest.Start(t).NewDatabase(t, "sluice")
				for range 3 {
					ds = append(ds, f.serve(t, stateLoc, "--workers", "2", "--per-connection", "2"))
				}
			}
			if st, err = state.Open(stateLoc); err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			s := &sampler{f: f, st: st, stateLoc: stateLoc, ds: ds}
			stop := s.start(time.Second)
			// The first tick backfills; then ticks more.
			f.waitTicks(t, 1, 5*interval+time.Minute, ds...)
			warm := time.Now()
			f.waitTicks(t, 1+ticks, time.Duration(ticks+2)*interval+time.Minute, ds...)
			stop()
			_, otherWarm := s.otherAt(warm)
			// The status page with every pipeline served: its first page
			// (50 pipelines with their ledger strips) and the JSON of all.
			for _, path := range []string{"/", "/api/status?per_page=1000"} {
				start := time.Now()
				resp, err := http.Get("http://" + ds[0].addr + path)
				if err != nil {
					t.Errorf("GET %s: %v", path, err)
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				t.Logf("%s: GET %s: %s, %d KiB in %s", mode, path, resp.Status, len(b)/1024, time.Since(start).Round(time.Millisecond))
			}
			for _, d := range ds {
				d.stop(t)
			}
			reads, other := f.reads(t)
			rep := f.checkTicks(t, reads)
			windows := 0
			for _, p := range ps {
				if rep[p.name].ticks < ticks {
					t.Errorf("%s: %d whole ticks, want %d", p.name, rep[p.name].ticks, ticks)
				}
				windows += rep[p.name].windows
			}
			// One machine plans each stream once: after the first tick,
			// the warehouse sees window reads only. Each of several
			// workers plans a stream the first time it takes one of its
			// jobs: at most workers × streams plans in all.
			if mode == "sqlite" {
				perPlan = otherWarm / n
				if other != otherWarm {
					t.Errorf("after the first tick snowsim received %d statements other than window reads, want none", other-otherWarm)
				}
			} else if perPlan > 0 && other > len(ds)*n*perPlan {
				t.Errorf("snowsim received %d statements other than window reads, want at most %d (%d workers × %d streams × %d a plan)", other, len(ds)*n*perPlan, len(ds), n, perPlan)
			}
			maxLag := s.maxLag(warm)
			if maxLag >= 2*interval {
				t.Errorf("freshness lag reached %s, want under two intervals (%s)", maxLag.Round(time.Second), 2*interval)
			}
			f.checkLanded(t, st)
			t.Logf("%s: %d pipelines, schedule %q, %d workers: %d window reads in the checked ticks, every one due; max freshness lag after the first tick %s; statements other than window reads: %d in the first tick, %d after",
				mode, n, schedule, len(ds), windows, maxLag.Round(time.Millisecond), otherWarm, other-otherWarm)
			t.Log("\n" + s.table(reads, interval))
		})
	}
}

// sampler records, once a second, serve's CPU time and memory, the
// state's size, the lag of the stalest pipeline and how many statements
// snowsim has received that were not window reads.
type sampler struct {
	f        *fleet
	st       *state.Store
	stateLoc string
	ds       []*daemon
	mu       sync.Mutex
	samples  []soakSample
}

type soakSample struct {
	at         time.Time
	cpu        time.Duration // all daemons
	rss        int64         // bytes, all daemons
	stateBytes int64
	lag        time.Duration // the stalest pipeline's
	other      int
}

func (s *sampler) start(every time.Duration) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tk := time.NewTicker(every)
		defer tk.Stop()
		for {
			s.take()
			select {
			case <-done:
				return
			case <-tk.C:
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

func (s *sampler) take() {
	x := soakSample{at: time.Now()}
	for _, d := range s.ds {
		cpu, rss := procUsage(d.cmd.Process.Pid)
		x.cpu += cpu
		x.rss += rss
	}
	x.stateBytes = s.stateSize()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if ws, err := s.st.Watermarks(ctx, ""); err == nil {
		got := map[string]time.Time{}
		for _, w := range ws {
			got[w.Pipeline] = w.End
		}
		for _, p := range s.f.pipelines {
			if end, ok := got[p.name]; ok {
				x.lag = max(x.lag, x.at.Sub(end))
			} else {
				x.lag = max(x.lag, x.at.Sub(p.start(s.f.today)))
			}
		}
	}
	_, x.other = s.f.reads(nil)
	s.mu.Lock()
	s.samples = append(s.samples, x)
	s.mu.Unlock()
}

// stateSize is the SQLite file with its write-ahead log, or the
// Postgres database's size.
func (s *sampler) stateSize() int64 {
	if state.IsPostgres(s.stateLoc) {
		var n int64
		s.st.DB().QueryRow(`SELECT pg_database_size(current_database())`).Scan(&n)
		return n
	}
	var n int64
	for _, suffix := range []string{"", "-wal"} {
		if fi, err := os.Stat(s.stateLoc + suffix); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// procUsage is a process's CPU time and resident memory, from /proc.
func procUsage(pid int) (time.Duration, int64) {
	var cpu time.Duration
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		// Fields after the command's closing parenthesis; utime and
		// stime are the 12th and 13th of them, in clock ticks (100 Hz).
		if i := strings.LastIndexByte(string(b), ')'); i > 0 {
			f := strings.Fields(string(b)[i+1:])
			if len(f) > 13 {
				u, _ := strconv.ParseInt(f[11], 10, 64)
				st, _ := strconv.ParseInt(f[12], 10, 64)
				cpu = time.Duration(u+st) * 10 * time.Millisecond
			}
		}
	}
	var rss int64
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				rss = kb << 10
			}
		}
	}
	return cpu, rss
}

// otherAt is the last soakSample at or before t.
func (s *sampler) otherAt(t time.Time) (soakSample, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var last soakSample
	for _, x := range s.samples {
		if x.at.After(t) {
			break
		}
		last = x
	}
	return last, last.other
}

// maxLag is the stalest pipeline's largest lag sampled after t.
func (s *sampler) maxLag(t time.Time) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	var m time.Duration
	for _, x := range s.samples {
		if x.at.After(t) {
			m = max(m, x.lag)
		}
	}
	return m
}

// table prints the figures per tick: ticks are the clusters of the cuts
// the pipelines' reads carry; each row covers the time from its tick's
// first cut to the next tick's.
func (s *sampler) table(reads []read, interval time.Duration) string {
	var cuts []time.Time
	for _, r := range reads {
		cuts = append(cuts, r.cut)
	}
	sort.Slice(cuts, func(i, j int) bool { return cuts[i].Before(cuts[j]) })
	var starts []time.Time
	for _, c := range cuts {
		if len(starts) == 0 || c.Sub(starts[len(starts)-1]) > interval/2 {
			starts = append(starts, c)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	at := func(t time.Time) soakSample {
		var last soakSample
		for _, x := range s.samples {
			if x.at.After(t) {
				break
			}
			last = x
		}
		return last
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-5s %-12s %9s %12s %10s %10s %12s %10s\n", "tick", "first cut", "pipelines", "window reads", "CPU s", "RSS MiB", "state KiB", "max lag s")
	for i, st := range starts {
		end := st.Add(interval)
		if i+1 < len(starts) {
			end = starts[i+1]
		}
		pipelines := map[string]bool{}
		nreads := 0
		for _, r := range reads {
			if !r.cut.Before(st) && r.cut.Before(end) {
				pipelines[r.pipeline] = true
				nreads++
			}
		}
		a, z := at(st), at(end)
		var lag time.Duration
		for _, x := range s.samples {
			if !x.at.Before(st) && x.at.Before(end) {
				lag = max(lag, x.lag)
			}
		}
		fmt.Fprintf(&b, "%-5d %-12s %9d %12d %10.2f %10.1f %12d %10.1f\n", i, st.Format("15:04:05.000"), len(pipelines), nreads,
			(z.cpu - a.cpu).Seconds(), float64(z.rss)/(1<<20), z.stateBytes>>10, lag.Seconds())
	}
	return b.String()
}
