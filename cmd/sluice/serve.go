package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/hockeystack/sluice/engine/clickhouse"
	"github.com/hockeystack/sluice/engine/config"
	"github.com/hockeystack/sluice/engine/exec"
	"github.com/hockeystack/sluice/engine/plan"
	"github.com/hockeystack/sluice/engine/serve"
	"github.com/hockeystack/sluice/engine/snowflake"
	"github.com/hockeystack/sluice/engine/state"
)

// runArgs is the job of running one stream of one pipeline.
type runArgs struct {
	Pipeline string `json:"pipeline"`
	Stream   string `json:"stream"`
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
	s *server
}

func (w *runWorker) Work(ctx context.Context, job *river.Job[runArgs]) error {
	return w.s.work(ctx, job)
}

// served is one pipeline folder and its last plan that compiled.
type served struct {
	dir   string
	l     loaded
	sched *serve.Schedule
}

// server is `sluice serve`: River schedules and runs the streams of every
// folder, the state file holds the queue, the ledger and the history.
type server struct {
	e          *env
	dirs       []string
	connsPath  string
	st         *state.Store
	log        *slog.Logger
	metrics    *serve.Metrics
	maxPerConn int
	perJob     int
	timeout    time.Duration
	retryBase  time.Duration
	hook       func(string) // SLUICE_TEST_CRASH, for tests
	now        func() time.Time
	client     *river.Client[*sql.Tx]

	mu       sync.Mutex
	folders  map[string]*served // by pipeline name
	handles  []rivertype.PeriodicJobHandle
	slots    map[string]chan struct{} // concurrent streams per connection
	problems map[string]string        // folder -> why its last reload failed
}

// runServe runs every pipeline folder on its schedule until SIGTERM or
// SIGINT; SIGHUP reloads the folders.
func runServe(e *env, args []string) int {
	fs := newFlags(e, "serve")
	conns := connectionsFlag(fs)
	statePath := stateFlag(e, fs)
	listen := fs.String("listen", "127.0.0.1:9464", "`address` of /healthz and /metrics (empty: none)")
	workers := fs.Int("workers", 4, "streams run at once")
	perConn := fs.Int("per-connection", 2, "streams at once on one connection, so one customer's warehouse is not flooded")
	grace := fs.Duration("grace", 5*time.Minute, "on SIGTERM, how long running windows may take to finish before they are stopped (and re-run cleanly later)")
	perJob := fs.Int("windows-per-job", 1, "windows a job runs before it hands the stream back to the queue, for any worker to go on")
	retryBase := fs.Duration("retry-after", 30*time.Second, "first wait before a failed stream is tried again; it doubles each attempt, up to 30 minutes")
	timeout := fs.Duration("window-timeout", 2*time.Hour, "a job (one window) running longer is stopped and retried; a dead worker's job is taken up elsewhere soon after this")
	dirs, err := parseArgs(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(dirs) == 0 {
		return usageError(e, fs, "want at least one pipeline folder")
	}
	st, err := state.Open(*statePath)
	if err != nil {
		fmt.Fprintf(e.stderr, "sluice serve: %v\n", err)
		return exitProblems
	}
	defer st.Close()
	s := &server{e: e, dirs: dirs, connsPath: *conns, st: st, maxPerConn: *perConn, now: time.Now, perJob: *perJob, timeout: *timeout, retryBase: *retryBase, hook: crashHook(e),
		log: slog.New(slog.NewJSONHandler(e.stderr, nil)), metrics: newServeMetrics(),
		folders: map[string]*served{}, slots: map[string]chan struct{}{}, problems: map[string]string{}}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	// River runs on a context of its own: SIGTERM must not cancel the
	// running windows, only stop new work (client.Stop below).
	if err := s.start(context.Background(), *workers); err != nil {
		fmt.Fprintf(e.stderr, "sluice serve: %v\n", err)
		return exitProblems
	}
	if *listen != "" {
		ln, err := net.Listen("tcp", *listen)
		if err != nil {
			fmt.Fprintf(e.stderr, "sluice serve: %v\n", err)
			return exitProblems
		}
		srv := &http.Server{Handler: s.handler()}
		go srv.Serve(ln)
		defer srv.Close()
		fmt.Fprintf(e.stdout, "sluice serve: %d pipeline(s), /healthz and /metrics on http://%s\n", len(s.folders), ln.Addr())
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-hup:
			s.reload(ctx)
			continue
		case <-ctx.Done():
		}
		break
	}
	s.log.Info("stopping: no new work; running windows may finish", "grace", grace.String())
	stopCtx, cancel := context.WithTimeout(context.Background(), *grace)
	defer cancel()
	if err := s.client.Stop(stopCtx); err != nil {
		s.log.Warn("grace period over: stopping running windows; they re-run cleanly later", "error", err)
		s.client.StopAndCancel(context.Background())
	}
	return exitOK
}

func newServeMetrics() *serve.Metrics {
	m := serve.NewMetrics()
	m.Describe("sluice_rows_total", "counter", "Rows written, by pipeline and stream.")
	m.Describe("sluice_bytes_total", "counter", "Bytes moved (the Arrow size of the rows written), by pipeline and stream.")
	m.Describe("sluice_windows_total", "counter", "Windows run, by pipeline, stream and result.")
	m.Describe("sluice_run_seconds_total", "counter", "Seconds spent running streams.")
	m.Describe("sluice_runs_total", "counter", "Stream runs, by result.")
	m.Describe("sluice_freshness_lag_seconds", "gauge", "Seconds between now and the end of the newest committed window.")
	m.Describe("sluice_pipeline_paused", "gauge", "1 when a pipeline is paused (credentials rejected).")
	return m
}

// start loads the folders, migrates the queue, schedules every stream and
// starts River.
func (s *server) start(ctx context.Context, workers int) error {
	dirs := pipelineFolders(s.dirs)
	if len(dirs) == 0 {
		return fmt.Errorf("no pipeline folder (one with %s) in %s", config.PipelineFileName, strings.Join(s.dirs, ", "))
	}
	for _, d := range dirs {
		f, err := s.loadFolder(d)
		if err != nil {
			return err
		}
		if old, dup := s.folders[f.l.pipeline.Name]; dup {
			return fmt.Errorf("%s and %s are both pipeline %s", old.dir, d, f.l.pipeline.Name)
		}
		s.folders[f.l.pipeline.Name] = f
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
		RetryPolicy:          serve.Backoff{Base: s.retryBase, Max: 30 * time.Minute},
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
func (s *server) loadFolder(dir string) (*served, error) {
	l := load(s.e, dir, s.connsPath)
	if l.diags.HasErrors() {
		var b strings.Builder
		diagsText(&b, l)
		return nil, fmt.Errorf("%s does not validate:\n%s", dir, b.String())
	}
	sched, err := serve.ParseSchedule(l.pipeline.Schedule, l.pipeline.Timezone)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", dir, err)
	}
	return &served{dir: dir, l: l, sched: sched}, nil
}

func diagsText(b *strings.Builder, l loaded) {
	e := &env{stderr: b}
	report(e, l.diags, l.sources)
}

// schedule adds a periodic job per stream on its pipeline's cron, and
// queues once every stream that missed a tick while serve was down.
func (s *server) schedule(ctx context.Context) {
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
		for _, st := range f.l.pipeline.Streams {
			args := runArgs{Pipeline: n, Stream: st.Name}
			s.handles = append(s.handles, s.client.PeriodicJobs().Add(river.NewPeriodicJob(f.sched,
				func() (river.JobArgs, *river.InsertOpts) { return args, nil }, nil)))
			last, err := s.st.LastStarted(ctx, n, st.Name)
			if err != nil {
				s.log.Error("reading the schedule state", "pipeline", n, "stream", st.Name, "error", err)
				continue
			}
			if f.sched.Due(last, s.now()) {
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
func (s *server) reload(ctx context.Context) {
	dirs := pipelineFolders(s.dirs)
	s.mu.Lock()
	for name, f := range s.folders {
		if !slices.Contains(dirs, f.dir) {
			delete(s.folders, name) // its jobs end when they next run
			s.log.Info("reload: folder gone, pipeline no longer served", "folder", f.dir, "pipeline", name)
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
		s.folders[f.l.pipeline.Name] = f
		s.mu.Unlock()
		s.log.Info("reloaded", "folder", d, "pipeline", f.l.pipeline.Name, "schedule", f.sched.Expr)
	}
	s.schedule(ctx)
}

// pipelineFolders are the folders serve runs: each argument that holds a
// pipeline file, else every folder below it that does, sorted.
func pipelineFolders(args []string) []string {
	var out []string
	for _, a := range args {
		if exists(filepath.Join(a, config.PipelineFileName)) {
			out = append(out, a)
			continue
		}
		filepath.WalkDir(a, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && d.Name() == config.PipelineFileName {
				out = append(out, filepath.Dir(p))
			}
			return nil
		})
	}
	return uniqueSorted(out)
}

// slot waits for a free run on a connection.
func (s *server) slot(ctx context.Context, conn string) (func(), error) {
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

// work runs one stream once: its pending windows, then the newest.
func (s *server) work(ctx context.Context, job *river.Job[runArgs]) error {
	args := job.Args
	// The runner's own lines name pipeline, stream and window; these add
	// the job.
	log := s.log.With("job", job.ID, "attempt", job.Attempt)
	named := log.With("pipeline", args.Pipeline, "stream", args.Stream)
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
	for _, c := range f.l.pipeline.Streams {
		if c.Name == args.Stream {
			stream = c
		}
	}
	if stream == nil {
		return river.JobCancel(fmt.Errorf("pipeline %s has no stream %s any more", args.Pipeline, args.Stream))
	}
	// Slots are taken in name order, so a pull (Snowflake then ClickHouse)
	// and a push (the other way) never wait on each other.
	for _, c := range uniqueSorted([]string{stream.Source.Connection, stream.Destination.Connection}) {
		release, err := s.slot(ctx, c)
		if errors.Is(err, errBusy) {
			named.Info("connection busy on other workers: the stream waits its turn", "connection", c)
			return river.JobSnooze(10 * time.Second)
		}
		if err != nil {
			return err
		}
		defer release()
	}
	start := s.now()
	err := s.runStream(ctx, f, stream, log)
	if errors.Is(err, errMore) {
		s.metrics.Add("sluice_run_seconds_total", s.now().Sub(start).Seconds(), "pipeline", args.Pipeline, "stream", args.Stream)
		return river.JobSnooze(0)
	}
	if err != nil && ctx.Err() != nil {
		// Stopping: the window was cut short and re-runs cleanly; the job
		// is queued again without counting an attempt.
		return river.JobSnooze(0)
	}
	s.metrics.Add("sluice_run_seconds_total", s.now().Sub(start).Seconds(), "pipeline", args.Pipeline, "stream", args.Stream)
	result := "ok"
	switch {
	case err == nil:
	case credentialsRejected(err):
		result = "paused"
		reason := fmt.Sprintf("credentials rejected: %v", err)
		if perr := s.st.Pause(context.WithoutCancel(ctx), args.Pipeline, reason, s.now()); perr != nil {
			named.Error("recording the pause", "error", perr)
		}
		s.metrics.Set("sluice_pipeline_paused", 1, "pipeline", args.Pipeline)
		named.Error("credentials rejected: pipeline paused, not retried (repeated failed logins lock the user); resume with sluice resume", "error", err)
		err = river.JobCancel(err)
	default:
		result = "failed"
		named.Error("stream failed; retried with backoff", "error", err)
	}
	s.metrics.Add("sluice_runs_total", 1, "pipeline", args.Pipeline, "stream", args.Stream, "result", result)
	s.freshness(context.WithoutCancel(ctx), args.Pipeline, args.Stream)
	return err
}

// runStream plans a stream against the live databases and runs it.
func (s *server) runStream(ctx context.Context, f *served, stream *config.Stream, log *slog.Logger) error {
	l := f.l
	p := *l.pipeline
	p.Streams = []*config.Stream{stream}
	l.pipeline = &p
	k := openLinks(ctx, s.e, l)
	defer k.close()
	for _, c := range []string{stream.Source.Connection, stream.Destination.Connection} {
		if err := k.need(c); err != nil {
			return err
		}
	}
	pl, ds := plan.Compile(ctx, l.pipeline, plan.Options{Connections: l.connections, Catalogs: k.catalogs()})
	if ds.HasErrors() {
		var b strings.Builder
		diagsText(&b, loaded{diags: ds, sources: l.sources})
		return river.JobCancel(fmt.Errorf("the live plan has problems; fix the pipeline or the destination:\n%s", b.String()))
	}
	es, err := k.stream(stream, pl.Streams[0])
	if err != nil {
		return err
	}
	if s.hook != nil {
		hookSinks([]exec.Stream{es}, s.hook)
	}
	r := &exec.Runner{Pipeline: l.pipeline, State: s.st, Retries: 2, Backoff: 2 * time.Second, Log: log, Hook: s.hook,
		Progress: func(name string, w exec.Slot, rows int64, err error) {
			result := "committed"
			if err != nil {
				result = "failed"
			}
			s.metrics.Add("sluice_windows_total", 1, "pipeline", p.Name, "stream", name, "result", result)
			s.metrics.Add("sluice_rows_total", float64(rows), "pipeline", p.Name, "stream", name)
		},
		Moved: func(name string, bytes int64) {
			s.metrics.Add("sluice_bytes_total", float64(bytes), "pipeline", p.Name, "stream", name)
		}}
	sum, err := r.Run(ctx, []exec.Stream{es}, exec.Options{Limit: s.perJob})
	if err == nil && sum.Remaining > 0 {
		// Hand the stream back: the next window goes to whichever worker
		// takes the job first.
		return errMore
	}
	return err
}

// errMore says a stream has windows left after this job's share.
var errMore = errors.New("more windows due")

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

// credentialsRejected reports a login the database refused: retrying it
// would only lock the user.
func credentialsRejected(err error) bool {
	return snowflake.CredentialsRejected(err) || clickhouse.CredentialsRejected(err)
}

// freshness sets the lag gauge from the ledger.
func (s *server) freshness(ctx context.Context, pipeline, stream string) {
	ws, err := s.st.Windows(ctx, pipeline, stream)
	if err != nil {
		return
	}
	var newest time.Time
	for _, w := range ws {
		if w.State == state.Committed && w.End.After(newest) {
			newest = w.End
		}
	}
	if !newest.IsZero() {
		s.metrics.Set("sluice_freshness_lag_seconds", s.now().Sub(newest).Seconds(), "pipeline", pipeline, "stream", stream)
	}
}

// handler serves /healthz and /metrics.
func (s *server) handler() http.Handler {
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
		s.mu.Unlock()
		sort.Strings(names)
		var paused []string
		for _, n := range names {
			if reason, _, ok, _ := s.st.Paused(r.Context(), n); ok {
				paused = append(paused, n+": "+reason)
				s.metrics.Set("sluice_pipeline_paused", 1, "pipeline", n)
			} else {
				s.metrics.Set("sluice_pipeline_paused", 0, "pipeline", n)
			}
		}
		fmt.Fprintf(w, "ok: %d pipeline(s), %d paused, %d folder(s) failing to reload\n", len(names), len(paused), problems)
		for _, p := range paused {
			fmt.Fprintf(w, "paused %s\n", p)
		}
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		s.metrics.Write(w)
	})
	return mux
}

// runResume lets serve run a paused pipeline again.
func runResume(e *env, args []string) int {
	fs := newFlags(e, "resume")
	statePath := stateFlag(e, fs)
	names, err := parseArgs(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(names) == 0 {
		return usageError(e, fs, "want a pipeline name")
	}
	st, err := state.Open(*statePath)
	if err != nil {
		fmt.Fprintf(e.stderr, "sluice resume: %v\n", err)
		return exitProblems
	}
	defer st.Close()
	for _, n := range names {
		n = strings.TrimSuffix(filepath.Base(n), string(filepath.Separator))
		if err := st.Resume(context.Background(), n); err != nil && !errors.Is(err, sql.ErrNoRows) {
			fmt.Fprintf(e.stderr, "sluice resume: %v\n", err)
			return exitProblems
		}
		fmt.Fprintf(e.stdout, "%s: resumed\n", n)
	}
	return exitOK
}
