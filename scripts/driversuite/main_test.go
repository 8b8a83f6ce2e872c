package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReport: outcomes are grouped by the first matching rule; a test that
// started and never ended failed; skips count against the pipeline share;
// the last line gives passes, total and share, and the exit code says
// whether the share reaches the threshold.
func TestReport(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("offline.txt", "TestParse\n")
	groups := write("groups.txt", `# comment
out:okta      .*Okta.* -- an identity provider
offline:driver @offline.txt -- no server
pipeline:binds TestBind.* -- binds
pipeline:other .* -- the rest
`)
	events := write("events.json", `{"Action":"run","Package":"p","Test":"TestBindA"}
{"Action":"pass","Package":"p","Test":"TestBindA"}
{"Action":"run","Package":"p","Test":"TestBindA/sub"}
{"Action":"fail","Package":"p","Test":"TestBindA/sub"}
{"Action":"run","Package":"p","Test":"TestOktaLogin"}
{"Action":"fail","Package":"p","Test":"TestOktaLogin"}
{"Action":"pass","Package":"p","Test":"TestParse"}
{"Action":"skip","Package":"p","Test":"TestQuery"}
panic: boom
{"Action":"run","Package":"p","Test":"TestCrash"}
{"Action":"pass","Package":"p/arrowbatches","Test":"TestBatches"}
`)
	out := filepath.Join(dir, "results.txt")
	var stdout, stderr bytes.Buffer
	code := report([]string{"-groups", groups, "-out", out, "-root", "p", events}, &stdout, &stderr)
	if code != 1 {
		t.Errorf("exit %d, want 1 (2 of 4 pipeline tests pass); stderr %s", code, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if last := lines[len(lines)-1]; last != "pipeline group: 2/4 passed (50.0 %)" {
		t.Errorf("last line %q", last)
	}
	b, _ := os.ReadFile(out)
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		got = append(got, strings.Join(strings.Fields(l), " "))
	}
	for _, want := range []string{"pass pipeline:binds TestBindA", "fail out:okta TestOktaLogin", "pass offline:driver TestParse",
		"skip pipeline:other TestQuery", "fail pipeline:other TestCrash", "pass pipeline:other arrowbatches.TestBatches"} {
		if !strings.Contains(strings.Join(got, "\n"), want) {
			t.Errorf("results lack %q:\n%s", want, b)
		}
	}
	stdout.Reset()
	if code := report([]string{"-groups", groups, "-min", "50", "-root", "p", events}, &stdout, &stderr); code != 0 {
		t.Errorf("exit %d at -min 50, want 0", code)
	}
}
