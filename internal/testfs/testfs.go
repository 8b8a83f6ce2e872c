// Package testfs writes the files a test needs: a folder of named files
// with their text, made in one call.
package testfs

import (
	"os"
	"path/filepath"
	"testing"
)

// Write writes each file (a slash-separated path below dir) with its text,
// making the folders it needs, and fails tb on an error.
func Write(tb testing.TB, dir string, files map[string]string) {
	tb.Helper()
	for name, text := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}
