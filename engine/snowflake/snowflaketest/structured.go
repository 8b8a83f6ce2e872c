//go:build duckdb_arrow

package snowflaketest

import (
	"bytes"
	"cmp"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/hockeystack/sluice/engine/sqlscan"
	"github.com/hockeystack/sluice/engine/sqltype"
)

// Snowflake's structured types: OBJECT(name T, ...), ARRAY(T) and
// MAP(K, V). snowsim keeps their values as JSON in DuckDB (a cast to one
// is a cast to JSON) and knows each result column's declared type from the
// statement's select list. When the result is encoded, each value is
// checked and converted to the declared type (a value that does not fit
// fails the statement, as Snowflake's cast does) and written as Snowflake
// sends it: JSON text in the declared field order with dates and times in
// the session's output formats and binary as hex, or, when the session
// asks for native Arrow (ENABLE_STRUCTURED_TYPES_NATIVE_ARROW_FORMAT or
// FORCE_ENABLE_STRUCTURED_TYPES_NATIVE_ARROW_FORMAT), Arrow struct, list
// and map columns whose leaves are encoded as top-level columns are. The
// rowtype describes the nested types in "fields" when the session sets
// ENABLE_STRUCTURED_TYPES_IN_CLIENT_RESPONSE; without it a column is
// reported as its semi-structured counterpart (MAP as OBJECT).

const kMap sfKind = "map"

// stype is one structured or scalar type as Snowflake describes it.
type stype struct {
	Kind      sfKind
	Precision int
	Scale     int
	Length    int
	Nullable  bool
	Fields    []sfield // OBJECT: named fields; ARRAY: one element; MAP: key, value
}

type sfield struct {
	Name string
	Type *stype
}

// meta is the type's rowtype entry ("fields" items and the column's own
// description of its children).
func (t *stype) meta(name string) map[string]any {
	m := map[string]any{"name": name, "type": string(t.Kind), "nullable": t.Nullable,
		"length": 0, "precision": 0, "scale": 0, "byteLength": nil, "collation": nil}
	switch t.Kind {
	case kFixed:
		m["precision"], m["scale"] = t.Precision, t.Scale
	case kTime, kNTZ, kLTZ, kTZ:
		m["scale"] = t.Scale
	case kText:
		m["length"], m["byteLength"] = t.Length, t.Length*4
	case kBinary:
		m["length"], m["byteLength"] = t.Length, t.Length
	}
	if fs := t.fieldsMeta(); fs != nil {
		m["fields"] = fs
	}
	return m
}

func (t *stype) fieldsMeta() []map[string]any {
	if len(t.Fields) == 0 {
		return nil
	}
	out := make([]map[string]any, len(t.Fields))
	for i, f := range t.Fields {
		out[i] = f.Type.meta(f.Name)
	}
	return out
}

// parseStructured reads a structured type starting at toks[i] (OBJECT,
// ARRAY or MAP followed by a parenthesis) and returns it and the index
// after it. ok is false when toks[i] does not start one.
func parseStructured(toks []sqlscan.Token, i int) (t *stype, next int, ok bool, err error) {
	if i+1 >= len(toks) || !isPunct(toks[i+1], "(") || !isWord(toks[i], "OBJECT", "ARRAY", "MAP") {
		return nil, i, false, nil
	}
	t, next, err = parseSType(toks, i)
	return t, next, true, err
}

func structuredErr(format string, a ...any) error {
	return fmt.Errorf(format, a...)
}

// parseSType reads any type at toks[i].
func parseSType(toks []sqlscan.Token, i int) (*stype, int, error) {
	if i >= len(toks) || toks[i].Kind != sqlscan.Ident {
		return nil, i, structuredErr("expected a type")
	}
	word := strings.ToUpper(toks[i].Text)
	if (word == "OBJECT" || word == "ARRAY" || word == "MAP") && i+1 < len(toks) && isPunct(toks[i+1], "(") {
		t := &stype{Nullable: true}
		j := i + 2
		switch word {
		case "OBJECT":
			t.Kind = kObject
			for !isPunct(toks[j], ")") {
				if toks[j].Kind != sqlscan.Ident && toks[j].Kind != sqlscan.QuotedIdent {
					return nil, j, structuredErr("expected a field name")
				}
				name := toks[j].Text
				ft, n, err := parseSType(toks, j+1)
				if err != nil {
					return nil, n, err
				}
				j = n
				if isWord(toks[j], "NOT") && j+1 < len(toks) && isWord(toks[j+1], "NULL") {
					ft.Nullable = false
					j += 2
				}
				for _, f := range t.Fields {
					if f.Name == name {
						return nil, j, structuredErr("duplicate field %s", name)
					}
				}
				t.Fields = append(t.Fields, sfield{Name: name, Type: ft})
				if j >= len(toks) {
					return nil, j, structuredErr("unterminated OBJECT type")
				}
				if isPunct(toks[j], ",") {
					j++
				}
			}
		case "ARRAY":
			t.Kind = kArray
			et, n, err := parseSType(toks, j)
			if err != nil {
				return nil, n, err
			}
			j = n
			if j+1 < len(toks) && isWord(toks[j], "NOT") && isWord(toks[j+1], "NULL") {
				et.Nullable = false
				j += 2
			}
			t.Fields = []sfield{{Type: et}}
		case "MAP":
			t.Kind = kMap
			kt, n, err := parseSType(toks, j)
			if err != nil {
				return nil, n, err
			}
			if kt.Kind != kText && !(kt.Kind == kFixed && kt.Scale == 0) {
				return nil, n, structuredErr("MAP keys must be VARCHAR or NUMBER with scale 0")
			}
			kt.Nullable = false
			if n >= len(toks) || !isPunct(toks[n], ",") {
				return nil, n, structuredErr("expected , in MAP type")
			}
			vt, n2, err := parseSType(toks, n+1)
			if err != nil {
				return nil, n2, err
			}
			j = n2
			if j+1 < len(toks) && isWord(toks[j], "NOT") && isWord(toks[j+1], "NULL") {
				vt.Nullable = false
				j += 2
			}
			t.Fields = []sfield{{Name: "key", Type: kt}, {Name: "value", Type: vt}}
		}
		if j >= len(toks) || !isPunct(toks[j], ")") {
			return nil, j, structuredErr("unterminated %s type", word)
		}
		return t, j + 1, nil
	}
	// A scalar type: its words and an optional parenthesised argument list.
	text := toks[i].Text
	j := i + 1
	if word == "DOUBLE" && j < len(toks) && isWord(toks[j], "PRECISION") {
		text += " PRECISION"
		j++
	}
	if j < len(toks) && isPunct(toks[j], "(") {
		depth := 0
		for j < len(toks) {
			text += toks[j].Text
			depth += toks[j].Nesting()
			j++
			if depth == 0 {
				break
			}
		}
	}
	st, err := sqltype.ParseSnowflake(typeAlias(text))
	if err != nil {
		return nil, j, structuredErr("unsupported data type '%s'", strings.ToUpper(text))
	}
	t := &stype{Nullable: true}
	switch st.Kind {
	case sqltype.Decimal:
		t.Kind, t.Precision, t.Scale = kFixed, st.Precision, st.Scale
	case sqltype.Int:
		t.Kind, t.Precision = kFixed, 38
	case sqltype.Float:
		t.Kind = kReal
	case sqltype.String:
		t.Kind, t.Length = kText, st.Length
		if t.Length == 0 {
			t.Length = maxLength
		}
	case sqltype.Binary:
		t.Kind, t.Length = kBinary, st.Length
		if t.Length == 0 {
			t.Length = 8388608
		}
	case sqltype.Bool:
		t.Kind = kBoolean
	case sqltype.Date:
		t.Kind = kDate
	case sqltype.Time:
		t.Kind, t.Scale = kTime, st.Precision
	case sqltype.Timestamp:
		t.Scale = st.Precision
		switch st.Zone {
		case sqltype.NoZone:
			t.Kind = kNTZ
		case sqltype.Offset:
			t.Kind = kTZ
		default:
			t.Kind = kLTZ
		}
	default:
		// VARIANT, semi-structured OBJECT/ARRAY, GEOGRAPHY...: not in
		// a structured type here.
		return nil, j, structuredErr("unsupported data type '%s' in a structured type", strings.ToUpper(text))
	}
	return t, j, nil
}

// structuredText parses a structured type's text (from the catalog), or
// returns nil.
func structuredText(text string) *stype {
	toks := sqlscan.Scan(text)
	st, next, ok, err := parseStructured(toks, 0)
	if !ok || err != nil || next != len(toks) {
		return nil
	}
	return st
}

// stored is the semi-structured type a structured column is kept as.
func (t *stype) stored() sqltype.Type {
	name := "OBJECT"
	if t.Kind == kArray {
		name = "ARRAY"
	}
	st, _ := sqltype.ParseSnowflake(name)
	return st
}

// typeAlias respells Snowflake's timestamp types without the underscore
// (TIMESTAMPLTZ, TIMESTAMPNTZ, TIMESTAMPTZ) with it.
func typeAlias(text string) string {
	word, rest := text, ""
	if i := strings.IndexAny(text, "( "); i >= 0 {
		word, rest = text[:i], text[i:]
	}
	if alias, ok := map[string]string{"TIMESTAMPLTZ": "TIMESTAMP_LTZ", "TIMESTAMPNTZ": "TIMESTAMP_NTZ", "TIMESTAMPTZ": "TIMESTAMP_TZ"}[strings.ToUpper(word)]; ok {
		return alias + rest
	}
	return text
}

// selectStructured returns the declared structured type of each item of
// a query's select list (of its first SELECT, for a set operation), nil
// for items that are not a cast to one; nil when none is.
func selectStructured(toks []sqlscan.Token) []*stype {
	i := 0
	for i < len(toks) && isPunct(toks[i], "(") {
		i++
	}
	if i >= len(toks) || !isWord(toks[i], "SELECT") {
		return nil
	}
	i++
	for i < len(toks) && isWord(toks[i], "DISTINCT", "ALL") {
		i++
	}
	var items [][]sqlscan.Token
	start, depth := i, 0
	end := len(toks)
	for k := i; k < len(toks); k++ {
		t := toks[k]
		if depth == 0 && isWord(t, "FROM", "WHERE", "GROUP", "ORDER", "LIMIT", "HAVING", "QUALIFY", "UNION", "INTERSECT", "EXCEPT", "MINUS") || depth < 0 {
			end = k
			break
		}
		if depth == 0 && isPunct(t, ",") {
			items = append(items, toks[start:k])
			start = k + 1
		}
		depth += nesting(t)
	}
	if start > end {
		return nil
	}
	items = append(items, toks[start:end])
	out := make([]*stype, len(items))
	any := false
	for n, item := range items {
		// The last cast at the top of the item decides.
		depth, cast := 0, -1
		for k, t := range item {
			if depth == 0 && isPunct(t, "::") && k+1 < len(item) {
				cast = k + 1
			}
			depth += nesting(t)
		}
		if cast < 0 {
			continue
		}
		st, _, ok, err := parseStructured(item, cast)
		if ok && err == nil {
			out[n], any = st, true
		}
	}
	if !any {
		return nil
	}
	return out
}

// nesting is a token's change of depth: parentheses, brackets and the
// braces of object constants.
func nesting(t sqlscan.Token) int {
	if t.Kind == sqlscan.Punct {
		switch t.Text {
		case "(", "[", "{":
			return 1
		case ")", "]", "}":
			return -1
		}
	}
	return 0
}

// tableStructured returns the structured columns, by name, of the table a
// query reads when it reads one (SELECT ... FROM name, no join), for
// typing the result columns that are those columns; nil otherwise.
func tableStructured(ctx context.Context, sess *session, toks []sqlscan.Token) map[string]*stype {
	if len(toks) == 0 || !isWord(toks[0], "SELECT") || sess == nil || sess.conn == nil {
		return nil
	}
	depth, from := 0, -1
	for k, t := range toks {
		if depth == 0 && isWord(t, "FROM") {
			from = k
			break
		}
		depth += nesting(t)
	}
	if from < 0 {
		return nil
	}
	var parts []string
	k := from + 1
	for k < len(toks) && (toks[k].Kind == sqlscan.Ident || toks[k].Kind == sqlscan.QuotedIdent) {
		name := toks[k].Text
		if toks[k].Kind == sqlscan.Ident {
			name = strings.ToUpper(name)
		}
		parts = append(parts, name)
		k++
		if k < len(toks) && isPunct(toks[k], ".") {
			k++
			continue
		}
		break
	}
	if len(parts) == 0 {
		return nil
	}
	for ; k < len(toks); k++ {
		if isPunct(toks[k], ",") || isWord(toks[k], "JOIN") {
			return nil
		}
		if isWord(toks[k], "WHERE", "GROUP", "ORDER", "LIMIT", "QUALIFY", "HAVING", "UNION", "MINUS", "EXCEPT", "INTERSECT") {
			break
		}
	}
	o, e := sess.resolve(parts)
	if e != nil {
		return nil
	}
	cols, err := tableColumns(ctx, sess.conn, o)
	if err != nil {
		return nil
	}
	var out map[string]*stype
	for _, c := range cols {
		if c.structured != nil {
			if out == nil {
				out = map[string]*stype{}
			}
			out[c.name] = c.structured
		}
	}
	return out
}

func sessionLoc(sess *session) *time.Location {
	if l, err := time.LoadLocation(sess.zone()); err == nil {
		return l
	}
	return time.UTC
}

// semiStructured reports whether a result has a VARIANT, OBJECT or ARRAY
// column, which may be a table's structured column.
func semiStructured(cols []column) bool {
	for _, c := range cols {
		if c.Kind == kVariant || c.Kind == kObject || c.Kind == kArray {
			return true
		}
	}
	return false
}

// structuredSession reads the session parameters that shape structured
// results.
func structuredSession(sess *session) (described, native bool) {
	on := func(name string) bool { return strings.EqualFold(sess.params[name], "true") }
	return on("ENABLE_STRUCTURED_TYPES_IN_CLIENT_RESPONSE"),
		on("ENABLE_STRUCTURED_TYPES_NATIVE_ARROW_FORMAT") || on("FORCE_ENABLE_STRUCTURED_TYPES_NATIVE_ARROW_FORMAT")
}

// outputFormats are the session's date and time output formats (their
// defaults, and what ALTER SESSION set), which the driver reads structured
// JSON values with and writes structured binds in; the login and every
// query response carry them.
func outputFormats(sess *session) []map[string]any {
	out := make([]map[string]any, len(defaultFormats))
	for i, f := range defaultFormats {
		v := f[1]
		if set, ok := sess.params[f[0]]; ok {
			v = set
		}
		out[i] = map[string]any{"name": f[0], "value": v}
	}
	return out
}

var defaultFormats = [][2]string{
	{"DATE_OUTPUT_FORMAT", "YYYY-MM-DD"},
	{"TIME_OUTPUT_FORMAT", "HH24:MI:SS"},
	{"TIMESTAMP_OUTPUT_FORMAT", "YYYY-MM-DD HH24:MI:SS.FF3 TZHTZM"},
	{"TIMESTAMP_NTZ_OUTPUT_FORMAT", "YYYY-MM-DD HH24:MI:SS.FF3"},
	{"TIMESTAMP_LTZ_OUTPUT_FORMAT", ""},
	{"TIMESTAMP_TZ_OUTPUT_FORMAT", ""},
	{"BINARY_OUTPUT_FORMAT", "HEX"},
}

// layouts are the Go layouts of a session's output formats, by kind.
type layouts map[sfKind]string

func sessionLayouts(sess *session) layouts {
	f := map[string]string{}
	for _, p := range outputFormats(sess) {
		f[p["name"].(string)] = p["value"].(string)
	}
	ts := f["TIMESTAMP_OUTPUT_FORMAT"]
	pick := func(name string) string { return cmp.Or(f[name], ts) }
	return layouts{
		kDate: goLayout(f["DATE_OUTPUT_FORMAT"]), kTime: goLayout(f["TIME_OUTPUT_FORMAT"]),
		kNTZ: goLayout(pick("TIMESTAMP_NTZ_OUTPUT_FORMAT")), kLTZ: goLayout(pick("TIMESTAMP_LTZ_OUTPUT_FORMAT")),
		kTZ: goLayout(pick("TIMESTAMP_TZ_OUTPUT_FORMAT")),
	}
}

var fractionRE = regexp.MustCompile(`FF(\d?)`)

// goLayout converts a Snowflake date/time format to a Go layout, as the
// driver reads it, with offsets written as Snowflake writes them (+0000).
func goLayout(f string) string {
	for _, r := range [][2]string{{"YYYY", "2006"}, {"YY", "06"}, {"MMMM", "January"}, {"MM", "01"}, {"MON", "Jan"},
		{"DD", "02"}, {"DY", "Mon"}, {"HH24", "15"}, {"HH12", "03"}, {"AM", "PM"}, {"MI", "04"}, {"SS", "05"},
		{"TZH", "-07"}, {"TZM", "00"}} {
		f = strings.ReplaceAll(f, r[0], r[1])
	}
	return fractionRE.ReplaceAllStringFunc(f, func(m string) string {
		n := 9
		if len(m) == 3 {
			n = int(m[2] - '0')
		}
		return strings.Repeat("0", n)
	})
}

// typeStructured types the result's structured columns, once a result,
// and returns what converts each batch's values (DuckDB's JSON text) to
// Snowflake's encoding, releasing the records it replaces; nil when the
// result has no structured column.
func typeStructured(cols []column, types []*stype, tableTypes func() map[string]*stype, sess *session, format string) func([]arrow.RecordBatch) ([]arrow.RecordBatch, error) {
	if len(types) != len(cols) {
		types = make([]*stype, len(cols))
	}
	var byName map[string]*stype
	if tableTypes != nil && semiStructured(cols) {
		byName = tableTypes()
	}
	for i, t := range types {
		if t == nil && byName != nil {
			types[i] = byName[cols[i].Name]
		}
	}
	described, native := structuredSession(sess)
	native = native && format == "arrow" && described
	loc := sessionLoc(sess)
	lay := sessionLayouts(sess)
	var which []int
	for i, t := range types {
		if t == nil {
			continue
		}
		if cols[i].Kind != kVariant && cols[i].Kind != kObject && cols[i].Kind != kArray {
			continue
		}
		cols[i].Kind = t.Kind
		cols[i].Struct = t
		cols[i].Described = described
		cols[i].Native = native
		cols[i].Length = 0
		if !described && t.Kind == kMap {
			cols[i].Kind = kObject
		}
		which = append(which, i)
	}
	if len(which) == 0 {
		return nil
	}
	return func(records []arrow.RecordBatch) ([]arrow.RecordBatch, error) {
		return convertRecords(records, which, types, loc, lay, native)
	}
}

// convertRecords converts the columns which of each record.
func convertRecords(records []arrow.RecordBatch, which []int, types []*stype, loc *time.Location, lay layouts, native bool) ([]arrow.RecordBatch, error) {
	mem := memory.DefaultAllocator
	for r, rec := range records {
		arrs := make([]arrow.Array, rec.NumCols())
		for i := range arrs {
			arrs[i] = rec.Column(i)
			arrs[i].Retain()
		}
		var err error
		for _, i := range which {
			var out arrow.Array
			out, err = convertStructured(mem, arrs[i], types[i], loc, lay, native)
			if err != nil {
				break
			}
			arrs[i].Release()
			arrs[i] = out
		}
		if err != nil {
			for _, a := range arrs {
				a.Release()
			}
			return records, err
		}
		fields := make([]arrow.Field, len(arrs))
		for i, a := range arrs {
			fields[i] = rec.Schema().Field(i)
			fields[i].Type = a.DataType()
		}
		records[r] = array.NewRecordBatch(arrow.NewSchema(fields, nil), arrs, rec.NumRows())
		for _, a := range arrs {
			a.Release()
		}
		rec.Release()
	}
	return records, nil
}

// convertStructured converts one column of JSON text.
func convertStructured(mem memory.Allocator, a arrow.Array, t *stype, loc *time.Location, lay layouts, native bool) (arrow.Array, error) {
	vals := make([]any, a.Len())
	for j := range vals {
		if a.IsNull(j) {
			continue
		}
		text := a.ValueStr(j)
		if s, ok := a.(*array.String); ok {
			text = s.Value(j)
		}
		d := json.NewDecoder(strings.NewReader(text))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			return nil, fmt.Errorf("invalid JSON %q", text)
		}
		if v == nil {
			continue // JSON null: SQL NULL
		}
		cv, err := coerce(v, t, loc)
		if err != nil {
			return nil, castError(text, t, err)
		}
		vals[j] = cv
	}
	if native {
		b := newSBuilder(mem, t)
		defer b.release()
		for _, v := range vals {
			b.append(v)
		}
		return b.finish(), nil
	}
	sb := array.NewStringBuilder(mem)
	defer sb.Release()
	var buf, ind bytes.Buffer
	for _, v := range vals {
		if v == nil {
			sb.AppendNull()
			continue
		}
		buf.Reset()
		ind.Reset()
		writeSJSON(&buf, v, t, lay)
		if err := json.Indent(&ind, buf.Bytes(), "", "  "); err != nil {
			return nil, err
		}
		sb.Append(ind.String())
	}
	return sb.NewArray(), nil
}

func castError(text string, t *stype, err error) error {
	return fmt.Errorf("Failed to cast variant value %s to %s: %v", compactJSON(text), t.sql(), err)
}

func compactJSON(s string) string {
	var b bytes.Buffer
	if json.Compact(&b, []byte(s)) == nil {
		return b.String()
	}
	return s
}

// sql spells the type as Snowflake does in messages.
func (t *stype) sql() string {
	switch t.Kind {
	case kObject:
		var parts []string
		for _, f := range t.Fields {
			parts = append(parts, f.Name+" "+f.Type.sql())
		}
		return "OBJECT(" + strings.Join(parts, ", ") + ")"
	case kArray:
		return "ARRAY(" + t.Fields[0].Type.sql() + ")"
	case kMap:
		return "MAP(" + t.Fields[0].Type.sql() + ", " + t.Fields[1].Type.sql() + ")"
	case kFixed:
		return fmt.Sprintf("NUMBER(%d,%d)", t.Precision, t.Scale)
	case kReal:
		return "FLOAT"
	case kText:
		return fmt.Sprintf("VARCHAR(%d)", t.Length)
	case kBinary:
		return fmt.Sprintf("BINARY(%d)", t.Length)
	case kTime, kNTZ, kLTZ, kTZ:
		return fmt.Sprintf("%s(%d)", strings.ToUpper(string(t.Kind)), t.Scale)
	}
	return strings.ToUpper(string(t.Kind))
}

// Converted values: string (text), sdec (fixed), float64, bool, []byte,
// sdate (days), stime (nanoseconds of the day), stamp (an instant with
// its offset in minutes), *sobj, []any (array), *smap.
type (
	sdec  struct{ unscaled *big.Int }
	sdate int32
	stime int64
	stamp struct {
		sec    int64
		nsec   int32
		offset int // minutes east of UTC (the wall clock of an NTZ is sec in UTC)
	}
	sobj struct{ vals []any } // in field order
	smap struct {
		keys []any
		vals []any
	}
)

// coerce converts a JSON value (nil is null) to type t.
// coercion reads values in one flavour: snowsim's own JSON (binary as
// its bytes in a string), or a bind's (binary as hex, as the driver
// writes it).
type coercion struct {
	loc       *time.Location
	hexBinary bool
}

func coerce(v any, t *stype, loc *time.Location) (any, error) {
	return coercion{loc: loc}.coerce(v, t)
}

func (c coercion) coerce(v any, t *stype) (any, error) {
	loc := c.loc
	if v == nil {
		if !t.Nullable {
			return nil, fmt.Errorf("NULL in a NOT NULL field")
		}
		return nil, nil
	}
	switch t.Kind {
	case kText:
		var s string
		switch v := v.(type) {
		case string:
			s = v
		case json.Number:
			s = v.String()
		case bool:
			s = strconv.FormatBool(v)
		default:
			b, _ := json.Marshal(v)
			s = string(b)
		}
		if t.Length > 0 && len([]rune(s)) > t.Length {
			return nil, fmt.Errorf("String '%s' is too long and would be truncated", s)
		}
		return s, nil
	case kFixed:
		var text string
		switch v := v.(type) {
		case json.Number:
			text = v.String()
		case string:
			text = strings.TrimSpace(v)
		case bool:
			text = "0"
			if v {
				text = "1"
			}
		default:
			return nil, fmt.Errorf("not a number")
		}
		r, ok := new(big.Rat).SetString(text)
		if !ok {
			return nil, fmt.Errorf("Numeric value '%s' is not recognized", text)
		}
		// Round half away from zero to the scale.
		r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(t.Scale)), nil)))
		num, den := new(big.Int).Set(r.Num()), r.Denom()
		q, m := new(big.Int).QuoRem(num, den, new(big.Int))
		if new(big.Int).Mul(new(big.Int).Abs(m), big.NewInt(2)).Cmp(den) >= 0 {
			if num.Sign() < 0 {
				q.Sub(q, big.NewInt(1))
			} else {
				q.Add(q, big.NewInt(1))
			}
		}
		if len(new(big.Int).Abs(q).String()) > t.Precision {
			return nil, fmt.Errorf("Number out of representable range: type FIXEDSB16 {nullable=true precision=%d scale=%d}", t.Precision, t.Scale)
		}
		return sdec{q}, nil
	case kReal:
		switch v := v.(type) {
		case json.Number:
			return strconv.ParseFloat(v.String(), 64)
		case string:
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return nil, fmt.Errorf("Numeric value '%s' is not recognized", v)
			}
			return f, nil
		}
		return nil, fmt.Errorf("not a number")
	case kBoolean:
		switch v := v.(type) {
		case bool:
			return v, nil
		case string:
			switch strings.ToLower(strings.TrimSpace(v)) {
			case "true", "t", "yes", "y", "on", "1":
				return true, nil
			case "false", "f", "no", "n", "off", "0":
				return false, nil
			}
		case json.Number:
			f, err := v.Float64()
			if err == nil {
				return f != 0, nil
			}
		}
		return nil, fmt.Errorf("Boolean value '%v' is not recognized", v)
	case kBinary:
		// snowsim's VARIANT holds binary as DuckDB writes a BLOB as
		// text: printable ASCII as itself, other bytes as \xHH.
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("not binary")
		}
		if c.hexBinary {
			b, err := hex.DecodeString(s)
			if err != nil {
				return nil, fmt.Errorf("The following string is not a legal hex-encoded value: '%s'", s)
			}
			return b, nil
		}
		return blobBytes(s), nil
	case kDate:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("not a date")
		}
		tm, err := parseStamp(s, loc)
		if err != nil {
			return nil, err
		}
		wall := tm.wall()
		return sdate(floorDiv(wall, 86400)), nil
	case kTime:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("not a time")
		}
		tm, err := time.Parse("15:04:05.999999999", strings.TrimSpace(s))
		if err != nil {
			st, err2 := parseStamp(s, loc)
			if err2 != nil {
				return nil, fmt.Errorf("Time '%s' is not recognized", s)
			}
			ns := floorMod(st.wall(), 86400)*1e9 + int64(st.nsec)
			return stime(cutNanos(ns, t.Scale)), nil
		}
		ns := int64(tm.Hour()*3600+tm.Minute()*60+tm.Second())*1e9 + int64(tm.Nanosecond())
		return stime(cutNanos(ns, t.Scale)), nil
	case kNTZ, kLTZ, kTZ:
		var st stamp
		switch v := v.(type) {
		case string:
			var err error
			if st, err = parseStamp(v, loc); err != nil {
				return nil, err
			}
		case map[string]any:
			// snowsim's TIMESTAMP_TZ in JSON: {"utc": "...+00", "off": minutes}.
			u, _ := v["utc"].(string)
			off, _ := v["off"].(json.Number)
			o, err := off.Int64()
			if u == "" || err != nil {
				return nil, fmt.Errorf("not a timestamp")
			}
			if st, err = parseStamp(u, time.UTC); err != nil {
				return nil, err
			}
			st.offset = int(o)
		default:
			return nil, fmt.Errorf("not a timestamp")
		}
		switch t.Kind {
		case kNTZ:
			// The wall clock, its offset dropped.
			st.sec, st.offset = st.wall(), 0
		case kLTZ:
			st.offset = offsetIn(st.sec, loc)
		}
		st.nsec = int32(cutNanos(int64(st.nsec), t.Scale))
		return st, nil
	case kObject:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("not an object")
		}
		o := &sobj{vals: make([]any, len(t.Fields))}
		seen := 0
		for i, f := range t.Fields {
			fv, present := m[f.Name]
			if present {
				seen++
			}
			cv, err := c.coerce(fv, f.Type)
			if err != nil {
				return nil, fmt.Errorf("field %s: %w", f.Name, err)
			}
			o.vals[i] = cv
		}
		if seen != len(m) {
			for k := range m {
				found := false
				for _, f := range t.Fields {
					found = found || f.Name == k
				}
				if !found {
					return nil, fmt.Errorf("key %q is not a field of the type", k)
				}
			}
		}
		return o, nil
	case kArray:
		arr, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("not an array")
		}
		out := make([]any, len(arr))
		for i, e := range arr {
			cv, err := c.coerce(e, t.Fields[0].Type)
			if err != nil {
				return nil, fmt.Errorf("element %d: %w", i, err)
			}
			out[i] = cv
		}
		return out, nil
	case kMap:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("not an object")
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		// JSON objects from DuckDB keep their key order; Go maps do not:
		// read the order from the text.
		keys = orderedKeys(keys, t.Fields[0].Type.Kind == kFixed)
		out := &smap{}
		for _, k := range keys {
			kv, err := c.coerce(k, t.Fields[0].Type)
			if err != nil {
				return nil, fmt.Errorf("key %q: %w", k, err)
			}
			vv, err := c.coerce(m[k], t.Fields[1].Type)
			if err != nil {
				return nil, fmt.Errorf("value of %q: %w", k, err)
			}
			out.keys = append(out.keys, kv)
			out.vals = append(out.vals, vv)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported type %s", t.Kind)
}

// orderedKeys puts a MAP's keys in order: by value for NUMBER keys, by
// text otherwise (a Go map keeps none).
func orderedKeys(keys []string, numeric bool) []string {
	less := func(a, b string) bool { return a < b }
	if numeric {
		less = func(a, b string) bool {
			x, okx := new(big.Rat).SetString(a)
			y, oky := new(big.Rat).SetString(b)
			if okx && oky {
				return x.Cmp(y) < 0
			}
			return a < b
		}
	}
	slices.SortFunc(keys, func(a, b string) int {
		switch {
		case less(a, b):
			return -1
		case less(b, a):
			return 1
		}
		return 0
	})
	return keys
}

func cutNanos(ns int64, scale int) int64 {
	if scale >= 9 {
		return ns
	}
	p := pow10(9 - scale)
	return ns - floorMod(ns, p)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

// wall is the stamp's wall-clock seconds (its instant shifted by its offset).
func (s stamp) wall() int64 { return s.sec + int64(s.offset)*60 }

func offsetIn(sec int64, loc *time.Location) int {
	_, off := time.Unix(sec, 0).In(loc).Zone()
	return off / 60
}

// parseStamp reads a date or timestamp as DuckDB writes it in JSON
// ("2024-01-05 11:22:33.5+01", "2024-01-05"), or in Snowflake's forms. A
// value without an offset is a wall clock in loc.
func parseStamp(s string, loc *time.Location) (stamp, error) {
	s = strings.TrimSpace(s)
	layouts := []string{
		"2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999Z07", "2006-01-02 15:04:05.999999999Z0700",
		"2006-01-02 15:04:05.999999999 Z07:00", "2006-01-02 15:04:05.999999999 Z0700",
		"2006-01-02T15:04:05.999999999Z07:00",
	}
	for _, l := range layouts {
		if tm, err := time.Parse(l, s); err == nil {
			_, off := tm.Zone()
			return stamp{sec: tm.Unix(), nsec: int32(tm.Nanosecond()), offset: off / 60}, nil
		}
	}
	for _, l := range []string{"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if tm, err := time.ParseInLocation(l, s, loc); err == nil {
			_, off := tm.Zone()
			return stamp{sec: tm.Unix(), nsec: int32(tm.Nanosecond()), offset: off / 60}, nil
		}
	}
	return stamp{}, fmt.Errorf("Timestamp '%s' is not recognized", s)
}

// writeSJSON writes a converted value as Snowflake's structured JSON.
func writeSJSON(b *bytes.Buffer, v any, t *stype, lay layouts) {
	if v == nil {
		b.WriteString("null")
		return
	}
	quote := func(s string) {
		q, _ := json.Marshal(s)
		b.Write(q)
	}
	switch t.Kind {
	case kText:
		quote(v.(string))
	case kFixed:
		s := formatDecimal(v.(sdec).unscaled, t.Scale)
		if strings.Contains(s, ".") {
			s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
		}
		b.WriteString(s)
	case kReal:
		f := v.(float64)
		switch {
		case math.IsNaN(f):
			quote("NaN")
		case math.IsInf(f, 1):
			quote("Infinity")
		case math.IsInf(f, -1):
			quote("-Infinity")
		default:
			b.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
		}
	case kBoolean:
		b.WriteString(strconv.FormatBool(v.(bool)))
	case kBinary:
		quote(strings.ToUpper(hex.EncodeToString(v.([]byte))))
	case kDate:
		quote(time.Unix(int64(v.(sdate))*86400, 0).UTC().Format(lay[kDate]))
	case kTime:
		ns := int64(v.(stime))
		quote(time.Unix(0, ns).UTC().Format(lay[kTime]))
	case kNTZ:
		st := v.(stamp)
		quote(time.Unix(st.sec, int64(st.nsec)).UTC().Format(lay[kNTZ]))
	case kLTZ, kTZ:
		st := v.(stamp)
		quote(time.Unix(st.sec, int64(st.nsec)).In(time.FixedZone("", st.offset*60)).Format(lay[t.Kind]))
	case kObject:
		o := v.(*sobj)
		b.WriteByte('{')
		for i, f := range t.Fields {
			if i > 0 {
				b.WriteByte(',')
			}
			quote(f.Name)
			b.WriteByte(':')
			writeSJSON(b, o.vals[i], f.Type, lay)
		}
		b.WriteByte('}')
	case kArray:
		b.WriteByte('[')
		for i, e := range v.([]any) {
			if i > 0 {
				b.WriteByte(',')
			}
			writeSJSON(b, e, t.Fields[0].Type, lay)
		}
		b.WriteByte(']')
	case kMap:
		m := v.(*smap)
		b.WriteByte('{')
		for i, k := range m.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			if t.Fields[0].Type.Kind == kText {
				quote(k.(string))
			} else {
				quote(formatDecimal(k.(sdec).unscaled, 0))
			}
			b.WriteByte(':')
			writeSJSON(b, m.vals[i], t.Fields[1].Type, lay)
		}
		b.WriteByte('}')
	}
}

// sbuilder builds a native Arrow column of a structured or scalar type,
// leaves encoded as Snowflake encodes top-level columns.
type sbuilder struct {
	t   *stype
	b   array.Builder
	sub []*sbuilder
}

func (t *stype) arrowType() arrow.DataType {
	switch t.Kind {
	case kText:
		return arrow.BinaryTypes.String
	case kFixed:
		return &arrow.Decimal128Type{Precision: int32(max(t.Precision, 1)), Scale: int32(t.Scale)}
	case kReal:
		return arrow.PrimitiveTypes.Float64
	case kBoolean:
		return arrow.FixedWidthTypes.Boolean
	case kBinary:
		return arrow.BinaryTypes.Binary
	case kDate:
		return arrow.FixedWidthTypes.Date32
	case kTime:
		return arrow.PrimitiveTypes.Int64
	case kNTZ, kLTZ:
		if t.Scale <= 7 {
			return arrow.PrimitiveTypes.Int64
		}
		return arrow.StructOf(
			arrow.Field{Name: "epoch", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
			arrow.Field{Name: "fraction", Type: arrow.PrimitiveTypes.Int32, Nullable: true})
	case kTZ:
		return arrow.StructOf(
			arrow.Field{Name: "epoch", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
			arrow.Field{Name: "fraction", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
			arrow.Field{Name: "timezone", Type: arrow.PrimitiveTypes.Int32, Nullable: true})
	case kObject:
		fs := make([]arrow.Field, len(t.Fields))
		for i, f := range t.Fields {
			fs[i] = f.Type.arrowField(f.Name)
		}
		return arrow.StructOf(fs...)
	case kArray:
		return arrow.ListOfField(t.Fields[0].Type.arrowField("element"))
	case kMap:
		return arrow.MapOfWithMetadata(t.Fields[0].Type.arrowType(), t.Fields[0].Type.fieldMetadata(),
			t.Fields[1].Type.arrowType(), t.Fields[1].Type.fieldMetadata())
	}
	return arrow.BinaryTypes.String
}

func (t *stype) fieldMetadata() arrow.Metadata {
	return arrow.NewMetadata([]string{"logicalType", "precision", "scale", "charLength"},
		[]string{strings.ToUpper(string(t.Kind)), strconv.Itoa(t.Precision), strconv.Itoa(t.Scale), strconv.Itoa(t.Length)})
}

func (t *stype) arrowField(name string) arrow.Field {
	return arrow.Field{Name: name, Type: t.arrowType(), Nullable: true, Metadata: t.fieldMetadata()}
}

func newSBuilder(mem memory.Allocator, t *stype) *sbuilder {
	sb := &sbuilder{t: t, b: array.NewBuilder(mem, t.arrowType())}
	sb.bind()
	return sb
}

// bind attaches the child builders of nested types.
func (sb *sbuilder) bind() {
	switch sb.t.Kind {
	case kObject:
		b := sb.b.(*array.StructBuilder)
		for i, f := range sb.t.Fields {
			c := &sbuilder{t: f.Type, b: b.FieldBuilder(i)}
			c.bind()
			sb.sub = append(sb.sub, c)
		}
	case kArray:
		c := &sbuilder{t: sb.t.Fields[0].Type, b: sb.b.(*array.ListBuilder).ValueBuilder()}
		c.bind()
		sb.sub = []*sbuilder{c}
	case kMap:
		b := sb.b.(*array.MapBuilder)
		k := &sbuilder{t: sb.t.Fields[0].Type, b: b.KeyBuilder()}
		v := &sbuilder{t: sb.t.Fields[1].Type, b: b.ItemBuilder()}
		k.bind()
		v.bind()
		sb.sub = []*sbuilder{k, v}
	}
}

func (sb *sbuilder) release()            { sb.b.Release() }
func (sb *sbuilder) finish() arrow.Array { return sb.b.NewArray() }

func (sb *sbuilder) append(v any) {
	t := sb.t
	if v == nil {
		switch t.Kind {
		case kObject:
			b := sb.b.(*array.StructBuilder)
			b.Append(false)
			for _, c := range sb.sub {
				c.append(nil)
			}
		case kNTZ, kLTZ, kTZ:
			if st, ok := sb.b.(*array.StructBuilder); ok {
				st.Append(false)
				for i := 0; i < st.NumField(); i++ {
					st.FieldBuilder(i).AppendNull()
				}
				return
			}
			sb.b.AppendNull()
		default:
			sb.b.AppendNull()
		}
		return
	}
	switch t.Kind {
	case kText:
		sb.b.(*array.StringBuilder).Append(v.(string))
	case kFixed:
		sb.b.(*array.Decimal128Builder).Append(decimal128.FromBigInt(v.(sdec).unscaled))
	case kReal:
		sb.b.(*array.Float64Builder).Append(v.(float64))
	case kBoolean:
		sb.b.(*array.BooleanBuilder).Append(v.(bool))
	case kBinary:
		sb.b.(*array.BinaryBuilder).Append(v.([]byte))
	case kDate:
		sb.b.(*array.Date32Builder).Append(arrow.Date32(v.(sdate)))
	case kTime:
		sb.b.(*array.Int64Builder).Append(int64(v.(stime)) / pow10(9-t.Scale))
	case kNTZ, kLTZ, kTZ:
		st := v.(stamp)
		if ib, ok := sb.b.(*array.Int64Builder); ok {
			ib.Append(st.sec*pow10(t.Scale) + int64(st.nsec)/pow10(9-t.Scale))
			return
		}
		b := sb.b.(*array.StructBuilder)
		b.Append(true)
		b.FieldBuilder(0).(*array.Int64Builder).Append(st.sec)
		b.FieldBuilder(1).(*array.Int32Builder).Append(st.nsec)
		if t.Kind == kTZ {
			b.FieldBuilder(2).(*array.Int32Builder).Append(int32(1440 + st.offset))
		}
	case kObject:
		sb.b.(*array.StructBuilder).Append(true)
		for i, c := range sb.sub {
			c.append(v.(*sobj).vals[i])
		}
	case kArray:
		sb.b.(*array.ListBuilder).Append(true)
		for _, e := range v.([]any) {
			sb.sub[0].append(e)
		}
	case kMap:
		m := v.(*smap)
		sb.b.(*array.MapBuilder).Append(true)
		for i := range m.keys {
			sb.sub[0].append(m.keys[i])
			sb.sub[1].append(m.vals[i])
		}
	}
}

// structuredBinds converts the structured binds among a request's
// bindings (fmt "json" with a schema: an OBJECT, ARRAY or MAP the driver
// wrote from Go values) to snowsim's JSON for the schema's type, so that
// a table's structured column stores them as a cast would.
func structuredBinds(b map[string]bindValue, args []any, sess *session) ([]any, *Error) {
	for k, v := range b {
		i, err := strconv.Atoi(k)
		if err != nil || i < 1 || i > len(args) {
			continue
		}
		if len(v.Schema) == 0 {
			// A semi-structured bind is read as Snowflake's JSON parser
			// reads it: strings may be single-quoted ({'s': 'x'}).
			if text, ok := args[i-1].(string); ok && (strings.EqualFold(v.Type, "OBJECT") || strings.EqualFold(v.Type, "ARRAY") || strings.EqualFold(v.Type, "VARIANT")) && !json.Valid([]byte(text)) {
				if fixed, ok := requote(text); ok {
					args[i-1] = fixed
				}
			}
			continue
		}
		if !strings.EqualFold(v.Fmt, "json") {
			continue
		}
		var schema struct {
			Type   string          `json:"type"`
			Fields json.RawMessage `json:"fields"`
		}
		if err := json.Unmarshal(v.Schema, &schema); err != nil {
			return nil, sqlError(codeBindCount, "07001", "Bind variable %s: bad schema: %v", k, err)
		}
		t, err := schemaType(strings.ToLower(schema.Type), schema.Fields)
		if err != nil {
			return nil, sqlError(codeBindCount, "07001", "Bind variable %s: %v", k, err)
		}
		text, ok := v.Value.(string)
		if v.Value == nil {
			args[i-1] = nil
			continue
		} else if !ok {
			return nil, sqlError(codeBindCount, "07001", "Bind variable %s: a structured value must be JSON text", k)
		}
		d := json.NewDecoder(strings.NewReader(text))
		d.UseNumber()
		var jv any
		if err := d.Decode(&jv); err != nil {
			return nil, sqlError(100069, "22P02", "Error parsing JSON: %s", text)
		}
		cv, err := coercion{loc: sessionLoc(sess), hexBinary: true}.coerce(jv, t)
		if err != nil {
			return nil, sqlError(100071, "22000", "%v", castError(text, t, err))
		}
		if cv == nil {
			args[i-1] = nil
			continue
		}
		var out bytes.Buffer
		writeInternal(&out, cv, t)
		args[i-1] = out.String()
	}
	return args, nil
}

// schemaType reads a bind schema (the driver's field metadata).
func schemaType(kind string, fields json.RawMessage) (*stype, error) {
	t := &stype{Kind: sfKind(kind), Nullable: true}
	if len(fields) > 0 && string(fields) != "null" {
		var fs []struct {
			Name      string          `json:"name"`
			Type      string          `json:"type"`
			Nullable  bool            `json:"nullable"`
			Length    int             `json:"length"`
			Scale     int             `json:"scale"`
			Precision int             `json:"precision"`
			Fields    json.RawMessage `json:"fields"`
		}
		if err := json.Unmarshal(fields, &fs); err != nil {
			return nil, err
		}
		for _, f := range fs {
			ft, err := schemaType(strings.ToLower(f.Type), f.Fields)
			if err != nil {
				return nil, err
			}
			ft.Scale, ft.Precision, ft.Length = f.Scale, f.Precision, f.Length
			if ft.Kind == kFixed && ft.Precision == 0 {
				ft.Precision = 38
			}
			if ft.Kind == kText && ft.Length == 0 {
				ft.Length = maxLength
			}
			if (ft.Kind == kTime || ft.Kind == kNTZ || ft.Kind == kLTZ || ft.Kind == kTZ) && ft.Scale == 0 {
				ft.Scale = 9
			}
			t.Fields = append(t.Fields, sfield{Name: f.Name, Type: ft})
		}
	}
	switch t.Kind {
	case kObject:
	case kArray:
		if len(t.Fields) != 1 {
			return nil, fmt.Errorf("an ARRAY schema has one field")
		}
	case kMap:
		if len(t.Fields) != 2 {
			return nil, fmt.Errorf("a MAP schema has two fields")
		}
	case kText, kFixed, kReal, kBoolean, kBinary, kDate, kTime, kNTZ, kLTZ, kTZ:
	default:
		return nil, fmt.Errorf("unsupported type %q in a structured bind", t.Kind)
	}
	return t, nil
}

// writeInternal writes a converted value as snowsim keeps it in a VARIANT
// (what coerce reads back): binary as its bytes, timestamps with their
// offsets, TIMESTAMP_TZ as {"utc", "off"}, an OBJECT's fields in order.
func writeInternal(b *bytes.Buffer, v any, t *stype) {
	if v == nil {
		b.WriteString("null")
		return
	}
	quote := func(s string) {
		q, _ := json.Marshal(s)
		b.Write(q)
	}
	switch t.Kind {
	case kBinary:
		quote(blobText(v.([]byte)))
	case kDate:
		quote(time.Unix(int64(v.(sdate))*86400, 0).UTC().Format("2006-01-02"))
	case kTime:
		quote(time.Unix(0, int64(v.(stime))).UTC().Format("15:04:05.999999999"))
	case kNTZ:
		st := v.(stamp)
		quote(time.Unix(st.sec, int64(st.nsec)).UTC().Format("2006-01-02 15:04:05.999999999"))
	case kLTZ:
		st := v.(stamp)
		quote(time.Unix(st.sec, int64(st.nsec)).UTC().Format("2006-01-02 15:04:05.999999999Z07:00"))
	case kTZ:
		st := v.(stamp)
		fmt.Fprintf(b, `{"utc":%q,"off":%d}`, time.Unix(st.sec, int64(st.nsec)).UTC().Format("2006-01-02 15:04:05.999999999Z07:00"), st.offset)
	case kObject:
		o := v.(*sobj)
		b.WriteByte('{')
		for i, f := range t.Fields {
			if i > 0 {
				b.WriteByte(',')
			}
			quote(f.Name)
			b.WriteByte(':')
			writeInternal(b, o.vals[i], f.Type)
		}
		b.WriteByte('}')
	case kArray:
		b.WriteByte('[')
		for i, e := range v.([]any) {
			if i > 0 {
				b.WriteByte(',')
			}
			writeInternal(b, e, t.Fields[0].Type)
		}
		b.WriteByte(']')
	case kMap:
		m := v.(*smap)
		b.WriteByte('{')
		for i, k := range m.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			if t.Fields[0].Type.Kind == kText {
				quote(k.(string))
			} else {
				quote(formatDecimal(k.(sdec).unscaled, 0))
			}
			b.WriteByte(':')
			writeInternal(b, m.vals[i], t.Fields[1].Type)
		}
		b.WriteByte('}')
	default:
		writeSJSON(b, v, t, nil)
	}
}

// blobText writes bytes as DuckDB writes a BLOB as text (and so in JSON):
// printable ASCII but the backslash and quotes as itself, every other
// byte as \xHH.
func blobText(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		if c >= 32 && c <= 126 && c != '\\' && c != '\'' && c != '"' {
			sb.WriteByte(c)
		} else {
			fmt.Fprintf(&sb, "\\x%02X", c)
		}
	}
	return sb.String()
}

// blobBytes reads blobText's form back.
func blobBytes(s string) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' {
			if b, err := hex.DecodeString(s[i+2 : i+4]); err == nil {
				out = append(out, b[0])
				i += 3
				continue
			}
		}
		out = append(out, s[i])
	}
	return out
}

// requote rewrites the single-quoted strings of JSON-like text as JSON
// strings; ok is false when the result is not JSON either.
func requote(text string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch c {
		case '"':
			// A JSON string: copy it as it is.
			j := i + 1
			for j < len(text) && text[j] != '"' {
				if text[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(text) {
				return "", false
			}
			b.WriteString(text[i : j+1])
			i = j
		case '\'':
			var s strings.Builder
			j := i + 1
			for ; j < len(text) && text[j] != '\''; j++ {
				if text[j] == '\\' && j+1 < len(text) {
					j++
				}
				s.WriteByte(text[j])
			}
			if j >= len(text) {
				return "", false
			}
			q, _ := json.Marshal(s.String())
			b.Write(q)
			i = j
		default:
			b.WriteByte(c)
		}
	}
	out := b.String()
	return out, json.Valid([]byte(out))
}
