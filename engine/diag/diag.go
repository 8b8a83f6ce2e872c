// Package diag holds the diagnostics that validation, planning and execution
// report to people: a severity, a position a person can click, a message and
// an optional hint, rendered with a snippet of the source they point into.
package diag

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Severity says whether a diagnostic stops a pipeline (Error) or only informs
// the person reading it (Warning).
type Severity int

const (
	// Error makes the pipeline invalid.
	Error Severity = iota
	// Warning is reported but does not fail validation.
	Warning
)

// MarshalText writes the severity as "error" or "warning".
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads "error" or "warning".
func (s *Severity) UnmarshalText(b []byte) error {
	switch string(b) {
	case "error":
		*s = Error
	case "warning":
		*s = Warning
	default:
		return fmt.Errorf("unknown severity %q", b)
	}
	return nil
}

func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// Pos is a position in a file: 1-based line and column, columns counted in
// characters. A zero Line means the whole file.
type Pos struct {
	File string `json:"file"`
	Line int    `json:"line,omitempty"`
	Col  int    `json:"col,omitempty"`
}

// String formats the position as file:line:col, the form editors and
// terminals make clickable.
func (p Pos) String() string {
	switch {
	case p.Line == 0:
		return p.File
	case p.Col == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// IsValid reports whether the position names a file.
func (p Pos) IsValid() bool { return p.File != "" }

// Diagnostic is one problem found in a pipeline folder or its connections.
type Diagnostic struct {
	Severity Severity `json:"severity"`
	Pos      Pos      `json:"pos"`
	// Len is the width of the offending text in characters, for underlining;
	// 0 marks a single point.
	Len int `json:"len,omitempty"`
	// Summary is the message, one line, starting with a lower-case letter.
	Summary string `json:"summary"`
	// Hint is advice for a person, kept apart from the message.
	Hint string `json:"hint,omitempty"`
}

// Error formats the diagnostic as "file:line:col: [warning: ]summary".
func (d Diagnostic) Error() string {
	var b strings.Builder
	if d.Pos.IsValid() {
		b.WriteString(d.Pos.String())
		b.WriteString(": ")
	}
	if d.Severity == Warning {
		b.WriteString("warning: ")
	}
	b.WriteString(d.Summary)
	return b.String()
}

// Diagnostics is a list of diagnostics; the zero value is ready to use.
type Diagnostics []Diagnostic

// Errorf appends an error at pos.
func (ds *Diagnostics) Errorf(pos Pos, length int, format string, args ...any) {
	*ds = append(*ds, Diagnostic{Severity: Error, Pos: pos, Len: length, Summary: fmt.Sprintf(format, args...)})
}

// Warnf appends a warning at pos.
func (ds *Diagnostics) Warnf(pos Pos, length int, format string, args ...any) {
	*ds = append(*ds, Diagnostic{Severity: Warning, Pos: pos, Len: length, Summary: fmt.Sprintf(format, args...)})
}

// Add appends diagnostics.
func (ds *Diagnostics) Add(more ...Diagnostic) { *ds = append(*ds, more...) }

// HasErrors reports whether any diagnostic is an error.
func (ds Diagnostics) HasErrors() bool {
	return slices.ContainsFunc(ds, func(d Diagnostic) bool { return d.Severity == Error })
}

// Errors returns the number of errors.
func (ds Diagnostics) Errors() int {
	n := 0
	for _, d := range ds {
		if d.Severity == Error {
			n++
		}
	}
	return n
}

// Sort orders diagnostics by file, line, column and message and drops exact
// duplicates, so output is deterministic whatever order checks ran in.
func (ds Diagnostics) Sort() Diagnostics {
	out := slices.Clone(ds)
	slices.SortStableFunc(out, func(a, b Diagnostic) int {
		return cmp.Or(
			cmp.Compare(a.Pos.File, b.Pos.File),
			cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Col, b.Pos.Col),
			cmp.Compare(a.Severity, b.Severity),
			cmp.Compare(a.Summary, b.Summary),
		)
	})
	return slices.CompactFunc(out, func(a, b Diagnostic) bool {
		return a.Pos == b.Pos && a.Severity == b.Severity && a.Summary == b.Summary
	})
}

// Err returns the diagnostics as an error when any is an error, else nil.
func (ds Diagnostics) Err() error {
	if !ds.HasErrors() {
		return nil
	}
	return ds
}

// First is the first error of ds in order, with its position, as an
// error of its own: one line for a history or a job's failure. nil when
// ds has no error.
func (ds Diagnostics) First() error {
	for _, d := range ds.Sort() {
		if d.Severity == Error {
			return errors.New(d.Error())
		}
	}
	return nil
}

// Error joins the diagnostics one per line.
func (ds Diagnostics) Error() string {
	lines := make([]string, len(ds))
	for i, d := range ds {
		lines[i] = d.Error()
	}
	return strings.Join(lines, "\n")
}
