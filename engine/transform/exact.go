package transform

import (
	stdcmp "cmp"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser/lexer"
)

// Expressions compute exactly. A NUMBER with a scale, and one beyond
// int64, reaches an expression as a decimal (never a float64); integers
// as int64. The arithmetic and comparison operators, unary minus, abs,
// round, ceil, floor, min and max are rewritten at compile time into the
// functions below, which decide at run time by the operands' values:
// integers stay integers until they would overflow and then become
// decimals, decimals keep every digit (a product's scale is the sum of
// the scales), a float64 operand makes the result a float64 (Infer grades
// that lossy), and NULL gives NULL, as in SQL. Division is the one
// operation that rounds: to Snowflake's scale for it, half away from
// zero, and Infer grades it lossy.

// pow10 is 10^n.
func pow10(n int32) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }

// asInt64 is an integer value: a column's int64 or a literal's int.
func asInt64(v any) (int64, bool) {
	switch v := v.(type) {
	case int64:
		return v, true
	case int:
		return int64(v), true
	}
	return 0, false
}

func decOf(v any) (decimal, bool) {
	switch v := v.(type) {
	case decimal:
		return v, true
	case int64:
		return decimal{big.NewInt(v), 0}, true
	case int:
		return decimal{big.NewInt(int64(v)), 0}, true
	case uint64:
		return decimal{new(big.Int).SetUint64(v), 0}, true
	}
	return decimal{}, false
}

// rescale is d at a larger scale.
func (d decimal) rescale(scale int32) *big.Int {
	if scale == d.scale {
		return d.v
	}
	return new(big.Int).Mul(d.v, pow10(scale-d.scale))
}

// normal is d as int64 when it is an integer that fits, else d.
func (d decimal) normal() any {
	if d.scale == 0 && d.v.IsInt64() {
		return d.v.Int64()
	}
	return d
}

func (d decimal) cmp(e decimal) int {
	s := max(d.scale, e.scale)
	return d.rescale(s).Cmp(e.rescale(s))
}

// roundTo rounds d to scale, half away from zero (Snowflake's ROUND).
func (d decimal) roundTo(scale int32) decimal {
	if scale >= d.scale {
		return d
	}
	div := pow10(d.scale - scale)
	q, r := new(big.Int).QuoRem(d.v, div, new(big.Int))
	if new(big.Int).Mul(new(big.Int).Abs(r), big.NewInt(2)).Cmp(div) >= 0 {
		if d.v.Sign() < 0 {
			q.Sub(q, bigOne)
		} else {
			q.Add(q, bigOne)
		}
	}
	return decimal{q, scale}
}

// floorTo rounds d to scale toward negative infinity, or toward positive
// infinity when up (ceil).
func (d decimal) floorTo(scale int32, up bool) decimal {
	if scale >= d.scale {
		return d
	}
	div := pow10(d.scale - scale)
	q, r := new(big.Int).DivMod(d.v, div, new(big.Int)) // Euclidean: r >= 0
	if up && r.Sign() != 0 {
		q.Add(q, bigOne)
	}
	return decimal{q, scale}
}

// asFloat is a number as the float64 nearest it.
func asFloat(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case float32:
		return float64(v), true
	case int64:
		return float64(v), true // correctly rounded, as the decimal path would be
	}
	d, ok := decOf(v)
	if !ok {
		return 0, false
	}
	f, _ := new(big.Rat).SetFrac(d.v, pow10(d.scale)).Float64()
	return f, true
}

func isFloat(v any) bool {
	switch v.(type) {
	case float64, float32:
		return true
	}
	return false
}

// arith applies + - * / % to two values.
func arith(op string, a, b any) (any, error) {
	if a == nil || b == nil {
		return nil, nil
	}
	if op == "+" {
		if x, ok := a.(string); ok {
			if y, ok := b.(string); ok {
				return x + y, nil
			}
		}
	}
	if isFloat(a) || isFloat(b) {
		x, ok1 := asFloat(a)
		y, ok2 := asFloat(b)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("invalid operation: %v %s %v", a, op, b)
		}
		switch op {
		case "+":
			return x + y, nil
		case "-":
			return x - y, nil
		case "*":
			return x * y, nil
		case "/":
			return x / y, nil
		case "%":
			return math.Mod(x, y), nil
		}
	}
	// Integers stay int64 (no big.Int a row) until they would overflow.
	if x, ok := asInt64(a); ok {
		if y, ok := asInt64(b); ok {
			if r, ok := intArith(op, x, y); ok {
				return r, nil
			}
		}
	}
	x, ok1 := decOf(a)
	y, ok2 := decOf(b)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("invalid operation: %v (%T) %s %v (%T)", a, a, op, b, b)
	}
	switch op {
	case "+", "-":
		s := max(x.scale, y.scale)
		v := new(big.Int)
		if op == "+" {
			v.Add(x.rescale(s), y.rescale(s))
		} else {
			v.Sub(x.rescale(s), y.rescale(s))
		}
		return decimal{v, s}.normal(), nil
	case "*":
		return decimal{new(big.Int).Mul(x.v, y.v), x.scale + y.scale}.normal(), nil
	case "/", "%":
		if y.v.Sign() == 0 {
			return nil, fmt.Errorf("division by zero")
		}
		if op == "%" {
			s := max(x.scale, y.scale)
			return decimal{new(big.Int).Rem(x.rescale(s), y.rescale(s)), s}.normal(), nil
		}
		// Snowflake's scale for a quotient, rounded half away from zero.
		s := divScale(x.scale)
		num := new(big.Int).Mul(x.v, pow10(s+1+y.scale))
		den := new(big.Int).Mul(y.v, pow10(x.scale))
		q := decimal{new(big.Int).Quo(num, den), s + 1}
		return q.roundTo(s).normal(), nil
	}
	return nil, fmt.Errorf("unknown operator %s", op)
}

// divScale is the scale Snowflake gives a quotient whose dividend has
// scale s.
func divScale(s int32) int32 { return max(s, min(s+6, 12)) }

// intArith is integer arithmetic that reports an overflow instead of
// wrapping; the caller then computes in decimals.
func intArith(op string, x, y int64) (int64, bool) {
	switch op {
	case "+":
		r := x + y
		return r, (r > x) == (y > 0)
	case "-":
		r := x - y
		return r, (r < x) == (y > 0)
	case "*":
		if x == 0 || y == 0 {
			return 0, true
		}
		r := x * y
		return r, r/y == x && !(x == -1 && y == math.MinInt64) && !(y == -1 && x == math.MinInt64)
	case "%":
		if y == 0 || y == -1 {
			return 0, false
		}
		return x % y, true
	}
	return 0, false // "/" computes in decimals
}

// compare applies < <= > >= == != to two values. == and != test NULL
// as expr does (x == nil); an ordering with NULL is an error that stops
// the window, as it was before (write x != nil and x > 0).
func compare(op string, a, b any) (bool, error) {
	if a == nil || b == nil {
		switch op {
		case "==":
			return a == nil && b == nil, nil
		case "!=":
			return !(a == nil && b == nil), nil
		}
		return false, fmt.Errorf("invalid operation: %v %s %v: a NULL has no order", a, op, b)
	}
	var c int
	switch {
	case isFloat(a) || isFloat(b):
		x, ok1 := asFloat(a)
		y, ok2 := asFloat(b)
		if !ok1 || !ok2 {
			return equalOnly(op, a, b)
		}
		switch {
		case x < y:
			c = -1
		case x > y:
			c = 1
		case x != y: // NaN
			return op == "!=", nil
		}
	default:
		if x, ok := asInt64(a); ok {
			if y, ok := asInt64(b); ok {
				c = stdcmp.Compare(x, y)
				break
			}
		}
		x, ok1 := decOf(a)
		y, ok2 := decOf(b)
		if ok1 && ok2 {
			c = x.cmp(y)
			break
		}
		if s, ok := a.(string); ok {
			if t, ok := b.(string); ok {
				c = strings.Compare(s, t)
				break
			}
		}
		if s, ok := a.(time.Time); ok {
			if t, ok := b.(time.Time); ok {
				c = s.Compare(t)
				break
			}
		}
		return equalOnly(op, a, b)
	}
	switch op {
	case "<":
		return c < 0, nil
	case "<=":
		return c <= 0, nil
	case ">":
		return c > 0, nil
	case ">=":
		return c >= 0, nil
	case "==":
		return c == 0, nil
	case "!=":
		return c != 0, nil
	}
	return false, fmt.Errorf("unknown operator %s", op)
}

func equalOnly(op string, a, b any) (bool, error) {
	switch op {
	case "==":
		return a == b, nil
	case "!=":
		return a != b, nil
	}
	return false, fmt.Errorf("invalid operation: %v (%T) %s %v (%T)", a, a, op, b, b)
}

func negate(a any) (any, error) {
	switch v := a.(type) {
	case nil:
		return nil, nil
	case float64:
		return -v, nil
	}
	if v, ok := asInt64(a); ok && v != math.MinInt64 {
		return -v, nil
	}
	d, ok := decOf(a)
	if !ok {
		return nil, fmt.Errorf("invalid operation: -%v (%T)", a, a)
	}
	return decimal{new(big.Int).Neg(d.v), d.scale}.normal(), nil
}

// exactFunctions replace expr's builtins of the same names.
var exactFunctions = map[string]func(args ...any) (any, error){
	"abs": func(args ...any) (any, error) {
		if err := arity("abs", args, 1, 1); err != nil || args[0] == nil {
			return nil, err
		}
		if f, ok := args[0].(float64); ok {
			return math.Abs(f), nil
		}
		if neg, err := compare("<", args[0], int64(0)); err != nil || !neg {
			return args[0], err
		}
		return negate(args[0])
	},
	"int": func(args ...any) (any, error) {
		if err := arity("int", args, 1, 1); err != nil || args[0] == nil {
			return nil, err
		}
		switch v := args[0].(type) {
		case string:
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("int: %q is not an integer", v)
			}
			return n, nil
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) || v >= math.MaxInt64 || v < math.MinInt64 {
				return nil, fmt.Errorf("int: %v does not fit an integer", v)
			}
			return int64(v), nil
		case bool:
			if v {
				return int64(1), nil
			}
			return int64(0), nil
		}
		d, ok := decOf(args[0])
		if !ok {
			return nil, fmt.Errorf("int: %v (%T) is not a number", args[0], args[0])
		}
		// Toward zero, as expr's int does.
		return decimal{new(big.Int).Quo(d.v, pow10(d.scale)), 0}.normal(), nil
	},
	"float": func(args ...any) (any, error) {
		if err := arity("float", args, 1, 1); err != nil || args[0] == nil {
			return nil, err
		}
		if s, ok := args[0].(string); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil {
				return nil, fmt.Errorf("float: %q is not a number", s)
			}
			return f, nil
		}
		f, ok := asFloat(args[0])
		if !ok {
			return nil, fmt.Errorf("float: %v (%T) is not a number", args[0], args[0])
		}
		return f, nil
	},
	"string": func(args ...any) (any, error) {
		if err := arity("string", args, 1, 1); err != nil || args[0] == nil {
			return nil, err // NULL stays NULL, not the text "<nil>"
		}
		switch v := args[0].(type) {
		case []byte:
			return v, nil // a BINARY's bytes, as a copied column gets them
		case time.Time, time.Duration, float64:
			return toString(v) // the text a copied column gets
		}
		return fmt.Sprint(args[0]), nil
	},
	"round": func(args ...any) (any, error) { return rounding("round", args) },
	"ceil":  func(args ...any) (any, error) { return rounding("ceil", args) },
	"floor": func(args ...any) (any, error) { return rounding("floor", args) },
	"min":   func(args ...any) (any, error) { return extreme("min", "<", args) },
	"max":   func(args ...any) (any, error) { return extreme("max", ">", args) },
}

func arity(name string, args []any, lo, hi int) error {
	if len(args) < lo || len(args) > hi {
		return fmt.Errorf("%s takes %d to %d arguments, got %d", name, lo, hi, len(args))
	}
	return nil
}

// rounding is round(x[, n]), ceil(x[, n]) and floor(x[, n]): to n
// decimal places (0 by default), round half away from zero.
func rounding(name string, args []any) (any, error) {
	if err := arity(name, args, 1, 2); err != nil {
		return nil, err
	}
	var places int32
	if len(args) == 2 {
		n, ok := args[1].(int)
		if !ok {
			if n64, ok64 := args[1].(int64); ok64 {
				n, ok = int(n64), true
			}
		}
		if !ok || n < 0 || n > 38 {
			return nil, fmt.Errorf("%s: the places must be an integer from 0 to 38, got %v", name, args[1])
		}
		places = int32(n)
	}
	if args[0] == nil {
		return nil, nil
	}
	if f, ok := args[0].(float64); ok {
		m := math.Pow(10, float64(places))
		switch name {
		case "ceil":
			return math.Ceil(f*m) / m, nil
		case "floor":
			return math.Floor(f*m) / m, nil
		}
		return math.Round(f*m) / m, nil
	}
	d, ok := decOf(args[0])
	if !ok {
		return nil, fmt.Errorf("%s: %v (%T) is not a number", name, args[0], args[0])
	}
	switch name {
	case "ceil":
		d = d.floorTo(places, true)
	case "floor":
		d = d.floorTo(places, false)
	default:
		d = d.roundTo(places)
	}
	return d.normal(), nil
}

// extreme is min and max over numbers (or strings, or times); a NULL
// argument makes the result NULL, as Snowflake's LEAST and GREATEST do.
func extreme(name, op string, args []any) (any, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("%s needs an argument", name)
	}
	best := args[0]
	for _, a := range args {
		if a == nil {
			return nil, nil
		}
	}
	for _, a := range args[1:] {
		better, err := compare(op, a, best)
		if err != nil {
			return nil, err
		}
		if better {
			best = a
		}
	}
	return best, nil
}

// exactOptions are the compile options that make expressions exact.
// Checking names and syntax needs the functions only: once patched, expr's
// checker no longer reports an unknown name inside an operator.
func exactOptions(patch bool) []expr.Option {
	var opts []expr.Option
	if patch {
		opts = append(opts, expr.Patch(&exactPatch{}))
	}
	for _, op := range []string{"+", "-", "*", "/", "%"} {
		opts = append(opts, expr.Function(opName(op), func(args ...any) (any, error) { return arith(op, args[0], args[1]) }))
	}
	for _, op := range []string{"<", "<=", ">", ">=", "==", "!="} {
		opts = append(opts, expr.Function(opName(op), func(args ...any) (any, error) { return compare(op, args[0], args[1]) },
			new(func(any, any) bool)))
	}
	opts = append(opts, expr.Function("sluice_neg", func(args ...any) (any, error) { return negate(args[0]) }),
		expr.Function("sluice_dec", func(args ...any) (any, error) { return parseDecimal(args[0].(string)) }))
	for name, f := range exactFunctions {
		opts = append(opts, expr.DisableBuiltin(name), expr.Function(name, f))
	}
	return opts
}

var opNames = map[string]string{"+": "add", "-": "sub", "*": "mul", "/": "div", "%": "mod",
	"<": "lt", "<=": "le", ">": "gt", ">=": "ge", "==": "eq", "!=": "ne"}

func opName(op string) string { return "sluice_" + opNames[op] }

// exactPatch rewrites arithmetic, comparisons and unary minus into the
// exact functions.
type exactPatch struct{}

func (exactPatch) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.BinaryNode:
		if _, ok := opNames[n.Operator]; ok {
			ast.Patch(node, &ast.CallNode{Callee: &ast.IdentifierNode{Value: opName(n.Operator)}, Arguments: []ast.Node{n.Left, n.Right}})
		}
	case *ast.CallNode:
		// A decimal literal (see exactSource) is a constant.
		if id, ok := n.Callee.(*ast.IdentifierNode); ok && id.Value == "sluice_dec" && len(n.Arguments) == 1 {
			if lit, ok := n.Arguments[0].(*ast.StringNode); ok {
				if d, err := parseDecimal(lit.Value); err == nil {
					ast.Patch(node, &ast.ConstantNode{Value: d})
				}
			}
		}
	case *ast.UnaryNode:
		if n.Operator == "-" {
			ast.Patch(node, &ast.CallNode{Callee: &ast.IdentifierNode{Value: "sluice_neg"}, Arguments: []ast.Node{n.Node}})
		}
	}
}

// exactSource rewrites each decimal literal of an expression (1.1,
// 999999999999999999.99) as sluice_dec("…"), so that it is the exact
// decimal it spells: expr's parser would read it as the nearest float64.
// Literals with an exponent stay floats. Text that does not lex is
// returned as is, for the compiler to report; a literal it cannot place
// is an error rather than a float64 nobody asked for.
func exactSource(text string) (string, error) {
	toks, err := lexer.Lex(file.NewSource(text))
	if err != nil {
		return text, nil
	}
	runes := []rune(text)
	var b strings.Builder
	at := 0
	for _, t := range toks {
		v := strings.ReplaceAll(t.Value, "_", "")
		if t.Kind != lexer.Number || !strings.Contains(v, ".") || strings.ContainsAny(v, "eExX") {
			continue
		}
		from, to := t.Location.From, t.Location.To
		if from < at || to > len(runes) || string(runes[from:to]) != t.Value {
			return "", fmt.Errorf("cannot place the decimal literal %s in the expression to read it exactly", t.Value)
		}
		b.WriteString(string(runes[at:from]))
		b.WriteString(`sluice_dec("` + v + `")`)
		at = to
	}
	b.WriteString(string(runes[at:]))
	return b.String(), nil
}
