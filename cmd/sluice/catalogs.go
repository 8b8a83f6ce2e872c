package main

import (
	"context"
	"sort"

	"github.com/hockeystack/sluice/engine/clickhouse"
	"github.com/hockeystack/sluice/engine/plan"
	"github.com/hockeystack/sluice/engine/snowflake"
)

// openCatalogs opens a live catalog for every connection the pipeline
// uses. A connection that cannot be opened gets a catalog that reports why,
// so the plan says it was planned offline. It returns a function that
// closes every connection opened.
func openCatalogs(ctx context.Context, e *env, l loaded) (map[string]plan.Catalog, func()) {
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
	cats := map[string]plan.Catalog{}
	var closers []func() error
	for _, n := range names {
		c := l.connections.Get(n)
		if c == nil {
			continue
		}
		switch c.Kind {
		case "clickhouse":
			conn, err := clickhouse.Open(ctx, c, e.getenv)
			if err != nil {
				cats[n] = unreachable{err}
				continue
			}
			closers = append(closers, conn.Close)
			cats[n] = clickhouse.NewCatalog(conn, c.Database)
		case "snowflake":
			db, err := snowflake.Open(ctx, c, e.getenv)
			if err != nil {
				cats[n] = unreachable{err}
				continue
			}
			closers = append(closers, db.Close)
			cats[n] = snowflake.NewCatalog(db, c.Database, c.Schema)
		}
	}
	return cats, func() {
		for _, c := range closers {
			c()
		}
	}
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
