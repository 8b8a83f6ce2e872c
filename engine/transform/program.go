package transform

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"

	"github.com/hockeystack/sluice/engine/sqltype"
)

// Column is one destination column of a stream's mapping.
type Column struct {
	Name string
	// Type is the destination type; values are produced in its Arrow type.
	Type sqltype.Type
	// From names the source column copied; Expr is an expr-lang
	// expression over source columns. Exactly one is set.
	From, Expr string
	// Default replaces NULL; nil means a NULL into a non-nullable column
	// is an error.
	Default *string
	// Key marks a column of the destination's key: an error names the
	// row by its key values.
	Key bool
	// AllowLossy is the column's allow_lossy: a number with more decimal
	// places than the column holds is rounded instead of stopping the
	// window.
	AllowLossy bool
	// Range, when set, is the span of dates or times the destination
	// server stores in this column (ClickHouse's ranges depend on the type
	// and the version); values outside are errors, never clamped or
	// wrapped. A ClickHouse Date or DateTime column without one is held
	// to its type's own range.
	Range sqltype.TimeRange
}

// Program is a stream's compiled mapping from the source's schema to the
// destination's: a row filter and one producer per destination column.
// It is safe for concurrent use; Apply allocates from the given allocator.
type Program struct {
	in, out *arrow.Schema
	filter  *vm.Program
	vfilter vexpr
	cols    []producer
	// noVector turns the vectorized path off, for measuring it.
	noVector bool
	// exprInputs are the source columns expressions and the filter read.
	exprInputs []int
	// filterText are the VARCHAR source columns the filter reads: their
	// text is held to UTF-8 before it runs.
	filterText []int
}

// textRead are the source columns of text (Arrow utf8) that the
// expression src names.
func textRead(in *arrow.Schema, src string) []int {
	if src == "" {
		return nil
	}
	tree, err := parser.Parse(src)
	if err != nil {
		return nil // Compile has refused it already
	}
	names := identVisitor{}
	ast.Walk(&tree.Node, names)
	var out []int
	for i, f := range in.Fields() {
		if names[f.Name] && f.Type.ID() == arrow.STRING {
			out = append(out, i)
		}
	}
	return out
}

// invalidText is the first row among keep (all when nil) whose text in
// one of cols is not UTF-8, or -1.
func invalidText(rec arrow.RecordBatch, cols, keep []int) int {
	first := -1
	for _, c := range cols {
		s, ok := rec.Column(c).(*array.String)
		if !ok {
			continue
		}
		if keep == nil {
			if r := invalidUTF8(s); r >= 0 && (first < 0 || r < first) {
				first = r
			}
			continue
		}
		for _, r := range keep {
			if s.IsValid(r) && !utf8.ValidString(s.Value(r)) {
				if first < 0 || r < first {
					first = r
				}
				break
			}
		}
	}
	return first
}

type identVisitor map[string]bool

func (v identVisitor) Visit(node *ast.Node) {
	if id, ok := (*node).(*ast.IdentifierNode); ok {
		v[id.Value] = true
	}
}

type producer struct {
	col  Column
	src  int // source column index, for From
	prog *vm.Program
	vec  vexpr // the vectorized form of prog, when it has one
	// text are the source columns prog reads that hold text: it is held
	// to UTF-8 before prog runs.
	text []int
}

// Where locates a batch for error messages: stream, window, and the row
// number of the batch's first row within the window.
type Where struct {
	Stream, Window string
	Row            int64
}

// Error is a value a mapping cannot write. It names stream, window,
// column, row (1-based within the window's source rows, as read) and,
// when the destination has a key, the row's key values.
type Error struct {
	Where  Where
	Column string
	Row    int64
	Key    string // "id=42", "" without a key
	Msg    string
}

func (e *Error) Error() string {
	key := ""
	if e.Key != "" {
		key = " (key " + e.Key + ")"
	}
	return fmt.Sprintf("stream %s, window %s, column %s, row %d%s: %s", e.Where.Stream, e.Where.Window, e.Column, e.Row, key, e.Msg)
}

// Compile prepares a mapping over batches of schema in. Column names in
// From and in expressions are the source's; a missing one is an error.
func Compile(in *arrow.Schema, cols []Column, filter string) (*Program, error) {
	p := &Program{in: in}
	names := make([]string, 0, len(in.Fields()))
	for _, f := range in.Fields() {
		names = append(names, f.Name)
	}
	// Check names against the source first, as validation did, then
	// compile for running over row maps.
	opts := func(asBool bool) []expr.Option { return runOptions(asBool) }
	check := func(text string, asBool bool) error {
		_, err := expr.Compile(text, CheckOptions(names, asBool)...)
		return err
	}
	usesExpr := false
	if filter != "" {
		if err := check(filter, true); err != nil {
			return nil, fmt.Errorf("filter: %w", err)
		}
		src, err := exactSource(filter)
		if err != nil {
			return nil, fmt.Errorf("filter: %w", err)
		}
		prog, err := expr.Compile(src, opts(true)...)
		if err != nil {
			return nil, fmt.Errorf("filter: %w", err)
		}
		p.filter = prog
		p.vfilter = compileVector(filter)
		usesExpr = true
	}
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		pr := producer{col: c, src: -1}
		switch {
		case c.Expr != "":
			if err := check(c.Expr, false); err != nil {
				return nil, fmt.Errorf("column %s: %w", c.Name, err)
			}
			if err := checkExact(in, c); err != nil {
				return nil, err
			}
			src, err := exactSource(c.Expr)
			if err != nil {
				return nil, fmt.Errorf("column %s: %w", c.Name, err)
			}
			prog, err := expr.Compile(src, opts(false)...)
			if err != nil {
				return nil, fmt.Errorf("column %s: %w", c.Name, err)
			}
			pr.prog = prog
			pr.vec = compileVector(c.Expr)
			usesExpr = true
		default:
			idx := in.FieldIndices(c.From)
			if len(idx) == 0 {
				// A name the pipeline could not resolve offline (SELECT *)
				// matches case-insensitively, as Snowflake's unquoted
				// names do, when the match is unique.
				for i, f := range in.Fields() {
					if strings.EqualFold(f.Name, c.From) {
						idx = append(idx, i)
					}
				}
			}
			if len(idx) != 1 {
				return nil, fmt.Errorf("column %s: the source has no column %s", c.Name, c.From)
			}
			pr.src = idx[0]
		}
		p.cols = append(p.cols, pr)
		fields[i] = arrow.Field{Name: c.Name, Type: c.Type.Arrow(), Nullable: c.Type.Nullable}
	}
	if usesExpr {
		for i := range in.Fields() {
			p.exprInputs = append(p.exprInputs, i)
		}
		p.filterText = textRead(in, filter)
		for i := range p.cols {
			p.cols[i].text = textRead(in, p.cols[i].col.Expr)
		}
	}
	p.out = arrow.NewSchema(fields, nil)
	return p, nil
}

// checkExact refuses an expression that changes values (see Infer) in a
// column that has not acknowledged it with allow_lossy. The plan said so
// already where it knew the source's types; this holds where it did not.
func checkExact(in *arrow.Schema, c Column) error {
	if c.AllowLossy {
		return nil
	}
	inf, err := Infer(c.Expr, func(name string) (sqltype.Type, bool) {
		if idx := in.FieldIndices(name); len(idx) == 1 {
			return arrowType(in.Field(idx[0]).Type)
		}
		return sqltype.Type{}, false
	})
	if err != nil || inf.Lossy == "" {
		return nil
	}
	return fmt.Errorf("column %s: expr: %s; set allow_lossy: true to accept it", c.Name, inf.Lossy)
}

// Input is the source schema the program was compiled for.
func (p *Program) Input() *arrow.Schema { return p.in }

// Schema is the destination schema Apply produces.
func (p *Program) Schema() *arrow.Schema { return p.out }

// Apply maps one source batch. It returns a new batch the caller
// releases, or an *Error for the first value that cannot be written; on
// error nothing is returned.
func (p *Program) Apply(mem memory.Allocator, rec arrow.RecordBatch, where Where) (arrow.RecordBatch, error) {
	n := int(rec.NumRows())
	vb := &vbatch{rec: rec, in: p.in, n: n, cols: map[string]*vec{}}
	var rows []map[string]any // the VM's view of the rows, built on first need
	vmRows := func() []map[string]any {
		if rows != nil || len(p.exprInputs) == 0 {
			return rows
		}
		rows = make([]map[string]any, n)
		for r := range rows {
			rows[r] = make(map[string]any, len(p.exprInputs))
		}
		for _, c := range p.exprInputs {
			a := rec.Column(c)
			name := p.in.Field(c).Name
			for r := 0; r < n; r++ {
				rows[r][name] = goValue(a, r)
			}
		}
		return rows
	}
	// Text that is not UTF-8 (a corrupt VARCHAR, or a ClickHouse String
	// of other bytes) stops the window when copied (castColumn), and so
	// when an expression or the filter reads it: the vectorized path
	// would pass it on, and string functions change it (lower() writes
	// U+FFFD).
	badText := func(column string, cols, keep []int) error {
		if r := invalidText(rec, cols, keep); r >= 0 {
			return &Error{Where: where, Column: column, Row: where.Row + int64(r) + 1, Key: p.keyOf(rec, vmRows, r), Msg: "invalid UTF-8 in a String value"}
		}
		return nil
	}
	if err := badText("(filter)", p.filterText, nil); err != nil {
		return nil, err
	}
	var keep []int // rows that pass the filter; nil keeps all
	if p.filter != nil {
		done := false
		if p.vfilter != nil && !p.noVector {
			if v, ok := p.vfilter(vb); ok && v.kind == vBool && v.valid == nil {
				keep = make([]int, 0, n)
				for r := 0; r < n; r++ {
					if v.b[v.at(r)] {
						keep = append(keep, r)
					}
				}
				done = true
			}
		}
		if !done {
			rs := vmRows()
			keep = make([]int, 0, n)
			for r := 0; r < n; r++ {
				v, err := vm.Run(p.filter, rs[r])
				if err != nil {
					return nil, &Error{Where: where, Column: "(filter)", Row: where.Row + int64(r) + 1, Key: p.keyOf(rec, vmRows, r), Msg: err.Error()}
				}
				if b, _ := v.(bool); b {
					keep = append(keep, r)
				}
			}
		}
	}
	out := make([]arrow.Array, len(p.cols))
	release := func() {
		for _, a := range out {
			if a != nil {
				a.Release()
			}
		}
	}
	for i, pr := range p.cols {
		if err := badText(pr.col.Name, pr.text, keep); err != nil {
			release()
			return nil, err
		}
		var a arrow.Array
		var err error
		switch {
		case pr.prog == nil:
			a, err = castColumn(mem, rec.Column(pr.src), pr.col, keep)
		case pr.vec != nil && !p.noVector:
			if v, ok := pr.vec(vb); ok {
				a, err = vbuild(mem, v, pr.col, keep, n)
				break
			}
			fallthrough
		default:
			a, err = p.evaluate(mem, pr, vmRows(), keep, n)
		}
		if err != nil {
			release()
			if ce, ok := err.(*cellError); ok {
				row := int64(ce.row)
				if keep != nil {
					row = int64(keep[ce.row])
				}
				return nil, &Error{Where: where, Column: pr.col.Name, Row: where.Row + row + 1, Key: p.keyOf(rec, vmRows, int(row)), Msg: ce.msg}
			}
			return nil, &Error{Where: where, Column: pr.col.Name, Row: where.Row + 1, Msg: err.Error()}
		}
		out[i] = a
	}
	count := int64(n)
	if keep != nil {
		count = int64(len(keep))
	}
	res := array.NewRecordBatch(p.out, out, count)
	release()
	return res, nil
}

// keyOf spells source row r's key values, as "id=42" or "a=1, b=x";
// a key value that cannot be computed shows as "?".
func (p *Program) keyOf(rec arrow.RecordBatch, vmRows func() []map[string]any, r int) string {
	var parts []string
	for _, pr := range p.cols {
		if !pr.col.Key {
			continue
		}
		var v any
		text := ""
		switch {
		case pr.prog == nil:
			if a := rec.Column(pr.src); !a.IsNull(r) {
				v = scalar(a, r)
			}
		default:
			var err error
			if rows := vmRows(); r >= len(rows) {
				text = "?"
			} else if v, err = vm.Run(pr.prog, rows[r]); err != nil {
				text = "?"
			}
		}
		switch {
		case text != "":
		case v == nil:
			text = "NULL"
		default:
			text, _ = toString(v)
		}
		parts = append(parts, pr.col.Name+"="+text)
	}
	return strings.Join(parts, ", ")
}

// cellError is a value at row (an index into the produced rows) that
// cannot be written.
type cellError struct {
	row int
	msg string
}

func (e *cellError) Error() string { return fmt.Sprintf("row %d: %s", e.row, e.msg) }

// evaluate runs an expression per row and builds its column.
func (p *Program) evaluate(mem memory.Allocator, pr producer, rows []map[string]any, keep []int, n int) (arrow.Array, error) {
	vals := make([]any, 0, n)
	each := func(r int) error {
		v, err := vm.Run(pr.prog, rows[r])
		if err != nil {
			return &cellError{row: len(vals), msg: "expr: " + strings.TrimSpace(err.Error())}
		}
		vals = append(vals, v)
		return nil
	}
	if keep != nil {
		for _, r := range keep {
			if err := each(r); err != nil {
				return nil, err
			}
		}
	} else {
		for r := 0; r < n; r++ {
			if err := each(r); err != nil {
				return nil, err
			}
		}
	}
	return buildFromValues(mem, pr.col, vals)
}

// validUTF8 reports the first invalid string of a string array, or -1.
func invalidUTF8(a *array.String) int {
	for i := 0; i < a.Len(); i++ {
		if a.IsValid(i) && !utf8.ValidString(a.Value(i)) {
			return i
		}
	}
	return -1
}
