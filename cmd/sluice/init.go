package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/hockeystack/sluice/engine/config"
	"github.com/hockeystack/sluice/engine/connect"
	"github.com/hockeystack/sluice/engine/ddl"
	"github.com/hockeystack/sluice/engine/pipeline"
	"github.com/hockeystack/sluice/engine/scaffold"
)

// runInit writes (or extends) a pipeline folder from live source tables:
// it gathers each table's facts through the catalogs, lets
// engine/scaffold propose the streams and merge them into the folder,
// and writes the files.
func runInit(e *env, args []string) int {
	fs := newFlags(e, "init")
	conns := connectionsFlag(fs)
	from := fs.String("connection", "", "the source connection `name`")
	tables := fs.String("tables", "", "source tables, comma-separated: DB.SCHEMA.TABLE (Snowflake; quote a part as \"My Table\") or db.table (ClickHouse)")
	to := fs.String("to", "", "the destination connection `name` (default: the only connection of the other kind)")
	database := fs.String("database", "", "destination database (ClickHouse) or DATABASE.SCHEMA (Snowflake) for the tables")
	push := fs.Bool("from-clickhouse", false, "the tables are ClickHouse tables pushed into Snowflake")
	offset := fs.Bool("keep-offset", false, "for each TIMESTAMP_TZ column, also keep its UTC offset in minutes")
	target := fs.Int64("window-rows", 1_000_000, "rows a window should hold at most, at the table's average rate")
	rec := fs.Bool("record", false, "also record a fixture test (tests/<stream>.yaml) for each new pull stream, as sluice test --record does")
	limit := fs.Int("limit", 20, "rows to sample from each source table with --record")
	dirs, err := parseArgs(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(dirs) != 1 {
		return usageError(e, fs, "want exactly one pipeline folder, got %d", len(dirs))
	}
	if *from == "" || *tables == "" {
		return usageError(e, fs, "--connection and --tables are required")
	}
	dir := dirs[0]
	cpath := config.FindConnections(*conns, e.getenv("SLUICE_CONNECTIONS"), dir)
	if cpath == "" {
		fmt.Fprintf(e.stderr, "sluice init: no connections file: pass --connections, set SLUICE_CONNECTIONS, or put %s in %s or a folder above it\n", config.ConnectionsFileName, dir)
		return exitProblems
	}
	cs, src, ds := config.LoadConnections(cpath, config.ConnectionsOptions{})
	if ds.HasErrors() {
		report(e, ds, src)
		return exitProblems
	}
	srcKind, dstKind := config.Snowflake, config.ClickHouse
	if *push {
		srcKind, dstKind = dstKind, srcKind
	}
	sc := cs.Get(*from)
	if sc == nil || sc.Kind != srcKind {
		return usageError(e, fs, "--connection %s is not a %s connection of %s", *from, srcKind, cpath)
	}
	if *to == "" {
		for _, n := range cs.Names() {
			if c := cs.Get(n); c.Kind == dstKind {
				if *to != "" {
					return usageError(e, fs, "%s has more than one %s connection: name one with --to", cpath, dstKind)
				}
				*to = n
			}
		}
	}
	dc := cs.Get(*to)
	if dc == nil || dc.Kind != dstKind {
		return usageError(e, fs, "--to %q is not a %s connection of %s", *to, dstKind, cpath)
	}
	def := scaffold.TableName{Database: strings.ToUpper(sc.Database), Schema: strings.ToUpper(sc.Schema)}
	if *push {
		def = scaffold.TableName{Database: sc.Database}
		if def.Database == "" {
			def.Database = "default"
		}
	} else if def.Schema == "" {
		def.Schema = "PUBLIC"
	}
	names, err := scaffold.ParseTables(*tables, *push, def)
	if err != nil {
		return usageError(e, fs, "%v", err)
	}

	ctx := context.Background()
	k := connect.New(linkOptions(e))
	defer k.Close()
	for _, c := range []*config.Connection{sc, dc} {
		k.Open(ctx, c)
		if err := k.Err(c.Name); err != nil {
			fmt.Fprintf(e.stderr, "sluice init: connection %s: %v\n", c.Name, err)
			return exitProblems
		}
	}
	o := scaffold.Options{Push: *push, Source: sc.Name, Destination: dc.Name, Database: *database, KeepOffset: *offset, TargetRows: *target}
	if !*push {
		// The destination server's version decides the types.
		_, v, err := k.Catalogs()[dc.Name].Server(ctx)
		if err != nil {
			fmt.Fprintf(e.stderr, "sluice init: connection %s: %v\n", dc.Name, err)
			return exitProblems
		}
		if o.ClickHouse, err = ddl.ParseClickHouseVersion(v); err != nil {
			fmt.Fprintf(e.stderr, "sluice init: connection %s: %v\n", dc.Name, err)
			return exitProblems
		}
		o.Server = "ClickHouse " + v + " (" + dc.Name + ", read live)"
	}

	f, err := scaffold.Extend(dir, names, o, func(n scaffold.TableName) (scaffold.Table, error) { return k.TableFacts(ctx, sc.Name, n) })
	if err != nil {
		return e.fail("sluice init", err)
	}
	if len(f.Changes) == 0 {
		fmt.Fprintf(e.stdout, "%s: nothing to add\n", dir)
		return exitOK
	}
	if err := f.Write(dir); err != nil {
		return e.fail("sluice init", err)
	}
	for _, c := range f.Changes {
		fmt.Fprintf(e.stdout, "%s: %s\n", dir, c)
	}
	fmt.Fprintf(e.stdout, "next: read the CHECK comments in %s, then sluice validate %s and sluice plan --live %s\n", filepath.Join(dir, config.PipelineFileName), dir, dir)
	if !*rec || *push {
		return exitOK
	}
	code := exitOK
	l := pipeline.LoadWith(dir, cpath, "")
	if l.Diags.HasErrors() {
		report(e, l.Diags, l.Sources)
		return exitProblems
	}
	for _, s := range f.Added {
		if exists(filepath.Join(dir, "tests", s+".yaml")) {
			continue
		}
		if c := record(e, l, dir, s, *limit); c != exitOK {
			code = exitProblems
		}
	}
	return code
}
