// Package preview is dry-run's data path: a sample of a stream's source
// read through its mapping, written nowhere, and rendered as a table, CSV
// or JSON; with a base revision, the same sample through the mapping as it
// was there, side by side.
package preview

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/hockeystack/sluice/engine"
	"github.com/hockeystack/sluice/engine/connect"
	"github.com/hockeystack/sluice/engine/exec"
	"github.com/hockeystack/sluice/engine/plan"
	"github.com/hockeystack/sluice/engine/review"
)

// Sample is one stream's dry run.
type Sample struct {
	Stream  string     `json:"stream"`
	Table   string     `json:"table"`
	Mode    string     `json:"mode"`
	Exists  string     `json:"table_exists"`
	Window  string     `json:"window"`
	Columns []string   `json:"columns"`
	Types   []string   `json:"types"`
	Rows    [][]string `json:"rows"`
	Read    int64      `json:"rows_read"`
	Note    string     `json:"note"`
	// Base is the same sample through the mapping at --base.
	Base *BaseSample `json:"base,omitempty"`
}

// Stream reads up to limit rows of a stream's source through its mapping,
// writing nothing; with old, the same rows through the mapping at old's
// revision too.
func Stream(ctx context.Context, k *connect.Links, ps *plan.Stream, limit int, old *Base) (Sample, error) {
	smp := Sample{Stream: ps.Name, Table: ps.Destination.Table, Mode: ps.Destination.Mode, Exists: ps.Destination.Exists}
	batches, w, err := readSample(ctx, k, ps, limit)
	if err != nil {
		return smp, err
	}
	defer exec.Release(batches)
	smp.Window = w.String()
	for _, c := range ps.Columns {
		smp.Columns = append(smp.Columns, c.Name)
		smp.Types = append(smp.Types, c.Type)
	}
	for _, b := range batches {
		smp.Read += b.NumRows()
	}
	if smp.Rows, err = mapSample(ps, batches, w); err != nil {
		return smp, err
	}
	smp.Note = fmt.Sprintf("would %s %s; %d rows read, %d after the filter; nothing written", verb(smp.Mode), smp.Table, smp.Read, len(smp.Rows))
	if old != nil {
		if smp.Base, err = old.sample(ctx, k, ps, batches, w, limit); err != nil {
			return smp, err
		}
	}
	return smp, nil
}

// readSample reads up to limit rows of a stream's source, over the whole
// span of an incremental stream.
func readSample(ctx context.Context, k *connect.Links, ps *plan.Stream, limit int) ([]arrow.RecordBatch, engine.Window, error) {
	src, err := k.Conn(ps.Source.Connection)
	if err != nil {
		return nil, engine.Window{}, fmt.Errorf("stream %s: %w", ps.Name, err)
	}
	return exec.ReadSample(ctx, ps, src.Source(), limit, time.Now())
}

// mapSample applies a stream's mapping and filter to sampled batches and
// renders the rows.
func mapSample(ps *plan.Stream, batches []arrow.RecordBatch, w engine.Window) ([][]string, error) {
	rr, err := array.NewRecordReader(batches[0].Schema(), batches)
	if err != nil {
		return nil, err
	}
	defer rr.Release()
	mapped, err := exec.MapRows(ps, rr, w)
	if err != nil {
		return nil, err
	}
	rows := make([][]string, len(mapped))
	for i, m := range mapped {
		rows[i] = make([]string, len(m))
		for c, v := range m {
			rows[i][c] = "NULL"
			if v != nil {
				rows[i][c] = *v
			}
		}
	}
	return rows, nil
}

func verb(mode string) string {
	switch mode {
	case "upsert":
		return "upsert into"
	case "replace":
		return "replace"
	case "merge":
		return "merge into"
	}
	return "append window by window to"
}

func WriteTable(w io.Writer, samples []Sample) error {
	var b strings.Builder
	for i, s := range samples {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "Stream %s -> %s (%s), sample of %s\n", s.Stream, s.Table, s.Mode, s.Window)
		if s.Base != nil {
			writeSideBySide(&b, s)
			continue
		}
		head := make([]string, len(s.Columns))
		for c := range head {
			head[c] = s.Columns[c] + " " + s.Types[c]
		}
		writeGrid(&b, append([][]string{head}, s.Rows...))
		fmt.Fprintf(&b, "%s\n", s.Note)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeGrid writes rows as aligned columns separated by " | ".
func writeGrid(b *strings.Builder, rows [][]string) {
	var widths []int
	for _, r := range rows {
		for c, v := range r {
			if c == len(widths) {
				widths = append(widths, 0)
			}
			widths[c] = max(widths[c], len([]rune(v)))
		}
	}
	for _, r := range rows {
		for c, v := range r {
			if c > 0 {
				b.WriteString(" | ")
			}
			b.WriteString(v + strings.Repeat(" ", widths[c]-len([]rune(v))))
		}
		b.WriteString("\n")
	}
}

func WriteCSV(w io.Writer, samples []Sample) error {
	cw := csv.NewWriter(w)
	for _, s := range samples {
		cw.Write(append([]string{"stream"}, s.Columns...))
		for _, r := range s.Rows {
			cw.Write(append([]string{s.Stream}, r...))
		}
	}
	cw.Flush()
	return cw.Error()
}

// Base is a pipeline folder as it was at a git revision, for
// dry-run --base.
type Base struct {
	rev   string
	tmp   string
	plans map[string]*plan.Stream
}

// LoadBase reads dir at rev (git archive, no checkout) and compiles it
// offline; the connections are the working tree's.
//
// compile plans a folder offline given its connections file, reporting
// its problems itself, and returns nil when it has errors.
func LoadBase(dir, connsFile, rev string, compile func(dir, connsFile string) *plan.Plan) (*Base, error) {
	abs, _ := filepath.Abs(dir)
	top, err := review.Repo(abs, rev)
	if err != nil {
		return nil, fmt.Errorf("--base: %w", err)
	}
	rel, err := filepath.Rel(top, abs)
	if err != nil {
		return nil, err
	}
	b := &Base{rev: rev, plans: map[string]*plan.Stream{}}
	if !review.AtRevision(top, rev, rel) {
		return b, nil // the folder is new: every stream is new
	}
	if b.tmp, err = os.MkdirTemp("", "sluice-base-"); err != nil {
		return nil, err
	}
	if err := review.Extract(top, rev, []string{filepath.ToSlash(rel)}, b.tmp); err != nil {
		b.Close()
		return nil, fmt.Errorf("reading %s at %s: %v", rel, rev, err)
	}
	p := compile(filepath.Join(b.tmp, rel), connsFile)
	if p == nil {
		b.Close()
		return nil, fmt.Errorf("%s does not compile at %s (above)", rel, rev)
	}
	for _, ps := range p.Streams {
		b.plans[ps.Name] = ps
	}
	return b, nil
}

// Close removes the revision's files.
func (b *Base) Close() {
	if b.tmp != "" {
		os.RemoveAll(b.tmp)
	}
}

// BaseSample is a stream's sample through the mapping at the base
// revision.
type BaseSample struct {
	Revision string     `json:"revision"`
	Columns  []string   `json:"columns"`
	Types    []string   `json:"types"`
	Rows     [][]string `json:"rows"`
	Note     string     `json:"note"`
	// Key names the columns rows are paired on in the table view.
	Key []string `json:"key"`
}

// sample maps the head's sample through the base mapping; when the base
// reads with other SQL, it reads its own sample.
func (b *Base) sample(ctx context.Context, k *connect.Links, head *plan.Stream, batches []arrow.RecordBatch, w engine.Window, limit int) (*BaseSample, error) {
	out := &BaseSample{Revision: b.rev}
	ps := b.plans[head.Name]
	if ps == nil {
		out.Note = "the stream is new: there is no base mapping"
		return out, nil
	}
	for _, c := range ps.Columns {
		out.Columns = append(out.Columns, c.Name)
		out.Types = append(out.Types, c.Type)
	}
	out.Key = ps.Destination.Key
	if ps.Source.SQL != head.Source.SQL || ps.Source.Connection != head.Source.Connection {
		own, _, err := readSample(ctx, k, ps, limit)
		if err != nil {
			return nil, fmt.Errorf("base: %w", err)
		}
		defer exec.Release(own)
		batches = own
		out.Note = "the base reads with other SQL: its own sample, rows paired by key"
	} else {
		out.Note = "the same sample through both mappings"
	}
	rows, err := mapSample(ps, batches, w)
	if err != nil {
		return nil, fmt.Errorf("base: %w", err)
	}
	out.Rows = rows
	return out, nil
}

// writeSideBySide writes a sample against its base: rows paired by key,
// a changed value as "old → new", columns only one side has marked, rows
// only one side has prefixed with - (base) or + (head).
func writeSideBySide(b *strings.Builder, s Sample) {
	base := s.Base
	fmt.Fprintf(b, "against %s: %s\n", base.Revision, base.Note)
	if base.Columns == nil {
		writeGrid(b, append([][]string{s.Columns}, s.Rows...))
		return
	}
	headAt, baseAt := index(s.Columns), index(base.Columns)
	var header []string
	var cols []string
	for _, c := range s.Columns {
		cols = append(cols, c)
		if _, ok := baseAt[c]; ok {
			header = append(header, c)
		} else {
			header = append(header, c+" (new)")
		}
	}
	for _, c := range base.Columns {
		if _, ok := headAt[c]; !ok {
			cols = append(cols, c)
			header = append(header, c+" (removed)")
		}
	}
	key := base.Key
	if len(key) == 0 || !all(key, headAt) || !all(key, baseAt) {
		key = nil
		for _, c := range s.Columns {
			if _, ok := baseAt[c]; ok {
				key = []string{c}
				break
			}
		}
	}
	keyOf := func(row []string, at map[string]int) string {
		var parts []string
		for _, k := range key {
			parts = append(parts, row[at[k]])
		}
		return strings.Join(parts, "\x00")
	}
	baseRows := map[string][]string{}
	var baseOrder []string
	for _, r := range base.Rows {
		k := keyOf(r, baseAt)
		if _, ok := baseRows[k]; !ok {
			baseOrder = append(baseOrder, k)
		}
		baseRows[k] = r
	}
	grid := [][]string{append([]string{""}, header...)}
	changed := map[string]int{}
	used := map[string]bool{}
	for _, r := range s.Rows {
		k := keyOf(r, headAt)
		old, ok := baseRows[k]
		mark := "+"
		if ok && key != nil {
			mark, used[k] = "", true
		}
		line := []string{mark}
		for _, c := range cols {
			hi, inHead := headAt[c]
			bi, inBase := baseAt[c]
			switch {
			case !inHead:
				line = append(line, pick(ok, old, bi))
			case !inBase || !ok:
				line = append(line, r[hi])
			case old[bi] != r[hi]:
				line = append(line, old[bi]+" → "+r[hi])
				changed[c]++
			default:
				line = append(line, r[hi])
			}
		}
		grid = append(grid, line)
	}
	for _, k := range baseOrder {
		if used[k] {
			continue
		}
		old := baseRows[k]
		line := []string{"-"}
		for _, c := range cols {
			if bi, ok := baseAt[c]; ok {
				line = append(line, old[bi])
			} else {
				line = append(line, "")
			}
		}
		grid = append(grid, line)
	}
	writeGrid(b, grid)
	var notes []string
	for _, c := range cols {
		if n := changed[c]; n > 0 {
			notes = append(notes, fmt.Sprintf("%s differs in %d row(s)", c, n))
		}
	}
	if len(notes) == 0 {
		notes = append(notes, "no value differs in the paired rows")
	}
	fmt.Fprintf(b, "%s; rows paired on %s; - only at %s, + only now\n%s\n", strings.Join(notes, ", "), strings.Join(key, ", "), base.Revision, s.Note)
}

func index(cols []string) map[string]int {
	m := map[string]int{}
	for i, c := range cols {
		m[c] = i
	}
	return m
}

func all(cols []string, at map[string]int) bool {
	for _, c := range cols {
		if _, ok := at[c]; !ok {
			return false
		}
	}
	return true
}

func pick(ok bool, row []string, i int) string {
	if !ok {
		return ""
	}
	return row[i]
}
