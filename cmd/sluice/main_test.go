package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/hockeystack/sluice/engine/clickhouse/clickhousetest"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestMain(m *testing.M) {
	// Crash tests run the CLI as a child process of the test binary, so a
	// SIGKILL ends only the child.
	if os.Getenv("SLUICE_RUN_AS_CLI") == "1" {
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(testscript.RunMain(withClickHouse{m}, map[string]func() int{
		"sluice": func() int { return run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr) },
	}))
}

// withClickHouse stops the package's clickhouse-server after the tests.
type withClickHouse struct{ m *testing.M }

func (w withClickHouse) Run() int { return clickhousetest.Main(w.m) }

// TestScripts runs the CLI scripts in testdata/script, each in a fresh
// work directory with the repository's schemas and examples at hand.
func TestScripts(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		UpdateScripts:       *update,
		Setup: func(e *testscript.Env) error {
			e.Setenv("REPO", root)
			e.Setenv("SLUICE_CONNECTIONS", "")
			return nil
		},
	})
}

// sluice runs the CLI in-process from the repository root, so paths in its
// output are the repository-relative paths a person would type.
func sluice(t testing.TB, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), code
}

// golden compares got with the file at path, or rewrites it with -update.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got); run go test -update if the change is intended:\n%s", path, diff)
	}
}

// TestValidateGolden validates every folder under testdata/validate and
// compares the exit code and output with the folder's validate.golden.
func TestValidateGolden(t *testing.T) {
	t.Chdir("../..")
	dirs, _ := filepath.Glob("testdata/validate/*/*")
	if len(dirs) == 0 {
		t.Fatal("no validate cases")
	}
	for _, dir := range dirs {
		t.Run(dir, func(t *testing.T) {
			stdout, stderr, code := sluice(t, "validate", dir)
			got := fmt.Sprintf("exit %d\n-- stdout --\n%s-- stderr --\n%s", code, stdout, stderr)
			golden(t, filepath.Join(dir, "validate.golden"), got)
			good := strings.Contains(dir, "/good/")
			if good != (code == 0) {
				t.Errorf("exit %d for a %s case", code, map[bool]string{true: "good", false: "bad"}[good])
			}
		})
	}
}

// TestExamplesValidate: every example pipeline validates cleanly, without
// warnings.
func TestExamplesValidate(t *testing.T) {
	t.Chdir("../..")
	dirs := examples(t)
	for _, dir := range dirs {
		stdout, stderr, code := sluice(t, "validate", dir)
		if code != 0 || stderr != "" {
			t.Errorf("sluice validate %s: exit %d\n%s%s", dir, code, stdout, stderr)
		}
	}
}

func examples(t *testing.T) []string {
	t.Helper()
	dirs, _ := filepath.Glob("pipelines/*/pipeline.yaml")
	if len(dirs) == 0 {
		t.Fatal("no example pipelines")
	}
	for i, d := range dirs {
		dirs[i] = filepath.Dir(d)
	}
	return dirs
}

// TestPlanGolden plans every example pipeline as text and JSON, for the
// current ClickHouse and for 18.16, and checks that planning twice gives
// the same bytes.
func TestPlanGolden(t *testing.T) {
	t.Chdir("../..")
	cases := []struct {
		suffix string
		args   []string
	}{
		{".txt", nil},
		{".json", []string{"--json"}},
		{"@18.16.txt", []string{"--clickhouse-version", "18.16.1"}},
		{"@26.6.txt", []string{"--clickhouse-version", "26.6.1"}},
	}
	for _, dir := range examples(t) {
		for _, c := range cases {
			name := filepath.Base(dir) + c.suffix
			t.Run(name, func(t *testing.T) {
				args := append([]string{"plan", dir}, c.args...)
				stdout, stderr, code := sluice(t, args...)
				again, _, _ := sluice(t, args...)
				if again != stdout {
					t.Errorf("plan is not deterministic: two runs differ")
				}
				got := stdout
				if code != 0 || stderr != "" {
					got = fmt.Sprintf("exit %d\n-- stdout --\n%s-- stderr --\n%s", code, stdout, stderr)
				}
				golden(t, filepath.Join("testdata/plan", name), got)
			})
		}
	}
}
