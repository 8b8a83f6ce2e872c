package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hockeystack/sluice/engine/serve"
	"github.com/hockeystack/sluice/engine/state"
)

// alertCheckEvery is how often serve looks for pipelines paused, resumed
// or behind to alert on.
var alertCheckEvery = 15 * time.Second

// runServe runs every pipeline folder on its schedule until SIGTERM or
// SIGINT; SIGHUP reloads the folders.
func runServe(e *env, args []string) int {
	fs := newFlags(e, "serve")
	conns := connectionsFlag(fs)
	statePath := stateFlag(e, fs)
	listen := fs.String("listen", "127.0.0.1:9464", "`address` of /healthz and /metrics (empty: none)")
	workers := fs.Int("workers", 4, "streams run at once")
	perConn := fs.Int("per-connection", 2, "streams at once on one Snowflake connection, so one customer's warehouse is not flooded (ClickHouse is bounded by --workers)")
	grace := fs.Duration("grace", 5*time.Minute, "on SIGTERM, how long running windows may take to finish before they are stopped (and re-run cleanly later)")
	perJob := fs.Int("windows-per-job", 1, "windows a job runs before it hands the stream back to the queue, for any worker to go on")
	retryBase := fs.Duration("retry-after", 30*time.Second, "first wait before a failed stream is tried again; it doubles each attempt, up to 30 minutes")
	timeout := fs.Duration("window-timeout", 2*time.Hour, "a job (one window) running longer is stopped and retried; a dead worker's job is taken up elsewhere soon after this")
	alertURL := fs.String("alert-webhook", "", "`URL` to post a JSON message to (Slack's incoming-webhook shape) when a pipeline pauses, a stream fails after its retries or falls behind, and when it recovers")
	alertBehind := fs.Duration("alert-behind", 0, "alert when a stream's data is older than this (default: two schedule intervals)")
	verifyEvery := fs.Duration("verify-every", 6*time.Hour, "how often each stream this process runs is verified against its ledger, as sluice verify does (0: never)")
	dirs, err := parseArgs(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(dirs) == 0 {
		return usageError(e, fs, "want at least one pipeline folder")
	}
	st, err := state.Open(*statePath)
	if err != nil {
		return e.fail("sluice serve", err)
	}
	defer st.Close()
	d := serve.New(serve.Config{Dirs: dirs, ConnectionsFile: *conns, State: st, Getenv: e.getenv, Log: slog.New(slog.NewJSONHandler(e.stderr, nil)),
		Workers: *workers, PerConnection: *perConn, WindowsPerJob: *perJob, WindowTimeout: *timeout, RetryAfter: *retryBase,
		AlertWebhook: *alertURL, AlertBehind: *alertBehind})
	defer d.Close()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	// River runs on a context of its own: SIGTERM must not cancel the
	// running windows, only stop new work (Stop below).
	if err := d.Start(context.Background()); err != nil {
		return e.fail("sluice serve", err)
	}
	every := alertCheckEvery
	if v, err := time.ParseDuration(e.getenv("SLUICE_TEST_ALERT_EVERY")); err == nil && v > 0 {
		every = v // tests look more often
	}
	d.Run(ctx, *verifyEvery, every)
	if *listen != "" {
		ln, err := net.Listen("tcp", *listen)
		if err != nil {
			return e.fail("sluice serve", err)
		}
		srv := &http.Server{Handler: d.Handler()}
		go srv.Serve(ln)
		defer srv.Close()
		fmt.Fprintf(e.stdout, "sluice serve: %d pipeline(s), /healthz and /metrics on http://%s\n", d.Pipelines(), ln.Addr())
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-hup:
			d.Reload(ctx)
			continue
		case <-ctx.Done():
		}
		break
	}
	d.Stop(*grace)
	return exitOK
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
		return e.fail("sluice resume", err)
	}
	defer st.Close()
	code := exitOK
	ctx := context.Background()
	for _, n := range names {
		n = strings.TrimSuffix(filepath.Base(n), string(filepath.Separator))
		known, err := st.Known(ctx, n)
		if err != nil {
			return e.fail("sluice resume", err)
		}
		if !known {
			fmt.Fprintf(e.stderr, "sluice resume: the state %s has no pipeline %s\n", *statePath, n)
			code = exitProblems
			continue
		}
		_, _, paused, err := st.Paused(ctx, n)
		if err == nil && paused {
			err = st.Resume(ctx, n)
		}
		if err != nil {
			return e.fail("sluice resume", err)
		}
		if paused {
			fmt.Fprintf(e.stdout, "%s: resumed\n", n)
		} else {
			fmt.Fprintf(e.stdout, "%s: not paused\n", n)
		}
	}
	return code
}
