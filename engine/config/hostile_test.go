package config

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hockeystack/sluice/engine/diag"
	"github.com/hockeystack/sluice/internal/testfs"
)

// TestYAMLSyntaxPositions: a syntax error points where the parser found
// the problem, and names where the construct it was reading began.
func TestYAMLSyntaxPositions(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"unclosed flow mapping", "version: 1\nstreams:\n  a:\n    source: {query: q.sql\n    columns: {}\n",
			"p/pipeline.yaml:5:12: invalid YAML: did not find expected ',' or '}' (while parsing a flow mapping that begins at 4:13)"},
		{"bad indentation", "version: 1\nstreams:\n  a:\n      source: x\n    columns: y\n",
			"p/pipeline.yaml:5:5: invalid YAML: did not find expected key (while parsing a block mapping that begins at 3:3)"},
		{"unterminated quote", "version: 1\nname: \"abc\nstreams: {}\n",
			"p/pipeline.yaml:3:12: invalid YAML: found unexpected end of stream (while scanning a quoted scalar that begins at 2:7)"},
		{"mapping in a value", "version: 1\nname: x\n  bad: [1, 2\n",
			"p/pipeline.yaml:3:6: invalid YAML: mapping values are not allowed in this context"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, ds := loadFiles(t, map[string]string{"pipeline.yaml": tc.src})
			if diff := cmp.Diff([]string{tc.want}, messages(ds)); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
		})
	}
}

// writeFolder writes files under a new folder and returns it.
func writeFolder(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	testfs.Write(t, dir, files)
	return dir
}

const onePipeline = `version: 1
name: p
streams:
  s:
    source: {connection: sf, query: sql/q.sql, incremental: false}
    columns:
      id: {type: Int64}
    destination: {connection: ch, table: d.t, mode: replace}
`

// loadDir loads a real folder with the test connections, and returns the
// diagnostics with the folder's path replaced by "p".
func loadDir(t *testing.T, dir string) []string {
	t.Helper()
	conns, ds := ParseConnections("connections.yaml", []byte(testConnections))
	if len(ds) > 0 {
		t.Fatalf("connections: %v", ds)
	}
	_, ds = Load(dir, Options{Connections: conns})
	var out []string
	for _, m := range messages(ds) {
		out = append(out, strings.ReplaceAll(m, dir, "p"))
	}
	return out
}

// TestFolderFilesStayInside: a file a folder names is read only when,
// with every symlink followed, it lies inside the folder and is a regular
// file within the size limit; each refusal is one error at the YAML value
// that names the file. Pipes and devices are never opened.
func TestFolderFilesStayInside(t *testing.T) {
	secret := writeFolder(t, map[string]string{"q.sql": "SELECT ID FROM SECRET -- do not publish\n"})
	at := "p/pipeline.yaml:5:37: "
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  string
	}{
		{"symlinked file", func(t *testing.T, dir string) {
			must(t, os.Symlink(filepath.Join(secret, "q.sql"), filepath.Join(dir, "sql", "q.sql")))
		}, at + `query "sql/q.sql" resolves to ` + secret + `/q.sql, outside the folder p: keep a pipeline's SQL inside its folder`},
		{"symlinked folder", func(t *testing.T, dir string) {
			must(t, os.Remove(filepath.Join(dir, "sql")))
			must(t, os.Symlink(secret, filepath.Join(dir, "sql")))
		}, at + `query "sql/q.sql" resolves to ` + secret + `/q.sql, outside the folder p: keep a pipeline's SQL inside its folder`},
		{"relative symlink out", func(t *testing.T, dir string) {
			must(t, os.Symlink("../../../../../../../../../../../etc/passwd", filepath.Join(dir, "sql", "q.sql")))
		}, at + `query "sql/q.sql" resolves to /etc/passwd, outside the folder p: keep a pipeline's SQL inside its folder`},
		{"device", func(t *testing.T, dir string) {
			must(t, os.Symlink("/dev/zero", filepath.Join(dir, "sql", "q.sql")))
		}, at + `query "sql/q.sql" resolves to /dev/zero, outside the folder p: keep a pipeline's SQL inside its folder`},
		{"named pipe", func(t *testing.T, dir string) {
			must(t, syscall.Mkfifo(filepath.Join(dir, "sql", "q.sql"), 0o644))
		}, at + `query "sql/q.sql" is a named pipe, not a regular file`},
		{"folder", func(t *testing.T, dir string) {
			must(t, os.Mkdir(filepath.Join(dir, "sql", "q.sql"), 0o755))
		}, at + `query "sql/q.sql" is a folder, not a regular file`},
		{"too large", func(t *testing.T, dir string) {
			f, err := os.Create(filepath.Join(dir, "sql", "q.sql"))
			must(t, err)
			must(t, f.Truncate(3<<30)) // sparse: costs nothing, and is never read
			must(t, f.Close())
		}, at + `query "sql/q.sql" is 3.0 GiB; Sluice reads files of at most 1 MiB`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFolder(t, map[string]string{"pipeline.yaml": onePipeline})
			must(t, os.Mkdir(filepath.Join(dir, "sql"), 0o755))
			tc.setup(t, dir)
			done := make(chan []string, 1)
			go func() { done <- loadDir(t, dir) }()
			select {
			case got := <-done:
				if diff := cmp.Diff([]string{tc.want}, got); diff != "" {
					t.Errorf("diagnostics (-want +got):\n%s", diff)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("loading hung")
			}
		})
	}
}

// TestFolderSymlinksInside: a symlink that stays inside the folder is
// followed, and so is a folder reached through a symlink.
func TestFolderSymlinksInside(t *testing.T) {
	dir := writeFolder(t, map[string]string{"pipeline.yaml": onePipeline, "shared/q.sql": "SELECT ID FROM T\n"})
	must(t, os.Symlink("shared", filepath.Join(dir, "sql")))
	if got := loadDir(t, dir); len(got) > 0 {
		t.Errorf("unexpected diagnostics:\n%s", strings.Join(got, "\n"))
	}
	link := filepath.Join(t.TempDir(), "link")
	must(t, os.Symlink(dir, link))
	if got := loadDir(t, link); len(got) > 0 {
		t.Errorf("through a symlinked folder: unexpected diagnostics:\n%s", strings.Join(got, "\n"))
	}
}

// TestPipelineFileStaysInside: pipeline.yaml itself is held to the same
// rules.
func TestPipelineFileStaysInside(t *testing.T) {
	secret := writeFolder(t, map[string]string{"pipeline.yaml": onePipeline})
	dir := t.TempDir()
	must(t, os.Symlink(filepath.Join(secret, "pipeline.yaml"), filepath.Join(dir, "pipeline.yaml")))
	want := []string{"p/pipeline.yaml: pipeline.yaml resolves to " + secret + "/pipeline.yaml, outside the folder p"}
	if diff := cmp.Diff(want, loadDir(t, dir)); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
}

// TestConnectionsFileFound: a connections file found in a folder must not
// lead out of it; one the operator names may be a symlink (a mounted
// secret), but never a pipe.
func TestConnectionsFileFound(t *testing.T) {
	elsewhere := writeFolder(t, map[string]string{"connections.yaml": testConnections})
	dir := t.TempDir()
	link := filepath.Join(dir, "connections.yaml")
	must(t, os.Symlink(filepath.Join(elsewhere, "connections.yaml"), link))
	_, _, ds := LoadConnections(link, ConnectionsOptions{Within: dir})
	want := []string{link + " : connections file resolves to " + elsewhere + "/connections.yaml, outside the folder " + dir}
	want[0] = strings.Replace(want[0], " : ", ": ", 1)
	if diff := cmp.Diff(want, messages(ds)); diff != "" {
		t.Errorf("found in the folder (-want +got):\n%s", diff)
	}
	if c, _, ds := LoadConnections(link, ConnectionsOptions{}); len(ds) > 0 || c.Get("sf") == nil {
		t.Errorf("named by the operator: %v", ds)
	}
	fifo := filepath.Join(dir, "fifo.yaml")
	must(t, syscall.Mkfifo(fifo, 0o644))
	_, _, ds = LoadConnections(fifo, ConnectionsOptions{})
	if diff := cmp.Diff([]string{fifo + ": connections file is a named pipe, not a regular file"}, messages(ds)); diff != "" {
		t.Errorf("a pipe (-want +got):\n%s", diff)
	}
}

// TestText: files are UTF-8 text. A byte order mark is dropped; UTF-16,
// NUL bytes and invalid UTF-8 are refused at their line and column, and
// an empty file at 1:1.
func TestText(t *testing.T) {
	for _, tc := range []struct {
		name     string
		pipeline string
		sql      string
		want     []string
	}{
		{"BOM", "\ufeff" + onePipeline, "\ufeffSELECT ID FROM T\n", nil},
		{"UTF-16 YAML", string(utf16le("version: 1\n")), "SELECT ID FROM T\n",
			[]string{"p/pipeline.yaml:1: file is UTF-16 (or another wide encoding): save it as UTF-8, which git and pull requests show as text"}},
		{"UTF-16 SQL", onePipeline, "\xff\xfe" + string(utf16le("SELECT ID FROM T\n")),
			[]string{"p/sql/q.sql:1: file is UTF-16 (or another wide encoding): save it as UTF-8, which git and pull requests show as text"}},
		{"NUL in YAML", strings.Replace(onePipeline, "name: p", "name: p\x00", 1), "SELECT ID FROM T\n",
			[]string{"p/pipeline.yaml:2:8: file holds a NUL byte: pipeline files are UTF-8 text"}},
		{"NUL in SQL", onePipeline, "SELECT ID\nFROM T\x00\n",
			[]string{"p/sql/q.sql:2:7: file holds a NUL byte: pipeline files are UTF-8 text"}},
		{"invalid UTF-8 in YAML", strings.Replace(onePipeline, "name: p", "name: é\xe9", 1), "SELECT ID FROM T\n",
			[]string{"p/pipeline.yaml:2:8: invalid UTF-8 (byte 0xe9): pipeline files are UTF-8 text"}},
		{"invalid UTF-8 in SQL", onePipeline, "SELECT ID FROM T -- \xff\n",
			[]string{"p/sql/q.sql:1:21: invalid UTF-8 (byte 0xff): pipeline files are UTF-8 text"}},
		{"empty YAML", "", "SELECT ID FROM T\n", []string{"p/pipeline.yaml:1:1: file is empty"}},
		{"comments only", "# nothing yet\n", "SELECT ID FROM T\n", []string{"p/pipeline.yaml:1:1: file is empty"}},
		{"empty SQL", onePipeline, "", []string{"p/pipeline.yaml:5:37: query file sql/q.sql is empty"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, ds := loadFiles(t, map[string]string{"pipeline.yaml": tc.pipeline, "sql/q.sql": tc.sql})
			if diff := cmp.Diff(tc.want, messages(ds)); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
		})
	}
}

func utf16le(s string) []byte {
	var b []byte
	for _, r := range s {
		b = append(b, byte(r), 0)
	}
	return b
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestCheckWritable: a file Sluice writes into a folder (a recorded
// fixture) is never written through a symlink.
func TestCheckWritable(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	must(t, CheckWritable(dir, filepath.Join(dir, "tests", "s.yaml")))
	must(t, os.Symlink(outside, filepath.Join(dir, "tests")))
	if err := CheckWritable(dir, filepath.Join(dir, "tests", "s.yaml")); err == nil || !strings.Contains(err.Error(), "outside the folder") {
		t.Errorf("through a symlinked folder: %v", err)
	}
	must(t, os.Remove(filepath.Join(dir, "tests")))
	must(t, os.Mkdir(filepath.Join(dir, "tests"), 0o755))
	must(t, os.Symlink(filepath.Join(outside, "victim"), filepath.Join(dir, "tests", "s.yaml")))
	if err := CheckWritable(dir, filepath.Join(dir, "tests", "s.yaml")); err == nil || !strings.Contains(err.Error(), "is a symlink") {
		t.Errorf("a symlinked file: %v", err)
	}
}

// billionLaughs nests levels of nine aliases each.
func billionLaughs(levels int) string {
	var b strings.Builder
	b.WriteString("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 9), ", "))
	}
	return b.String()
}

// TestHostileAliases: aliases that would expand without end, or to more
// than a pipeline ever needs, are one error at the alias, in
// pipeline.yaml and in the connections file alike, and nothing expands
// them.
func TestHostileAliases(t *testing.T) {
	deep := "a0: &a0 x\n"
	for i := 1; i <= 11; i++ {
		deep += fmt.Sprintf("a%d: &a%d [*a%d]\n", i, i, i-1)
	}
	for _, tc := range []struct{ name, src, want string }{
		{"recursive", "x: &r [*r]\n", "1:8: alias *r is inside its own anchor &r (line 1): it would expand forever"},
		{"recursive through another", "a: &a {b: &b [*a]}\n", "1:15: alias *a is inside its own anchor &a (line 1): it would expand forever"},
		{"billion laughs", billionLaughs(9), "6:10: aliases expand to more than 100,000 nodes (*a4 alone to 66,430): write the values out instead"},
		{"deep", deep, "12:12: *a10 nests aliases 11 deep; at most 10"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan struct{})
			go func() {
				defer close(done)
				_, ds := loadFiles(t, map[string]string{"pipeline.yaml": tc.src})
				if diff := cmp.Diff([]string{"p/pipeline.yaml:" + tc.want}, messages(ds)); diff != "" {
					t.Errorf("pipeline.yaml (-want +got):\n%s", diff)
				}
				_, ds = ParseConnections("c.yaml", []byte(tc.src))
				if diff := cmp.Diff([]string{"c.yaml:" + tc.want}, messages(ds)); diff != "" {
					t.Errorf("connections (-want +got):\n%s", diff)
				}
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("loading did not finish")
			}
		})
	}
	// Anchors shared the way pipelines share defaults are fine.
	shared := strings.Replace(onePipeline, "      id: {type: Int64}\n", "      id: &int {type: Int64}\n      id2: *int\n", 1)
	shared = strings.Replace(shared, "SELECT", "SELECT", 1)
	_, ds := loadFiles(t, map[string]string{"pipeline.yaml": shared, "sql/q.sql": "SELECT ID, ID2 FROM T"})
	if len(ds) > 0 {
		t.Errorf("shared anchors: %v", ds)
	}
}

// TestSizeLimits: more streams, or a stream with more columns, than the
// limits are one error at the streams: or columns: key.
func TestSizeLimits(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\nname: p\nstreams:\n")
	for i := 0; i <= MaxStreams; i++ {
		fmt.Fprintf(&b, "  s%d: {}\n", i)
	}
	_, ds := loadFiles(t, map[string]string{"pipeline.yaml": b.String()})
	if diff := cmp.Diff([]string{"p/pipeline.yaml:3:1: streams: 1,001 streams; a pipeline may have at most 1,000"}, messages(ds)); diff != "" {
		t.Errorf("streams (-want +got):\n%s", diff)
	}
	b.Reset()
	b.WriteString("version: 1\nname: p\nstreams:\n  s:\n    columns:\n")
	for i := 0; i <= MaxColumns; i++ {
		fmt.Fprintf(&b, "      c%d: {type: Int64}\n", i)
	}
	_, ds = loadFiles(t, map[string]string{"pipeline.yaml": b.String()})
	if diff := cmp.Diff([]string{"p/pipeline.yaml:5:5: stream s: 2,001 columns; a stream may have at most 2,000"}, messages(ds)); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	_, ds = loadFiles(t, map[string]string{"pipeline.yaml": "version: 1\n" + strings.Repeat("#", MaxFileSize)})
	if diff := cmp.Diff([]string{"p/pipeline.yaml: pipeline.yaml is 1.0 MiB; Sluice reads files of at most 1 MiB"}, messages(ds)); diff != "" {
		t.Errorf("document (-want +got):\n%s", diff)
	}
}

// TestManyExpressionsAreCheap: checking an expression costs what the
// expression costs, not a pass over the whole file (each used to split
// the file into lines: 8,000 columns took 3.4 GiB).
func TestManyExpressionsAreCheap(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\nname: p\nstreams:\n  s:\n    source: {connection: sf, query: q.sql, incremental: false}\n    columns:\n")
	for i := 0; i < MaxColumns; i++ {
		fmt.Fprintf(&b, "      c%d: {expr: \"ID + %d\", type: Int64}\n", i, i)
	}
	b.WriteString("    destination: {connection: ch, table: d.t, mode: replace}\n")
	files := map[string]string{"pipeline.yaml": b.String(), "q.sql": "SELECT ID FROM T"}
	loadFiles(t, files) // compile the schemas first
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, ds := loadFiles(t, files)
	runtime.ReadMemStats(&after)
	if len(ds) > 0 {
		t.Fatalf("unexpected diagnostics: %v", ds)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 150<<20 {
		t.Errorf("loading %d expressions allocated %d MiB, want under 150", MaxColumns, alloc>>20)
	}
}

// TestSecondDocument: a second YAML document in a file would be ignored,
// so it is an error; an empty one after a final --- is not.
func TestSecondDocument(t *testing.T) {
	_, ds := loadFiles(t, map[string]string{"pipeline.yaml": onePipeline + "---\nstreams: {}\n", "sql/q.sql": "SELECT ID FROM T"})
	if diff := cmp.Diff([]string{"p/pipeline.yaml:9:1: a second YAML document starts here: Sluice reads one document per file"}, messages(ds)); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
	if _, ds := loadFiles(t, map[string]string{"pipeline.yaml": onePipeline + "---\n", "sql/q.sql": "SELECT ID FROM T"}); len(ds) > 0 {
		t.Errorf("a final ---: %v", ds)
	}
}

// TestWindowsAndSchedule: validation counts the windows a backfill would
// cut and refuses more than a run can hold, on window:, and refuses a
// schedule that never fires.
func TestWindowsAndSchedule(t *testing.T) {
	src := `version: 1
name: p
schedule: "0 0 30 2 *"
streams:
  s:
    source:
      connection: sf
      query: q.sql
      incremental: {cursor: AT, start: 0001-01-01, window: 1m}
    columns:
      at: {from: AT, type: "DateTime('UTC')"}
    destination: {connection: ch, table: d.t}
  ok:
    source:
      connection: sf
      query: q.sql
      incremental: {cursor: AT, start: 2024-01-01, window: 1h, lookback: 99999999999m}
    columns:
      at: {from: AT, type: "DateTime('UTC')"}
    destination: {connection: ch, table: d.u}
`
	conns, _ := ParseConnections("connections.yaml", []byte(testConnections))
	files := map[string]string{"pipeline.yaml": src, "q.sql": "SELECT AT FROM T WHERE AT >= :window_start AND AT < :window_end"}
	_, ds := Load("p", Options{
		Connections: conns,
		ReadFile:    func(name string) ([]byte, error) { return []byte(files[strings.TrimPrefix(name, "p/")]), nil },
		Now:         func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) },
	})
	want := []string{
		`p/pipeline.yaml:3:11: schedule: "0 0 30 2 *" never fires`,
		"p/pipeline.yaml:9:60: window: 1m windows from 0001-01-01 to now cut about 1,065,047,040 windows; a stream may cut at most 1,000,000: start later or use larger windows",
		`p/pipeline.yaml:17:74: lookback: invalid span "99999999999m": longer than 100 years`,
	}
	if diff := cmp.Diff(want, messages(ds)); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
}

// TestValidateRefusesWhatFailsLater: what a database or a run would
// refuse is refused at validation, where it is written.
func TestValidateRefusesWhatFailsLater(t *testing.T) {
	for _, tc := range []struct {
		name      string
		pipeline  string
		sql, want string
	}{
		{"unknown zone", strings.Replace(onePipeline, "id: {type: Int64}", `id: {type: "DateTime('Mars/Olympus')"}`, 1), "SELECT ID FROM T",
			"p/pipeline.yaml:7:28: column id: invalid ClickHouse type \"DateTime('Mars/Olympus')\": DateTime: unknown time zone 'Mars/Olympus' (use an IANA name such as 'UTC' or 'America/New_York')"},
		{"arithmetic filter", strings.Replace(onePipeline, "    columns:", "    filter: ID * 2\n    columns:", 1), "SELECT ID FROM T",
			"p/pipeline.yaml:6:16: expr: filter must be a condition (true or false), not the result of *"},
		{"number under ??", strings.Replace(onePipeline, "    columns:", "    filter: (ID > 1) ?? 0\n    columns:", 1), "SELECT ID FROM T",
			"p/pipeline.yaml:6:25: expr: filter must be a condition (true or false), not a number"},
		{"second statement", onePipeline, "SELECT ID FROM T;\n-- then\nDELETE FROM T",
			"p/sql/q.sql:3:1: a second statement: a query file holds one query (end it at the ; on line 1)"},
		{"nullable upsert key", strings.Replace(strings.Replace(onePipeline, "id: {type: Int64}", `id: {type: "Nullable(Int64)"}`, 1), "mode: replace", "mode: upsert, key: [id]", 1), "SELECT ID FROM T",
			"p/pipeline.yaml:8:67: key: column id is Nullable(Int64): ClickHouse refuses a Nullable column in a sorting key (ORDER BY); declare it without Nullable, with a default"},
		{"nullable order_by", strings.Replace(strings.Replace(onePipeline, "id: {type: Int64}", `id: {type: "LowCardinality(Nullable(String))"}`, 1), "mode: replace", "mode: replace, order_by: [id]", 1), "SELECT ID FROM T",
			"p/pipeline.yaml:8:73: order_by: column id is LowCardinality(Nullable(String)): ClickHouse refuses a Nullable column in a sorting key (ORDER BY); declare it without Nullable, with a default"},
		{"nullable merge key", `version: 1
name: p
streams:
  s:
    source: {connection: ch, query: sql/q.sql, incremental: false}
    columns:
      ID: {from: id, type: VARCHAR(10)}
    destination: {connection: sf_rw, table: D.S.T, mode: merge, key: [ID]}
`, "SELECT id FROM t",
			"p/pipeline.yaml:8:71: key: column ID may be NULL, and MERGE never matches a NULL key, so such rows would be inserted again on every run: set nullable: false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, ds := loadFiles(t, map[string]string{"pipeline.yaml": tc.pipeline, "sql/q.sql": tc.sql})
			if diff := cmp.Diff([]string{tc.want}, messages(ds)); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSecretsNeverShown: a secret written into a file is refused, and
// neither the message nor any snippet shows it.
func TestSecretsNeverShown(t *testing.T) {
	const key = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7"
	render := func(ds diag.Diagnostics, src diag.Sources) string {
		var b strings.Builder
		must(t, diag.Render(&b, ds.Sort(), src))
		return b.String()
	}
	sql := "SELECT ID FROM T\n-- -----BEGIN PRIVATE KEY-----\n-- " + key + "\n-- -----END PRIVATE KEY-----\n"
	p, ds := loadFiles(t, map[string]string{"pipeline.yaml": onePipeline, "sql/q.sql": sql})
	out := render(ds, p.Files)
	if !strings.Contains(out, "p/sql/q.sql:2:4: a private key is written in q.sql: secrets never live in a pipeline folder") {
		t.Errorf("no error for the key in SQL:\n%s", out)
	}
	if strings.Contains(out, key) {
		t.Errorf("the key was shown:\n%s", out)
	}
	// Every other diagnostic on those lines would show stars.
	if got := string(p.Files["p/sql/q.sql"]); strings.Contains(got, key) || !strings.Contains(got, "-- -----BEGIN PRIVATE KEY-----\n*****") {
		t.Errorf("the source kept for snippets holds the key:\n%s", got)
	}

	conns := `version: 1
connections:
  a:
    kind: snowflake
    access: read_only
    account: acme
    user: SVC
    auth: {method: password, password: "hunter2 the great", passphrase: x}
  b:
    kind: clickhouse
    access: read_write
    host: 127.0.0.1
    auth:
      method: password
      password: |
        -----BEGIN PRIVATE KEY-----
        ` + key + `
        -----END PRIVATE KEY-----
`
	_, src, ds := parseConnections("c.yaml", []byte(conns))
	out = render(ds, diag.Sources{"c.yaml": src})
	for _, secret := range []string{"hunter2", key} {
		if strings.Contains(out, secret) || strings.Contains(string(src), secret) {
			t.Errorf("%q was shown:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, `auth: {method: password, password: "*****************", passphrase: *}`) {
		t.Errorf("the snippet does not star the password:\n%s", out)
	}

	pipeline := onePipeline + "    token: 'abc''def' # why\n"
	pipeline = strings.Replace(pipeline, "destination: {connection: ch, table: d.t, mode: replace}", "destination:\n      connection: ch\n      table: d.t\n      mode: replace", 1)
	pipeline = strings.Replace(pipeline, "    token:", "      token:", 1)
	p, ds = loadFiles(t, map[string]string{"pipeline.yaml": pipeline, "sql/q.sql": "SELECT ID FROM T"})
	out = render(ds, p.Files)
	if strings.Contains(out, "abc") || !strings.Contains(out, "token: '********' # why") {
		t.Errorf("a secret in pipeline.yaml was shown:\n%s", out)
	}
}
