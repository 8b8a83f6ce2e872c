package config

import (
	"errors"
	"regexp"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"go.yaml.in/yaml/v4"

	"github.com/hockeystack/sluice/engine/diag"
	"github.com/hockeystack/sluice/engine/transform"
)

// newExpr makes an Expr of a scalar node, working out how offsets in its
// value map back to the file through quotes and block-scalar indentation.
func (d *doc) newExpr(n *yaml.Node) *Expr {
	e := &Expr{Text: n.Value, Pos: d.pos(n)}
	e.at = func(off int) diag.Pos {
		lines := d.lines()
		// Line and column of off within the value.
		l, c := 0, 0
		for i, r := range []rune(n.Value) {
			if i == off {
				break
			}
			if r == '\n' {
				l, c = l+1, 0
			} else {
				c++
			}
		}
		p := d.pos(n)
		switch {
		case n.Style&yaml.LiteralStyle != 0:
			indent := blockIndent(lines, n.Line)
			p.Line, p.Col = n.Line+1+l, indent+1+c
		case n.Style&yaml.FoldedStyle != 0:
			// Folded lines join with spaces: walk the source lines until
			// the offset falls inside one.
			indent := blockIndent(lines, n.Line)
			rest := off
			for i := n.Line; i < len(lines); i++ {
				text := lines[i]
				if strings.TrimSpace(text) == "" {
					rest--
					continue
				}
				width := len([]rune(text)) - indent
				if rest <= width {
					p.Line, p.Col = i+1, indent+1+rest
					break
				}
				rest -= width + 1
			}
		case n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0:
			if l == 0 {
				p.Col += 1 + c
			} else {
				p.Line += l
				p.Col = leadingSpace(lines, p.Line) + 1 + c
			}
		default:
			if l == 0 {
				p.Col += c
			} else {
				p.Line += l
				p.Col = leadingSpace(lines, p.Line) + 1 + c
			}
		}
		return p
	}
	return e
}

// blockIndent returns the indentation of a block scalar whose indicator is
// on 1-based line: that of its first non-blank content line.
func blockIndent(lines []string, line int) int {
	for i := line; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "" {
			return leadingSpace(lines, i+1)
		}
	}
	return 0
}

func leadingSpace(lines []string, line int) int {
	if line < 1 || line > len(lines) {
		return 0
	}
	s := lines[line-1]
	return len(s) - len(strings.TrimLeft(s, " \t"))
}

// exactResults are the functions that expressions compute exactly (see
// transform): expr types their results as any, so a filter made of one
// compiles, then fails on the first row.
var exactResults = map[string]bool{"abs": true, "int": true, "float": true, "string": true, "round": true, "ceil": true, "floor": true, "min": true, "max": true}

// nonBool finds what makes a filter certainly not a condition, which the
// compiler cannot see when source columns have no types yet: arithmetic,
// a number or text, in the result or in a branch of it (a ternary, ??).
func nonBool(n ast.Node) (ast.Node, string) {
	switch n := n.(type) {
	case *ast.BinaryNode:
		switch n.Operator {
		case "+", "-", "*", "/", "%", "**", "^":
			return n, "the result of " + n.Operator
		case "??":
			if bad, what := nonBool(n.Left); bad != nil {
				return bad, what
			}
			return nonBool(n.Right)
		}
	case *ast.UnaryNode:
		if n.Operator == "-" || n.Operator == "+" {
			return n, "the result of " + n.Operator
		}
	case *ast.ConditionalNode:
		if bad, what := nonBool(n.Exp1); bad != nil {
			return bad, what
		}
		return nonBool(n.Exp2)
	case *ast.IntegerNode, *ast.FloatNode:
		return n, "a number"
	case *ast.StringNode:
		return n, "text"
	case *ast.CallNode:
		if id, ok := n.Callee.(*ast.IdentifierNode); ok && exactResults[id.Value] {
			return n, "the result of " + id.Value + "()"
		}
	}
	return nil, ""
}

var exprPosSuffix = regexp.MustCompile(` \(\d+:\d+\)$`)

// checkExpr compiles e over the source's column names and reports a compile
// error at its exact position. names is nil when the names are unknown.
func checkExpr(ds *diag.Diagnostics, e *Expr, names []string, asBool bool) {
	prog, err := expr.Compile(e.Text, transform.CheckOptions(names, asBool)...)
	if err == nil {
		if n, what := nonBool(prog.Node()); asBool && n != nil {
			loc := n.Location()
			ds.Errorf(e.At(loc.From), max(1, loc.To-loc.From), "expr: filter must be a condition (true or false), not %s", what)
		}
		return
	}
	var fe *file.Error
	if !errors.As(err, &fe) {
		ds.Errorf(e.Pos, 0, "expr: %v", err)
		return
	}
	msg := exprPosSuffix.ReplaceAllString(fe.Message, "")
	length := max(0, fe.To-fe.From)
	if name, ok := strings.CutPrefix(msg, "unknown name "); ok {
		msg += diag.DidYouMean(name, names)
		length = len([]rune(name))
	}
	if asBool && strings.HasPrefix(msg, "expected bool") {
		msg = "filter must be a condition (true or false): " + msg
	}
	ds.Errorf(e.At(fe.From), length, "expr: %s", msg)
}
