package config

import (
	"bytes"
	"regexp"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v4"

	"github.com/hockeystack/sluice/engine/diag"
)

// A secret found in a file is reported, and then kept out of every
// snippet: the file's text kept for diagnostics has it replaced with *,
// one per character, so line and column positions still hold.

// mask marks a scalar's text in the file as secret.
func (d *doc) mask(n *yaml.Node) {
	if n != nil && n.Kind == yaml.ScalarNode {
		d.masked = append(d.masked, n)
	}
}

// shown returns the file's text with every masked scalar replaced by *.
func (d *doc) shown() []byte {
	if len(d.masked) == 0 {
		return d.src
	}
	lines := strings.SplitAfter(string(d.src), "\n")
	for _, n := range d.masked {
		maskScalar(lines, n)
	}
	return []byte(strings.Join(lines, ""))
}

// maskScalar stars out the text of scalar n in lines (each with its
// newline), following its style to find where it ends.
func maskScalar(lines []string, n *yaml.Node) {
	li, col := n.Line-1, n.Column-1
	if li < 0 || li >= len(lines) {
		return
	}
	switch {
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		// The indicator's line, then every line indented at least as far
		// as the first line of the content, and blank lines among them.
		indent := -1
		for i := li + 1; i < len(lines); i++ {
			text := strings.TrimRight(lines[i], "\r\n")
			if strings.TrimSpace(text) == "" {
				continue
			}
			lead := len(text) - len(strings.TrimLeft(text, " "))
			if indent < 0 {
				indent = lead
			}
			if lead < indent || indent == 0 {
				break
			}
			lines[i] = starsFrom(lines[i], lead, len(text))
		}
	case n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0:
		quote := byte('"')
		if n.Style&yaml.SingleQuotedStyle != 0 {
			quote = '\''
		}
		start := byteCol(lines[li], col) + 1 // after the opening quote
		for i := li; i < len(lines); i++ {
			text := lines[i]
			end := closingQuote(text, start, quote)
			if end >= 0 {
				lines[i] = starsFrom(text, start, end)
				return
			}
			lines[i] = starsFrom(text, start, len(strings.TrimRight(text, "\r\n")))
			start = 0
		}
	default:
		// A plain scalar: its words, folded across lines with spaces.
		rest := n.Value
		start := byteCol(lines[li], col)
		for i := li; i < len(lines) && rest != ""; i++ {
			text := strings.TrimRight(lines[i], "\r\n")
			if i > li {
				start = len(text) - len(strings.TrimLeft(text, " \t"))
			}
			part := strings.TrimRight(text[min(start, len(text)):], " \t")
			if !strings.HasPrefix(rest, part) {
				// Trailing text after the value (a comment, a comma).
				k := 0
				for k < len(part) && k < len(rest) && part[k] == rest[k] {
					k++
				}
				part = part[:k]
			}
			lines[i] = starsFrom(lines[i], start, start+len(part))
			rest = strings.TrimLeft(rest[len(part):], " \n")
		}
	}
}

// closingQuote returns the offset of the quote that ends a quoted scalar
// in text from start, or -1 when it goes on past the line.
func closingQuote(text string, start int, quote byte) int {
	for i := start; i < len(text); i++ {
		switch {
		case quote == '"' && text[i] == '\\':
			i++
		case text[i] == quote && quote == '\'' && i+1 < len(text) && text[i+1] == '\'':
			i++
		case text[i] == quote:
			return i
		}
	}
	return -1
}

// byteCol returns the byte offset of the 0-based character col in text.
func byteCol(text string, col int) int {
	off := 0
	for i := 0; i < col && off < len(text); i++ {
		_, w := utf8.DecodeRuneInString(text[off:])
		off += w
	}
	return off
}

// starsFrom replaces the characters of text[from:to] with one * each.
func starsFrom(text string, from, to int) string {
	from, to = min(from, len(text)), min(max(to, from), len(text))
	return text[:from] + strings.Repeat("*", utf8.RuneCountInString(text[from:to])) + text[to:]
}

// privateKeyRE finds a PEM private key block, or its start when the end
// is missing.
var privateKeyRE = regexp.MustCompile(`-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?s:.*?)(-----END [A-Z0-9 ]*PRIVATE KEY-----|$)`)

// checkPrivateKeys reports each PEM private key in a text file of the
// folder (a SQL comment, say) at its first line, and returns the text
// with each key's body starred out for snippets.
func checkPrivateKeys(ds *diag.Diagnostics, path string, src []byte) []byte {
	locs := privateKeyRE.FindAllIndex(src, -1)
	if locs == nil {
		return src
	}
	var out []byte
	prev := 0
	for _, loc := range locs {
		line := 1 + bytes.Count(src[:loc[0]], []byte{'\n'})
		col := 1 + utf8.RuneCount(src[bytes.LastIndexByte(src[:loc[0]], '\n')+1:loc[0]])
		ds.Errorf(diag.Pos{File: path, Line: line, Col: col}, 0, "a private key is written in %s: secrets never live in a pipeline folder; remove it, and replace the key: it is in the repository's history", pathBase(path))
		// The BEGIN line says what was found; the rest is starred.
		body := loc[1]
		if nl := bytes.IndexByte(src[loc[0]:loc[1]], '\n'); nl >= 0 {
			body = loc[0] + nl
		}
		out = append(out, src[prev:body]...)
		for _, r := range string(src[body:loc[1]]) {
			if r == '\n' || r == '\r' {
				out = append(out, byte(r))
			} else {
				out = append(out, '*')
			}
		}
		prev = loc[1]
	}
	return append(out, src[prev:]...)
}

func pathBase(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}
