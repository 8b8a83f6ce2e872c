package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hockeystack/sluice/internal/testfs"
	"go.yaml.in/yaml/v3"
)

// gitRepo makes a repository with the example pipeline committed, and
// returns its folder.
func gitRepo(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is needed: ", err)
	}
	dir := t.TempDir()
	for _, f := range []string{"pipelines/connections.yaml", "pipelines/acme/pipeline.yaml", "pipelines/acme/sql/crm_activity.sql",
		"pipelines/acme/sql/opportunity_revenue.sql", "pipelines/acme/sql/touchpoints_export.sql", "pipelines/acme/sql/user_profiles.sql"} {
		b, err := os.ReadFile(filepath.Join("..", "..", f))
		if err != nil {
			t.Fatal(err)
		}
		writeFiles(t, dir, map[string]string{f: string(b)})
	}
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "."}, {"-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "acme"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return dir
}

func edit(t *testing.T, path, from, to string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), from) {
		t.Fatalf("%s has no %q", path, from)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), from, to, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDiffAgainstGit: sluice diff reads the base version from git, without
// a checkout, compares it with the working tree and says so in its exit
// code; an unknown revision and a folder that does not compile are usage
// errors.
func TestDiffAgainstGit(t *testing.T) {
	dir := gitRepo(t)
	t.Chdir(dir)
	out, errOut, code := sluice(t, "diff", "--base", "main")
	if code != 0 || !strings.Contains(out, "No change to any plan.") {
		t.Fatalf("unchanged: exit %d\n%s%s", code, out, errOut)
	}
	p := filepath.Join(dir, "pipelines", "acme", "pipeline.yaml")
	edit(t, p, `schedule: "0 3 * * *"`, `schedule: "0 4 * * *"`)
	edit(t, filepath.Join(dir, "pipelines", "acme", "sql", "crm_activity.sql"), "SELECT", "SELECT DISTINCT")
	out, errOut, code = sluice(t, "diff", "--base", "main", "pipelines/acme")
	if code != 1 {
		t.Fatalf("changed: exit %d, want 1\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"against `main`", "schedule: `daily at 03:00 (America/New_York)` → `daily at 04:00 (America/New_York)`",
		"**breaking** · source SQL changed (`sql/crm_activity.sql`)", "-SELECT", "+SELECT DISTINCT", "sluice backfill --from"} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}
	out, _, code = sluice(t, "diff", "--base", "main", "--format", "json")
	if code != 1 || !strings.Contains(out, `"kind": "source_sql_changed"`) || !strings.Contains(out, `"breaking": 1`) {
		t.Errorf("json: exit %d\n%s", code, out)
	}
	// A new folder is a new pipeline.
	writeFiles(t, dir, map[string]string{"pipelines/globex/pipeline.yaml": strings.Replace(mustRead(t, p), "name: acme", "name: globex", 1)})
	for _, f := range []string{"crm_activity.sql", "opportunity_revenue.sql", "touchpoints_export.sql", "user_profiles.sql"} {
		writeFiles(t, dir, map[string]string{"pipelines/globex/sql/" + f: mustRead(t, filepath.Join(dir, "pipelines", "acme", "sql", f))})
	}
	out, _, code = sluice(t, "diff", "--base", "main")
	if code != 1 || !strings.Contains(out, "### Pipeline `globex` (pipelines/globex): added") {
		t.Errorf("new folder: exit %d\n%s", code, out)
	}
	if _, errOut, code := sluice(t, "diff", "--base", "no-such-branch"); code != 2 || !strings.Contains(errOut, "not a revision") {
		t.Errorf("bad revision: exit %d\n%s", code, errOut)
	}
	edit(t, p, "mode: upsert", "mode: upsrt")
	if _, errOut, code := sluice(t, "diff", "--base", "main", "pipelines/acme"); code != 2 || !strings.Contains(errOut, "pipeline.yaml:") {
		t.Errorf("broken folder: exit %d\n%s", code, errOut)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	testfs.Write(t, dir, files)
}

// TestExampleWorkflow: the example CI workflow is valid YAML and runs
// sluice diff against the pull request's base in both formats.
func TestExampleWorkflow(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", "ci", "sluice-diff.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Jobs map[string]struct {
			Steps []struct {
				Run string `yaml:"run"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(b, &wf); err != nil {
		t.Fatal(err)
	}
	var runs strings.Builder
	for _, j := range wf.Jobs {
		for _, s := range j.Steps {
			runs.WriteString(s.Run)
		}
	}
	for _, want := range []string{`./sluice diff --base "origin/${{ github.base_ref }}" > diff.md`, "--format json", "gh pr comment"} {
		if !strings.Contains(runs.String(), want) {
			t.Errorf("the workflow does not run %q", want)
		}
	}
}

// TestDiffRefusesSymlinks: a symlink that leads out of its folder is
// refused in the working tree and in the revision's archive alike, and
// what it names is never printed: a diff is posted on pull requests.
func TestDiffRefusesSymlinks(t *testing.T) {
	dir := gitRepo(t)
	t.Chdir(dir)
	sqlFile := filepath.Join(dir, "pipelines", "acme", "sql", "crm_activity.sql")
	original := mustRead(t, sqlFile)
	outside := t.TempDir()
	writeFiles(t, outside, map[string]string{"crm_activity.sql": original + "-- TOP SECRET\n"})
	link := func(target, at string) {
		t.Helper()
		if err := os.RemoveAll(at); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, at); err != nil {
			t.Fatal(err)
		}
	}
	check := func(what string, wantCode int, wantErr ...string) {
		t.Helper()
		out, errOut, code := sluice(t, "diff", "--base", "main", "pipelines/acme")
		if code != wantCode {
			t.Errorf("%s: exit %d, want %d\n%s%s", what, code, wantCode, out, errOut)
		}
		for _, w := range wantErr {
			if !strings.Contains(errOut, w) {
				t.Errorf("%s: stderr lacks %q:\n%s", what, w, errOut)
			}
		}
		if strings.Contains(out+errOut, "TOP SECRET") {
			t.Errorf("%s: the symlink's target was published:\n%s%s", what, out, errOut)
		}
	}

	link(filepath.Join(outside, "crm_activity.sql"), sqlFile)
	check("a symlinked file in the working tree", 2, `query "sql/crm_activity.sql" resolves to `+outside)
	sqlDir := filepath.Dir(sqlFile)
	saved := t.TempDir()
	if err := os.Rename(sqlDir, filepath.Join(saved, "sql")); err != nil {
		t.Fatal(err)
	}
	link(outside, sqlDir)
	check("a symlinked folder in the working tree", 2, "resolves to "+outside)

	// Committed, and put back right in the working tree: the revision's
	// archive holds the symlink, which is refused there too.
	gitCommand(t, dir, "add", "-A")
	gitCommand(t, dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "link")
	if err := os.Remove(sqlDir); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(saved, "sql"), sqlDir); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(sqlFile); err != nil { // the first symlink
		t.Fatal(err)
	}
	writeFiles(t, dir, map[string]string{"pipelines/acme/sql/crm_activity.sql": original})
	check("a symlinked folder at the revision", 1, "resolves to ", "does not compile at main")

	// A file over the limit at the revision is refused by its size.
	writeFiles(t, dir, map[string]string{"pipelines/acme/sql/crm_activity.sql": original + "-- " + strings.Repeat("x", 2<<20) + "\n"})
	gitCommand(t, dir, "add", "-A")
	gitCommand(t, dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "large")
	writeFiles(t, dir, map[string]string{"pipelines/acme/sql/crm_activity.sql": original})
	check("a large file at the revision", 1, `query "sql/crm_activity.sql" is 2.0 MiB; Sluice reads files of at most 1 MiB`, "does not compile at main")
}

func gitCommand(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}
