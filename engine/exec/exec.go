// Package exec runs compiled pipelines: it cuts incremental streams into
// windows, reads each window from the source, maps its batches, writes them
// to the sink, and records every window in the ledger only once its rows
// are durable. Failing windows are retried with backoff when the failure
// is transient; bad data stops the window with an error that names stream,
// window, column and row.
package exec

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/hockeystack/sluice/engine"
	"github.com/hockeystack/sluice/engine/config"
	"github.com/hockeystack/sluice/engine/plan"
	"github.com/hockeystack/sluice/engine/state"
	"github.com/hockeystack/sluice/engine/transform"
)

// Stream is one planned stream wired to its source and sink. exec runs
// the plan's executable half (plan.Exec) and nothing else.
type Stream struct {
	Plan   *plan.Stream
	Source engine.Source
	Sink   engine.Sink
}

// Name is the stream's name.
func (s Stream) Name() string { return s.Plan.Name }

// How every run retries a window that failed transiently: sluice run,
// backfill, verify --repair and each job of serve alike.
const (
	DefaultRetries = 3
	DefaultBackoff = 2 * time.Second
)

// NewRunner returns a runner of a pipeline's streams recording in st,
// retrying as every run does.
func NewRunner(pipeline string, st *state.Store) *Runner {
	return &Runner{Pipeline: pipeline, State: st, Retries: DefaultRetries, Backoff: DefaultBackoff}
}

// Runner runs streams. Its fields are read-only once running.
type Runner struct {
	// Pipeline names the pipeline the streams belong to.
	Pipeline string
	State    *state.Store
	Alloc    memory.Allocator
	Log      *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Retries is how many times a window is tried again after a transient
	// failure; Backoff the first wait, doubling.
	Retries int
	Backoff time.Duration
	// Progress, when set, hears about each finished window; Planned
	// about the windows of a stream before they run.
	Progress func(stream string, w Slot, rows int64, err error)
	Planned  func(stream string, windows int)
	// Moved, when set, hears the Arrow size in bytes of the rows each
	// written window carried.
	Moved func(stream string, bytes int64)
	// Parallel is how many windows of an upsert stream load at once;
	// windows of other modes replace partitions and run one at a time.
	Parallel int
	// Hook, when set, is called at engine.HookBegun, engine.HookWritten
	// (before the ledger commit) and engine.HookCommitted of each window,
	// so tests can stop the process there.
	Hook engine.Hook

	progMu sync.Mutex
	progs  map[string]*transform.Program // compiled once per stream and source schema
}

// Compile compiles a planned stream's mapping and row filter for
// batches of the given source schema.
func Compile(s *plan.Stream, schema *arrow.Schema) (*transform.Program, error) {
	return transform.Compile(schema, s.Exec.Mapping, s.Exec.Filter)
}

// program compiles a stream's mapping once for a source schema and reuses
// it for every window read in that schema.
func (r *Runner) program(s *plan.Stream, schema *arrow.Schema) (*transform.Program, error) {
	r.progMu.Lock()
	defer r.progMu.Unlock()
	if p, ok := r.progs[s.Name]; ok && p.Input().Equal(schema) {
		return p, nil
	}
	p, err := Compile(s, schema)
	if err != nil {
		return nil, err
	}
	if r.progs == nil {
		r.progs = map[string]*transform.Program{}
	}
	r.progs[s.Name] = p
	return p, nil
}

func (r *Runner) hook(point engine.HookPoint) {
	r.Hook.Call(point) // a runner's hook stops the process or does nothing
}

// Options narrow a run.
type Options struct {
	// From and To bound the windows run (backfill); zero means unbounded.
	From, To time.Time
	// Force runs windows the ledger holds committed.
	Force bool
	// Limit, when positive, runs at most that many windows of each
	// stream, the oldest first; Summary.Remaining counts the others.
	// sluice serve runs one window a job so that windows spread over
	// workers.
	Limit int
	// Cut is the time the run cuts its windows at: the newest window
	// ends there, and a window committed in the same cut is not run
	// again. Zero means the runner's clock now. Serve's jobs of one
	// tick share the tick's cut, so a stream behind by many windows
	// goes through them one job after another instead of starting over.
	Cut time.Time
	// Stopping, when closed, starts no further window; those running
	// finish.
	Stopping <-chan struct{}
}

// Summary is what a run did.
type Summary struct {
	state.RunStats
	// Remaining is how many due windows Limit left for later.
	Remaining int
}

// Run runs the streams: all pending windows of each incremental stream,
// one full read of each other stream. It stops at the first stream that
// fails and returns its error; windows committed before stay committed.
func (r *Runner) Run(ctx context.Context, streams []Stream, opts Options) (Summary, error) {
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.Alloc == nil {
		r.Alloc = memory.DefaultAllocator
	}
	if r.Log == nil {
		r.Log = slog.New(slog.DiscardHandler)
	}
	now := opts.Cut
	if now.IsZero() {
		now = r.Now()
	}
	run, err := r.State.StartRun(ctx, r.Pipeline, now)
	if err != nil {
		return Summary{}, fmt.Errorf("recording the run: %w", err)
	}
	var sum Summary
	var runErr error
	for _, s := range streams {
		if err := s.Sink.Prepare(ctx); err != nil {
			runErr = fmt.Errorf("stream %s: %w", s.Name(), err)
			break
		}
		var slots []Slot
		if inc := s.Plan.Exec.Incremental; inc != nil {
			ledger, err := r.State.Windows(ctx, r.Pipeline, s.Name())
			if err != nil {
				runErr = err
				break
			}
			slots = Windows(inc, s.Plan.Exec.Location, now, ledger, opts.From, opts.To, opts.Force)
		} else {
			slots = []Slot{{Start: now.UTC(), End: now.UTC(), Complete: true}}
		}
		if opts.Limit > 0 && len(slots) > opts.Limit {
			sum.Remaining += len(slots) - opts.Limit
			slots = slots[:opts.Limit]
		}
		if r.Planned != nil {
			r.Planned(s.Name(), len(slots))
		}
		t := tick{run: run, cut: now, stopping: opts.Stopping}
		err := r.windows(ctx, &t, s, slots)
		sum.Windows += t.windows
		sum.Rows += t.rows
		sum.Reads += int(t.reads.Load())
		sum.Repeats += int(t.repeats.Load())
		sum.Remaining += int(t.left.Load())
		if err != nil {
			runErr = err
			break
		}
	}
	if err := r.State.FinishRun(context.WithoutCancel(ctx), run, sum.RunStats, runErr); err != nil && runErr == nil {
		runErr = err
	}
	return sum, runErr
}

// tick is what one stream's windows of a run share and count.
type tick struct {
	run      int64
	cut      time.Time
	stopping <-chan struct{}
	windows  int          // committed
	rows     int64        // written
	left     atomic.Int64 // not started because of stopping
	reads    atomic.Int64
	repeats  atomic.Int64
}

func (t *tick) stopped() bool {
	select {
	case <-t.stopping:
		return true
	default:
		return false
	}
}

// windows runs a stream's windows, several at once for upsert streams,
// and stops at the first failure (windows already under way finish) or
// when the tick is stopping. A context that ends with windows not begun
// is an error: the run did not do what it was asked.
func (r *Runner) windows(ctx context.Context, t *tick, s Stream, slots []Slot) error {
	parallel := 1
	if r.Parallel > 1 && s.Plan.Exec.Mode == config.Upsert {
		parallel = r.Parallel
	}
	type result struct {
		slot Slot
		rows int64
		err  error
	}
	// failed closes when a window fails, before its worker takes another
	// slot, so that no window begins after a failure. It is not the
	// windows' context: cancelling that would stop the windows under way
	// and leave them failed for no fault of theirs.
	failed := make(chan struct{})
	fail := sync.OnceFunc(func() { close(failed) })
	jobs := make(chan Slot)
	results := make(chan result)
	var wg sync.WaitGroup
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for slot := range jobs {
				select {
				case <-failed:
					continue // a window failed: start no more
				default:
				}
				if ctx.Err() != nil {
					continue
				}
				if t.stopped() {
					t.left.Add(1) // serve is stopping: the slot waits for the next job
					continue
				}
				rows, err := r.window(ctx, t, s, slot)
				if err != nil {
					fail()
				}
				results <- result{slot, rows, err}
			}
		}()
	}
	go func() {
		defer close(jobs)
		for _, slot := range slots {
			select {
			case jobs <- slot:
			case <-failed:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()
	var firstErr error
	ran := 0
	for res := range results {
		ran++
		if r.Progress != nil {
			r.Progress(s.Name(), res.slot, res.rows, res.err)
		}
		if res.err != nil {
			if firstErr == nil {
				firstErr = res.err
			}
			continue
		}
		t.windows++
		t.rows += res.rows
	}
	if firstErr == nil && ran+int(t.left.Load()) < len(slots) {
		return fmt.Errorf("stream %s: %w", s.Name(), ctx.Err())
	}
	return firstErr
}

// window runs one window with retries and records it in the ledger.
func (r *Runner) window(ctx context.Context, t *tick, s Stream, slot Slot) (int64, error) {
	name := s.Name()
	run := t.run
	repeat, err := r.State.Begin(ctx, r.Pipeline, state.Entry{Stream: name, Start: slot.Start, End: slot.End, Complete: slot.Complete, Cut: t.cut}, run)
	if err != nil {
		return 0, fmt.Errorf("recording window: %w", err)
	}
	if repeat {
		t.repeats.Add(1)
		r.Log.Warn("window run again in the same cut", "pipeline", r.Pipeline, "stream", name, "window", windowLabel(s, slot), "run", run)
	}
	r.hook(engine.HookBegun)
	wait := r.Backoff
	var written engine.Written
	for attempt := 0; ; attempt++ {
		t.reads.Add(1)
		written, err = r.load(ctx, s, slot, t.cut)
		if err == nil || attempt >= r.Retries || !transient(err) || ctx.Err() != nil {
			break
		}
		r.Log.Warn("window failed, retrying", "pipeline", r.Pipeline, "stream", name, "window", windowLabel(s, slot), "run", run, "error", err, "wait", wait)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break // cancelled while waiting: the window fails with its own error
		}
		wait *= 2
	}
	bg := context.WithoutCancel(ctx)
	if err != nil {
		r.State.Fail(bg, r.Pipeline, name, slot.Start, err)
		r.Log.Error("window failed", "pipeline", r.Pipeline, "stream", name, "window", windowLabel(s, slot), "run", run, "error", err)
		return 0, err
	}
	r.hook(engine.HookWritten)
	if err := r.State.Commit(bg, r.Pipeline, name, slot.Start, written.Rows, written.Digest.String()); err != nil {
		return 0, fmt.Errorf("recording window: %w", err)
	}
	r.hook(engine.HookCommitted)
	r.Log.Info("window committed", "pipeline", r.Pipeline, "stream", name, "window", windowLabel(s, slot), "run", run, "rows", written.Rows)
	return written.Rows, nil
}

// transient reports whether a failure may pass on retry: everything but
// bad data and what the sink or source marked permanent.
func transient(err error) bool {
	var te *transform.Error
	return !errors.As(err, &te) && !engine.IsPermanent(err)
}

func windowLabel(s Stream, slot Slot) string {
	return window(s, slot).String()
}

// window is the span a slot reads: the zero Window for a full read.
func window(s Stream, slot Slot) engine.Window {
	if s.Plan.Exec.Incremental == nil {
		return engine.Window{}
	}
	return engine.Window{Start: slot.Start, End: slot.End}
}

// load reads, maps and writes one window of a run cut at cut: the
// plan's query, bound to the window, tagged with the plan's tag.
func (r *Runner) load(ctx context.Context, s Stream, slot Slot, cut time.Time) (engine.Written, error) {
	name, w := s.Name(), window(s, slot)
	read := engine.Read{SQL: s.Plan.Source.SQL, Params: map[string]any{}, Tag: s.Plan.QueryTag(w, cut)}
	if !w.IsZero() {
		read.Params[config.WindowStart] = w.Start
		read.Params[config.WindowEnd] = w.End
	}
	rr, err := s.Source.Read(ctx, read)
	if err != nil {
		return engine.Written{}, fmt.Errorf("stream %s, window %s: reading: %w", name, w, err)
	}
	defer rr.Release()
	prog, err := r.program(s.Plan, rr.Schema())
	if err != nil {
		return engine.Written{}, fmt.Errorf("stream %s: %w", name, err)
	}
	mapped := &mapReader{in: rr, prog: prog, mem: r.Alloc, where: transform.Where{Stream: name, Window: w.String()}, refs: 1}
	defer mapped.Release()
	written, err := s.Sink.WriteWindow(ctx, w, mapped)
	if err == nil && mapped.err == nil && r.Moved != nil {
		r.Moved(name, mapped.bytes)
	}
	if err != nil {
		if mapped.err != nil {
			return engine.Written{}, mapped.err
		}
		return engine.Written{}, fmt.Errorf("stream %s, window %s: writing: %w", name, w, err)
	}
	if mapped.err != nil {
		return engine.Written{}, mapped.err
	}
	if !mapped.done {
		// Rows the sink never read are not in the destination: the
		// window must not be committed.
		return engine.Written{}, engine.Permanent(fmt.Errorf("stream %s, window %s: writing: the sink returned before reading every batch", name, w))
	}
	return written, nil
}

// mapReader applies a mapping to each batch of a reader as it is read, so
// a window streams through in bounded memory.
type mapReader struct {
	in    array.RecordReader
	prog  *transform.Program
	mem   memory.Allocator
	where transform.Where
	cur   arrow.RecordBatch
	err   error
	done  bool // Next returned false: the reader ended or failed
	refs  int64
	bytes int64 // Arrow size of the batches handed on
}

func (m *mapReader) Schema() *arrow.Schema { return m.prog.Schema() }

func (m *mapReader) Next() bool {
	if m.cur != nil {
		m.cur.Release()
		m.cur = nil
	}
	if m.err != nil || !m.in.Next() {
		if err := m.in.Err(); m.err == nil && err != nil {
			// A value the source cannot read stops it before the mapping
			// sees its row: name where, as a mapping error does.
			m.err = fmt.Errorf("stream %s, window %s, reading the rows after row %d: %w", m.where.Stream, m.where.Window, m.where.Row, err)
		}
		m.done = true
		return false
	}
	rec := m.in.RecordBatch()
	out, err := m.prog.Apply(m.mem, rec, m.where)
	m.where.Row += rec.NumRows()
	if err != nil {
		m.err = err
		m.done = true
		return false
	}
	m.cur = out
	for _, c := range out.Columns() {
		m.bytes += dataSize(c.Data())
	}
	return true
}

func (m *mapReader) RecordBatch() arrow.RecordBatch { return m.cur }
func (m *mapReader) Record() arrow.RecordBatch      { return m.cur }
func (m *mapReader) Err() error                     { return m.err }
func (m *mapReader) Retain()                        { m.refs++ }
func (m *mapReader) Release() {
	m.refs--
	if m.refs == 0 && m.cur != nil {
		m.cur.Release()
		m.cur = nil
	}
}

// dataSize is the size of an array's buffers, children included.
func dataSize(d arrow.ArrayData) int64 {
	var n int64
	for _, b := range d.Buffers() {
		if b != nil {
			n += int64(b.Len())
		}
	}
	for _, c := range d.Children() {
		n += dataSize(c)
	}
	return n
}
