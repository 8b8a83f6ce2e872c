package serve

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// fleetStatus is the status of n pipelines of one stream each, with
// strips of 120 windows; every tenth is behind, every 50th paused.
func fleetStatus(n int) *Status {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	st := &Status{Generated: now}
	for i := range n {
		p := PipelineStatus{Name: fmt.Sprintf("customer_%04d", i), Schedule: "0 3 * * * (UTC)", Health: "fresh"}
		s := StreamStatus{Name: "events", Watermark: now.Add(-time.Hour), Health: "fresh", Windows: map[string]int{"committed": 120}}
		for w := range 120 {
			start := now.AddDate(0, 0, w-120)
			s.Strip = append(s.Strip, Cell{Start: start, End: start.AddDate(0, 0, 1), State: "committed", Rows: 1000})
		}
		if i%10 == 0 {
			s.Health, p.Health = "behind", "behind"
		}
		if i%50 == 0 {
			p.Health = "paused"
			p.Paused = &Paused{Reason: "credentials rejected", Since: now, Resume: "sluice resume " + p.Name}
		}
		p.Streams = []StreamStatus{s}
		st.Pipelines = append(st.Pipelines, p)
	}
	return st
}

func TestStatusFilterAndPages(t *testing.T) {
	st := fleetStatus(500)
	st.Filter("", 1, 50)
	if st.Total != 500 || st.Pages != 10 || len(st.Pipelines) != 50 || st.Pipelines[0].Health != "paused" || st.Counts["paused"] != 10 || st.Counts["behind"] != 40 {
		t.Errorf("page 1: total %d, pages %d, %d shown, first %s, counts %v", st.Total, st.Pages, len(st.Pipelines), st.Pipelines[0].Health, st.Counts)
	}
	st = fleetStatus(500)
	st.Filter("behind", 2, 30)
	if len(st.Pipelines) != 10 || st.Page != 2 || st.Pipelines[0].Health != "behind" {
		t.Errorf("behind, page 2 of 30 a page: %d shown, page %d", len(st.Pipelines), st.Page)
	}
	var b strings.Builder
	if err := st.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "page 2 of 2") || !strings.Contains(b.String(), `href="/?page=1&amp;q=behind"`) {
		t.Errorf("page links:\n%.2000s", b.String())
	}
}

// BenchmarkStatusPage renders the first page of 500 pipelines, as / does
// once the state is read.
func BenchmarkStatusPage(b *testing.B) {
	for b.Loop() {
		st := fleetStatus(500)
		st.Filter("", 1, 50)
		if err := st.WriteHTML(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
