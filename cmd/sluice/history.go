package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// runHistory lists a pipeline's runs, newest first.
func runHistory(e *env, args []string) int {
	fs := newFlags(e, "history")
	conns := connectionsFlag(fs)
	statePath := stateFlag(e, fs)
	limit := fs.Int("limit", 50, "runs to show")
	asJSON := fs.Bool("json", false, "print the runs as JSON")
	dirs, err := parseArgs(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(dirs) != 1 || *limit < 1 {
		return usageError(e, fs, "want one pipeline folder and a --limit of at least 1")
	}
	l, st, code := openPipelineState(e, dirs[0], *conns, *statePath, "sluice history")
	if code != exitOK {
		return code
	}
	defer st.Close()
	runs, err := st.Runs(context.Background(), l.Pipeline.Name, *limit)
	if err != nil {
		return e.fail("sluice history", err)
	}
	if *asJSON {
		type run struct {
			ID       int64   `json:"id"`
			Started  string  `json:"started"`
			Finished string  `json:"finished,omitempty"`
			Seconds  float64 `json:"seconds,omitempty"`
			Status   string  `json:"status"`
			Windows  int     `json:"windows"`
			Rows     int64   `json:"rows"`
			Error    string  `json:"error,omitempty"`
		}
		out := []run{}
		for _, r := range runs {
			j := run{ID: r.ID, Started: r.Started.Format(time.RFC3339), Status: r.Status, Windows: r.Windows, Rows: r.Rows, Error: r.Error}
			if !r.Finished.IsZero() {
				j.Finished, j.Seconds = r.Finished.Format(time.RFC3339), r.Finished.Sub(r.Started).Seconds()
			}
			out = append(out, j)
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.Encode(out)
		return exitOK
	}
	fmt.Fprintf(e.stdout, "Runs of %s, newest first\n", l.Pipeline.Name)
	for _, r := range runs {
		took := "running"
		if !r.Finished.IsZero() {
			took = r.Finished.Sub(r.Started).Round(time.Millisecond).String()
		}
		line := fmt.Sprintf("  #%-5d %s  %-9s %10s  %5d windows %10d rows", r.ID, r.Started.Format(time.RFC3339), r.Status, took, r.Windows, r.Rows)
		if r.Error != "" {
			line += "  " + r.Error
		}
		fmt.Fprintln(e.stdout, line)
	}
	return exitOK
}
