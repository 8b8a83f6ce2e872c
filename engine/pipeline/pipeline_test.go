package pipeline

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/hockeystack/sluice/internal/testfs"
)

const conns = `version: 1
connections:
  sf: {kind: snowflake, access: read_only, account: A, user: U, auth: {method: password, password: {env: PW}}}
  ch: {kind: clickhouse, access: read_write, host: 127.0.0.1}
`

const pipe = `version: 1
name: p
defaults:
  source: {connection: sf}
  destination: {connection: ch}
streams:
  a:
    source: {query: q.sql, incremental: false}
    columns: {id: {type: Int64}}
    destination: {table: db.a, mode: replace}
  b:
    source: {query: q.sql, incremental: false}
    columns: {id: {type: Int64}}
    destination: {table: db.b, mode: replace}
`

func write(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	testfs.Write(t, dir, files)
	return dir
}

func none(string) string { return "" }

// TestLoad: the connections file is found in the folder or above it,
// named by the flag or $SLUICE_CONNECTIONS; without one there is a single
// error saying where Sluice looked.
func TestLoad(t *testing.T) {
	root := write(t, map[string]string{"connections.yaml": conns, "pipes/p/pipeline.yaml": pipe, "pipes/p/q.sql": "SELECT ID FROM T"})
	dir := filepath.Join(root, "pipes", "p")
	f := Load(dir, "", none)
	if f.Diags.HasErrors() || f.Pipeline.Name != "p" || len(f.Pipeline.Streams) != 2 {
		t.Fatalf("found above: %v, name %q", f.Diags, f.Pipeline.Name)
	}
	env := func(k string) string {
		if k == "SLUICE_CONNECTIONS" {
			return filepath.Join(root, "connections.yaml")
		}
		return ""
	}
	if f := Load(dir, "", env); f.Diags.HasErrors() {
		t.Fatalf("named by the environment: %v", f.Diags)
	}
	bare := write(t, map[string]string{"p/pipeline.yaml": pipe, "p/q.sql": "SELECT ID FROM T"})
	f = Load(filepath.Join(bare, "p"), "", none)
	if f.Diags.Errors() != 1 || !strings.Contains(f.Diags.Error(), "no connections file") || f.Pipeline == nil {
		t.Fatalf("without connections: %v", f.Diags)
	}
	if err := f.Diags.First(); err == nil || !strings.Contains(err.Error(), "no connections file") {
		t.Errorf("First: %v", err)
	}
}

// TestOnly narrows a copy of the pipeline to one stream, and names a
// stream that is not there.
func TestOnly(t *testing.T) {
	root := write(t, map[string]string{"connections.yaml": conns, "p/pipeline.yaml": pipe, "p/q.sql": "SELECT ID FROM T"})
	f := Load(filepath.Join(root, "p"), "", none)
	g := f
	if err := g.Only("b"); err != nil || len(g.Pipeline.Streams) != 1 || g.Pipeline.Streams[0].Name != "b" {
		t.Fatalf("Only(b): %v %v", err, g.Pipeline.Streams)
	}
	if len(f.Pipeline.Streams) != 2 {
		t.Errorf("Only changed the folder it was copied from")
	}
	if err := f.Only("c"); err == nil || err.Error() != "no stream c" {
		t.Errorf("Only(c) = %v", err)
	}
	if err := f.Only(""); err != nil || len(f.Pipeline.Streams) != 2 {
		t.Errorf(`Only("") = %v, %d streams`, err, len(f.Pipeline.Streams))
	}
}

// TestFolders finds the folders below an argument, once each, sorted.
func TestFolders(t *testing.T) {
	root := write(t, map[string]string{"b/pipeline.yaml": pipe, "a/x/pipeline.yaml": pipe, "c/other.yaml": ""})
	got := Folders([]string{root, filepath.Join(root, "b")})
	want := []string{filepath.Join(root, "a", "x"), filepath.Join(root, "b")}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("Folders = %v, want %v", got, want)
	}
}
