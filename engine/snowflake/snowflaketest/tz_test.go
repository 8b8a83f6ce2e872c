//go:build duckdb_arrow

package snowflaketest

import (
	"testing"
	"time"
)

func TestParseTZ(t *testing.T) {
	for in, want := range map[string]string{
		"2024-03-01":                        "2024-03-01T00:00:00Z",
		"2024-03-01 23:30":                  "2024-03-01T23:30:00Z",
		"2024-03-01 23:30:00 +05:00":        "2024-03-01T23:30:00+05:00",
		"2024-03-01T23:30:00+0530":          "2024-03-01T23:30:00+05:30",
		"2024-03-01 23:30:00.123456789 -03": "2024-03-01T23:30:00.123456789-03:00",
		"2024-03-01 23:30:00Z":              "2024-03-01T23:30:00Z",
		" 2024-03-01 23:30:00.5 -01:30 ":    "2024-03-01T23:30:00.5-01:30",
		"2024-03-01 23:30:00 UTC":           "error",
		"2024-03-01 23:30:00 +5":            "error",
		"2024-03-01 23:30:00 +15:00":        "error",
		"not a time":                        "error",
		"2024-02-30 00:00:00":               "error",
	} {
		got, err := parseTZ(in)
		s := got.Format(time.RFC3339Nano)
		if err != nil {
			s = "error"
		}
		if s != want {
			t.Errorf("parseTZ(%q) = %s, want %s", in, s, want)
		}
	}
}
