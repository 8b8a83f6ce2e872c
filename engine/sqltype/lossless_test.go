package sqltype

import "testing"

// TestClickHouseFor checks the pull mapping against the README's table
// and against Convert: every type it proposes takes its source's values
// exactly, so a folder sluice init writes never needs allow_lossy on a
// current server.
func TestClickHouseFor(t *testing.T) {
	for src, want := range map[string]string{
		"NUMBER(18,0) NOT NULL": "Int64",
		"NUMBER(10,0)":          "Nullable(Int64)",
		"NUMBER(19,0)":          "Nullable(Decimal(19, 0))",
		"NUMBER(38,0) NOT NULL": "Decimal(38, 0)",
		"NUMBER(12,4)":          "Nullable(Decimal(12, 4))",
		"FLOAT":                 "Nullable(Float64)",
		"VARCHAR(20)":           "Nullable(String)",
		"BINARY":                "Nullable(String)",
		"BOOLEAN NOT NULL":      "Bool",
		"DATE":                  "Nullable(Date32)",
		"TIMESTAMP_NTZ(9)":      "Nullable(DateTime64(9))",
		"TIMESTAMP_LTZ(3)":      "Nullable(DateTime64(3, 'UTC'))",
		"TIMESTAMP_TZ(9)":       "Nullable(DateTime64(9, 'UTC'))",
		"VARIANT":               "Nullable(String)",
		"OBJECT":                "Nullable(String)",
		"ARRAY":                 "Nullable(String)",
	} {
		s, err := ParseSnowflake(src)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ClickHouseFor(s)
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		if got.String() != want {
			t.Errorf("%s: %s, want %s", src, got, want)
		}
		if c := Convert(s, got); c.Fit != Exact {
			t.Errorf("%s into %s: %s (%s), want exact", src, got, c.Fit, c.Reason)
		}
	}
	if _, err := ClickHouseFor(mustSF(t, "TIME")); err == nil {
		t.Error("TIME has no ClickHouse type; want an error")
	}
}

// TestSnowflakeFor checks the push mapping the same way.
func TestSnowflakeFor(t *testing.T) {
	for src, want := range map[string]string{
		"Int8":                        "NUMBER(3,0) NOT NULL",
		"Nullable(Int16)":             "NUMBER(5,0)",
		"Int32":                       "NUMBER(10,0) NOT NULL",
		"Int64":                       "NUMBER(19,0) NOT NULL",
		"UInt8":                       "NUMBER(3,0) NOT NULL",
		"UInt64":                      "NUMBER(20,0) NOT NULL",
		"Float32":                     "FLOAT NOT NULL",
		"Decimal(38, 2)":              "NUMBER(38,2) NOT NULL",
		"LowCardinality(String)":      "VARCHAR NOT NULL",
		"FixedString(3)":              "VARCHAR NOT NULL",
		"UUID":                        "VARCHAR NOT NULL",
		"Enum8('a' = 1)":              "VARCHAR NOT NULL",
		"Bool":                        "BOOLEAN NOT NULL",
		"Date":                        "DATE NOT NULL",
		"Nullable(DateTime)":          "TIMESTAMP_NTZ(0)",
		"DateTime('UTC')":             "TIMESTAMP_TZ(0) NOT NULL",
		"DateTime64(3)":               "TIMESTAMP_NTZ(3) NOT NULL",
		"DateTime64(6, 'Asia/Tokyo')": "TIMESTAMP_TZ(6) NOT NULL",
	} {
		c, err := ParseClickHouse(src)
		if err != nil {
			t.Fatal(err)
		}
		got, err := SnowflakeFor(c)
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		if got.String() != want {
			t.Errorf("%s: %s, want %s", src, got, want)
		}
		if cv := Convert(c, got); cv.Fit != Exact {
			t.Errorf("%s into %s: %s (%s), want exact", src, got, cv.Fit, cv.Reason)
		}
	}
	for _, src := range []string{"Int128", "Decimal(76, 0)", "Array(Int64)", "Map(String, String)"} {
		c, _ := ParseClickHouse(src)
		if _, err := SnowflakeFor(c); err == nil {
			t.Errorf("%s: want an error", src)
		}
	}
}

func mustSF(t *testing.T, s string) Type {
	t.Helper()
	v, err := ParseSnowflake(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
