package config

import (
	"strings"
	"testing"
	"time"
)

// TestPipelineAlerts: a pipeline names its own alert webhook by the
// environment variable that holds it, and a threshold; the URL itself in
// the folder is an error that does not repeat it.
func TestPipelineAlerts(t *testing.T) {
	head := strings.Replace(onePipeline, "name: p\n", "name: p\nalerts:\n  webhook: {env: ACME_ALERTS}\n  behind: 6h\n", 1)
	p, ds := loadFiles(t, map[string]string{"pipeline.yaml": head, "sql/q.sql": "SELECT ID FROM T"})
	if ds.HasErrors() {
		t.Fatalf("diagnostics: %v", messages(ds))
	}
	if p.Alerts == nil || p.Alerts.Webhook == nil || p.Alerts.Webhook.Env != "ACME_ALERTS" || p.Alerts.Behind != 6*time.Hour {
		t.Fatalf("alerts = %+v", p.Alerts)
	}
	literal := strings.Replace(onePipeline, "name: p\n", "name: p\nalerts:\n  webhook: https://hooks.example.test/T000/B000/XXXX\n", 1)
	lp, ds := loadFiles(t, map[string]string{"pipeline.yaml": literal, "sql/q.sql": "SELECT ID FROM T"})
	for name, src := range lp.Files {
		if strings.Contains(string(src), "XXXX") {
			t.Errorf("%s as shown in snippets keeps the URL", name)
		}
	}
	msgs := messages(ds)
	if len(msgs) != 1 || !strings.Contains(msgs[0], "alerts.webhook") || !strings.Contains(msgs[0], "{env: NAME}") {
		t.Errorf("a literal webhook URL: %q, want one error asking for {env: NAME}", msgs)
	}
	for _, m := range msgs {
		if strings.Contains(m, "XXXX") {
			t.Errorf("the error repeats the URL: %s", m)
		}
	}
	bad := strings.Replace(onePipeline, "name: p\n", "name: p\nalerts: {behind: soon}\n", 1)
	_, ds = loadFiles(t, map[string]string{"pipeline.yaml": bad, "sql/q.sql": "SELECT ID FROM T"})
	if msgs := messages(ds); len(msgs) != 1 || !strings.Contains(msgs[0], "behind") {
		t.Errorf("a bad threshold: %q", msgs)
	}
}
