package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/hockeystack/sluice/engine"
	"github.com/hockeystack/sluice/engine/connect"
	"github.com/hockeystack/sluice/engine/exec"
	"github.com/hockeystack/sluice/engine/plan"
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
	var old *basePipeline
	if *baseRev != "" {
		if old, err = loadBase(e, dirs[0], *conns, *baseRev); err != nil {
			fmt.Fprintf(e.stderr, "sluice dry-run: %v\n", err)
			return exitProblems
		}
		defer old.close()
	}
	samples := []sample{}
	for _, ps := range pl.Streams {
		if err := k.Err(ps.Source.Connection); err != nil {
			fmt.Fprintf(e.stderr, "sluice: stream %s: %v\n", ps.Name, err)
			return exitProblems
		}
		if why := ps.Source.Pending; why != "" {
			// Nothing to sample yet; the rest of the sample goes on.
			samples = append(samples, sample{Stream: ps.Name, Table: ps.Destination.Table, Mode: ps.Destination.Mode,
				Exists: ps.Destination.Exists, Note: "not sampled: its source " + why + "; run the pipeline, then dry-run again"})
			continue
		}
		smp, err := sampleStream(ctx, k, ps, *limit, old)
		if err != nil {
			fmt.Fprintf(e.stderr, "sluice: %v\n", err)
			return exitProblems
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
		err = writeCSV(e.stdout, samples)
	default:
		err = writeTable(e.stdout, samples)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "sluice: %v\n", err)
		return exitProblems
	}
	return exitOK
}

// sample is one stream's dry run.
type sample struct {
	Stream  string     `json:"stream"`
	Table   string     `json:"table"`
	Mode    string     `json:"mode"`
	Exists  string     `json:"table_exists"`
	Window  string     `json:"window"`
	Columns []string   `json:"columns"`
	Types   []string   `json:"types"`
	Rows    [][]string `json:"rows"`
	Read    int64      `json:"rows_read"`
	Note    string     `json:"note"`
	// Base is the same sample through the mapping at --base.
	Base *baseSample `json:"base,omitempty"`
}

func sampleStream(ctx context.Context, k *connect.Links, ps *plan.Stream, limit int, old *basePipeline) (sample, error) {
	smp := sample{Stream: ps.Name, Table: ps.Destination.Table, Mode: ps.Destination.Mode, Exists: ps.Destination.Exists}
	batches, w, err := readSample(ctx, k, ps, limit)
	if err != nil {
		return smp, err
	}
	defer exec.Release(batches)
	smp.Window = w.String()
	for _, c := range ps.Columns {
		smp.Columns = append(smp.Columns, c.Name)
		smp.Types = append(smp.Types, c.Type)
	}
	for _, b := range batches {
		smp.Read += b.NumRows()
	}
	if smp.Rows, err = mapSample(ps, batches, w); err != nil {
		return smp, err
	}
	smp.Note = fmt.Sprintf("would %s %s; %d rows read, %d after the filter; nothing written", verb(smp.Mode), smp.Table, smp.Read, len(smp.Rows))
	if old != nil {
		if smp.Base, err = old.sample(ctx, k, ps, batches, w, limit); err != nil {
			return smp, err
		}
	}
	return smp, nil
}

// readSample reads up to limit rows of a stream's source, over the whole
// span of an incremental stream.
func readSample(ctx context.Context, k *connect.Links, ps *plan.Stream, limit int) ([]arrow.RecordBatch, engine.Window, error) {
	src, err := k.Conn(ps.Source.Connection)
	if err != nil {
		return nil, engine.Window{}, fmt.Errorf("stream %s: %w", ps.Name, err)
	}
	return exec.ReadSample(ctx, ps, src.Source(), limit, time.Now())
}

// mapSample applies a stream's mapping and filter to sampled batches and
// renders the rows.
func mapSample(ps *plan.Stream, batches []arrow.RecordBatch, w engine.Window) ([][]string, error) {
	rr, err := array.NewRecordReader(batches[0].Schema(), batches)
	if err != nil {
		return nil, err
	}
	defer rr.Release()
	mapped, err := exec.MapRows(ps, rr, w)
	if err != nil {
		return nil, err
	}
	rows := make([][]string, len(mapped))
	for i, m := range mapped {
		rows[i] = make([]string, len(m))
		for c, v := range m {
			rows[i][c] = "NULL"
			if v != nil {
				rows[i][c] = *v
			}
		}
	}
	return rows, nil
}

func verb(mode string) string {
	switch mode {
	case "upsert":
		return "upsert into"
	case "replace":
		return "replace"
	case "merge":
		return "merge into"
	}
	return "append window by window to"
}

func writeTable(w io.Writer, samples []sample) error {
	var b strings.Builder
	for i, s := range samples {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "Stream %s -> %s (%s), sample of %s\n", s.Stream, s.Table, s.Mode, s.Window)
		if s.Base != nil {
			writeSideBySide(&b, s)
			continue
		}
		head := make([]string, len(s.Columns))
		for c := range head {
			head[c] = s.Columns[c] + " " + s.Types[c]
		}
		writeGrid(&b, append([][]string{head}, s.Rows...))
		fmt.Fprintf(&b, "%s\n", s.Note)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeGrid writes rows as aligned columns separated by " | ".
func writeGrid(b *strings.Builder, rows [][]string) {
	var widths []int
	for _, r := range rows {
		for c, v := range r {
			if c == len(widths) {
				widths = append(widths, 0)
			}
			widths[c] = max(widths[c], len([]rune(v)))
		}
	}
	for _, r := range rows {
		for c, v := range r {
			if c > 0 {
				b.WriteString(" | ")
			}
			b.WriteString(v + strings.Repeat(" ", widths[c]-len([]rune(v))))
		}
		b.WriteString("\n")
	}
}

func writeCSV(w io.Writer, samples []sample) error {
	cw := csv.NewWriter(w)
	for _, s := range samples {
		cw.Write(append([]string{"stream"}, s.Columns...))
		for _, r := range s.Rows {
			cw.Write(append([]string{s.Stream}, r...))
		}
	}
	cw.Flush()
	return cw.Error()
}
