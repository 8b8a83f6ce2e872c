package main

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

// links are the live connections of one command, opened once and shared
// by catalogs, sources and sinks.
type links struct {
	snowflake  map[string]*sql.DB
	clickhouse map[string]chdriver.Conn
	conns      map[string]*config.Connection
	failed     map[string]error
	// bulkRows is $SLUICE_BULK_ROWS: the size from which a push loads
	// through Parquet files and COPY INTO (0: the default, -1: never).
	bulkRows int64
}

// openLinks connects to every connection the pipeline's streams use. A
// connection that cannot be opened is remembered with its error.
func openLinks(ctx context.Context, e *env, l loaded) *links {
	k := newLinks(e)
	used := map[string]bool{}
	for _, s := range l.pipeline.Streams {
		used[s.Source.Connection] = true
		used[s.Destination.Connection] = true
	}
	names := make([]string, 0, len(used))
	for n := range used {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if c := l.connections.Get(n); c != nil {
			k.open(ctx, e, c)
		}
	}
	return k
}

func newLinks(e *env) *links {
	k := &links{snowflake: map[string]*sql.DB{}, clickhouse: map[string]chdriver.Conn{}, conns: map[string]*config.Connection{}, failed: map[string]error{}}
	fmt.Sscan(e.getenv("SLUICE_BULK_ROWS"), &k.bulkRows)
	return k
}

// open connects to c unless it is open already; a failure is remembered
// with its error (see need).
func (k *links) open(ctx context.Context, e *env, c *config.Connection) {
	if _, ok := k.conns[c.Name]; ok {
		return
	}
	k.conns[c.Name] = c
	switch c.Kind {
	case "clickhouse":
		conn, err := clickhouse.Open(ctx, c, e.getenv)
		if err != nil {
			k.failed[c.Name] = err
			return
		}
		k.clickhouse[c.Name] = conn
	case "snowflake":
		db, err := snowflake.Open(ctx, c, e.getenv)
		if err != nil {
			k.failed[c.Name] = err
			return
		}
		k.snowflake[c.Name] = db
	}
}

// forget closes and forgets one connection, so the next open connects
// afresh.
func (k *links) forget(name string) {
	if db, ok := k.snowflake[name]; ok {
		db.Close()
	}
	if c, ok := k.clickhouse[name]; ok {
		c.Close()
	}
	delete(k.snowflake, name)
	delete(k.clickhouse, name)
	delete(k.conns, name)
	delete(k.failed, name)
}

func (k *links) close() {
	for _, db := range k.snowflake {
		db.Close()
	}
	for _, c := range k.clickhouse {
		c.Close()
	}
}

// catalogs returns a catalog per connection; one that failed to open
// reports why, so the plan says it was planned offline.
func (k *links) catalogs() map[string]plan.Catalog {
	cats := map[string]plan.Catalog{}
	for n, err := range k.failed {
		cats[n] = unreachable{err}
	}
	for n, db := range k.snowflake {
		cats[n] = snowflake.NewCatalog(db, k.conns[n].Database, k.conns[n].Schema)
	}
	for n, c := range k.clickhouse {
		cats[n] = clickhouse.NewCatalog(c, k.conns[n].Database)
	}
	return cats
}

// need returns the error of a connection that did not open.
func (k *links) need(name string) error {
	if err, ok := k.failed[name]; ok {
		return err
	}
	if _, ok := k.snowflake[name]; ok {
		return nil
	}
	if _, ok := k.clickhouse[name]; ok {
		return nil
	}
	return fmt.Errorf("connection %s is not open", name)
}

// source is the source of a connection that is open.
func (k *links) source(name string) engine.Source {
	if db, ok := k.snowflake[name]; ok {
		return snowflake.NewSource(db, nil)
	}
	return clickhouse.NewSource(k.clickhouse[name], nil)
}

// stream wires a planned stream to its source and sink: a pull reads
// Snowflake and writes ClickHouse, a push the other way round.
func (k *links) stream(s *config.Stream, ps *plan.Stream) (exec.Stream, error) {
	for _, n := range []string{s.Source.Connection, s.Destination.Connection} {
		if err := k.need(n); err != nil {
			return exec.Stream{}, err
		}
	}
	window := ""
	if c := s.WindowColumn(); c != nil {
		window = c.Name
	}
	out := exec.Stream{Config: s, Source: k.source(s.Source.Connection)}
	var err error
	if s.Direction == config.Push {
		n := s.Destination.Connection
		db := k.snowflake[n]
		sink, err := snowflake.NewSink(db, snowflake.NewCatalog(db, k.conns[n].Database, k.conns[n].Schema), ps, window)
		if err != nil {
			return out, err
		}
		sink.BulkRows = k.bulkRows
		out.Sink = sink
		return out, nil
	}
	v := serverVersion(ps)
	out.Ranges = v.TimeRanges()
	out.Sink, err = clickhouse.NewSink(k.clickhouse[s.Destination.Connection], ps, v, window)
	return out, err
}

// unreachable is the catalog of a connection that could not be opened.
type unreachable struct{ err error }

func (u unreachable) Server(context.Context) (string, string, error) { return "", "", u.err }
func (u unreachable) DescribeQuery(context.Context, string, map[string]any) ([]plan.LiveColumn, error) {
	return nil, u.err
}
func (u unreachable) DescribeTable(context.Context, string) ([]plan.LiveColumn, error) {
	return nil, u.err
}
