// Package pipeline turns a pipeline folder and its connections into
// streams ready to run: it loads the folder with the connections file it
// names or sits under, connects to the databases its streams use, plans
// them against the live catalogs and wires the plan to sources and sinks.
// run, serve, dry-run, verify and sluice test all start here, so a stream
// runs the same way whichever command runs it.
package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/hockeystack/sluice/engine"
	"github.com/hockeystack/sluice/engine/config"
	"github.com/hockeystack/sluice/engine/connect"
	"github.com/hockeystack/sluice/engine/diag"
	"github.com/hockeystack/sluice/engine/plan"
)

// Folder is a pipeline folder loaded with its connections, and the
// problems found on the way. Pipeline is never nil; its Name is "" when
// the folder could not be read far enough to name it.
type Folder struct {
	Pipeline    *config.Pipeline
	Connections *config.Connections
	Diags       diag.Diagnostics
	Sources     diag.Sources
}

// Load loads the connections file for dir and then the pipeline folder
// dir. The file is named by flag, else by $SLUICE_CONNECTIONS, else it is
// the nearest connections.yaml in dir or above it; one found that way
// must not lead out of its own folder.
func Load(dir, flag string, getenv func(string) string) Folder {
	path := config.FindConnections(flag, getenv("SLUICE_CONNECTIONS"), dir)
	within := ""
	if path != "" && flag == "" && getenv("SLUICE_CONNECTIONS") == "" {
		within = filepath.Dir(path)
	}
	return LoadWith(dir, path, within)
}

// LoadWith loads the connections file at path, which must stay inside
// within unless that is "", and then the pipeline folder dir.
func LoadWith(dir, path, within string) Folder {
	var out Folder
	out.Sources = diag.Sources{}
	if path == "" {
		// One root cause, one error: without connections every stream's
		// direction and every type's dialect are unknown.
		abs, _ := filepath.Abs(dir)
		out.Diags.Errorf(diag.Pos{File: dir}, 0, "no connections file: pass --connections, set SLUICE_CONNECTIONS, or put %s in %s or a folder above it (looked in every one up to /)", config.ConnectionsFileName, abs)
		out.Pipeline = &config.Pipeline{}
		return out
	}
	conns, src, ds := config.LoadConnections(path, config.ConnectionsOptions{Within: within})
	out.Connections = conns
	out.Diags.Add(ds...)
	for k, v := range src {
		out.Sources[k] = v
	}
	p, ds := config.Load(dir, config.Options{Connections: out.Connections})
	out.Pipeline = p
	out.Diags.Add(ds...)
	for k, v := range p.Files {
		out.Sources[k] = v
	}
	out.Diags = out.Diags.Sort()
	return out
}

// Only narrows f to the stream named only ("" keeps every stream).
func (f *Folder) Only(only string) error {
	var streams []*config.Stream
	for _, s := range f.Pipeline.Streams {
		if only == "" || s.Name == only {
			streams = append(streams, s)
		}
	}
	if len(streams) == 0 {
		return fmt.Errorf("no stream %s", only)
	}
	p := *f.Pipeline
	p.Streams = streams
	f.Pipeline = &p
	return nil
}

// Open connects to every connection f's streams use.
func (f Folder) Open(ctx context.Context, opts connect.Options) *connect.Links {
	return connect.Pipeline(ctx, f.Pipeline, f.Connections, opts)
}

// Live connects to f's databases and plans its streams against the live
// catalogs, so that a destination that does not accept the rows (a
// missing table or column, a type too narrow) stops before any row moves.
// It returns the plan's own diagnostics; with errors among them (or in
// f's) the links are closed and nil. The caller closes the links.
func Live(ctx context.Context, f Folder, opts connect.Options) (*connect.Links, *plan.Plan, diag.Diagnostics) {
	if f.Diags.HasErrors() {
		return nil, nil, nil
	}
	k := f.Open(ctx, opts)
	p, ds := plan.Compile(ctx, f.Pipeline, plan.Options{Connections: f.Connections, Catalogs: k.Catalogs()})
	if ds.HasErrors() {
		k.Close()
		return nil, nil, ds
	}
	return k, p, ds
}

// Options are how a process opens connections: secrets from its
// environment, $SLUICE_BULK_ROWS for pushes, and the crash hook of
// $SLUICE_TEST_CRASH.
func Options(getenv func(string) string) connect.Options {
	o := connect.Options{Getenv: getenv, Hook: CrashHook(getenv("SLUICE_TEST_CRASH"))}
	fmt.Sscan(getenv("SLUICE_BULK_ROWS"), &o.BulkRows)
	return o
}

// CrashHook reads a SLUICE_TEST_CRASH spec, point:n, a test facility:
// the process kills itself (SIGKILL, no cleanup) the n-th time it
// reaches point, so tests can check that a run after a crash anywhere
// inside a window ends with exact results. "" is no hook.
func CrashHook(spec string) engine.Hook {
	if spec == "" {
		return nil
	}
	point, nth, _ := strings.Cut(spec, ":")
	want := 1
	fmt.Sscan(nth, &want)
	seen := 0
	return func(p engine.HookPoint) error {
		if string(p) != point {
			return nil
		}
		if seen++; seen == want {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
		return nil
	}
}

// Folders are the pipeline folders args name: each argument that holds a
// pipeline file, else every folder below it that does, sorted.
func Folders(args []string) []string {
	var out []string
	for _, a := range args {
		if _, err := os.Stat(filepath.Join(a, config.PipelineFileName)); err == nil {
			out = append(out, a)
			continue
		}
		filepath.WalkDir(a, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && d.Name() == config.PipelineFileName {
				out = append(out, filepath.Dir(p))
			}
			return nil
		})
	}
	return slices.Compact(slices.Sorted(slices.Values(out)))
}
