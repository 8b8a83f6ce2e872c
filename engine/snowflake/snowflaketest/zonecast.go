//go:build duckdb_arrow

package snowflaketest

import (
	"fmt"
	"strings"
)

// Snowflake reads a wall clock in the session's TIMEZONE where a
// TIMESTAMP_NTZ, DATE or text without an offset becomes a TIMESTAMP_LTZ,
// and renders an LTZ's instant in that zone where it becomes an NTZ, a
// DATE, a TIME or text. DuckDB's ICU casts between TIMESTAMPTZ and the
// naive types do exactly that in the connection's TimeZone, which follows
// the session. But they are registered for the plain types only: a cast
// whose source or target is one of the per-precision aliases (SF_NTZ_3,
// SF_LTZ_9, ...) takes DuckDB's core cast instead, which reads every wall
// clock as UTC (or has none, LTZ to DATE). A registered C cast cannot see
// the session, so the explicit casts to those types go through macros
// that strip the aliases and pass the plain types to ICU: typeof folds at
// bind time, so each macro is one plain cast for a given argument type.
// Implicit casts (an NTZ value stored in an LTZ column) still take the
// core cast.

// zoneCastTargets are the DuckDB types (as duckType spells them) whose
// explicit casts go through a zone-aware macro.
func zoneCastTargets() []string {
	out := []string{"TIMESTAMPTZ", "TIMESTAMP", "TIME", "DATE"}
	for p := 0; p <= 9; p++ {
		out = append(out, fmt.Sprintf("%s%d", ltzAlias, p), fmt.Sprintf("%s%d", ntzAlias, p), fmt.Sprintf("%s%d", timeAlias, p))
	}
	return out
}

// zoneCastMacro is the name of the macro that casts to typ in the
// session's zone, "" when a cast to typ needs none.
func zoneCastMacro(typ string) string {
	for _, t := range zoneCastTargets() {
		if t == typ {
			return "SF_ZCAST_" + typ
		}
	}
	return ""
}

// zoneCastCall is CAST(expr AS typ) through its zone-aware macro, when
// typ has one.
func zoneCastCall(expr, typ string) (string, bool) {
	m := zoneCastMacro(typ)
	if m == "" {
		return "", false
	}
	return `"memory"."main".` + m + "(" + expr + ")", true
}

// zoneCastMacros are the CREATE MACRO statements of zoneCastMacro.
func zoneCastMacros() []string {
	// naive: a wall clock of no zone; zoned: an instant (LTZ).
	const naive = `(typeof(a) IN ('TIMESTAMP', 'TIMESTAMP_NS') OR starts_with(typeof(a), '` + ntzAlias + `'))`
	const zoned = `(typeof(a) = 'TIMESTAMP WITH TIME ZONE' OR starts_with(typeof(a), '` + ltzAlias + `'))`
	var out []string
	for _, typ := range zoneCastTargets() {
		var body string
		switch {
		case typ == "TIMESTAMPTZ" || strings.HasPrefix(typ, ltzAlias):
			body = fmt.Sprintf(`CAST(CASE WHEN %s THEN CAST(CAST(a AS TIMESTAMP) AS TIMESTAMPTZ) ELSE CAST(a AS TIMESTAMPTZ) END AS %s)`, naive, typ)
		default:
			plain := "CAST(CAST(a AS TIMESTAMPTZ) AS TIMESTAMP)"
			switch {
			case typ == "DATE":
				plain = "CAST(CAST(a AS TIMESTAMPTZ) AS DATE)"
			case typ == "TIME" || strings.HasPrefix(typ, timeAlias):
				// TIMESTAMPTZ has no cast to TIME: through its wall clock.
				plain = "CAST(" + plain + " AS TIME)"
			}
			body = fmt.Sprintf(`CASE WHEN %s THEN CAST(%s AS %s) ELSE CAST(a AS %s) END`, zoned, plain, typ, typ)
		}
		out = append(out, "CREATE MACRO "+zoneCastMacro(typ)+"(a) AS "+body)
	}
	return out
}
