// Package connect opens the connections a pipeline names and wires its
// planned streams to sources and sinks. Connectors are registered by
// connection kind, so nothing above this package switches on a kind or
// on a concrete source or sink: run, serve, dry-run, verify and test all
// get their streams here.
package connect

import (
	"context"
	"database/sql"
	"fmt"
	"sort"

	chdriver "github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/hockeystack/sluice/engine"
	"github.com/hockeystack/sluice/engine/clickhouse"
	"github.com/hockeystack/sluice/engine/config"
	"github.com/hockeystack/sluice/engine/exec"
	"github.com/hockeystack/sluice/engine/plan"
	"github.com/hockeystack/sluice/engine/snowflake"
)

// Options configure the connections a Links opens.
type Options struct {
	// Getenv resolves the secrets connections name by reference.
	Getenv func(string) string
	// BulkRows is the size from which a push loads through Parquet
	// files and COPY INTO (0: the default, negative: never).
	BulkRows int64
	// Hook is handed to every sink that takes one (engine.Hooked).
	Hook engine.Hook
}

// Conn is one open connection: what a stream reads and writes through.
type Conn interface {
	Catalog() plan.Catalog
	Source() engine.Source
	// Sink writes the planned stream's destination table.
	Sink(s *plan.Stream) (engine.Sink, error)
	Close()
}

// connectors open a connection of each kind.
var connectors = map[config.Kind]func(context.Context, *config.Connection, Options) (Conn, error){
	config.Snowflake:  openSnowflake,
	config.ClickHouse: openClickHouse,
}

// CredentialsRejected reports a login a database refused: retrying it
// would only lock the user.
func CredentialsRejected(err error) bool {
	return snowflake.CredentialsRejected(err) || clickhouse.CredentialsRejected(err)
}

// Links are the live connections of one command, each opened once and
// shared by catalogs, sources and sinks. A connection that fails to open
// is remembered with its error.
type Links struct {
	opts   Options
	conns  map[string]*config.Connection
	open   map[string]Conn
	failed map[string]error
	// owned are the connections this Links closes; a view of a Pool
	// closes none.
	owned bool
}

// New returns Links with nothing open.
func New(opts Options) *Links {
	if opts.Getenv == nil {
		opts.Getenv = func(string) string { return "" }
	}
	return &Links{opts: opts, conns: map[string]*config.Connection{}, open: map[string]Conn{}, failed: map[string]error{}, owned: true}
}

// Pipeline opens every connection the pipeline's streams use.
func Pipeline(ctx context.Context, p *config.Pipeline, conns *config.Connections, opts Options) *Links {
	k := New(opts)
	used := map[string]bool{}
	for _, s := range p.Streams {
		used[s.Source.Connection] = true
		used[s.Destination.Connection] = true
	}
	names := make([]string, 0, len(used))
	for n := range used {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if c := conns.Get(n); c != nil {
			k.Open(ctx, c)
		}
	}
	return k
}

// Open connects to c unless it is open already; a failure is remembered
// (Err tells it).
func (k *Links) Open(ctx context.Context, c *config.Connection) {
	if _, ok := k.conns[c.Name]; ok {
		return
	}
	k.conns[c.Name] = c
	open, ok := connectors[c.Kind]
	if !ok {
		k.failed[c.Name] = fmt.Errorf("connection %s: no connector for kind %q", c.Name, c.Kind)
		return
	}
	conn, err := open(ctx, c, k.opts)
	if err != nil {
		k.failed[c.Name] = err
		return
	}
	k.open[c.Name] = conn
}

// Forget closes and forgets one connection, so the next Open connects
// afresh.
func (k *Links) Forget(name string) {
	if c, ok := k.open[name]; ok && k.owned {
		c.Close()
	}
	delete(k.open, name)
	delete(k.conns, name)
	delete(k.failed, name)
}

// Close closes every connection opened here.
func (k *Links) Close() {
	if !k.owned {
		return
	}
	for _, c := range k.open {
		c.Close()
	}
}

// Catalogs returns a catalog per connection; one that failed to open
// reports why, so planning says the connection could not be read.
func (k *Links) Catalogs() map[string]plan.Catalog {
	cats := map[string]plan.Catalog{}
	for n, err := range k.failed {
		cats[n] = unreachable{err}
	}
	for n, c := range k.open {
		cats[n] = c.Catalog()
	}
	return cats
}

// Err is the error of a connection that did not open, nil for one that
// did.
func (k *Links) Err(name string) error {
	if err, ok := k.failed[name]; ok {
		return err
	}
	if _, ok := k.open[name]; ok {
		return nil
	}
	return fmt.Errorf("connection %s is not open", name)
}

// Conn is an open connection.
func (k *Links) Conn(name string) (Conn, error) {
	if err := k.Err(name); err != nil {
		return nil, err
	}
	return k.open[name], nil
}

// Stream wires a planned stream to its source and sink, handing the
// sink the hook when it takes one.
func (k *Links) Stream(ps *plan.Stream) (exec.Stream, error) {
	src, err := k.Conn(ps.Source.Connection)
	if err != nil {
		return exec.Stream{}, err
	}
	dst, err := k.Conn(ps.Destination.Connection)
	if err != nil {
		return exec.Stream{}, err
	}
	sink, err := dst.Sink(ps)
	if err != nil {
		return exec.Stream{}, err
	}
	if h, ok := sink.(engine.Hooked); ok && k.opts.Hook != nil {
		h.SetHook(k.opts.Hook)
	}
	return exec.Stream{Plan: ps, Source: src.Source(), Sink: sink}, nil
}

// Streams wires every stream of a plan.
func (k *Links) Streams(p *plan.Plan) ([]exec.Stream, error) {
	var out []exec.Stream
	for _, ps := range p.Streams {
		s, err := k.Stream(ps)
		if err != nil {
			return nil, fmt.Errorf("stream %s: %w", ps.Name, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// unreachable is the catalog of a connection that could not be opened.
type unreachable struct{ err error }

func (u unreachable) Server(context.Context) (string, string, error) { return "", "", u.err }
func (u unreachable) DescribeQuery(context.Context, string, map[string]any) ([]plan.TypedColumn, error) {
	return nil, u.err
}
func (u unreachable) DescribeTable(context.Context, string) ([]plan.TypedColumn, error) {
	return nil, u.err
}

// snowflakeConn is a customer's Snowflake account.
type snowflakeConn struct {
	db   *sql.DB
	c    *config.Connection
	opts Options
}

func openSnowflake(ctx context.Context, c *config.Connection, opts Options) (Conn, error) {
	db, err := snowflake.Open(ctx, c, opts.Getenv)
	if err != nil {
		return nil, err
	}
	return &snowflakeConn{db: db, c: c, opts: opts}, nil
}

func (s *snowflakeConn) Catalog() plan.Catalog {
	return snowflake.NewCatalog(s.db, s.c.Database, s.c.Schema)
}
func (s *snowflakeConn) Source() engine.Source { return snowflake.NewSource(s.db, nil) }
func (s *snowflakeConn) Sink(ps *plan.Stream) (engine.Sink, error) {
	sink, err := snowflake.NewSink(s.db, snowflake.NewCatalog(s.db, s.c.Database, s.c.Schema), ps)
	if err != nil {
		return nil, err
	}
	sink.BulkRows = s.opts.BulkRows
	return sink, nil
}
func (s *snowflakeConn) Close() { s.db.Close() }

// DB is the connection's database handle, for what reads Snowflake
// outside a stream (sampling a table into a fixture).
func (s *snowflakeConn) DB() *sql.DB { return s.db }

// clickhouseConn is our ClickHouse.
type clickhouseConn struct {
	conn chdriver.Conn
	c    *config.Connection
}

func openClickHouse(ctx context.Context, c *config.Connection, opts Options) (Conn, error) {
	conn, err := clickhouse.Open(ctx, c, opts.Getenv)
	if err != nil {
		return nil, err
	}
	return &clickhouseConn{conn: conn, c: c}, nil
}

func (h *clickhouseConn) Catalog() plan.Catalog { return clickhouse.NewCatalog(h.conn, h.c.Database) }
func (h *clickhouseConn) Source() engine.Source { return clickhouse.NewSource(h.conn, nil) }
func (h *clickhouseConn) Sink(ps *plan.Stream) (engine.Sink, error) {
	return clickhouse.NewSink(h.conn, ps)
}
func (h *clickhouseConn) Close() { h.conn.Close() }
