package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hockeystack/sluice/engine/config"
	"github.com/hockeystack/sluice/engine/pipeline"
	"github.com/hockeystack/sluice/engine/plan"
	"github.com/hockeystack/sluice/engine/review"
)

// runDiff compares the plans of pipeline folders at a git revision with
// the working tree's. Exit 0: nothing changed; 1: something did; 2: usage
// or a folder that does not compile.
func runDiff(e *env, args []string) int {
	fs := newFlags(e, "diff")
	base := fs.String("base", "", "git `revision` to compare with, such as origin/main")
	format := fs.String("format", "markdown", "output `format`: markdown or json")
	conns := connectionsFlag(fs)
	dirs, err := parseArgs(fs, args)
	if err != nil {
		return exitUsage
	}
	if *base == "" {
		return usageError(e, fs, "--base is required")
	}
	if *format != "markdown" && *format != "json" {
		return usageError(e, fs, "--format must be markdown or json")
	}
	wd, _ := os.Getwd()
	top, err := review.Repo(wd, *base)
	if err != nil {
		fmt.Fprintf(e.stderr, "sluice diff: %v\n", err)
		return exitUsage
	}
	rels, err := review.Folders(top, wd, *base, dirs)
	if err != nil {
		fmt.Fprintf(e.stderr, "sluice diff: %v\n", err)
		return exitUsage
	}
	baseTree, err := os.MkdirTemp("", "sluice-diff-")
	if err != nil {
		return e.fail("sluice diff", err)
	}
	defer os.RemoveAll(baseTree)
	report := review.Report{FormatVersion: review.FormatVersion, Base: *base}
	failed := false
	for _, rel := range rels {
		headDir := filepath.Join(top, rel)
		var head, old *plan.Plan
		if exists(filepath.Join(headDir, config.PipelineFileName)) {
			if head = compileOffline(e, headDir, *conns); head == nil {
				failed = true
				continue
			}
		}
		if review.AtRevision(top, *base, rel) {
			// The folder, and the connections file beside it, as they
			// were at the revision; no checkout needed.
			paths := []string{rel}
			connsFile := config.FindConnections(*conns, e.getenv("SLUICE_CONNECTIONS"), headDir)
			if r, err := filepath.Rel(top, connsFile); err == nil && connsFile != "" && !strings.HasPrefix(r, "..") && review.AtRevision(top, *base, r) {
				paths = append(paths, r)
			}
			if err := review.Extract(top, *base, paths, baseTree); err != nil {
				fmt.Fprintf(e.stderr, "sluice diff: reading %s at %s: %v\n", rel, *base, err)
				return exitProblems
			}
			// The revision's own connections file comes from the archive
			// and, like its folder's files, must not lead out of it.
			baseConns, within := connsFile, ""
			if len(paths) == 2 {
				baseConns, within = filepath.Join(baseTree, paths[1]), baseTree
			}
			if old = compileLoaded(e, pipeline.LoadWith(filepath.Join(baseTree, rel), baseConns, within)); old == nil {
				fmt.Fprintf(e.stderr, "sluice diff: %s does not compile at %s (above); comparing it as a new folder\n", rel, *base)
			}
		}
		report.Add(review.Compare(filepath.ToSlash(rel), old, head))
	}
	if failed {
		return exitUsage
	}
	if *format == "json" {
		err = report.JSON(e.stdout)
	} else {
		err = report.Markdown(e.stdout)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "sluice diff: %v\n", err)
		return exitUsage
	}
	if report.Changes > 0 {
		return exitProblems
	}
	return exitOK
}

// compileOffline loads and plans a folder without connecting anywhere; on
// errors it reports them and returns nil.
func compileOffline(e *env, dir, conns string) *plan.Plan {
	return compileLoaded(e, load(e, dir, conns))
}

// compileLoaded plans a loaded folder offline; on errors it reports them
// and returns nil.
func compileLoaded(e *env, l loaded) *plan.Plan {
	if l.Diags.HasErrors() {
		report(e, l.Diags, l.Sources)
		return nil
	}
	p, ds := plan.Compile(context.Background(), l.Pipeline, plan.Options{Connections: l.Connections})
	if ds.HasErrors() {
		report(e, ds, l.Sources)
		return nil
	}
	return p
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
