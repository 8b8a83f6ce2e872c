package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/hockeystack/sluice/engine"
	"github.com/hockeystack/sluice/engine/config"
	"github.com/hockeystack/sluice/engine/connect"
	"github.com/hockeystack/sluice/engine/exec"
	"github.com/hockeystack/sluice/engine/plan"
)

// basePipeline is a pipeline folder as it was at a git revision, for
// dry-run --base.
type basePipeline struct {
	rev   string
	tmp   string
	plans map[string]*plan.Stream
}

// loadBase reads dir at rev (git archive, no checkout) and compiles it
// offline; the connections are the working tree's.
func loadBase(e *env, dir, conns, rev string) (*basePipeline, error) {
	abs, _ := filepath.Abs(dir)
	top, err := repoAt(abs, rev)
	if err != nil {
		return nil, fmt.Errorf("--base: %w", err)
	}
	rel, err := filepath.Rel(top, abs)
	if err != nil {
		return nil, err
	}
	b := &basePipeline{rev: rev, plans: map[string]*plan.Stream{}}
	if !atRevision(top, rev, rel) {
		return b, nil // the folder is new: every stream is new
	}
	if b.tmp, err = os.MkdirTemp("", "sluice-base-"); err != nil {
		return nil, err
	}
	if err := extract(top, rev, []string{filepath.ToSlash(rel)}, b.tmp); err != nil {
		b.close()
		return nil, fmt.Errorf("reading %s at %s: %v", rel, rev, err)
	}
	connsFile := config.FindConnections(conns, e.getenv("SLUICE_CONNECTIONS"), dir)
	p := compileOffline(e, filepath.Join(b.tmp, rel), connsFile)
	if p == nil {
		b.close()
		return nil, fmt.Errorf("%s does not compile at %s (above)", rel, rev)
	}
	for _, ps := range p.Streams {
		b.plans[ps.Name] = ps
	}
	return b, nil
}

func (b *basePipeline) close() {
	if b.tmp != "" {
		os.RemoveAll(b.tmp)
	}
}

// baseSample is a stream's sample through the mapping at the base
// revision.
type baseSample struct {
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
func (b *basePipeline) sample(ctx context.Context, k *connect.Links, head *plan.Stream, batches []arrow.RecordBatch, w engine.Window, limit int) (*baseSample, error) {
	out := &baseSample{Revision: b.rev}
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
func writeSideBySide(b *strings.Builder, s sample) {
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
