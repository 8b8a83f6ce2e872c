//go:build duckdb_arrow

package snowflaketest

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/hockeystack/sluice/engine/sqlscan"
)

// prettyVariants rewrites the VARIANT, OBJECT and ARRAY columns of
// records as Snowflake's results show them: JSON indented by two spaces,
// "key": value, one element a line ([1, 2] is "[\n  1,\n  2\n]"; [] and
// {} stay as they are). DuckDB's JSON text is compact. It releases the
// records it replaces.
func prettyVariants(records []arrow.RecordBatch, cols []column) []arrow.RecordBatch {
	var which []int
	for i, c := range cols {
		if c.Kind == kVariant || c.Kind == kObject || c.Kind == kArray {
			which = append(which, i)
		}
	}
	if len(which) == 0 {
		return records
	}
	mem := memory.DefaultAllocator
	var buf bytes.Buffer
	for r, rec := range records {
		arrs := make([]arrow.Array, rec.NumCols())
		for i := range arrs {
			arrs[i] = rec.Column(i)
			arrs[i].Retain()
		}
		for _, i := range which {
			s, ok := arrs[i].(*array.String)
			if !ok {
				continue
			}
			b := array.NewStringBuilder(mem)
			for j := 0; j < s.Len(); j++ {
				if s.IsNull(j) {
					b.AppendNull()
					continue
				}
				buf.Reset()
				if err := json.Indent(&buf, []byte(s.Value(j)), "", "  "); err != nil {
					b.Append(s.Value(j))
					continue
				}
				b.Append(buf.String())
			}
			arrs[i].Release()
			arrs[i] = b.NewArray()
			b.Release()
		}
		records[r] = array.NewRecordBatch(rec.Schema(), arrs, rec.NumRows())
		for _, a := range arrs {
			a.Release()
		}
		rec.Release()
	}
	return records
}

// Functions whose result Snowflake types OBJECT or ARRAY rather than
// VARIANT.
var (
	objectFunctions = map[string]bool{"OBJECT_CONSTRUCT": true, "OBJECT_CONSTRUCT_KEEP_NULL": true,
		"OBJECT_INSERT": true, "OBJECT_DELETE": true, "OBJECT_PICK": true, "OBJECT_AGG": true, "AS_OBJECT": true}
	arrayFunctions = map[string]bool{"ARRAY_CONSTRUCT": true, "ARRAY_CONSTRUCT_COMPACT": true, "ARRAY_AGG": true,
		"ARRAY_APPEND": true, "ARRAY_PREPEND": true, "ARRAY_CAT": true, "ARRAY_COMPACT": true, "ARRAY_DISTINCT": true,
		"ARRAY_SLICE": true, "ARRAY_SORT": true, "AS_ARRAY": true, "SPLIT": true, "STRTOK_TO_ARRAY": true,
		"ARRAY_INTERSECTION": true, "ARRAY_EXCEPT": true, "OBJECT_KEYS": true}
)

// semiStructuredKind is OBJECT or ARRAY for a select-list item that is a
// call of a function typed so, or a cast to one; "" otherwise.
func semiStructuredKind(item []sqlscan.Token) sfKind {
	// The last cast at the top decides: x::OBJECT, OBJECT_CONSTRUCT(...)::VARIANT.
	depth, cast := 0, -1
	for k, t := range item {
		if depth == 0 && isPunct(t, "::") && k+1 < len(item) {
			cast = k + 1
		}
		depth += t.Nesting()
	}
	if cast >= 0 {
		switch {
		case isWord(item[cast], "OBJECT"):
			return kObject
		case isWord(item[cast], "ARRAY"):
			return kArray
		}
		return ""
	}
	if len(item) < 3 || item[0].Kind != sqlscan.Ident || !isPunct(item[1], "(") {
		return ""
	}
	depth = 0
	for k := 1; k < len(item); k++ {
		depth += item[k].Nesting()
		if depth == 0 && k != len(item)-1 {
			return "" // the call is part of a larger expression
		}
	}
	switch name := strings.ToUpper(item[0].Text); {
	case objectFunctions[name]:
		return kObject
	case arrayFunctions[name]:
		return kArray
	}
	return ""
}
