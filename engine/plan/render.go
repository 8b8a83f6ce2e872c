package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteJSON writes the plan as indented JSON, the machine-readable contract.
func (p *Plan) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // SQL is full of < and >
	enc.SetIndent("", "  ")
	return enc.Encode(p)
}

// WriteText writes the plan for a person reviewing it. It is rendered from
// the same fields as the JSON and is as deterministic.
func (p *Plan) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Pipeline %s\n", p.Pipeline)
	if p.Description != "" {
		wrapTo(&b, p.Description, "  ", 78)
	}
	fmt.Fprintf(&b, "  schedule: %s (%s, %s)\n", p.Schedule.Cron, p.Schedule.Summary, p.Schedule.Timezone)
	b.WriteString("  connections:\n")
	rows := [][]string{}
	for _, c := range p.Connections {
		live := "offline"
		if c.Live != "" {
			live = "live: " + c.Live
		}
		rows = append(rows, []string{c.Name, c.Kind, c.Access, live})
	}
	table(&b, "    ", nil, rows)
	for _, s := range p.Streams {
		b.WriteByte('\n')
		s.writeText(&b)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (s *Stream) writeText(b *strings.Builder) {
	d := s.Destination
	fmt.Fprintf(b, "Stream %s: %s %s -> %s %s (%s)\n", s.Name, s.Direction, s.Source.Connection, d.Connection, d.Table, d.Mode)
	if s.Description != "" {
		wrapTo(b, s.Description, "  ", 78)
	}
	if len(s.After) > 0 {
		fmt.Fprintf(b, "  Runs after: %s\n", strings.Join(s.After, ", "))
		for _, r := range s.Reads {
			fmt.Fprintf(b, "    reads %s, which %s writes earlier in the run\n", r.Table, r.WrittenBy)
		}
	}

	fmt.Fprintf(b, "\n  Source: %s on %s (%s)\n", s.Source.QueryFile, s.Source.Connection, s.Source.Kind)
	quote(b, s.Source.SQL)
	for _, p := range s.Source.Parameters {
		fmt.Fprintf(b, "    :%s = %s\n", p.Name, p.Binds)
	}
	if s.Source.QueryTag != "" {
		fmt.Fprintf(b, "    query tag: %s\n", s.Source.QueryTag)
	}
	if s.Source.Pending != "" {
		fmt.Fprintf(b, "    not described live: %s\n", s.Source.Pending)
	}

	if w := s.Windows; w != nil {
		lookback := ""
		if w.Lookback != "0" {
			lookback = ", lookback " + w.Lookback
		}
		fmt.Fprintf(b, "\n  Windows: cursor %s, backfill from %s in %s windows%s\n", w.Cursor, w.Start, w.Size, lookback)
		for _, win := range w.First {
			fmt.Fprintf(b, "    [%s, %s)\n", win.Start, win.End)
		}
		fmt.Fprintf(b, "    ... one window per %s up to the time of the run; then %s\n", w.Size, w.Incremental)
	} else {
		b.WriteString("\n  Windows: none; every run reads the full result\n")
	}

	if s.Filter != "" {
		fmt.Fprintf(b, "\n  Filter: %s\n", oneLine(s.Filter))
	}

	b.WriteString("\n  Columns:\n")
	rows := [][]string{}
	for _, c := range s.Columns {
		src := c.From
		if c.Expr != "" {
			src = "= " + oneLine(c.Expr)
		}
		srcType := c.SourceType
		if srcType == "" {
			if c.Expr != "" {
				srcType = "(expression)"
			} else {
				srcType = "(not read offline)"
			}
		}
		typ := c.Type
		if c.Create != "" {
			typ += " as " + c.Create
		}
		if c.Default != "" {
			typ += " default " + c.Default
		}
		fit := c.Fit
		if c.Note != "" {
			fit += ": " + c.Note
		}
		rows = append(rows, []string{c.Name, typ, "<-", src, srcType, fit})
	}
	table(b, "    ", []string{"column", "type", "", "source", "source type", "fit"}, rows)

	create := "must exist"
	if d.Create {
		create = "created if missing"
	}
	exists := ""
	switch d.Exists {
	case "yes":
		exists = ", exists"
	case "no":
		exists = ", does not exist yet"
	}
	server := d.Server + ", offline"
	if d.Live {
		server = d.Server + ", live"
	}
	fmt.Fprintf(b, "\n  Destination: %s on %s (%s; %s%s)\n", d.Table, d.Connection, server, create, exists)
	quote(b, d.DDL)
	b.WriteByte('\n')
	wrapTo(b, "Write: "+d.Strategy, "  ", 78, "    ")
	if d.CursorMoves != "" {
		wrapTo(b, "When a cursor moves: "+d.CursorMoves, "  ", 78, "    ")
	}
	if len(d.Prepare) > 0 {
		b.WriteString("    Before the first window:\n")
		for i, step := range d.Prepare {
			fmt.Fprintf(b, "    %c. %s\n", 'a'+i, oneLine(step))
		}
		b.WriteString("    Each window:\n")
	}
	for i, step := range d.Steps {
		fmt.Fprintf(b, "    %d. %s\n", i+1, oneLine(step))
	}
}

// quote writes text as an indented block with a bar, as a reviewer reads
// code in a plan.
func quote(b *strings.Builder, text string) {
	for _, line := range strings.Split(text, "\n") {
		b.WriteString("    | ")
		b.WriteString(strings.TrimRight(line, " \t\r"))
		b.WriteByte('\n')
	}
}

// table writes rows in aligned columns; the last column is not padded.
func table(b *strings.Builder, indent string, header []string, rows [][]string) {
	all := rows
	if header != nil {
		all = append([][]string{header}, rows...)
	}
	if len(all) == 0 {
		return
	}
	widths := make([]int, len(all[0]))
	for _, r := range all {
		for i, cell := range r {
			widths[i] = max(widths[i], len([]rune(cell)))
		}
	}
	for _, r := range all {
		var line strings.Builder
		line.WriteString(indent)
		for i, cell := range r {
			if i == len(r)-1 {
				line.WriteString(cell)
				break
			}
			line.WriteString(cell)
			line.WriteString(strings.Repeat(" ", widths[i]-len([]rune(cell))+2))
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
}

// oneLine collapses white space, for expressions and statements in tables.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// wrapTo writes text word-wrapped at width, the first line prefixed by
// indent and the rest by rest (indent when not given).
func wrapTo(b *strings.Builder, text, indent string, width int, rest ...string) {
	next := indent
	if len(rest) > 0 {
		next = rest[0]
	}
	line := indent
	empty := true
	for _, word := range strings.Fields(text) {
		if !empty && len(line)+1+len(word) > width {
			b.WriteString(line)
			b.WriteByte('\n')
			line, empty = next, true
		}
		if !empty {
			line += " "
		}
		line += word
		empty = false
	}
	b.WriteString(line)
	b.WriteByte('\n')
}
