package serve

import (
	"embed"
	"html/template"
	"io"
	"sort"
	"strings"
	"time"
)

// Status is what `sluice serve` shows at / and /api/status: every
// pipeline it serves, with its streams' freshness, failures, drift and a
// strip of each stream's window ledger. It holds names, states, counts
// and error messages, never a connection's definition or credentials.
type Status struct {
	Generated time.Time        `json:"generated"`
	Total     int              `json:"total"` // pipelines served
	Page      int              `json:"page"`  // 1-based
	Pages     int              `json:"pages"`
	Query     string           `json:"query,omitempty"`
	Counts    map[string]int   `json:"counts"` // pipelines by health
	Pipelines []PipelineStatus `json:"pipelines"`
	Problems  []string         `json:"folder_problems,omitempty"`
	// Operator says an operator token is configured: the page offers
	// actions (resume), each of which asks for the token.
	Operator bool `json:"operator_actions"`
}

// PipelineStatus is one pipeline.
type PipelineStatus struct {
	Name     string `json:"name"`
	Schedule string `json:"schedule"`
	// Health is the worst of its streams': fresh, behind, never (no
	// window committed yet), failing, drifting or paused.
	Health  string         `json:"health"`
	Paused  *Paused        `json:"paused,omitempty"`
	Streams []StreamStatus `json:"streams"`
}

// Paused says why serve paused a pipeline and how to resume it.
type Paused struct {
	Reason string    `json:"reason"`
	Since  time.Time `json:"since"`
	Resume string    `json:"resume"`
}

// StreamStatus is one stream.
type StreamStatus struct {
	Name string `json:"name"`
	// Watermark is the end of the newest committed window; Lag is now
	// minus it, in seconds.
	Watermark time.Time `json:"watermark,omitzero"`
	Lag       float64   `json:"lag_seconds,omitempty"`
	Health    string    `json:"health"`
	Running   bool      `json:"running"`
	Failing   string    `json:"failing,omitempty"`
	Drifting  string    `json:"drifting,omitempty"`
	// Windows counts the ledger's windows by state; Strip is the newest
	// of them, oldest first.
	Windows map[string]int `json:"windows"`
	Strip   []Cell         `json:"strip"`
}

// Cell is one window of a stream's ledger strip.
type Cell struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	State string    `json:"state"` // committed, failed, loading
	Rows  int64     `json:"rows"`
	Error string    `json:"error,omitempty"`
}

// Freshness grades a stream's lag against its schedule's interval: fresh
// within two intervals (a tick may be running), behind after that, never
// without a committed window.
func Freshness(watermark, now time.Time, interval time.Duration) string {
	switch {
	case watermark.IsZero():
		return "never"
	case now.Sub(watermark) <= 2*interval:
		return "fresh"
	default:
		return "behind"
	}
}

// healthRank orders health from best to worst.
var healthRank = map[string]int{"fresh": 0, "never": 1, "behind": 2, "drifting": 3, "failing": 4, "paused": 5}

// Worst returns the worse of two healths.
func Worst(a, b string) string {
	if healthRank[b] > healthRank[a] {
		return b
	}
	return a
}

// Filter keeps the pipelines whose name contains q, or whose health is
// q, and returns page (1-based) of them, perPage a page.
func (st *Status) Filter(q string, page, perPage int) {
	st.Total = len(st.Pipelines)
	st.Counts = map[string]int{}
	for _, p := range st.Pipelines {
		st.Counts[p.Health]++
	}
	// Worst first, then by name: what needs someone is on page one.
	sort.SliceStable(st.Pipelines, func(i, j int) bool {
		a, b := st.Pipelines[i], st.Pipelines[j]
		if healthRank[a.Health] != healthRank[b.Health] {
			return healthRank[a.Health] > healthRank[b.Health]
		}
		return a.Name < b.Name
	})
	if q != "" {
		st.Query = q
		var kept []PipelineStatus
		for _, p := range st.Pipelines {
			if strings.Contains(p.Name, q) || p.Health == q {
				kept = append(kept, p)
			}
		}
		st.Pipelines = kept
	}
	st.Pages = max(1, (len(st.Pipelines)+perPage-1)/perPage)
	st.Page = min(max(page, 1), st.Pages)
	from := (st.Page - 1) * perPage
	st.Pipelines = st.Pipelines[min(from, len(st.Pipelines)):min(from+perPage, len(st.Pipelines))]
}

//go:embed status.html
var pageFS embed.FS

var page = template.Must(template.New("status.html").Funcs(template.FuncMap{
	"ago": func(now, t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return now.Sub(t).Round(time.Second).String() + " ago"
	},
	"stamp": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"add":   func(a, b int) int { return a + b },
}).ParseFS(pageFS, "status.html"))

// CountOrder is the healths Counts holds, by name.
func (st *Status) CountOrder() []string {
	out := make([]string, 0, len(st.Counts))
	for h := range st.Counts {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

// WriteHTML renders the status page.
func (st *Status) WriteHTML(w io.Writer) error {
	return page.Execute(w, st)
}
