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
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/hockeystack/sluice/engine"
	"github.com/hockeystack/sluice/engine/config"
	"github.com/hockeystack/sluice/engine/exec"
	"github.com/hockeystack/sluice/engine/plan"
	"github.com/hockeystack/sluice/engine/transform"
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
	defer k.close()
	streams := l.pipeline.Streams
	samples := []sample{}
	for i, s := range streams {
		if err := k.need(s.Source.Connection); err != nil {
			fmt.Fprintf(e.stderr, "sluice: stream %s: %v\n", s.Name, err)
			return exitProblems
		}
		smp, err := sampleStream(ctx, k, l.pipeline, s, pl.Streams[i], *limit)
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
}

func sampleStream(ctx context.Context, k *links, p *config.Pipeline, s *config.Stream, ps *plan.Stream, limit int) (sample, error) {
	smp := sample{Stream: s.Name, Table: ps.Destination.Table, Mode: ps.Destination.Mode, Exists: ps.Destination.Exists, Window: "full"}
	read := engine.Read{SQL: "SELECT * FROM (\n" + strings.TrimRight(strings.TrimSpace(s.Source.SQL), ";") + "\n) LIMIT " + fmt.Sprint(limit), Params: map[string]any{}}
	if inc := s.Incremental; inc != nil {
		now := time.Now()
		read.Params[config.WindowStart] = inc.Start
		read.Params[config.WindowEnd] = now
		smp.Window = engine.Window{Start: inc.Start, End: now}.String()
	}
	tag, _ := json.Marshal(map[string]string{"app": "sluice", "pipeline": p.Name, "stream": s.Name, "window": "dry-run"})
	read.Tag = string(tag)
	rr, err := k.source(s.Source.Connection).Read(ctx, read)
	if err != nil {
		return smp, fmt.Errorf("stream %s: reading a sample: %w", s.Name, err)
	}
	defer rr.Release()
	var latest map[string]time.Time
	if s.Direction == config.Pull {
		latest = serverVersion(ps).Latest()
	}
	cols := exec.Columns(s, latest)
	for i, c := range s.Columns {
		smp.Columns = append(smp.Columns, c.Name)
		smp.Types = append(smp.Types, ps.Columns[i].Type)
	}
	filter := ""
	if s.Filter != nil {
		filter = s.Filter.Text
	}
	prog, err := transform.Compile(rr.Schema(), cols, filter)
	if err != nil {
		return smp, fmt.Errorf("stream %s: %w", s.Name, err)
	}
	where := transform.Where{Stream: s.Name, Window: smp.Window}
	for rr.Next() {
		rec := rr.RecordBatch()
		out, err := prog.Apply(memory.DefaultAllocator, rec, where)
		where.Row += rec.NumRows()
		smp.Read += rec.NumRows()
		if err != nil {
			return smp, err
		}
		for i := 0; i < int(out.NumRows()); i++ {
			row := make([]string, out.NumCols())
			for c := range row {
				row[c] = cell(out.Column(c), i)
			}
			smp.Rows = append(smp.Rows, row)
		}
		out.Release()
	}
	if err := rr.Err(); err != nil {
		return smp, err
	}
	smp.Note = fmt.Sprintf("would %s %s; %d rows read, %d after the filter; nothing written", verb(smp.Mode), smp.Table, smp.Read, len(smp.Rows))
	return smp, nil
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

// cell renders a value as a person reads it: NULL for nulls, timestamps
// in RFC 3339.
func cell(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return "NULL"
	}
	return a.ValueStr(i)
}

func writeTable(w io.Writer, samples []sample) error {
	var b strings.Builder
	for i, s := range samples {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "Stream %s -> %s (%s), sample of %s\n", s.Stream, s.Table, s.Mode, s.Window)
		head := make([]string, len(s.Columns))
		for c := range head {
			head[c] = s.Columns[c] + " " + s.Types[c]
		}
		rows := append([][]string{head}, s.Rows...)
		widths := make([]int, len(head))
		for _, r := range rows {
			for c, v := range r {
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
		fmt.Fprintf(&b, "%s\n", s.Note)
	}
	_, err := io.WriteString(w, b.String())
	return err
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
