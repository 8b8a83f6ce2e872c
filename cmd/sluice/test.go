package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/hockeystack/sluice/engine/diag"
	"github.com/hockeystack/sluice/engine/fixture"
)

// simulator is a running snowsim that fixture tests seed and read.
type simulator = fixture.Simulator

// startSnowsimProcess starts snowsim ($SLUICE_SNOWSIM, beside the sluice
// binary, or on PATH) as a child process. Sluice itself never links DuckDB.
func startSnowsimProcess(e *env) (simulator, error) {
	return fixture.StartSnowsim(e.getenv("SLUICE_SNOWSIM"))
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
	if l.Diags.HasErrors() {
		report(e, l.Diags, l.Sources)
		fmt.Fprintf(e.stderr, "%s: %s\n", dirs[0], errorSummary(l.Diags))
		return exitProblems
	}
	if *rec {
		if *only == "" || *limit < 1 {
			return usageError(e, fs, "--record needs --stream and a --limit of at least 1")
		}
		return record(e, l, dirs[0], *only, *limit)
	}
	fixtures, checked, err := fixture.LoadDir(dirs[0], *only)
	report(e, checked.Diags, checked.Sources)
	switch {
	case err != nil:
		return e.fail("sluice test", err)
	case checked.File != "":
		own := slices.DeleteFunc(slices.Clone(checked.Diags), func(d diag.Diagnostic) bool { return d.Pos.File != checked.File })
		fmt.Fprintf(e.stderr, "%s: %s\n", checked.File, errorSummary(own))
		return exitProblems
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
		return e.fail("sluice test: starting snowsim", err)
	}
	defer sim.Close()
	failed := 0
	for _, fx := range fixtures {
		name, _ := filepath.Rel(dirs[0], fx.Path)
		diffs, rows, err := fixture.Run(ctx, sim, l.Pipeline, l.Connections, fx)
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
