// Package plan compiles a loaded pipeline into a Plan: for every stream, the
// exact query, windows, column mapping, destination DDL and write strategy
// Sluice would use. Plans are deterministic, so they can be reviewed, diffed
// and golden-tested; the JSON form is the versioned contract and the text
// form is rendered from it.
//
// Compiling does I/O only through Catalogs, which read live schemas; with
// none it works offline from the declared types.
package plan

import (
	"context"
	"errors"

	"github.com/hockeystack/sluice/engine/diag"
)

// FormatVersion is the version of the plan's JSON form. It changes when a
// field changes meaning or is removed; adding fields does not change it.
// Version 2: order_by holds ClickHouse expressions, as partition_by does,
// written as in the DDL (names quoted), no longer column names.
const FormatVersion = 2

// Plan is a compiled pipeline.
type Plan struct {
	FormatVersion int          `json:"format_version"`
	Pipeline      string       `json:"pipeline"`
	Description   string       `json:"description,omitempty"`
	Schedule      Schedule     `json:"schedule"`
	Connections   []Connection `json:"connections"`
	Streams       []*Stream    `json:"streams"`
	// Diagnostics are the problems found while planning, such as lossy
	// conversions and live schema mismatches; positions are relative to the
	// pipeline's parent folder as given.
	Diagnostics []diag.Diagnostic `json:"diagnostics,omitempty"`
}

// Schedule is when incremental runs start.
type Schedule struct {
	Cron     string `json:"cron"`
	Timezone string `json:"timezone"`
	// Summary says the schedule in words: "daily at 03:00".
	Summary string `json:"summary"`
}

// Connection is a connection the pipeline uses. It carries no secrets.
type Connection struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Access string `json:"access"`
	// Live is set when the plan read this connection's live schemas; it
	// names the server, as in "ClickHouse 18.16.1".
	Live string `json:"live,omitempty"`
}

// Stream is one compiled stream.
type Stream struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Direction   string `json:"direction"`
	// After are the streams this one runs after (streams run in the
	// plan's order); Reads says which of their tables its query reads.
	After       []string    `json:"after,omitempty"`
	Reads       []TableRead `json:"reads,omitempty"`
	Source      Source      `json:"source"`
	Windows     *Windows    `json:"windows,omitempty"`
	Filter      string      `json:"filter,omitempty"`
	Columns     []Column    `json:"columns"`
	Destination Destination `json:"destination"`
	// Exec is what runs, compiled with the fields above.
	Exec Exec `json:"-"`
}

// TableRead is a table a stream's query reads that an earlier stream of
// the pipeline writes.
type TableRead struct {
	Table     string `json:"table"`
	WrittenBy string `json:"written_by"`
}

// Source is the read side of a stream.
type Source struct {
	Connection string `json:"connection"`
	Kind       string `json:"kind"`
	QueryFile  string `json:"query_file"`
	// SQL is the query as written; Parameters are what its placeholders
	// are bound to, as parameters, never as text.
	SQL        string      `json:"sql"`
	Parameters []Parameter `json:"parameters,omitempty"`
	// QueryTag is set on every Snowflake query, so the customer can see
	// what each warehouse query was for. {window} is filled per window
	// ("[start, end)" in RFC 3339, or "full"), {cut} with the time the run
	// (a serve tick) cut its windows at (Stream.QueryTag).
	QueryTag string `json:"query_tag,omitempty"`
	// Pending says the query reads a table that an earlier stream of the
	// run creates and that does not exist yet, so it was planned without
	// the live source.
	Pending string `json:"pending,omitempty"`
}

// Parameter is a placeholder of the source query and what binds it.
type Parameter struct {
	Name  string `json:"name"`
	Binds string `json:"binds"`
}

// Windows is how a stream's reads are cut in time.
type Windows struct {
	Cursor   string `json:"cursor"`
	Start    string `json:"start"`
	Size     string `json:"size"`
	Lookback string `json:"lookback"`
	// First lists the first backfill windows; more follow, one per Size,
	// up to the time of the run.
	First []Window `json:"first"`
	// Incremental says what a scheduled run reads once the backfill is done.
	Incremental string `json:"incremental"`
}

// Window is a half-open interval [Start, End) of cursor values, RFC 3339.
type Window struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// Column maps one destination column.
type Column struct {
	Name string `json:"name"`
	// Type is the declared destination type; Create is the type the table
	// is created with on the target server, when it differs.
	Type   string `json:"type"`
	Create string `json:"create_type,omitempty"`
	From   string `json:"from,omitempty"`
	Expr   string `json:"expr,omitempty"`
	// SourceType is the live source column's type; empty offline.
	SourceType string `json:"source_type,omitempty"`
	// Arrow is the Arrow type values travel as.
	Arrow   string `json:"arrow"`
	Default string `json:"default,omitempty"`
	// Fit grades the conversion into the destination: exact, checked,
	// lossy. Note says why when it is not exact.
	Fit  string `json:"fit"`
	Note string `json:"note,omitempty"`
}

// Destination is the write side of a stream.
type Destination struct {
	Connection string   `json:"connection"`
	Kind       string   `json:"kind"`
	Table      string   `json:"table"`
	Mode       string   `json:"mode"`
	Key        []string `json:"key,omitempty"`
	Version    string   `json:"version,omitempty"`
	// Partition and OrderBy are the table's PARTITION BY expression and
	// ORDER BY expressions, written as in the DDL (ClickHouse).
	Partition string   `json:"partition_by,omitempty"`
	OrderBy   []string `json:"order_by,omitempty"`
	Create    bool     `json:"create"`
	// Server is what the DDL was written for: the live server when Live,
	// else the current release (or the version asked for).
	Server string `json:"server"`
	Live   bool   `json:"live"`
	// Exists is "yes" or "no" when the live table was checked, "" offline.
	Exists string `json:"exists,omitempty"`
	DDL    string `json:"ddl"`
	// Strategy says how the write stays atomic and idempotent, and Steps
	// the statements of one window's write, in order.
	Strategy string `json:"strategy"`
	// CursorMoves says, for an incremental append, what becomes of a row
	// whose cursor value changes.
	CursorMoves string   `json:"cursor_moves,omitempty"`
	Steps       []string `json:"steps"`
	// Prepare are the statements run before the stream's first window
	// (ClickHouse): the target checked, created when it may be, and
	// staging tables left by a write that died dropped.
	Prepare []string `json:"prepare,omitempty"`
}

// A Catalog reads the live schema of one connection, without writing or
// reading rows. Implementations are safe for one goroutine at a time.
type Catalog interface {
	// Server names the server and its version: "ClickHouse 18.16.1".
	Server(ctx context.Context) (kind, version string, err error)
	// DescribeQuery returns the result columns of a query without running
	// it; params bind its placeholders.
	DescribeQuery(ctx context.Context, sql string, params map[string]any) ([]TypedColumn, error)
	// DescribeTable returns a table's columns, or ErrNoTable.
	DescribeTable(ctx context.Context, table string) ([]TypedColumn, error)
}

// ErrNoTable is returned by DescribeTable for a table that does not exist.
var ErrNoTable = errors.New("table does not exist")
