package sqlscan

import (
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPlaceholders(t *testing.T) {
	src := `-- :not_a_placeholder in a comment
SELECT v:a.b::string AS X, 'text :nor_in_a_string', "col:x",
       /* :nor_here */ TO_DATE(:window_start)
FROM t WHERE ts >= :window_start AND ts<:window_end AND y = $$ :dollar $$`
	var got []string
	for _, tok := range Scan(src) {
		if tok.Kind == Placeholder {
			got = append(got, tok.Text+"@"+strconv.Itoa(tok.Line)+":"+strconv.Itoa(tok.Col))
		}
	}
	want := []string{"window_start@3:32", "window_start@4:20", "window_end@4:41"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("placeholders (-want +got):\n%s", diff)
	}
}

func TestBindPlaceholders(t *testing.T) {
	src := "SELECT v:a::int, ':window_start' FROM t -- :window_end\nWHERE x >= :window_start AND x<:window_end"
	got := BindPlaceholders(src, func(name string) string { return "@" + name })
	want := "SELECT v:a::int, ':window_start' FROM t -- :window_end\nWHERE x >= @window_start AND x<@window_end"
	if got != want {
		t.Errorf("BindPlaceholders:\n got %q\nwant %q", got, want)
	}
}

// TestQuotedNames: a name in double quotes is Snowflake's, where only a
// doubled quote escapes; one in backticks is ClickHouse's, where a
// backslash escapes too.
func TestQuotedNames(t *testing.T) {
	src := "SELECT \"say \"\"hi\"\"\", \"a\\b\", `p\\\\`, `back\\`tick`, `a``b`, `x\\x41\\n`, `\\q` FROM t"
	want := []string{`say "hi"`, `a\b`, `p\`, "back`tick", "a`b", "xA\n", `\q`}
	var got []string
	for _, tok := range Scan(src) {
		if tok.Kind == QuotedIdent {
			got = append(got, tok.Text)
		}
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("quoted names %q, want %q", got, want)
	}
}
