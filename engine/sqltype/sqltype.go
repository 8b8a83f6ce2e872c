// Package sqltype parses the column types of ClickHouse and Snowflake,
// maps each onto the Arrow type Sluice moves it as, and decides whether a
// destination column accepts a source column's values losslessly.
//
// A Type is dialect-aware: Parse* records the dialect and String spells the
// type back in it, canonically, so plans show types the way the target
// database will.
package sqltype

import (
	"fmt"
	"math"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/hockeystack/sluice/engine/diag"
)

// Dialect names the database a type is spelled for.
type Dialect int

const (
	// ClickHouse types: Int64, Nullable(String), DateTime64(6, 'UTC'), ...
	ClickHouse Dialect = iota + 1
	// Snowflake types: NUMBER(38,0), VARCHAR, TIMESTAMP_NTZ(9), ...
	Snowflake
)

func (d Dialect) String() string {
	switch d {
	case ClickHouse:
		return "clickhouse"
	case Snowflake:
		return "snowflake"
	}
	return "unknown"
}

// Kind is the logical family of a type, shared by both dialects.
type Kind int

// The kinds of types Sluice moves.
const (
	Invalid   Kind = iota
	Int            // signed integer of Bits
	UInt           // unsigned integer of Bits
	Float          // IEEE float of Bits
	Decimal        // exact decimal of Precision and Scale
	String         // text; Length bounds it when > 0, Fixed pads it
	Binary         // bytes; Length bounds it when > 0
	Bool           // true/false
	Date           // calendar date
	Time           // time of day with Precision fractional digits
	Timestamp      // instant or wall clock with Precision fractional digits; see Zone
	JSON           // semi-structured value carried as JSON text
	UUID           // 128-bit identifier carried as text
	Enum           // ClickHouse enum, carried as its text
	Array          // list of Elem
	Map            // map of Key to Elem
)

// Zone says how a timestamp relates to time zones.
type Zone int

const (
	// NoZone is a wall-clock timestamp (Snowflake TIMESTAMP_NTZ,
	// ClickHouse DateTime with no zone argument: the server's zone).
	NoZone Zone = iota
	// Named carries a zone name in TZ (ClickHouse DateTime('UTC')).
	Named
	// Local is Snowflake TIMESTAMP_LTZ: an instant shown in the session zone.
	Local
	// Offset is Snowflake TIMESTAMP_TZ: an instant with its UTC offset.
	Offset
)

// Type is one parsed column type.
type Type struct {
	Dialect   Dialect
	Kind      Kind
	Bits      int // Int, UInt, Float
	Precision int // Decimal digits; fractional-second digits of Time and Timestamp
	Scale     int // Decimal
	Length    int // String and Binary bound, 0 for none
	Fixed     bool
	Zone      Zone
	TZ        string // zone name when Zone is Named
	Nullable  bool
	// LowCardinality is ClickHouse's dictionary encoding; it changes storage,
	// never values.
	LowCardinality bool
	Elem, Key      *Type
	// name is the dialect's canonical base name (Int64, NUMBER, DateTime64),
	// enumText the items of an Enum as written.
	name     string
	enumText string
}

// String spells t canonically in its dialect.
func (t Type) String() string {
	if t.Dialect == Snowflake {
		return t.snowflakeString()
	}
	return t.clickhouseString()
}

// NotNull returns t without its Nullable wrapper.
func (t Type) NotNull() Type {
	t.Nullable = false
	return t
}

// Arrow returns the Arrow type values of t travel as between source and
// destination. Snowflake timestamps travel in microseconds up to
// precision 6 (every instant of years 1 to 9999 fits) and in nanoseconds
// above it, so no declared digit is dropped (the source refuses an
// instant beyond what int64 nanoseconds hold, 1677-09-21 to 2262-04-11).
func (t Type) Arrow() arrow.DataType {
	switch t.Kind {
	case Int, UInt:
		if a, ok := integerTypes[[2]int{int(t.Kind), t.Bits}]; ok {
			return a
		}
		// Int128 and wider travel as 76-digit decimals.
		return &arrow.Decimal256Type{Precision: 76, Scale: 0}
	case Float:
		if t.Bits == 32 {
			return arrow.PrimitiveTypes.Float32
		}
		return arrow.PrimitiveTypes.Float64
	case Decimal:
		if t.Dialect == Snowflake && t.Scale == 0 && t.Precision <= 18 {
			return arrow.PrimitiveTypes.Int64
		}
		if t.Precision > 38 {
			return &arrow.Decimal256Type{Precision: int32(t.Precision), Scale: int32(t.Scale)}
		}
		return &arrow.Decimal128Type{Precision: int32(t.Precision), Scale: int32(t.Scale)}
	case String, JSON, UUID, Enum:
		return arrow.BinaryTypes.String
	case Binary:
		return arrow.BinaryTypes.Binary
	case Bool:
		return arrow.FixedWidthTypes.Boolean
	case Date:
		return arrow.FixedWidthTypes.Date32
	case Time:
		return arrow.FixedWidthTypes.Time64ns
	case Timestamp:
		unit := arrow.Microsecond
		if t.Dialect == ClickHouse {
			unit = unitOf(t.Precision)
		} else if t.Precision > 6 {
			unit = arrow.Nanosecond
		}
		tz := ""
		switch t.Zone {
		case Named:
			tz = t.TZ
		case Local, Offset:
			tz = "UTC"
		}
		return &arrow.TimestampType{Unit: unit, TimeZone: tz}
	case Array:
		return arrow.ListOf(t.Elem.Arrow())
	case Map:
		return arrow.MapOf(t.Key.Arrow(), t.Elem.Arrow())
	}
	return arrow.Null
}

var integerTypes = map[[2]int]arrow.DataType{
	{int(Int), 8}: arrow.PrimitiveTypes.Int8, {int(Int), 16}: arrow.PrimitiveTypes.Int16,
	{int(Int), 32}: arrow.PrimitiveTypes.Int32, {int(Int), 64}: arrow.PrimitiveTypes.Int64,
	{int(UInt), 8}: arrow.PrimitiveTypes.Uint8, {int(UInt), 16}: arrow.PrimitiveTypes.Uint16,
	{int(UInt), 32}: arrow.PrimitiveTypes.Uint32, {int(UInt), 64}: arrow.PrimitiveTypes.Uint64,
}

func unitOf(precision int) arrow.TimeUnit {
	switch {
	case precision == 0:
		return arrow.Second
	case precision <= 3:
		return arrow.Millisecond
	case precision <= 6:
		return arrow.Microsecond
	}
	return arrow.Nanosecond
}

// Parse parses s as a type of dialect d.
func Parse(d Dialect, s string) (Type, error) {
	switch d {
	case ClickHouse:
		return ParseClickHouse(s)
	case Snowflake:
		return ParseSnowflake(s)
	}
	return Type{}, fmt.Errorf("unknown dialect %v", d)
}

func unknownType(n *node, names []string) error {
	msg := fmt.Sprintf("unknown type %s", n.name)
	if s := diag.Suggest(n.name, names); s != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", s)
	}
	return &SyntaxError{Offset: n.off, Msg: msg}
}

// Name returns the dialect's base name of t without arguments or wrappers:
// DateTime64, Date32, NUMBER, TIMESTAMP_TZ.
func (t Type) Name() string { return t.name }

// Plain spells t without its nullability, for messages about values.
func (t Type) Plain() string {
	t.Nullable = t.Dialect == Snowflake // Snowflake spells only NOT NULL
	return t.String()
}

// TimeRange is the span of dates or times a column stores, both ends
// included. The zero TimeRange bounds nothing.
type TimeRange struct{ Earliest, Latest time.Time }

// IsZero reports whether r bounds nothing.
func (r TimeRange) IsZero() bool { return r.Earliest.IsZero() && r.Latest.IsZero() }

// clickHouseRanges are the ranges of ClickHouse's date and time types in
// current releases (an older server may store less: see ddl).
var clickHouseRanges = map[string]TimeRange{
	"Date":       {time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2149, 6, 6, 0, 0, 0, 0, time.UTC)},
	"Date32":     {time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2299, 12, 31, 0, 0, 0, 0, time.UTC)},
	"DateTime":   {time.Unix(0, 0).UTC(), time.Unix(1<<32-1, 0).UTC()},
	"DateTime64": {time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2299, 12, 31, 23, 59, 59, 999999999, time.UTC)},
}

// TimeRange is the span a date or time type stores in a current release,
// when the type bounds it (Snowflake's dates and times reach years 0001
// to 9999 and Arrow's hold those). DateTime64(9) ends where Int64
// nanoseconds do, 2262-04-11 23:47:16.854775807 UTC.
func (t Type) TimeRange() (TimeRange, bool) {
	if t.Dialect != ClickHouse {
		return TimeRange{}, false
	}
	r, ok := clickHouseRanges[t.name]
	if ok && t.name == "DateTime64" && t.Precision >= 9 {
		r.Latest = time.Unix(0, math.MaxInt64).UTC()
	}
	return r, ok
}
