package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v4"

	"github.com/hockeystack/sluice/engine/diag"
)

// doc is one parsed YAML file and the diagnostics found in it.
type doc struct {
	path string // display path
	src  []byte
	root *yaml.Node // the top-level mapping, nil when the file did not parse
	ds   *diag.Diagnostics

	lineCache []string
	masked    []*yaml.Node // secrets, kept out of snippets (see shown)
}

// parseYAML parses src into a doc, reporting syntax errors and duplicate
// keys.
func parseYAML(path string, src []byte, ds *diag.Diagnostics) *doc {
	if err := CheckFileSize(path, int64(len(src))); err != nil {
		ds.Errorf(diag.Pos{File: path}, 0, "%v", err)
		return &doc{path: path, ds: ds}
	}
	src, bad := checkText(path, src)
	d := &doc{path: path, src: src, ds: ds}
	if bad != nil {
		ds.Add(*bad)
		return d
	}
	var n yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(src))
	if err := dec.Decode(&n); err != nil && !errors.Is(err, io.EOF) {
		ds.Add(d.syntaxError(err))
		return d
	}
	// A second document would be ignored: say so rather than mislead.
	var next yaml.Node
	if err := dec.Decode(&next); err == nil && len(next.Content) > 0 && !isEmpty(next.Content[0]) {
		ds.Errorf(diag.Pos{File: path, Line: next.Line, Col: max(next.Column, 1)}, 0, "a second YAML document starts here: Sluice reads one document per file")
		return d
	} else if err != nil && !errors.Is(err, io.EOF) {
		ds.Add(d.syntaxError(err))
		return d
	}
	if len(n.Content) == 0 {
		ds.Errorf(diag.Pos{File: path, Line: 1, Col: 1}, 0, "file is empty")
		return d
	}
	root := n.Content[0]
	if root.Kind != yaml.MappingNode {
		ds.Errorf(d.pos(root), 0, "expected a mapping at the top level, found %s", kindName(root))
		return d
	}
	if !d.checkAliases(root) {
		return d
	}
	d.checkDuplicates(root)
	d.root = root
	return d
}

// isEmpty reports whether n is an empty value, as after a final "---".
func isEmpty(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null" && n.Value == ""
}

// syntaxError places a parse error where the parser found the problem,
// naming the construct it was reading and where that began.
func (d *doc) syntaxError(err error) diag.Diagnostic {
	var le *yaml.LoadError
	if !errors.As(err, &le) || le.Mark.Line == 0 {
		return diag.Diagnostic{Pos: diag.Pos{File: d.path}, Summary: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	msg := le.Message
	if le.ContextMsg != "" && le.ContextMark.Line > 0 && le.ContextMark != le.Mark {
		msg += fmt.Sprintf(" (%s that begins at %d:%d)", le.ContextMsg, le.ContextMark.Line, le.ContextMark.Column)
	}
	line, col := le.Mark.Line, le.Mark.Column
	// The end of the stream is past the last line: point after its last
	// character instead.
	lines := d.lines()
	last := len(lines)
	if last > 1 && lines[last-1] == "" {
		last-- // the file ends with a newline
	}
	if line > last {
		line = last
		col = utf8.RuneCountInString(strings.TrimRight(lines[line-1], "\r")) + 1
	}
	return diag.Diagnostic{Pos: diag.Pos{File: d.path, Line: line, Col: max(col, 1)}, Summary: "invalid YAML: " + msg}
}

// lines returns the file's lines, split once however often expressions
// and errors ask.
func (d *doc) lines() []string {
	if d.lineCache == nil {
		d.lineCache = strings.Split(string(d.src), "\n")
	}
	return d.lineCache
}

func (d *doc) pos(n *yaml.Node) diag.Pos {
	return diag.Pos{File: d.path, Line: n.Line, Col: n.Column}
}

// errorf reports an error at n, underlining its value.
func (d *doc) errorf(n *yaml.Node, format string, args ...any) {
	d.ds.Errorf(d.pos(n), valueLen(n), format, args...)
}

// valueLen is the width to underline for a scalar on one line.
func valueLen(n *yaml.Node) int {
	if n == nil || n.Kind != yaml.ScalarNode || strings.Contains(n.Value, "\n") {
		return 0
	}
	l := len([]rune(n.Value))
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		l += 2
	}
	return l
}

func (d *doc) checkDuplicates(n *yaml.Node) {
	switch n.Kind {
	case yaml.MappingNode:
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if seen[k.Value] {
				d.errorf(k, "duplicate key %q", k.Value)
			}
			seen[k.Value] = true
			d.checkDuplicates(n.Content[i+1])
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			d.checkDuplicates(c)
		}
	}
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return "a value"
	case yaml.AliasNode:
		return "an alias"
	}
	return "something else"
}

// get returns the key and value nodes of key in mapping n, or nils.
func get(n *yaml.Node, key string) (k, v *yaml.Node) {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i], resolveAlias(n.Content[i+1])
		}
	}
	return nil, nil
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// pairs calls f for each key and value of mapping n, in order.
func pairs(n *yaml.Node, f func(k, v *yaml.Node)) {
	if n == nil || n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		f(n.Content[i], resolveAlias(n.Content[i+1]))
	}
}

// str returns the value of a string scalar, or "" and false.
func str(n *yaml.Node) (string, bool) {
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", false
	}
	return n.Value, true
}

// boolean returns the value of a boolean scalar.
func boolean(n *yaml.Node) (v, ok bool) {
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		return false, false
	}
	b, err := strconv.ParseBool(n.Value)
	return b, err == nil
}

// strings returns a scalar or a list of scalars as a list.
func stringList(n *yaml.Node) []string {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		return []string{n.Value}
	}
	var out []string
	for _, c := range n.Content {
		if s, ok := str(c); ok {
			out = append(out, s)
		}
	}
	return out
}

// generic converts n to the values encoding/json produces, for JSON Schema
// validation. Timestamps and other tagged scalars become strings.
func generic(n *yaml.Node) any {
	n = resolveAlias(n)
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil
		}
		return generic(n.Content[0])
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = generic(n.Content[i+1])
		}
		return m
	case yaml.SequenceNode:
		s := make([]any, len(n.Content))
		for i, c := range n.Content {
			s[i] = generic(c)
		}
		return s
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return nil
		case "!!bool":
			b, _ := strconv.ParseBool(n.Value)
			return b
		case "!!int":
			if i, err := strconv.ParseInt(n.Value, 0, 64); err == nil {
				return i
			}
		case "!!float":
			if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
				return f
			}
		}
		return n.Value
	}
	return nil
}

// lookup returns the node at a JSON Schema instance location, and the key
// node when the last step is a mapping key.
func lookup(root *yaml.Node, path []string) (key, val *yaml.Node) {
	val = root
	for _, step := range path {
		val = resolveAlias(val)
		switch {
		case val == nil:
			return key, nil
		case val.Kind == yaml.MappingNode:
			key, val = get(val, step)
		case val.Kind == yaml.SequenceNode:
			i, err := strconv.Atoi(step)
			if err != nil || i < 0 || i >= len(val.Content) {
				return key, nil
			}
			key, val = nil, val.Content[i]
		default:
			return key, nil
		}
	}
	return key, val
}

// describePath renders a JSON pointer's steps as a YAML path: streams.contacts.columns.
func describePath(path []string) string {
	var b strings.Builder
	for i, p := range path {
		if _, err := strconv.Atoi(p); err == nil {
			fmt.Fprintf(&b, "[%s]", p)
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}
