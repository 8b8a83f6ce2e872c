// Package config loads pipeline folders and connections files into checked,
// position-carrying models. It never does I/O beyond reading the files it is
// pointed at: no network, no databases.
//
// Loading collects every problem it finds, not just the first, as
// diag.Diagnostics that point at file:line:col. A pipeline with errors is
// still returned, as far as it could be read, so callers can show partial
// results; only a pipeline without errors may be planned.
package config

import (
	"time"

	"github.com/hockeystack/sluice/engine/ddl"
	"github.com/hockeystack/sluice/engine/diag"
	"github.com/hockeystack/sluice/engine/sqltype"
)

// DefaultSchedule is the cron schedule of a pipeline that sets none: daily
// at midnight in the pipeline's time zone.
const DefaultSchedule = "0 0 * * *"

// Pipeline is a loaded pipeline folder with defaults applied to every stream.
type Pipeline struct {
	// Dir is the folder as it was named to Load; File is its pipeline.yaml.
	Dir, File   string
	Name        string
	Description string
	Schedule    string // cron expression, as written
	Timezone    string // IANA name, as written
	// Location is the time zone Timezone names, and Cron the schedule
	// parsed in it: read once here, never parsed again.
	Location *time.Location
	Cron     *Schedule
	// Alerts are where serve posts this pipeline's alerts besides its
	// own --alert-webhook; nil when the folder sets none.
	Alerts *Alerts
	// Streams are sorted by name.
	Streams []*Stream
	// Files holds the contents of every file read, by display path, for
	// rendering diagnostics with snippets.
	Files diag.Sources
}

// Alerts is a pipeline's alerts: section.
type Alerts struct {
	// Webhook names the environment variable holding the webhook URL (a
	// secret: never in the folder); nil for none.
	Webhook *Secret
	// Behind, when set, is how old a stream's data may be before it is
	// alerted on.
	Behind time.Duration
}

// Direction says which way a stream moves data.
type Direction string

const (
	// Pull reads the customer's Snowflake and writes our ClickHouse.
	Pull Direction = "pull"
	// Push reads our ClickHouse and writes the customer's Snowflake.
	Push Direction = "push"
)

// Kind is the kind of database a connection reaches.
type Kind string

// The kinds of connection.
const (
	Snowflake  Kind = "snowflake"
	ClickHouse Kind = "clickhouse"
)

// Mode is a destination's write mode.
type Mode string

// The write modes. Which modes a destination supports depends on its kind:
// ClickHouse takes append, upsert and replace; Snowflake append, merge and
// replace.
const (
	Append  Mode = "append"
	Upsert  Mode = "upsert"
	Merge   Mode = "merge"
	Replace Mode = "replace"
)

// Stream is one source query mapped into one destination table.
type Stream struct {
	Name        string
	Pos         diag.Pos // the stream's key in pipeline.yaml
	Description string
	Direction   Direction
	Source      Source
	// Incremental is nil for a stream that reads everything every run.
	Incremental *Incremental
	Filter      *Expr
	Columns     []*Column // in declaration order
	Destination Destination
	// After names the streams this one runs after, as written (after:),
	// at AfterPos; Upstream is every stream it runs after, those and the
	// ones that write a table its query reads (Reads), sorted.
	After    []string
	AfterPos []diag.Pos
	Upstream []string
	Reads    []TableRead
}

// Column returns the destination column called name, or nil.
func (s *Stream) Column(name string) *Column {
	for _, c := range s.Columns {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Source is where a stream reads.
type Source struct {
	Connection     string
	ConnectionKind Kind
	ConnectionPos  diag.Pos
	// QueryFile is relative to the pipeline folder; QueryPath is its display
	// path; SQL its text.
	QueryFile, QueryPath string
	QueryPos             diag.Pos
	SQL                  string
	// Placeholders are the :names the query uses, in order of first use.
	Placeholders []string
	// Columns are the query's result column names as far as they can be
	// read from the SQL without a database; nil when they cannot (SELECT *).
	Columns []string
}

// Incremental describes windowed reads over a cursor column.
type Incremental struct {
	Cursor    string
	CursorPos diag.Pos
	// Start is where the backfill begins, in the pipeline's time zone.
	Start     time.Time
	StartText string
	Window    Span
	Lookback  Span
}

// Column is one destination column and where its values come from: a
// source column (From) or an expression (Expr), exactly one of them.
type Column struct {
	Name string
	Pos  diag.Pos
	From string
	// FromPos is the position of the from: value, or of the column's key
	// when from was implied by the column's name.
	FromPos    diag.Pos
	Expr       *Expr
	Type       sqltype.Type
	TypeText   string
	TypePos    diag.Pos
	Default    *string // literal text of the default, nil when none
	AllowLossy bool
}

// Source returns the column's source: the source column name or the
// expression text.
func (c *Column) Source() string {
	if c.Expr != nil {
		return c.Expr.Text
	}
	return c.From
}

// Expr is an expr-lang expression from pipeline.yaml with the position of
// its first character.
type Expr struct {
	Text string
	Pos  diag.Pos
	// at maps a character offset in Text to its position in the file.
	at func(offset int) diag.Pos
}

// At returns the file position of the character at offset in Text.
func (e *Expr) At(offset int) diag.Pos {
	if e.at == nil {
		return e.Pos
	}
	return e.at(offset)
}

// Destination is where a stream writes.
type Destination struct {
	Connection     string
	ConnectionKind Kind
	ConnectionPos  diag.Pos
	Table          string
	TablePos       diag.Pos
	Mode           Mode
	ModePos        diag.Pos
	Key            []string
	KeyPos         diag.Pos
	Version        string
	VersionPos     diag.Pos
	// Partition and OrderBy are parsed from partition: and order_by:
	// (ClickHouse), over the stream's columns; the DDL is written from
	// them. Partition is nil when unset; PartitionText is as written.
	Partition     *ddl.KeyExpr
	PartitionText string
	PartitionPos  diag.Pos
	OrderBy       []ddl.KeyExpr
	OrderByPos    diag.Pos
	Create        bool
}
