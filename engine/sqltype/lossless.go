package sqltype

import "fmt"

// ClickHouseFor returns the ClickHouse type that holds every value of the
// Snowflake type t unchanged: the type mapping the README documents, for
// current releases (ddl.ClickHouseType says what an older server creates
// instead). A NOT NULL column maps to a plain type, any other to
// Nullable. A type with no lossless ClickHouse type is an error.
func ClickHouseFor(t Type) (Type, error) {
	if t.Dialect != Snowflake {
		return Type{}, fmt.Errorf("%s is not a Snowflake type", t)
	}
	var s string
	switch t.Kind {
	case Decimal:
		switch {
		case t.Scale == 0 && t.Precision <= 18:
			s = "Int64"
		default:
			s = fmt.Sprintf("Decimal(%d, %d)", t.Precision, t.Scale)
		}
	case Float:
		s = "Float64"
	case String, Binary, JSON:
		s = "String"
	case Bool:
		s = "Bool"
	case Date:
		s = "Date32"
	case Timestamp:
		// Every declared digit kept: TIMESTAMP_*(9), Snowflake's default,
		// is DateTime64(9), whose range ends in 2262 (checked per row).
		s = fmt.Sprintf("DateTime64(%d)", t.Precision)
		if t.Zone != NoZone {
			s = fmt.Sprintf("DateTime64(%d, 'UTC')", t.Precision)
		}
	default:
		return Type{}, fmt.Errorf("no ClickHouse type holds %s values unchanged", t.Plain())
	}
	out, err := ParseClickHouse(s)
	out.Nullable = t.Nullable
	return out, err
}

// SnowflakeFor returns the Snowflake type that holds every value of the
// ClickHouse type t unchanged, as the README's push mapping documents.
// The result is nullable when t is Nullable and NOT NULL otherwise.
func SnowflakeFor(t Type) (Type, error) {
	if t.Dialect != ClickHouse {
		return Type{}, fmt.Errorf("%s is not a ClickHouse type", t)
	}
	var s string
	switch t.Kind {
	case Int, UInt:
		if t.Bits > 64 {
			return Type{}, fmt.Errorf("no Snowflake type holds %s values unchanged: NUMBER has 38 digits", t.Plain())
		}
		s = fmt.Sprintf("NUMBER(%d,0)", map[int]int{8: 3, 16: 5, 32: 10, 64: 19}[t.Bits]+boolInt(t.Kind == UInt && t.Bits == 64))
	case Float:
		s = "FLOAT"
	case Decimal:
		if t.Precision > 38 {
			return Type{}, fmt.Errorf("no Snowflake type holds %s values unchanged: NUMBER has 38 digits", t.Plain())
		}
		s = fmt.Sprintf("NUMBER(%d,%d)", t.Precision, t.Scale)
	case String, Enum, UUID:
		s = "VARCHAR"
	case Bool:
		s = "BOOLEAN"
	case Date:
		s = "DATE"
	case Timestamp:
		kind := "NTZ"
		if t.Zone == Named {
			kind = "TZ"
		}
		s = fmt.Sprintf("TIMESTAMP_%s(%d)", kind, t.Precision)
	default:
		return Type{}, fmt.Errorf("no Snowflake type holds %s values unchanged", t.Plain())
	}
	if !t.Nullable {
		s += " NOT NULL"
	}
	return ParseSnowflake(s)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
