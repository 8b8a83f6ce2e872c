package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hockeystack/sluice/engine"
	"github.com/hockeystack/sluice/engine/clickhouse/clickhousetest"
	"github.com/hockeystack/sluice/engine/ddl"
)

// restartServer is a clickhouse-server of the test's own, which it may
// stop and start: the shared one serves other tests.
func restartServer(t *testing.T) *clickhousetest.Server {
	t.Helper()
	s, err := clickhousetest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// restartRig is an append stream of daily windows in monthly partitions
// (so windows share partitions, the case where an earlier write's parts
// coming back would double rows outside the window too) on a server the
// test restarts.
type restartRig struct {
	t    *testing.T // the running test or subtest
	top  *testing.T // the test, which outlives connections
	srv  *clickhousetest.Server
	db   string
	sink *Sink
}

func newRestartRig(t *testing.T) *restartRig {
	r := &restartRig{t: t, top: t, srv: restartServer(t), db: "restarts"}
	k := r.connect()
	if err := k.conn.Exec(context.Background(), "CREATE DATABASE "+r.db); err != nil {
		t.Fatal(err)
	}
	return r
}

// connect opens a connection and a sink on it, as a new run would.
func (r *restartRig) connect() *Sink {
	r.t.Helper()
	conn, err := r.srv.Connect("default")
	if err != nil {
		r.t.Fatal(err)
	}
	r.top.Cleanup(func() { conn.Close() })
	v, _ := ddl.ParseClickHouseVersion(r.srv.Version)
	k, err := NewSink(conn, eventStream(r.t, r.db, v, "append"))
	if err != nil {
		r.t.Fatal(err)
	}
	r.sink = k
	return k
}

// window d is the day d of January 2024.
func windowOf(d int) Window {
	s := time.Date(2024, 1, d, 0, 0, 0, 0, time.UTC)
	return Window{Start: s, End: s.AddDate(0, 0, 1)}
}

// rowsOf are the rows window d holds in generation gen: d*10 rows, ids
// unique per generation, so a row left from an earlier write shows.
func rowsOf(d, gen int) []event {
	out := make([]event, d*10)
	for i := range out {
		out[i] = event{id: int64(gen*100000 + d*1000 + i), amount: fmt.Sprintf("%d.%02d", d, i%100), at: windowOf(d).Start.Add(time.Duration(i) * time.Minute)}
	}
	return out
}

// write runs window d of generation gen through the sink.
func (r *restartRig) write(d, gen int) (engine.Written, error) {
	if err := r.sink.Prepare(context.Background()); err != nil {
		return engine.Written{}, err
	}
	rr := events(rowsOf(d, gen)...)
	defer rr.Release()
	return r.sink.WriteWindow(context.Background(), windowOf(d), rr)
}

// check says which windows of days 1..days do not hold exactly the rows
// of generation gen[d], and lists staging tables left behind.
func (r *restartRig) check(days int, gen map[int]int) {
	r.t.Helper()
	ctx := context.Background()
	for d := 1; d <= days; d++ {
		var n, wrong uint64
		q := fmt.Sprintf("SELECT count(), countIf(intDiv(id, 100000) != %d) FROM %s.events WHERE at >= %s AND at < %s",
			gen[d], r.db, timeLiteral(windowOf(d).Start), timeLiteral(windowOf(d).End))
		if err := r.sink.conn.QueryRow(ctx, q).Scan(&n, &wrong); err != nil {
			r.t.Fatal(err)
		}
		if n != uint64(d*10) || wrong != 0 {
			r.t.Errorf("window %d holds %d rows (%d of another write), want %d", d, n, wrong, d*10)
		}
	}
	var stages uint64
	if err := r.sink.conn.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = '"+r.db+"' AND name LIKE '%sluice%'").Scan(&stages); err != nil {
		r.t.Fatal(err)
	}
	if stages != 0 {
		r.t.Errorf("%d staging tables left behind", stages)
	}
}

func (r *restartRig) restart(sig syscall.Signal) {
	r.t.Helper()
	if err := r.srv.Restart(sig); err != nil {
		r.t.Fatal(err)
	}
	r.connect()
}

// TestAppendSurvivesRestarts writes windows, rewrites them, and restarts
// the server right after (SIGTERM and SIGKILL): every window holds its
// newest rows exactly once. On 18.16, REPLACE PARTITION would fail this:
// the parts it replaces stay on disk until a cleanup seconds later, and a
// restart before it loads them again (TestReplacePartitionComesBack).
func TestAppendSurvivesRestarts(t *testing.T) {
	r := newRestartRig(t)
	r.connect()
	const days = 6
	gen := map[int]int{}
	for round, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL, syscall.SIGTERM} {
		for d := 1; d <= days; d++ {
			w, err := r.write(d, round+1)
			if err != nil {
				t.Fatal(err)
			}
			gen[d] = round + 1
			if w.Digest.Rows != int64(d*10) {
				t.Fatalf("window %d: digest %+v", d, w.Digest)
			}
		}
		r.restart(sig)
		r.check(days, gen)
	}
}

// TestAppendSurvivesRestartMidWindow stops the server at each point of a
// window's write, with SIGKILL and SIGTERM. The failed write leaves every
// other window as it was; after the restart the next run (Prepare, then
// the window again) leaves the window exact and no staging table.
func TestAppendSurvivesRestartMidWindow(t *testing.T) {
	r := newRestartRig(t)
	r.connect()
	const days = 4
	gen := map[int]int{}
	for d := 1; d <= days; d++ {
		if _, err := r.write(d, 1); err != nil {
			t.Fatal(err)
		}
		gen[d] = 1
	}
	next := 2
	for _, point := range []engine.HookPoint{engine.HookStaged, engine.HookDeleted, engine.HookAttachedPartition} {
		for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGTERM} {
			t.Run(string(point)+"/"+sig.String(), func(t *testing.T) {
				r.t = t
				fired := false
				r.sink.SetHook(func(p engine.HookPoint) error {
					if p == point && !fired {
						fired = true
						if err := r.srv.Kill(sig); err != nil {
							t.Fatal(err)
						}
					}
					return nil
				})
				_, err := r.write(2, next)
				if !fired {
					t.Fatalf("the write never reached %s", point)
				}
				if err == nil {
					t.Fatalf("the write succeeded with the server stopped at %s", point)
				}
				if err := r.srv.Restart(sig); err != nil {
					t.Fatal(err)
				}
				r.connect()
				if _, err := r.write(2, next); err != nil {
					t.Fatal(err)
				}
				gen[2] = next
				next++
				r.check(days, gen)
				// And a restart after the repair changes nothing.
				r.restart(sig)
				r.check(days, gen)
			})
		}
	}
}

// TestReplacePartitionComesBack shows, without Sluice, what the append
// strategy for 18.16 avoids: a partition replaced and the server
// restarted at once holds both the old rows and the new.
func TestReplacePartitionComesBack(t *testing.T) {
	s := restartServer(t)
	conn, err := s.Connect("default")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, q := range []string{
		"CREATE TABLE t (p UInt8, x UInt64) ENGINE = MergeTree PARTITION BY p ORDER BY x",
		"CREATE TABLE s AS t",
		"INSERT INTO t (p, x) SELECT 1, number FROM system.numbers LIMIT 100",
		"INSERT INTO s (p, x) SELECT 1, number FROM system.numbers LIMIT 50",
		"ALTER TABLE t REPLACE PARTITION 1 FROM s",
	} {
		if err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	conn.Close()
	if err := s.Restart(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	conn, err = s.Connect("default")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM t").Scan(&n); err != nil {
		t.Fatal(err)
	}
	v, _ := ddl.ParseClickHouseVersion(s.Version)
	switch {
	case v.Has(ddl.DurableReplacePartition) && n != 50:
		t.Errorf("%s claims durable REPLACE PARTITION but holds %d rows after a restart, want 50", s.Version, n)
	case !v.Has(ddl.DurableReplacePartition) && n == 50:
		// The cleanup won the race; the strategy does not depend on it.
		t.Logf("%s: the replaced part was gone before the restart", s.Version)
	case !v.Has(ddl.DurableReplacePartition):
		t.Logf("%s: %d rows after a restart, 50 before: the replaced part came back", s.Version, n)
		if !strings.HasPrefix(s.Version, "18.") || n != 150 {
			t.Errorf("want 150 rows on 18.16, got %d", n)
		}
	}
}
