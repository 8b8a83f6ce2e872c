package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hockeystack/sluice/engine/config"
	"github.com/hockeystack/sluice/engine/connect"
	"github.com/hockeystack/sluice/engine/diag"
	"github.com/hockeystack/sluice/engine/pipeline"
	"github.com/hockeystack/sluice/engine/plan"
)

// Exit codes, as in Go's own commands.
const (
	exitOK       = 0
	exitProblems = 1 // the input has problems, or the run failed
	exitUsage    = 2
)

// env is what a command sees of its process: arguments, streams and
// environment, so tests run commands in-process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// simulate starts the snowsim that sluice test runs fixtures on: a
	// child process, or in tests one in the test's own process.
	simulate func(*env) (simulator, error)
}

type command struct {
	name    string
	summary string
	usage   string
	run     func(e *env, args []string) int
}

func commands() []command {
	return []command{
		{"init", "write or extend a pipeline folder from live source tables", "sluice init [--connections FILE] --connection NAME --tables DB.SCHEMA.T1,... [--to NAME] [--database D] [--from-clickhouse] [--keep-offset] [--window-rows N] [--record [--limit N]] DIR", runInit},
		{"validate", "check pipeline folders offline", "sluice validate [--connections FILE] DIR...", runValidate},
		{"plan", "show what a pipeline would do", "sluice plan [--connections FILE] [--json] [--live] DIR", runPlan},
		{"dry-run", "sample rows through the real source and mapping, writing nothing", "sluice dry-run [--connections FILE] [--stream S] [--limit N] [--format table|json|csv] DIR", runDryRun},
		{"run", "run a pipeline once: missing windows, then the incremental one", "sluice run [--connections FILE] [--state FILE] [--stream S] DIR", runRun},
		{"backfill", "load (again) every window in a range", "sluice backfill [--connections FILE] [--state FILE] [--stream S] --from DATE [--to DATE] DIR", runBackfill},
		{"test", "run a pipeline's fixture tests offline on snowsim", "sluice test [--connections FILE] [--stream S] [--record [--limit N]] DIR", runTest},
		{"diff", "what a change to pipeline folders does, against a git revision", "sluice diff --base REV [--format markdown|json] [--connections FILE] [DIR...]", runDiff},
		{"verify", "check every committed window against the destination; --repair runs those that differ again", "sluice verify [--connections FILE] [--state FILE] [--stream S] [--repair] DIR", runVerify},
		{"state", "show a pipeline's windows, watermarks and runs", "sluice state [--state FILE] DIR", runState},
		{"history", "list a pipeline's runs", "sluice history [--state FILE] [--limit N] [--json] DIR", runHistory},
		{"serve", "run every pipeline on its schedule until stopped", "sluice serve [--connections FILE] [--state FILE|postgres://...] [--listen ADDR] [--workers N] [--per-connection N] [--grace D] [--window-timeout D] [--retry-after D] [--verify-every D] [--alert-webhook URL] [--alert-behind D] DIR...", runServe},
		{"resume", "let serve run a paused pipeline again", "sluice resume [--state FILE] PIPELINE...", runResume},
		{"version", "print the version", "sluice version", runVersion},
	}
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return (&env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv, simulate: startSnowsimProcess}).main(args)
}

// main runs the command args name.
func (e *env) main(args []string) int {
	defer startProfiles(e.getenv)()
	stdout, stderr := e.stdout, e.stderr
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			for _, c := range commands() {
				if c.name == args[1] {
					fmt.Fprintf(stdout, "usage: %s\n", c.usage)
					return exitOK
				}
			}
		}
		w := stdout
		if len(args) == 0 {
			w = stderr
		}
		printUsage(w)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(e, args[1:])
		}
	}
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	fmt.Fprintf(stderr, "sluice: unknown command %q%s\nRun 'sluice help' for usage.\n", args[0], diag.DidYouMean(args[0], names))
	return exitUsage
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "Sluice moves data between Snowflake and ClickHouse, driven by pipeline folders.")
	fmt.Fprintln(w, "\nUsage:\n\n\tsluice <command> [arguments]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "\t%-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'sluice help <command>' for a command's usage.")
}

// newFlags returns a flag set that prints the command's usage on error.
func newFlags(e *env, c string) *flag.FlagSet {
	fs := flag.NewFlagSet(c, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		for _, cmd := range commands() {
			if cmd.name == c {
				fmt.Fprintf(e.stderr, "usage: %s\n", cmd.usage)
			}
		}
		fs.PrintDefaults()
	}
	return fs
}

// parseArgs parses flags anywhere among the arguments, so that both
// `sluice plan --json DIR` and `sluice plan DIR --json` work.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// fail reports err, after prefix, and returns the problems exit code.
func (e *env) fail(prefix string, err error) int {
	fmt.Fprintf(e.stderr, "%s: %v\n", prefix, err)
	return exitProblems
}

// usageError reports a usage problem and returns the usage exit code.
func usageError(e *env, fs *flag.FlagSet, format string, args ...any) int {
	fmt.Fprintf(e.stderr, "sluice %s: %s\n", fs.Name(), fmt.Sprintf(format, args...))
	fs.Usage()
	return exitUsage
}

// connectionsFlag adds --connections to a flag set.
func connectionsFlag(fs *flag.FlagSet) *string {
	return fs.String("connections", "", "connections `file` (default $SLUICE_CONNECTIONS, else the nearest "+config.ConnectionsFileName+" in the pipeline folder or above it)")
}

// loaded is a pipeline folder loaded with its connections.
type loaded = pipeline.Folder

// load loads the connections file for dir and then the pipeline folder.
func load(e *env, dir, connectionsPath string) loaded {
	return pipeline.Load(dir, connectionsPath, e.getenv)
}

// report renders diagnostics and a one-line summary to stderr.
func report(e *env, ds diag.Diagnostics, src diag.Sources) {
	diag.Render(e.stderr, ds, src)
}

// errorSummary counts errors and warnings: "3 errors, 1 warning".
func errorSummary(ds diag.Diagnostics) string {
	errs := ds.Errors()
	warns := len(ds) - errs
	var parts []string
	if errs > 0 {
		parts = append(parts, fmt.Sprintf("%d error%s", errs, plural(errs)))
	}
	if warns > 0 {
		parts = append(parts, fmt.Sprintf("%d warning%s", warns, plural(warns)))
	}
	return strings.Join(parts, ", ")
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func runVersion(e *env, args []string) int {
	fmt.Fprintln(e.stdout, "sluice", version())
	return exitOK
}

// liveStreams narrows a loaded pipeline to one stream when only is set,
// connects to its databases and plans it against the live catalogs (see
// pipeline.Live). It reports problems itself and returns a non-zero exit
// code with them; the caller closes the links.
func liveStreams(ctx context.Context, e *env, l *loaded, dir, only string) (*connect.Links, *plan.Plan, int) {
	k, p, _, code := liveStreamsWhy(ctx, e, l, dir, only)
	return k, p, code
}

// liveStreamsWhy is liveStreams that also returns, when it fails, the
// first error as one line (for the run history).
func liveStreamsWhy(ctx context.Context, e *env, l *loaded, dir, only string) (*connect.Links, *plan.Plan, error, int) {
	if l.Diags.HasErrors() {
		report(e, l.Diags, l.Sources)
		fmt.Fprintf(e.stderr, "%s: %s\n", dir, errorSummary(l.Diags))
		return nil, nil, l.Diags.First(), exitProblems
	}
	if err := l.Only(only); err != nil {
		fmt.Fprintf(e.stderr, "sluice: %v in %s\n", err, dir)
		return nil, nil, err, exitUsage
	}
	k, p, ds := pipeline.Live(ctx, *l, linkOptions(e))
	all := append(l.Diags, ds...).Sort()
	report(e, all, l.Sources)
	if ds.HasErrors() {
		fmt.Fprintf(e.stderr, "%s: %s\n", dir, errorSummary(all))
		return nil, nil, ds.First(), exitProblems
	}
	return k, p, nil, exitOK
}
