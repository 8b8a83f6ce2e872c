package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/hockeystack/sluice/engine/ddl"
	"github.com/hockeystack/sluice/engine/plan"
	"github.com/hockeystack/sluice/engine/sqlscan"
	"github.com/hockeystack/sluice/engine/sqltype"
)

// Catalog reads live schemas from a ClickHouse server. It only reads.
type Catalog struct {
	conn     driver.Conn
	database string // default database for unqualified table names
}

// NewCatalog returns a catalog over conn. The caller keeps ownership of
// conn and closes it after the catalog is done.
func NewCatalog(conn driver.Conn, database string) *Catalog {
	if database == "" {
		database = "default"
	}
	return &Catalog{conn: conn, database: database}
}

var _ plan.Catalog = (*Catalog)(nil)

// Server returns "ClickHouse" and the server's version.
func (c *Catalog) Server(ctx context.Context) (string, string, error) {
	var v string
	if err := c.conn.QueryRow(ctx, "SELECT version()").Scan(&v); err != nil {
		return "", "", fmt.Errorf("reading server version: %w", err)
	}
	return "ClickHouse", v, nil
}

// DescribeTable reads a table's columns from system.columns.
func (c *Catalog) DescribeTable(ctx context.Context, table string) ([]plan.TypedColumn, error) {
	db, name := c.database, table
	if i := strings.IndexByte(table, '.'); i >= 0 {
		db, name = table[:i], table[i+1:]
	}
	return c.Columns(ctx, db, name)
}

// Columns reads the columns of table db.name (spelled exactly) from
// system.columns.
func (c *Catalog) Columns(ctx context.Context, db, name string) ([]plan.TypedColumn, error) {
	rows, err := c.conn.Query(ctx, "SELECT name, type FROM system.columns WHERE database = ? AND table = ?", db, name)
	if err != nil {
		return nil, fmt.Errorf("reading system.columns: %w", err)
	}
	defer rows.Close()
	var cols []plan.TypedColumn
	for rows.Next() {
		var n, t string
		if err := rows.Scan(&n, &t); err != nil {
			return nil, err
		}
		typ, err := sqltype.ParseClickHouse(t)
		if err != nil {
			return nil, fmt.Errorf("column %s: type %s: %w", n, t, err)
		}
		cols = append(cols, plan.TypedColumn{Name: n, Type: typ})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(cols) == 0 {
		return nil, plan.ErrNoTable
	}
	return cols, nil
}

// DescribeQuery returns a query's result columns by running it with
// LIMIT 0, which reads no rows. Placeholders are bound as parameters.
func (c *Catalog) DescribeQuery(ctx context.Context, query string, params map[string]any) ([]plan.TypedColumn, error) {
	sql, args := Bind(query, params)
	rows, err := c.conn.Query(ctx, "SELECT * FROM (\n"+sql+"\n) LIMIT 0", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cols []plan.TypedColumn
	for _, ct := range rows.ColumnTypes() {
		typ, err := sqltype.ParseClickHouse(ct.DatabaseTypeName())
		if err != nil {
			return nil, fmt.Errorf("column %s: type %s: %w", ct.Name(), ct.DatabaseTypeName(), err)
		}
		// A column the source cannot read stops every read of the query:
		// the plan says so, rather than grade the stream and fail it at run.
		if _, err := newSourceColumn(typ); err != nil {
			return nil, fmt.Errorf("column %s: %w", ct.Name(), err)
		}
		cols = append(cols, plan.TypedColumn{Name: ct.Name(), Type: typ})
	}
	return cols, rows.Err()
}

// Bind turns a query's :name placeholders into clickhouse-go named
// parameters, so values are sent as parameters, never pasted into the SQL
// by Sluice. A trailing semicolon is dropped so the query can be nested.
// Times are bound in UTC at second precision, which every server version
// parses.
func Bind(query string, params map[string]any) (string, []any) {
	query = strings.TrimRight(strings.TrimSpace(query), ";")
	var args []any
	seen := map[string]bool{}
	out := sqlscan.BindPlaceholders(query, func(name string) string {
		if !seen[name] {
			seen[name] = true
			v := params[name]
			if t, ok := v.(time.Time); ok {
				v = t.UTC()
			}
			args = append(args, clickhouse.Named(name, v))
		}
		return "@" + name
	})
	return out, args
}

// ReplacingKey returns the sorting key columns of table db.name, in
// table order, when it is a ReplacingMergeTree, the one engine whose sorting key identifies a
// row; nil for any other engine.
func (c *Catalog) ReplacingKey(ctx context.Context, db, name string) ([]string, error) {
	var engine string
	if err := c.conn.QueryRow(ctx, "SELECT engine FROM system.tables WHERE database = ? AND name = ?", db, name).Scan(&engine); err != nil {
		return nil, fmt.Errorf("reading system.tables: %w", err)
	}
	if !strings.HasSuffix(engine, "ReplacingMergeTree") {
		return nil, nil
	}
	rows, err := c.conn.Query(ctx, "SELECT name FROM system.columns WHERE database = ? AND table = ? AND is_in_sorting_key = 1", db, name)
	if err != nil {
		return nil, fmt.Errorf("reading system.columns: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// Profile counts the rows of table db.name and reads the earliest and
// latest value of each of cols (dates or times) in whole seconds; a
// column with no value is left out of spans.
func (c *Catalog) Profile(ctx context.Context, db, name string, cols []string) (int64, map[string][2]time.Time, error) {
	sel := []string{"toInt64(count())"}
	for _, col := range cols {
		q := ddl.QuoteClickHouse(col)
		for _, f := range []string{"min", "max"} {
			sel = append(sel, fmt.Sprintf("toInt64(toDateTime(assumeNotNull(%s(%s))))", f, q))
		}
	}
	vals := make([]int64, 1+2*len(cols))
	dest := make([]any, len(vals))
	for i := range vals {
		dest[i] = &vals[i]
	}
	table := ddl.QuoteClickHouse(db) + "." + ddl.QuoteClickHouse(name)
	if err := c.conn.QueryRow(ctx, "SELECT "+strings.Join(sel, ", ")+" FROM "+table).Scan(dest...); err != nil {
		return 0, nil, fmt.Errorf("profiling %s: %w", table, err)
	}
	spans := map[string][2]time.Time{}
	for i, col := range cols {
		// An empty column reads as 0, the epoch, which no cursor holds.
		if lo, hi := vals[1+2*i], vals[2+2*i]; vals[0] > 0 && !(lo == 0 && hi == 0) {
			spans[col] = [2]time.Time{time.Unix(lo, 0).UTC(), time.Unix(hi, 0).UTC()}
		}
	}
	return vals[0], spans, nil
}
