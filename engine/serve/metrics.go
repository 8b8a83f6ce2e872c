package serve

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
)

// Metrics holds counters and gauges by label set and writes them in the
// Prometheus text format. It is safe for concurrent use.
type Metrics struct {
	mu     sync.Mutex
	help   map[string]string
	kinds  map[string]string
	values map[string]map[string]float64 // name -> labels -> value
}

// NewMetrics returns an empty registry.
func NewMetrics() *Metrics {
	return &Metrics{help: map[string]string{}, kinds: map[string]string{}, values: map[string]map[string]float64{}}
}

// Describe declares a metric: kind is "counter" or "gauge".
func (m *Metrics) Describe(name, kind, help string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.help[name], m.kinds[name] = help, kind
	if m.values[name] == nil {
		m.values[name] = map[string]float64{}
	}
}

// Add adds v to a counter (or gauge) for the labels, given as name, value
// pairs.
func (m *Metrics) Add(name string, v float64, labels ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.series(name)[labelText(labels)] += v
}

// Set sets a gauge.
func (m *Metrics) Set(name string, v float64, labels ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.series(name)[labelText(labels)] = v
}

// Get returns a value, for tests and health checks.
func (m *Metrics) Get(name string, labels ...string) float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.values[name][labelText(labels)]
}

func (m *Metrics) series(name string) map[string]float64 {
	if m.values[name] == nil {
		m.values[name] = map[string]float64{}
	}
	return m.values[name]
}

func labelText(kv []string) string {
	if len(kv) == 0 {
		return ""
	}
	var parts []string
	for i := 0; i+1 < len(kv); i += 2 {
		v := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(kv[i+1])
		parts = append(parts, fmt.Sprintf(`%s="%s"`, kv[i], v))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// Write writes every metric, sorted, in the Prometheus text format.
func (m *Metrics) Write(w io.Writer) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	names := make([]string, 0, len(m.values))
	for n := range m.values {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		if h := m.help[n]; h != "" {
			fmt.Fprintf(&b, "# HELP %s %s\n", n, h)
		}
		if k := m.kinds[n]; k != "" {
			fmt.Fprintf(&b, "# TYPE %s %s\n", n, k)
		}
		series := m.values[n]
		labels := make([]string, 0, len(series))
		for l := range series {
			labels = append(labels, l)
		}
		sort.Strings(labels)
		for _, l := range labels {
			fmt.Fprintf(&b, "%s%s %g\n", n, l, series[l])
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
