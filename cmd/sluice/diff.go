package main

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/hockeystack/sluice/engine/config"
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
	top, err := repoAt(wd, *base)
	if err != nil {
		fmt.Fprintf(e.stderr, "sluice diff: %v\n", err)
		return exitUsage
	}
	rels, err := diffFolders(top, wd, *base, dirs)
	if err != nil {
		fmt.Fprintf(e.stderr, "sluice diff: %v\n", err)
		return exitUsage
	}
	baseTree, err := os.MkdirTemp("", "sluice-diff-")
	if err != nil {
		fmt.Fprintf(e.stderr, "sluice diff: %v\n", err)
		return exitProblems
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
		if atRevision(top, *base, rel) {
			// The folder, and the connections file beside it, as they
			// were at the revision; no checkout needed.
			paths := []string{rel}
			connsFile := config.FindConnections(*conns, e.getenv("SLUICE_CONNECTIONS"), headDir)
			if r, err := filepath.Rel(top, connsFile); err == nil && connsFile != "" && !strings.HasPrefix(r, "..") && atRevision(top, *base, r) {
				paths = append(paths, r)
			}
			if err := extract(top, *base, paths, baseTree); err != nil {
				fmt.Fprintf(e.stderr, "sluice diff: reading %s at %s: %v\n", rel, *base, err)
				return exitProblems
			}
			// The revision's own connections file comes from the archive
			// and, like its folder's files, must not lead out of it.
			baseConns, within := connsFile, ""
			if len(paths) == 2 {
				baseConns, within = filepath.Join(baseTree, paths[1]), baseTree
			}
			if old = compileLoaded(e, loadFolder(e, filepath.Join(baseTree, rel), baseConns, within)); old == nil {
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
	if l.diags.HasErrors() {
		report(e, l.diags, l.sources)
		return nil
	}
	p, ds := plan.Compile(context.Background(), l.pipeline, plan.Options{Connections: l.connections})
	if ds.HasErrors() {
		report(e, ds, l.sources)
		return nil
	}
	return p
}

// diffFolders returns the pipeline folders to compare, relative to the
// repository's top: the ones given, else every folder under pipelines/
// with a pipeline file now or at the revision.
func diffFolders(top, wd, rev string, dirs []string) ([]string, error) {
	var rels []string
	for _, d := range dirs {
		abs := d
		if !filepath.IsAbs(d) {
			abs = filepath.Join(wd, d)
		}
		rel, err := filepath.Rel(top, abs)
		if err != nil || strings.HasPrefix(rel, "..") {
			return nil, fmt.Errorf("%s is outside the repository", d)
		}
		rels = append(rels, filepath.ToSlash(rel))
	}
	if len(dirs) == 0 {
		for _, f := range pipelineFolders([]string{filepath.Join(top, "pipelines")}) {
			rel, _ := filepath.Rel(top, f)
			rels = append(rels, filepath.ToSlash(rel))
		}
		out, err := git(top, "ls-tree", "-r", "--name-only", rev, "--", "pipelines")
		if err != nil {
			return nil, err
		}
		for _, f := range strings.Split(out, "\n") {
			if filepath.Base(f) == config.PipelineFileName {
				rels = append(rels, filepath.Dir(f))
			}
		}
	}
	return uniqueSorted(rels), nil
}

// repoAt returns the top of the git repository holding dir, after
// checking that rev is one of its commits.
func repoAt(dir, rev string) (string, error) {
	top, err := git(dir, "rev-parse", "--show-toplevel")
	if err != nil {
		return "", fmt.Errorf("not in a git repository: %v", err)
	}
	top = strings.TrimSpace(top)
	if _, err := git(top, "rev-parse", "--verify", "--quiet", rev+"^{commit}"); err != nil {
		return "", fmt.Errorf("%s is not a revision of this repository", rev)
	}
	return top, nil
}

// atRevision reports whether rel (a folder's pipeline file, or a file)
// exists at rev.
func atRevision(top, rev, rel string) bool {
	p := filepath.ToSlash(rel)
	if !strings.HasSuffix(p, ".yaml") {
		p += "/" + config.PipelineFileName
	}
	_, err := git(top, "cat-file", "-e", rev+":"+p)
	return err == nil
}

// extract writes paths as they were at rev under dir, from git archive.
// Symlinks are written as symlinks, so that loading the tree refuses the
// ones that lead out of their folder just as it does in the working tree;
// nothing is written through one. A file larger than config.MaxFileSize
// is written as a sparse file of its size, without its bytes: loading
// refuses it by its size before reading, and a huge blob costs nothing.
func extract(top, rev string, paths []string, dir string) error {
	cmd := exec.Command("git", append([]string{"-C", top, "archive", "--format=tar", rev, "--"}, paths...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	fail := func(err error) error {
		cmd.Process.Kill()
		cmd.Wait()
		return err
	}
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return fail(err)
	}
	tr := tar.NewReader(out)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fail(err)
		}
		name := filepath.Join(root, filepath.FromSlash(h.Name))
		if !strings.HasPrefix(name, root+string(filepath.Separator)) {
			continue
		}
		if h.Typeflag != tar.TypeDir && h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeSymlink {
			continue
		}
		// git never archives a path below a symlink, but a parent that
		// resolves elsewhere is never written through.
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			return fail(err)
		}
		if parent, err := filepath.EvalSymlinks(filepath.Dir(name)); err != nil || !strings.HasPrefix(parent+string(filepath.Separator), root+string(filepath.Separator)) {
			continue
		}
		// Each folder's extraction brings the connections file again.
		if fi, err := os.Lstat(name); err == nil && !fi.IsDir() && h.Typeflag != tar.TypeDir {
			if err := os.Remove(name); err != nil {
				return fail(err)
			}
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(name, 0o755); err != nil {
				return fail(err)
			}
		case tar.TypeSymlink:
			if err := os.Symlink(h.Linkname, name); err != nil {
				return fail(err)
			}
		case tar.TypeReg:
			if err := writeBlob(name, tr, h.Size); err != nil {
				return fail(err)
			}
		}
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("%v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// writeBlob writes a file of an archive, or only its size when it is over
// the limit loading reads.
func writeBlob(name string, r io.Reader, size int64) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if config.CheckFileSize(name, size) != nil {
		err = f.Truncate(size)
	} else {
		_, err = io.Copy(f, io.LimitReader(r, size))
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func git(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
