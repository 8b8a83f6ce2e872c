// Package review tells a reviewer what a change to pipeline folders does:
// it compares the plans of two versions of each folder, stream by stream,
// and classifies every change as breaking (it needs a backfill or a
// destination migration) or safe.
package review

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hockeystack/sluice/engine/config"
	"github.com/hockeystack/sluice/engine/plan"
)

// FormatVersion is the version of the JSON report.
const FormatVersion = 1

// Report is the difference between two versions of some pipelines.
type Report struct {
	FormatVersion int        `json:"format_version"`
	Base          string     `json:"base"`
	Pipelines     []Pipeline `json:"pipelines"`
	Changes       int        `json:"changes"`
	Breaking      int        `json:"breaking"`
}

// Pipeline is what changed in one pipeline folder.
type Pipeline struct {
	Folder   string         `json:"folder"`
	Name     string         `json:"name"`
	Status   string         `json:"status"` // added, removed, changed, unchanged
	Changes  []Change       `json:"changes,omitempty"`
	Streams  []StreamChange `json:"streams,omitempty"`
	Problems []string       `json:"problems,omitempty"`
}

// StreamChange is what changed in one stream.
type StreamChange struct {
	Name    string   `json:"name"`
	Status  string   `json:"status"` // added, removed, changed
	Summary string   `json:"summary"`
	Changes []Change `json:"changes"`
}

// Change is one change, with what it means for the data already loaded.
type Change struct {
	Kind     string `json:"kind"`
	Subject  string `json:"subject,omitempty"`
	Before   string `json:"before,omitempty"`
	After    string `json:"after,omitempty"`
	Diff     string `json:"diff,omitempty"` // unified diff of SQL or a filter
	Breaking bool   `json:"breaking"`
	// Impact says what has to happen for the destination to agree with
	// the new mapping: the backfill (which windows re-run) or migration.
	Impact string `json:"impact"`
}

// Change kinds.
const (
	StreamAdded       = "stream_added"
	StreamRemoved     = "stream_removed"
	ColumnAdded       = "column_added"
	ColumnRemoved     = "column_removed"
	ColumnRenamed     = "column_renamed"
	ColumnRetyped     = "column_retyped"
	ColumnExpression  = "column_expression"
	ColumnDefault     = "column_default"
	FilterChanged     = "filter_changed"
	SQLChanged        = "source_sql_changed"
	SourceChanged     = "source_changed"
	WindowsChanged    = "windows_changed"
	ModeChanged       = "mode_changed"
	KeyChanged        = "key_changed"
	DestChanged       = "destination_changed"
	ScheduleChanged   = "schedule_changed"
	PipelineAdded     = "pipeline_added"
	PipelineRemoved   = "pipeline_removed"
	DescriptionChange = "description_changed"
)

// Compare returns what changed from base to head in one folder; either
// may be nil (the folder was added or removed).
func Compare(folder string, base, head *plan.Plan) Pipeline {
	out := Pipeline{Folder: folder}
	switch {
	case base == nil && head == nil:
		out.Status = "unchanged"
		return out
	case base == nil:
		out.Name, out.Status = head.Pipeline, "added"
		out.Changes = []Change{{Kind: PipelineAdded, Subject: head.Pipeline, Impact: fmt.Sprintf("%d stream(s) start loading: each backfills from its start", len(head.Streams))}}
		for _, s := range head.Streams {
			out.Streams = append(out.Streams, StreamChange{Name: s.Name, Status: "added", Summary: summary(s), Changes: []Change{added(s)}})
		}
		return out
	case head == nil:
		out.Name, out.Status = base.Pipeline, "removed"
		out.Changes = []Change{{Kind: PipelineRemoved, Subject: base.Pipeline, Breaking: true,
			Impact: "every stream stops loading; the destination tables stay as they are"}}
		return out
	}
	out.Name = head.Pipeline
	if base.Schedule != head.Schedule {
		out.Changes = append(out.Changes, Change{Kind: ScheduleChanged,
			Before: base.Schedule.Summary + " (" + base.Schedule.Timezone + ")", After: head.Schedule.Summary + " (" + head.Schedule.Timezone + ")",
			Impact: "runs start at the new times; nothing is reloaded"})
	}
	byName := map[string]*plan.Stream{}
	for _, s := range base.Streams {
		byName[s.Name] = s
	}
	seen := map[string]bool{}
	for _, s := range head.Streams {
		seen[s.Name] = true
		b := byName[s.Name]
		if b == nil {
			out.Streams = append(out.Streams, StreamChange{Name: s.Name, Status: "added", Summary: summary(s), Changes: []Change{added(s)}})
			continue
		}
		if cs := compareStreams(b, s); len(cs) > 0 {
			out.Streams = append(out.Streams, StreamChange{Name: s.Name, Status: "changed", Summary: summary(s), Changes: cs})
		}
	}
	for _, s := range base.Streams {
		if !seen[s.Name] {
			out.Streams = append(out.Streams, StreamChange{Name: s.Name, Status: "removed", Summary: summary(s), Changes: []Change{{
				Kind: StreamRemoved, Subject: s.Name, Breaking: true,
				Impact: fmt.Sprintf("%s stops receiving rows; the table and its rows stay", s.Destination.Table)}}})
		}
	}
	out.Status = "unchanged"
	if len(out.Changes) > 0 || len(out.Streams) > 0 {
		out.Status = "changed"
	}
	return out
}

// Add appends a folder's changes to the report and counts them.
func (r *Report) Add(p Pipeline) {
	r.Pipelines = append(r.Pipelines, p)
	for _, c := range p.Changes {
		r.count(c)
	}
	for _, s := range p.Streams {
		for _, c := range s.Changes {
			r.count(c)
		}
	}
}

func (r *Report) count(c Change) {
	r.Changes++
	if c.Breaking {
		r.Breaking++
	}
}

func summary(s *plan.Stream) string {
	return fmt.Sprintf("%s %s -> %s %s (%s)", s.Direction, s.Source.Connection, s.Destination.Connection, s.Destination.Table, s.Destination.Mode)
}

func added(s *plan.Stream) Change {
	impact := "the next run loads it in full"
	if s.Windows != nil {
		impact = fmt.Sprintf("the next run backfills it from %s in %s windows", s.Windows.Start, s.Windows.Size)
	}
	if s.Destination.Create {
		impact += "; Sluice creates " + s.Destination.Table
	} else {
		impact += "; " + s.Destination.Table + " must exist"
	}
	return Change{Kind: StreamAdded, Subject: s.Name, After: summary(s), Impact: impact}
}

// reload says what it takes for rows already loaded to follow a change of
// how rows are computed.
func reload(s *plan.Stream) (bool, string) {
	if s.Windows == nil {
		return false, "the next run reads every row again"
	}
	return true, fmt.Sprintf("rows already loaded keep the old mapping until a backfill: every window from %s in %s windows re-runs (sluice backfill --from %s)",
		s.Windows.Start, s.Windows.Size, s.Windows.Start)
}

// migrate is a change to the destination table's shape: what says the
// migration; refill whether rows already loaded must be loaded again (a
// new column has no history, a rebuilt table none at all).
func migrate(s *plan.Stream, what string, refill bool) (bool, string) {
	if s.Windows == nil && s.Destination.Mode == "replace" {
		return false, "no migration: the next run builds " + s.Destination.Table + " anew"
	}
	impact := fmt.Sprintf("destination migration on %s: %s", s.Destination.Table, what)
	if refill {
		_, again := reload(s)
		impact += "; then " + again
	}
	return true, impact
}

func compareStreams(b, h *plan.Stream) []Change {
	var out []Change
	if b.Source.Connection != h.Source.Connection || b.Direction != h.Direction {
		out = append(out, Change{Kind: SourceChanged, Before: b.Direction + " from " + b.Source.Connection, After: h.Direction + " from " + h.Source.Connection, Breaking: true,
			Impact: "rows come from another database: " + second(reload(h))})
	}
	if b.Source.SQL != h.Source.SQL {
		br, impact := reload(h)
		out = append(out, Change{Kind: SQLChanged, Subject: h.Source.QueryFile, Diff: Unified(b.Source.QueryFile, h.Source.QueryFile, b.Source.SQL, h.Source.SQL), Breaking: br, Impact: impact})
	}
	if b.Filter != h.Filter {
		br, impact := reload(h)
		out = append(out, Change{Kind: FilterChanged, Before: orNone(b.Filter), After: orNone(h.Filter), Diff: Unified("filter", "filter", b.Filter, h.Filter), Breaking: br, Impact: impact})
	}
	out = append(out, compareWindows(b, h)...)
	out = append(out, compareColumns(b, h)...)
	bd, hd := b.Destination, h.Destination
	if bd.Connection != hd.Connection || bd.Table != hd.Table {
		impact := "the rows go to a new table"
		if h.Windows != nil {
			impact += fmt.Sprintf(": every window from %s re-runs into it; %s keeps its rows", h.Windows.Start, bd.Table)
		} else {
			impact += "; the next run loads it in full"
		}
		out = append(out, Change{Kind: DestChanged, Before: bd.Connection + " " + bd.Table, After: hd.Connection + " " + hd.Table, Breaking: h.Windows != nil, Impact: impact})
	}
	if bd.Mode != hd.Mode {
		br, impact := migrate(h, "rebuild the table for mode "+hd.Mode, true)
		out = append(out, Change{Kind: ModeChanged, Before: bd.Mode, After: hd.Mode, Breaking: br, Impact: impact})
	}
	if !slices.Equal(bd.Key, hd.Key) || bd.Version != hd.Version {
		br, impact := migrate(h, "rebuild the table on the new key (its ORDER BY and deduplication change)", true)
		if hd.Kind == string(config.Snowflake) {
			br, impact = false, "merges match rows on the new key from the next run"
		}
		out = append(out, Change{Kind: KeyChanged, Before: keyText(bd), After: keyText(hd), Breaking: br, Impact: impact})
	}
	if b.Description != h.Description {
		out = append(out, Change{Kind: DescriptionChange, Before: b.Description, After: h.Description, Impact: "none"})
	}
	return out
}

func second(_ bool, s string) string { return s }

func keyText(d plan.Destination) string {
	s := "[" + strings.Join(d.Key, ", ") + "]"
	if d.Version != "" {
		s += " version " + d.Version
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func compareWindows(b, h *plan.Stream) []Change {
	switch {
	case b.Windows == nil && h.Windows == nil:
		return nil
	case b.Windows == nil:
		return []Change{{Kind: WindowsChanged, Before: "full reads", After: windowsText(h.Windows), Breaking: true,
			Impact: fmt.Sprintf("the stream becomes incremental: the next run backfills from %s in %s windows", h.Windows.Start, h.Windows.Size)}}
	case h.Windows == nil:
		return []Change{{Kind: WindowsChanged, Before: windowsText(b.Windows), After: "full reads", Impact: "every run reads the whole source; the ledger's windows are no longer used"}}
	}
	bw, hw := *b.Windows, *h.Windows
	if bw.Cursor == hw.Cursor && bw.Start == hw.Start && bw.Size == hw.Size && bw.Lookback == hw.Lookback {
		return nil
	}
	c := Change{Kind: WindowsChanged, Before: windowsText(&bw), After: windowsText(&hw)}
	var impact []string
	if bw.Cursor != hw.Cursor {
		c.Breaking = true
		impact = append(impact, second(reload(h)))
	}
	if hw.Start < bw.Start {
		impact = append(impact, fmt.Sprintf("the next run backfills the windows from %s to %s", hw.Start, bw.Start))
	} else if hw.Start > bw.Start {
		impact = append(impact, fmt.Sprintf("rows before %s stay loaded but are no longer re-run", hw.Start))
	}
	if bw.Size != hw.Size {
		impact = append(impact, "committed windows stay; new windows are "+hw.Size)
	}
	if bw.Lookback != hw.Lookback {
		impact = append(impact, "each run re-reads the last "+hw.Lookback)
	}
	c.Impact = strings.Join(impact, "; ")
	return []Change{c}
}

func windowsText(w *plan.Windows) string {
	s := fmt.Sprintf("cursor %s from %s in %s windows", w.Cursor, w.Start, w.Size)
	if w.Lookback != "" && w.Lookback != "0s" {
		s += ", lookback " + w.Lookback
	}
	return s
}

// source is how a column is computed.
func source(c plan.Column) string {
	if c.Expr != "" {
		return "expr " + c.Expr
	}
	return c.From
}

func compareColumns(b, h *plan.Stream) []Change {
	before := map[string]plan.Column{}
	for _, c := range b.Columns {
		before[c.Name] = c
	}
	after := map[string]bool{}
	for _, c := range h.Columns {
		after[c.Name] = true
	}
	var removed []plan.Column
	for _, c := range b.Columns {
		if !after[c.Name] {
			removed = append(removed, c)
		}
	}
	var out []Change
	renamed := map[string]bool{}
	for _, c := range h.Columns {
		old, ok := before[c.Name]
		if !ok {
			// A removed column computed the same way, of the same type,
			// was renamed.
			if i := slices.IndexFunc(removed, func(r plan.Column) bool {
				return !renamed[r.Name] && source(r) == source(c) && r.Type == c.Type
			}); i >= 0 {
				r := removed[i]
				renamed[r.Name] = true
				br, impact := migrate(h, fmt.Sprintf("rename column %s to %s", r.Name, c.Name), false)
				out = append(out, Change{Kind: ColumnRenamed, Subject: c.Name, Before: r.Name, After: c.Name, Breaking: br, Impact: impact})
				continue
			}
			br, impact := migrate(h, fmt.Sprintf("add column %s %s", c.Name, createType(c)), true)
			out = append(out, Change{Kind: ColumnAdded, Subject: c.Name, After: fmt.Sprintf("%s <- %s", c.Type, source(c)), Breaking: br, Impact: impact})
			continue
		}
		if old.Type != c.Type {
			br, impact := migrate(h, fmt.Sprintf("change column %s to %s", c.Name, createType(c)), false)
			out = append(out, Change{Kind: ColumnRetyped, Subject: c.Name, Before: old.Type, After: c.Type, Breaking: br, Impact: impact})
		}
		if source(old) != source(c) {
			br, impact := reload(h)
			out = append(out, Change{Kind: ColumnExpression, Subject: c.Name, Before: source(old), After: source(c), Breaking: br, Impact: impact})
		}
		if old.Default != c.Default {
			br, impact := reload(h)
			out = append(out, Change{Kind: ColumnDefault, Subject: c.Name, Before: orNone(old.Default), After: orNone(c.Default), Breaking: br, Impact: impact})
		}
	}
	for _, r := range removed {
		if renamed[r.Name] {
			continue
		}
		br, impact := migrate(h, "drop column "+r.Name+" (until then new rows get its default)", false)
		out = append(out, Change{Kind: ColumnRemoved, Subject: r.Name, Before: fmt.Sprintf("%s <- %s", r.Type, source(r)), Breaking: br, Impact: impact})
	}
	return out
}

func createType(c plan.Column) string {
	if c.Create != "" {
		return c.Create
	}
	return c.Type
}
