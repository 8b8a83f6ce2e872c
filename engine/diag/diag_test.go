package diag

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRenderSnippet(t *testing.T) {
	src := Sources{"p.yaml": []byte("streams:\n  a:\n    expr: amout * fx_rate\n\tx: 1\n")}
	var ds Diagnostics
	ds.Errorf(Pos{File: "p.yaml", Line: 3, Col: 11}, 5, "expr: unknown name amout")
	ds.Warnf(Pos{File: "p.yaml", Line: 4, Col: 2}, 1, "tab before key")
	ds = append(ds, Diagnostic{Pos: Pos{File: "other.yaml"}, Summary: "no snippet", Hint: "first\nsecond"})
	var b strings.Builder
	if err := Render(&b, ds, src); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"p.yaml:3:11: expr: unknown name amout\n" +
		"   3 |     expr: amout * fx_rate\n" +
		"     |           ^~~~~\n" +
		"p.yaml:4:2: warning: tab before key\n" +
		"   4 | \tx: 1\n" +
		"     | \t^\n" +
		"other.yaml: no snippet\n" +
		"      = first\n" +
		"      = second\n"
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("Render (-want +got):\n%s", diff)
	}
}

func TestSuggest(t *testing.T) {
	cands := []string{"destination", "description", "source", "columns", "AMOUNT"}
	for _, tc := range []struct{ in, want string }{
		{"destnation", "destination"},
		{"descripton", "description"},
		{"soruce", "source"}, // a transposition counts as one edit
		{"amout", "AMOUNT"},  // case is ignored
		{"zzz", ""},
		{"source", ""}, // an exact match is not a suggestion
	} {
		if got := Suggest(tc.in, cands); got != tc.want {
			t.Errorf("Suggest(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSortDedupes(t *testing.T) {
	var ds Diagnostics
	ds.Errorf(Pos{File: "b", Line: 1, Col: 1}, 0, "x")
	ds.Errorf(Pos{File: "a", Line: 2, Col: 1}, 0, "y")
	ds.Errorf(Pos{File: "a", Line: 1, Col: 5}, 0, "z")
	ds.Errorf(Pos{File: "a", Line: 1, Col: 5}, 0, "z")
	got := ds.Sort()
	var lines []string
	for _, d := range got {
		lines = append(lines, d.Error())
	}
	want := []string{"a:1:5: z", "a:2:1: y", "b:1:1: x"}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("Sort (-want +got):\n%s", diff)
	}
	if !got.HasErrors() || got.Errors() != 3 {
		t.Errorf("HasErrors/Errors wrong: %v %d", got.HasErrors(), got.Errors())
	}
}

// TestRenderManyIsLinear renders 10,000 diagnostics into one 10,000-line
// file: each source is split once, so this takes milliseconds (splitting
// the file again for every diagnostic took minutes).
func TestRenderManyIsLinear(t *testing.T) {
	const n = 10_000
	var src strings.Builder
	var ds Diagnostics
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&src, "      c%d: {type: Int64, bogus: 1}\n", i)
		ds.Errorf(Pos{File: "p.yaml", Line: i, Col: 27}, 5, "unknown field %q", "bogus")
	}
	sources := Sources{"p.yaml": []byte(src.String())}
	start := time.Now()
	var b strings.Builder
	if err := Render(&b, ds, sources); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("rendering %d diagnostics took %v, want under a second", n, took)
	}
	if got := strings.Count(b.String(), "^~~~~\n"); got != n {
		t.Errorf("%d snippets rendered, want %d", got, n)
	}
}

// TestRenderControlCharacters: a file's escape sequences, NUL bytes and
// invalid UTF-8 reach the terminal as U+FFFD, one per character, so the
// caret still points at the right one.
func TestRenderControlCharacters(t *testing.T) {
	src := Sources{"p.yaml": []byte("name: \x1b[2Jx\x00\xff: y\n")}
	var ds Diagnostics
	ds.Errorf(Pos{File: "p.yaml", Line: 1, Col: 13}, 1, "column \x1b[31mred: bad")
	var b strings.Builder
	if err := Render(&b, ds, src); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"p.yaml:1:13: column \uFFFD[31mred: bad\n" +
		"   1 | name: \uFFFD[2Jx\uFFFD\uFFFD: y\n" +
		"     |             ^\n"
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("Render (-want +got):\n%s", diff)
	}
}
