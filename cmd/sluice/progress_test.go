package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/hockeystack/sluice/engine/exec"
)

func TestProgressOnATerminal(t *testing.T) {
	var out bytes.Buffer
	p := &progress{e: &env{stdout: &out}, tty: true, start: time.Now().Add(-2 * time.Second)}
	p.planned("contacts", 4)
	w := exec.Slot{Start: time.Unix(0, 0), End: time.Unix(3600, 0), Complete: true}
	p.window("contacts", w, 1000, nil)
	p.window("contacts", w, 1000, nil)
	p.done()
	got := out.String()
	for _, want := range []string{"\r\x1b[Kcontacts: 1/4 windows, 3 left, 1000 rows", "\r\x1b[Kcontacts: 2/4 windows, 2 left, 2000 rows", "rows/s, ETA "} {
		if !strings.Contains(got, want) {
			t.Errorf("progress output lacks %q: %q", want, got)
		}
	}
	if !strings.HasSuffix(got, "\n") {
		t.Errorf("the bar is not ended by a newline: %q", got)
	}
}
