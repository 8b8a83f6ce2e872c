package transform

import (
	stdcmp "cmp"
	"math"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"

	"github.com/hockeystack/sluice/engine/sqltype"
)

// The vectorized path evaluates the common expressions — column
// references, literals, arithmetic, comparisons, logic, ??, in, the
// ternary, lower/upper/trim — a whole batch at a time over Go slices
// taken from the Arrow arrays. It computes what the expr VM computes
// (decimals as float64, integer division as float), and where a batch
// holds something the VM would treat specially (a NULL where the VM would
// fail or compare), it gives up on that batch and the VM runs it row by
// row. Expressions outside the subset always run on the VM.

type vkind int

const (
	vNull vkind = iota
	vBool
	vInt
	vFloat
	vString
)

// vec is a column of values of one kind; valid is nil when none is NULL.
// A constant has length 1 and broadcasts.
type vec struct {
	kind  vkind
	n     int
	valid []bool
	b     []bool
	i     []int64
	f     []float64
	s     []string
	konst bool
}

func (v *vec) ok(r int) bool {
	if v.konst {
		r = 0
	}
	return v.kind != vNull && (v.valid == nil || v.valid[r])
}

func (v *vec) at(r int) int {
	if v.konst {
		return 0
	}
	return r
}

func (v *vec) float(r int) float64 {
	r = v.at(r)
	if v.kind == vInt {
		return float64(v.i[r])
	}
	return v.f[r]
}

// vexpr evaluates over a batch, or reports ok false to hand the batch to
// the VM.
type vexpr func(b *vbatch) (*vec, bool)

// vbatch caches the batch's columns as vecs.
type vbatch struct {
	rec  arrow.RecordBatch
	in   *arrow.Schema
	n    int
	cols map[string]*vec
}

func (b *vbatch) column(name string) (*vec, bool) {
	if v, ok := b.cols[name]; ok {
		return v, v != nil
	}
	idx := b.in.FieldIndices(name)
	if len(idx) == 0 {
		b.cols[name] = nil
		return nil, false
	}
	v := fromArrow(b.rec.Column(idx[0]))
	b.cols[name] = v
	return v, v != nil
}

// fromArrow takes the values of an Arrow column, or nil for a type the
// vectorized path does not read.
func fromArrow(a arrow.Array) *vec {
	n := a.Len()
	v := &vec{n: n}
	if a.NullN() > 0 {
		v.valid = make([]bool, n)
		for i := range v.valid {
			v.valid[i] = a.IsValid(i)
		}
	}
	switch a := a.(type) {
	case *array.Int64:
		v.kind, v.i = vInt, a.Int64Values()
	case *array.Float64:
		v.kind, v.f = vFloat, a.Float64Values()
	case *array.String:
		v.kind, v.s = vString, make([]string, n)
		for i := range v.s {
			v.s[i] = a.Value(i)
		}
	case *array.Boolean:
		v.kind, v.b = vBool, make([]bool, n)
		for i := range v.b {
			v.b[i] = a.Value(i)
		}
	case *array.Decimal128:
		// Only integers that fit int64 vectorize; every other decimal
		// goes to the VM, which keeps it exact.
		if a.DataType().(*arrow.Decimal128Type).Scale != 0 {
			return nil
		}
		v.kind, v.i = vInt, make([]int64, n)
		for i := 0; i < n; i++ {
			if !a.IsValid(i) {
				continue
			}
			d := a.Value(i)
			hi, lo := d.HighBits(), d.LowBits()
			if !(hi == 0 && lo <= math.MaxInt64 || hi == -1 && lo > math.MaxInt64) {
				return nil
			}
			v.i[i] = int64(lo)
		}
	default:
		return nil
	}
	return v
}

// compileVector builds the vectorized form of an expression, or nil.
func compileVector(text string) vexpr {
	tree, err := parser.Parse(text)
	if err != nil {
		return nil
	}
	return vnode(tree.Node)
}

func vnode(node ast.Node) vexpr {
	switch n := node.(type) {
	case *ast.IdentifierNode:
		return func(b *vbatch) (*vec, bool) { return b.column(n.Value) }
	case *ast.IntegerNode:
		v := &vec{kind: vInt, n: 1, i: []int64{int64(n.Value)}, konst: true}
		return func(*vbatch) (*vec, bool) { return v, true }
	case *ast.FloatNode:
		v := &vec{kind: vFloat, n: 1, f: []float64{n.Value}, konst: true}
		return func(*vbatch) (*vec, bool) { return v, true }
	case *ast.StringNode:
		v := &vec{kind: vString, n: 1, s: []string{n.Value}, konst: true}
		return func(*vbatch) (*vec, bool) { return v, true }
	case *ast.BoolNode:
		v := &vec{kind: vBool, n: 1, b: []bool{n.Value}, konst: true}
		return func(*vbatch) (*vec, bool) { return v, true }
	case *ast.NilNode:
		v := &vec{kind: vNull, n: 1, konst: true}
		return func(*vbatch) (*vec, bool) { return v, true }
	case *ast.UnaryNode:
		return vunary(n)
	case *ast.BinaryNode:
		return vbinary(n)
	case *ast.ConditionalNode:
		return vconditional(n)
	case *ast.BuiltinNode:
		return vcall(n.Name, n.Arguments)
	case *ast.CallNode:
		if id, ok := n.Callee.(*ast.IdentifierNode); ok {
			return vcall(id.Value, n.Arguments)
		}
	}
	return nil
}

func vunary(n *ast.UnaryNode) vexpr {
	x := vnode(n.Node)
	if x == nil {
		return nil
	}
	switch n.Operator {
	case "!", "not":
		return func(b *vbatch) (*vec, bool) {
			v, ok := x(b)
			if !ok || v.kind != vBool || v.valid != nil {
				return nil, false
			}
			out := &vec{kind: vBool, n: b.n, b: make([]bool, b.n)}
			for r := range out.b {
				out.b[r] = !v.b[v.at(r)]
			}
			return out, true
		}
	case "-":
		return func(b *vbatch) (*vec, bool) {
			v, ok := x(b)
			if !ok || v.valid != nil || (v.kind != vInt && v.kind != vFloat) {
				return nil, false
			}
			// A negated literal is still a literal (-1.1 is the decimal the
			// VM reads, see exactLiteral): it stays one value.
			n := b.n
			if v.konst {
				n = 1
			}
			out := &vec{kind: v.kind, n: n, konst: v.konst}
			if v.kind == vInt {
				out.i = make([]int64, n)
				for r := range out.i {
					x := v.i[v.at(r)]
					if x == math.MinInt64 {
						return nil, false // its negation is beyond int64
					}
					out.i[r] = -x
				}
			} else {
				out.f = make([]float64, n)
				for r := range out.f {
					out.f[r] = -v.f[v.at(r)]
				}
			}
			return out, true
		}
	}
	return nil
}

func vcall(name string, args []ast.Node) vexpr {
	if len(args) != 1 {
		return nil
	}
	var f func(string) string
	switch name {
	case "lower":
		f = strings.ToLower
	case "upper":
		f = strings.ToUpper
	case "trim":
		f = strings.TrimSpace
	default:
		return nil
	}
	x := vnode(args[0])
	if x == nil {
		return nil
	}
	return func(b *vbatch) (*vec, bool) {
		v, ok := x(b)
		// The VM fails on lower(nil): a NULL goes to the VM.
		if !ok || v.kind != vString || v.valid != nil {
			return nil, false
		}
		out := &vec{kind: vString, n: b.n, s: make([]string, b.n)}
		for r := range out.s {
			out.s[r] = f(v.s[v.at(r)])
		}
		return out, true
	}
}

func vconditional(n *ast.ConditionalNode) vexpr {
	c, x, y := vnode(n.Cond), vnode(n.Exp1), vnode(n.Exp2)
	if c == nil || x == nil || y == nil {
		return nil
	}
	return func(b *vbatch) (*vec, bool) {
		cv, ok := c(b)
		if !ok || cv.kind != vBool || cv.valid != nil {
			return nil, false
		}
		xv, ok1 := x(b)
		yv, ok2 := y(b)
		if !ok1 || !ok2 {
			return nil, false
		}
		return merge(b.n, xv, yv, func(r int) bool { return cv.b[cv.at(r)] })
	}
}

// merge picks, row by row, from x where pick holds and from y elsewhere.
// Both must be of one kind (NULL constants mix with anything).
func merge(n int, x, y *vec, pick func(int) bool) (*vec, bool) {
	kind := x.kind
	if kind == vNull {
		kind = y.kind
	}
	for _, v := range []*vec{x, y} {
		// The VM keeps each row's own kind (an integer stays exact).
		if v.kind != vNull && v.kind != kind {
			return nil, false
		}
	}
	out := &vec{kind: kind, n: n, valid: make([]bool, n)}
	switch kind {
	case vString:
		out.s = make([]string, n)
	case vFloat:
		out.f = make([]float64, n)
	case vInt:
		out.i = make([]int64, n)
	case vBool:
		out.b = make([]bool, n)
	case vNull:
		return out, true
	}
	for r := 0; r < n; r++ {
		src := y
		if pick(r) {
			src = x
		}
		if !src.ok(r) {
			continue
		}
		out.valid[r] = true
		k := src.at(r)
		switch kind {
		case vString:
			out.s[r] = src.s[k]
		case vFloat:
			out.f[r] = src.float(r)
		case vInt:
			out.i[r] = src.i[k]
		case vBool:
			out.b[r] = src.b[k]
		}
	}
	allValid := true
	for _, ok := range out.valid {
		allValid = allValid && ok
	}
	if allValid {
		out.valid = nil
	}
	return out, true
}

func vbinary(n *ast.BinaryNode) vexpr {
	if n.Operator == "in" {
		return vin(n)
	}
	l, r := vnode(n.Left), vnode(n.Right)
	if l == nil || r == nil {
		return nil
	}
	op := n.Operator
	return func(b *vbatch) (*vec, bool) {
		lv, ok1 := l(b)
		rv, ok2 := r(b)
		if !ok1 || !ok2 {
			return nil, false
		}
		switch op {
		case "??":
			return merge(b.n, lv, rv, func(i int) bool { return lv.ok(i) })
		case "==", "!=":
			return vequal(b.n, lv, rv, op == "!=")
		case "<", "<=", ">", ">=":
			return vcompare(b.n, lv, rv, op)
		case "&&", "and", "||", "or":
			if lv.kind != vBool || rv.kind != vBool || lv.valid != nil || rv.valid != nil {
				return nil, false
			}
			out := &vec{kind: vBool, n: b.n, b: make([]bool, b.n)}
			and := op == "&&" || op == "and"
			for i := range out.b {
				x, y := lv.b[lv.at(i)], rv.b[rv.at(i)]
				if and {
					out.b[i] = x && y
				} else {
					out.b[i] = x || y
				}
			}
			return out, true
		case "+", "-", "*", "/":
			return varith(b.n, lv, rv, op)
		}
		return nil, false
	}
}

// exactLiteral reports an integer meeting a float literal: the VM reads
// the literal as the exact decimal it spells and computes exactly, so the
// float loop would not agree.
func exactLiteral(l, r *vec) bool {
	return l.kind == vInt && r.kind == vFloat && r.konst || r.kind == vInt && l.kind == vFloat && l.konst
}

// vequal compares for (in)equality; NULL equals only NULL, as in the VM.
func vequal(n int, l, r *vec, negate bool) (*vec, bool) {
	if exactLiteral(l, r) {
		return nil, false
	}
	out := &vec{kind: vBool, n: n, b: make([]bool, n)}
	numeric := func(v *vec) bool { return v.kind == vInt || v.kind == vFloat }
	if l.kind != vNull && r.kind != vNull && l.kind != r.kind && !(numeric(l) && numeric(r)) {
		return nil, false
	}
	for i := range out.b {
		lo, ro := l.ok(i), r.ok(i)
		var eq bool
		switch {
		case !lo || !ro:
			eq = !lo && !ro
		case l.kind == vString:
			eq = l.s[l.at(i)] == r.s[r.at(i)]
		case l.kind == vBool:
			eq = l.b[l.at(i)] == r.b[r.at(i)]
		case l.kind == vInt && r.kind == vInt:
			eq = l.i[l.at(i)] == r.i[r.at(i)]
		default:
			eq = l.float(i) == r.float(i)
		}
		out.b[i] = eq != negate
	}
	return out, true
}

func vcompare(n int, l, r *vec, op string) (*vec, bool) {
	if l.valid != nil || r.valid != nil || l.kind == vNull || r.kind == vNull || exactLiteral(l, r) {
		return nil, false // the VM fails on ordering NULLs
	}
	out := &vec{kind: vBool, n: n, b: make([]bool, n)}
	cmp := func(c int) bool {
		switch op {
		case "<":
			return c < 0
		case "<=":
			return c <= 0
		case ">":
			return c > 0
		}
		return c >= 0
	}
	switch {
	case l.kind == vString && r.kind == vString:
		for i := range out.b {
			out.b[i] = cmp(strings.Compare(l.s[l.at(i)], r.s[r.at(i)]))
		}
	case l.kind == vInt && r.kind == vInt:
		for i := range out.b {
			out.b[i] = cmp(stdcmp.Compare(l.i[l.at(i)], r.i[r.at(i)]))
		}
	case (l.kind == vInt || l.kind == vFloat) && (r.kind == vInt || r.kind == vFloat):
		for i := range out.b {
			x, y := l.float(i), r.float(i)
			c := 0
			if x < y {
				c = -1
			} else if x > y {
				c = 1
			}
			out.b[i] = cmp(c)
		}
	default:
		return nil, false
	}
	return out, true
}

func varith(n int, l, r *vec, op string) (*vec, bool) {
	if l.valid != nil || r.valid != nil || l.kind == vNull || r.kind == vNull {
		return nil, false // the VM fails on arithmetic with NULL
	}
	if l.kind == vString && r.kind == vString && op == "+" {
		out := &vec{kind: vString, n: n, s: make([]string, n)}
		for i := range out.s {
			out.s[i] = l.s[l.at(i)] + r.s[r.at(i)]
		}
		return out, true
	}
	if (l.kind != vInt && l.kind != vFloat) || (r.kind != vInt && r.kind != vFloat) || exactLiteral(l, r) {
		return nil, false
	}
	if l.kind == vInt && r.kind == vInt {
		if op == "/" {
			return nil, false // the VM divides exactly, to Snowflake's scale
		}
		out := &vec{kind: vInt, n: n, i: make([]int64, n)}
		for i := range out.i {
			x, ok := intArith(op, l.i[l.at(i)], r.i[r.at(i)])
			if !ok {
				return nil, false // beyond int64: the VM goes on in decimals
			}
			out.i[i] = x
		}
		return out, true
	}
	out := &vec{kind: vFloat, n: n, f: make([]float64, n)}
	for i := range out.f {
		x, y := l.float(i), r.float(i)
		switch op {
		case "+":
			out.f[i] = x + y
		case "-":
			out.f[i] = x - y
		case "*":
			out.f[i] = x * y
		case "/":
			out.f[i] = x / y
		}
	}
	return out, true
}

// vin is x in ['a', 'b'] over strings.
func vin(n *ast.BinaryNode) vexpr {
	arr, ok := n.Right.(*ast.ArrayNode)
	if !ok {
		return nil
	}
	set := map[string]bool{}
	for _, e := range arr.Nodes {
		s, ok := e.(*ast.StringNode)
		if !ok {
			return nil
		}
		set[s.Value] = true
	}
	x := vnode(n.Left)
	if x == nil {
		return nil
	}
	return func(b *vbatch) (*vec, bool) {
		v, ok := x(b)
		if !ok || v.kind != vString || v.valid != nil {
			return nil, false
		}
		out := &vec{kind: vBool, n: b.n, b: make([]bool, b.n)}
		for r := range out.b {
			out.b[r] = set[v.s[v.at(r)]]
		}
		return out, true
	}
}

// vbuild writes a vec into the destination column's Arrow type, with the
// same checks as the VM path; rows picks the rows to keep (nil: all).
func vbuild(mem memory.Allocator, v *vec, col Column, rows []int, n int) (arrow.Array, error) {
	count := n
	if rows != nil {
		count = len(rows)
	}
	at := func(k int) int {
		if rows != nil {
			return rows[k]
		}
		return k
	}
	b := array.NewBuilder(mem, col.Type.Arrow())
	defer b.Release()
	b.Reserve(count)
	if sb, ok := b.(*array.StringBuilder); ok && v.kind == vString {
		// The text's bytes at once: growing the data buffer as values
		// come copies and clears it again and again.
		total := 0
		for k := 0; k < count; k++ {
			if r := at(k); v.ok(r) {
				total += len(v.s[v.at(r)])
			}
		}
		sb.ReserveData(total)
	}
	for k := 0; k < count; k++ {
		r := at(k)
		if !v.ok(r) {
			if err := appendNull(b, col); err != nil {
				return nil, &cellError{row: k, msg: err.Error()}
			}
			continue
		}
		i := v.at(r)
		switch sb := b.(type) {
		case *array.StringBuilder:
			if v.kind == vString && !(col.Type.Dialect == sqltype.Snowflake && col.Type.Length > 0) && !col.Type.Fixed {
				sb.Append(v.s[i])
				continue
			}
		case *array.Float64Builder:
			if v.kind == vFloat || v.kind == vInt {
				sb.Append(v.float(r))
				continue
			}
		}
		var val any
		switch v.kind {
		case vString:
			val = v.s[i]
		case vFloat:
			val = v.f[i]
		case vInt:
			val = v.i[i]
		case vBool:
			val = v.b[i]
		}
		if err := appendValue(b, col, val); err != nil {
			return nil, &cellError{row: k, msg: err.Error()}
		}
	}
	return b.NewArray(), nil
}
