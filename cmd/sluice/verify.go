package main

import (
	"context"
	"fmt"
	"log/slog"
	"os/signal"
	"syscall"

	"github.com/hockeystack/sluice/engine"
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
		fmt.Fprintf(e.stderr, "sluice: %v\n", err)
		return exitProblems
	}
	defer st.Close()
	streams, err := k.Streams(p)
	if err != nil {
		fmt.Fprintf(e.stderr, "sluice: %v\n", err)
		return exitProblems
	}
	drift, err := verifyStreams(ctx, e, st, l.pipeline.Name, streams)
	if err != nil {
		fmt.Fprintf(e.stderr, "sluice: %v\n", err)
		return exitProblems
	}
	if len(drift) == 0 {
		return exitOK
	}
	if !*repair {
		fmt.Fprintf(e.stdout, "%d window(s) differ from the ledger; sluice verify --repair runs them again\n", len(drift))
		return exitProblems
	}
	r := exec.NewRunner(l.pipeline.Name, st)
	r.Log = slog.New(slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	for _, d := range drift {
		opts := exec.Options{Force: true}
		if !d.window.IsZero() {
			opts.From, opts.To = d.window.Start, d.window.End
		}
		if _, err := r.Run(ctx, []exec.Stream{d.stream}, opts); err != nil {
			fmt.Fprintf(e.stderr, "sluice: repairing %s %s: %v\n", d.stream.Name(), d.window, err)
			return exitProblems
		}
	}
	fmt.Fprintf(e.stdout, "ran %d window(s) again; verifying them\n", len(drift))
	left, err := verifyStreams(ctx, e, st, l.pipeline.Name, driftStreams(drift))
	if err != nil {
		fmt.Fprintf(e.stderr, "sluice: %v\n", err)
		return exitProblems
	}
	if len(left) > 0 {
		fmt.Fprintf(e.stdout, "%d window(s) still differ after the repair\n", len(left))
		return exitProblems
	}
	fmt.Fprintln(e.stdout, "repaired: every window matches the ledger")
	return exitOK
}

// drifted is a committed window whose destination digest is not the
// ledger's.
type drifted struct {
	stream      exec.Stream
	window      engine.Window
	ledger, now engine.Digest
}

func (d drifted) String() string {
	return fmt.Sprintf("%s %s: the ledger has %d rows (sum %s), the destination %d (sum %s)",
		d.stream.Name(), d.window, d.ledger.Rows, d.ledger.Sum, d.now.Rows, d.now.Sum)
}

func driftStreams(ds []drifted) []exec.Stream {
	var out []exec.Stream
	seen := map[string]bool{}
	for _, d := range ds {
		if !seen[d.stream.Name()] {
			seen[d.stream.Name()] = true
			out = append(out, d.stream)
		}
	}
	return out
}

// verdict is what verifying a stream found.
type verdict struct {
	// verifiable is false when the destination keeps no digest.
	verifiable bool
	// checked counts the windows compared; unknown those committed
	// without a digest.
	checked, unknown int
	drift            []drifted
}

func (v verdict) String() string {
	line := fmt.Sprintf("%d window(s) verified", v.checked)
	if len(v.drift) > 0 {
		line += fmt.Sprintf(", %d differ", len(v.drift))
	} else {
		line += ", all match"
	}
	if v.unknown > 0 {
		line += fmt.Sprintf("; %d committed without a digest (before verify existed, or an upsert)", v.unknown)
	}
	return line
}

// verifyStream compares every committed window of a stream with the
// digest the destination computes now. A window that begins loading
// while its digest is read is left out, not reported: its ledger entry
// is read again after the digest and must be unchanged, so a verify
// running beside the stream's own writes (serve) never reports a window
// in the middle of its write as drift.
func verifyStream(ctx context.Context, st *state.Store, pipeline string, s exec.Stream) (verdict, error) {
	var v verdict
	name := s.Name()
	dg, ok := s.Sink.(engine.Digester)
	if !ok {
		return v, nil
	}
	v.verifiable = true
	ws, err := st.Windows(ctx, pipeline, name)
	if err != nil {
		return v, err
	}
	for _, w := range ws {
		if w.State != state.Committed {
			continue
		}
		want := engine.ParseDigest(w.Digest)
		if want.IsZero() {
			v.unknown++
			continue
		}
		win := engine.Window{}
		if s.Plan.Exec.Incremental != nil {
			win = engine.Window{Start: w.Start, End: w.End}
		}
		got, err := dg.Digest(ctx, win)
		if err != nil {
			return v, fmt.Errorf("stream %s, window %s: %w", name, win, err)
		}
		again, ok, err := st.Window(ctx, pipeline, name, w.Start)
		if err != nil {
			return v, err
		}
		if !ok || again.State != state.Committed || !again.Updated.Equal(w.Updated) || again.Digest != w.Digest {
			continue // written while it was read
		}
		v.checked++
		if got != want {
			v.drift = append(v.drift, drifted{stream: s, window: win, ledger: want, now: got})
		}
	}
	return v, nil
}

// verifyStreams verifies the streams, prints a line a window that
// differs and one a stream, and returns the windows that differ.
func verifyStreams(ctx context.Context, e *env, st *state.Store, pipeline string, streams []exec.Stream) ([]drifted, error) {
	var out []drifted
	for _, s := range streams {
		v, err := verifyStream(ctx, st, pipeline, s)
		if err != nil {
			return nil, err
		}
		if !v.verifiable {
			fmt.Fprintf(e.stdout, "%s: not verifiable: its destination keeps no digest\n", s.Name())
			continue
		}
		for _, d := range v.drift {
			fmt.Fprintln(e.stdout, d)
		}
		fmt.Fprintf(e.stdout, "%s: %s\n", s.Name(), v)
		out = append(out, v.drift...)
	}
	return out, nil
}
