package config

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v4"

	"github.com/hockeystack/sluice/engine/ddl"
	"github.com/hockeystack/sluice/engine/diag"
	"github.com/hockeystack/sluice/engine/sqlscan"
	"github.com/hockeystack/sluice/engine/sqltype"
)

// PipelineFileName is the file that makes a folder a pipeline.
const PipelineFileName = "pipeline.yaml"

// The placeholders Sluice binds in source queries: the bounds of the window
// being read, as parameters, never pasted into the SQL text.
const (
	WindowStart = "window_start"
	WindowEnd   = "window_end"
)

// Options configure Load.
type Options struct {
	// Connections resolves the connection names streams use. When nil,
	// every connection reference is reported as unresolved.
	Connections *Connections
	// ReadFile reads a file by path; when nil, ReadFolderFile with the
	// pipeline folder as the root every file must stay in. Tests substitute
	// one that reads from memory.
	ReadFile func(name string) ([]byte, error)
	// ListFiles lists the files under the pipeline folder, relative to it,
	// for "did you mean" on missing SQL files; a directory walk when nil.
	ListFiles func(dir string) []string
	// Now is the clock that counts a backfill's windows and checks that a
	// schedule fires; time.Now when nil.
	Now func() time.Time
}

// MaxWindows is the most windows a stream's start and window may cut up
// to now: a million minutes is almost two years. A run cuts and ledgers
// every window, so a start in year 1 with 1m windows would run out of
// memory cutting them.
const MaxWindows = 1_000_000

// Load reads and checks the pipeline folder dir. It returns the pipeline as
// far as it could be read and every problem found; the pipeline is usable
// only when the diagnostics hold no error.
func Load(dir string, opts Options) (*Pipeline, diag.Diagnostics) {
	if opts.ReadFile == nil {
		opts.ReadFile = func(name string) ([]byte, error) { return ReadFolderFile(dir, name) }
	}
	if opts.ListFiles == nil {
		opts.ListFiles = walkFiles
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	var ds diag.Diagnostics
	file := filepath.Join(dir, PipelineFileName)
	p := &Pipeline{Dir: dir, File: file, Files: diag.Sources{}}
	src, err := read(opts, file)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			ds.Errorf(diag.Pos{File: dir}, 0, "not a pipeline folder: %s not found", PipelineFileName)
		} else {
			ds.Errorf(diag.Pos{File: file}, 0, "%s %s", PipelineFileName, readError(err))
		}
		return p, ds
	}
	d := parseYAML(file, src, &ds)
	p.Files[file] = d.src
	if d.root == nil {
		return p, ds
	}
	if !checkSize(d) {
		return p, ds
	}
	checkLiteralSecrets(d, d.root, false)
	pipelineSchema().validate(d)
	l := &loader{d: d, p: p, opts: opts, dir: dir}
	l.load()
	p.Files[file] = d.shown()
	return p, ds
}

// read reads a file of the folder through opts, holding a reader that
// tests substitute to the same size limit.
func read(opts Options, name string) ([]byte, error) {
	b, err := opts.ReadFile(name)
	if err == nil {
		err = CheckFileSize(name, int64(len(b)))
	}
	return b, err
}

// Limits on a pipeline's size. They are far above any pipeline a person
// writes and reviews (a wide table has a few hundred columns), and keep
// validation, planning and the diagnostics of a folder small.
const (
	MaxStreams = 1_000
	MaxColumns = 2_000
)

// checkSize reports a pipeline with more streams, or a stream with more
// columns, than the limits, at the streams: or columns: key; nothing more
// is checked in such a file.
func checkSize(d *doc) bool {
	ok := true
	k, streams := get(d.root, "streams")
	if streams == nil || streams.Kind != yaml.MappingNode {
		return true
	}
	if n := len(streams.Content) / 2; n > MaxStreams {
		d.errorf(k, "streams: %s streams; a pipeline may have at most %s", count(n), count(MaxStreams))
		ok = false
	}
	pairs(streams, func(name, v *yaml.Node) {
		if k, cols := get(v, "columns"); cols != nil && cols.Kind == yaml.MappingNode && len(cols.Content)/2 > MaxColumns {
			d.errorf(k, "stream %s: %s columns; a stream may have at most %s", name.Value, count(len(cols.Content)/2), count(MaxColumns))
			ok = false
		}
	})
	return ok
}

type loader struct {
	d    *doc
	p    *Pipeline
	opts Options
	dir  string
	loc  *time.Location
	sql  []string // .sql files in the folder, for suggestions
}

func (l *loader) load() {
	d, p := l.d, l.p
	scalar := func(key string) (string, *yaml.Node) {
		_, n := get(d.root, key)
		s, _ := str(n)
		return s, n
	}
	p.Name, _ = scalar("name")
	p.Description, _ = scalar("description")
	var n *yaml.Node
	p.Schedule, n = scalar("schedule")
	if n == nil {
		p.Schedule = DefaultSchedule
	} else if sched, err := cronParser.Parse(p.Schedule); err != nil && p.Schedule != "" {
		d.errorf(n, "schedule: invalid cron expression %q: %v", p.Schedule, err)
	} else if strings.HasPrefix(p.Schedule, "TZ=") || strings.HasPrefix(p.Schedule, "CRON_TZ=") {
		d.errorf(n, "schedule: set the time zone with timezone:, not in the cron expression")
	} else if err == nil && sched.Next(l.opts.Now()).IsZero() {
		// The parser accepts days a month never has (30 2: February 30th).
		d.errorf(n, "schedule: %q never fires", p.Schedule)
	}
	p.Timezone, n = scalar("timezone")
	l.loc = time.UTC
	if n == nil {
		p.Timezone = "UTC"
	} else if loc, err := time.LoadLocation(p.Timezone); err != nil || p.Timezone == "" || p.Timezone == "Local" {
		d.errorf(n, "timezone: unknown time zone %q (use an IANA name such as UTC or America/New_York)", p.Timezone)
	} else {
		l.loc = loc
	}
	p.Location = l.loc
	if k, a := get(d.root, "alerts"); k != nil && a != nil && a.Kind == yaml.MappingNode {
		p.Alerts = &Alerts{Webhook: secretAt(a, "webhook")}
		if _, w := get(a, "webhook"); w != nil && w.Kind == yaml.ScalarNode {
			d.errorf(w, "alerts.webhook is written literally: the webhook URL is a secret; name the environment variable that holds it, {env: NAME}")
			d.mask(w)
		}
		if _, b := get(a, "behind"); b != nil {
			if v, err := time.ParseDuration(b.Value); err != nil || v <= 0 {
				d.errorf(b, "alerts.behind: %q is not a duration such as 30m or 6h", b.Value)
			} else {
				p.Alerts.Behind = v
			}
		}
	}
	if sched, err := cronParser.Parse(p.Schedule); err == nil {
		p.Cron = &Schedule{Expr: p.Schedule, loc: l.loc, s: sched}
	}

	_, defaults := get(d.root, "defaults")
	_, defSource := get(defaults, "source")
	_, defDest := get(defaults, "destination")
	_, streams := get(d.root, "streams")
	pairs(streams, func(k, v *yaml.Node) {
		if v.Kind != yaml.MappingNode {
			return // the schema reported it
		}
		p.Streams = append(p.Streams, l.stream(k, v, defSource, defDest))
	})
	sort.Slice(p.Streams, func(i, j int) bool { return p.Streams[i].Name < p.Streams[j].Name })
	l.order(p)
}

// field returns a setting of a stream's section, falling back to the
// section in defaults.
func field(section, def *yaml.Node, key string) (*yaml.Node, *yaml.Node) {
	if k, v := get(section, key); k != nil {
		return k, v
	}
	return get(def, key)
}

func (l *loader) stream(key, v, defSource, defDest *yaml.Node) *Stream {
	d := l.d
	s := &Stream{Name: key.Value, Pos: d.pos(key)}
	_, desc := get(v, "description")
	s.Description, _ = str(desc)
	_, src := get(v, "source")
	_, dst := get(v, "destination")

	// Connections decide the direction and the dialect of every type.
	s.Source.Connection, s.Source.ConnectionKind, s.Source.ConnectionPos = l.connection(s, src, defSource, "source", key)
	s.Destination.Connection, s.Destination.ConnectionKind, s.Destination.ConnectionPos = l.connection(s, dst, defDest, "destination", key)
	srcKind, dstKind := s.Source.ConnectionKind, s.Destination.ConnectionKind
	switch {
	case srcKind == "snowflake" && dstKind == "clickhouse":
		s.Direction = Pull
	case srcKind == "clickhouse" && dstKind == "snowflake":
		s.Direction = Push
	case srcKind != "" && srcKind == dstKind:
		d.errorf(key, "stream %s reads and writes %s: a stream moves data from Snowflake to ClickHouse or from ClickHouse to Snowflake", s.Name, srcKind)
	}
	if dstKind != "" {
		if c := l.opts.Connections.Get(s.Destination.Connection); c != nil && c.Access == ReadOnly {
			_, n := field(dst, defDest, "connection")
			d.errorf(n, "stream %s writes through connection %s, which is read_only", s.Name, c.Name)
		}
	}

	l.query(s, src, defSource, key)
	l.incremental(s, src, defSource)
	l.columns(s, v)
	if k, f := get(v, "filter"); k != nil {
		if text, ok := str(f); ok && text != "" {
			s.Filter = d.newExpr(f)
			checkExpr(d.ds, s.Filter, l.exprNames(s), true)
		}
	}
	l.destination(s, v, dst, defDest, key)
	if _, after := get(v, "after"); after != nil {
		for _, n := range after.Content {
			if name, ok := str(n); ok {
				s.After = append(s.After, name)
				s.AfterPos = append(s.AfterPos, d.pos(n))
			}
		}
	}
	return s
}

// connection resolves a source or destination connection name.
func (l *loader) connection(s *Stream, section, def *yaml.Node, what string, streamKey *yaml.Node) (string, Kind, diag.Pos) {
	d := l.d
	_, n := field(section, def, "connection")
	name, ok := str(n)
	if !ok {
		d.errorf(streamKey, "stream %s: no %s connection (set %s.connection here or in defaults)", s.Name, what, what)
		return "", "", diag.Pos{}
	}
	if l.opts.Connections == nil {
		d.errorf(n, "%s connection %q cannot be resolved: no connections file", what, name)
		return name, "", d.pos(n)
	}
	c := l.opts.Connections.Get(name)
	if c == nil {
		d.errorf(n, "unknown connection %q%s", name, diag.DidYouMean(name, l.opts.Connections.Names()))
		return name, "", d.pos(n)
	}
	return name, c.Kind, d.pos(n)
}

// query loads and checks the stream's SQL file.
func (l *loader) query(s *Stream, src, def, streamKey *yaml.Node) {
	d := l.d
	_, n := field(src, def, "query")
	rel, ok := str(n)
	if !ok {
		d.errorf(streamKey, "stream %s: no source query (set source.query to a .sql file)", s.Name)
		return
	}
	s.Source.QueryFile, s.Source.QueryPos = rel, d.pos(n)
	clean := path.Clean(filepath.ToSlash(rel))
	if path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
		d.errorf(n, "query %q is outside the pipeline folder: keep a pipeline's SQL inside its folder", rel)
		return
	}
	full := filepath.Join(l.dir, filepath.FromSlash(clean))
	s.Source.QueryPath = full
	b, err := read(l.opts, full)
	if err != nil {
		if l.sql == nil {
			for _, f := range l.opts.ListFiles(l.dir) {
				if strings.HasSuffix(f, ".sql") {
					l.sql = append(l.sql, f)
				}
			}
		}
		var fe *FileError
		switch {
		case errors.Is(err, fs.ErrNotExist):
			d.errorf(n, "query file %s not found%s", rel, diag.DidYouMean(clean, l.sql))
		case errors.As(err, &fe) && fe.Outside:
			d.errorf(n, "query %q %s: keep a pipeline's SQL inside its folder", rel, fe.Reason)
		default:
			d.errorf(n, "query %q %s", rel, readError(err))
		}
		return
	}
	b, bad := checkText(full, b)
	l.p.Files[full] = b
	if bad != nil {
		d.ds.Add(*bad)
		return
	}
	s.Source.SQL = string(b)
	toks := sqlscan.Scan(s.Source.SQL)
	upper := s.Source.ConnectionKind == "snowflake"
	if cols, complete := resultColumns(toks, upper); complete {
		s.Source.Columns = cols
	}
	for _, t := range toks {
		if t.Kind != sqlscan.Placeholder {
			continue
		}
		at := diag.Pos{File: full, Line: t.Line, Col: t.Col}
		if t.Text != WindowStart && t.Text != WindowEnd {
			d.ds.Errorf(at, len(t.Text)+1, "unknown placeholder :%s%s; queries can use :%s and :%s",
				t.Text, didYouMeanPlaceholder(t.Text), WindowStart, WindowEnd)
			continue
		}
		if !slices.Contains(s.Source.Placeholders, t.Text) {
			s.Source.Placeholders = append(s.Source.Placeholders, t.Text)
		}
	}
	if strings.TrimSpace(stripComments(toks)) == "" {
		d.errorf(n, "query file %s is empty", rel)
	}
	// The file is sent as one statement: a second would run too, or make
	// the database refuse the first.
	for i, t := range toks {
		if t.Kind == sqlscan.Punct && t.Text == ";" && i+1 < len(toks) {
			next := toks[i+1]
			d.ds.Errorf(diag.Pos{File: full, Line: next.Line, Col: next.Col}, len([]rune(next.Text)),
				"a second statement: a query file holds one query (end it at the ; on line %d)", t.Line)
			break
		}
	}
	l.p.Files[full] = checkPrivateKeys(d.ds, full, b)
}

func didYouMeanPlaceholder(name string) string {
	if s := diag.Suggest(name, []string{WindowStart, WindowEnd}); s != "" {
		return fmt.Sprintf(" (did you mean :%s?)", s)
	}
	return ""
}

func stripComments(toks []sqlscan.Token) string {
	var b strings.Builder
	for _, t := range toks {
		b.WriteString(t.Text)
	}
	return b.String()
}

// incremental merges the stream's incremental settings over the defaults'.
func (l *loader) incremental(s *Stream, src, def *yaml.Node) {
	d := l.d
	_, own := get(src, "incremental")
	_, inherited := get(def, "incremental")
	if b, ok := boolean(own); ok && !b {
		own, inherited = nil, nil
		if len(s.Source.Placeholders) > 0 {
			d.ds.Errorf(s.Source.QueryPos, 0, "%s uses :%s, but stream %s is not incremental (incremental: false)", s.Source.QueryFile, s.Source.Placeholders[0], s.Name)
		}
		return
	}
	// defaults may say incremental: false and a stream set its own.
	if inherited != nil && inherited.Kind != yaml.MappingNode {
		inherited = nil
	}
	if own != nil && own.Kind != yaml.MappingNode {
		own = nil // the schema reported it
	}
	if own == nil && inherited == nil {
		if len(s.Source.Placeholders) > 0 {
			d.ds.Errorf(s.Source.QueryPos, 0, "%s uses :%s, but stream %s has no incremental settings", s.Source.QueryFile, s.Source.Placeholders[0], s.Name)
		}
		return
	}
	inc := &Incremental{}
	get := func(key string) (string, *yaml.Node) {
		_, n := field(own, inherited, key)
		v, _ := str(n)
		return v, n
	}
	at := own
	if at == nil {
		at = inherited
	}
	var n *yaml.Node
	inc.Cursor, n = get("cursor")
	switch {
	case n == nil:
		d.errorf(at, "stream %s: incremental needs a cursor column", s.Name)
	default:
		inc.CursorPos = d.pos(n)
		if cols := s.Source.Columns; cols != nil {
			if c, ok := resolveName(inc.Cursor, cols, s.Source.ConnectionKind == "snowflake"); ok {
				inc.Cursor = c
			} else {
				d.errorf(n, "stream %s: cursor %s is not a column of %s%s", s.Name, inc.Cursor, s.Source.QueryFile, diag.DidYouMean(inc.Cursor, cols))
			}
		}
	}
	inc.StartText, n = get("start")
	started := false
	if n == nil {
		d.errorf(at, "stream %s: incremental needs a start (where the backfill begins)", s.Name)
	} else if t, err := parseStart(inc.StartText, l.loc); err != nil {
		d.errorf(n, "start: %v", err)
	} else {
		inc.Start, started = t, true
	}
	var text string
	text, n = get("window")
	if n == nil {
		d.errorf(at, "stream %s: incremental needs a window size (for example 1d or 7d)", s.Name)
	} else if w, err := ParseSpan(text); err != nil {
		d.errorf(n, "window: %v", err)
	} else if w.IsZero() || w.Approx() < time.Minute {
		d.errorf(n, "window: must be at least 1m")
	} else {
		inc.Window = w
		if started {
			// Seconds, so that year 1 does not overflow a Duration.
			cut := float64(l.opts.Now().Unix()-inc.Start.Unix()) / w.Approx().Seconds()
			if cut > MaxWindows {
				d.errorf(n, "window: %s windows from %s to now cut about %s windows; a stream may cut at most %s: start later or use larger windows",
					w, inc.StartText, count(int(min(cut, 1e15))), count(MaxWindows))
			}
		}
	}
	if text, n = get("lookback"); n != nil {
		if lb, err := ParseSpan(text); err != nil {
			d.errorf(n, "lookback: %v", err)
		} else {
			inc.Lookback = lb
		}
	}
	for _, ph := range []string{WindowStart, WindowEnd} {
		if s.Source.SQL != "" && !slices.Contains(s.Source.Placeholders, ph) {
			d.ds.Errorf(s.Source.QueryPos, len(s.Source.QueryFile), "%s does not use :%s: an incremental stream's query must read only its window (WHERE %s >= :%s AND %s < :%s)",
				s.Source.QueryFile, ph, inc.Cursor, WindowStart, inc.Cursor, WindowEnd)
		}
	}
	s.Incremental = inc
}

// parseStart reads a backfill start: a date, read as midnight in loc, or
// an RFC 3339 timestamp.
func parseStart(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a date (2022-01-01) or an RFC 3339 timestamp (2022-01-01T00:00:00Z)", s)
}

// resolveName finds name among cols; Snowflake's unquoted identifiers are
// case-insensitive, so a unique case-insensitive match counts there.
func resolveName(name string, cols []string, foldCase bool) (string, bool) {
	if slices.Contains(cols, name) {
		return name, true
	}
	if !foldCase {
		return "", false
	}
	found := ""
	for _, c := range cols {
		if strings.EqualFold(c, name) {
			if found != "" {
				return "", false
			}
			found = c
		}
	}
	return found, found != ""
}

// exprNames returns the names expressions may use: the source's result
// columns, or nil when they are unknown.
func (l *loader) exprNames(s *Stream) []string {
	return s.Source.Columns
}

func (l *loader) columns(s *Stream, v *yaml.Node) {
	d := l.d
	_, cols := get(v, "columns")
	dialect := sqltype.ClickHouse
	if s.Destination.ConnectionKind == "snowflake" {
		dialect = sqltype.Snowflake
	}
	pairs(cols, func(k, cv *yaml.Node) {
		if cv.Kind != yaml.MappingNode {
			return // the schema reported it
		}
		c := &Column{Name: k.Value, Pos: d.pos(k)}
		if err := checkColumnName(c.Name, s.Destination.ConnectionKind); err != nil {
			d.errorf(k, "column %q: %v", c.Name, err)
		}
		fk, from := get(cv, "from")
		ek, ex := get(cv, "expr")
		switch {
		case fk != nil && ek != nil:
			d.errorf(ek, "column %s: set from or expr, not both", c.Name)
		case ek != nil:
			if text, ok := str(ex); ok && text != "" {
				c.Expr = d.newExpr(ex)
				checkExpr(d.ds, c.Expr, l.exprNames(s), false)
			}
		default:
			c.From, c.FromPos = c.Name, d.pos(k)
			if fk != nil {
				c.From, _ = str(from)
				c.FromPos = d.pos(from)
			}
			if srcCols := s.Source.Columns; srcCols != nil && c.From != "" {
				if name, ok := resolveName(c.From, srcCols, s.Source.ConnectionKind == "snowflake"); ok {
					c.From = name
				} else if fk != nil {
					d.errorf(from, "column %s: %s is not a column of %s%s", c.Name, c.From, s.Source.QueryFile, diag.DidYouMean(c.From, srcCols))
				} else {
					d.errorf(k, "column %s: no source column %s in %s; set from or expr%s", c.Name, c.From, s.Source.QueryFile, diag.DidYouMean(c.From, srcCols))
				}
			}
		}
		_, tn := get(cv, "type")
		c.TypeText, _ = str(tn)
		if tn != nil {
			c.TypePos = d.pos(tn)
		}
		if c.TypeText != "" && s.Destination.ConnectionKind != "" {
			t, err := sqltype.Parse(dialect, c.TypeText)
			if err != nil {
				at := c.TypePos
				var se *sqltype.SyntaxError
				if errors.As(err, &se) {
					at.Col += se.Offset
					if tn.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
						at.Col++
					}
				}
				hint := ""
				if cv.Style&yaml.FlowStyle != 0 && strings.Contains(err.Error(), "missing )") {
					hint = ` (inside {...} a comma ends the value: quote the type, as in type: "Decimal(38, 2)")`
				}
				width := 0
				if se != nil {
					width = len(c.TypeText) - se.Offset
				}
				d.ds.Errorf(at, width, "column %s: invalid %s type %q: %v%s", c.Name, dialectName(dialect), c.TypeText, err, hint)
			} else {
				c.Type = t
			}
		}
		if nk, nn := get(cv, "nullable"); nk != nil && c.Type.Kind != sqltype.Invalid {
			want, _ := boolean(nn)
			switch {
			case dialect == sqltype.ClickHouse && !want && c.Type.Nullable:
				d.errorf(nn, "column %s: nullable: false contradicts type %s", c.Name, c.TypeText)
			case dialect == sqltype.Snowflake && want && !c.Type.Nullable:
				d.errorf(nn, "column %s: nullable: true contradicts type %s", c.Name, c.TypeText)
			case dialect == sqltype.ClickHouse && want && (c.Type.Kind == sqltype.Array || c.Type.Kind == sqltype.Map):
				d.errorf(nn, "column %s: ClickHouse cannot make %s Nullable", c.Name, c.TypeText)
			default:
				c.Type.Nullable = want
			}
		}
		if dk, dv := get(cv, "default"); dk != nil {
			text, _ := str(dv)
			c.Default = &text
			if err := checkDefault(c.Type, text); err != nil {
				d.errorf(dv, "column %s: default %v", c.Name, err)
			}
		}
		if _, al := get(cv, "allow_lossy"); al != nil {
			c.AllowLossy, _ = boolean(al)
		}
		s.Columns = append(s.Columns, c)
	})
}

// checkColumnName says why the destination cannot hold a column named
// name, or returns nil.
func checkColumnName(name string, kind Kind) error {
	switch kind {
	case "clickhouse":
		return ddl.CheckClickHouseName(name)
	case "snowflake":
		return ddl.CheckSnowflakeName(name)
	}
	return nil
}

func dialectName(d sqltype.Dialect) string {
	if d == sqltype.Snowflake {
		return "Snowflake"
	}
	return "ClickHouse"
}

// checkDefault checks that a default value fits the column's type.
func checkDefault(t sqltype.Type, v string) error {
	switch t.Kind {
	case sqltype.Int, sqltype.UInt:
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			return fmt.Errorf("%q is not an integer", v)
		}
	case sqltype.Float, sqltype.Decimal:
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return fmt.Errorf("%q is not a number", v)
		}
	case sqltype.Bool:
		if _, err := strconv.ParseBool(v); err != nil {
			return fmt.Errorf("%q is not true or false", v)
		}
	case sqltype.Date:
		if _, err := time.Parse(time.DateOnly, v); err != nil {
			return fmt.Errorf("%q is not a date (2022-01-01)", v)
		}
	case sqltype.Timestamp:
		if _, err := time.Parse(time.RFC3339Nano, v); err != nil {
			if _, err := time.Parse(time.DateOnly, v); err != nil {
				return fmt.Errorf("%q is not a timestamp (2022-01-01T00:00:00Z)", v)
			}
		}
	}
	return nil
}

// streamKeys are the fields of a stream.
var streamKeys = []string{"description", "source", "filter", "columns", "destination"}

func hasUnknownKey(n *yaml.Node, known []string) bool {
	unknown := false
	pairs(n, func(k, _ *yaml.Node) {
		if !slices.Contains(known, k.Value) {
			unknown = true
		}
	})
	return unknown
}

func (l *loader) destination(s *Stream, streamNode, dst, def, streamKey *yaml.Node) {
	d := l.d
	dd := &s.Destination
	kind := dd.ConnectionKind
	if _, n := field(dst, def, "table"); n != nil {
		dd.Table, _ = str(n)
		dd.TablePos = d.pos(n)
		if err := checkTableName(dd.Table, kind); err != nil {
			d.errorf(n, "table: %v", err)
		}
	} else {
		// A misspelled destination key was reported as an unknown field;
		// saying the destination is missing would only echo it.
		if !hasUnknownKey(streamNode, streamKeys) {
			d.errorf(streamKey, "stream %s: no destination table", s.Name)
		}
		return
	}
	_, create := field(dst, def, "create")
	dd.Create, _ = boolean(create)

	names := make([]string, len(s.Columns))
	for i, c := range s.Columns {
		names[i] = c.Name
	}
	checkCols := func(n *yaml.Node, what string, cols []string) {
		for i, c := range cols {
			at := n
			if n.Kind == yaml.SequenceNode && i < len(n.Content) {
				at = n.Content[i]
			}
			if !slices.Contains(names, c) {
				d.errorf(at, "%s: %s is not a destination column%s", what, c, diag.DidYouMean(c, names))
			}
		}
	}

	modeKey, modeNode := field(dst, def, "mode")
	if modeKey != nil {
		m, _ := str(modeNode)
		dd.Mode, dd.ModePos = Mode(m), d.pos(modeNode)
	} else if s.Incremental != nil {
		dd.Mode = Append
	} else {
		dd.Mode = Replace
	}
	if k, n := field(dst, def, "key"); k != nil {
		dd.Key, dd.KeyPos = stringList(n), d.pos(n)
		checkCols(n, "key", dd.Key)
	}
	if k, n := field(dst, def, "version"); k != nil {
		dd.Version, _ = str(n)
		dd.VersionPos = d.pos(n)
		checkCols(n, "version", []string{dd.Version})
		if dd.Mode != Upsert {
			d.errorf(k, "version is used only by mode upsert, not %s", dd.Mode)
		}
	}
	if k, n := field(dst, def, "partition"); k != nil {
		dd.PartitionText, _ = str(n)
		dd.PartitionPos = d.pos(n)
		if kind == "snowflake" {
			d.errorf(k, "partition applies to ClickHouse destinations; Snowflake tables are not partitioned by Sluice")
		} else if e, ok := l.keyExpr(s, n, "partition", names, dst); ok {
			dd.Partition = &e
		}
	}
	if k, n := field(dst, def, "order_by"); k != nil {
		dd.OrderByPos = d.pos(n)
		if kind == "snowflake" {
			d.errorf(k, "order_by applies to ClickHouse destinations")
		} else {
			items := []*yaml.Node{n}
			if n.Kind == yaml.SequenceNode {
				items = n.Content
			}
			for _, it := range items {
				if e, ok := l.keyExpr(s, it, "order_by", names, n); ok {
					dd.OrderBy = append(dd.OrderBy, e)
				}
			}
		}
	}
	if kind == "clickhouse" {
		l.keyNames(s, dst, def)
	}

	modeAt := modeNode
	if modeAt == nil {
		modeAt = streamKey
	}
	switch dd.Mode {
	case Upsert:
		if kind == "snowflake" {
			d.errorf(modeAt, "mode upsert is for ClickHouse destinations; use merge to update rows by key in Snowflake")
		}
	case Merge:
		if kind == "clickhouse" {
			d.errorf(modeAt, "mode merge is for Snowflake destinations; use upsert to keep the latest row per key in ClickHouse")
		}
	case Append:
		if s.Incremental == nil {
			d.errorf(modeAt, "mode append needs incremental windows: without them every run would add every row again; use replace, or set source.incremental")
		} else if s.Incremental.Cursor != "" && windowColumn(s) == nil && len(s.Columns) > 0 {
			d.errorf(modeAt, "mode append replaces each window by its cursor: map the cursor %s to a destination column", s.Incremental.Cursor)
		}
		if len(dd.Key) > 0 {
			fix := "upsert"
			if kind == "snowflake" {
				fix = "merge"
			}
			d.ds.Warnf(dd.KeyPos, 0, "mode append does not deduplicate by key: a row whose cursor moves to a later window is written again there and its old copy stays until its old window is read again; use mode %s to keep one row per key", fix)
		}
	}
	if (dd.Mode == Upsert || dd.Mode == Merge) && len(dd.Key) == 0 {
		d.errorf(modeAt, "mode %s needs a key: the columns that identify a row", dd.Mode)
	}
	l.nullableKeys(s, dst, def)
}

// nullableKeys reports key columns that may hold NULL where that fails
// later: ClickHouse refuses a Nullable column in a sorting key (ORDER BY:
// order_by, else key, else the cursor's column), and a Snowflake MERGE
// never matches a NULL key, so such rows would be inserted again on every
// run.
func (l *loader) nullableKeys(s *Stream, dst, def *yaml.Node) {
	dd := &s.Destination
	at := func(name string, i int, fallback diag.Pos) diag.Pos {
		if _, list := field(dst, def, name); list != nil && list.Kind == yaml.SequenceNode && i < len(list.Content) {
			return l.d.pos(list.Content[i])
		}
		return fallback
	}
	switch dd.ConnectionKind {
	case "clickhouse":
		if k, _ := field(dst, def, "order_by"); k != nil {
			return // keyExpr checked the columns order_by names
		}
		for i, name := range dd.Key {
			if c := s.Column(name); c != nil && c.Type.Nullable {
				l.d.ds.Errorf(at("key", i, dd.KeyPos), len([]rune(name)), "key: %s", nullableSortKey(c))
			}
		}
	case "snowflake":
		if dd.Mode != Merge {
			return
		}
		for i, name := range dd.Key {
			if c := s.Column(name); c != nil && c.Type.Nullable && c.Type.Kind != sqltype.Invalid {
				l.d.ds.Errorf(at("key", i, dd.KeyPos), len([]rune(name)), "key: column %s may be NULL, and MERGE never matches a NULL key, so such rows would be inserted again on every run: set nullable: false", name)
			}
		}
	}
}

// keyExpr parses a partition or order_by expression of a ClickHouse
// destination and checks it names only columns the table has and can
// keep there; every problem is reported at its place in the expression.
// in is the mapping or list holding n, for a hint when it is written
// inline, where a comma ends a value.
func (l *loader) keyExpr(s *Stream, n *yaml.Node, what string, names []string, in *yaml.Node) (ddl.KeyExpr, bool) {
	d := l.d
	text, ok := str(n)
	if !ok {
		return ddl.KeyExpr{}, false // the schema reported it
	}
	ex := d.newExpr(n)
	at := func(off int) diag.Pos { return ex.At(utf8.RuneCountInString(text[:off])) }
	width := func(off, end int) int { return utf8.RuneCountInString(text[off:end]) }
	e, err := ddl.ParseKey(text)
	var ke *ddl.KeyError
	if errors.As(err, &ke) {
		hint := ""
		if in != nil && in.Style&yaml.FlowStyle != 0 && n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) == 0 && strings.Contains(ke.Msg, "is not closed") {
			hint = ` (inside [...] or {...} a comma ends the value: quote the expression, as in "intDiv(id, 10)")`
		}
		d.ds.Errorf(at(ke.Offset), width(ke.Offset, ke.Offset+ke.Len), "%s: %s%s", what, ke.Msg, hint)
		return e, false
	}
	good := true
	if len(e.Columns()) == 0 && !(e.Kind == ddl.KeyTuple && len(e.Args) == 0 && what == "order_by") {
		d.errorf(n, "%s: %s names no column: ClickHouse cannot partition or sort by a constant", what, text)
		good = false
	}
	for _, c := range e.Columns() {
		switch {
		case !slices.Contains(names, c.Name):
			d.ds.Errorf(at(c.Offset), width(c.Offset, c.End), "%s: %s is not a destination column%s", what, c.Name, diag.DidYouMean(c.Name, names))
			good = false
		case ddl.CheckClickHouseKeyName(c.Name) != nil:
			d.ds.Errorf(at(c.Offset), width(c.Offset, c.End), "%s: %v", what, ddl.CheckClickHouseKeyName(c.Name))
			good = false
		case what == "order_by":
			if col := s.Column(c.Name); col != nil && col.Type.Nullable {
				d.ds.Errorf(at(c.Offset), width(c.Offset, c.End), "%s: %s", what, nullableSortKey(col))
			}
		}
	}
	return e, good
}

func nullableSortKey(c *Column) string {
	return fmt.Sprintf("column %s is %s: ClickHouse refuses a Nullable column in a sorting key (ORDER BY); declare it without Nullable, with a default", c.Name, c.TypeText)
}

// keyNames checks the names a ClickHouse destination uses in its table's
// key expressions and in the delete that replaces an append window (the
// key, the version, the window column) are names ClickHouse can keep
// there. Partition and order_by expressions are checked as they are
// parsed.
func (l *loader) keyNames(s *Stream, dst, def *yaml.Node) {
	d, dd := l.d, &s.Destination
	for _, f := range []string{"key", "version"} {
		_, n := field(dst, def, f)
		items := []*yaml.Node{n}
		if n != nil && n.Kind == yaml.SequenceNode {
			items = n.Content
		}
		for _, it := range items {
			if name, ok := str(it); ok {
				if err := ddl.CheckClickHouseKeyName(name); err != nil {
					d.errorf(it, "%s: %v", f, err)
				}
			}
		}
	}
	if w := windowColumn(s); w != nil && (dd.Mode == Append || len(dd.OrderBy) == 0 && len(dd.Key) == 0) {
		if err := ddl.CheckClickHouseKeyName(w.Name); err != nil {
			d.ds.Errorf(w.Pos, len([]rune(w.Name)), "column %s carries the cursor, which the table's sorting key or the delete that replaces a window names: %v", w.Name, err)
		}
	}
}

// windowColumn returns the destination column that carries the cursor,
// which windows are replaced by, or nil.
func windowColumn(s *Stream) *Column {
	if s.Incremental == nil {
		return nil
	}
	for _, c := range s.Columns {
		if c.Expr == nil && strings.EqualFold(c.From, s.Incremental.Cursor) {
			return c
		}
	}
	return nil
}

// WindowColumn returns the destination column that holds the stream's
// cursor, or nil.
func (s *Stream) WindowColumn() *Column { return windowColumn(s) }

// checkTableName checks a destination table name's shape: db.table in
// ClickHouse, [DATABASE.][SCHEMA.]TABLE in Snowflake.
func checkTableName(name string, kind Kind) error {
	parts := strings.Split(name, ".")
	maxParts := 2
	if kind == "snowflake" {
		maxParts = 3
	}
	if len(parts) > maxParts {
		return fmt.Errorf("%q has %d parts; %s tables are named with at most %d", name, len(parts), kind, maxParts)
	}
	for _, p := range parts {
		if p == "" || !sqlscan.IsIdentStart(rune(p[0])) || strings.IndexFunc(p, func(r rune) bool { return !sqlscan.IsIdentPart(r) }) >= 0 {
			return fmt.Errorf("%q is not a plain table name (letters, digits, _ and $, dot-separated)", name)
		}
	}
	return nil
}

// maxListed bounds the files walkFiles lists: suggestions need a few, and
// a folder holding a vendored tree should not make validation walk it all.
const maxListed = 10_000

// walkFiles lists the files under dir, relative to it, with slashes.
func walkFiles(dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if len(out) >= maxListed {
			return fs.SkipAll
		}
		if err == nil && !e.IsDir() {
			if rel, err := filepath.Rel(dir, p); err == nil {
				out = append(out, filepath.ToSlash(rel))
			}
		}
		return nil
	})
	sort.Strings(out)
	return out
}
