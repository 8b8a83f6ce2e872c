package serve

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/hockeystack/sluice/engine"
	"github.com/hockeystack/sluice/engine/config"
	"github.com/hockeystack/sluice/engine/connect"
	"github.com/hockeystack/sluice/engine/diag"
	"github.com/hockeystack/sluice/engine/exec"
	"github.com/hockeystack/sluice/engine/pipeline"
	"github.com/hockeystack/sluice/engine/plan"
	"github.com/hockeystack/sluice/engine/state"
)

// runArgs is the job of running one tick of one stream of one pipeline:
// the windows due at the tick's cut. A job runs --windows-per-job of them
// and snoozes with the same args, so the next job goes on in the same cut
// (a window committed in it is not run again) until none is left. Only
// pipeline and stream make a job unique: a tick that finds the stream's
// previous tick still going adds nothing.
type runArgs struct {
	Pipeline string    `json:"pipeline" river:"unique"`
	Stream   string    `json:"stream" river:"unique"`
	Cut      time.Time `json:"cut"`
}

func (runArgs) Kind() string { return "sluice_run" }

// InsertOpts make a stream's job unique while one is waiting or running:
// two instances of a stream never run at once, and a tick that finds one
// queued adds nothing.
func (runArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable, rivertype.JobStateRunning, rivertype.JobStateScheduled,
	}}}
}

type runWorker struct {
	river.WorkerDefaults[runArgs]
	s *Daemon
}

func (w *runWorker) Work(ctx context.Context, job *river.Job[runArgs]) error {
	return w.s.work(ctx, job)
}

// served is one pipeline folder and its last plan that compiled.
type served struct {
	dir   string
	l     pipeline.Folder
	sched *config.Schedule
}

// Config is how a Daemon runs.
type Config struct {
	Dirs            []string // pipeline folders, or folders holding them
	ConnectionsFile string   // --connections ("" finds it as pipeline.Load does)
	State           *state.Store
	Getenv          func(string) string // secrets, SLUICE_TEST_CRASH, SLUICE_OPERATOR_TOKEN
	Log             *slog.Logger
	Workers         int           // streams run at once
	PerConnection   int           // streams at once on one Snowflake connection
	WindowsPerJob   int           // windows a job runs before it hands the stream back
	WindowTimeout   time.Duration // a job running longer is stopped and retried
	RetryAfter      time.Duration // first backoff of a failed stream
	AlertWebhook    string        // serve's own webhook ("" none)
	AlertBehind     time.Duration // alert when data is older (0: two schedule intervals)
	Now             func() time.Time
}

// Daemon is `sluice serve`: River schedules and runs the streams of every
// folder, the state holds the queue, the ledger and the history.
type Daemon struct {
	dirs       []string
	connsPath  string
	getenv     func(string) string
	workers    int
	st         *state.Store
	log        *slog.Logger
	metrics    *Metrics
	maxPerConn int
	perJob     int
	timeout    time.Duration
	retryBase  time.Duration
	hook       engine.Hook // SLUICE_TEST_CRASH, for tests
	now        func() time.Time
	client     *river.Client[*sql.Tx]

	// stopping is closed on Stop: no window starts after it.
	stopping chan struct{}

	mu       sync.Mutex
	folders  map[string]*served // by pipeline name
	handles  []rivertype.PeriodicJobHandle
	slots    map[string]chan struct{} // concurrent streams per connection
	problems map[string]string        // folder -> why its last reload failed
	live     map[runKey]*liveStream   // streams planned live, kept between jobs
	ticks    map[runKey]*tickCount    // the running tick of each stream
	pool     *connect.Pool            // open connections, shared by definition
	failing  map[runKey]string        // streams whose last run failed, and why
	drift    map[runKey]string        // streams whose last verify found windows that differ from the ledger

	running map[runKey]bool // streams with a job running on this worker

	alerts      *Alerts // serve's webhook and each pipeline's own
	alertBehind time.Duration
	// operatorToken, when set ($SLUICE_OPERATOR_TOKEN), allows the
	// status page's actions.
	operatorToken string
}

// New returns a daemon for cfg; Start starts it.
func New(cfg Config) *Daemon {
	if cfg.Getenv == nil {
		cfg.Getenv = func(string) string { return "" }
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Daemon{dirs: cfg.Dirs, connsPath: cfg.ConnectionsFile, getenv: cfg.Getenv, workers: max(1, cfg.Workers), st: cfg.State,
		maxPerConn: cfg.PerConnection, now: cfg.Now, perJob: cfg.WindowsPerJob, timeout: cfg.WindowTimeout, retryBase: cfg.RetryAfter,
		hook: pipeline.CrashHook(cfg.Getenv("SLUICE_TEST_CRASH")), log: cfg.Log, metrics: newMetrics(), stopping: make(chan struct{}),
		folders: map[string]*served{}, slots: map[string]chan struct{}{}, problems: map[string]string{}, live: map[runKey]*liveStream{}, ticks: map[runKey]*tickCount{},
		pool: connect.NewPool(pipeline.Options(cfg.Getenv)), failing: map[runKey]string{}, drift: map[runKey]string{}, running: map[runKey]bool{},
		alertBehind: cfg.AlertBehind, operatorToken: cfg.Getenv("SLUICE_OPERATOR_TOKEN")}
	s.alerts = NewAlerts(cfg.AlertWebhook, s.log.With("component", "alerts"))
	return s
}

// Pipelines is how many pipelines the daemon serves.
func (s *Daemon) Pipelines() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.folders)
}

// Run checks each stream it has run against its ledger every verifyEvery
// (0: never) and watches for alerts every alertEvery, until ctx ends or
// the daemon stops.
func (s *Daemon) Run(ctx context.Context, verifyEvery, alertEvery time.Duration) {
	if verifyEvery > 0 {
		go s.verifyLoop(ctx, verifyEvery)
	}
	go s.watchAlerts(ctx, alertEvery)
}

// Reload finds the folders again and re-reads each (see reload).
func (s *Daemon) Reload(ctx context.Context) { s.reload(ctx) }

// Stop starts no window from now on and lets the running ones finish
// within grace; after it they are stopped, and re-run cleanly later.
func (s *Daemon) Stop(grace time.Duration) {
	s.log.Info("stopping: no new work; running windows may finish", "grace", grace.String())
	close(s.stopping)
	stopCtx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := s.client.Stop(stopCtx); err != nil {
		s.log.Warn("grace period over: stopping running windows; they re-run cleanly later", "error", err)
		s.client.StopAndCancel(context.Background())
	}
}

// Close forgets every live plan, closes every pooled connection and the
// alerts' sender.
func (s *Daemon) Close() {
	s.closeLive()
	s.alerts.Close()
}

// alertCheckEvery is how often serve looks for pipelines paused, resumed
// or behind to alert on.
var alertCheckEvery = 15 * time.Second

// runKey names a stream of a pipeline.
type runKey struct{ pipeline, stream string }

// liveStream is a stream planned against the live databases and wired to
// its connections, kept from one job to the next so that a tick costs the
// customer's warehouse its source queries and nothing else: no login, no
// describe. A job that fails drops it, and the next one plans afresh; so
// does a reload of the folder.
type liveStream struct {
	folder *served
	stream exec.Stream
}

// tickCount adds up a tick's jobs on this worker, for the per-tick gauges.
type tickCount struct {
	cut                     time.Time
	windows, reads, repeats int
}

func newMetrics() *Metrics {
	m := NewMetrics()
	m.Describe("sluice_rows_total", "counter", "Rows written, by pipeline and stream.")
	m.Describe("sluice_bytes_total", "counter", "Bytes moved (the Arrow size of the rows written), by pipeline and stream.")
	m.Describe("sluice_windows_total", "counter", "Windows run, by pipeline, stream and result.")
	m.Describe("sluice_run_seconds_total", "counter", "Seconds spent running streams.")
	m.Describe("sluice_runs_total", "counter", "Stream runs, by result.")
	m.Describe("sluice_freshness_lag_seconds", "gauge", "Seconds between now and the end of the newest committed window.")
	m.Describe("sluice_pipeline_paused", "gauge", "1 when a pipeline is paused (credentials rejected).")
	m.Describe("sluice_source_queries_total", "counter", "Queries sent to the source, retries included, by pipeline and stream.")
	m.Describe("sluice_windows_repeated_total", "counter", "Windows run again in the tick that had committed them already (should stay 0), by pipeline and stream.")
	m.Describe("sluice_ticks_total", "counter", "Ticks a stream finished (every window due at the tick's cut committed), by pipeline and stream.")
	m.Describe("sluice_tick_windows", "gauge", "Windows the stream's last finished tick committed on this worker.")
	m.Describe("sluice_tick_source_queries", "gauge", "Source queries the stream's last finished tick sent from this worker.")
	m.Describe("sluice_windows_drifted", "gauge", "Committed windows whose destination digest differed from the ledger at the stream's last verify (sluice verify --repair runs them again).")
	m.Describe("sluice_verifications_total", "counter", "Verifications of a stream against its ledger, by result (match, drift, error).")
	return m
}

// Start loads the folders, migrates the queue, schedules every stream and
// starts River on ctx, which should outlive a stop signal: stopping
// cancels no running window (Stop does that, after the grace period).
func (s *Daemon) Start(ctx context.Context) error {
	workers := s.workers
	dirs := pipeline.Folders(s.dirs)
	if len(dirs) == 0 {
		return fmt.Errorf("no pipeline folder (one with %s) in %s", config.PipelineFileName, strings.Join(s.dirs, ", "))
	}
	for _, d := range dirs {
		f, err := s.loadFolder(d)
		if err != nil {
			return err
		}
		if old, dup := s.folders[f.l.Pipeline.Name]; dup {
			return fmt.Errorf("%s and %s are both pipeline %s", old.dir, d, f.l.Pipeline.Name)
		}
		s.adopt(f)
	}
	// One machine: River's SQLite driver on the state file. Several:
	// its database/sql driver on the shared Postgres, where River elects
	// one leader to fire the cron and spreads the jobs over the workers.
	var drv riverdriver.Driver[*sql.Tx] = riversqlite.New(s.st.DB())
	if s.st.Postgres() {
		drv = riverdatabasesql.New(s.st.DB())
	}
	m, err := rivermigrate.New(drv, nil)
	if err != nil {
		return err
	}
	if err := migrateOnce(ctx, s.st, m); err != nil {
		return fmt.Errorf("preparing the job queue in the state: %w", err)
	}
	w := river.NewWorkers()
	river.AddWorker(w, &runWorker{s: s})
	s.client, err = river.NewClient(drv, &river.Config{
		Queues:  map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: workers}},
		Workers: w,
		Logger:  s.log.With("component", "river"),
		// A job runs one window (--windows-per-job); River stops it after
		// the timeout, and takes a job still "running" a little later for
		// a dead worker's: another worker runs its window again, which
		// replaces whatever the dead one wrote.
		JobTimeout:           s.timeout,
		RescueStuckJobsAfter: s.timeout + max(s.timeout/10, 5*time.Second),
		FetchPollInterval:    250 * time.Millisecond, // no LISTEN through database/sql: poll
		// A finished job is kept an hour (River's default is a day): with
		// 500 streams on a one-minute schedule a day of jobs is 720,000
		// rows in the state; the run history keeps what people read.
		CompletedJobRetentionPeriod: time.Hour,
		RetryPolicy:                 Backoff{Base: s.retryBase, Max: 30 * time.Minute},
	})
	if err != nil {
		return err
	}
	if err := s.client.Start(ctx); err != nil {
		return err
	}
	s.schedule(ctx)
	return nil
}

// loadFolder loads a folder and compiles it offline; it must be clean.
func (s *Daemon) loadFolder(dir string) (*served, error) {
	l := pipeline.Load(dir, s.connsPath, s.getenv)
	if l.Diags.HasErrors() {
		var b strings.Builder
		diagsText(&b, l)
		return nil, fmt.Errorf("%s does not validate:\n%s", dir, b.String())
	}
	return &served{dir: dir, l: l, sched: l.Pipeline.Cron}, nil
}

// adopt serves a pipeline.Folder folder, its alerts going where the folder says;
// the caller holds s.mu.
func (s *Daemon) adopt(f *served) {
	p := f.l.Pipeline
	s.folders[p.Name] = f
	url := ""
	if p.Alerts != nil && p.Alerts.Webhook != nil {
		var err error
		if url, err = p.Alerts.Webhook.Resolve(s.getenv); err != nil {
			s.log.Error("the pipeline's alert webhook cannot be read: its alerts go to serve's webhook only", "pipeline", p.Name, "webhook", p.Alerts.Webhook.String(), "error", err)
		}
	}
	s.alerts.SetPipeline(p.Name, url)
}

func diagsText(b *strings.Builder, l pipeline.Folder) {
	diag.Render(b, l.Diags, l.Sources)
}

// schedule adds a periodic job per stream on its pipeline's cron, and
// queues once every stream that missed a tick while serve was down.
func (s *Daemon) schedule(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.client.PeriodicJobs().RemoveMany(s.handles)
	s.handles = nil
	names := make([]string, 0, len(s.folders))
	for n := range s.folders {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f := s.folders[n]
		for _, st := range f.l.Pipeline.Streams {
			args := runArgs{Pipeline: n, Stream: st.Name}
			s.handles = append(s.handles, s.client.PeriodicJobs().Add(river.NewPeriodicJob(f.sched,
				func() (river.JobArgs, *river.InsertOpts) {
					a := args
					a.Cut = s.now().UTC()
					return a, nil
				}, nil)))
			args.Cut = s.now().UTC()
			last, err := s.st.LastStarted(ctx, n, st.Name)
			if err != nil {
				s.log.Error("reading the schedule state", "pipeline", n, "stream", st.Name, "error", err)
				continue
			}
			if Due(f.sched, last, s.now()) {
				if _, err := s.client.Insert(ctx, args, nil); err != nil {
					s.log.Error("queueing a missed run", "pipeline", n, "stream", st.Name, "error", err)
				}
			}
		}
	}
}

// reload finds the folders again and re-reads each: one that validates
// replaces its plan (a new one is scheduled); one that does not keeps its
// last good plan and reports why; one that is gone is no longer served.
func (s *Daemon) reload(ctx context.Context) {
	dirs := pipeline.Folders(s.dirs)
	s.mu.Lock()
	for name, f := range s.folders {
		if !slices.Contains(dirs, f.dir) {
			delete(s.folders, name) // its jobs end when they next run
			s.log.Info("reload: folder gone, pipeline no longer served", "folder", f.dir, "pipeline", name)
		}
	}
	for k := range s.live {
		if s.folders[k.pipeline] == nil {
			delete(s.live, k)
		}
	}
	s.mu.Unlock()
	for _, d := range dirs {
		f, err := s.loadFolder(d)
		s.mu.Lock()
		if err != nil {
			s.problems[d] = err.Error()
			s.mu.Unlock()
			s.log.Error("reload: keeping the last good plan", "folder", d, "problems", err.Error())
			continue
		}
		delete(s.problems, d)
		s.adopt(f)
		s.mu.Unlock()
		s.log.Info("reloaded", "folder", d, "pipeline", f.l.Pipeline.Name, "schedule", f.sched.Expr)
	}
	s.schedule(ctx)
}

// slot waits for a free run on a connection.
func (s *Daemon) slot(ctx context.Context, conn string) (func(), error) {
	s.mu.Lock()
	ch := s.slots[conn]
	if ch == nil {
		ch = make(chan struct{}, max(1, s.maxPerConn))
		s.slots[conn] = ch
	}
	s.mu.Unlock()
	select {
	case ch <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-s.stopping:
		return nil, errStopping
	}
	// Across machines sharing a Postgres state, the same cap holds.
	release, ok, err := s.st.Slot(ctx, "connection:"+conn, max(1, s.maxPerConn))
	if err != nil || !ok {
		<-ch
		if err == nil {
			err = errBusy
		}
		return nil, err
	}
	return func() { release(); <-ch }, nil
}

// errBusy says a connection has as many streams running as it may.
var errBusy = errors.New("the connection is busy")

// errStopping says serve is stopping: no window starts.
var errStopping = errors.New("serve is stopping")

// work runs one job of a stream's tick: the oldest windows due at the
// tick's cut, up to --windows-per-job.
func (s *Daemon) work(ctx context.Context, job *river.Job[runArgs]) error {
	args := job.Args
	key := runKey{args.Pipeline, args.Stream}
	// The runner's own lines name pipeline, stream and window; these add
	// the job.
	log := s.log.With("job", job.ID, "attempt", job.Attempt)
	named := log.With("pipeline", args.Pipeline, "stream", args.Stream)
	if s.isStopping() {
		return river.JobSnooze(0)
	}
	s.mu.Lock()
	f := s.folders[args.Pipeline]
	s.mu.Unlock()
	if f == nil {
		return river.JobCancel(fmt.Errorf("pipeline %s is no longer served", args.Pipeline))
	}
	if reason, _, paused, err := s.st.Paused(ctx, args.Pipeline); err != nil {
		return err
	} else if paused {
		named.Warn("pipeline paused: not running", "reason", reason)
		return nil
	}
	if err := s.st.Started(ctx, args.Pipeline, args.Stream, s.now()); err != nil {
		return err
	}
	var stream *config.Stream
	for _, c := range f.l.Pipeline.Streams {
		if c.Name == args.Stream {
			stream = c
		}
	}
	if stream == nil {
		return river.JobCancel(fmt.Errorf("pipeline %s has no stream %s any more", args.Pipeline, args.Stream))
	}
	// A stream runs after the streams it reads from have finished the
	// ticks queued for them (see config's order).
	if len(stream.Upstream) > 0 {
		busy, err := s.upstreamBusy(ctx, args.Pipeline, stream.Upstream)
		if err != nil {
			return err
		}
		if busy != "" {
			named.Info("waiting for an upstream stream to finish its tick", "upstream", busy)
			return river.JobSnooze(2 * time.Second)
		}
	}
	// A customer's warehouse (a Snowflake connection) runs at most
	// --per-connection streams at once; our ClickHouse serves every
	// customer and is bounded by the workers alone. A stream holds one
	// customer connection, so slots never wait on each other.
	for _, c := range streamConnections(stream) {
		if conn := f.l.Connections.Get(c); conn == nil || conn.Kind != config.Snowflake {
			continue
		}
		release, err := s.slot(ctx, c)
		if errors.Is(err, errBusy) {
			named.Info("connection busy on other workers: the stream waits its turn", "connection", c)
			return river.JobSnooze(10 * time.Second)
		}
		if errors.Is(err, errStopping) {
			return river.JobSnooze(0)
		}
		if err != nil {
			return err
		}
		defer release()
	}
	cut := args.Cut
	if cut.IsZero() {
		cut = s.now().UTC() // a job queued by a version without cuts
	}
	s.mu.Lock()
	s.running[key] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.running, key)
		s.mu.Unlock()
	}()
	start := s.now()
	sum, err := s.runStream(ctx, f, key, stream, cut, log)
	s.metrics.Add("sluice_source_queries_total", float64(sum.Reads), "pipeline", args.Pipeline, "stream", args.Stream)
	s.metrics.Add("sluice_windows_repeated_total", float64(sum.Repeats), "pipeline", args.Pipeline, "stream", args.Stream)
	s.countTick(key, cut, sum, err == nil && sum.Remaining == 0)
	if err == nil && sum.Remaining > 0 {
		// Hand the stream back: the tick's next window goes to whichever
		// worker takes the job first, in the same cut.
		s.metrics.Add("sluice_run_seconds_total", s.now().Sub(start).Seconds(), "pipeline", args.Pipeline, "stream", args.Stream)
		return river.JobSnooze(0)
	}
	if err != nil && ctx.Err() != nil {
		// Stopping: the window was cut short and re-runs cleanly; the job
		// is queued again without counting an attempt.
		return river.JobSnooze(0)
	}
	s.metrics.Add("sluice_run_seconds_total", s.now().Sub(start).Seconds(), "pipeline", args.Pipeline, "stream", args.Stream)
	outcome, reason := Decide(err)
	switch outcome {
	case OutcomePaused:
		if perr := s.st.Pause(context.WithoutCancel(ctx), args.Pipeline, reason, s.now()); perr != nil {
			named.Error("recording the pause", "error", perr)
		}
		s.metrics.Set("sluice_pipeline_paused", 1, "pipeline", args.Pipeline)
		named.Error("credentials rejected: pipeline paused, not retried (repeated failed logins lock the user); resume with sluice resume", "error", err)
		err = river.JobCancel(err)
	case OutcomeFailed:
		named.Error("stream failed; retried with backoff", "error", err)
	}
	s.metrics.Add("sluice_runs_total", 1, "pipeline", args.Pipeline, "stream", args.Stream, "result", string(outcome))
	s.mu.Lock()
	if outcome == OutcomeFailed {
		s.failing[key] = err.Error()
	} else {
		delete(s.failing, key)
	}
	s.mu.Unlock()
	switch outcome {
	case OutcomeFailed:
		s.failedOrRecovered(args.Pipeline, args.Stream, err)
	case OutcomeOK:
		s.failedOrRecovered(args.Pipeline, args.Stream, nil)
	case OutcomePaused:
		s.alerts.Raise(args.Pipeline, AlertPaused, fmt.Sprintf("stream %s: credentials rejected; resume with sluice resume %s", args.Stream, args.Pipeline))
	}
	s.freshness(context.WithoutCancel(ctx), args.Pipeline, args.Stream)
	return err
}

// upstreamBusy names the first of a pipeline's streams that has a job
// waiting or running, or "".
func (s *Daemon) upstreamBusy(ctx context.Context, pipeline string, streams []string) (string, error) {
	params := river.NewJobListParams().Kinds(runArgs{}.Kind()).First(1000).States(
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable, rivertype.JobStateRunning, rivertype.JobStateScheduled)
	for {
		// Page through the whole queue: a stream missed on a page not
		// read would let this one run on its upstream's old data.
		res, err := s.client.JobList(ctx, params)
		if err != nil {
			return "", fmt.Errorf("listing the queue: %w", err)
		}
		for _, j := range res.Jobs {
			var a runArgs
			if json.Unmarshal(j.EncodedArgs, &a) == nil && a.Pipeline == pipeline && slices.Contains(streams, a.Stream) {
				return a.Stream, nil
			}
		}
		if len(res.Jobs) < 1000 || res.LastCursor == nil {
			return "", nil
		}
		params = params.After(res.LastCursor)
	}
}

func (s *Daemon) isStopping() bool {
	select {
	case <-s.stopping:
		return true
	default:
		return false
	}
}

// countTick adds a job's windows to its tick's count; when the tick is
// done, the per-tick gauges take its totals.
func (s *Daemon) countTick(key runKey, cut time.Time, sum exec.Summary, done bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.ticks[key]
	if t == nil || !t.cut.Equal(cut) {
		t = &tickCount{cut: cut}
		s.ticks[key] = t
	}
	t.windows += sum.Windows
	t.reads += sum.Reads
	t.repeats += sum.Repeats
	if !done {
		return
	}
	delete(s.ticks, key)
	s.metrics.Add("sluice_ticks_total", 1, "pipeline", key.pipeline, "stream", key.stream)
	s.metrics.Set("sluice_tick_windows", float64(t.windows), "pipeline", key.pipeline, "stream", key.stream)
	s.metrics.Set("sluice_tick_source_queries", float64(t.reads), "pipeline", key.pipeline, "stream", key.stream)
}

// runStream runs one job of a stream's tick cut at cut, on the stream as
// last planned live (planning it first if need be).
func (s *Daemon) runStream(ctx context.Context, f *served, key runKey, stream *config.Stream, cut time.Time, log *slog.Logger) (exec.Summary, error) {
	ls, err := s.liveStream(ctx, f, key, stream)
	if err != nil {
		return exec.Summary{}, err
	}
	p := f.l.Pipeline
	r := exec.NewRunner(p.Name, s.st)
	r.Log, r.Hook, r.Now = log, s.hook, s.now
	r.Progress = func(name string, w exec.Slot, rows int64, err error) {
		result := "committed"
		if err != nil {
			result = "failed"
		}
		s.metrics.Add("sluice_windows_total", 1, "pipeline", p.Name, "stream", name, "result", result)
		s.metrics.Add("sluice_rows_total", float64(rows), "pipeline", p.Name, "stream", name)
	}
	r.Moved = func(name string, bytes int64) {
		s.metrics.Add("sluice_bytes_total", float64(bytes), "pipeline", p.Name, "stream", name)
	}
	sum, err := r.Run(ctx, []exec.Stream{ls.stream}, exec.Options{Limit: s.perJob, Cut: cut, Stopping: s.stopping})
	if err != nil {
		s.dropLive(key, ls)
	}
	return sum, err
}

// liveStream returns the stream as planned live for this folder's plan,
// planning and connecting it when there is none.
func (s *Daemon) liveStream(ctx context.Context, f *served, key runKey, stream *config.Stream) (*liveStream, error) {
	s.mu.Lock()
	ls := s.live[key]
	s.mu.Unlock()
	if ls != nil && ls.folder == f {
		return ls, nil
	}
	if ls != nil {
		s.dropLive(key, ls)
	}
	l := f.l
	p := *l.Pipeline
	p.Streams = []*config.Stream{stream}
	l.Pipeline = &p
	k, err := s.pool.View(ctx, l.Connections, streamConnections(stream)...)
	if err != nil {
		return nil, err
	}
	pl, ds := plan.Compile(ctx, l.Pipeline, plan.Options{Connections: l.Connections, Catalogs: k.Catalogs()})
	if ds.HasErrors() {
		var b strings.Builder
		diagsText(&b, pipeline.Folder{Diags: ds, Sources: l.Sources})
		return nil, river.JobCancel(fmt.Errorf("the live plan has problems; fix the pipeline or the destination:\n%s", b.String()))
	}
	es, err := k.Stream(pl.Streams[0])
	if err != nil {
		return nil, err
	}
	ls = &liveStream{folder: f, stream: es}
	s.mu.Lock()
	s.live[key] = ls
	s.mu.Unlock()
	return ls, nil
}

// dropLive forgets a stream's live plan.
func (s *Daemon) dropLive(key runKey, ls *liveStream) {
	s.mu.Lock()
	if s.live[key] == ls {
		delete(s.live, key)
	}
	s.mu.Unlock()
}

// closeLive forgets every live plan and closes every pooled connection.
func (s *Daemon) closeLive() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.live)
	s.pool.Close()
}

// migrateOnce brings River's tables up to date; workers starting together
// on Postgres take turns.
func migrateOnce(ctx context.Context, st *state.Store, m *rivermigrate.Migrator[*sql.Tx]) error {
	if !st.Postgres() {
		_, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		return err
	}
	conn, err := st.DB().Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(7336022)`); err != nil {
		return err
	}
	defer conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock(7336022)`)
	_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	return err
}

// freshness sets the lag gauge from the ledger.
func (s *Daemon) freshness(ctx context.Context, pipeline, stream string) {
	ws, err := s.st.Watermarks(ctx, pipeline)
	if err != nil {
		return
	}
	for _, w := range ws {
		if w.Stream == stream {
			s.metrics.Set("sluice_freshness_lag_seconds", s.now().Sub(w.End).Seconds(), "pipeline", pipeline, "stream", stream)
		}
	}
}

// verifyLoop verifies, every interval, each stream this process has run
// (those it holds a live plan for: verifying others would log in to
// customers' warehouses to plan them) against its ledger.
func (s *Daemon) verifyLoop(ctx context.Context, every time.Duration) {
	s.repeat(ctx, every, false, s.verifyLive)
}

// repeat calls f every interval (and once at once when now is set) until
// ctx ends or the daemon stops.
func (s *Daemon) repeat(ctx context.Context, every time.Duration, now bool, f func(context.Context)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if now {
			f(ctx)
		}
		now = true
		select {
		case <-ctx.Done():
			return
		case <-s.stopping:
			return
		case <-t.C:
		}
	}
}

// verifyLive verifies the streams with a live plan once.
func (s *Daemon) verifyLive(ctx context.Context) {
	s.mu.Lock()
	keys := make([]runKey, 0, len(s.live))
	live := map[runKey]*liveStream{}
	for k, ls := range s.live {
		keys = append(keys, k)
		live[k] = ls
	}
	s.mu.Unlock()
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].pipeline < keys[j].pipeline || keys[i].pipeline == keys[j].pipeline && keys[i].stream < keys[j].stream
	})
	for _, key := range keys {
		if ctx.Err() != nil || s.isStopping() {
			return
		}
		named := s.log.With("pipeline", key.pipeline, "stream", key.stream)
		v, err := exec.Verify(ctx, s.st, key.pipeline, live[key].stream)
		if err != nil {
			s.metrics.Add("sluice_verifications_total", 1, "pipeline", key.pipeline, "stream", key.stream, "result", "error")
			named.Warn("verify failed", "error", err)
			continue
		}
		if !v.Verifiable {
			continue
		}
		s.metrics.Set("sluice_windows_drifted", float64(len(v.Drift)), "pipeline", key.pipeline, "stream", key.stream)
		s.mu.Lock()
		if len(v.Drift) == 0 {
			delete(s.drift, key)
		} else {
			s.drift[key] = fmt.Sprintf("%d window(s) differ from the ledger, the first %s; sluice verify --repair runs them again", len(v.Drift), v.Drift[0].Window)
		}
		s.mu.Unlock()
		if len(v.Drift) == 0 {
			s.metrics.Add("sluice_verifications_total", 1, "pipeline", key.pipeline, "stream", key.stream, "result", "match")
			continue
		}
		s.metrics.Add("sluice_verifications_total", 1, "pipeline", key.pipeline, "stream", key.stream, "result", "drift")
		for _, d := range v.Drift {
			named.Error("window differs from the ledger", "window", d.Window.String(), "ledger_rows", d.Ledger.Rows, "destination_rows", d.Now.Rows,
				"ledger_sum", d.Ledger.Sum, "destination_sum", d.Now.Sum)
		}
	}
}

// Handler serves /healthz, /metrics, the status page and its API.
func (s *Daemon) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := s.st.DB().PingContext(r.Context()); err != nil {
			http.Error(w, "state file: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		s.mu.Lock()
		names := make([]string, 0, len(s.folders))
		for n := range s.folders {
			names = append(names, n)
		}
		problems := len(s.problems)
		var failing []string
		for k, why := range s.failing {
			failing = append(failing, fmt.Sprintf("%s/%s: %s", k.pipeline, k.stream, oneLine(why)))
		}
		var drifting []string
		for k, what := range s.drift {
			drifting = append(drifting, fmt.Sprintf("%s/%s: %s", k.pipeline, k.stream, what))
		}
		s.mu.Unlock()
		sort.Strings(names)
		sort.Strings(failing)
		sort.Strings(drifting)
		var paused []string
		for _, n := range names {
			if reason, _, ok, _ := s.st.Paused(r.Context(), n); ok {
				paused = append(paused, n+": "+reason)
				s.metrics.Set("sluice_pipeline_paused", 1, "pipeline", n)
			} else {
				s.metrics.Set("sluice_pipeline_paused", 0, "pipeline", n)
			}
		}
		// Healthy means every stream is getting its data through and its
		// destination holds what the ledger says: a paused pipeline, a
		// failing stream, a folder that no longer loads or a stream whose
		// windows differ from the ledger is not.
		status := "ok"
		if len(paused) > 0 || len(failing) > 0 || problems > 0 || len(drifting) > 0 {
			status = "unhealthy"
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		fmt.Fprintf(w, "%s: %d pipeline(s), %d paused, %d stream(s) failing, %d folder(s) failing to reload, %d stream(s) drifting\n", status, len(names), len(paused), len(failing), problems, len(drifting))
		for _, p := range paused {
			fmt.Fprintf(w, "paused %s\n", p)
		}
		for _, f := range failing {
			fmt.Fprintf(w, "failing %s\n", f)
		}
		for _, d := range drifting {
			fmt.Fprintf(w, "drifting %s\n", d)
		}
	})
	s.statusHandlers(mux)
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		s.metrics.Write(w)
	})
	return mux
}

// oneLine is an error on one line: its first line, and the next one too
// when the first ends in a colon (a plan's problems follow it), without
// River's wrapper.
func oneLine(s string) string {
	s = strings.TrimPrefix(s, "JobCancelError: ")
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	switch {
	case len(lines) == 0:
		return ""
	case len(lines) > 1 && strings.HasSuffix(lines[0], ":"):
		return lines[0] + " " + lines[1]
	}
	return lines[0]
}

// streamConnections names the connections a stream reads and writes,
// once each, sorted (the order slots are taken in).
func streamConnections(s *config.Stream) []string {
	return slices.Compact(slices.Sorted(slices.Values([]string{s.Source.Connection, s.Destination.Connection})))
}
