// Package engine holds the small contracts between Sluice's parts: a
// Source streams Arrow record batches out of a database, a Sink writes
// them into one. Plans (engine/plan) say what to read and write; exec runs
// them; engine/connect wires concrete connectors to these contracts.
package engine

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
)

// Read is one query to run on a source.
type Read struct {
	// SQL is the query as written in the pipeline, with :name
	// placeholders; Params binds them, as parameters, never as text.
	SQL    string
	Params map[string]any
	// Tag labels the query in the source's history (Snowflake's
	// QUERY_TAG), so the customer can attribute warehouse cost.
	Tag string
}

// A Source runs reads and streams their results. Batches come in one
// schema for the whole read, whatever encoding the database chose for each
// part of it. The caller releases the reader; each batch is valid until
// the next call to Next. Sources are safe for concurrent reads.
type Source interface {
	Read(ctx context.Context, r Read) (array.RecordReader, error)
}

// Window is a half-open interval [Start, End) of a stream's cursor. The
// zero Window stands for a whole, unwindowed read.
type Window struct {
	Start, End time.Time
}

// IsZero reports whether w is the whole-read window.
func (w Window) IsZero() bool { return w.Start.IsZero() && w.End.IsZero() }

func (w Window) String() string {
	if w.IsZero() {
		return "full"
	}
	return "[" + w.Start.Format(time.RFC3339) + ", " + w.End.Format(time.RFC3339) + ")"
}

// A Sink writes a stream's rows into its destination table.
type Sink interface {
	// Prepare checks the destination, creating it when the stream may,
	// before any row moves.
	Prepare(ctx context.Context) error
	// WriteWindow writes all batches of one window and says what it
	// wrote. When it returns nil the rows are durable and have replaced
	// any earlier write of the window; when it fails, re-running the
	// window is safe and leaves no duplicates.
	WriteWindow(ctx context.Context, w Window, rr array.RecordReader) (Written, error)
}

// Written is what a window's write left in the destination.
type Written struct {
	// Rows is how many rows were written.
	Rows int64
	// Digest is the destination's own digest of the window's rows, read
	// back after the write ("" where the destination cannot compute one
	// for a window: upsert, whose rows move between windows). The ledger
	// keeps it, and verify recomputes it.
	Digest Digest
}

// Digest is what a destination holds of one window: its row count and
// a checksum the destination computes over the rows' values.
type Digest struct {
	Rows int64  `json:"rows"`
	Sum  string `json:"sum"`
}

// IsZero reports that no digest was taken.
func (d Digest) IsZero() bool { return d.Sum == "" }

// String is the digest as the ledger stores it: "rows:sum".
func (d Digest) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%d:%s", d.Rows, d.Sum)
}

// ParseDigest reads a digest the ledger stored.
func ParseDigest(s string) Digest {
	rows, sum, ok := strings.Cut(s, ":")
	if !ok {
		return Digest{}
	}
	n, err := strconv.ParseInt(rows, 10, 64)
	if err != nil {
		return Digest{}
	}
	return Digest{Rows: n, Sum: sum}
}

// A Digester recomputes, from the destination, the digest of a window
// it holds now: what sluice verify compares with the ledger.
type Digester interface {
	Digest(ctx context.Context, w Window) (Digest, error)
}

// PermanentError marks a failure that trying again cannot fix: data the
// destination rejects, a missing privilege, a statement the server
// refuses. Runners retry other failures with backoff.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err as a PermanentError; nil stays nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// IsPermanent reports whether err, or an error it wraps, is permanent.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// HookPoint names a point inside a window's run at which a Hook is
// called.
type HookPoint string

// The points a window passes, in order; a sink passes the ones its
// strategy has.
const (
	// HookBegun: the ledger holds the window as loading.
	HookBegun HookPoint = "begun"
	// HookStaged: a sink has loaded the window's rows into a staging table.
	HookStaged HookPoint = "staged"
	// HookInsertedBlock: a ClickHouse sink sent one block of an upsert
	// window straight to the target.
	HookInsertedBlock HookPoint = "inserted-block"
	// HookDeleted: a ClickHouse append deleted the window's earlier rows.
	HookDeleted HookPoint = "deleted"
	// HookReplacedPartition, HookAttachedPartition: a ClickHouse sink
	// swapped or
	// attached one partition of the window.
	HookReplacedPartition HookPoint = "replaced-partition"
	HookAttachedPartition HookPoint = "attached-partition"
	// HookWritten: the sink returned; the ledger is not committed yet.
	HookWritten HookPoint = "written"
	// HookCommitted: the ledger holds the window as committed.
	HookCommitted HookPoint = "committed"
)

// A Hook is called at named points of a window's run so tests can stop
// the process or the server there; an error fails the write at that
// point.
type Hook func(HookPoint) error

// Call calls h at p; a nil Hook does nothing.
func (h Hook) Call(p HookPoint) error {
	if h == nil {
		return nil
	}
	return h(p)
}

// A Hooked sink calls a Hook at the points inside its writes.
type Hooked interface {
	SetHook(Hook)
}
