package main

import (
	"fmt"
)

// runValidate loads and checks pipeline folders offline: every problem of
// every folder, as file:line:col with a snippet.
func runValidate(e *env, args []string) int {
	fs := newFlags(e, "validate")
	conns := connectionsFlag(fs)
	dirs, err := parseArgs(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(dirs) == 0 {
		return usageError(e, fs, "no pipeline folders given")
	}
	code := exitOK
	for _, dir := range dirs {
		l := load(e, dir, *conns)
		report(e, l.Diags, l.Sources)
		if l.Diags.HasErrors() {
			fmt.Fprintf(e.stderr, "%s: %s\n", dir, errorSummary(l.Diags))
			code = exitProblems
			continue
		}
		n := len(l.Pipeline.Streams)
		fmt.Fprintf(e.stdout, "%s: ok (%d stream%s)\n", dir, n, plural(n))
	}
	return code
}
