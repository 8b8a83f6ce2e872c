package serve

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestAlerts: a condition raised twice within the hour posts once, its
// end posts "recovered", another pipeline's condition posts on its own,
// and a receiver that answers 503 at first gets every message once it
// answers.
func TestAlerts(t *testing.T) {
	var mu sync.Mutex
	var got []string
	refusals := 2
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if refusals > 0 {
			refusals--
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		var m map[string]string
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &m); err != nil || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("body %s: %v", b, err)
		}
		got = append(got, m["text"])
	}))
	defer srv.Close()
	a := NewAlerter(srv.URL, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer a.Close()
	a.Raise("acme", AlertPaused, "credentials rejected")
	a.Raise("acme", AlertPaused, "credentials rejected") // within the hour: not again
	a.Raise("globex", AlertFailed, "stream events: boom")
	a.Clear("acme", AlertPaused, "resumed")
	a.Clear("initech", AlertBehind, "never raised") // nothing
	want := []string{
		"sluice: pipeline acme paused: credentials rejected",
		"sluice: pipeline globex failed: stream events: boom",
		"sluice: pipeline acme recovered (was paused): resumed",
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= len(want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // and nothing more arrives
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("delivered:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestAlertAgainAfterTheHour: a condition still on an hour later is
// posted again.
func TestAlertAgainAfterTheHour(t *testing.T) {
	var n int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { mu.Lock(); n++; mu.Unlock() }))
	defer srv.Close()
	a := NewAlerter(srv.URL, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer a.Close()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a.now = func() time.Time { return now }
	a.Raise("acme", AlertBehind, "3h behind")
	now = now.Add(59 * time.Minute)
	a.Raise("acme", AlertBehind, "4h behind")
	now = now.Add(2 * time.Minute)
	a.Raise("acme", AlertBehind, "4h behind")
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		c := n
		mu.Unlock()
		if c >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if n != 2 {
		t.Errorf("%d messages, want 2", n)
	}
}
