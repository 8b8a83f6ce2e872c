package exec

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/hockeystack/sluice/engine"
	"github.com/hockeystack/sluice/engine/config"
	"github.com/hockeystack/sluice/engine/state"
	"github.com/hockeystack/sluice/engine/transform"
)

// The tests below run a Runner over an in-memory source and sink, with a
// real ledger in a temporary folder and every Arrow allocation (the
// source's batches and the mapping's) counted by a checked allocator:
// each test ends with nothing allocated and every reader released,
// whichever way its windows ended.

// day0 starts the test streams' daily windows; a run cut at cut(n) has n
// complete windows due.
var day0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func cut(days int) time.Time { return day0.AddDate(0, 0, days) }

func daily() *config.Incremental {
	return &config.Incremental{Cursor: "AT", Start: day0, Window: config.Span{N: 1, Unit: config.Day}}
}

// dayOf names a window by its first day, as "11-02".
func dayOf(t time.Time) string { return t.UTC().Format("01-02") }

// script is what one read of batchSource does.
type script struct {
	readErr error // Read itself fails
	batches int   // batches of two rows each
	nullAt  int   // this batch's (1-based) first ID is NULL: bad data for the mapping
	failAt  int   // instead of this batch (1-based), the reader fails with failErr
	failErr error
	// hang makes the reader wait, after its batches, until the read's
	// context ends, and fail with its error.
	hang bool
}

// batchSource streams, for each read, the batches its script says,
// allocated from mem as they are read. It records every read and counts
// the readers not released yet.
type batchSource struct {
	mem memory.Allocator
	// script says what the attempt'th read (0-based) of the window
	// starting at start does; three good batches when nil.
	script func(start time.Time, attempt int) script
	// onRead, when set, hears of every read before it runs.
	onRead func(start time.Time)

	mu    sync.Mutex
	reads []sourceRead
	open  int
}

type sourceRead struct {
	start, at time.Time
}

// newSource returns a source allocating from mem that, when the test
// ends, checks all its readers were released.
func newSource(t *testing.T, mem memory.Allocator) *batchSource {
	s := &batchSource{mem: mem}
	t.Cleanup(func() {
		if s.open != 0 {
			t.Errorf("%d reader(s) not released", s.open)
		}
	})
	return s
}

func (s *batchSource) Read(ctx context.Context, r engine.Read) (array.RecordReader, error) {
	start, _ := r.Params[config.WindowStart].(time.Time)
	if s.onRead != nil {
		s.onRead(start)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	attempt := 0
	for _, rd := range s.reads {
		if rd.start.Equal(start) {
			attempt++
		}
	}
	s.reads = append(s.reads, sourceRead{start: start, at: time.Now()})
	sc := script{batches: 3}
	if s.script != nil {
		sc = s.script(start, attempt)
	}
	if sc.readErr != nil {
		return nil, sc.readErr
	}
	s.open++
	return &batchReader{src: s, ctx: ctx, sc: sc, refs: 1}, nil
}

// readDays lists the windows read, one entry a read, in order.
func (s *batchSource) readDays() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, r := range s.reads {
		out = append(out, dayOf(r.start))
	}
	return out
}

// readTimes are the times the window starting at start was read.
func (s *batchSource) readTimes(start time.Time) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []time.Time
	for _, r := range s.reads {
		if r.start.Equal(start) {
			out = append(out, r.at)
		}
	}
	return out
}

var sourceSchema = arrow.NewSchema([]arrow.Field{
	{Name: "ID", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "NAME", Type: arrow.BinaryTypes.String, Nullable: true},
}, nil)

// batchReader builds each batch when Next reaches it, and fails when its
// read's context has ended, as a database's reader does.
type batchReader struct {
	src  *batchSource
	ctx  context.Context
	sc   script
	made int
	cur  arrow.RecordBatch
	err  error
	refs int64
}

func (b *batchReader) Schema() *arrow.Schema { return sourceSchema }

func (b *batchReader) Next() bool {
	if b.cur != nil {
		b.cur.Release()
		b.cur = nil
	}
	if b.err != nil {
		return false
	}
	if err := b.ctx.Err(); err != nil {
		b.err = err
		return false
	}
	if b.sc.failAt == b.made+1 {
		b.err = b.sc.failErr
		return false
	}
	if b.made == b.sc.batches {
		if b.sc.hang {
			<-b.ctx.Done()
			b.err = b.ctx.Err()
		}
		return false
	}
	b.made++
	ids := array.NewInt64Builder(b.src.mem)
	defer ids.Release()
	names := array.NewStringBuilder(b.src.mem)
	defer names.Release()
	for i := range 2 {
		id := int64(2*(b.made-1) + i + 1)
		if b.made == b.sc.nullAt && i == 0 {
			ids.AppendNull()
		} else {
			ids.Append(id)
		}
		names.Append(fmt.Sprintf("row %d", id))
	}
	idArr, nameArr := ids.NewArray(), names.NewArray()
	defer idArr.Release()
	defer nameArr.Release()
	b.cur = array.NewRecordBatch(sourceSchema, []arrow.Array{idArr, nameArr}, 2)
	return true
}

func (b *batchReader) RecordBatch() arrow.RecordBatch { return b.cur }
func (b *batchReader) Record() arrow.RecordBatch      { return b.cur }
func (b *batchReader) Err() error                     { return b.err }
func (b *batchReader) Retain()                        { b.refs++ }
func (b *batchReader) Release() {
	b.refs--
	if b.refs > 0 {
		return
	}
	if b.cur != nil {
		b.cur.Release()
		b.cur = nil
	}
	b.src.mu.Lock()
	b.src.open--
	b.src.mu.Unlock()
}

// sinkFunc is an in-memory sink whose WriteWindow is the function.
type sinkFunc func(ctx context.Context, w engine.Window, rr array.RecordReader) (engine.Written, error)

func (f sinkFunc) Prepare(context.Context) error { return nil }
func (f sinkFunc) WriteWindow(ctx context.Context, w engine.Window, rr array.RecordReader) (engine.Written, error) {
	return f(ctx, w, rr)
}

// drain reads every batch, as a sink does, and returns the rows and the
// reader's error.
func drain(rr array.RecordReader) (engine.Written, error) {
	var n int64
	for rr.Next() {
		n += rr.RecordBatch().NumRows()
	}
	if err := rr.Err(); err != nil {
		return engine.Written{}, err
	}
	return engine.Written{Rows: n, Digest: engine.Digest{Rows: n, Sum: "x"}}, nil
}

// drainSink writes every window by draining it.
var drainSink = sinkFunc(func(_ context.Context, _ engine.Window, rr array.RecordReader) (engine.Written, error) {
	return drain(rr)
})

// newRunner returns a runner over a fresh ledger, allocating from a
// checked allocator that must be empty when the test ends.
func newRunner(t *testing.T) (*Runner, *state.Store, *memory.CheckedAllocator) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	st, err := state.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &Runner{Pipeline: "p", State: st, Alloc: mem}, st, mem
}

// ledger is stream s's ledger by window, as "committed rows=6 attempts=1"
// or "failed attempts=1: <error>".
func ledger(t *testing.T, st *state.Store) map[string]string {
	t.Helper()
	ws, err := st.Windows(context.Background(), "p", "s")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, w := range ws {
		line := fmt.Sprintf("%s rows=%d attempts=%d", w.State, w.Rows, w.Attempts)
		if w.Error != "" {
			line += ": " + w.Error
		}
		out[dayOf(w.Start)] = line
	}
	return out
}

func lastRun(t *testing.T, st *state.Store) state.Run {
	t.Helper()
	runs, err := st.Runs(context.Background(), "p", 1)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs: %v, %v", runs, err)
	}
	return runs[0]
}

// onMessage is a log handler that calls f when msg is logged.
type onMessage struct {
	msg string
	f   func()
}

func (h onMessage) Enabled(context.Context, slog.Level) bool { return true }
func (h onMessage) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.f()
	}
	return nil
}
func (h onMessage) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h onMessage) WithGroup(string) slog.Handler      { return h }

// TestRunCommitsAfterTheSink runs three windows through the mapping into
// the sink: each is committed with its rows once the sink has returned,
// never before, and the hook points come in order around the commit.
func TestRunCommitsAfterTheSink(t *testing.T) {
	r, st, _ := newRunner(t)
	src := newSource(t, r.Alloc)
	ctx := context.Background()
	var hooks []string
	r.Hook = func(point engine.HookPoint) error {
		committed := strings.Count(fmt.Sprint(ledger(t, st)), "committed")
		hooks = append(hooks, fmt.Sprintf("%s:%d", point, committed))
		return nil
	}
	var moved []int64
	r.Moved = func(_ string, bytes int64) { moved = append(moved, bytes) }
	var progress []string
	r.Progress = func(_ string, w Slot, rows int64, err error) {
		progress = append(progress, fmt.Sprintf("%s %d %v", dayOf(w.Start), rows, err))
	}
	var rows []string
	sink := sinkFunc(func(ctx context.Context, w engine.Window, rr array.RecordReader) (engine.Written, error) {
		if l := ledger(t, st)[dayOf(w.Start)]; !strings.HasPrefix(l, state.Loading) {
			t.Errorf("window %s is %q while the sink writes it", dayOf(w.Start), l)
		}
		if got := rr.Schema().String(); !strings.Contains(got, "id: type=int64") || !strings.Contains(got, "twice: type=int64") {
			t.Errorf("the sink gets schema %s", got)
		}
		for rr.Next() {
			rec := rr.RecordBatch()
			for i := range int(rec.NumRows()) {
				rows = append(rows, fmt.Sprintf("%s %s %s %s", dayOf(w.Start), rec.Column(0).ValueStr(i), rec.Column(1).ValueStr(i), rec.Column(2).ValueStr(i)))
			}
		}
		if rr.Err() != nil {
			return engine.Written{}, rr.Err()
		}
		return engine.Written{Rows: 6, Digest: engine.Digest{Rows: 6, Sum: "abc"}}, nil
	})
	sum, err := r.Run(ctx, []Stream{testStream(t, "s", config.Append, daily(), src, sink)}, Options{Cut: cut(3)})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Windows != 3 || sum.Rows != 18 || sum.Reads != 3 || sum.Remaining != 0 {
		t.Errorf("summary %+v", sum)
	}
	want := "begun:0 written:0 committed:1 begun:1 written:1 committed:2 begun:2 written:2 committed:3"
	if got := strings.Join(hooks, " "); got != want {
		t.Errorf("hooks (with the windows committed at each):\n got %s\nwant %s", got, want)
	}
	for _, day := range []string{"11-01", "11-02", "11-03"} {
		if got := ledger(t, st)[day]; got != "committed rows=6 attempts=1" {
			t.Errorf("window %s: %s", day, got)
		}
	}
	w, _, _ := st.Window(ctx, "p", "s", day0)
	if w.Digest != "6:abc" {
		t.Errorf("digest %q", w.Digest)
	}
	if len(rows) != 18 || rows[0] != "11-01 1 row 1 2" || rows[17] != "11-03 6 row 6 12" {
		t.Errorf("rows written: %q", rows)
	}
	if len(moved) != 3 || moved[0] <= 0 {
		t.Errorf("moved %v", moved)
	}
	if got := strings.Join(progress, ", "); got != "11-01 6 <nil>, 11-02 6 <nil>, 11-03 6 <nil>" {
		t.Errorf("progress %s", got)
	}
	if run := lastRun(t, st); run.Status != "succeeded" || run.Windows != 3 {
		t.Errorf("run %+v", run)
	}
}

// TestRunRetries: a transient failure is tried again after the backoff,
// doubling, until a try succeeds or the retries run out; bad data and
// permanent errors are not tried again.
func TestRunRetries(t *testing.T) {
	transientErr := errors.New("connection reset by peer")
	t.Run("transient, then success", func(t *testing.T) {
		r, st, _ := newRunner(t)
		r.Retries, r.Backoff = 3, 5*time.Millisecond
		src := newSource(t, r.Alloc)
		src.script = func(start time.Time, attempt int) script {
			if start.Equal(day0) {
				switch attempt {
				case 0:
					return script{readErr: transientErr}
				case 1: // fails after a batch reached the sink
					return script{batches: 3, failAt: 2, failErr: transientErr}
				}
			}
			return script{batches: 3}
		}
		sum, err := r.Run(context.Background(), []Stream{testStream(t, "s", config.Append, daily(), src, drainSink)}, Options{Cut: cut(2)})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Reads != 4 || sum.Windows != 2 || sum.Rows != 12 {
			t.Errorf("summary %+v", sum)
		}
		if got := ledger(t, st)["11-01"]; got != "committed rows=6 attempts=1" {
			t.Errorf("window 11-01: %s", got)
		}
		at := src.readTimes(day0)
		if len(at) != 3 {
			t.Fatalf("window 11-01 read %d times", len(at))
		}
		if gap := at[1].Sub(at[0]); gap < r.Backoff {
			t.Errorf("second try %v after the first, want at least %v", gap, r.Backoff)
		}
		if gap := at[2].Sub(at[1]); gap < 2*r.Backoff {
			t.Errorf("third try %v after the second, want at least %v", gap, 2*r.Backoff)
		}
	})
	cases := []struct {
		name    string
		retries int
		script  script
		sink    engine.Sink
		reads   int    // reads of the failing window
		want    string // in the error and the ledger
	}{{
		name: "retries run out", retries: 2,
		script: script{readErr: transientErr}, sink: drainSink, reads: 3,
		want: "reading: connection reset by peer",
	}, {
		name: "permanent", retries: 3, script: script{batches: 3},
		sink: sinkFunc(func(context.Context, engine.Window, array.RecordReader) (engine.Written, error) {
			return engine.Written{}, engine.Permanent(errors.New("table is read-only"))
		}),
		reads: 1, want: "writing: table is read-only",
	}, {
		name: "bad data", retries: 3, script: script{batches: 3, nullAt: 2}, sink: drainSink, reads: 1,
		want: "stream s, window [2026-11-01T00:00:00Z, 2026-11-02T00:00:00Z), column id, row 3 (key id=NULL): ",
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, st, _ := newRunner(t)
			r.Retries, r.Backoff = c.retries, time.Millisecond
			src := newSource(t, r.Alloc)
			src.script = func(time.Time, int) script { return c.script }
			sum, err := r.Run(context.Background(), []Stream{testStream(t, "s", config.Append, daily(), src, c.sink)}, Options{Cut: cut(2)})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
			if got := src.readDays(); len(got) != c.reads || sum.Reads != c.reads {
				t.Errorf("reads %v (summary %d), want %d of 11-01", got, sum.Reads, c.reads)
			}
			var te *transform.Error
			if c.name == "bad data" && (!errors.As(err, &te) || te.Column != "id" || te.Row != 3) {
				t.Errorf("error %#v is not bad data at column id, row 3", err)
			}
			l := ledger(t, st)
			if got := l["11-01"]; !strings.HasPrefix(got, "failed rows=0 attempts=1: ") || !strings.Contains(got, c.want) {
				t.Errorf("window 11-01: %s", got)
			}
			if got, ok := l["11-02"]; ok {
				t.Errorf("window 11-02 ran after 11-01 failed: %s", got)
			}
		})
	}
	t.Run("cancelled while waiting", func(t *testing.T) {
		r, st, _ := newRunner(t)
		r.Retries, r.Backoff = 3, time.Hour
		src := newSource(t, r.Alloc)
		src.script = func(time.Time, int) script { return script{readErr: transientErr} }
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		r.Log = slog.New(onMessage{"window failed, retrying", cancel}) // just before the wait
		_, err := r.Run(ctx, []Stream{testStream(t, "s", config.Append, daily(), src, drainSink)}, Options{Cut: cut(2)})
		if err == nil {
			t.Fatal("no error")
		}
		if got := src.readDays(); len(got) != 1 {
			t.Errorf("reads %v, want one: a cancelled wait tries no more", got)
		}
		if !strings.Contains(err.Error(), transientErr.Error()) {
			t.Errorf("error %v, want the window's own", err)
		}
		if got := ledger(t, st)["11-01"]; !strings.HasPrefix(got, "failed rows=0 attempts=1: ") {
			t.Errorf("window 11-01: %s", got)
		}
	})
}

// TestRunLedgerAtEveryFailure fails the second of three windows at each
// point a window can fail, in a run forced over windows an earlier run
// committed: the window is left failed with the error (never committed),
// the one before it committed again, the one after it not begun, and
// every batch released.
func TestRunLedgerAtEveryFailure(t *testing.T) {
	readBatches := func(n int, ret error) engine.Sink {
		return sinkFunc(func(_ context.Context, _ engine.Window, rr array.RecordReader) (engine.Written, error) {
			for i := 0; i < n && rr.Next(); i++ {
			}
			return engine.Written{Rows: 6}, ret
		})
	}
	ignoreErr := sinkFunc(func(_ context.Context, _ engine.Window, rr array.RecordReader) (engine.Written, error) {
		for rr.Next() {
		}
		return engine.Written{Rows: 4}, nil // as if Next's false meant the end
	})
	cases := []struct {
		name   string
		script script
		sink   engine.Sink
		want   string
	}{
		{"source fails to read", script{readErr: errors.New("warehouse suspended")}, drainSink, "reading: warehouse suspended"},
		{"reader fails mid-stream", script{batches: 3, failAt: 2, failErr: errors.New("chunk 2: connection reset")}, drainSink, "chunk 2: connection reset"},
		{"reader fails mid-stream, the sink ignores Err", script{batches: 3, failAt: 3, failErr: errors.New("chunk 3: connection reset")}, ignoreErr, "chunk 3: connection reset"},
		{"bad data", script{batches: 3, nullAt: 2}, drainSink, "column id, row 3 (key id=NULL)"},
		{"sink fails mid-stream", script{batches: 3}, readBatches(1, errors.New("insert failed")), "writing: insert failed"},
		{"sink fails before reading", script{batches: 3}, readBatches(0, errors.New("no such table")), "writing: no such table"},
		{"sink succeeds without reading every batch", script{batches: 3}, readBatches(2, nil), "the sink returned before reading every batch"},
		{"sink succeeds without reading", script{batches: 3}, readBatches(0, nil), "the sink returned before reading every batch"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, st, _ := newRunner(t)
			src := newSource(t, r.Alloc)
			ctx := context.Background()
			if _, err := r.Run(ctx, []Stream{testStream(t, "s", config.Append, daily(), src, drainSink)}, Options{Cut: cut(3)}); err != nil {
				t.Fatal(err)
			}
			day1 := day0.AddDate(0, 0, 1)
			src.script = func(start time.Time, _ int) script {
				if start.Equal(day1) {
					return c.script
				}
				return script{batches: 3}
			}
			sink := sinkFunc(func(ctx context.Context, w engine.Window, rr array.RecordReader) (engine.Written, error) {
				if w.Start.Equal(day1) {
					return c.sink.WriteWindow(ctx, w, rr)
				}
				return drain(rr)
			})
			var hooks []string
			r.Hook = func(point engine.HookPoint) error { hooks = append(hooks, string(point)); return nil }
			_, err := r.Run(ctx, []Stream{testStream(t, "s", config.Append, daily(), src, sink)}, Options{Cut: cut(3).Add(time.Hour), To: cut(3), Force: true})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
			if !strings.Contains(err.Error(), "stream s") || !strings.Contains(err.Error(), "2026-11-02T00:00:00Z") {
				t.Errorf("error %q does not name the stream and window", err)
			}
			l := ledger(t, st)
			if got := l["11-01"]; got != "committed rows=6 attempts=2" {
				t.Errorf("window 11-01: %s", got)
			}
			if got := l["11-02"]; !strings.HasPrefix(got, "failed rows=0 attempts=2: ") || !strings.Contains(got, c.want) {
				t.Errorf("window 11-02: %s", got)
			}
			if got := l["11-03"]; got != "committed rows=6 attempts=1" {
				t.Errorf("window 11-03 (begun again after 11-02 failed?): %s", got)
			}
			if got, want := strings.Join(hooks, " "), "begun written committed begun"; got != want {
				t.Errorf("hooks %q, want %q", got, want)
			}
			if run := lastRun(t, st); run.Status != "failed" || !strings.Contains(run.Error, c.want) {
				t.Errorf("run %s: %s", run.Status, run.Error)
			}
		})
	}
}

// TestRunParallelUpsert: an upsert stream's windows load several at once,
// each once; a failure starts no further window, and those under way
// finish and commit. Other modes load one window at a time.
func TestRunParallelUpsert(t *testing.T) {
	t.Run("every window once", func(t *testing.T) {
		r, st, _ := newRunner(t)
		r.Parallel = 3
		src := newSource(t, r.Alloc)
		var mu sync.Mutex
		writes := map[string]int{}
		all := make(chan struct{})
		started := 0
		sink := sinkFunc(func(_ context.Context, w engine.Window, rr array.RecordReader) (engine.Written, error) {
			mu.Lock()
			writes[dayOf(w.Start)]++
			if started++; started == 3 {
				close(all)
			}
			mu.Unlock()
			select { // the first three windows are under way together
			case <-all:
			case <-time.After(10 * time.Second):
				t.Errorf("window %s: three windows never ran at once", dayOf(w.Start))
			}
			return drain(rr)
		})
		sum, err := r.Run(context.Background(), []Stream{testStream(t, "s", config.Upsert, daily(), src, sink)}, Options{Cut: cut(9)})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Windows != 9 || sum.Rows != 54 || sum.Reads != 9 {
			t.Errorf("summary %+v", sum)
		}
		l := ledger(t, st)
		for d := range 9 {
			day := dayOf(cut(d))
			if writes[day] != 1 || l[day] != "committed rows=6 attempts=1" {
				t.Errorf("window %s: written %d times, %s", day, writes[day], l[day])
			}
		}
	})
	t.Run("a failure stops further windows", func(t *testing.T) {
		r, st, _ := newRunner(t)
		r.Parallel = 2
		src := newSource(t, r.Alloc)
		secondStarted, firstFailed := make(chan struct{}), make(chan struct{})
		var once sync.Once
		r.Progress = func(_ string, w Slot, _ int64, err error) {
			if err != nil {
				once.Do(func() { close(firstFailed) })
			}
		}
		sink := sinkFunc(func(ctx context.Context, w engine.Window, rr array.RecordReader) (engine.Written, error) {
			switch dayOf(w.Start) {
			case "11-01":
				<-secondStarted
				return engine.Written{}, engine.Permanent(errors.New("too many parts"))
			case "11-02":
				close(secondStarted)
				<-firstFailed
				// A sink doing I/O notices a cancelled context: give the
				// runner time to cancel, if it does.
				select {
				case <-ctx.Done():
					return engine.Written{}, ctx.Err()
				case <-time.After(200 * time.Millisecond):
				}
				return drain(rr)
			}
			t.Errorf("window %s started after a window failed", dayOf(w.Start))
			return drain(rr)
		})
		sum, err := r.Run(context.Background(), []Stream{testStream(t, "s", config.Upsert, daily(), src, sink)}, Options{Cut: cut(6)})
		if err == nil || !strings.Contains(err.Error(), "too many parts") {
			t.Fatalf("error %v", err)
		}
		if got := strings.Join(slices.Sorted(slices.Values(src.readDays())), " "); got != "11-01 11-02" {
			t.Errorf("windows read: %s", got)
		}
		if sum.Windows != 1 || sum.Rows != 6 {
			t.Errorf("summary %+v", sum)
		}
		l := ledger(t, st)
		if got := l["11-01"]; !strings.HasPrefix(got, "failed rows=0 attempts=1: ") {
			t.Errorf("window 11-01: %s", got)
		}
		if got := l["11-02"]; got != "committed rows=6 attempts=1" {
			t.Errorf("window 11-02, under way when 11-01 failed: %s", got)
		}
		if len(l) != 2 {
			t.Errorf("ledger %v", l)
		}
	})
	t.Run("append runs one window at a time", func(t *testing.T) {
		r, _, _ := newRunner(t)
		r.Parallel = 3
		src := newSource(t, r.Alloc)
		var mu sync.Mutex
		running, most := 0, 0
		sink := sinkFunc(func(_ context.Context, w engine.Window, rr array.RecordReader) (engine.Written, error) {
			mu.Lock()
			running++
			most = max(most, running)
			mu.Unlock()
			time.Sleep(time.Millisecond)
			defer func() { mu.Lock(); running--; mu.Unlock() }()
			return drain(rr)
		})
		if _, err := r.Run(context.Background(), []Stream{testStream(t, "s", config.Append, daily(), src, sink)}, Options{Cut: cut(4)}); err != nil {
			t.Fatal(err)
		}
		if most != 1 {
			t.Errorf("%d append windows ran at once", most)
		}
	})
}

// TestRunCancel: a run whose context ends fails the window under way and
// begins no other; a run told to stop finishes the window under way and
// counts the others as remaining.
func TestRunCancel(t *testing.T) {
	t.Run("during a window", func(t *testing.T) {
		r, st, _ := newRunner(t)
		r.Retries, r.Backoff = 3, time.Millisecond
		src := newSource(t, r.Alloc)
		src.script = func(time.Time, int) script { return script{batches: 3, hang: true} }
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		sink := sinkFunc(func(_ context.Context, _ engine.Window, rr array.RecordReader) (engine.Written, error) {
			if rr.Next() {
				cancel()
			}
			return drain(rr)
		})
		sum, err := r.Run(ctx, []Stream{testStream(t, "s", config.Append, daily(), src, sink)}, Options{Cut: cut(3)})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v", err)
		}
		if sum.Reads != 1 || sum.Windows != 0 {
			t.Errorf("summary %+v", sum)
		}
		l := ledger(t, st)
		if got := l["11-01"]; !strings.HasPrefix(got, "failed rows=0 attempts=1: ") || !strings.Contains(got, "context canceled") {
			t.Errorf("window 11-01: %s", got)
		}
		if len(l) != 1 {
			t.Errorf("ledger %v", l)
		}
		if run := lastRun(t, st); run.Status != "failed" {
			t.Errorf("run %+v", run)
		}
	})
	t.Run("between windows", func(t *testing.T) {
		r, st, _ := newRunner(t)
		src := newSource(t, r.Alloc)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		r.Hook = func(point engine.HookPoint) error {
			if point == engine.HookCommitted {
				cancel()
			}
			return nil
		}
		sum, err := r.Run(ctx, []Stream{testStream(t, "s", config.Upsert, daily(), src, drainSink)}, Options{Cut: cut(3)})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v: a run cancelled with windows left must not succeed", err)
		}
		if sum.Windows != 1 {
			t.Errorf("summary %+v", sum)
		}
		l := ledger(t, st)
		if got := l["11-01"]; got != "committed rows=6 attempts=1" || len(l) != 1 {
			t.Errorf("ledger %v", l)
		}
		if run := lastRun(t, st); run.Status != "failed" {
			t.Errorf("run %+v", run)
		}
	})
	for _, parallel := range []int{1, 3} {
		t.Run(fmt.Sprintf("stopping, parallel %d", parallel), func(t *testing.T) {
			r, st, _ := newRunner(t)
			r.Parallel = parallel
			src := newSource(t, r.Alloc)
			stopping := make(chan struct{})
			r.Hook = func(point engine.HookPoint) error {
				if point == engine.HookBegun {
					select {
					case <-stopping:
					default:
						close(stopping)
					}
				}
				return nil
			}
			// One window a worker was under way when stopping closed: the
			// first, or with three workers up to three.
			sum, err := r.Run(context.Background(), []Stream{testStream(t, "s", config.Upsert, daily(), src, drainSink)}, Options{Cut: cut(5), Stopping: stopping})
			if err != nil {
				t.Fatal(err)
			}
			l := ledger(t, st)
			if sum.Windows < 1 || sum.Windows > parallel || sum.Windows+sum.Remaining != 5 || len(l) != sum.Windows {
				t.Errorf("summary %+v, ledger %v", sum, l)
			}
			for day, w := range l {
				if w != "committed rows=6 attempts=1" {
					t.Errorf("window %s: %s", day, w)
				}
			}
			if parallel == 1 && !slices.Equal(src.readDays(), []string{"11-01"}) {
				t.Errorf("windows read: %v", src.readDays())
			}
		})
	}
}
