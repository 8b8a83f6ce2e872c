//go:build duckdb_arrow

package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestStatusPage serves three pipelines (one fresh, one whose Snowflake
// user is gone, one whose query fails on a row) with alerts going to a
// local receiver, then opens / in headless Chromium: the page shows each
// pipeline's health, the paused one's reason and the command that
// resumes it, the failed window's error; /api/status carries the same,
// and neither carries a connection's definition or credentials. The
// receiver gets one message for the pause and one for the failure.
func TestStatusPage(t *testing.T) {
	browser, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium not found: make deps installs Debian's chromium")
	}
	receiver := newAlertReceiver(t)

	f := newFleet(t, "0 3 * * *", []tickPipeline{{name: "fresh", behind: 3, append: true}, {name: "gone", behind: 2}, {name: "broken", behind: 2}})
	writeFiles(t, f.dir, map[string]string{"broken/q.sql": `SELECT ID, CAST(AMOUNT / (ID - 200) AS NUMBER(12,2)) AS AMOUNT, "AT" FROM EVENTS WHERE "AT" >= :window_start AND "AT" < :window_end`})
	// gone's connection logs in as a user that is no more.
	lines := strings.Split(readFile(t, filepath.Join(f.dir, "connections.yaml")), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "  sf_gone:") {
			lines[i] = strings.Replace(l, "user: SLUICE", "user: NOBODY", 1)
		}
	}
	writeFiles(t, f.dir, map[string]string{"connections.yaml": strings.Join(lines, "\n")})
	d := f.serve(t, filepath.Join(f.dir, "state.db"), "--alert-webhook", receiver.URL, "--retry-after", "1h")
	waitFor(t, d, 60*time.Second, "the three pipelines' first runs", func() bool {
		return d.metric("sluice_runs_total", `{pipeline="fresh",stream="events",result="ok"}`) == 1 &&
			d.metric("sluice_runs_total", `{pipeline="gone",stream="events",result="paused"}`) == 1 &&
			d.metric("sluice_runs_total", `{pipeline="broken",stream="events",result="failed"}`) == 1
	})

	ctx, cancel := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.WindowSize(1400, 900))...)
	defer cancel()
	ctx, cancel = chromedp.NewContext(ctx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate("http://"+d.addr+"/"), chromedp.WaitVisible("#p-gone")); err != nil {
		t.Fatalf("browser: %v", err)
	}
	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text("body"))
	if err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"3 pipeline(s)", "gone paused", "credentials rejected", "resume with sluice resume gone",
		"broken failing", "Division by zero", "fresh fresh", "1 failing, 1 fresh, 1 paused",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the page lacks %q:\n%s", want, text)
		}
	}
	if title != "sluice serve: 3 pipeline(s)" {
		t.Errorf("title %q", title)
	}
	resp, err := http.Get("http://" + d.addr + "/api/status")
	if err != nil {
		t.Fatal(err)
	}
	api, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var st struct {
		Counts    map[string]int `json:"counts"`
		Pipelines []struct {
			Name, Health string
			Paused       *struct{ Reason, Resume string }
		} `json:"pipelines"`
	}
	if err := json.Unmarshal(api, &st); err != nil {
		t.Fatalf("/api/status: %v\n%s", err, api)
	}
	if st.Counts["paused"] != 1 || st.Counts["failing"] != 1 || st.Counts["fresh"] != 1 || len(st.Pipelines) != 3 || st.Pipelines[0].Name != "gone" || st.Pipelines[0].Paused == nil {
		t.Errorf("/api/status:\n%s", api)
	}
	for _, secret := range []string{"SF_PASSWORD", "env:", "NOBODY", strconv.Itoa(f.sf.Port), "auth"} {
		if strings.Contains(text, secret) || strings.Contains(string(api), secret) {
			t.Errorf("the status shows %q", secret)
		}
	}
	if *update {
		if err := os.WriteFile("../../docs/status.png", shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, d, 20*time.Second, "alerts", func() bool { return len(receiver.texts()) >= 2 })
	d.stop(t)
	alerts := receiver.texts()
	got := strings.Join(alerts, "\n")
	if strings.Count(got, "pipeline gone paused") != 1 || strings.Count(got, "pipeline broken failed") != 1 || len(alerts) != 2 {
		t.Errorf("alerts:\n%s", got)
	}
}

// alertReceiver is a local webhook that keeps the text of every message
// posted to it.
type alertReceiver struct {
	*httptest.Server
	mu  sync.Mutex
	got []string
}

func newAlertReceiver(t *testing.T) *alertReceiver {
	a := &alertReceiver{}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]string
		json.NewDecoder(r.Body).Decode(&m)
		a.mu.Lock()
		a.got = append(a.got, m["text"])
		a.mu.Unlock()
	}))
	t.Cleanup(a.Close)
	return a
}

// texts are the messages received so far.
func (a *alertReceiver) texts() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.got...)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestAlertBehind: a stream backfilling is behind, then recovers once its
// tick ends; when it falls behind again seconds later (the schedule is
// daily, the threshold 2s) nothing more is posted within the hour.
func TestAlertBehind(t *testing.T) {
	receiver := newAlertReceiver(t)
	f := newFleet(t, "0 3 * * *", []tickPipeline{{name: "slow", behind: 2, append: true}})
	t.Setenv("SLUICE_TEST_ALERT_EVERY", "200ms")
	d := f.serve(t, filepath.Join(f.dir, "state.db"), "--alert-webhook", receiver.URL, "--alert-behind", "2s")
	waitFor(t, d, 60*time.Second, "a behind alert and its recovery", func() bool { return len(receiver.texts()) >= 2 })
	time.Sleep(4 * time.Second) // behind again after 2s, looked at every 200ms
	d.stop(t)
	alerts := receiver.texts()
	if len(alerts) != 2 || !strings.Contains(alerts[0], "pipeline slow behind: stream events has data to") || !strings.Contains(alerts[1], "pipeline slow recovered (was behind)") {
		t.Errorf("alerts:\n%s", strings.Join(alerts, "\n"))
	}
}

// TestPipelineAlertWebhook: a pipeline's own alerts: section sends its
// alerts to the webhook its environment variable names, with its own
// threshold, and serve has no webhook of its own; another pipeline of
// the same serve, behind as well, alerts nobody.
func TestPipelineAlertWebhook(t *testing.T) {
	own := newAlertReceiver(t)
	f := newFleet(t, "0 3 * * *", []tickPipeline{{name: "loud", behind: 2, append: true}, {name: "quiet", behind: 2, append: true}})
	path := filepath.Join(f.dir, "loud", "pipeline.yaml")
	writeFiles(t, f.dir, map[string]string{"loud/pipeline.yaml": strings.Replace(readFile(t, path), "name: loud\n",
		"name: loud\nalerts:\n  webhook: {env: SLUICE_TEST_LOUD_HOOK}\n  behind: 2s\n", 1)})
	t.Setenv("SLUICE_TEST_LOUD_HOOK", own.URL)
	t.Setenv("SLUICE_TEST_ALERT_EVERY", "200ms")
	d := f.serve(t, filepath.Join(f.dir, "state.db"))
	waitFor(t, d, 60*time.Second, "loud's behind alert and its recovery", func() bool { return len(own.texts()) >= 2 })
	d.stop(t)
	alerts := own.texts()
	if len(alerts) != 2 || !strings.Contains(alerts[0], "pipeline loud behind") || !strings.Contains(alerts[1], "pipeline loud recovered (was behind)") {
		t.Errorf("loud's webhook got:\n%s", strings.Join(alerts, "\n"))
	}
	for _, a := range alerts {
		if strings.Contains(a, "quiet") {
			t.Errorf("quiet's alert went to loud's webhook: %s", a)
		}
	}
}

// TestOperatorToken: without an operator token serve's page offers no
// action and refuses a resume; with one, the page offers to resume the
// paused pipeline, a wrong token is refused, and the right one resumes
// it. The token is never shown.
func TestOperatorToken(t *testing.T) {
	f := newFleet(t, "0 3 * * *", []tickPipeline{{name: "gone", behind: 2}})
	lines := strings.Split(readFile(t, filepath.Join(f.dir, "connections.yaml")), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "  sf_gone:") {
			lines[i] = strings.Replace(l, "user: SLUICE", "user: NOBODY", 1)
		}
	}
	writeFiles(t, f.dir, map[string]string{"connections.yaml": strings.Join(lines, "\n")})
	state := filepath.Join(f.dir, "state.db")
	resume := func(d *daemon, token string) (int, string) {
		resp, err := http.PostForm("http://"+d.addr+"/api/resume", url.Values{"pipeline": {"gone"}, "token": {token}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	page := func(d *daemon) string {
		resp, err := http.Get("http://" + d.addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	d := f.serve(t, state)
	waitFor(t, d, 60*time.Second, "the pause", func() bool {
		return d.metric("sluice_runs_total", `{pipeline="gone",stream="events",result="paused"}`) == 1
	})
	if code, body := resume(d, "anything"); code != http.StatusForbidden || !strings.Contains(body, "read-only") {
		t.Errorf("resume without an operator token: %d %s", code, body)
	}
	if p := page(d); strings.Contains(p, "/api/resume") || !strings.Contains(p, "sluice resume gone") {
		t.Errorf("the read-only page:\n%s", p)
	}
	d.stop(t)

	t.Setenv("SLUICE_OPERATOR_TOKEN", "op-token-1234")
	d = f.serve(t, state)
	if p := page(d); !strings.Contains(p, `action="/api/resume"`) || strings.Contains(p, "op-token-1234") {
		t.Errorf("the operator's page:\n%s", p)
	}
	if code, _ := resume(d, "wrong"); code != http.StatusForbidden {
		t.Errorf("a wrong token: %d", code)
	}
	if code, _ := resume(d, "op-token-1234"); code != http.StatusOK && code != http.StatusSeeOther {
		t.Errorf("the right token: %d", code)
	}
	d.stop(t)
	if out, _, _ := sluice(t, "resume", "--state", state, "gone"); !strings.Contains(out, "not paused") {
		t.Errorf("after the page's resume, sluice resume says %q", out)
	}
	if strings.Contains(d.log(), "op-token-1234") {
		t.Error("the log shows the token")
	}
}
