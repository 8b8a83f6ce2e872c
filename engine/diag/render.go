package diag

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Sources holds file contents by the path diagnostics name them with, so the
// renderer can quote the offending line. A missing file renders no snippet.
type Sources map[string][]byte

// line returns the 1-based line n of file, without its newline.
func (s Sources) line(file string, n int) (string, bool) {
	src, ok := s[file]
	if !ok || n < 1 {
		return "", false
	}
	for i := 1; ; i++ {
		end := strings.IndexByte(string(src), '\n')
		if i == n {
			if end < 0 {
				return strings.TrimRight(string(src), "\r"), len(src) > 0 || n == 1
			}
			return strings.TrimRight(string(src[:end]), "\r"), true
		}
		if end < 0 {
			return "", false
		}
		src = src[end+1:]
	}
}

// Render writes each diagnostic as "file:line:col: message", followed, when
// the source line is known, by the line and a caret under the column:
//
//	acme/pipeline.yaml:22:13: expr: unknown name amout
//	   22 |     expr: amout * fx_rate
//	      |           ^~~~~
//
// and by the hint, if any, on its own line.
func Render(w io.Writer, ds Diagnostics, src Sources) error {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString(d.Error())
		b.WriteByte('\n')
		if text, ok := src.line(d.Pos.File, d.Pos.Line); ok && d.Pos.Col > 0 {
			num := fmt.Sprint(d.Pos.Line)
			gutter := strings.Repeat(" ", max(4, len(num)+1))
			fmt.Fprintf(&b, "%*s | %s\n", len(gutter), num, text)
			b.WriteString(gutter)
			b.WriteString(" | ")
			b.WriteString(caretIndent(text, d.Pos.Col))
			b.WriteByte('^')
			if avail := utf8.RuneCountInString(text) - d.Pos.Col; d.Len > 1 && avail > 0 {
				b.WriteString(strings.Repeat("~", min(d.Len-1, avail)))
			}
			b.WriteByte('\n')
		}
		if d.Hint != "" {
			for _, h := range strings.Split(d.Hint, "\n") {
				b.WriteString("      = ")
				b.WriteString(h)
				b.WriteByte('\n')
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// caretIndent returns the white space that puts a caret under character col
// of text, keeping tabs so the caret lines up in any tab width.
func caretIndent(text string, col int) string {
	var b strings.Builder
	i := 1
	for _, r := range text {
		if i >= col {
			break
		}
		if r == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
		i++
	}
	for ; i < col; i++ {
		b.WriteByte(' ')
	}
	return b.String()
}
