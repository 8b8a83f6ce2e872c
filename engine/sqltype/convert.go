package sqltype

import "fmt"

// Fit grades how the values of a source type land in a destination type.
type Fit int

const (
	// Exact: every value lands unchanged.
	Exact Fit = iota
	// Checked: most values land unchanged, but some may not fit (overflow,
	// too long, out of range, NULL into a non-Nullable column); each is
	// checked at run time and stops its window with an error, never a wrap or
	// a clamp.
	Checked
	// Lossy: values change on the way (sub-second digits dropped, decimals
	// rounded). The pipeline must acknowledge it with allow_lossy.
	Lossy
	// Incompatible: there is no conversion.
	Incompatible
)

func (f Fit) String() string {
	return [...]string{"exact", "checked", "lossy", "incompatible"}[f]
}

// Conversion is the verdict of Convert.
type Conversion struct {
	Fit    Fit
	Reason string // why the fit is not Exact; "" when it is
}

func exact() Conversion { return Conversion{} }
func checked(format string, args ...any) Conversion {
	return Conversion{Checked, fmt.Sprintf(format, args...)}
}
func lossy(format string, args ...any) Conversion {
	return Conversion{Lossy, fmt.Sprintf(format, args...)}
}
func incompatible(src, dst Type) Conversion {
	return Conversion{Incompatible, fmt.Sprintf("%s values cannot be stored in %s", src.Plain(), dst.Plain())}
}

// worst returns the more severe of two conversions.
func worst(a, b Conversion) Conversion {
	if b.Fit > a.Fit {
		return b
	}
	return a
}

// digits is the number of decimal digits every value of an integer type
// fits in (Int64 holds every 18-digit number, not every 19-digit one).
func digits(t Type) int {
	switch t.Bits {
	case 8:
		return 2
	case 16:
		return 4
	case 32:
		return 9
	case 64:
		if t.Kind == UInt {
			return 19
		}
		return 18
	case 128:
		return 38
	}
	return 76
}

// Convert grades storing values of src in a column of dst; a type into
// itself is exact. The two may be of different dialects: a Snowflake source column into a ClickHouse
// destination, or the reverse. A nullable source into a non-nullable
// destination is Checked: the caller downgrades it to Exact when the mapping
// gives a default.
func Convert(src, dst Type) Conversion {
	if src.Dialect == dst.Dialect && src.String() == dst.String() {
		return exact() // a type into itself: its own limits already hold
	}
	c := convertValues(src, dst)
	if src.Nullable && !dst.Nullable && c.Fit < Checked {
		c = checked("a NULL stops the window: the destination is not nullable")
	}
	return c
}

func convertValues(src, dst Type) Conversion {
	switch dst.Kind {
	case Int, UInt:
		switch src.Kind {
		case Int, UInt:
			if src.Kind == Int && dst.Kind == UInt {
				return checked("negative values do not fit %s", dst.Plain())
			}
			if src.Bits > dst.Bits || src.Bits == dst.Bits && src.Kind != dst.Kind {
				return checked("values beyond the range of %s stop the window", dst.Plain())
			}
			return exact()
		case Decimal:
			if src.Scale > 0 {
				return lossy("the fraction of %s is dropped", src.Plain())
			}
			if dst.Kind == UInt {
				return checked("negative values do not fit %s", dst.Plain())
			}
			if src.Precision > digits(dst) {
				return checked("%s values beyond the range of %s stop the window", src.Plain(), dst.Plain())
			}
			return exact()
		case Bool:
			return exact()
		case Float:
			return lossy("floats are truncated to integers")
		}
	case Float:
		switch src.Kind {
		case Float:
			if src.Bits > dst.Bits {
				return lossy("Float64 values are rounded to Float32")
			}
			return exact()
		case Int, UInt:
			if src.Bits > 32 || dst.Bits == 32 && src.Bits > 16 {
				return lossy("integers above 2^53 are rounded")
			}
			return exact()
		case Decimal:
			return lossy("decimals are rounded to binary floating point")
		}
	case Decimal:
		switch src.Kind {
		case Decimal:
			if src.Scale > dst.Scale {
				return lossy("%s is rounded to %d decimal places", src.Plain(), dst.Scale)
			}
			if src.Precision-src.Scale > dst.Precision-dst.Scale {
				return checked("%s values beyond %d integer digits stop the window", src.Plain(), dst.Precision-dst.Scale)
			}
			return exact()
		case Int, UInt:
			if digits(src) > dst.Precision-dst.Scale {
				return checked("%s values beyond %d integer digits stop the window", src.Plain(), dst.Precision-dst.Scale)
			}
			return exact()
		case Float:
			return lossy("floats are rounded to %d decimal places", dst.Scale)
		}
	case String:
		switch src.Kind {
		case String, JSON, UUID, Enum:
			if dst.Length > 0 && (src.Length == 0 || src.Length > dst.Length) && !(dst.Dialect == Snowflake && dst.Length == snowflakeMaxVarchar) {
				return checked("values longer than %d characters stop the window", dst.Length)
			}
			if dst.Fixed {
				return checked("values longer than %d bytes stop the window", dst.Length)
			}
			return exact()
		case Binary:
			if dst.Dialect == Snowflake {
				return checked("bytes that are not UTF-8 stop the window")
			}
			return exact()
		case Int, UInt, Float, Decimal, Bool, Date, Time, Timestamp:
			return exact()
		}
	case Binary:
		switch src.Kind {
		case Binary, String:
			if dst.Length > 0 && dst.Length != snowflakeMaxBinary && (src.Length == 0 || src.Length > dst.Length) {
				return checked("values longer than %d bytes stop the window", dst.Length)
			}
			return exact()
		}
	case Bool:
		switch src.Kind {
		case Bool:
			return exact()
		case Int, UInt:
			return checked("integers other than 0 and 1 stop the window")
		}
	case Date:
		switch src.Kind {
		case Date:
			if dst.Dialect == ClickHouse && dst.name == "Date" {
				return checked("dates outside ClickHouse Date's range (1970-01-01 onwards) stop the window")
			}
			return exact()
		case Timestamp:
			return lossy("the time of day is dropped")
		}
	case Time:
		if src.Kind == Time {
			if src.Precision > dst.Precision {
				return lossy("sub-second digits beyond %d are dropped", dst.Precision)
			}
			return exact()
		}
	case Timestamp:
		switch src.Kind {
		case Timestamp:
			if src.Precision > dst.Precision {
				return lossy("sub-second digits beyond %d are dropped (%s into %s)", dst.Precision, src.Plain(), dst.Plain())
			}
			if src.Zone == Offset && dst.Zone != Offset {
				return exact() // the instant is kept; the offset is not stored
			}
			return exact()
		case Date:
			return exact()
		}
	case JSON:
		switch src.Kind {
		case JSON:
			return exact()
		case String:
			return checked("text that is not valid JSON stops the window")
		case Int, UInt, Float, Decimal, Bool, Array, Map:
			return exact()
		}
	case UUID:
		switch src.Kind {
		case UUID:
			return exact()
		case String:
			return checked("text that is not a UUID stops the window")
		}
	case Enum:
		switch src.Kind {
		case Enum, String:
			return checked("values that are not enum items stop the window")
		}
	case Array:
		switch src.Kind {
		case Array:
			return Convert(*src.Elem, *dst.Elem)
		case JSON:
			return checked("values that are not JSON arrays stop the window")
		}
	case Map:
		switch src.Kind {
		case Map:
			return worst(Convert(*src.Key, *dst.Key), Convert(*src.Elem, *dst.Elem))
		case JSON:
			return checked("values that are not JSON objects stop the window")
		}
	}
	return incompatible(src, dst)
}
