package main

import (
	"context"
	"fmt"
	"log/slog"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/hockeystack/sluice/engine"
	"github.com/hockeystack/sluice/engine/exec"
	"github.com/hockeystack/sluice/engine/pipeline"
	"github.com/hockeystack/sluice/engine/state"
)

// stateFlag adds --state to a flag set.
func stateFlag(e *env, fs interface {
	String(name, value, usage string) *string
}) *string {
	def := e.getenv("SLUICE_STATE")
	if def == "" {
		def = filepath.Join(".sluice", "state.db")
	}
	return fs.String("state", def, "state `file` holding the window ledger and run history ($SLUICE_STATE)")
}

// runRun runs a pipeline once: the missing backfill windows, then the
// incremental window.
func runRun(e *env, args []string) int {
	fs := newFlags(e, "run")
	conns := connectionsFlag(fs)
	statePath := stateFlag(e, fs)
	only := fs.String("stream", "", "run only this `stream`")
	parallel := fs.Int("parallel", 1, "windows of an upsert stream to load at once")
	dirs, err := parseArgs(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(dirs) != 1 {
		return usageError(e, fs, "want exactly one pipeline folder, got %d", len(dirs))
	}
	return execute(e, dirs[0], *conns, *statePath, *only, exec.Options{}, *parallel)
}

// runBackfill runs (again) every window in a range.
func runBackfill(e *env, args []string) int {
	fs := newFlags(e, "backfill")
	conns := connectionsFlag(fs)
	statePath := stateFlag(e, fs)
	only := fs.String("stream", "", "backfill only this `stream`")
	from := fs.String("from", "", "first `date` (2024-01-01 or RFC 3339), in the pipeline's time zone")
	to := fs.String("to", "", "end `date`, exclusive (default: now)")
	parallel := fs.Int("parallel", 1, "windows of an upsert stream to load at once")
	dirs, err := parseArgs(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(dirs) != 1 || *from == "" {
		return usageError(e, fs, "want one pipeline folder and --from")
	}
	l := load(e, dirs[0], *conns)
	loc := l.Pipeline.Location
	if loc == nil {
		loc = time.UTC // the folder has errors; execute reports them
	}
	opts := exec.Options{Force: true}
	if opts.From, err = parseWhen(*from, loc); err != nil {
		return usageError(e, fs, "--from: %v", err)
	}
	if *to != "" {
		if opts.To, err = parseWhen(*to, loc); err != nil {
			return usageError(e, fs, "--to: %v", err)
		}
	}
	return execute(e, dirs[0], *conns, *statePath, *only, opts, *parallel)
}

func parseWhen(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339, s)
}

// execute loads, plans against the live databases, and runs. A run that
// cannot start (a connection fails, the live plan has problems) is in
// the history too, failed, with why.
func execute(e *env, dir, connsPath, statePath, only string, opts exec.Options, parallel int) int {
	l := load(e, dir, connsPath)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var st *state.Store
	if l.Pipeline.Name != "" {
		var err error
		if st, err = state.Open(statePath); err != nil {
			return e.fail("sluice", err)
		}
		defer st.Close()
	}
	began := time.Now()
	failed := func(why error) {
		if st != nil {
			st.FailedStart(context.WithoutCancel(ctx), l.Pipeline.Name, began, fmt.Errorf("did not start: %w", why))
		}
	}
	k, p, why, code := liveStreamsWhy(ctx, e, &l, dir, only)
	if code != exitOK {
		failed(why)
		return code
	}
	defer k.Close()
	streams, err := k.Streams(p)
	if err != nil {
		fmt.Fprintf(e.stderr, "sluice: %v\n", err)
		failed(err)
		return exitProblems
	}
	prog := newProgress(e)
	r := exec.NewRunner(l.Pipeline.Name, st)
	r.Parallel, r.Planned, r.Progress, r.Hook = parallel, prog.planned, prog.window, crashHook(e)
	r.Log = slog.New(slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: prog.logLevel()}))
	start := time.Now()
	sum, err := r.Run(ctx, streams, opts)
	prog.done()
	if err != nil {
		return e.fail("sluice", err)
	}
	elapsed := time.Since(start)
	fmt.Fprintf(e.stdout, "%s: %d windows, %d rows in %s\n", l.Pipeline.Name, sum.Windows, sum.Rows, elapsed.Round(time.Millisecond))
	return exitOK
}

// runState shows a pipeline's windows and recent runs.
func runState(e *env, args []string) int {
	fs := newFlags(e, "state")
	conns := connectionsFlag(fs)
	statePath := stateFlag(e, fs)
	dirs, err := parseArgs(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(dirs) != 1 {
		return usageError(e, fs, "want exactly one pipeline folder")
	}
	l, st, code := openPipelineState(e, dirs[0], *conns, *statePath, "sluice")
	if code != exitOK {
		return code
	}
	defer st.Close()
	ctx := context.Background()
	ws, err := st.Windows(ctx, l.Pipeline.Name, "")
	if err != nil {
		return e.fail("sluice", err)
	}
	fmt.Fprintf(e.stdout, "Pipeline %s (state %s)\n\nWindows:\n", l.Pipeline.Name, *statePath)
	for _, w := range ws {
		mark := ""
		if !w.Complete {
			mark = " (partial)"
		}
		line := fmt.Sprintf("  %-22s %s..%s%s  %-9s %8d rows  %d attempt(s)", w.Stream, w.Start.Format(time.RFC3339), w.End.Format(time.RFC3339), mark, w.State, w.Rows, w.Attempts)
		if w.Error != "" {
			line += "  " + w.Error
		}
		fmt.Fprintln(e.stdout, line)
	}
	wms, err := st.Watermarks(ctx, l.Pipeline.Name)
	if err != nil {
		return e.fail("sluice", err)
	}
	fmt.Fprintln(e.stdout, "\nWatermarks (end of the newest committed window):")
	for _, s := range l.Pipeline.Streams {
		for _, wm := range wms {
			if wm.Stream == s.Name {
				fmt.Fprintf(e.stdout, "  %-22s %s\n", s.Name, wm.End.Format(time.RFC3339))
			}
		}
	}
	runs, err := st.Runs(ctx, l.Pipeline.Name, 10)
	if err != nil {
		return e.fail("sluice", err)
	}
	fmt.Fprintln(e.stdout, "\nRecent runs:")
	for _, r := range runs {
		line := fmt.Sprintf("  #%d %s %-9s %d windows, %d rows", r.ID, r.Started.Format(time.RFC3339), r.Status, r.Windows, r.Rows)
		if r.Error != "" {
			line += ": " + r.Error
		}
		fmt.Fprintln(e.stdout, line)
	}
	return exitOK
}

// openPipelineState loads a folder far enough to name its pipeline and
// opens the state it is recorded in. It reports problems itself, each
// line starting with prefix, and returns a non-zero exit code with them;
// the caller closes the state.
func openPipelineState(e *env, dir, conns, statePath, prefix string) (loaded, *state.Store, int) {
	l := load(e, dir, conns)
	if l.Pipeline.Name == "" {
		report(e, l.Diags, l.Sources)
		return l, nil, exitProblems
	}
	st, err := state.Open(statePath)
	if err != nil {
		fmt.Fprintf(e.stderr, "%s: %v\n", prefix, err)
		return l, nil, exitProblems
	}
	return l, st, exitOK
}

// crashHook is $SLUICE_TEST_CRASH's hook (pipeline.CrashHook).
func crashHook(e *env) engine.Hook { return pipeline.CrashHook(e.getenv("SLUICE_TEST_CRASH")) }
