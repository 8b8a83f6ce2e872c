package sqltype

import (
	"strings"
	"testing"
)

func TestParseClickHouse(t *testing.T) {
	for _, tc := range []struct{ in, canon, arrow string }{
		{"Int64", "Int64", "int64"},
		{"UInt8", "UInt8", "uint8"},
		{"Float32", "Float32", "float32"},
		{"Decimal(38,2)", "Decimal(38, 2)", "decimal(38, 2)"},
		{"Decimal64(4)", "Decimal(18, 4)", "decimal(18, 4)"},
		{"Decimal(76, 10)", "Decimal(76, 10)", "decimal256(76, 10)"},
		{"String", "String", "utf8"},
		{"FixedString(16)", "FixedString(16)", "utf8"},
		{"Nullable(String)", "Nullable(String)", "utf8"},
		{"LowCardinality(Nullable(String))", "LowCardinality(Nullable(String))", "utf8"},
		{"Date", "Date", "date32"},
		{"Date32", "Date32", "date32"},
		{"DateTime", "DateTime", "timestamp[s]"},
		{"DateTime('UTC')", "DateTime('UTC')", "timestamp[s, tz=UTC]"},
		{"DateTime64(3)", "DateTime64(3)", "timestamp[ms]"},
		{"DateTime64(6, 'UTC')", "DateTime64(6, 'UTC')", "timestamp[us, tz=UTC]"},
		{"DateTime64(9,'Europe/Berlin')", "DateTime64(9, 'Europe/Berlin')", "timestamp[ns, tz=Europe/Berlin]"},
		{"Bool", "Bool", "bool"},
		{"UUID", "UUID", "utf8"},
		{"Array(Nullable(Int32))", "Array(Nullable(Int32))", "list<item: int32, nullable>"},
		{"Map(String, UInt64)", "Map(String, UInt64)", "map<utf8, uint64, items_nullable>"},
		{"Enum8('a' = 1, 'b' = 2)", "Enum8('a' = 1, 'b' = 2)", "utf8"},
	} {
		typ, err := ParseClickHouse(tc.in)
		if err != nil {
			t.Errorf("ParseClickHouse(%q): %v", tc.in, err)
			continue
		}
		if got := typ.String(); got != tc.canon {
			t.Errorf("ParseClickHouse(%q).String() = %q, want %q", tc.in, got, tc.canon)
		}
		if got := typ.Arrow().String(); got != tc.arrow {
			t.Errorf("ParseClickHouse(%q).Arrow() = %q, want %q", tc.in, got, tc.arrow)
		}
		again, err := ParseClickHouse(typ.String())
		if err != nil || again.String() != typ.String() {
			t.Errorf("canonical form %q does not parse back: %v", typ.String(), err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		dialect Dialect
		in, msg string
		offset  int
	}{
		{ClickHouse, "Strin", "unknown type Strin (did you mean String?)", 0},
		{ClickHouse, "Nullable(Strng)", "unknown type Strng (did you mean String?)", 9},
		{ClickHouse, "Decimal(38", "missing ) to close Decimal(", 10},
		{ClickHouse, "Decimal(80, 2)", "Decimal: precision 80 out of range [1, 76]", 8},
		{ClickHouse, "DateTime64(6, UTC)", "DateTime64: time zone must be a quoted name like 'UTC'", 14},
		{ClickHouse, "DateTime('Mars/Olympus')", "DateTime: unknown time zone 'Mars/Olympus' (use an IANA name such as 'UTC' or 'America/New_York')", 9},
		{ClickHouse, "Nullable(DateTime64(3, 'Local'))", "DateTime64: unknown time zone 'Local' (use an IANA name such as 'UTC' or 'America/New_York')", 23},
		{ClickHouse, "Nullable(Array(Int8))", "Nullable(Array(Int8)) is not allowed: Nullable wraps only plain types", 0},
		{ClickHouse, "int64", "unknown type int64 (did you mean Int64?)", 0},
		{Snowflake, "VARCHR(10)", "unknown type VARCHR (did you mean VARCHAR?)", 0},
		{Snowflake, "NUMBER(39,0)", "NUMBER: precision 39 out of range [1, 38]", 7},
	} {
		_, err := Parse(tc.dialect, tc.in)
		se, ok := err.(*SyntaxError)
		if !ok {
			t.Errorf("Parse(%v, %q) = %v, want a SyntaxError", tc.dialect, tc.in, err)
			continue
		}
		if se.Msg != tc.msg || se.Offset != tc.offset {
			t.Errorf("Parse(%v, %q) = %q at %d, want %q at %d", tc.dialect, tc.in, se.Msg, se.Offset, tc.msg, tc.offset)
		}
	}
}

func TestParseSnowflake(t *testing.T) {
	for _, tc := range []struct{ in, canon, arrow string }{
		{"NUMBER", "NUMBER(38,0)", "decimal(38, 0)"},
		{"number(18,0)", "NUMBER(18,0)", "int64"},
		{"NUMBER(10,2)", "NUMBER(10,2)", "decimal(10, 2)"},
		{"INT", "NUMBER(38,0)", "decimal(38, 0)"},
		{"DOUBLE PRECISION", "FLOAT", "float64"},
		{"VARCHAR", "VARCHAR", "utf8"},
		{"VARCHAR(20)", "VARCHAR(20)", "utf8"},
		{"STRING", "VARCHAR", "utf8"},
		{"CHAR(2)", "CHAR(2)", "utf8"},
		{"BOOLEAN", "BOOLEAN", "bool"},
		{"DATE", "DATE", "date32"},
		{"TIME", "TIME(9)", "time64[ns]"},
		{"TIMESTAMP_NTZ(9)", "TIMESTAMP_NTZ(9)", "timestamp[ns]"},
		{"TIMESTAMP_NTZ(6)", "TIMESTAMP_NTZ(6)", "timestamp[us]"},
		{"TIMESTAMP_LTZ", "TIMESTAMP_LTZ(9)", "timestamp[ns, tz=UTC]"},
		{"TIMESTAMP_TZ(3)", "TIMESTAMP_TZ(3)", "timestamp[us, tz=UTC]"},
		{"VARIANT", "VARIANT", "utf8"},
		{"OBJECT", "OBJECT", "utf8"},
		{"BINARY", "BINARY", "binary"},
		{"VARCHAR(64) NOT NULL", "VARCHAR(64) NOT NULL", "utf8"},
	} {
		typ, err := ParseSnowflake(tc.in)
		if err != nil {
			t.Errorf("ParseSnowflake(%q): %v", tc.in, err)
			continue
		}
		if got := typ.String(); got != tc.canon {
			t.Errorf("ParseSnowflake(%q).String() = %q, want %q", tc.in, got, tc.canon)
		}
		if got := typ.Arrow().String(); got != tc.arrow {
			t.Errorf("ParseSnowflake(%q).Arrow() = %q, want %q", tc.in, got, tc.arrow)
		}
	}
}

func TestConvert(t *testing.T) {
	sf := func(s string) Type {
		t.Helper()
		typ, err := ParseSnowflake(s)
		if err != nil {
			t.Fatal(err)
		}
		return typ
	}
	ch := func(s string) Type {
		t.Helper()
		typ, err := ParseClickHouse(s)
		if err != nil {
			t.Fatal(err)
		}
		return typ
	}
	for _, tc := range []struct {
		src, dst Type
		want     Fit
	}{
		// Pull: Snowflake into ClickHouse, after DESIGN.md's mapping.
		{sf("NUMBER(18,0) NOT NULL"), ch("Int64"), Exact},
		{sf("NUMBER(38,0) NOT NULL"), ch("Int64"), Checked},
		{sf("NUMBER(38,0) NOT NULL"), ch("Decimal(38, 0)"), Exact},
		{sf("NUMBER(12,4) NOT NULL"), ch("Decimal(38, 2)"), Lossy},
		{sf("NUMBER(12,2) NOT NULL"), ch("Float64"), Lossy},
		{sf("FLOAT NOT NULL"), ch("Float64"), Exact},
		{sf("VARCHAR NOT NULL"), ch("String"), Exact},
		{sf("VARCHAR"), ch("String"), Checked}, // NULL into a non-Nullable column
		{sf("VARCHAR"), ch("Nullable(String)"), Exact},
		{sf("BOOLEAN NOT NULL"), ch("UInt8"), Exact},
		{sf("BOOLEAN NOT NULL"), ch("Bool"), Exact},
		{sf("DATE NOT NULL"), ch("Date32"), Exact},
		{sf("DATE NOT NULL"), ch("Date"), Checked},
		// A type into itself: the declared type's own limits already hold.
		{ch("Date"), ch("Date"), Exact},
		{sf("VARCHAR(20)"), sf("VARCHAR(20)"), Exact},
		// Read at their declared precision: nanoseconds fit only (9).
		{sf("TIMESTAMP_NTZ(9) NOT NULL"), ch("DateTime64(9)"), Exact},
		{sf("TIMESTAMP_NTZ(9) NOT NULL"), ch("DateTime64(6)"), Lossy},
		{sf("TIMESTAMP_NTZ(6) NOT NULL"), ch("DateTime64(6)"), Exact},
		{sf("TIMESTAMP_NTZ(7) NOT NULL"), ch("DateTime64(6)"), Lossy},
		{sf("TIMESTAMP_NTZ(9) NOT NULL"), ch("DateTime"), Lossy},
		{sf("TIMESTAMP_NTZ(0) NOT NULL"), ch("DateTime"), Exact},
		{sf("TIMESTAMP_TZ(9) NOT NULL"), ch("DateTime64(9, 'UTC')"), Exact},
		{sf("TIMESTAMP_TZ(9) NOT NULL"), ch("DateTime64(6, 'UTC')"), Lossy},
		{sf("TIMESTAMP_LTZ(3) NOT NULL"), ch("DateTime64(6, 'UTC')"), Exact},
		{sf("TIME(9) NOT NULL"), sf("TIME(6)"), Lossy},
		{sf("VARIANT NOT NULL"), ch("String"), Exact},
		{sf("BINARY NOT NULL"), ch("String"), Exact},
		{sf("DATE NOT NULL"), ch("Int64"), Incompatible},
		// Push: ClickHouse into Snowflake.
		{ch("Decimal(38, 2)"), sf("NUMBER(10,2)"), Checked},
		{ch("String"), sf("VARCHAR(20)"), Checked},
		{ch("String"), sf("VARCHAR"), Exact},
		{ch("Nullable(String)"), sf("VARCHAR NOT NULL"), Checked},
		{ch("DateTime64(6, 'UTC')"), sf("TIMESTAMP_TZ(3)"), Lossy},
		{ch("Int64"), sf("NUMBER(18,0)"), Exact},
		{ch("UInt64"), sf("NUMBER(18,0)"), Checked},
		{ch("Float64"), sf("FLOAT"), Exact},
		{ch("Array(String)"), sf("VARCHAR"), Incompatible},
	} {
		got := Convert(tc.src, tc.dst)
		if got.Fit != tc.want {
			t.Errorf("Convert(%s, %s) = %v (%s), want %v", tc.src, tc.dst, got.Fit, got.Reason, tc.want)
		}
		if got.Fit != Exact && got.Reason == "" {
			t.Errorf("Convert(%s, %s) = %v without a reason", tc.src, tc.dst, got.Fit)
		}
	}
}

// TestStructuredTypesRefused: Snowflake's structured types are refused
// with what to do, never parsed as something else.
func TestStructuredTypesRefused(t *testing.T) {
	for _, s := range []string{"OBJECT(a NUMBER(38,0))", "ARRAY(NUMBER(38,0))", "MAP(VARCHAR, NUMBER) NOT NULL", "object (a int)"} {
		_, err := ParseSnowflake(s)
		if err == nil || !strings.Contains(err.Error(), "is not read yet: cast the column to VARIANT") {
			t.Errorf("ParseSnowflake(%q): %v", s, err)
		}
	}
	for _, s := range []string{"OBJECT", "ARRAY", "VARIANT"} {
		if _, err := ParseSnowflake(s); err != nil {
			t.Errorf("ParseSnowflake(%q): %v", s, err)
		}
	}
}
