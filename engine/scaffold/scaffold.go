// Package scaffold proposes pipeline streams from what a live catalog
// says of source tables, for `sluice init`: the columns with the lossless
// destination type of each (sqltype.ClickHouseFor and SnowflakeFor, the
// README's type mapping, then ddl.ClickHouseType for the destination
// server's version), a cursor, a window, a key and a write mode, each
// with the reason it was chosen. It is pure: the command gathers the
// facts (Table) through the catalogs and writes the files; Merge folds
// the proposal into an existing pipeline.yaml without changing what is
// there.
package scaffold

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/hockeystack/sluice/engine/config"
	"github.com/hockeystack/sluice/engine/ddl"
	"github.com/hockeystack/sluice/engine/plan"
	"github.com/hockeystack/sluice/engine/sqltype"
)

// TableName names a source table exactly, as the catalog spells it (no
// quoting, case kept). ClickHouse tables have no Schema.
type TableName struct{ Database, Schema, Name string }

func (n TableName) String() string {
	var parts []string
	for _, p := range []string{n.Database, n.Schema, n.Name} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ".")
}

// Span is the earliest and latest value of a column, when it holds any.
type Span struct{ Min, Max time.Time }

// Table is what init knows of one source table.
type Table struct {
	Name    TableName
	Columns []plan.TypedColumn
	// Keys are the column sets the source declares unique: the primary
	// key first, then unique constraints (Snowflake), or the sorting key
	// of a ReplacingMergeTree (ClickHouse).
	Keys []Key
	// Rows is the table's row count; Spans the earliest and latest value
	// of the cursor candidates (Candidates) that hold any.
	Rows  int64
	Spans map[string]Span
}

// Key is a set of columns the source declares unique, and what declares it.
type Key struct {
	Columns []string
	Why     string // "the primary key", "unique constraint U_EMAIL", ...
}

// Options say where the streams go.
type Options struct {
	// Push: the source is ClickHouse and the destination Snowflake.
	Push                bool
	Source, Destination string // connection names
	// Database qualifies destination tables: a ClickHouse database, or a
	// Snowflake DATABASE.SCHEMA (or SCHEMA). "" leaves them to the
	// connection's default.
	Database string
	// ClickHouse is the destination server's version (pulls), Server how
	// it was read ("ClickHouse 18.16.1, read live").
	ClickHouse ddl.ClickHouseVersion
	Server     string
	// KeepOffset adds, for each TIMESTAMP_TZ column, a column with its
	// UTC offset in minutes (the README's recipe).
	KeepOffset bool
	// TargetRows is how many rows a window should hold (default 1,000,000).
	TargetRows int64
	// Now bounds the window count check; zero means time.Now().
	Now time.Time
	// Qualify names the stream after the table's schema (ClickHouse:
	// database) and name, for tables of the same name in one folder.
	Qualify bool
}

// ProposeAll proposes a stream for each table; tables that share a name
// get streams named after their schema too.
func ProposeAll(tables []Table, o Options) ([]Proposal, error) {
	seen := map[string]int{}
	for _, t := range tables {
		seen[StreamName(t.Name.Name)]++
	}
	var out []Proposal
	for _, t := range tables {
		q := o
		q.Qualify = seen[StreamName(t.Name.Name)] > 1
		s, err := Propose(t, q)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// Proposal is the stream proposed for one table.
type Proposal struct {
	Name   string
	Table  TableName
	Query  string // sql/<name>.sql
	SQL    string
	Select []string // the query's select items, quoted, one per line
	// Columns in table order, then offsets.
	Columns []Mapping
	// Cursor is the source column windows are read by, "" for a full read.
	Cursor, Window, Start, Lookback string
	Mode                            config.Mode
	Key                             []string // destination columns
	Version                         string
	OrderBy                         []string
	DestTable                       string
	// Notes are the comment above the stream: why each choice was made
	// and what to check.
	Notes []string
}

// Mapping is one destination column.
type Mapping struct {
	Name       string // destination column
	From       string // source column (result column of the query)
	WriteFrom  bool   // from: must be written (the name does not match case-insensitively and uniquely)
	Type       string // in the destination's dialect
	Nullable   *bool  // Snowflake push: nullable: false
	AllowLossy bool
	Comment    string
	// Select is the query's select item for the column, quoted.
	Select string
}

// Candidates are the columns of cols that could be a cursor: dates and
// timestamps. Init reads their earliest and latest values.
func Candidates(cols []plan.TypedColumn) []string {
	var out []string
	for _, c := range cols {
		if c.Type.Kind == sqltype.Timestamp || c.Type.Kind == sqltype.Date {
			out = append(out, c.Name)
		}
	}
	return out
}

var (
	updateName = regexp.MustCompile(`(?i)(updated|modified|modstamp|changed|last_?mod|update_?(time|date|ts|at)|_synced|edited)`)
	createName = regexp.MustCompile(`(?i)(created|inserted|creation|create_?(time|date|ts)|_loaded|loaded_at)`)
	eventName  = regexp.MustCompile(`(?i)(_at$|_time$|_ts$|_date$|^ts$|^timestamp$|^time$|^date$|occurred|event)`)
)

// cursorKind grades a candidate: 3 an update time, 2 a creation time, 1
// an event time, 0 none.
func cursorKind(name string) int {
	switch {
	case updateName.MatchString(name):
		return 3
	case createName.MatchString(name):
		return 2
	case eventName.MatchString(name):
		return 1
	}
	return 0
}

// Propose proposes a stream for t.
func Propose(t Table, o Options) (Proposal, error) {
	if len(t.Columns) == 0 {
		return Proposal{}, fmt.Errorf("%s has no columns", t.Name)
	}
	if o.TargetRows <= 0 {
		o.TargetRows = 1_000_000
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	s := Proposal{Name: StreamName(t.Name.Name), Table: t.Name}
	if o.Qualify {
		s.Name = StreamName(t.Name.Schema + "_" + t.Name.Name)
		if o.Push {
			s.Name = StreamName(t.Name.Database + "_" + t.Name.Name)
		}
	}
	s.Query = "sql/" + s.Name + ".sql"
	s.DestTable = destTable(s.Name, o)
	s.Notes = append(s.Notes, fmt.Sprintf("From %s: %s rows, %d columns.", t.Name, count(t.Rows), len(t.Columns)))

	// Cursor: an update time, else a creation (or event) time, else a
	// full read.
	cursor, grade := "", 0
	for _, name := range Candidates(t.Columns) {
		if g := cursorKind(name); g > grade {
			cursor, grade = name, g
		}
	}
	if cursor != "" {
		if _, ok := t.Spans[cursor]; !ok && t.Rows > 0 {
			cursor, grade = "", 0 // every value NULL: nothing to window by
		}
	}
	key, keyWhy := chooseKey(t)

	inKey := map[string]bool{cursor: cursor != ""}
	for _, k := range key {
		inKey[k] = true
	}
	names := destNames(t.Columns, o.Push, inKey)
	lower := map[string]int{}
	for _, c := range t.Columns {
		lower[strings.ToLower(c.Name)]++
	}
	// Columns in a sorting key, the version or the window must not be
	// Nullable (ClickHouse) and a merge key must not be (Snowflake).
	notNull := map[string]string{}
	for _, k := range key {
		notNull[k] = "key"
	}
	if cursor != "" {
		notNull[cursor] = "cursor"
	}
	for i, c := range t.Columns {
		m, err := mapColumn(c, names[i], o, notNull[c.Name])
		if err != nil {
			s.Notes = append(s.Notes, fmt.Sprintf("CHECK: column %s (%s) is left out: %v.", c.Name, c.Type.Plain(), err))
			continue
		}
		// A Snowflake source's columns match case-insensitively, a
		// ClickHouse source's exactly.
		m.WriteFrom = m.Name != c.Name && (o.Push || !strings.EqualFold(m.Name, c.Name) || lower[strings.ToLower(c.Name)] > 1)
		s.Columns = append(s.Columns, m)
		if o.KeepOffset && !o.Push && c.Type.Kind == sqltype.Timestamp && c.Type.Zone == sqltype.Offset {
			s.Columns = append(s.Columns, offsetColumn(c, names[i], t.Columns, o))
		}
	}
	if len(s.Columns) == 0 {
		return Proposal{}, fmt.Errorf("%s has no column with a lossless destination type", t.Name)
	}
	dest := func(src string) string {
		for _, m := range s.Columns {
			if m.From == src {
				return m.Name
			}
		}
		return ""
	}
	var keyDest []string
	for _, k := range key {
		if d := dest(k); d != "" {
			keyDest = append(keyDest, d)
		} else {
			keyDest = nil // a key column left out: no key
			break
		}
	}

	// Window and start.
	if cursor != "" {
		s.Cursor = cursor
		what := map[int]string{3: "an update time: each run reads the rows changed since the last", 2: "a creation time: each run reads the rows added since the last; rows changed later are not read again", 1: "an event time (no update or creation time found): each run reads the rows whose time falls after the last; rows changed later are not read again"}[grade]
		s.Notes = append(s.Notes, fmt.Sprintf("Cursor %s, %s.", cursor, what))
		sp, ok := t.Spans[cursor]
		win, why := windowFor(t.Rows, sp, ok, colType(t, cursor), o)
		s.Window = win.String()
		s.Notes = append(s.Notes, why)
		start := o.Now.UTC()
		if ok {
			start = sp.Min.UTC()
		}
		start = time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, time.UTC)
		if win.Unit == config.Month {
			start = time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, time.UTC)
		}
		s.Start = start.Format("2006-01-02")
		if ok {
			s.Notes = append(s.Notes, fmt.Sprintf("Start %s: the earliest %s is %s.", s.Start, cursor, sp.Min.UTC().Format(time.RFC3339)))
		} else {
			s.Notes = append(s.Notes, fmt.Sprintf("Start %s: the table is empty; CHECK: set start to where its history begins.", s.Start))
		}
		s.Lookback = "2h"
		s.Notes = append(s.Notes, fmt.Sprintf("Lookback 2h: each run reads the last 2 hours again, for rows written late; CHECK: how late %s can be written.", cursor))
		s.Notes = append(s.Notes, fmt.Sprintf("CHECK: rows whose %s is NULL are never read (the windows filter on it).", cursor))
	} else {
		s.Notes = append(s.Notes, "No cursor: no update, creation or event time among the columns, so every run reads the whole table; CHECK: name a cursor column if the table has one under another name.")
	}

	// Key and mode.
	switch {
	case len(keyDest) > 0 && grade == 3:
		s.Mode, s.Key, s.Version = config.Upsert, keyDest, dest(cursor)
		if o.Push {
			s.Mode, s.Version = config.Merge, ""
		}
		s.Notes = append(s.Notes, fmt.Sprintf("Key %s: %s.", strings.Join(key, ", "), keyWhy))
		if o.Push {
			s.Notes = append(s.Notes, "Mode merge: a key and an update time, so each run MERGEs the changed rows on the key.")
		} else {
			s.Notes = append(s.Notes, fmt.Sprintf("Mode upsert: a key and an update time, so the latest version of each row wins (ReplacingMergeTree by %s, version %s).", strings.Join(keyDest, ", "), s.Version))
		}
		s.Notes = append(s.Notes, "CHECK: the source does not enforce the key; rows sharing it collapse into one.")
	case cursor != "":
		s.Mode = config.Append
		if len(keyDest) > 0 && !o.Push {
			s.OrderBy = keyExprs(keyDest)
			s.Notes = append(s.Notes, fmt.Sprintf("Sorted by %s: %s.", strings.Join(key, ", "), keyWhy))
		}
		why := "Mode append: each window is replaced as a whole when it is read again."
		switch {
		case grade == 3:
			why += " CHECK: there is no declared key, so a row updated into a later window is written again there; declare a key and switch to " + map[bool]string{true: "merge", false: "upsert"}[o.Push] + " to keep one row per key."
		case len(keyDest) == 0:
			why += " No key is declared."
		}
		s.Notes = append(s.Notes, why)
	default:
		s.Mode = config.Replace
		if len(keyDest) > 0 && !o.Push {
			s.OrderBy = keyExprs(keyDest)
			s.Notes = append(s.Notes, fmt.Sprintf("Sorted by %s: %s.", strings.Join(key, ", "), keyWhy))
		}
		s.Notes = append(s.Notes, "Mode replace: without a cursor each run loads the whole table and swaps it in.")
	}
	s.SQL, s.Select = buildSQL(t, s, o)
	return s, nil
}

// keyExprs writes column names as order_by expressions: a name that is
// not a plain identifier in backticks.
func keyExprs(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = n
		if !plainLower.MatchString(n) && !plainUpper.MatchString(n) {
			out[i] = ddl.QuoteClickHouse(n)
		}
	}
	return out
}

// chooseKey is the table's primary key, else its first unique key whose
// columns are all NOT NULL, else its first unique key.
func chooseKey(t Table) ([]string, string) {
	for _, k := range t.Keys {
		ok := true
		for _, c := range k.Columns {
			if ct := colType(t, c); ct.Nullable || ct.Kind == sqltype.Invalid {
				ok = false
			}
		}
		if ok {
			return k.Columns, k.Why
		}
	}
	if len(t.Keys) > 0 {
		return t.Keys[0].Columns, t.Keys[0].Why + " (its columns may be NULL: a NULL stops the window)"
	}
	return nil, ""
}

func colType(t Table, name string) sqltype.Type {
	for _, c := range t.Columns {
		if c.Name == name {
			return c.Type
		}
	}
	return sqltype.Type{}
}

// windows are the window lengths init chooses from, shortest first.
var windows = []config.Span{{N: 1, Unit: config.Hour}, {N: 1, Unit: config.Day}, {N: 1, Unit: config.Week}, {N: 1, Unit: config.Month}}

// windowFor picks the longest window that holds at most o.TargetRows
// rows at the table's average rate, and never one that cuts more than
// 100,000 windows up to now or is shorter than a day for a DATE cursor.
func windowFor(rows int64, sp Span, known bool, t sqltype.Type, o Options) (config.Span, string) {
	if !known || rows == 0 {
		return windows[1], "Window 1d: the table is empty, so there is no rate to size windows by; CHECK: size it once rows arrive (about 1M rows a window)."
	}
	span := sp.Max.Sub(sp.Min)
	if span < time.Hour {
		span = time.Hour
	}
	perHour := float64(rows) / span.Hours()
	chosen := -1
	for i, w := range windows {
		if perHour*w.Approx().Hours() <= float64(o.TargetRows) {
			chosen = i
		}
	}
	min := 0
	if t.Kind == sqltype.Date {
		min = 1
	}
	for min < len(windows)-1 && o.Now.Sub(sp.Min).Hours()/windows[min].Approx().Hours() > 100_000 {
		min++
	}
	note := ""
	if chosen < min {
		if chosen < 0 {
			note = fmt.Sprintf(" CHECK: even an hour holds about %s rows, more than the %s a window aims at.", count(int64(perHour)), count(o.TargetRows))
		}
		chosen = min
	}
	w := windows[chosen]
	return w, fmt.Sprintf("Window %s: %s rows over %s (%s to %s) is about %s rows a window, aiming at %s at most.%s",
		w, count(rows), human(sp.Max.Sub(sp.Min)), sp.Min.UTC().Format("2006-01-02"), sp.Max.UTC().Format("2006-01-02"),
		count(int64(perHour*w.Approx().Hours()+0.5)), count(o.TargetRows), note)
}

func human(d time.Duration) string {
	switch h := d.Hours(); {
	case h < 48:
		return fmt.Sprintf("%.0f hours", h)
	case h < 24*90:
		return fmt.Sprintf("%.0f days", h/24)
	default:
		return fmt.Sprintf("%.1f years", h/24/365.25)
	}
}

// count writes n with thousands separators.
func count(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return s
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// mapColumn maps one source column to its lossless destination type on
// the destination server. role is "key" or "cursor" when the column must
// not be Nullable there.
func mapColumn(c plan.TypedColumn, name string, o Options, role string) (Mapping, error) {
	m := Mapping{Name: name, From: c.Name, Select: quoteSource(c.Name, o.Push)}
	if o.Push {
		t, err := sqltype.SnowflakeFor(c.Type)
		if err != nil {
			return m, err
		}
		t.Nullable = true
		m.Type = t.String()
		m.Comment = c.Type.String()
		if !c.Type.Nullable {
			f := false
			m.Nullable = &f
		} else if role == "key" {
			f := false
			m.Nullable = &f
			m.Comment += ", may be NULL: a NULL key stops the window (MERGE never matches one)"
		}
		return m, nil
	}
	t, err := sqltype.ClickHouseFor(c.Type)
	if err != nil {
		return m, err
	}
	why := ""
	if role != "" && t.Nullable {
		t.Nullable = false
		if role == "key" {
			why = "; not Nullable: it is in the sorting key, and a NULL stops the window"
		} else {
			why = "; not Nullable: the windows filter on it, so no NULL is read"
		}
	}
	created, conv, err := ddl.ClickHouseType(t, o.ClickHouse)
	if err != nil {
		return m, err
	}
	m.Type = created.String()
	m.Comment = c.Type.String()
	if created.String() != t.String() {
		m.Comment += fmt.Sprintf(", %s on %s", t.Plain(), o.ClickHouse)
	}
	switch c := sqltype.Convert(c.Type.NotNull(), created); {
	case c.Fit == sqltype.Lossy:
		m.AllowLossy = true
		m.Comment += "; CHECK: lossy, " + c.Reason + " (allow_lossy accepts it)"
	case conv.Fit == sqltype.Lossy:
		m.AllowLossy = true
		m.Comment += "; CHECK: lossy, " + conv.Reason + " (allow_lossy accepts it)"
	case conv.Fit == sqltype.Checked:
		m.Comment += "; checked: " + conv.Reason
	case c.Fit == sqltype.Checked:
		m.Comment += "; checked: " + c.Reason
	}
	if c.Type.Kind == sqltype.Decimal && c.Type.Scale == 0 && c.Type.Precision > 18 {
		m.Comment += "; Decimal keeps ids beyond Int64"
	}
	if c.Type.Kind == sqltype.Timestamp && c.Type.Zone == sqltype.Offset && !o.KeepOffset {
		m.Comment += "; the instant, not its offset (init --keep-offset adds it)"
	}
	if c.Type.Kind == sqltype.JSON {
		m.Comment += "; JSON text"
	}
	m.Comment += why
	return m, nil
}

// offsetColumn is the README's recipe for keeping a TIMESTAMP_TZ's
// offset: minutes east of UTC, selected as a column of its own.
func offsetColumn(c plan.TypedColumn, dest string, cols []plan.TypedColumn, o Options) Mapping {
	src := uniqueName(c.Name+"_OFFSET", cols)
	q := ddl.QuoteSnowflake(c.Name)
	return Mapping{
		Name: dest + "_offset", From: src, WriteFrom: !strings.EqualFold(dest+"_offset", src), Type: "Nullable(Int16)",
		Comment: "minutes east of UTC of " + c.Name,
		Select:  fmt.Sprintf("(DATE_PART(TIMEZONE_HOUR, %s) * 60 + DATE_PART(TIMEZONE_MINUTE, %s))::NUMBER(4,0) AS %s", q, q, ddl.QuoteSnowflake(src)),
	}
}

func uniqueName(n string, cols []plan.TypedColumn) string {
	for i := 2; ; i++ {
		clash := false
		for _, c := range cols {
			if strings.EqualFold(c.Name, n) {
				clash = true
			}
		}
		if !clash {
			return n
		}
		n = fmt.Sprintf("%s_%d", strings.TrimRight(n, "_0123456789"), i)
	}
}

func quoteSource(name string, push bool) string {
	if push {
		return ddl.QuoteClickHouse(name)
	}
	return ddl.QuoteSnowflake(name)
}

// QuoteTable quotes a source table's name for its SQL.
func QuoteTable(n TableName, push bool) string {
	var parts []string
	for _, p := range []string{n.Database, n.Schema, n.Name} {
		if p != "" {
			parts = append(parts, quoteSource(p, push))
		}
	}
	return strings.Join(parts, ".")
}

// buildSQL writes the stream's query: every column listed, quoted, and
// the window filter on the cursor.
func buildSQL(t Table, s Proposal, o Options) (string, []string) {
	var b strings.Builder
	fmt.Fprintf(&b, "-- %s, written by sluice init: every column listed, so a column added upstream changes nothing until it is mapped.\n", t.Name)
	b.WriteString("SELECT\n")
	sel := make([]string, len(s.Columns))
	for i, m := range s.Columns {
		sel[i] = m.Select
	}
	b.WriteString("  " + strings.Join(sel, ",\n  ") + "\n")
	b.WriteString("FROM " + QuoteTable(t.Name, o.Push) + "\n")
	if s.Cursor != "" {
		q := quoteSource(s.Cursor, o.Push)
		fmt.Fprintf(&b, "WHERE %s >= :%s AND %s < :%s\n", q, config.WindowStart, q, config.WindowEnd)
	}
	return b.String(), sel
}

// StreamName makes a stream name from a table name: lower case, runs of
// other characters as one _, starting with a letter.
func StreamName(table string) string {
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(table) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			under = false
		} else if !under && b.Len() > 0 {
			b.WriteByte('_')
			under = true
		}
	}
	s := strings.TrimRight(b.String(), "_")
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		s = "t_" + s
	}
	return s
}

// plainUpper is how Snowflake stores an unquoted name; plainLower how
// ClickHouse tables are usually named.
var (
	plainUpper = regexp.MustCompile(`^[A-Z_][A-Z0-9_$]*$`)
	plainLower = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
)

// destNames names the destination columns: a pull lower-cases names
// Snowflake keeps in upper case (CONTACT_ID becomes contact_id), a push
// upper-cases plain lower-case ClickHouse names; any other name (mixed
// case, spaces, quotes) is kept as it is, and quoted wherever Sluice
// writes it. ClickHouse cannot keep some names in a table's key
// (ddl.CheckClickHouseKeyName): a key or cursor column so named gets a _
// appended.
func destNames(cols []plan.TypedColumn, push bool, inKey map[string]bool) []string {
	out := make([]string, len(cols))
	used := map[string]bool{}
	for _, c := range cols {
		used[c.Name] = true
	}
	for i, c := range cols {
		n := c.Name
		switch {
		case !push && plainUpper.MatchString(n):
			n = strings.ToLower(n)
		case push && plainLower.MatchString(n):
			n = strings.ToUpper(n)
		}
		if !push && inKey[c.Name] && ddl.CheckClickHouseKeyName(n) != nil {
			n += "_"
		}
		if n != c.Name && used[n] {
			n = c.Name
		}
		used[n] = true
		out[i] = n
	}
	return out
}

func destTable(stream string, o Options) string {
	name := stream
	if o.Push {
		name = strings.ToUpper(stream)
	}
	if o.Database != "" {
		return o.Database + "." + name
	}
	return name
}

// ParseTables reads a --tables list: names separated by commas, parts by
// dots; a part may be quoted ("My Table" for Snowflake, `my table` or
// "my table" for ClickHouse). Snowflake reads an unquoted part in upper
// case, as Snowflake does. def completes names with fewer parts:
// Snowflake DATABASE and SCHEMA, ClickHouse database.
func ParseTables(list string, push bool, def TableName) ([]TableName, error) {
	var out []TableName
	var parts []string
	var cur strings.Builder
	quoted, inQuote := false, rune(0)
	flushPart := func() error {
		p := cur.String()
		if !quoted {
			p = strings.TrimSpace(p)
			if !push {
				p = strings.ToUpper(p)
			}
		}
		if p == "" {
			return fmt.Errorf("--tables %q: an empty name", list)
		}
		parts = append(parts, p)
		cur.Reset()
		quoted = false
		return nil
	}
	flushName := func() error {
		if err := flushPart(); err != nil {
			return err
		}
		n := def
		switch {
		case push && len(parts) == 1:
			n.Name = parts[0]
		case push && len(parts) == 2:
			n.Database, n.Name = parts[0], parts[1]
		case !push && len(parts) == 1:
			n.Name = parts[0]
		case !push && len(parts) == 2:
			n.Schema, n.Name = parts[0], parts[1]
		case !push && len(parts) == 3:
			n.Database, n.Schema, n.Name = parts[0], parts[1], parts[2]
		default:
			return fmt.Errorf("--tables: %s has too many parts", strings.Join(parts, "."))
		}
		if push {
			n.Schema = ""
		}
		if n.Database == "" || !push && n.Schema == "" {
			return fmt.Errorf("--tables: %s needs its database%s (or a connection that sets it)", n.Name, map[bool]string{false: " and schema", true: ""}[push])
		}
		out = append(out, n)
		parts = nil
		return nil
	}
	rs := []rune(list)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case inQuote != 0:
			if r == inQuote {
				if i+1 < len(rs) && rs[i+1] == inQuote {
					cur.WriteRune(r)
					i++
					continue
				}
				inQuote = 0
				continue
			}
			cur.WriteRune(r)
		case r == '"' || push && r == '`':
			inQuote, quoted = r, true
		case r == '.':
			if err := flushPart(); err != nil {
				return nil, err
			}
		case r == ',':
			if err := flushName(); err != nil {
				return nil, err
			}
		default:
			cur.WriteRune(r)
		}
	}
	if inQuote != 0 {
		return nil, fmt.Errorf("--tables %q: a quote is not closed", list)
	}
	if err := flushName(); err != nil {
		return nil, err
	}
	return out, nil
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
