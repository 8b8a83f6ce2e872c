package review

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hockeystack/sluice/engine/config"
	"github.com/hockeystack/sluice/engine/pipeline"
)

// Folders returns the pipeline folders to compare, relative to the
// repository's top: the ones given, else every folder under pipelines/
// with a pipeline file now or at the revision.
func Folders(top, wd, rev string, dirs []string) ([]string, error) {
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
		for _, f := range pipeline.Folders([]string{filepath.Join(top, "pipelines")}) {
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
	return slices.Compact(slices.Sorted(slices.Values(rels))), nil
}

// Repo returns the top of the git repository holding dir, after
// checking that rev is one of its commits.
func Repo(dir, rev string) (string, error) {
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

// AtRevision reports whether rel (a folder's pipeline file, or a file)
// exists at rev.
func AtRevision(top, rev, rel string) bool {
	p := filepath.ToSlash(rel)
	if !strings.HasSuffix(p, ".yaml") {
		p += "/" + config.PipelineFileName
	}
	_, err := git(top, "cat-file", "-e", rev+":"+p)
	return err == nil
}

// Extract writes paths as they were at rev under dir, from git archive.
// Symlinks are written as symlinks, so that loading the tree refuses the
// ones that lead out of their folder just as it does in the working tree;
// nothing is written through one. A file larger than config.MaxFileSize
// is written as a sparse file of its size, without its bytes: loading
// refuses it by its size before reading, and a huge blob costs nothing.
func Extract(top, rev string, paths []string, dir string) error {
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

// git runs git in dir and returns its output.
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
