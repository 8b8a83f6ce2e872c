package main

import (
	"context"
	"fmt"
	"log/slog"
	"os/signal"
	"syscall"

	"github.com/hockeystack/sluice/engine/exec"
	"github.com/hockeystack/sluice/engine/state"
)

// runVerify recomputes each committed window's digest from the
// destination and lists the windows that differ from the ledger;
// --repair runs exactly those again.
func runVerify(e *env, args []string) int {
	fs := newFlags(e, "verify")
	conns := connectionsFlag(fs)
	statePath := stateFlag(e, fs)
	only := fs.String("stream", "", "verify only this `stream`")
	repair := fs.Bool("repair", false, "run the windows that differ again, then verify them")
	dirs, err := parseArgs(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(dirs) != 1 {
		return usageError(e, fs, "want exactly one pipeline folder, got %d", len(dirs))
	}
	l := load(e, dirs[0], *conns)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	k, p, code := liveStreams(ctx, e, &l, dirs[0], *only)
	if code != exitOK {
		return code
	}
	defer k.Close()
	st, err := state.Open(*statePath)
	if err != nil {
		return e.fail("sluice", err)
	}
	defer st.Close()
	streams, err := k.Streams(p)
	if err != nil {
		return e.fail("sluice", err)
	}
	drift, err := verifyStreams(ctx, e, st, l.Pipeline.Name, streams)
	if err != nil {
		return e.fail("sluice", err)
	}
	if len(drift) == 0 {
		return exitOK
	}
	if !*repair {
		fmt.Fprintf(e.stdout, "%d window(s) differ from the ledger; sluice verify --repair runs them again\n", len(drift))
		return exitProblems
	}
	r := exec.NewRunner(l.Pipeline.Name, st)
	r.Log = slog.New(slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	for _, d := range drift {
		opts := exec.Options{Force: true}
		if !d.Window.IsZero() {
			opts.From, opts.To = d.Window.Start, d.Window.End
		}
		if _, err := r.Run(ctx, []exec.Stream{d.Stream}, opts); err != nil {
			fmt.Fprintf(e.stderr, "sluice: repairing %s %s: %v\n", d.Stream.Name(), d.Window, err)
			return exitProblems
		}
	}
	fmt.Fprintf(e.stdout, "ran %d window(s) again; verifying them\n", len(drift))
	left, err := verifyStreams(ctx, e, st, l.Pipeline.Name, driftStreams(drift))
	if err != nil {
		return e.fail("sluice", err)
	}
	if len(left) > 0 {
		fmt.Fprintf(e.stdout, "%d window(s) still differ after the repair\n", len(left))
		return exitProblems
	}
	fmt.Fprintln(e.stdout, "repaired: every window matches the ledger")
	return exitOK
}

func driftStreams(ds []exec.Drifted) []exec.Stream {
	var out []exec.Stream
	seen := map[string]bool{}
	for _, d := range ds {
		if !seen[d.Stream.Name()] {
			seen[d.Stream.Name()] = true
			out = append(out, d.Stream)
		}
	}
	return out
}

// verifyStreams verifies the streams, prints a line a window that
// differs and one a stream, and returns the windows that differ.
func verifyStreams(ctx context.Context, e *env, st *state.Store, pipeline string, streams []exec.Stream) ([]exec.Drifted, error) {
	var out []exec.Drifted
	for _, s := range streams {
		v, err := exec.Verify(ctx, st, pipeline, s)
		if err != nil {
			return nil, err
		}
		if !v.Verifiable {
			fmt.Fprintf(e.stdout, "%s: not verifiable: its destination keeps no digest\n", s.Name())
			continue
		}
		for _, d := range v.Drift {
			fmt.Fprintln(e.stdout, d)
		}
		fmt.Fprintf(e.stdout, "%s: %s\n", s.Name(), v)
		out = append(out, v.Drift...)
	}
	return out, nil
}
