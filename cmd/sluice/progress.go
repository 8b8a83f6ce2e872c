package main

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/hockeystack/sluice/engine"
	"github.com/hockeystack/sluice/engine/exec"
)

// progress reports a run: on a terminal, one line redrawn in place with
// rows, rows/s, windows done and left and an ETA; elsewhere a line per
// window (and the JSON log at info level), for logs and CI.
type progress struct {
	e        *env
	tty      bool
	stream   string
	total    int
	finished int
	rows     int64
	start    time.Time
}

func newProgress(e *env) *progress {
	p := &progress{e: e, start: time.Now()}
	if f, ok := e.stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.tty = true
	}
	return p
}

// logLevel is the JSON log's level on stderr: on a terminal the bar says
// what info logs would; elsewhere every window is logged, structured, with
// pipeline, stream, window and rows.
func (p *progress) logLevel() slog.Level {
	if p.tty {
		return slog.LevelWarn
	}
	return slog.LevelInfo
}

func (p *progress) planned(stream string, windows int) {
	p.clear()
	p.stream, p.total, p.finished = stream, windows, 0
	if windows == 0 && !p.tty {
		fmt.Fprintf(p.e.stdout, "%s: up to date\n", stream)
	}
}

func (p *progress) window(stream string, w exec.Slot, rows int64, err error) {
	p.finished++
	p.rows += rows
	if !p.tty {
		label := "full"
		if !w.Start.Equal(w.End) {
			label = engine.Window{Start: w.Start, End: w.End}.String()
		}
		if err != nil {
			fmt.Fprintf(p.e.stdout, "%s %s: failed\n", stream, label)
			return
		}
		fmt.Fprintf(p.e.stdout, "%s %s: %d rows\n", stream, label, rows)
		return
	}
	elapsed := time.Since(p.start)
	rate := float64(p.rows) / max(elapsed.Seconds(), 0.001)
	eta := "?"
	if p.finished > 0 && p.total > p.finished {
		per := elapsed / time.Duration(p.finished)
		eta = (per * time.Duration(p.total-p.finished)).Round(time.Second).String()
	} else if p.total <= p.finished {
		eta = "0s"
	}
	fmt.Fprintf(p.e.stdout, "\r\033[K%s: %d/%d windows, %d left, %d rows, %.0f rows/s, ETA %s", stream, p.finished, p.total, p.total-p.finished, p.rows, rate, eta)
}

func (p *progress) clear() {
	if p.tty && p.stream != "" {
		fmt.Fprintln(p.e.stdout)
	}
}

func (p *progress) done() { p.clear(); p.stream = "" }
