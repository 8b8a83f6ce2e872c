package ddl

import "testing"

func TestQuoteClickHouse(t *testing.T) {
	for name, want := range map[string]string{
		"id":                            "`id`",
		"select":                        "`select`",
		`p\`:                            "`p\\\\`",
		"back`tick":                     "`back\\`tick`",
		`a\b`:                           "`a\\\\b`",
		`it's "x"`:                      "`it's \"x\"`",
		"new\nline\x00\x7f":             "`new\\x0Aline\\x00\\x7F`",
		"ünï 名":                         "`ünï 名`",
		`' Int64, injected String, --'`: "`' Int64, injected String, --'`",
	} {
		if got := QuoteClickHouse(name); got != want {
			t.Errorf("QuoteClickHouse(%q) = %s, want %s", name, got, want)
		}
	}
	if got, want := QuoteClickHouseName("acme.events"), "`acme`.`events`"; got != want {
		t.Errorf("QuoteClickHouseName = %s, want %s", got, want)
	}
}

func TestQuoteSnowflake(t *testing.T) {
	for name, want := range map[string]string{
		"ID":        `"ID"`,
		"ORDER":     `"ORDER"`,
		"id":        `"id"`,
		`say "hi"`:  `"say ""hi"""`,
		`a\b`:       `"a\b"`,
		"back`tick": "\"back`tick\"",
	} {
		if got := QuoteSnowflake(name); got != want {
			t.Errorf("QuoteSnowflake(%q) = %s, want %s", name, got, want)
		}
	}
	// Table names are written as in unquoted SQL: plain parts mean their
	// upper case.
	for name, want := range map[string]string{
		"analytics.hockeystack.touchpoints": `"ANALYTICS"."HOCKEYSTACK"."TOUCHPOINTS"`,
		"DB.PUBLIC.ORDER":                   `"DB"."PUBLIC"."ORDER"`,
		"my$table":                          `"MY$TABLE"`,
	} {
		if got := QuoteSnowflakeName(name); got != want {
			t.Errorf("QuoteSnowflakeName(%q) = %s, want %s", name, got, want)
		}
	}
}

func TestQuoteString(t *testing.T) {
	if got, want := QuoteString(`it's a\b`), `'it\'s a\\b'`; got != want {
		t.Errorf("QuoteString = %s, want %s", got, want)
	}
}
