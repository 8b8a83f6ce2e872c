package review

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/hockeystack/sluice/engine/config"
	"github.com/hockeystack/sluice/engine/plan"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// compileDir compiles a pipeline folder offline.
func compileDir(t *testing.T, dir string, conns *config.Connections) *plan.Plan {
	t.Helper()
	p, ds := config.Load(dir, config.Options{Connections: conns})
	if ds.HasErrors() {
		t.Fatalf("%s: %v", dir, ds)
	}
	pl, ds := plan.Compile(context.Background(), p, plan.Options{Connections: conns})
	if ds.HasErrors() {
		t.Fatalf("%s: %v", dir, ds)
	}
	return pl
}

// TestDiffCorpus: each folder of testdata/diff holds a base and a head
// version of a pipeline that differ by one kind of change; the report in
// both formats is golden.
func TestDiffCorpus(t *testing.T) {
	root := filepath.Join("..", "..", "testdata", "diff")
	conns, _, ds := config.LoadConnections(filepath.Join(root, "connections.yaml"), config.ConnectionsOptions{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	cases, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range cases {
		if !c.IsDir() {
			continue
		}
		n++
		t.Run(c.Name(), func(t *testing.T) {
			dir := filepath.Join(root, c.Name())
			r := Report{FormatVersion: FormatVersion, Base: "main"}
			r.Add(Compare("pipelines/acme", compileDir(t, filepath.Join(dir, "base"), conns), compileDir(t, filepath.Join(dir, "head"), conns)))
			var md, js bytes.Buffer
			if err := r.Markdown(&md); err != nil {
				t.Fatal(err)
			}
			if err := r.JSON(&js); err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join(dir, "diff.md"), md.String())
			golden(t, filepath.Join(dir, "diff.json"), js.String())
			if c.Name() == "unchanged" && r.Changes != 0 {
				t.Errorf("%d changes between equal folders", r.Changes)
			}
			if c.Name() != "unchanged" && r.Changes == 0 {
				t.Error("no change found")
			}
		})
	}
	if n < 11 {
		t.Errorf("%d cases, want at least ten kinds of change and an unchanged one", n)
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs; got:\n%s", path, got)
	}
}

func TestUnified(t *testing.T) {
	a := "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\n"
	b := "a\nb\nC\nd\ne\nf\ng\nh\ni\nj\nk\nl\n"
	want := `--- a/x.sql
+++ b/x.sql
@@ -1,6 +1,6 @@
 a
 b
-c
+C
 d
 e
 f
@@ -9,3 +9,4 @@
 i
 j
 k
+l
`
	if got := Unified("x.sql", "x.sql", a, b); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if got := Unified("x", "x", a, a); got != "" {
		t.Errorf("equal texts: %q", got)
	}
	// Changes closer than twice the context share one hunk.
	a2, b2 := "1\n2\n3\n4\n5\n6\n7\n", "1\nX\n3\n4\n5\n6\nY\n"
	want2 := "--- a/f\n+++ b/f\n@@ -1,7 +1,7 @@\n 1\n-2\n+X\n 3\n 4\n 5\n 6\n-7\n+Y\n"
	if got := Unified("f", "f", a2, b2); got != want2 {
		t.Errorf("got:\n%s\nwant:\n%s", got, want2)
	}
}
