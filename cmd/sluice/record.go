package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/hockeystack/sluice/engine/config"
	"github.com/hockeystack/sluice/engine/ddl"
	"github.com/hockeystack/sluice/engine/fixture"
	"github.com/hockeystack/sluice/engine/plan"
	"github.com/hockeystack/sluice/engine/snowflake"
	"github.com/hockeystack/sluice/engine/sqlscan"
	"github.com/hockeystack/sluice/engine/sqltype"
)

// record writes tests/<stream>.yaml from a sample of the live source: the
// first rows of each table the stream's SQL reads, and, as the expected
// rows, what the current mapping makes of them on snowsim. The solutions
// engineer then trims the rows and checks the expectations by hand.
func record(e *env, l loaded, dir, stream string, limit int) int {
	var s *config.Stream
	for _, c := range l.pipeline.Streams {
		if c.Name == stream {
			s = c
		}
	}
	if s == nil || s.Direction != config.Pull {
		fmt.Fprintf(e.stderr, "sluice test --record: %s is not a pull stream of %s\n", stream, l.pipeline.Name)
		return exitUsage
	}
	out := filepath.Join(dir, "tests", s.Name+".yaml")
	if exists(out) {
		fmt.Fprintf(e.stderr, "sluice test --record: %s exists; move it away to record again\n", out)
		return exitUsage
	}
	ctx := context.Background()
	c := l.connections.Get(s.Source.Connection)
	db, err := snowflake.Open(ctx, c, e.getenv)
	if err != nil {
		fmt.Fprintf(e.stderr, "sluice test --record: %v\n", err)
		return exitProblems
	}
	defer db.Close()
	cat := snowflake.NewCatalog(db, c.Database, c.Schema)
	fx := &fixture.Fixture{Path: out, Stream: s.Name}
	if inc := s.Incremental; inc != nil {
		fx.Start, fx.End = inc.Start, time.Now().UTC().Truncate(time.Second)
	}
	for _, name := range sqlscan.Tables(s.Source.SQL) {
		table := name.String()
		cols, err := describe(ctx, cat, c, name)
		if err != nil {
			fmt.Fprintf(e.stderr, "sluice test --record: describing %s: %v\n", table, err)
			return exitProblems
		}
		t := fixture.Table{Name: table}
		for _, lc := range cols {
			typ := lc.Type
			typ.Nullable = true
			t.Columns = append(t.Columns, fixture.Column{Name: lc.Name, Type: typ.String()})
		}
		if t.Rows, err = sampleTable(ctx, db, name, t.Columns, limit); err != nil {
			fmt.Fprintf(e.stderr, "sluice test --record: sampling %s: %v\n", table, err)
			return exitProblems
		}
		fx.Given = append(fx.Given, t)
	}
	sim, err := e.simulate(e)
	if err != nil {
		fmt.Fprintf(e.stderr, "sluice test --record: starting snowsim: %v\n", err)
		return exitProblems
	}
	defer sim.Close()
	_, p, err := produce(ctx, sim, l, fx)
	if err != nil {
		fmt.Fprintf(e.stderr, "sluice test --record: running the mapping on the sample: %v\n", err)
		return exitProblems
	}
	text, err := fixtureYAML(fx, p)
	if err != nil {
		fmt.Fprintf(e.stderr, "sluice test --record: %v\n", err)
		return exitProblems
	}
	if err := config.CheckWritable(dir, out); err != nil {
		fmt.Fprintf(e.stderr, "sluice test --record: %v\n", err)
		return exitProblems
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		fmt.Fprintf(e.stderr, "sluice test --record: %v\n", err)
		return exitProblems
	}
	if err := os.WriteFile(out, text, 0o644); err != nil {
		fmt.Fprintf(e.stderr, "sluice test --record: %v\n", err)
		return exitProblems
	}
	fmt.Fprintf(e.stdout, "recorded %s: %d source table(s), %d expected row(s); check the expectations before committing it\n", out, len(fx.Given), len(p.Rows))
	return exitOK
}

// describe reads the columns of a table a query reads, named as Snowflake
// keeps it; the connection's database and schema, as its file writes them,
// complete a name with fewer than three parts.
func describe(ctx context.Context, cat *snowflake.Catalog, c *config.Connection, name sqlscan.Name) ([]plan.LiveColumn, error) {
	schema := c.Schema
	if schema == "" {
		schema = "PUBLIC"
	}
	parts := []string(name)
	if len(parts) < 3 {
		defaults, err := sqlscan.ParseName(c.Database + "." + schema)
		if c.Database == "" || err != nil || len(defaults) != 2 {
			return nil, fmt.Errorf("no database (name it as DATABASE.SCHEMA.TABLE or set the connection's database)")
		}
		parts = append(defaults[:3-len(parts)], parts...)
	}
	if len(parts) != 3 {
		return nil, fmt.Errorf("want at most three parts, DATABASE.SCHEMA.TABLE")
	}
	return cat.Columns(ctx, parts[0], parts[1], parts[2])
}

// sampleTable reads the first rows of a table, each value as text.
func sampleTable(ctx context.Context, db *sql.DB, table sqlscan.Name, cols []fixture.Column, limit int) ([]fixture.Row, error) {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	rows, err := db.QueryContext(ctx, fmt.Sprintf("SELECT %s FROM %s LIMIT %d", ddl.QuoteSnowflakeList(names), table.Quoted(), limit))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []fixture.Row
	for rows.Next() {
		vals := make([]any, len(cols))
		for i := range vals {
			vals[i] = new(any)
		}
		if err := rows.Scan(vals...); err != nil {
			return nil, err
		}
		r := fixture.Row{}
		for i, c := range cols {
			switch v := (*vals[i].(*any)).(type) {
			case nil:
				r[c.Name] = fixture.Value{Null: true}
			case time.Time:
				layout := "2006-01-02 15:04:05.999999999" // wall clock, for NTZ
				if t, err := sqltype.ParseSnowflake(c.Type); err == nil {
					switch {
					case t.Kind == sqltype.Date:
						layout = time.DateOnly
					case t.Zone != sqltype.NoZone:
						layout = time.RFC3339Nano
					}
				}
				r[c.Name] = fixture.Value{Text: v.Format(layout), Quoted: true}
			case []byte:
				r[c.Name] = fixture.Value{Text: string(v), Quoted: true}
			default:
				r[c.Name] = fixture.Value{Text: fmt.Sprint(v), Quoted: true}
			}
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// fixtureYAML writes a fixture: one flow mapping a row, columns in table
// order.
func fixtureYAML(fx *fixture.Fixture, p fixture.Produced) ([]byte, error) {
	scalar := func(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: s} }
	value := func(v fixture.Value, t sqltype.Type) *yaml.Node {
		if v.Null {
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
		}
		switch t.Kind {
		case sqltype.Int, sqltype.UInt, sqltype.Decimal, sqltype.Float, sqltype.Bool:
			return scalar(v.Text) // numbers read as numbers
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v.Text}
	}
	flow := func() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle} }
	doc := &yaml.Node{Kind: yaml.MappingNode}
	add := func(m *yaml.Node, k string, v *yaml.Node) { m.Content = append(m.Content, scalar(k), v) }
	add(doc, "stream", scalar(fx.Stream))
	if !fx.Start.IsZero() {
		w := flow()
		add(w, "start", scalar(fx.Start.Format(time.RFC3339)))
		add(w, "end", scalar(fx.End.Format(time.RFC3339)))
		add(doc, "window", w)
	}
	given := &yaml.Node{Kind: yaml.MappingNode}
	for _, t := range fx.Given {
		body := &yaml.Node{Kind: yaml.MappingNode}
		cols := flow()
		for _, c := range t.Columns {
			add(cols, c.Name, scalar(c.Type))
		}
		add(body, "columns", cols)
		rows := &yaml.Node{Kind: yaml.SequenceNode}
		for _, r := range t.Rows {
			m := flow()
			for _, c := range t.Columns {
				typ, _ := sqltype.ParseSnowflake(c.Type)
				add(m, c.Name, value(r[c.Name], typ))
			}
			rows.Content = append(rows.Content, m)
		}
		add(body, "rows", rows)
		add(given, t.Name, body)
	}
	add(doc, "given", given)
	expect := &yaml.Node{Kind: yaml.MappingNode}
	rows := &yaml.Node{Kind: yaml.SequenceNode}
	for _, r := range p.Sorted() {
		m := flow()
		for i, c := range p.Columns {
			v := fixture.Value{Null: r[i] == nil}
			if r[i] != nil {
				v.Text = *r[i]
			}
			add(m, c, value(v, p.Types[i]))
		}
		rows.Content = append(rows.Content, m)
	}
	add(expect, "rows", rows)
	add(doc, "expect", expect)
	var b strings.Builder
	b.WriteString("# Recorded by `sluice test --record` from a sample of the live source;\n# the expected rows are what the mapping made of it then: check them.\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}
