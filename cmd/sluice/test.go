package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	osexec "os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hockeystack/sluice/engine"
	"github.com/hockeystack/sluice/engine/config"
	"github.com/hockeystack/sluice/engine/ddl"
	"github.com/hockeystack/sluice/engine/diag"
	"github.com/hockeystack/sluice/engine/exec"
	"github.com/hockeystack/sluice/engine/fixture"
	"github.com/hockeystack/sluice/engine/plan"
	"github.com/hockeystack/sluice/engine/snowflake"
)

// simulator is a running snowsim that fixture tests seed and read.
type simulator interface {
	Exec(ctx context.Context, sql string) error
	Port() int
	Close()
}

// runTest runs the fixture tests of a pipeline folder offline, on snowsim:
// each seeds its source tables, runs the stream's own SQL, transforms and
// mapping, and compares the rows with the ones expected.
func runTest(e *env, args []string) int {
	fs := newFlags(e, "test")
	conns := connectionsFlag(fs)
	only := fs.String("stream", "", "run only the fixtures of this `stream`")
	rec := fs.Bool("record", false, "write tests/<stream>.yaml from a sample of the live source (needs --stream)")
	limit := fs.Int("limit", 20, "rows to sample from each source table with --record")
	dirs, err := parseArgs(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(dirs) != 1 {
		return usageError(e, fs, "want exactly one pipeline folder")
	}
	l := load(e, dirs[0], *conns)
	if l.diags.HasErrors() {
		report(e, l.diags, l.sources)
		fmt.Fprintf(e.stderr, "%s: %s\n", dirs[0], errorSummary(l.diags))
		return exitProblems
	}
	if *rec {
		if *only == "" || *limit < 1 {
			return usageError(e, fs, "--record needs --stream and a --limit of at least 1")
		}
		return record(e, l, dirs[0], *only, *limit)
	}
	files, _ := filepath.Glob(filepath.Join(dirs[0], "tests", "*.yaml"))
	sort.Strings(files)
	var fixtures []*fixture.Fixture
	for _, f := range files {
		// A fixture is a file of the folder like any other: it must not
		// lead out of it, and is checked before it is parsed.
		src, err := config.ReadFolderFile(dirs[0], f)
		if err != nil {
			fmt.Fprintf(e.stderr, "sluice test: %v\n", err)
			return exitProblems
		}
		if ds := config.CheckFixture(f, src); len(ds) > 0 {
			report(e, ds, diag.Sources{f: src})
			if ds.HasErrors() {
				fmt.Fprintf(e.stderr, "%s: %s\n", f, errorSummary(ds))
				return exitProblems
			}
		}
		fx, err := fixture.Parse(f, src)
		if err != nil {
			fmt.Fprintf(e.stderr, "%v\n", err)
			return exitProblems
		}
		if *only == "" || fx.Stream == *only {
			fixtures = append(fixtures, fx)
		}
	}
	if len(fixtures) == 0 {
		fmt.Fprintf(e.stderr, "sluice test: %s: %v\n", dirs[0], fixture.ErrNoFixtures)
		return exitUsage
	}
	ctx := context.Background()
	// The simulator is on 127.0.0.1: the driver has no platform to detect.
	if os.Getenv("SNOWFLAKE_DISABLE_PLATFORM_DETECTION") == "" {
		os.Setenv("SNOWFLAKE_DISABLE_PLATFORM_DETECTION", "true")
	}
	sim, err := e.simulate(e)
	if err != nil {
		fmt.Fprintf(e.stderr, "sluice test: starting snowsim: %v\n", err)
		return exitProblems
	}
	defer sim.Close()
	failed := 0
	for _, fx := range fixtures {
		name, _ := filepath.Rel(dirs[0], fx.Path)
		diffs, rows, err := runFixture(ctx, sim, l, fx)
		switch {
		case err != nil:
			failed++
			fmt.Fprintf(e.stdout, "FAIL %s (stream %s)\n    %v\n", name, fx.Stream, err)
		case len(diffs) > 0:
			failed++
			fmt.Fprintf(e.stdout, "FAIL %s (stream %s): %d difference(s)\n", name, fx.Stream, len(diffs))
			for _, d := range diffs {
				fmt.Fprintf(e.stdout, "    %s\n", d)
			}
		default:
			fmt.Fprintf(e.stdout, "ok   %s (stream %s, %d rows)\n", name, fx.Stream, rows)
		}
	}
	if failed > 0 {
		fmt.Fprintf(e.stdout, "%d of %d fixture tests failed\n", failed, len(fixtures))
		return exitProblems
	}
	fmt.Fprintf(e.stdout, "%d fixture tests passed\n", len(fixtures))
	return exitOK
}

// runFixture seeds one fixture's tables, runs its stream and compares.
func runFixture(ctx context.Context, sim simulator, l loaded, fx *fixture.Fixture) ([]string, int, error) {
	s, p, err := produce(ctx, sim, l, fx)
	if err != nil {
		return nil, 0, err
	}
	return fixture.Compare(fx.Expect, p, s.Destination.Key), len(p.Rows), nil
}

// produce seeds a fixture's tables and returns the rows its stream maps
// them to.
func produce(ctx context.Context, sim simulator, l loaded, fx *fixture.Fixture) (*config.Stream, fixture.Produced, error) {
	var p fixture.Produced
	var s *config.Stream
	for _, c := range l.pipeline.Streams {
		if c.Name == fx.Stream {
			s = c
		}
	}
	if s == nil {
		var names []string
		for _, c := range l.pipeline.Streams {
			names = append(names, c.Name)
		}
		return nil, p, fmt.Errorf("the pipeline has no stream %s (it has %s)", fx.Stream, strings.Join(names, ", "))
	}
	if s.Direction != config.Pull {
		return nil, p, fmt.Errorf("stream %s reads ClickHouse: fixture tests run Snowflake SQL on snowsim, so they test pull streams", s.Name)
	}
	c := l.connections.Get(s.Source.Connection)
	db, schema := "", "PUBLIC"
	if c != nil {
		db = c.Database
		if c.Schema != "" {
			schema = c.Schema
		}
	}
	seed, dbs, err := fx.Seed(db, schema)
	if err != nil {
		return nil, p, err
	}
	for _, d := range dbs {
		if err := sim.Exec(ctx, "DROP DATABASE IF EXISTS "+ddl.QuoteSnowflake(d)); err != nil {
			return nil, p, err
		}
	}
	if err := sim.Exec(ctx, seed); err != nil {
		return nil, p, fmt.Errorf("seeding the given tables: %w", err)
	}
	local := &config.Connection{Name: "snowsim", Kind: "snowflake", Access: "read_only", Account: "SNOWSIM", Host: "127.0.0.1", Port: sim.Port(),
		Protocol: "http", User: "SLUICE", Database: db, Schema: schema, Auth: config.Auth{Method: "password", Password: &config.Secret{Env: "SNOWSIM_PASSWORD"}}}
	if db == "" {
		local.Schema = ""
	}
	conn, err := snowflake.Open(ctx, local, func(string) string { return "sluice" })
	if err != nil {
		return nil, p, fmt.Errorf("connecting to snowsim: %w", err)
	}
	defer conn.Close()
	// The rows are mapped as the plan runs them, planned offline for the
	// current ClickHouse release.
	pl, ds := plan.Compile(ctx, l.pipeline, plan.Options{Connections: l.connections})
	if ds.HasErrors() {
		return nil, p, firstError(ds)
	}
	var ps *plan.Stream
	for _, x := range pl.Streams {
		if x.Name == s.Name {
			ps = x
		}
	}
	var w engine.Window
	read := engine.Read{SQL: ps.Source.SQL, Params: map[string]any{}}
	if inc := ps.Exec.Incremental; inc != nil {
		w = engine.Window{Start: fx.Start, End: fx.End}
		if w.Start.IsZero() {
			w.Start = inc.Start
		}
		if w.End.IsZero() {
			w.End = time.Now()
		}
		read.Params[config.WindowStart], read.Params[config.WindowEnd] = w.Start, w.End
	}
	read.Tag = ps.Tag("fixture "+w.String(), time.Now())
	rr, err := snowflake.NewSource(conn, nil).Read(ctx, read)
	if err != nil {
		return nil, p, fmt.Errorf("running %s: %w", s.Source.QueryFile, err)
	}
	defer rr.Release()
	for _, col := range s.Columns {
		p.Columns = append(p.Columns, col.Name)
		p.Types = append(p.Types, col.Type)
	}
	if p.Rows, err = exec.MapRows(ps, rr, w); err != nil {
		return nil, p, err
	}
	return s, p, nil
}

// snowsimProcess is snowsim run as a child process, on a free port of
// 127.0.0.1, with its admin endpoint for seeding.
type snowsimProcess struct {
	cmd  *osexec.Cmd
	port int
}

var servingRE = regexp.MustCompile(`port (\d+)`)

// startSnowsimProcess finds snowsim ($SLUICE_SNOWSIM, beside the sluice
// binary, or on PATH) and starts it. Sluice itself never links DuckDB.
func startSnowsimProcess(e *env) (simulator, error) {
	bin := e.getenv("SLUICE_SNOWSIM")
	if bin == "" {
		if self, err := os.Executable(); err == nil {
			if p := filepath.Join(filepath.Dir(self), "snowsim"); exists(p) {
				bin = p
			}
		}
	}
	if bin == "" {
		p, err := osexec.LookPath("snowsim")
		if err != nil {
			return nil, fmt.Errorf("snowsim not found: build it (make build puts it in bin/ beside sluice) or set SLUICE_SNOWSIM")
		}
		bin = p
	}
	cmd := osexec.Command(bin, "--admin", "--listen", "127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	m := servingRE.FindStringSubmatch(line)
	if err != nil || m == nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("snowsim did not start: %q %v", line, err)
	}
	go io.Copy(io.Discard, out)
	port, _ := strconv.Atoi(m[1])
	return &snowsimProcess{cmd: cmd, port: port}, nil
}

func (p *snowsimProcess) Port() int { return p.port }

func (p *snowsimProcess) Exec(ctx context.Context, text string) error {
	req, err := http.NewRequestWithContext(ctx, "POST", fmt.Sprintf("http://127.0.0.1:%d/snowsim/exec", p.port), strings.NewReader(text))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s", strings.TrimSpace(string(body)))
	}
	return nil
}

func (p *snowsimProcess) Close() {
	p.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
		<-done
	}
}
