package clickhouse

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/hockeystack/sluice/engine"
	"github.com/hockeystack/sluice/engine/ddl"
)

// Runner sends statements to a ClickHouse server and reads results as
// text. The sink gives clickhouse-go's connection; the tests of current
// releases give chdb, so the same code runs on both.
type Runner interface {
	Exec(ctx context.Context, q string) error
	// Strings runs a query whose columns are all String.
	Strings(ctx context.Context, q string) ([][]string, error)
}

// ConnRunner runs statements on a clickhouse-go connection.
type ConnRunner struct{ Conn driver.Conn }

func (r ConnRunner) Exec(ctx context.Context, q string) error { return r.Conn.Exec(ctx, q) }

func (r ConnRunner) Strings(ctx context.Context, q string) ([][]string, error) {
	rows, err := r.Conn.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][]string
	n := len(rows.Columns())
	for rows.Next() {
		row := make([]string, n)
		ptrs := make([]any, n)
		for i := range row {
			ptrs[i] = &row[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

// Appender finishes the writes of an append stream's windows: it moves a
// window's rows from their staging table into the target, replacing the
// window's earlier rows by the server's strategy (ddl.AppendStrategy),
// and reads back the window's digest.
type Appender struct {
	ddl.ClickHouseAppend
	Run Runner
	// MutationWait bounds the wait for a delete (AppendDelete).
	MutationWait time.Duration
	// Hook is called at engine.HookDeleted, engine.HookReplacedPartition and
	// engine.HookAttachedPartition.
	Hook engine.Hook
}

// inWindow is the window condition with the window's bounds as literals.
func (a *Appender) inWindow(w engine.Window) string {
	return a.InWindow(timeLiteral(w.Start), timeLiteral(w.End))
}

// StageName names a window's staging table after the window's start.
func (a *Appender) StageName(w engine.Window) string {
	return a.Stage(w.Start.UTC().Format("20060102T150405"))
}

// Finish moves the rows loaded into stage into the target, in place of
// the window's earlier rows, and checks that the target's window now
// holds exactly rows rows. It does not drop stage.
func (a *Appender) Finish(ctx context.Context, stage string, w engine.Window, rows int64) (engine.Digest, error) {
	in := a.inWindow(w)
	// A staged row outside the window would land where no window owns
	// it: a later window's delete would take it away. Refuse before the
	// target changes.
	outside, err := a.Run.Strings(ctx, a.OutsideWindow(stage, in))
	if err != nil {
		return engine.Digest{}, fmt.Errorf("checking the window's rows: %w", err)
	}
	if len(outside) == 1 && outside[0][0] != "0" {
		return engine.Digest{}, engine.Permanent(fmt.Errorf("column %s: %s row(s) fall outside the window once mapped (%s, for one); the source query and the window column must agree", a.Window, outside[0][0], outside[0][1]))
	}
	staged, err := a.column(ctx, a.StagePartitions(stage))
	if err != nil {
		return engine.Digest{}, fmt.Errorf("listing the staging table's partitions: %w", err)
	}
	switch a.Strategy {
	case ddl.AppendReplace:
		// The partitions to rebuild: those of the new rows, and those
		// holding rows of the window now (rows deleted at the source go
		// with them).
		held, err := a.column(ctx, a.WindowPartitions(in))
		if err != nil {
			return engine.Digest{}, fmt.Errorf("finding partitions: %w", err)
		}
		parts := union(staged, held)
		for _, p := range parts {
			if err := a.Run.Exec(ctx, a.Keep(stage, ddl.QuoteString(p), in)); err != nil {
				return engine.Digest{}, fmt.Errorf("keeping rows outside the window: %w", err)
			}
		}
		for _, p := range parts {
			if err := a.Run.Exec(ctx, a.Replace(stage, ddl.QuoteString(p))); err != nil {
				return engine.Digest{}, fmt.Errorf("replacing partition %s: %w", p, err)
			}
			if err := a.Hook.Call(engine.HookReplacedPartition); err != nil {
				return engine.Digest{}, err
			}
		}
	default:
		if err := a.Run.Exec(ctx, a.Delete(in)); err != nil {
			return engine.Digest{}, fmt.Errorf("deleting the window's earlier rows: %w", err)
		}
		if err := a.waitMutations(ctx); err != nil {
			return engine.Digest{}, err
		}
		if err := a.Hook.Call(engine.HookDeleted); err != nil {
			return engine.Digest{}, err
		}
		for _, p := range staged {
			if err := a.Run.Exec(ctx, a.Attach(stage, ddl.QuoteString(p))); err != nil {
				return engine.Digest{}, fmt.Errorf("attaching partition %s: %w", p, err)
			}
			if err := a.Hook.Call(engine.HookAttachedPartition); err != nil {
				return engine.Digest{}, err
			}
		}
	}
	d, err := a.Digest(ctx, w)
	if err != nil {
		return engine.Digest{}, err
	}
	if d.Rows != rows {
		return engine.Digest{}, engine.Permanent(fmt.Errorf("the window wrote %d rows but %s holds %d in it: rows there that the window's column does not place in it as the source query did, or another writer", rows, a.Table, d.Rows))
	}
	return d, nil
}

// AttachAll attaches every partition of stage to the target: how an
// upsert window's rows reach it once all of them are staged.
func (a *Appender) AttachAll(ctx context.Context, stage string) error {
	staged, err := a.column(ctx, a.StagePartitions(stage))
	if err != nil {
		return fmt.Errorf("listing the staging table's partitions: %w", err)
	}
	for _, p := range staged {
		if err := a.Run.Exec(ctx, a.Attach(stage, ddl.QuoteString(p))); err != nil {
			return fmt.Errorf("attaching partition %s: %w", p, err)
		}
		if err := a.Hook.Call(engine.HookAttachedPartition); err != nil {
			return err
		}
	}
	return nil
}

// waitMutations waits until the target has no mutation left to do.
func (a *Appender) waitMutations(ctx context.Context) error {
	limit := a.MutationWait
	if limit <= 0 {
		limit = 30 * time.Minute
	}
	deadline := time.Now().Add(limit)
	pause := 5 * time.Millisecond
	for {
		pending, err := a.Run.Strings(ctx, a.PendingMutations())
		if err != nil {
			return fmt.Errorf("waiting for the delete: %w", err)
		}
		if len(pending) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the delete of the window's earlier rows did not finish within %v: %s has mutation %s (%s) pending", limit, a.Table, pending[0][0], pending[0][1])
		}
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return ctx.Err()
		}
		pause = min(2*pause, time.Second)
	}
}

// Digest reads the target's digest of a window (of the whole table for
// the zero window).
func (a *Appender) Digest(ctx context.Context, w engine.Window) (engine.Digest, error) {
	cond := ""
	if !w.IsZero() {
		cond = a.inWindow(w)
	}
	return digest(ctx, a.Run, a.ClickHouseAppend.Digest(a.Table, cond))
}

func digest(ctx context.Context, r Runner, q string) (engine.Digest, error) {
	rows, err := r.Strings(ctx, q)
	if err != nil {
		return engine.Digest{}, fmt.Errorf("reading the digest: %w", err)
	}
	if len(rows) != 1 || len(rows[0]) != 2 {
		return engine.Digest{}, fmt.Errorf("reading the digest: %d rows", len(rows))
	}
	n, err := strconv.ParseInt(rows[0][0], 10, 64)
	if err != nil {
		return engine.Digest{}, fmt.Errorf("reading the digest: %w", err)
	}
	return engine.Digest{Rows: n, Sum: rows[0][1]}, nil
}

// DropLeftStages drops the target's staging tables that a run stopped
// with the server left behind. Call it before the stream's first window,
// never while another of its windows is writing.
func (a *Appender) DropLeftStages(ctx context.Context) error {
	left, err := a.column(ctx, a.LeftStages())
	if err != nil {
		return fmt.Errorf("looking for staging tables left behind: %w", err)
	}
	db, _, dotted := strings.Cut(a.Table, ".")
	for _, name := range left {
		if dotted {
			name = db + "." + name
		}
		if err := a.Run.Exec(ctx, a.DropStage(name)); err != nil {
			return fmt.Errorf("dropping %s: %w", name, err)
		}
	}
	return nil
}

func (a *Appender) column(ctx context.Context, q string) ([]string, error) {
	rows, err := a.Run.Strings(ctx, q)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r[0]
	}
	return out, nil
}

// union returns the distinct values of a and b, in order of first
// appearance.
func union(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range append(append([]string{}, a...), b...) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
