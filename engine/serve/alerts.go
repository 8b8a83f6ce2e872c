package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Alert conditions.
const (
	AlertPaused = "paused" // serve paused the pipeline (credentials rejected)
	AlertFailed = "failed" // a stream failed after its retries
	AlertBehind = "behind" // a stream's data is older than the threshold
)

// Alerter posts a JSON message ({"text": ...}, the shape Slack's incoming
// webhooks take) when a pipeline enters a condition, at most once an
// hour per pipeline and condition (a condition that comes and goes is
// not posted again within the hour), and once when it leaves it
// ("recovered"). Delivery runs on its own goroutine with retries: a
// receiver that is down is logged and never holds up a pipeline.
type Alerter struct {
	url    string
	client *http.Client
	log    *slog.Logger
	every  time.Duration
	now    func() time.Time
	queue  chan string

	mu   sync.Mutex
	on   map[alertKey]bool      // conditions raised and not cleared
	sent map[alertKey]time.Time // when each condition was last posted
}

type alertKey struct{ pipeline, condition string }

// NewAlerter starts an alerter posting to url; Close stops it.
func NewAlerter(url string, log *slog.Logger) *Alerter {
	a := &Alerter{url: url, client: &http.Client{Timeout: 10 * time.Second}, log: log, every: time.Hour, now: time.Now,
		queue: make(chan string, 1000), on: map[alertKey]bool{}, sent: map[alertKey]time.Time{}}
	go a.deliver()
	return a
}

// Close stops delivering; messages not sent yet are dropped.
func (a *Alerter) Close() { close(a.queue) }

// Raise reports that pipeline is in condition; text says why.
func (a *Alerter) Raise(pipeline, condition, text string) {
	if a == nil {
		return
	}
	k := alertKey{pipeline, condition}
	a.mu.Lock()
	a.on[k] = true
	last, ever := a.sent[k]
	send := !ever || a.now().Sub(last) >= a.every
	if send {
		a.sent[k] = a.now()
	}
	a.mu.Unlock()
	if send {
		a.post(fmt.Sprintf("sluice: pipeline %s %s: %s", pipeline, condition, text))
	}
}

// Clear reports that pipeline is out of condition: a message if it had
// been raised.
func (a *Alerter) Clear(pipeline, condition, text string) {
	if a == nil {
		return
	}
	k := alertKey{pipeline, condition}
	a.mu.Lock()
	on := a.on[k]
	delete(a.on, k)
	a.mu.Unlock()
	if on {
		a.post(fmt.Sprintf("sluice: pipeline %s recovered (was %s): %s", pipeline, condition, text))
	}
}

func (a *Alerter) post(text string) {
	select {
	case a.queue <- text:
	default:
		a.log.Error("alert queue full: message dropped", "text", text)
	}
}

// deliver posts each message, retrying with backoff for up to about ten
// minutes before giving it up.
func (a *Alerter) deliver() {
	for text := range a.queue {
		body, _ := json.Marshal(map[string]string{"text": text})
		wait := time.Second
		for attempt := 1; ; attempt++ {
			err := a.send(body)
			if err == nil {
				break
			}
			if attempt == 8 {
				a.log.Error("alert not delivered; giving up", "attempts", attempt, "error", err, "text", text)
				break
			}
			a.log.Warn("alert not delivered; retrying", "attempt", attempt, "error", err, "wait", wait.String())
			time.Sleep(wait)
			wait = min(2*wait, 2*time.Minute)
		}
	}
}

func (a *Alerter) send(body []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("the receiver answered %s", resp.Status)
	}
	return nil
}

// Alerts routes each pipeline's alerts to serve's webhook (--alert-webhook)
// and to the pipeline's own (alerts: in pipeline.yaml), with one Alerter
// per webhook URL. Safe for concurrent use.
type Alerts struct {
	log    *slog.Logger
	global *Alerter // nil without --alert-webhook

	mu    sync.Mutex
	byURL map[string]*Alerter
	own   map[string]string // pipeline -> its webhook URL
}

// NewAlerts routes to the webhook at global ("" for none) and to the
// pipelines' own.
func NewAlerts(global string, log *slog.Logger) *Alerts {
	a := &Alerts{log: log, byURL: map[string]*Alerter{}, own: map[string]string{}}
	if global != "" {
		a.global = NewAlerter(global, log)
	}
	return a
}

// SetPipeline sets where a pipeline's own alerts go: its webhook URL, ""
// for none.
func (a *Alerts) SetPipeline(pipeline, url string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if url == "" {
		delete(a.own, pipeline)
		return
	}
	a.own[pipeline] = url
	if a.byURL[url] == nil {
		a.byURL[url] = NewAlerter(url, a.log)
	}
}

// Any says whether any alert goes anywhere.
func (a *Alerts) Any() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.global != nil || len(a.own) > 0
}

// route is every alerter a pipeline's alerts go to.
func (a *Alerts) route(pipeline string) []*Alerter {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []*Alerter
	if a.global != nil {
		out = append(out, a.global)
	}
	if u, ok := a.own[pipeline]; ok {
		out = append(out, a.byURL[u])
	}
	return out
}

// Raise reports that pipeline is in condition, to each of its webhooks.
func (a *Alerts) Raise(pipeline, condition, text string) {
	for _, al := range a.route(pipeline) {
		al.Raise(pipeline, condition, text)
	}
}

// Clear reports that pipeline is out of condition, to each of its
// webhooks.
func (a *Alerts) Clear(pipeline, condition, text string) {
	for _, al := range a.route(pipeline) {
		al.Clear(pipeline, condition, text)
	}
}

// Close stops every alerter.
func (a *Alerts) Close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.global != nil {
		a.global.Close()
	}
	for _, al := range a.byURL {
		al.Close()
	}
}
