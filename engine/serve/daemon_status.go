package serve

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// stripWindows is how many of a stream's newest windows the status page
// draws.
const stripWindows = 120

// status gathers what the status page and /api/status show: every
// pipeline's health, and for those on the page asked for (see
// Status.Filter) their ledger strips.
func (s *Daemon) status(ctx context.Context, q string, page, perPage int, strips bool) (*Status, error) {
	now := s.now()
	s.mu.Lock()
	folders := make([]*served, 0, len(s.folders))
	for _, f := range s.folders {
		folders = append(folders, f)
	}
	failing, drift := map[runKey]string{}, map[runKey]string{}
	for k, v := range s.failing {
		failing[k] = oneLine(v)
	}
	for k, v := range s.drift {
		drift[k] = v
	}
	running := map[runKey]bool{}
	for k := range s.running {
		running[k] = true
	}
	var problems []string
	for dir, why := range s.problems {
		problems = append(problems, dir+": "+oneLine(why))
	}
	s.mu.Unlock()
	sort.Strings(problems)
	wms, err := s.st.Watermarks(ctx, "")
	if err != nil {
		return nil, err
	}
	marks := map[runKey]time.Time{}
	for _, w := range wms {
		marks[runKey{w.Pipeline, w.Stream}] = w.End
	}
	pauses, err := s.st.Pauses(ctx)
	if err != nil {
		return nil, err
	}
	st := &Status{Generated: now.UTC(), Problems: problems, Operator: s.operatorToken != ""}
	for _, f := range folders {
		p := f.l.Pipeline
		ps := PipelineStatus{Name: p.Name, Schedule: p.Schedule + " (" + p.Timezone + ")", Health: "fresh"}
		if pause, paused := pauses[p.Name]; paused {
			ps.Paused = &Paused{Reason: pause.Reason, Since: pause.Since.UTC(), Resume: "sluice resume " + p.Name}
			ps.Health = "paused"
		}
		interval := f.sched.Interval(now)
		for _, c := range p.Streams {
			key := runKey{p.Name, c.Name}
			ss := StreamStatus{Name: c.Name, Watermark: marks[key].UTC(), Running: running[key], Failing: failing[key], Drifting: drift[key], Windows: map[string]int{}}
			if !ss.Watermark.IsZero() {
				ss.Lag = now.Sub(ss.Watermark).Seconds()
			}
			ss.Health = Freshness(ss.Watermark, now, interval)
			if ss.Drifting != "" {
				ss.Health = "drifting"
			}
			if ss.Failing != "" {
				ss.Health = "failing"
			}
			ps.Health = Worst(ps.Health, ss.Health)
			ps.Streams = append(ps.Streams, ss)
		}
		st.Pipelines = append(st.Pipelines, ps)
	}
	st.Filter(q, page, perPage)
	for i := 0; strips && i < len(st.Pipelines); i++ {
		p := &st.Pipelines[i]
		for j := range p.Streams {
			ss := &p.Streams[j]
			ws, err := s.st.Windows(ctx, p.Name, ss.Name)
			if err != nil {
				return nil, err
			}
			for _, w := range ws {
				ss.Windows[w.State]++
			}
			if len(ws) > stripWindows {
				ws = ws[len(ws)-stripWindows:]
			}
			for _, w := range ws {
				ss.Strip = append(ss.Strip, Cell{Start: w.Start.UTC(), End: w.End.UTC(), State: w.State, Rows: w.Rows, Error: oneLine(w.Error)})
			}
		}
	}
	return st, nil
}

// statusHandlers serves the status page at / and its data at
// /api/status; both read only.
func (s *Daemon) statusHandlers(mux *http.ServeMux) {
	get := func(w http.ResponseWriter, r *http.Request) (*Status, bool) {
		pg, _ := strconv.Atoi(r.URL.Query().Get("page"))
		per := 50
		if n, err := strconv.Atoi(r.URL.Query().Get("per_page")); err == nil && n > 0 && n <= 1000 {
			per = n
		}
		st, err := s.status(r.Context(), r.URL.Query().Get("q"), pg, per, true)
		if err != nil {
			http.Error(w, "status: "+err.Error(), http.StatusServiceUnavailable)
			return nil, false
		}
		return st, true
	}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		if st, ok := get(w, r); ok {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			if err := st.WriteHTML(w); err != nil {
				s.log.Error("rendering the status page", "error", err)
			}
		}
	})
	// Actions need the operator token (SLUICE_OPERATOR_TOKEN, as a form
	// field or a bearer token); without one configured serve is read-only.
	mux.HandleFunc("POST /api/resume", func(w http.ResponseWriter, r *http.Request) {
		if s.operatorToken == "" {
			http.Error(w, "read-only: serve has no operator token (set SLUICE_OPERATOR_TOKEN to allow actions)", http.StatusForbidden)
			return
		}
		token := r.PostFormValue("token")
		if h, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			token = h
		}
		if subtle.ConstantTimeCompare([]byte(token), []byte(s.operatorToken)) != 1 {
			s.log.Warn("resume refused: wrong operator token", "remote", r.RemoteAddr)
			http.Error(w, "wrong operator token", http.StatusForbidden)
			return
		}
		name := r.PostFormValue("pipeline")
		_, _, paused, err := s.st.Paused(r.Context(), name)
		if err == nil && paused {
			err = s.st.Resume(r.Context(), name)
		}
		if err != nil {
			http.Error(w, "resume: "+err.Error(), http.StatusInternalServerError)
			return
		}
		if !paused {
			http.Error(w, name+": not paused", http.StatusConflict)
			return
		}
		s.log.Info("pipeline resumed from the status page", "pipeline", name, "remote", r.RemoteAddr)
		if r.Header.Get("Authorization") != "" {
			fmt.Fprintf(w, "%s: resumed\n", name)
			return
		}
		http.Redirect(w, r, "/#p-"+name, http.StatusSeeOther)
	})
	mux.HandleFunc("GET /api/status", func(w http.ResponseWriter, r *http.Request) {
		if st, ok := get(w, r); ok {
			w.Header().Set("Content-Type", "application/json")
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			enc.Encode(st)
		}
	})
}

// watchAlerts raises and clears the behind and paused alerts from the
// state every interval (failures are raised where they happen).
func (s *Daemon) watchAlerts(ctx context.Context, every time.Duration) {
	s.repeat(ctx, every, true, s.checkAlerts)
}

func (s *Daemon) checkAlerts(ctx context.Context) {
	if !s.alerts.Any() {
		return
	}
	st, err := s.status(ctx, "", 1, 1<<30, false)
	if err != nil {
		return
	}
	for _, p := range st.Pipelines {
		if p.Paused != nil {
			s.alerts.Raise(p.Name, AlertPaused, p.Paused.Reason+"; resume with "+p.Paused.Resume)
		} else {
			s.alerts.Clear(p.Name, AlertPaused, "resumed")
		}
		var behind []string
		for _, ss := range p.Streams {
			limit := s.behindLimit(p.Name)
			if !ss.Watermark.IsZero() && time.Duration(ss.Lag*float64(time.Second)) > limit {
				behind = append(behind, fmt.Sprintf("stream %s has data to %s, %s ago", ss.Name, ss.Watermark.Format(time.RFC3339), time.Duration(ss.Lag*float64(time.Second)).Round(time.Second)))
			}
		}
		if len(behind) > 0 {
			s.alerts.Raise(p.Name, AlertBehind, behind[0])
		} else {
			s.alerts.Clear(p.Name, AlertBehind, "every stream is within its schedule")
		}
	}
}

// behindLimit is how old a pipeline's data may be before it is alerted
// on: its own alerts.behind, else --alert-behind, else two schedule
// intervals.
func (s *Daemon) behindLimit(pipeline string) time.Duration {
	s.mu.Lock()
	f := s.folders[pipeline]
	s.mu.Unlock()
	if f != nil && f.l.Pipeline.Alerts != nil && f.l.Pipeline.Alerts.Behind > 0 {
		return f.l.Pipeline.Alerts.Behind
	}
	if s.alertBehind > 0 {
		return s.alertBehind
	}
	return 2 * s.interval(pipeline)
}

// interval is a pipeline's schedule interval now.
func (s *Daemon) interval(pipeline string) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.folders[pipeline]; f != nil {
		return f.sched.Interval(s.now())
	}
	return time.Hour
}

// failedOrRecovered raises or clears the failed alert after a stream's
// run: cleared only when no stream of the pipeline is failing.
func (s *Daemon) failedOrRecovered(pipeline, stream string, err error) {
	if err != nil {
		s.alerts.Raise(pipeline, AlertFailed, fmt.Sprintf("stream %s failed after its retries: %s", stream, oneLine(err.Error())))
		return
	}
	s.mu.Lock()
	for k := range s.failing {
		if k.pipeline == pipeline {
			s.mu.Unlock()
			return
		}
	}
	s.mu.Unlock()
	s.alerts.Clear(pipeline, AlertFailed, "every stream runs again")
}
