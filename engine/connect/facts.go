package connect

import (
	"context"
	"fmt"
	"time"

	"github.com/hockeystack/sluice/engine/clickhouse"
	"github.com/hockeystack/sluice/engine/scaffold"
	"github.com/hockeystack/sluice/engine/snowflake"
)

// TableFacts reads what sluice init needs of a source table (columns,
// declared keys, row count and the span of its time columns) through
// the named connection's catalog.
func (k *Links) TableFacts(ctx context.Context, conn string, n scaffold.TableName) (scaffold.Table, error) {
	c, err := k.Conn(conn)
	if err != nil {
		return scaffold.Table{}, err
	}
	r, ok := c.(factReader)
	if !ok {
		return scaffold.Table{}, fmt.Errorf("connection %s cannot describe tables for init", conn)
	}
	return r.tableFacts(ctx, n)
}

// factReader is a connection whose catalog reads init's table facts.
type factReader interface {
	tableFacts(ctx context.Context, n scaffold.TableName) (scaffold.Table, error)
}

func (h *clickhouseConn) tableFacts(ctx context.Context, n scaffold.TableName) (scaffold.Table, error) {
	t := scaffold.Table{Name: n}
	cat := clickhouse.NewCatalog(h.conn, h.c.Database)
	cols, err := cat.Columns(ctx, n.Database, n.Name)
	if err != nil {
		return t, err
	}
	t.Columns = cols
	key, err := cat.ReplacingKey(ctx, n.Database, n.Name)
	if err != nil {
		return t, err
	}
	if len(key) > 0 {
		t.Keys = []scaffold.Key{{Columns: key, Why: "the sorting key of a ReplacingMergeTree, which keeps one row per key"}}
	}
	rows, spans, err := cat.Profile(ctx, n.Database, n.Name, scaffold.Candidates(t.Columns))
	return withSpans(t, rows, spans), err
}

func (s *snowflakeConn) tableFacts(ctx context.Context, n scaffold.TableName) (scaffold.Table, error) {
	t := scaffold.Table{Name: n}
	cat := snowflake.NewCatalog(s.db, s.c.Database, s.c.Schema)
	cols, err := cat.Columns(ctx, n.Database, n.Schema, n.Name)
	if err != nil {
		return t, err
	}
	t.Columns = cols
	keys, err := cat.Constraints(ctx, n.Database, n.Schema, n.Name)
	if err != nil {
		return t, err
	}
	for _, key := range keys {
		why := "the primary key Snowflake declares"
		if !key.Primary {
			why = "unique constraint " + key.Name + " (no primary key is declared)"
		}
		t.Keys = append(t.Keys, scaffold.Key{Columns: key.Columns, Why: why})
	}
	rows, spans, err := cat.Profile(ctx, n.Database, n.Schema, n.Name, scaffold.Candidates(t.Columns))
	return withSpans(t, rows, spans), err
}

// withSpans adds a table's row count and its columns' spans.
func withSpans(t scaffold.Table, rows int64, spans map[string][2]time.Time) scaffold.Table {
	t.Rows, t.Spans = rows, map[string]scaffold.Span{}
	for col, s := range spans {
		t.Spans[col] = scaffold.Span{Min: s[0], Max: s[1]}
	}
	return t
}
