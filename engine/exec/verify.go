package exec

import (
	"context"
	"fmt"

	"github.com/hockeystack/sluice/engine"
	"github.com/hockeystack/sluice/engine/state"
)

// Drifted is a committed window whose destination digest is not the
// ledger's.
type Drifted struct {
	Stream      Stream
	Window      engine.Window
	Ledger, Now engine.Digest
}

func (d Drifted) String() string {
	return fmt.Sprintf("%s %s: the ledger has %d rows (sum %s), the destination %d (sum %s)",
		d.Stream.Name(), d.Window, d.Ledger.Rows, d.Ledger.Sum, d.Now.Rows, d.Now.Sum)
}

// Verdict is what verifying a stream found.
type Verdict struct {
	// Verifiable is false when the destination keeps no digest.
	Verifiable bool
	// Checked counts the windows compared; Unknown those committed
	// without a digest.
	Checked, Unknown int
	Drift            []Drifted
}

func (v Verdict) String() string {
	line := fmt.Sprintf("%d window(s) verified", v.Checked)
	if len(v.Drift) > 0 {
		line += fmt.Sprintf(", %d differ", len(v.Drift))
	} else {
		line += ", all match"
	}
	if v.Unknown > 0 {
		line += fmt.Sprintf("; %d committed without a digest (before verify existed, or an upsert)", v.Unknown)
	}
	return line
}

// Verify compares every committed window of a stream with the
// digest the destination computes now. A window that begins loading
// while its digest is read is left out, not reported: its ledger entry
// is read again after the digest and must be unchanged, so a verify
// running beside the stream's own writes (serve) never reports a window
// in the middle of its write as drift.
func Verify(ctx context.Context, st *state.Store, pipeline string, s Stream) (Verdict, error) {
	var v Verdict
	name := s.Name()
	dg, ok := s.Sink.(engine.Digester)
	if !ok {
		return v, nil
	}
	v.Verifiable = true
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
			v.Unknown++
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
		v.Checked++
		if got != want {
			v.Drift = append(v.Drift, Drifted{Stream: s, Window: win, Ledger: want, Now: got})
		}
	}
	return v, nil
}
