package plan

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hockeystack/sluice/engine/config"
	"github.com/hockeystack/sluice/engine/ddl"
	"github.com/hockeystack/sluice/engine/diag"
	"github.com/hockeystack/sluice/engine/sqltype"
	"github.com/hockeystack/sluice/engine/transform"
)

// Options configure Compile.
type Options struct {
	// Connections describe the connections streams name.
	Connections *config.Connections
	// Catalogs read live schemas, by connection name. A connection without
	// one is planned offline, from declared types.
	Catalogs map[string]Catalog
	// ClickHouse is the server version DDL is written for when no live
	// ClickHouse catalog says otherwise; the current release when zero.
	ClickHouse ddl.ClickHouseVersion
}

// shownWindows is how many backfill windows a plan lists.
const shownWindows = 3

// Compile turns a loaded pipeline into a plan. p must have loaded without
// errors. Catalog failures are reported as diagnostics on the connection,
// and planning goes on offline for it.
func Compile(ctx context.Context, p *config.Pipeline, opts Options) (*Plan, diag.Diagnostics) {
	if opts.ClickHouse == (ddl.ClickHouseVersion{}) {
		opts.ClickHouse = ddl.CurrentClickHouse
	}
	c := &compiler{ctx: ctx, p: p, opts: opts, servers: map[string]string{}, chVersions: map[string]ddl.ClickHouseVersion{}}
	c.loc = p.Location
	if c.loc == nil {
		c.loc = time.UTC
	}
	out := &Plan{
		FormatVersion: FormatVersion,
		Pipeline:      p.Name,
		Description:   strings.TrimSpace(p.Description),
		Schedule:      Schedule{Cron: p.Schedule, Timezone: p.Timezone, Summary: describeCron(p.Schedule)},
	}
	c.connectLive()
	for _, s := range p.Streams {
		out.Streams = append(out.Streams, c.stream(s))
	}
	out.Connections = c.connections()
	ds := c.ds.Sort()
	out.Diagnostics = ds
	return out, ds
}

type compiler struct {
	ctx        context.Context
	p          *config.Pipeline
	opts       Options
	loc        *time.Location
	ds         diag.Diagnostics
	servers    map[string]string // live server by connection
	chVersions map[string]ddl.ClickHouseVersion
}

// connectLive asks each catalog for its server; one that cannot be
// reached is an error at the connection's definition.
func (c *compiler) connectLive() {
	names := make([]string, 0, len(c.opts.Catalogs))
	for n := range c.opts.Catalogs {
		names = append(names, n)
	}
	sort.Strings(names)
	live := map[string]Catalog{}
	for _, n := range names {
		cat := c.opts.Catalogs[n]
		kind, version, err := cat.Server(c.ctx)
		if err != nil {
			pos := diag.Pos{File: c.p.File}
			if conn := c.opts.Connections.Get(n); conn != nil {
				pos = conn.Pos
			}
			// Live planning was asked for: a plan that quietly fell back
			// to declared types would pass for a checked one.
			c.ds.Errorf(pos, 0, "connection %s: cannot read the live schemas: %v", n, err)
			continue
		}
		c.servers[n] = kind + " " + version
		if strings.EqualFold(kind, "clickhouse") {
			if v, err := ddl.ParseClickHouseVersion(version); err == nil {
				c.chVersions[n] = v
			}
		}
		live[n] = cat
	}
	c.opts.Catalogs = live
}

func (c *compiler) connections() []Connection {
	used := map[string]bool{}
	for _, s := range c.p.Streams {
		used[s.Source.Connection] = true
		used[s.Destination.Connection] = true
	}
	var out []Connection
	for n := range used {
		conn := Connection{Name: n}
		if cc := c.opts.Connections.Get(n); cc != nil {
			conn.Kind, conn.Access = string(cc.Kind), string(cc.Access)
		}
		conn.Live = c.servers[n]
		out = append(out, conn)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (c *compiler) stream(s *config.Stream) *Stream {
	out := &Stream{
		Name:        s.Name,
		Description: strings.TrimSpace(s.Description),
		Direction:   string(s.Direction),
		Source: Source{
			Connection: s.Source.Connection,
			Kind:       string(s.Source.ConnectionKind),
			QueryFile:  s.Source.QueryFile,
			SQL:        strings.TrimRight(s.Source.SQL, "\n"),
		},
	}
	if s.Filter != nil {
		out.Filter = s.Filter.Text
	}
	out.After = s.Upstream
	for _, r := range s.Reads {
		out.Reads = append(out.Reads, TableRead{Table: r.Table, WrittenBy: r.WrittenBy})
	}
	for _, ph := range s.Source.Placeholders {
		binds := "start of the window, inclusive"
		if ph == config.WindowEnd {
			binds = "end of the window, exclusive"
		}
		out.Source.Parameters = append(out.Source.Parameters, Parameter{Name: ph, Binds: binds + ", bound as a TIMESTAMP_TZ parameter"})
	}
	if s.Source.ConnectionKind == config.Snowflake {
		out.Source.QueryTag = tagTemplate(c.p.Name, s.Name)
	}
	if inc := s.Incremental; inc != nil {
		out.Windows = c.windows(inc)
	}

	chVersion := c.opts.ClickHouse
	if v, ok := c.chVersions[s.Destination.Connection]; ok {
		chVersion = v
	}
	sourceCols, pending := c.liveSource(s)
	out.Source.Pending = pending
	for _, col := range s.Columns {
		out.Columns = append(out.Columns, c.column(s, col, chVersion, sourceCols))
	}
	out.Destination = c.destination(s, out.Columns, chVersion)
	out.Exec = c.execOf(s, out.Columns, chVersion)
	return out
}

func (c *compiler) windows(inc *config.Incremental) *Windows {
	start := inc.Start.In(c.loc)
	w := &Windows{
		Cursor:   inc.Cursor,
		Start:    start.Format(time.RFC3339),
		Size:     inc.Window.String(),
		Lookback: inc.Lookback.String(),
	}
	for i := range shownWindows {
		w.First = append(w.First, Window{
			Start: inc.Window.AddTo(start, i).Format(time.RFC3339),
			End:   inc.Window.AddTo(start, i+1).Format(time.RFC3339),
		})
	}
	from := "the last committed window end"
	if !inc.Lookback.IsZero() {
		from += " minus " + inc.Lookback.String()
	}
	w.Incremental = fmt.Sprintf("each scheduled run reads from %s to the run's start, cut into %s windows when it is further behind", from, inc.Window)
	return w
}

// liveSource describes the source query on a live catalog, reporting a
// query the database rejects. It returns nil offline, and nil with why
// when the query reads a table that an earlier stream of the run creates
// and that does not exist yet.
func (c *compiler) liveSource(s *config.Stream) ([]TypedColumn, string) {
	cat := c.opts.Catalogs[s.Source.Connection]
	if cat == nil || s.Source.SQL == "" {
		return nil, ""
	}
	params := map[string]any{}
	if inc := s.Incremental; inc != nil {
		start := inc.Start.In(c.loc)
		params[config.WindowStart] = start
		params[config.WindowEnd] = inc.Window.AddTo(start, 1)
	}
	cols, err := cat.DescribeQuery(c.ctx, s.Source.SQL, params)
	if err != nil {
		if why := c.notYetCreated(s); why != "" {
			return nil, why
		}
		c.ds.Errorf(s.Source.QueryPos, len(s.Source.QueryFile), "%s on %s: %v", s.Source.QueryFile, s.Source.Connection, err)
		return nil, ""
	}
	if inc := s.Incremental; inc != nil {
		if _, ok := findLive(cols, inc.Cursor, s.Source.ConnectionKind == config.Snowflake); !ok {
			c.ds.Errorf(inc.CursorPos, len(inc.Cursor), "cursor %s is not a column of %s%s", inc.Cursor, s.Source.QueryFile, diag.DidYouMean(inc.Cursor, liveNames(cols)))
		}
	}
	if cols == nil {
		cols = []TypedColumn{}
	}
	return cols, ""
}

// notYetCreated says which table a stream reads that an earlier stream of
// the run writes and that its destination does not have yet, or "".
func (c *compiler) notYetCreated(s *config.Stream) string {
	for _, r := range s.Reads {
		for _, w := range c.p.Streams {
			if w.Name != r.WrittenBy {
				continue
			}
			cat := c.opts.Catalogs[w.Destination.Connection]
			if cat == nil {
				continue
			}
			if _, err := cat.DescribeTable(c.ctx, w.Destination.Table); errors.Is(err, ErrNoTable) {
				return fmt.Sprintf("%s does not exist yet: stream %s creates it earlier in this run", r.Table, r.WrittenBy)
			}
		}
	}
	return ""
}

func findLive(cols []TypedColumn, name string, foldCase bool) (TypedColumn, bool) {
	for _, c := range cols {
		if c.Name == name {
			return c, true
		}
	}
	if foldCase {
		for _, c := range cols {
			if strings.EqualFold(c.Name, name) {
				return c, true
			}
		}
	}
	return TypedColumn{}, false
}

func liveNames(cols []TypedColumn) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Name
	}
	return out
}

// column compiles one column mapping and grades its conversions: from the
// live source type, when known, into the declared type, and from the
// declared type into the type the target server creates.
func (c *compiler) column(s *config.Stream, col *config.Column, chVersion ddl.ClickHouseVersion, live []TypedColumn) Column {
	out := Column{
		Name:  col.Name,
		Type:  col.Type.String(),
		From:  col.From,
		Arrow: col.Type.Arrow().String(),
	}
	if col.Expr != nil {
		out.Expr = strings.TrimSpace(col.Expr.Text)
	}
	if col.Default != nil {
		out.Default = *col.Default
	}
	fit := sqltype.Conversion{}
	note := func(conv sqltype.Conversion) {
		if conv.Fit > fit.Fit {
			fit = conv
		}
	}
	if s.Destination.ConnectionKind == config.ClickHouse {
		created, conv, err := ddl.ClickHouseType(col.Type, chVersion)
		if err != nil {
			c.ds.Errorf(col.TypePos, len(col.TypeText), "column %s: %v", col.Name, err)
		} else if created.String() != col.Type.String() {
			out.Create = created.String()
		}
		note(conv)
		c.requireAck(col, conv)
	}
	// values grades the source's values (a column, or what an
	// expression computes) into the declared type.
	values := func(src sqltype.Type, live bool) {
		conv := sqltype.Convert(src.NotNull(), col.Type)
		switch conv.Fit {
		case sqltype.Incompatible:
			c.ds.Errorf(col.TypePos, len(col.TypeText), "column %s: %s", col.Name, conv.Reason)
		case sqltype.Lossy:
			c.requireAck(col, conv)
		case sqltype.Checked:
			if live {
				c.ds.Warnf(col.TypePos, len(col.TypeText), "column %s: %s into %s: %s", col.Name, src.Plain(), col.Type.Plain(), conv.Reason)
			}
		}
		note(conv)
		if src.Nullable && !col.Type.Nullable && col.Default == nil {
			note(sqltype.Conversion{Fit: sqltype.Checked, Reason: "a NULL stops the window: the destination is not nullable and has no default"})
		}
	}
	switch {
	case col.Expr != nil:
		// An expression's fit is its inferred type's, never assumed.
		inf, err := transform.Infer(col.Expr.Text, func(name string) (sqltype.Type, bool) {
			lc, ok := findLive(live, name, s.Source.ConnectionKind == config.Snowflake)
			return lc.Type, ok
		})
		switch {
		case err != nil: // validation reports it
		case inf.Known:
			out.SourceType = inf.Type.String()
			values(inf.Type, live != nil)
		case live == nil:
			note(sqltype.Conversion{Fit: sqltype.Checked, Reason: "what the expression computes is known against the live source (plan --live); its values are checked as they are written"})
		default:
			note(sqltype.Conversion{Fit: sqltype.Checked, Reason: "what the expression computes cannot be inferred; its values are checked as they are written"})
		}
		if inf.Lossy != "" {
			conv := sqltype.Conversion{Fit: sqltype.Lossy, Reason: "expr: " + inf.Lossy}
			note(conv)
			if !col.AllowLossy {
				c.ds.Errorf(col.Expr.Pos, len(col.Expr.Text), "column %s: %s; set allow_lossy: true to accept it", col.Name, conv.Reason)
			}
		}
		if inf.Checked != "" {
			note(sqltype.Conversion{Fit: sqltype.Checked, Reason: inf.Checked})
		}
	case live != nil:
		src, ok := findLive(live, col.From, s.Source.ConnectionKind == config.Snowflake)
		if !ok {
			c.ds.Errorf(col.FromPos, len(col.From), "column %s: %s has no column %s%s", col.Name, s.Source.QueryFile, col.From, diag.DidYouMean(col.From, liveNames(live)))
		} else {
			out.SourceType = src.Type.String()
			out.Arrow = src.Type.Arrow().String()
			values(src.Type, true)
		}
	}
	out.Fit = fit.Fit.String()
	out.Note = fit.Reason
	if fit.Fit == sqltype.Lossy && col.AllowLossy {
		out.Note += " (acknowledged: allow_lossy)"
	}
	return out
}

// requireAck reports a lossy conversion the column has not acknowledged.
func (c *compiler) requireAck(col *config.Column, conv sqltype.Conversion) {
	if conv.Fit == sqltype.Lossy && !col.AllowLossy {
		c.ds.Errorf(col.TypePos, len(col.TypeText), "column %s: %s; set allow_lossy: true to accept it", col.Name, conv.Reason)
	}
}

// destination plans the table, its DDL and the write strategy, and checks
// the live table when there is a catalog.
func (c *compiler) destination(s *config.Stream, cols []Column, chVersion ddl.ClickHouseVersion) Destination {
	d := s.Destination
	out := Destination{
		Connection: d.Connection,
		Kind:       string(d.ConnectionKind),
		Table:      d.Table,
		Mode:       string(d.Mode),
		Key:        d.Key,
		Version:    d.Version,
		Create:     d.Create,
	}
	defs := make([]ddl.Column, len(cols))
	for i, col := range cols {
		t := col.Type
		if col.Create != "" {
			t = col.Create
		}
		defs[i] = ddl.Column{Name: col.Name, Type: t}
	}
	switch d.ConnectionKind {
	case config.ClickHouse:
		out.Server = "ClickHouse " + chVersion.String()
		c.clickhouseDestination(s, &out, defs, chVersion)
	case config.Snowflake:
		out.Server = "Snowflake"
		c.snowflakeDestination(s, &out, defs)
	}
	if live, ok := c.servers[d.Connection]; ok {
		out.Server, out.Live = live, true
	}
	c.liveDestination(s, &out)
	if d.Mode == config.Append && s.Incremental != nil {
		fix := "upsert"
		if d.ConnectionKind == config.Snowflake {
			fix = "merge"
		}
		out.CursorMoves = fmt.Sprintf("a row is kept in the window its %s fell in when that window was read; if its %s changes to a later window, the row is written again there and its old copy stays until the old window is read again (a lookback or a backfill); rows are not deduplicated by key: mode %s keeps one row per key", s.Incremental.Cursor, s.Incremental.Cursor, fix)
	}
	return out
}

func (c *compiler) clickhouseDestination(s *config.Stream, out *Destination, defs []ddl.Column, v ddl.ClickHouseVersion) {
	d := s.Destination
	wcol := s.WindowColumn()
	partition := d.Partition
	if partition == nil && d.Mode == config.Append && wcol != nil {
		p := ddl.Call("toYYYYMM", ddl.ColumnRef(wcol.Name))
		partition = &p
	}
	if partition != nil {
		out.Partition = partition.SQL()
	}
	orderBy := d.OrderBy
	if len(orderBy) == 0 {
		for _, k := range d.Key {
			orderBy = append(orderBy, ddl.ColumnRef(k))
		}
	}
	if len(orderBy) == 0 && wcol != nil {
		orderBy = []ddl.KeyExpr{ddl.ColumnRef(wcol.Name)}
	}
	nullable := map[string]bool{}
	for _, e := range orderBy {
		out.OrderBy = append(out.OrderBy, e.SQL())
		for _, ref := range e.Columns() {
			if col := s.Column(ref.Name); col != nil && col.Type.Nullable && !nullable[ref.Name] {
				nullable[ref.Name] = true
				pos := d.OrderByPos
				if len(d.OrderBy) == 0 {
					pos = d.KeyPos
				}
				c.ds.Errorf(pos, 0, "column %s is Nullable and cannot be in a ClickHouse sorting key (ORDER BY); make it non-Nullable or leave it out of key and order_by", ref.Name)
			}
		}
	}
	engine := "MergeTree"
	if d.Mode == config.Upsert {
		engine = "ReplacingMergeTree"
		if d.Version != "" {
			engine += "(" + ddl.QuoteClickHouse(d.Version) + ")"
		}
		if d.Partition != nil && !partitionByKey(*d.Partition, d.Key) {
			c.ds.Warnf(d.PartitionPos, len([]rune(d.PartitionText)), "upsert keeps one row per key only within a partition: a row whose %s moves to another partition keeps its old version there", strings.Join(partitionColumns(*d.Partition, d.Key), ", "))
		}
	}
	table := ddl.ClickHouseTable{Name: d.Table, Columns: defs, Engine: engine, PartitionBy: partition, OrderBy: orderBy}
	out.DDL = table.Create(true)
	defTypes := make([]string, len(defs))
	for i, col := range defs {
		defTypes[i] = col.Type
	}
	raw := ddl.DigestRaw(v, columnNames(defs), defTypes)
	switch d.Mode {
	case config.Append:
		a := ddl.ClickHouseAppend{Table: d.Table, Columns: columnNames(defs), Window: wcol.Name, Strategy: ddl.AppendStrategyFor(v), Raw: raw}
		out.Steps = a.Steps()
		if a.Strategy == ddl.AppendReplace {
			cost := "windows do not line up with partitions (%s), so each partition a window touches is rewritten whole"
			aligned, why := c.aligned(s, partition, wcol)
			if aligned {
				cost = "a window replaces whole partitions (%s)"
			}
			cost = fmt.Sprintf(cost, why)
			out.Strategy = "append, window by window: each window's partitions are rebuilt in a staging table (the window's rows and the target's rows outside the window) and swapped in with REPLACE PARTITION, which on this server covers the parts it replaces, so a restart cannot bring them back; readers see a partition before or after, a re-run replaces its window and never duplicates it; " + cost
		} else {
			out.Strategy = "append, window by window: the window's rows are loaded into a staging table, the target's earlier rows of the window deleted with a mutation, and the staging table's partitions attached; a restart at any point brings no replaced part back (REPLACE PARTITION on this server would: its replaced parts stay on disk until a background cleanup), and a re-run replaces its window and never duplicates it; readers miss the window's rows between the delete and the attach, never see them twice"
		}
	case config.Upsert:
		out.Strategy = fmt.Sprintf("upsert: a window of one block (up to 100,000 rows) is sent once every row is mapped, a bigger one staged and, once all its rows are, attached by partition (a window that fails leaves the table as it was); ReplacingMergeTree keeps, per %s, the row with the highest %s; a re-run attaches versions already present, which merge away (read with FINAL for exact results before merges)",
			strings.Join(d.Key, ", "), orDefault(d.Version, "insertion order"))
		out.Steps = ddl.ClickHouseAppend{Table: d.Table, Columns: columnNames(defs), Raw: raw}.UpsertSteps()
	case config.Replace:
		r := ddl.ClickHouseReplace{Table: d.Table, Create: out.DDL, Exchange: v.Has(ddl.ExchangeTables), Append: ddl.ClickHouseAppend{Table: d.Table, Columns: columnNames(defs), Raw: raw}}
		out.Strategy = "replace: the full result is loaded into a new table that is then swapped in whole; readers see the old table or the new one, never a partial load"
		out.Steps = r.Steps()
	}
	out.Prepare = ddl.ClickHousePrepare(ddl.ClickHouseAppend{Table: d.Table}, out.DDL, d.Mode != config.Replace)
}

// aligned reports whether the stream's windows fall on partition
// boundaries, so that replacing a window's partitions replaces exactly the
// window, and says why or why not.
func (c *compiler) aligned(s *config.Stream, partition *ddl.KeyExpr, wcol *config.Column) (bool, string) {
	if wcol == nil {
		return false, "no window column"
	}
	if partition == nil {
		return false, "no partition"
	}
	inc := s.Incremental
	var unit config.Unit
	p := *partition
	switch {
	case p.Kind != ddl.KeyCall || len(p.Args) == 0 || p.Args[0].Kind != ddl.KeyColumn || p.Args[0].Name != wcol.Name ||
		len(p.Args) == 2 && p.Args[1].Kind != ddl.KeyString:
		return false, fmt.Sprintf("partition %s is not the month or day of %s", p.SQL(), wcol.Name)
	case p.Name == "toYYYYMM":
		unit = config.Month
	case p.Name == "toYYYYMMDD" || p.Name == "toDate":
		unit = config.Day
	default:
		return false, fmt.Sprintf("partition %s is not the month or day of %s", p.SQL(), wcol.Name)
	}
	zone := "the server's time zone"
	if wcol.Type.Zone == sqltype.Named {
		zone = wcol.Type.TZ
	}
	if len(p.Args) == 2 {
		zone = p.Args[1].Value // the partition's own time zone
	}
	if zone != c.p.Timezone {
		return false, fmt.Sprintf("partitions follow %s's %s in %s, windows the pipeline's time zone %s", wcol.Name, unitName(unit), zone, c.p.Timezone)
	}
	start := inc.Start.In(c.loc)
	onBoundary := start.Hour() == 0 && start.Minute() == 0 && start.Second() == 0 && start.Nanosecond() == 0
	if unit == config.Month {
		onBoundary = onBoundary && start.Day() == 1
	}
	whole := inc.Window.Unit == config.Month || unit == config.Day && (inc.Window.Unit == config.Day || inc.Window.Unit == config.Week)
	if !onBoundary || !whole {
		return false, fmt.Sprintf("%s windows from %s cut across %s partitions", inc.Window, start.Format(time.RFC3339), unitName(unit))
	}
	return true, fmt.Sprintf("%s windows cover whole %s partitions", inc.Window, unitName(unit))
}

func unitName(u config.Unit) string {
	if u == config.Month {
		return "month"
	}
	return "day"
}

// partitionByKey reports whether a partition expression uses only key
// columns, in which case a key never changes partition.
func partitionByKey(partition ddl.KeyExpr, key []string) bool {
	return len(partitionColumns(partition, key)) == 0
}

// partitionColumns names the columns a partition expression uses that
// are not in the key, each once.
func partitionColumns(partition ddl.KeyExpr, key []string) []string {
	var out []string
	for _, ref := range partition.Columns() {
		if !slices.Contains(key, ref.Name) && !slices.Contains(out, ref.Name) {
			out = append(out, ref.Name)
		}
	}
	return out
}

func (c *compiler) snowflakeDestination(s *config.Stream, out *Destination, defs []ddl.Column) {
	d := s.Destination
	table := ddl.SnowflakeTable{Name: d.Table, Columns: defs}
	out.DDL = table.Create(true)
	w := ddl.SnowflakeWrite{Table: d.Table, Columns: columnNames(defs), Key: d.Key, Mode: string(d.Mode)}
	if wcol := s.WindowColumn(); wcol != nil {
		w.Window = wcol.Name
	}
	switch d.Mode {
	case config.Append:
		out.Strategy = "append, window by window: the rows are loaded into a staging table, then one short transaction deletes the window's rows and inserts the staged ones, so a re-run replaces its window and a failed one leaves the table as it was"
	case config.Merge:
		out.Strategy = fmt.Sprintf("merge on %s: the rows are loaded into a staging table and merged in one MERGE statement (known keys updated, new keys inserted); a re-run changes nothing and a failed load leaves the target as it was", strings.Join(d.Key, ", "))
	case config.Replace:
		out.Strategy = "replace: the full result is loaded into a staging table that is swapped with the target in one atomic ALTER TABLE ... SWAP WITH; a failed load leaves the target as it was"
	}
	out.Steps = w.Steps()
	create, _, _ := strings.Cut(out.DDL, "\n")
	out.Prepare = []string{strings.TrimSuffix(create, " (") + " (...) -- as the DDL above, when the table does not exist"}
}

// liveDestination checks the live destination table: that it exists or may
// be created, that every mapped column exists, and that each accepts the
// mapped type.
func (c *compiler) liveDestination(s *config.Stream, out *Destination) {
	d := s.Destination
	cat := c.opts.Catalogs[d.Connection]
	if cat == nil {
		return
	}
	live, err := cat.DescribeTable(c.ctx, d.Table)
	switch {
	case errors.Is(err, ErrNoTable):
		out.Exists = "no"
		if !d.Create {
			c.ds.Errorf(d.TablePos, len(d.Table), "table %s does not exist on %s, and create is not set", d.Table, d.Connection)
		}
		return
	case err != nil:
		c.ds.Errorf(d.TablePos, len(d.Table), "describing %s on %s: %v", d.Table, d.Connection, err)
		return
	}
	out.Exists = "yes"
	snowflake := d.ConnectionKind == config.Snowflake
	mapped := map[string]bool{}
	for _, col := range s.Columns {
		lc, ok := findLive(live, col.Name, snowflake)
		if !ok {
			c.ds.Errorf(col.Pos, len(col.Name), "column %s: table %s has no such column%s", col.Name, d.Table, diag.DidYouMean(col.Name, liveNames(live)))
			continue
		}
		mapped[lc.Name] = true
		conv := sqltype.Convert(col.Type, lc.Type)
		if conv.Fit == sqltype.Lossy && col.AllowLossy {
			continue // acknowledged, as when Sluice creates the table
		}
		switch conv.Fit {
		case sqltype.Incompatible, sqltype.Lossy:
			c.ds.Errorf(col.TypePos, len(col.TypeText), "column %s: %s %s.%s is %s: %s", col.Name, d.Connection, d.Table, lc.Name, lc.Type, conv.Reason)
		case sqltype.Checked:
			// The table is narrower than the mapping says. Narrowing is
			// declared where values enter the mapping (source type into
			// declared type, a warning there), never found out at the
			// table in the middle of a window.
			c.ds.Errorf(col.TypePos, len(col.TypeText), "column %s: %s %s.%s is %s, narrower than the declared %s: %s; declare the table's type to narrow on purpose",
				col.Name, d.Connection, d.Table, lc.Name, lc.Type, col.Type, conv.Reason)
		}
	}
	if snowflake {
		for _, lc := range live {
			if !mapped[lc.Name] && !lc.Type.Nullable {
				c.ds.Errorf(d.TablePos, len(d.Table), "table %s has a NOT NULL column %s that the stream does not map", d.Table, lc.Name)
			}
		}
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

var weekdays = []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}

// describeCron says the common cron shapes in words; others are quoted.
func describeCron(expr string) string {
	switch expr {
	case "@hourly":
		return "hourly, on the hour"
	case "@daily", "@midnight":
		return "daily at 00:00"
	case "@weekly":
		return "weekly on Sunday at 00:00"
	case "@monthly":
		return "monthly on day 1 at 00:00"
	case "@yearly", "@annually":
		return "yearly on January 1 at 00:00"
	}
	f := strings.Fields(expr)
	if len(f) != 5 {
		return "cron " + expr
	}
	num := func(s string) (int, bool) {
		var n int
		_, err := fmt.Sscanf(s, "%d", &n)
		return n, err == nil && fmt.Sprint(n) == s
	}
	min, okMin := num(f[0])
	hour, okHour := num(f[1])
	at := fmt.Sprintf("%02d:%02d", hour, min)
	switch {
	case okMin && f[1] == "*" && f[2] == "*" && f[3] == "*" && f[4] == "*":
		return fmt.Sprintf("hourly at minute %d", min)
	case okMin && okHour && f[2] == "*" && f[3] == "*" && f[4] == "*":
		return "daily at " + at
	case okMin && okHour && f[2] == "*" && f[3] == "*":
		if d, ok := num(f[4]); ok && d >= 0 && d <= 7 {
			return fmt.Sprintf("weekly on %s at %s", weekdays[d%7], at)
		}
		if f[4] == "1-5" {
			return "on weekdays at " + at
		}
	case okMin && okHour && f[3] == "*" && f[4] == "*":
		if d, ok := num(f[2]); ok {
			return fmt.Sprintf("monthly on day %d at %s", d, at)
		}
	}
	return "cron " + expr
}

// columnNames are the columns' names, in order.
func columnNames(defs []ddl.Column) []string {
	names := make([]string, len(defs))
	for i, col := range defs {
		names[i] = col.Name
	}
	return names
}
