// Package engine holds the small contracts between Sluice's parts: a
// Source streams Arrow record batches out of a database, a Sink writes
// them into one. Plans (engine/plan) say what to read and write; exec runs
// them; only cmd/ wires concrete connectors to these contracts.
package engine

import (
	"context"

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
