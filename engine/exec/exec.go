// Package exec runs compiled pipelines: it cuts incremental streams into
// windows, reads each window from the source, maps its batches, writes them
// to the sink, and records every window in the ledger only once its rows
// are durable. Failing windows are retried with backoff when the failure
// is transient; bad data stops the window with an error that names stream,
// window, column and row.
package exec

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/hockeystack/sluice/engine"
	"github.com/hockeystack/sluice/engine/config"
	"github.com/hockeystack/sluice/engine/sqltype"
	"github.com/hockeystack/sluice/engine/state"
	"github.com/hockeystack/sluice/engine/transform"
)

// Stream is one stream ready to run.
type Stream struct {
	Config *config.Stream
	Source engine.Source
	Sink   engine.Sink
	// Ranges are the spans the destination server stores in its date and
	// time types, by type name, where narrower than the types' own.
	Ranges map[string]sqltype.TimeRange
}

// Columns is a stream's mapping for transform, with the destination's
// date and time ranges.
func Columns(c *config.Stream, ranges map[string]sqltype.TimeRange) []transform.Column {
	cols := make([]transform.Column, len(c.Columns))
	for i, col := range c.Columns {
		cols[i] = transform.Column{Name: col.Name, Type: col.Type, From: col.From, Default: col.Default, AllowLossy: col.AllowLossy,
			Key: slices.Contains(c.Destination.Key, col.Name)}
		if col.Expr != nil {
			cols[i].Expr = col.Expr.Text
		}
		cols[i].Range = ranges[col.Type.Name()]
	}
	return cols
}

// Runner runs streams. Its fields are read-only once running.
type Runner struct {
	Pipeline *config.Pipeline
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
	// Hook, when set, is called at named points of each window
	// ("begun", "written" before the ledger commit, "committed") so tests
	// can stop the process there.
	Hook func(point string)

	progMu sync.Mutex
	progs  map[string]*transform.Program // compiled once per stream and source schema
}

// Compile compiles a stream's mapping and row filter for batches of the
// given source schema; ranges bound the destination's date and time
// columns (see Columns).
func Compile(c *config.Stream, schema *arrow.Schema, ranges map[string]sqltype.TimeRange) (*transform.Program, error) {
	filter := ""
	if c.Filter != nil {
		filter = c.Filter.Text
	}
	return transform.Compile(schema, Columns(c, ranges), filter)
}

// program compiles a stream's mapping once for a source schema and reuses
// it for every window read in that schema.
func (r *Runner) program(c *config.Stream, schema *arrow.Schema, ranges map[string]sqltype.TimeRange) (*transform.Program, error) {
	r.progMu.Lock()
	defer r.progMu.Unlock()
	if p, ok := r.progs[c.Name]; ok && p.Input().Equal(schema) {
		return p, nil
	}
	p, err := Compile(c, schema, ranges)
	if err != nil {
		return nil, err
	}
	if r.progs == nil {
		r.progs = map[string]*transform.Program{}
	}
	r.progs[c.Name] = p
	return p, nil
}

func (r *Runner) hook(point string) {
	if r.Hook != nil {
		r.Hook(point)
	}
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
	loc, err := time.LoadLocation(r.Pipeline.Timezone)
	if err != nil {
		loc = time.UTC
	}
	now := opts.Cut
	if now.IsZero() {
		now = r.Now()
	}
	run, err := r.State.StartRun(ctx, r.Pipeline.Name, now)
	if err != nil {
		return Summary{}, fmt.Errorf("recording the run: %w", err)
	}
	var sum Summary
	var runErr error
	for _, s := range streams {
		if err := s.Sink.Prepare(ctx); err != nil {
			runErr = fmt.Errorf("stream %s: %w", s.Config.Name, err)
			break
		}
		var slots []Slot
		if inc := s.Config.Incremental; inc != nil {
			ledger, err := r.State.Windows(ctx, r.Pipeline.Name, s.Config.Name)
			if err != nil {
				runErr = err
				break
			}
			slots = Windows(inc, loc, now, ledger, opts.From, opts.To, opts.Force)
		} else {
			slots = []Slot{{Start: now.UTC(), End: now.UTC(), Complete: true}}
		}
		if opts.Limit > 0 && len(slots) > opts.Limit {
			sum.Remaining += len(slots) - opts.Limit
			slots = slots[:opts.Limit]
		}
		if r.Planned != nil {
			r.Planned(s.Config.Name, len(slots))
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
// when the tick is stopping.
func (r *Runner) windows(ctx context.Context, t *tick, s Stream, slots []Slot) error {
	parallel := 1
	if r.Parallel > 1 && s.Config.Destination.Mode == config.Upsert {
		parallel = r.Parallel
	}
	type result struct {
		slot Slot
		rows int64
		err  error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan Slot)
	results := make(chan result)
	var wg sync.WaitGroup
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for slot := range jobs {
				if ctx.Err() != nil {
					continue // a window failed: start no more
				}
				if t.stopped() {
					t.left.Add(1) // serve is stopping: the slot waits for the next job
					continue
				}
				rows, err := r.window(ctx, t, s, slot)
				results <- result{slot, rows, err}
			}
		}()
	}
	go func() {
		defer close(jobs)
		for _, slot := range slots {
			select {
			case jobs <- slot:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()
	var firstErr error
	for res := range results {
		if r.Progress != nil {
			r.Progress(s.Config.Name, res.slot, res.rows, res.err)
		}
		if res.err != nil {
			if firstErr == nil {
				firstErr = res.err
				cancel()
			}
			continue
		}
		t.windows++
		t.rows += res.rows
	}
	return firstErr
}

// window runs one window with retries and records it in the ledger.
func (r *Runner) window(ctx context.Context, t *tick, s Stream, slot Slot) (int64, error) {
	name := s.Config.Name
	run := t.run
	repeat, err := r.State.Begin(ctx, r.Pipeline.Name, state.Window{Stream: name, Start: slot.Start, End: slot.End, Complete: slot.Complete, Cut: t.cut}, run)
	if err != nil {
		return 0, fmt.Errorf("recording window: %w", err)
	}
	if repeat {
		t.repeats.Add(1)
		r.Log.Warn("window run again in the same cut", "pipeline", r.Pipeline.Name, "stream", name, "window", windowLabel(s, slot), "run", run)
	}
	r.hook("begun")
	wait := r.Backoff
	var written engine.Written
	for attempt := 0; ; attempt++ {
		t.reads.Add(1)
		written, err = r.load(ctx, s, slot, t.cut)
		if err == nil || attempt >= r.Retries || !transient(err) || ctx.Err() != nil {
			break
		}
		r.Log.Warn("window failed, retrying", "pipeline", r.Pipeline.Name, "stream", name, "window", windowLabel(s, slot), "run", run, "error", err, "wait", wait)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		}
		wait *= 2
	}
	bg := context.WithoutCancel(ctx)
	if err != nil {
		r.State.Fail(bg, r.Pipeline.Name, name, slot.Start, err)
		r.Log.Error("window failed", "pipeline", r.Pipeline.Name, "stream", name, "window", windowLabel(s, slot), "run", run, "error", err)
		return 0, err
	}
	r.hook("written")
	if err := r.State.Commit(bg, r.Pipeline.Name, name, slot.Start, written.Rows, written.Digest.String()); err != nil {
		return 0, fmt.Errorf("recording window: %w", err)
	}
	r.hook("committed")
	r.Log.Info("window committed", "pipeline", r.Pipeline.Name, "stream", name, "window", windowLabel(s, slot), "run", run, "rows", written.Rows)
	return written.Rows, nil
}

// transient reports whether a failure may pass on retry: everything but
// bad data and what the sink or source marked permanent.
func transient(err error) bool {
	var te *transform.Error
	return !errors.As(err, &te) && !engine.IsPermanent(err)
}

func windowLabel(s Stream, slot Slot) string {
	if s.Config.Incremental == nil {
		return "full"
	}
	return engine.Window{Start: slot.Start, End: slot.End}.String()
}

// load reads, maps and writes one window of a run cut at cut.
func (r *Runner) load(ctx context.Context, s Stream, slot Slot, cut time.Time) (engine.Written, error) {
	c := s.Config
	read := engine.Read{SQL: c.Source.SQL, Params: map[string]any{}}
	w := engine.Window{}
	if c.Incremental != nil {
		read.Params[config.WindowStart] = slot.Start
		read.Params[config.WindowEnd] = slot.End
		w = engine.Window{Start: slot.Start, End: slot.End}
	}
	tag, _ := json.Marshal(map[string]string{"app": "sluice", "pipeline": r.Pipeline.Name, "stream": c.Name, "window": windowLabel(s, slot), "cut": cut.UTC().Format(time.RFC3339Nano)})
	read.Tag = string(tag)
	rr, err := s.Source.Read(ctx, read)
	if err != nil {
		return engine.Written{}, fmt.Errorf("stream %s, window %s: reading: %w", c.Name, windowLabel(s, slot), err)
	}
	defer rr.Release()
	prog, err := r.program(c, rr.Schema(), s.Ranges)
	if err != nil {
		return engine.Written{}, fmt.Errorf("stream %s: %w", c.Name, err)
	}
	mapped := &mapReader{in: rr, prog: prog, mem: r.Alloc, where: transform.Where{Stream: c.Name, Window: windowLabel(s, slot)}, refs: 1}
	defer mapped.Release()
	written, err := s.Sink.WriteWindow(ctx, w, mapped)
	if err == nil && mapped.err == nil && r.Moved != nil {
		r.Moved(c.Name, mapped.bytes)
	}
	if err != nil {
		if mapped.err != nil {
			return engine.Written{}, mapped.err
		}
		return engine.Written{}, fmt.Errorf("stream %s, window %s: writing: %w", c.Name, windowLabel(s, slot), err)
	}
	if mapped.err != nil {
		return engine.Written{}, mapped.err
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
		return false
	}
	rec := m.in.RecordBatch()
	out, err := m.prog.Apply(m.mem, rec, m.where)
	m.where.Row += rec.NumRows()
	if err != nil {
		m.err = err
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
