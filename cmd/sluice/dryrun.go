package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hockeystack/sluice/engine/config"
	"github.com/hockeystack/sluice/engine/plan"
	"github.com/hockeystack/sluice/engine/preview"
)

// runDryRun reads a sample through the real source and mapping, checks the
// live destination, and prints what would be written. It writes nothing:
// no table, no row, no state.
func runDryRun(e *env, args []string) int {
	fs := newFlags(e, "dry-run")
	conns := connectionsFlag(fs)
	only := fs.String("stream", "", "sample only this `stream`")
	limit := fs.Int("limit", 10, "rows to sample per stream")
	format := fs.String("format", "table", "output `format`: table, json or csv")
	baseRev := fs.String("base", "", "also map the sample as the folder was at git `revision`, side by side")
	dirs, err := parseArgs(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(dirs) != 1 {
		return usageError(e, fs, "want exactly one pipeline folder")
	}
	if *format != "table" && *format != "json" && *format != "csv" {
		return usageError(e, fs, "--format must be table, json or csv")
	}
	if *limit < 1 {
		return usageError(e, fs, "--limit must be at least 1")
	}
	l := load(e, dirs[0], *conns)
	ctx := context.Background()
	// The plan reads the live schemas and checks the destination tables.
	k, pl, code := liveStreams(ctx, e, &l, dirs[0], *only)
	if code != exitOK {
		return code
	}
	defer k.Close()
	var old *preview.Base
	if *baseRev != "" {
		connsFile := config.FindConnections(*conns, e.getenv("SLUICE_CONNECTIONS"), dirs[0])
		compile := func(dir, connsFile string) *plan.Plan { return compileOffline(e, dir, connsFile) }
		if old, err = preview.LoadBase(dirs[0], connsFile, *baseRev, compile); err != nil {
			return e.fail("sluice dry-run", err)
		}
		defer old.Close()
	}
	samples := []preview.Sample{}
	for _, ps := range pl.Streams {
		if err := k.Err(ps.Source.Connection); err != nil {
			fmt.Fprintf(e.stderr, "sluice: stream %s: %v\n", ps.Name, err)
			return exitProblems
		}
		if why := ps.Source.Pending; why != "" {
			// Nothing to sample yet; the rest of the sample goes on.
			samples = append(samples, preview.Sample{Stream: ps.Name, Table: ps.Destination.Table, Mode: ps.Destination.Mode,
				Exists: ps.Destination.Exists, Note: "not sampled: its source " + why + "; run the pipeline, then dry-run again"})
			continue
		}
		smp, err := preview.Stream(ctx, k, ps, *limit, old)
		if err != nil {
			return e.fail("sluice", err)
		}
		samples = append(samples, smp)
	}
	switch *format {
	case "json":
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		err = enc.Encode(samples)
	case "csv":
		err = preview.WriteCSV(e.stdout, samples)
	default:
		err = preview.WriteTable(e.stdout, samples)
	}
	if err != nil {
		return e.fail("sluice", err)
	}
	return exitOK
}
