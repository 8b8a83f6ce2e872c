package diag

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Sources holds file contents by the path diagnostics name them with, so the
// renderer can quote the offending line. A missing file renders no snippet.
type Sources map[string][]byte

// lineIndex holds where each line of one source starts, so that quoting a
// line costs as much as the line, however many diagnostics point into the
// file.
type lineIndex struct {
	src    []byte
	starts []int // byte offset of each line's first byte
}

func newLineIndex(src []byte) *lineIndex {
	starts := make([]int, 1, bytes.Count(src, []byte{'\n'})+1)
	for i, b := range src {
		if b == '\n' {
			starts = append(starts, i+1)
		}
	}
	return &lineIndex{src: src, starts: starts}
}

// line returns the 1-based line n, without its newline.
func (x *lineIndex) line(n int) (string, bool) {
	if n < 1 || n > len(x.starts) {
		return "", false
	}
	start, end := x.starts[n-1], len(x.src)
	if n < len(x.starts) {
		end = x.starts[n] - 1
	} else if start == end && n > 1 {
		return "", false // past the final newline
	}
	return strings.TrimRight(string(x.src[start:end]), "\r"), true
}

// Render writes each diagnostic as "file:line:col: message", followed, when
// the source line is known, by the line and a caret under the column:
//
//	acme/pipeline.yaml:22:13: expr: unknown name amout
//	   22 |     expr: amout * fx_rate
//	      |           ^~~~~
//
// and by the hint, if any, on its own line. Each source is split into lines
// once, so rendering is linear in the diagnostics and the sources. Control
// characters and invalid UTF-8, which a hostile file could use to rewrite a
// terminal, are shown as U+FFFD, one per character so carets still line up.
func Render(w io.Writer, ds Diagnostics, src Sources) error {
	var b strings.Builder
	index := map[string]*lineIndex{}
	lineOf := func(file string, n int) (string, bool) {
		x, ok := index[file]
		if !ok {
			if s, found := src[file]; found {
				x = newLineIndex(s)
			}
			index[file] = x
		}
		if x == nil {
			return "", false
		}
		return x.line(n)
	}
	for _, d := range ds {
		b.WriteString(printable(d.Error()))
		b.WriteByte('\n')
		if text, ok := lineOf(d.Pos.File, d.Pos.Line); ok && d.Pos.Col > 0 {
			text = printable(text)
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
				b.WriteString(printable(h))
				b.WriteByte('\n')
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// printable replaces control characters other than tab, and each byte of
// invalid UTF-8, with U+FFFD.
func printable(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || r != '\t' && unicode.IsControl(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r != '\t' && unicode.IsControl(r) {
			r = utf8.RuneError
		}
		b.WriteRune(r)
	}
	return b.String()
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
