package scaffold

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v4"

	"github.com/hockeystack/sluice/engine/config"
	"github.com/hockeystack/sluice/engine/ddl"
	"github.com/hockeystack/sluice/engine/sqlscan"
)

// Folder is what Merge makes of a pipeline folder: pipeline.yaml's new
// text, the SQL files to write (by path relative to the folder) and what
// changed, one line each.
type Folder struct {
	Pipeline []byte
	SQL      map[string]string
	Changes  []string
	Added    []string // the streams added
}

// Merge folds streams into a pipeline folder. pipeline is the current
// pipeline.yaml (nil for a new folder, named name); sql reads a query
// file of the folder ("" and false when there is none). A stream already
// in the file (by name, or by its query file) keeps everything written
// there: Merge only adds the table's new columns (those its query does
// not select yet) to its mapping and to its query's select list, and
// reports a mapped column the table no longer has. A column the query
// selects and the mapping leaves out was left out on purpose. Comments and every other node stay as they are.
func Merge(pipeline []byte, name string, streams []Proposal, o Options, sql func(path string) (string, bool)) (Folder, error) {
	f := Folder{SQL: map[string]string{}}
	var doc yaml.Node
	if len(bytes.TrimSpace(pipeline)) == 0 {
		doc = newPipeline(name, o)
	} else if err := yaml.Unmarshal(pipeline, &doc); err != nil {
		return f, fmt.Errorf("reading pipeline.yaml: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return f, fmt.Errorf("pipeline.yaml is not a mapping")
	}
	root := doc.Content[0]
	streamsNode := get(root, "streams")
	if streamsNode == nil || streamsNode.Kind != yaml.MappingNode {
		if streamsNode != nil {
			return f, fmt.Errorf("pipeline.yaml: streams is not a mapping")
		}
		streamsNode = &yaml.Node{Kind: yaml.MappingNode}
		root.Content = append(root.Content, str("streams"), streamsNode)
	}
	for _, s := range streams {
		key, node := findStream(streamsNode, s)
		if node == nil {
			k, v := streamNode(s, o)
			streamsNode.Content = append(streamsNode.Content, k, v)
			msg := fmt.Sprintf("added stream %s: %s, %d columns, mode %s", s.Name, s.Table, len(s.Columns), s.Mode)
			if s.Cursor != "" {
				msg += fmt.Sprintf(", cursor %s, window %s", s.Cursor, s.Window)
			}
			f.Changes = append(f.Changes, msg)
			f.Added = append(f.Added, s.Name)
			if old, ok := sql(s.Query); ok && old != s.SQL {
				f.Changes = append(f.Changes, fmt.Sprintf("stream %s: %s exists and is kept; check it selects the mapped columns", s.Name, s.Query))
			} else if !ok {
				f.SQL[s.Query] = s.SQL
			}
			continue
		}
		f.Changes = append(f.Changes, mergeStream(key.Value, node, s, o.Push, sql, f.SQL)...)
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return f, err
	}
	enc.Close()
	f.Pipeline = b.Bytes()
	return f, nil
}

func newPipeline(name string, o Options) yaml.Node {
	root := &yaml.Node{Kind: yaml.MappingNode}
	root.HeadComment = fmt.Sprintf("Written by sluice init from %s into %s.\nEvery choice below says why it was made; lines with CHECK need a person.\nRe-running sluice init adds new tables and columns and changes nothing written here.", o.Source, o.Destination)
	if o.Server != "" {
		root.HeadComment += fmt.Sprintf("\nDestination types are for %s.", o.Server)
	}
	add := func(m *yaml.Node, k string, v *yaml.Node) { m.Content = append(m.Content, str(k), v) }
	add(root, "version", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: "1"})
	add(root, "name", str(name))
	sched := str("0 0 * * *")
	sched.Style = yaml.DoubleQuotedStyle
	sched.LineComment = "daily at midnight; CHECK: how fresh the data must be"
	add(root, "schedule", sched)
	add(root, "timezone", str("UTC"))
	defaults := &yaml.Node{Kind: yaml.MappingNode}
	src := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
	add(src, "connection", str(o.Source))
	dst := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
	add(dst, "connection", str(o.Destination))
	add(dst, "create", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
	add(defaults, "source", src)
	add(defaults, "destination", dst)
	add(root, "defaults", defaults)
	return yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}
}

func str(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

// get returns the value of key k in mapping m, or nil.
func get(m *yaml.Node, k string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == k {
			return m.Content[i+1]
		}
	}
	return nil
}

// findStream finds s in the streams mapping by name, else by query file.
func findStream(streams *yaml.Node, s Proposal) (*yaml.Node, *yaml.Node) {
	for i := 0; i+1 < len(streams.Content); i += 2 {
		if streams.Content[i].Value == s.Name {
			return streams.Content[i], streams.Content[i+1]
		}
	}
	for i := 0; i+1 < len(streams.Content); i += 2 {
		if q := get(get(streams.Content[i+1], "source"), "query"); q != nil && q.Value == s.Query {
			return streams.Content[i], streams.Content[i+1]
		}
	}
	return nil, nil
}

// streamNode renders a proposed stream.
func streamNode(s Proposal, o Options) (*yaml.Node, *yaml.Node) {
	k := str(s.Name)
	k.HeadComment = strings.Join(s.Notes, "\n")
	v := &yaml.Node{Kind: yaml.MappingNode}
	add := func(m *yaml.Node, key string, val *yaml.Node) { m.Content = append(m.Content, str(key), val) }
	src := &yaml.Node{Kind: yaml.MappingNode}
	add(src, "query", str(s.Query))
	if s.Cursor != "" {
		inc := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
		add(inc, "cursor", str(s.Cursor))
		start := str(s.Start)
		add(inc, "start", start)
		add(inc, "window", str(s.Window))
		add(inc, "lookback", str(s.Lookback))
		add(src, "incremental", inc)
	} else {
		add(src, "incremental", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "false"})
	}
	add(v, "source", src)
	cols := &yaml.Node{Kind: yaml.MappingNode}
	for _, m := range s.Columns {
		ck, cv := columnNode(m)
		cols.Content = append(cols.Content, ck, cv)
	}
	add(v, "columns", cols)
	dst := &yaml.Node{Kind: yaml.MappingNode}
	add(dst, "table", str(s.DestTable))
	add(dst, "mode", str(string(s.Mode)))
	list := func(names []string) *yaml.Node {
		n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, x := range names {
			n.Content = append(n.Content, str(x))
		}
		return n
	}
	if len(s.Key) > 0 {
		add(dst, "key", list(s.Key))
	}
	if s.Version != "" {
		add(dst, "version", str(s.Version))
	}
	if len(s.OrderBy) > 0 {
		add(dst, "order_by", list(s.OrderBy))
	}
	add(v, "destination", dst)
	return k, v
}

func columnNode(m Mapping) (*yaml.Node, *yaml.Node) {
	k := str(m.Name)
	v := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
	add := func(key string, val *yaml.Node) { v.Content = append(v.Content, str(key), val) }
	if m.WriteFrom {
		add("from", str(m.From))
	}
	add("type", str(m.Type))
	if m.Nullable != nil {
		add("nullable", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: fmt.Sprint(*m.Nullable)})
	}
	if m.AllowLossy {
		add("allow_lossy", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
	}
	v.LineComment = m.Comment
	return k, v
}

// mergeStream adds to an existing stream the columns it does not map.
func mergeStream(name string, node *yaml.Node, s Proposal, push bool, sql func(string) (string, bool), out map[string]string) []string {
	var changes []string
	cols := get(node, "columns")
	if cols == nil || cols.Kind != yaml.MappingNode {
		return []string{fmt.Sprintf("stream %s: no columns mapping to add to; left as it is", name)}
	}
	// What the stream maps already: destination names and source columns.
	dests := map[string]bool{}
	froms := map[string]bool{}
	for i := 0; i+1 < len(cols.Content); i += 2 {
		dests[cols.Content[i].Value] = true
		switch f := get(cols.Content[i+1], "from"); {
		case f != nil:
			froms[strings.ToLower(f.Value)] = true
		case get(cols.Content[i+1], "expr") == nil:
			froms[strings.ToLower(cols.Content[i].Value)] = true
		}
	}
	query := s.Query
	if q := get(get(node, "source"), "query"); q != nil {
		query = q.Value
	}
	table := s.DestTable
	if t := get(get(node, "destination"), "table"); t != nil {
		table = t.Value
	}
	text, haveSQL := sql(query)
	if t, ok := out[query]; ok {
		text, haveSQL = t, true
	}
	proposed := map[string]bool{}
	for _, m := range s.Columns {
		proposed[strings.ToLower(m.From)] = true
		if froms[strings.ToLower(m.From)] {
			continue
		}
		if dests[m.Name] {
			changes = append(changes, fmt.Sprintf("stream %s: column %s of %s is not mapped, and %s is taken; map it by hand", name, m.From, s.Table, m.Name))
			continue
		}
		if !haveSQL {
			changes = append(changes, fmt.Sprintf("stream %s: column %s is new in %s, but %s cannot be read; add it by hand", name, m.From, s.Table, query))
			continue
		}
		if selects(text, m.From) {
			continue // selected but not mapped: the engineer's choice
		}
		t, ok := addSelect(text, m.Select)
		if !ok {
			changes = append(changes, fmt.Sprintf("stream %s: column %s is new in %s; %s has no plain select list to add it to: add it by hand", name, m.From, s.Table, query))
			continue
		}
		text = t
		out[query] = text
		k, v := columnNode(m)
		v.LineComment = "new: added by sluice init; " + m.Comment
		cols.Content = append(cols.Content, k, v)
		dests[m.Name] = true
		changes = append(changes, fmt.Sprintf("stream %s: added column %s (from %s, %s) to pipeline.yaml and %s; if %s exists, add the column there before the next run: %s", name, m.Name, m.From, m.Type, query, table, addColumn(table, m, push)))
	}
	for _, f := range sortedKeys(froms) {
		if !proposed[f] && !strings.HasSuffix(f, "_offset") {
			changes = append(changes, fmt.Sprintf("stream %s: %s maps a column %s that %s does not have (an expression, or a column dropped upstream?); left as it is", name, "pipeline.yaml", f, s.Table))
		}
	}
	return changes
}

// selectList finds the top-level select list of a query: the byte offsets
// just after SELECT and of the FROM that ends it.
func selectList(q string) (int, int, bool) {
	toks := sqlscan.Scan(q)
	depth, start := 0, -1
	for _, t := range toks {
		if t.Kind == sqlscan.Ident && depth == 0 {
			switch strings.ToUpper(t.Text) {
			case "SELECT":
				if start < 0 {
					start = t.End
				}
			case "FROM":
				if start >= 0 {
					return start, t.Off, true
				}
			}
		}
		depth += t.Nesting()
	}
	return 0, 0, false
}

// selects reports whether the query's select list names col, quoted or
// (for a plain name) not.
func selects(q, col string) bool {
	s, e, ok := selectList(q)
	if !ok {
		return false
	}
	toks := sqlscan.Scan(q[s:e])
	for i, t := range toks {
		if t.Text == "*" && (i == 0 || toks[i-1].Text == "," || toks[i-1].Text == ".") {
			return true // SELECT *, or t.*
		}
		switch t.Kind {
		case sqlscan.QuotedIdent:
			if t.Text == col {
				return true
			}
		case sqlscan.Ident:
			if strings.EqualFold(t.Text, col) && strings.ToUpper(col) == col {
				return true
			}
		}
	}
	return false
}

// addSelect appends item to the query's top-level select list.
func addSelect(q, item string) (string, bool) {
	s, e, ok := selectList(q)
	if !ok {
		return q, false
	}
	list := strings.TrimRight(q[s:e], " \t\r\n")
	if strings.TrimSpace(list) == "" {
		return q, false
	}
	end := s + len(list)
	indent := "\n  "
	if !strings.Contains(list, "\n") {
		indent = " "
	}
	return q[:end] + "," + indent + item + q[end:], true
}

// addColumn is the statement that adds m to an existing destination
// table: Sluice creates tables, it does not migrate them.
func addColumn(table string, m Mapping, push bool) string {
	if push {
		t := m.Type
		if m.Nullable != nil && !*m.Nullable {
			t += " NOT NULL"
		}
		return fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s", ddl.QuoteSnowflakeName(table), ddl.QuoteSnowflake(m.Name), t)
	}
	return fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s", ddl.QuoteClickHouseName(table), ddl.QuoteClickHouse(m.Name), m.Type)
}

// Extend proposes a stream for each of the tables named, from the facts
// facts reads of it, and merges them into the folder dir's pipeline.yaml
// (new when there is none). It writes nothing: Write does.
func Extend(dir string, names []TableName, o Options, facts func(TableName) (Table, error)) (Folder, error) {
	var tables []Table
	for _, n := range names {
		t, err := facts(n)
		if err != nil {
			return Folder{}, fmt.Errorf("%s: %w", n, err)
		}
		tables = append(tables, t)
	}
	streams, err := ProposeAll(tables, o)
	if err != nil {
		return Folder{}, err
	}
	yamlPath := filepath.Join(dir, config.PipelineFileName)
	old, err := os.ReadFile(yamlPath)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return Folder{}, err
	}
	abs, _ := filepath.Abs(dir)
	f, err := Merge(old, StreamName(filepath.Base(abs)), streams, o, func(p string) (string, bool) {
		path := filepath.Join(dir, filepath.FromSlash(p))
		if config.CheckWritable(dir, path) != nil {
			return "", false // outside the folder: never read, never written
		}
		b, err := os.ReadFile(path)
		return string(b), err == nil
	})
	if err != nil {
		return Folder{}, fmt.Errorf("%s: %w", yamlPath, err)
	}
	return f, nil
}

// Write writes pipeline.yaml and the new or changed SQL files into dir,
// never through a symlink leading out of the folder.
func (f Folder) Write(dir string) error {
	if err := os.MkdirAll(filepath.Join(dir, "sql"), 0o755); err != nil {
		return err
	}
	files := map[string][]byte{config.PipelineFileName: f.Pipeline}
	for p, s := range f.SQL {
		files[filepath.FromSlash(p)] = []byte(s)
	}
	for p, b := range files {
		path := filepath.Join(dir, p)
		if err := config.CheckWritable(dir, path); err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
