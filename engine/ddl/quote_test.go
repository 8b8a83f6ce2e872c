package ddl

import (
	"strings"
	"testing"
)

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

func TestCheckNames(t *testing.T) {
	long := strings.Repeat("é", 40) // 80 bytes, each %XX in a file name
	for _, c := range []struct {
		name   string
		ch, sf bool // ClickHouse and Snowflake hold it
		chKey  bool // ClickHouse keeps it in a key expression
	}{
		{name: "id", ch: true, sf: true, chKey: true},
		{name: `p\`, ch: true, sf: true, chKey: true},
		{name: "", ch: false, sf: false, chKey: true},
		{name: "a\x00b", ch: false, sf: false, chKey: true},
		{name: "Not", ch: true, sf: true, chKey: false},
		{name: "NULL", ch: true, sf: true, chKey: false},
		{name: "interval", ch: true, sf: true, chKey: false},
		{name: "distinct", ch: true, sf: true, chKey: false},
		{name: "nothing", ch: true, sf: true, chKey: true},
		{name: long, ch: true, sf: true, chKey: true},
		{name: long + "é", ch: false, sf: true, chKey: true},
		{name: strings.Repeat("a", 240), ch: true, sf: true, chKey: true},
		{name: strings.Repeat("a", 256), ch: false, sf: false, chKey: true},
	} {
		if got := CheckClickHouseName(c.name) == nil; got != c.ch {
			t.Errorf("CheckClickHouseName(%q) = %v", c.name, CheckClickHouseName(c.name))
		}
		if got := CheckSnowflakeName(c.name) == nil; got != c.sf {
			t.Errorf("CheckSnowflakeName(%q) = %v", c.name, CheckSnowflakeName(c.name))
		}
		if got := CheckClickHouseKeyName(c.name) == nil; got != c.chKey {
			t.Errorf("CheckClickHouseKeyName(%q) = %v", c.name, CheckClickHouseKeyName(c.name))
		}
	}
}
