package main

import (
	"context"
	"fmt"

	"github.com/hockeystack/sluice/engine/ddl"
	"github.com/hockeystack/sluice/engine/plan"
)

// runPlan compiles a pipeline folder into a plan and prints it, as text
// for people or as versioned JSON for tools.
func runPlan(e *env, args []string) int {
	fs := newFlags(e, "plan")
	conns := connectionsFlag(fs)
	asJSON := fs.Bool("json", false, "print the plan as JSON")
	chVersion := fs.String("clickhouse-version", "", "ClickHouse `version` to write DDL for when no live server is read (default: current)")
	live := fs.Bool("live", false, "read live schemas through the connections (needs their credentials)")
	dirs, err := parseArgs(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(dirs) != 1 {
		return usageError(e, fs, "want exactly one pipeline folder, got %d", len(dirs))
	}
	opts := plan.Options{}
	if *chVersion != "" {
		v, err := ddl.ParseClickHouseVersion(*chVersion)
		if err != nil {
			return usageError(e, fs, "%v", err)
		}
		opts.ClickHouse = v
	}
	l := load(e, dirs[0], *conns)
	if l.Diags.HasErrors() {
		report(e, l.Diags, l.Sources)
		fmt.Fprintf(e.stderr, "%s: %s\n", dirs[0], errorSummary(l.Diags))
		return exitProblems
	}
	opts.Connections = l.Connections
	ctx := context.Background()
	if *live {
		k := openLinks(ctx, e, l)
		defer k.Close()
		opts.Catalogs = k.Catalogs()
	}
	p, ds := plan.Compile(ctx, l.Pipeline, opts)
	all := append(l.Diags, ds...).Sort()
	report(e, all, l.Sources)
	if ds.HasErrors() {
		fmt.Fprintf(e.stderr, "%s: %s\n", dirs[0], errorSummary(all))
		return exitProblems
	}
	if *asJSON {
		err = p.WriteJSON(e.stdout)
	} else {
		err = p.WriteText(e.stdout)
	}
	if err != nil {
		return e.fail("sluice plan", err)
	}
	return exitOK
}
