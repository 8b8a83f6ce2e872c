package transform

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"

	"github.com/hockeystack/sluice/engine/sqltype"
)

// Inferred is what an expression computes, as far as its inputs' types
// tell, under the exact semantics of this package.
type Inferred struct {
	// Type is the result's type in Snowflake's terms (NUMBER(p,s),
	// FLOAT, VARCHAR, BOOLEAN, a date or time); Known is false when the
	// expression uses something whose type is not known.
	Type  sqltype.Type
	Known bool
	// Lossy says why the expression changes values (a float meets a
	// NUMBER, a division rounds, int() drops a fraction); "" when exact.
	Lossy string
	// Checked says why some values may stop the window (a result past
	// 38 digits); "" when none can.
	Checked string
}

// infType is a node's inferred type: a kind with NUMBER's integer digits
// and scale, and whether it is a constant.
type infType struct {
	kind         sqltype.Kind // Decimal for every NUMBER, Float, String, Bool, Date, Timestamp; Invalid unknown
	intDigits    int
	scale        int
	null, konst  bool
	nullable     bool         // the value may be NULL
	src          sqltype.Type // for dates and times: the source type
	lossy, check string
}

func (t infType) known() bool { return t.kind != sqltype.Invalid || t.null }

// Infer infers the type of an expression over source columns whose types
// types gives (ok false for a name it does not know).
func Infer(text string, types func(name string) (sqltype.Type, bool)) (Inferred, error) {
	src, err := exactSource(text)
	if err != nil {
		return Inferred{}, err
	}
	tree, err := parser.Parse(src)
	if err != nil {
		return Inferred{}, err
	}
	t := infer(tree.Node, types)
	out := Inferred{Known: t.known(), Lossy: t.lossy, Checked: t.check}
	if !out.Known {
		return out, nil
	}
	out.Type = t.sqltype()
	return out, nil
}

// sqltype spells an inferred type as a Snowflake type.
func (t infType) sqltype() sqltype.Type {
	var s string
	switch t.kind {
	case sqltype.Decimal:
		p := min(max(t.intDigits+t.scale, 1), 38)
		s = fmt.Sprintf("NUMBER(%d,%d)", p, min(t.scale, p))
	case sqltype.Float:
		s = "FLOAT"
	case sqltype.String:
		s = "VARCHAR"
	case sqltype.Bool:
		s = "BOOLEAN"
	case sqltype.Date, sqltype.Timestamp, sqltype.Time:
		src := t.src
		src.Nullable = t.nullable
		return src
	default:
		s = "VARCHAR" // a NULL literal alone
	}
	typ, _ := sqltype.ParseSnowflake(s)
	typ.Nullable = t.nullable
	return typ
}

// fromType is the inferred type of a source column.
func fromType(st sqltype.Type) infType {
	t := fromKind(st)
	t.nullable = st.Nullable
	return t
}

func fromKind(st sqltype.Type) infType {
	switch st.Kind {
	case sqltype.Decimal:
		return infType{kind: sqltype.Decimal, intDigits: st.Precision - st.Scale, scale: st.Scale}
	case sqltype.Int, sqltype.UInt:
		d := map[int]int{8: 3, 16: 5, 32: 10, 64: 19}[st.Bits]
		if st.Kind == sqltype.UInt && st.Bits == 64 {
			d = 20
		}
		return infType{kind: sqltype.Decimal, intDigits: max(d, 1)}
	case sqltype.Float:
		return infType{kind: sqltype.Float}
	case sqltype.String, sqltype.JSON, sqltype.UUID, sqltype.Enum:
		return infType{kind: sqltype.String}
	case sqltype.Bool:
		return infType{kind: sqltype.Bool}
	case sqltype.Date, sqltype.Timestamp, sqltype.Time:
		return infType{kind: st.Kind, src: st}
	}
	return infType{}
}

func digitsOf(s string) (intDigits, scale int) {
	s = strings.TrimLeft(strings.TrimPrefix(s, "-"), "0")
	whole, frac, _ := strings.Cut(s, ".")
	return max(len(whole), 1), len(frac)
}

func numType(intDigits, scale int) infType {
	t := infType{kind: sqltype.Decimal, intDigits: intDigits, scale: scale}
	if intDigits+scale > 38 {
		t.check = "the result may pass 38 digits: such a value stops the window"
	}
	return t
}

// carry passes the first lossy and checked reasons of the operands on.
func carry(t infType, ops ...infType) infType {
	for _, o := range ops {
		if t.lossy == "" {
			t.lossy = o.lossy
		}
		if t.check == "" {
			t.check = o.check
		}
	}
	return t
}

// floatMix is a float meeting a number: the result is a float, which
// changes a NUMBER that is not a constant.
func floatMix(what string, a, b infType) infType {
	t := infType{kind: sqltype.Float}
	for _, o := range []infType{a, b} {
		if o.kind == sqltype.Decimal && !o.konst && t.lossy == "" {
			t.lossy = what + " mixes a NUMBER with a FLOAT: the result is a float64, which holds about 15 digits"
		}
	}
	return carry(t, a, b)
}

// unify is the type of a value that is one of a or b (?:, min, max):
// NULL when either is.
func unify(a, b infType) infType {
	t := unifyKind(a, b)
	t.nullable = a.nullable || b.nullable
	return t
}

func unifyKind(a, b infType) infType {
	switch {
	case a.null:
		return carry(b, a)
	case b.null:
		return carry(a, b)
	case a.kind == sqltype.Decimal && b.kind == sqltype.Decimal:
		t := numType(max(a.intDigits, b.intDigits), max(a.scale, b.scale))
		t.konst = a.konst && b.konst
		return carry(t, a, b)
	case a.kind == sqltype.Float && b.kind == sqltype.Decimal || a.kind == sqltype.Decimal && b.kind == sqltype.Float:
		return floatMix("a choice", a, b)
	case a.kind == b.kind && a.kind != sqltype.Invalid:
		return carry(a, b)
	}
	return carry(infType{}, a, b)
}

func infer(node ast.Node, types func(string) (sqltype.Type, bool)) infType {
	switch n := node.(type) {
	case *ast.IdentifierNode:
		if st, ok := types(n.Value); ok {
			return fromType(st)
		}
		return infType{nullable: true}
	case *ast.IntegerNode:
		d, _ := digitsOf(fmt.Sprint(n.Value))
		t := numType(d, 0)
		t.konst = true
		return t
	case *ast.FloatNode: // with an exponent: a float
		return infType{kind: sqltype.Float, konst: true}
	case *ast.StringNode:
		return infType{kind: sqltype.String, konst: true}
	case *ast.BoolNode:
		return infType{kind: sqltype.Bool, konst: true}
	case *ast.NilNode:
		return infType{null: true, konst: true, nullable: true}
	case *ast.UnaryNode:
		x := infer(n.Node, types)
		switch n.Operator {
		case "-", "+":
			return x
		case "!", "not":
			return carry(infType{kind: sqltype.Bool, nullable: x.nullable}, x)
		}
	case *ast.ConditionalNode:
		return carry(unify(infer(n.Exp1, types), infer(n.Exp2, types)), infer(n.Cond, types))
	case *ast.BinaryNode:
		l, r := infer(n.Left, types), infer(n.Right, types)
		return binary(n.Operator, l, r)
	case *ast.BuiltinNode:
		return call(n.Name, n.Arguments, types)
	case *ast.CallNode:
		if id, ok := n.Callee.(*ast.IdentifierNode); ok {
			return call(id.Value, n.Arguments, types)
		}
	}
	return infType{}
}

func binary(op string, l, r infType) infType {
	t := binaryKind(op, l, r)
	switch op {
	case "??":
		t.nullable = r.nullable // NULL only when both are
	case "==", "!=", "<", "<=", ">", ">=":
		t.nullable = false // == tests NULL; ordering a NULL stops the window
	default:
		t.nullable = l.nullable || r.nullable
	}
	return t
}

func binaryKind(op string, l, r infType) infType {
	switch op {
	case "??":
		if !l.known() {
			return carry(infType{}, l, r)
		}
		return unify(l, r)
	case "==", "!=", "<", "<=", ">", ">=", "and", "or", "&&", "||", "in", "not in", "matches", "contains", "startsWith", "endsWith":
		return carry(infType{kind: sqltype.Bool}, l, r)
	case "+", "-", "*", "/", "%":
	default:
		return carry(infType{}, l, r)
	}
	if l.null || r.null {
		return carry(infType{null: true}, l, r)
	}
	if op == "+" && l.kind == sqltype.String && r.kind == sqltype.String {
		return carry(infType{kind: sqltype.String}, l, r)
	}
	isNum := func(t infType) bool { return t.kind == sqltype.Decimal || t.kind == sqltype.Float }
	if !isNum(l) || !isNum(r) {
		return carry(infType{}, l, r)
	}
	if l.kind == sqltype.Float || r.kind == sqltype.Float {
		return floatMix("'"+op+"'", l, r)
	}
	var t infType
	switch op {
	case "+", "-":
		t = numType(max(l.intDigits, r.intDigits)+1, max(l.scale, r.scale))
	case "*":
		t = numType(l.intDigits+r.intDigits, l.scale+r.scale)
	case "%":
		t = numType(min(l.intDigits, r.intDigits), max(l.scale, r.scale))
	case "/":
		s := int(divScale(int32(l.scale)))
		t = numType(l.intDigits+r.scale, s)
		t.lossy = fmt.Sprintf("a division rounds its quotient to %d decimal places", s)
	}
	t.konst = l.konst && r.konst
	return carry(t, l, r)
}

func call(name string, args []ast.Node, types func(string) (sqltype.Type, bool)) infType {
	in := make([]infType, len(args))
	for i, a := range args {
		in[i] = infer(a, types)
	}
	t := callKind(name, args, in)
	switch name {
	case "lower", "upper", "trim", "trimPrefix", "trimSuffix", "replace", "repeat", "join", "toJSON", "type", "len", "count":
		t.nullable = false // these stop the window on NULL rather than return it
	default:
		t.nullable = false
		for _, x := range in {
			t.nullable = t.nullable || x.nullable
		}
	}
	return t
}

func callKind(name string, args []ast.Node, in []infType) infType {
	switch name {
	case "sluice_dec":
		if s, ok := args[0].(*ast.StringNode); ok {
			d, sc := digitsOf(s.Value)
			t := numType(d, sc)
			t.konst = true
			return t
		}
	case "abs":
		if len(in) == 1 {
			return in[0]
		}
	case "round", "ceil", "floor":
		if len(in) < 1 || len(in) > 2 || in[0].kind != sqltype.Decimal {
			if len(in) >= 1 && in[0].kind == sqltype.Float {
				return in[0]
			}
			break
		}
		places := 0
		if len(args) == 2 {
			lit, ok := args[1].(*ast.IntegerNode)
			if !ok {
				break
			}
			places = lit.Value
		}
		// Rounding up may carry into a new digit (9.5 -> 10).
		t := numType(in[0].intDigits+1, min(in[0].scale, places))
		t.konst = in[0].konst
		return carry(t, in[0])
	case "min", "max":
		if len(in) == 0 {
			break
		}
		t := in[0]
		for _, x := range in[1:] {
			t = unify(t, x)
		}
		return t
	case "string", "lower", "upper", "trim", "trimPrefix", "trimSuffix", "replace", "repeat", "join", "toJSON", "type":
		return carry(infType{kind: sqltype.String}, in...)
	case "len", "count":
		return carry(numType(19, 0), in...)
	case "int":
		if len(in) == 1 {
			t := carry(numType(max(in[0].intDigits, 19), 0), in[0])
			switch {
			case in[0].kind == sqltype.Decimal && in[0].scale > 0 && t.lossy == "":
				t.lossy = "int() drops the fraction"
			case in[0].kind == sqltype.Float && t.lossy == "":
				t.lossy = "int() drops a float's fraction"
			}
			return t
		}
	case "float":
		if len(in) == 1 {
			t := carry(infType{kind: sqltype.Float}, in[0])
			if in[0].kind == sqltype.Decimal && !in[0].konst && t.lossy == "" {
				t.lossy = "float() turns a NUMBER into a float64, which holds about 15 digits"
			}
			return t
		}
	}
	return carry(infType{}, in...)
}

// arrowType is the sqltype of a source column as it arrives in Arrow,
// for inferring at run time what the plan inferred from the catalog.
func arrowType(dt arrow.DataType) (sqltype.Type, bool) {
	var s string
	switch dt := dt.(type) {
	case *arrow.Decimal128Type:
		s = fmt.Sprintf("NUMBER(%d,%d)", dt.Precision, dt.Scale)
	case *arrow.Decimal256Type:
		s = fmt.Sprintf("NUMBER(%d,%d)", min(dt.Precision, 38), dt.Scale)
	case *arrow.Int8Type, *arrow.Int16Type, *arrow.Int32Type, *arrow.Int64Type:
		s = "NUMBER(19,0)"
	case *arrow.Uint8Type, *arrow.Uint16Type, *arrow.Uint32Type, *arrow.Uint64Type:
		s = "NUMBER(20,0)"
	case *arrow.Float32Type, *arrow.Float64Type:
		s = "FLOAT"
	case *arrow.StringType, *arrow.LargeStringType, *arrow.BinaryType:
		s = "VARCHAR"
	case *arrow.BooleanType:
		s = "BOOLEAN"
	case *arrow.Date32Type:
		s = "DATE"
	case *arrow.TimestampType:
		s = "TIMESTAMP_NTZ(9)"
	default:
		return sqltype.Type{}, false
	}
	t, err := sqltype.ParseSnowflake(s)
	return t, err == nil
}
