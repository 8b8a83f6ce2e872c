package review

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// JSON writes the report as indented JSON.
func (r *Report) JSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// Markdown writes the report for a pull-request comment: a summary line,
// then per pipeline and stream one bullet a change, breaking ones first
// in each stream, SQL changes as diff blocks.
func (r *Report) Markdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## Sluice: pipeline changes against `%s`\n\n", r.Base)
	if r.Changes == 0 {
		b.WriteString("No change to any plan.\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	fmt.Fprintf(&b, "%d change%s, **%d breaking** (a backfill or a destination migration is needed).\n", r.Changes, plural(r.Changes), r.Breaking)
	for _, p := range r.Pipelines {
		if p.Status == "unchanged" && len(p.Problems) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n### Pipeline `%s` (%s): %s\n", p.Name, p.Folder, p.Status)
		for _, pr := range p.Problems {
			fmt.Fprintf(&b, "\n> %s\n", pr)
		}
		if len(p.Changes) > 0 {
			b.WriteString("\n")
			writeChanges(&b, p.Changes)
		}
		for _, s := range p.Streams {
			fmt.Fprintf(&b, "\n**Stream `%s`** %s: %s\n\n", s.Name, s.Status, mdCode(s.Summary))
			writeChanges(&b, s.Changes)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeChanges(b *strings.Builder, cs []Change) {
	ordered := make([]Change, 0, len(cs))
	for _, breaking := range []bool{true, false} {
		for _, c := range cs {
			if c.Breaking == breaking {
				ordered = append(ordered, c)
			}
		}
	}
	for _, c := range ordered {
		tag := "safe"
		if c.Breaking {
			tag = "**breaking**"
		}
		fmt.Fprintf(b, "- %s · %s", tag, describe(c))
		if c.Impact != "" && c.Impact != "none" {
			fmt.Fprintf(b, "  \n  %s", c.Impact)
		}
		b.WriteString("\n")
		if c.Diff != "" {
			fmt.Fprintf(b, "\n  ```diff\n%s  ```\n", indent(c.Diff, "  "))
		}
	}
}

// describe says a change in a phrase.
func describe(c Change) string {
	from := func() string { return fmt.Sprintf("%s → %s", mdCode(c.Before), mdCode(c.After)) }
	switch c.Kind {
	case PipelineAdded:
		return "new pipeline"
	case PipelineRemoved:
		return "pipeline removed"
	case StreamAdded:
		return "new stream " + mdCode(c.After)
	case StreamRemoved:
		return "stream removed"
	case ColumnAdded:
		return fmt.Sprintf("column %s added: %s", mdCode(c.Subject), mdCode(c.After))
	case ColumnRemoved:
		return fmt.Sprintf("column %s removed (was %s)", mdCode(c.Subject), mdCode(c.Before))
	case ColumnRenamed:
		return fmt.Sprintf("column renamed: %s", from())
	case ColumnRetyped:
		return fmt.Sprintf("column %s re-typed: %s", mdCode(c.Subject), from())
	case ColumnExpression:
		return fmt.Sprintf("column %s computed differently: %s", mdCode(c.Subject), from())
	case ColumnDefault:
		return fmt.Sprintf("column %s default: %s", mdCode(c.Subject), from())
	case FilterChanged:
		return "row filter: " + from()
	case SQLChanged:
		return fmt.Sprintf("source SQL changed (%s)", mdCode(c.Subject))
	case SourceChanged:
		return "source: " + from()
	case WindowsChanged:
		return "windows: " + from()
	case ModeChanged:
		return "write mode: " + from()
	case KeyChanged:
		return "key: " + from()
	case DestChanged:
		return "destination: " + from()
	case ScheduleChanged:
		return "schedule: " + from()
	case DescriptionChange:
		return "description changed"
	}
	return c.Kind
}

// mdCode quotes text as inline code, with a fence longer than any run of
// backticks inside it.
func mdCode(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}

func indent(s, pre string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if l != "" {
			b.WriteString(pre + l)
		}
	}
	return b.String()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
