package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/hockeystack/sluice/engine/diag"
)

// MaxFileSize is the most bytes Sluice reads from one file of a pipeline
// folder or a connections file: pipeline.yaml, connections.yaml, SQL and
// fixture files. A megabyte holds hundreds of streams of hand-written YAML
// or a long query; a larger file is a mistake or an attack, and refusing
// it keeps every later step (parsing, validation, diagnostics) small.
const MaxFileSize = 1 << 20

// A FileError says why Sluice refused to read a file: it leads outside its
// folder, is not a regular file or is too large. Reason completes a
// sentence whose subject is the file.
type FileError struct {
	Path   string
	Reason string
	// Outside is set when the file leads out of its folder.
	Outside bool
}

func (e *FileError) Error() string { return e.Path + " " + e.Reason }

// ReadFolderFile reads name, a file of the folder root, as Sluice reads
// every file a pipeline folder names: once every symlink is followed (in
// root's path too), the file must lie inside root, be a regular file and
// hold at most MaxFileSize bytes. Its kind and size are checked before it
// is opened, so a named pipe or a device is never opened and a huge file
// never read. With root "" the file may lie anywhere (a file the operator
// named). A refusal is a *FileError; a missing file an fs.ErrNotExist.
func ReadFolderFile(root, name string) ([]byte, error) {
	real, err := filepath.EvalSymlinks(name)
	if err != nil {
		return nil, err
	}
	if real, err = filepath.Abs(real); err != nil {
		return nil, err
	}
	if root != "" {
		realRoot, err := filepath.EvalSymlinks(root)
		if err != nil {
			return nil, err
		}
		if realRoot, err = filepath.Abs(realRoot); err != nil {
			return nil, err
		}
		if !inside(realRoot, real) {
			return nil, &FileError{Path: name, Reason: fmt.Sprintf("resolves to %s, outside the folder %s", real, root), Outside: true}
		}
	}
	fi, err := os.Stat(real)
	if err != nil {
		return nil, err
	}
	if err := checkFileInfo(name, fi); err != nil {
		return nil, err
	}
	f, err := os.Open(real)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// The file may have been replaced since it was checked: check what was
	// opened, and read no more than the limit whatever it turned out to be.
	if fi, err = f.Stat(); err != nil {
		return nil, err
	}
	if err := checkFileInfo(name, fi); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxFileSize {
		return nil, tooLarge(name, int64(len(b)))
	}
	return b, nil
}

// CheckWritable checks that Sluice may write name, a file of the folder
// root: the part of its path that exists resolves inside root, and name
// itself, if it exists, is a regular file and not a symlink, so writing
// never overwrites a file elsewhere that a committed symlink names.
func CheckWritable(root, name string) error {
	realRoot, err := filepath.EvalSymlinks(root)
	if err == nil {
		realRoot, err = filepath.Abs(realRoot)
	}
	if err != nil {
		return err
	}
	dir := filepath.Dir(name)
	for {
		real, err := filepath.EvalSymlinks(dir)
		if err == nil {
			if real, err = filepath.Abs(real); err != nil {
				return err
			}
			if !inside(realRoot, real) {
				return &FileError{Path: dir, Reason: fmt.Sprintf("resolves to %s, outside the folder %s", real, root), Outside: true}
			}
			break
		}
		if !errors.Is(err, fs.ErrNotExist) || filepath.Dir(dir) == dir {
			return err
		}
		dir = filepath.Dir(dir)
	}
	fi, err := os.Lstat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case fi.Mode()&fs.ModeSymlink != 0:
		return &FileError{Path: name, Reason: "is a symlink: Sluice does not write through one"}
	case !fi.Mode().IsRegular():
		return &FileError{Path: name, Reason: "is " + modeName(fi.Mode()) + ", not a regular file"}
	}
	return nil
}

// checkFileInfo refuses anything but a regular file within the size limit.
func checkFileInfo(name string, fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return &FileError{Path: name, Reason: "is " + modeName(fi.Mode()) + ", not a regular file"}
	}
	if fi.Size() > MaxFileSize {
		return tooLarge(name, fi.Size())
	}
	return nil
}

func tooLarge(name string, size int64) error {
	return &FileError{Path: name, Reason: fmt.Sprintf("is %s; Sluice reads files of at most %s", sizeName(size), sizeName(MaxFileSize))}
}

// CheckFileSize refuses a file of size bytes, as ReadFolderFile would.
func CheckFileSize(name string, size int64) error {
	if size > MaxFileSize {
		return tooLarge(name, size)
	}
	return nil
}

func modeName(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "a special file"
}

func sizeName(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d bytes", n)
}

// inside reports whether path lies in dir; both are absolute and clean.
func inside(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// readError completes a sentence about a file that could not be read.
func readError(err error) string {
	var fe *FileError
	if errors.As(err, &fe) {
		return fe.Reason
	}
	return fmt.Sprintf("cannot be read: %v", unwrapPath(err))
}

// unwrapPath drops the operation and path an *fs.PathError repeats.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// checkText checks that src is text Sluice can show and send on: UTF-8
// without NUL bytes. A UTF-8 byte order mark is dropped (editors on
// Windows write one; Snowflake and YAML positions should not see it);
// UTF-16 is refused rather than decoded, because git and pull requests
// show it as binary and reviewers could not read the change. It returns
// the text to use and the first problem, at its line and column.
func checkText(path string, src []byte) ([]byte, *diag.Diagnostic) {
	src = bytes.TrimPrefix(src, []byte("\xef\xbb\xbf"))
	at := func(off int, format string, args ...any) *diag.Diagnostic {
		line := 1 + bytes.Count(src[:off], []byte{'\n'})
		col := 1 + utf8.RuneCount(src[bytes.LastIndexByte(src[:off], '\n')+1:off])
		return &diag.Diagnostic{Pos: diag.Pos{File: path, Line: line, Col: col}, Len: 1, Summary: fmt.Sprintf(format, args...)}
	}
	if bytes.HasPrefix(src, []byte{0xff, 0xfe}) || bytes.HasPrefix(src, []byte{0xfe, 0xff}) || wide(src) {
		return src, &diag.Diagnostic{Pos: diag.Pos{File: path, Line: 1},
			Summary: "file is UTF-16 (or another wide encoding): save it as UTF-8, which git and pull requests show as text"}
	}
	if i := bytes.IndexByte(src, 0); i >= 0 {
		return src, at(i, "file holds a NUL byte: pipeline files are UTF-8 text")
	}
	if !utf8.Valid(src) {
		off := 0
		for off < len(src) {
			r, n := utf8.DecodeRune(src[off:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			off += n
		}
		return src, at(off, "invalid UTF-8 (byte 0x%02x): pipeline files are UTF-8 text", src[off])
	}
	return src, nil
}

// wide reports whether src starts like UTF-16 without a byte order mark:
// ASCII with a NUL before or after every character.
func wide(src []byte) bool {
	n := min(len(src), 16) &^ 1
	if n < 4 {
		return false
	}
	for _, zero := range []int{0, 1} {
		ok := true
		for i := 0; i < n && ok; i++ {
			ok = (src[i] == 0) == (i%2 == zero)
		}
		if ok {
			return true
		}
	}
	return false
}
