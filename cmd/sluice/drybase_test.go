//go:build duckdb_arrow

package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDryRunAgainstBase: dry-run --base maps one sample through the
// committed mapping and the working tree's, side by side.
func TestDryRunAgainstBase(t *testing.T) {
	f := newPullFixture(t, goodColumns)
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "."}, {"-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "base"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = f.dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	f.pipeline(t, strings.Replace(goodColumns, "label: {type: String}", `label: {expr: "upper(LABEL)", type: String}
      id2:   {expr: "ID * 2", type: Int64}`, 1))
	out, errOut, code := f.run(t, "dry-run", "--base", "main", "--limit", "3")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"against main: the same sample through both mappings", "label 0 → LABEL 0", "id2 (new)", "label differs in 3 row(s)", "rows paired on id"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out, _, code = f.run(t, "dry-run", "--base", "main", "--limit", "2", "--format", "json")
	if code != 0 || !strings.Contains(out, `"revision": "main"`) || !strings.Contains(out, `"label 1"`) || !strings.Contains(out, `"LABEL 1"`) {
		t.Errorf("json: exit %d\n%s", code, out)
	}
	if _, errOut, code := f.run(t, "dry-run", "--base", "nope"); code != 1 || !strings.Contains(errOut, "nope") {
		t.Errorf("bad revision: exit %d\n%s", code, errOut)
	}
}
