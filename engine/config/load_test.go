package config

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hockeystack/sluice/engine/diag"
)

const testConnections = `version: 1
connections:
  sf:
    kind: snowflake
    access: read_only
    account: acme
    user: SVC
    auth: {method: pat, token: {env: SF_TOKEN}}
  sf_rw:
    kind: snowflake
    access: read_write
    account: acme
    user: SVC
    auth: {method: pat, token: {env: SF_TOKEN}}
  ch:
    kind: clickhouse
    access: read_write
    host: 127.0.0.1
`

// loadFiles loads a pipeline from in-memory files.
func loadFiles(t *testing.T, files map[string]string) (*Pipeline, diag.Diagnostics) {
	t.Helper()
	conns, ds := ParseConnections("connections.yaml", []byte(testConnections))
	if len(ds) > 0 {
		t.Fatalf("connections: %v", ds)
	}
	return Load("p", Options{
		Connections: conns,
		ReadFile: func(name string) ([]byte, error) {
			name = strings.TrimPrefix(name, "p/")
			if s, ok := files[name]; ok {
				return []byte(s), nil
			}
			return nil, fs.ErrNotExist
		},
		ListFiles: func(string) []string {
			var out []string
			for f := range files {
				out = append(out, f)
			}
			return out
		},
	})
}

func messages(ds diag.Diagnostics) []string {
	var out []string
	for _, d := range ds.Sort() {
		out = append(out, d.Error())
	}
	return out
}

// TestExprPositions checks that expression errors land on the exact
// character in the file, whatever the YAML scalar style.
func TestExprPositions(t *testing.T) {
	yaml := `version: 1
name: p
defaults:
  source: {connection: sf, incremental: false}
  destination: {connection: ch}
streams:
  s:
    source: {query: q.sql}
    filter: >
      A > 1 &&
      B < nope
    columns:
      plain:   {expr: A + nope1, type: Int64}
      double:  {expr: "A + nope2", type: Int64}
      single:  {expr: 'A + nope3', type: Int64}
      literal:
        expr: |
          A +
            nope4
        type: Int64
    destination: {table: d.t, mode: replace}
`
	_, ds := loadFiles(t, map[string]string{"pipeline.yaml": yaml, "q.sql": "SELECT A, B FROM T"})
	want := []string{
		"p/pipeline.yaml:11:11: expr: unknown name nope",
		"p/pipeline.yaml:13:27: expr: unknown name nope1",
		"p/pipeline.yaml:14:28: expr: unknown name nope2",
		"p/pipeline.yaml:15:28: expr: unknown name nope3",
		"p/pipeline.yaml:19:13: expr: unknown name nope4",
	}
	if diff := cmp.Diff(want, messages(ds)); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
}

func TestLoadResolvesDefaults(t *testing.T) {
	yaml := `version: 1
name: p
schedule: "@daily"
defaults:
  source:
    connection: sf
    incremental: {cursor: updated_at, start: 2024-01-01, window: 1d, lookback: 2h}
  destination: {connection: ch, create: true}
streams:
  a:
    source: {query: a.sql}
    columns:
      id: {type: Int64}
      updated_at: {type: "DateTime64(6, 'UTC')"}
    destination: {table: d.a}
  b:
    source: {query: b.sql, incremental: false}
    columns:
      id: {type: Int64}
    destination: {table: d.b, create: false}
`
	p, ds := loadFiles(t, map[string]string{
		"pipeline.yaml": yaml,
		"a.sql":         "SELECT ID, UPDATED_AT FROM A WHERE UPDATED_AT >= :window_start AND UPDATED_AT < :window_end",
		"b.sql":         "SELECT ID FROM B",
	})
	if len(ds) > 0 {
		t.Fatalf("unexpected diagnostics:\n%s", ds)
	}
	a, b := p.Streams[0], p.Streams[1]
	if a.Incremental == nil || a.Incremental.Cursor != "UPDATED_AT" || a.Incremental.Window.String() != "1d" || a.Incremental.Lookback.String() != "2h" {
		t.Errorf("stream a incremental = %+v", a.Incremental)
	}
	if a.Destination.Mode != Append || !a.Destination.Create || a.Direction != Pull {
		t.Errorf("stream a destination = %+v, direction %s", a.Destination, a.Direction)
	}
	if a.Columns[0].From != "ID" || a.Columns[1].From != "UPDATED_AT" {
		t.Errorf("implied from: %q %q", a.Columns[0].From, a.Columns[1].From)
	}
	if b.Incremental != nil || b.Destination.Mode != Replace || b.Destination.Create {
		t.Errorf("stream b = %+v %+v", b.Incremental, b.Destination)
	}
}

func TestConnectionsFile(t *testing.T) {
	src := `version: 1
connections:
  a:
    kind: snowflake
    access: read_only
    account: acme
    user: SVC
    auth:
      method: password
      password: hunter2
  b:
    kind: snowflake
    access: read_write
    account: acme
    user: SVC
    auth: {method: key_pair, token: {env: X}}
  c:
    kind: clickhouse
    access: readonly
    host: 127.0.0.1
    auth: {method: pat, token: {env: CH}}
`
	_, ds := ParseConnections("c.yaml", []byte(src))
	want := []string{
		"c.yaml:10:17: password is written literally: reference it as {env: NAME} or {file: PATH} instead",
		"c.yaml:16:20: connection b: auth method key_pair needs \"private_key\"",
		"c.yaml:16:30: connection b: \"token\" is not used by auth method key_pair",
		"c.yaml:19:13: connections.c.access: unknown value \"readonly\" (did you mean \"read_only\"?); want one of read_only, read_write",
		"c.yaml:21:20: connection c: ClickHouse connections authenticate with password or none, not pat",
	}
	if diff := cmp.Diff(want, messages(ds)); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
}

func TestSecretsNeverInPipelines(t *testing.T) {
	yaml := `version: 1
name: p
defaults:
  source: {connection: sf, incremental: false}
  destination: {connection: ch}
streams:
  s:
    source: {query: q.sql}
    columns:
      id: {type: Int64, default: "-----BEGIN PRIVATE KEY-----"}
    destination: {table: d.t, mode: replace, token: abc}
`
	_, ds := loadFiles(t, map[string]string{"pipeline.yaml": yaml, "q.sql": "SELECT ID FROM T"})
	got := messages(ds)
	wantSub := []string{"a private key is written literally", `secret "token" in a pipeline folder`}
	for _, w := range wantSub {
		found := false
		for _, g := range got {
			found = found || strings.Contains(g, w)
		}
		if !found {
			t.Errorf("no diagnostic containing %q in:\n%s", w, strings.Join(got, "\n"))
		}
	}
}

// TestAppendKeyWarns: an append stream with a key is told that append
// does not deduplicate by key, and which mode does.
func TestAppendKeyWarns(t *testing.T) {
	yaml := `version: 1
name: p
streams:
  s:
    source: {connection: sf, query: q.sql, incremental: {cursor: AT, start: 2024-01-01, window: 1d}}
    columns:
      id: {from: ID, type: Int64}
      at: {from: AT, type: "DateTime('UTC')", allow_lossy: true}
    destination: {connection: ch, table: d.t, mode: append, key: [id]}
`
	_, ds := loadFiles(t, map[string]string{"pipeline.yaml": yaml, "q.sql": "SELECT ID, AT FROM T WHERE AT >= :window_start AND AT < :window_end"})
	want := []string{"p/pipeline.yaml:9:66: warning: mode append does not deduplicate by key: a row whose cursor moves to a later window is written again there and its old copy stays until its old window is read again; use mode upsert to keep one row per key"}
	if diff := cmp.Diff(want, messages(ds)); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
	if ds.HasErrors() {
		t.Error("a warning made the folder fail")
	}
}
