package ddl

import (
	"errors"
	"strings"
	"testing"
)

func TestParseKey(t *testing.T) {
	for text, want := range map[string]string{
		"activity_at":                   "`activity_at`",
		"toYYYYMM(activity_at)":         "toYYYYMM(`activity_at`)",
		" toDate( at , 'UTC' ) ":        "toDate(`at`, 'UTC')",
		"(contact_id, toDate(at))":      "(`contact_id`, toDate(`at`))",
		"tuple()":                       "tuple()",
		"tuple(a)":                      "tuple(`a`)",
		"tuple(a, b)":                   "(`a`, `b`)",
		"(a)":                           "`a`",
		"intDiv(id, 1000)":              "intDiv(`id`, 1000)",
		"`p\\\\`":                       "`p\\\\`",
		"`a``b`":                        "`a\\`b`",
		"`a\\`b`":                       "`a\\`b`",
		"`it's`":                        "`it's`",
		"`x\\x41`":                      "`xA`",
		"toYYYYMM(`' Int64, x, --'`)":   "toYYYYMM(`' Int64, x, --'`)",
		"toDate(at, 'Europe/Paris\\'')": `toDate(` + "`at`" + `, 'Europe/Paris\'')`,
		"cityHash64(a, `b c`)":          "cityHash64(`a`, `b c`)",
	} {
		e, err := ParseKey(text)
		if err != nil {
			t.Errorf("ParseKey(%q): %v", text, err)
			continue
		}
		if got := e.SQL(); got != want {
			t.Errorf("ParseKey(%q).SQL() = %s, want %s", text, got, want)
		}
	}
}

func TestParseKeyErrors(t *testing.T) {
	for _, c := range []struct {
		text, at, msg string // at: the text the error underlines
	}{
		{"toYYYYMM(at); DROP TABLE x", ";", "statement separator"},
		{"toYYYYMM(at) -- x", "-- x", "comment"},
		{"a /* x */", "/* x */", "comment"},
		{"a # x", "# x", "comment"},
		{"toYYYYMM(at), b", ",", "unexpected , after the expression"},
		{"toYYYYMM(at) DESC", "DESC", "unexpected DESC"},
		{"sleep(3)", "sleep", "unknown function sleep"},
		{"toYYYMM(at)", "toYYYMM", `unknown function toYYYMM (did you mean "toYYYYMM"?)`},
		{"toYYYYMM()", "toYYYYMM()", "toYYYYMM takes 1 or 2 arguments, not 0"},
		{"intDiv(a)", "intDiv(a)", "intDiv takes 2 arguments, not 1"},
		{"toYYYYMM(at", "(", "( is not closed"},
		{"a % 10", "%", "modulo(a, b)"},
		{"a + 1", "+", `'+' is not allowed`},
		{`"a"`, `"`, "backticks"},
		{"`a", "`a", "not closed"},
		{"`a\\qb`", `\q`, `unknown escape \q`},
		{"``", "``", "empty name"},
		{"1.5", "1.", "digits only"},
		{"", "", "empty expression"},
		{"toDate(at,)", ")", "unexpected )"},
	} {
		_, err := ParseKey(c.text)
		var ke *KeyError
		if !errors.As(err, &ke) {
			t.Errorf("ParseKey(%q) = %v, want a KeyError", c.text, err)
			continue
		}
		if got := c.text[ke.Offset : ke.Offset+ke.Len]; got != c.at || !strings.Contains(ke.Msg, c.msg) {
			t.Errorf("ParseKey(%q): %q at %q, want %q at %q", c.text, ke.Msg, got, c.msg, c.at)
		}
	}
}

func TestKeyColumns(t *testing.T) {
	e, err := ParseKey("(a, toDate(b), intDiv(a, 10), 'c')")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range e.Columns() {
		names = append(names, c.Name)
	}
	if got := strings.Join(names, " "); got != "a b a" {
		t.Errorf("columns %s, want a b a", got)
	}
}

// FuzzParseKey: whatever ParseKey accepts, it writes back as SQL that
// parses to the same expression, names and strings included; and
// nothing makes it panic.
func FuzzParseKey(f *testing.F) {
	for _, s := range []string{"toYYYYMM(at)", "(a, `b\\\\c`, 'x\\'y')", "intDiv(`a``b`, 10)", "tuple()", "`\\x00`", "cityHash64(a, b)", "((a))"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		e, err := ParseKey(text)
		if err != nil {
			var ke *KeyError
			if !errors.As(err, &ke) || ke.Offset < 0 || ke.Len < 0 || ke.Offset+ke.Len > len(text) {
				t.Fatalf("ParseKey(%q): %v out of the text", text, err)
			}
			return
		}
		again, err := ParseKey(e.SQL())
		if err != nil {
			t.Fatalf("ParseKey(%q).SQL() = %s, which does not parse: %v", text, e.SQL(), err)
		}
		if again.SQL() != e.SQL() {
			t.Fatalf("%q: %s parses back as %s", text, e.SQL(), again.SQL())
		}
		var names, back []string
		for _, c := range e.Columns() {
			names = append(names, c.Name)
		}
		for _, c := range again.Columns() {
			back = append(back, c.Name)
		}
		if strings.Join(names, "\x01") != strings.Join(back, "\x01") {
			t.Fatalf("%q: names %q parse back as %q", text, names, back)
		}
	})
}
