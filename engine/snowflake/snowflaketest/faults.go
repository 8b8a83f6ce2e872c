//go:build duckdb_arrow

package snowflaketest

import (
	"net/http"
	"strings"
	"sync"
	"time"
)

// faults injects failures for reliability tests.
type faults struct {
	mu        sync.Mutex
	rules     []*faultRule
	chunkWait time.Duration
	cutChunks int
	// expireAfter counts query requests down to a session expiry; -1 off.
	expireAfter int
}

type faultRule struct {
	prefix string
	skip   int // matching requests to let through first
	count  int // matching requests to fail after that
	status int
}

// FailRequests makes requests whose path starts with prefix fail with the
// HTTP status: after skip matching requests pass, the next count fail.
// FailRequests("/queries/v1/query-request", 2, 1, 503) fails the third
// query. An empty prefix matches every request.
func (s *Server) FailRequests(prefix string, skip, count, status int) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.rules = append(s.faults.rules, &faultRule{prefix: prefix, skip: skip, count: count, status: status})
}

// SlowChunks delays every chunk download by d.
func (s *Server) SlowChunks(d time.Duration) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.chunkWait = d
}

// CutChunks makes the next n chunk downloads end halfway through the body.
func (s *Server) CutChunks(n int) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.cutChunks = n
}

// ExpireSessionsAfter lets n more query requests through, then expires
// every session once, as a long backfill sees its session token age out:
// the client must renew it and go on.
func (s *Server) ExpireSessionsAfter(n int) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.expireAfter = n + 1
}

// expireDue reports whether this query request is the one to expire
// sessions before.
func (f *faults) expireDue() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.expireAfter <= 0 {
		return false
	}
	f.expireAfter--
	return f.expireAfter == 0
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.rules, s.faults.chunkWait, s.faults.cutChunks, s.faults.expireAfter = nil, 0, 0, 0
}

// wrap applies the fault rules before the real handler.
func (f *faults) wrap(s *Server, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if status := f.match(r.URL.Path); status != 0 {
			s.log.Info("snowsim: injected failure", "path", r.URL.Path, "status", status)
			http.Error(w, "snowsim: injected failure", status)
			return
		}
		s.log.Debug("snowsim: request", "method", r.Method, "path", r.URL.Path)
		h.ServeHTTP(w, r)
	})
}

func (f *faults) match(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.rules {
		if !strings.HasPrefix(path, r.prefix) || r.count == 0 {
			continue
		}
		if r.skip > 0 {
			r.skip--
			continue
		}
		r.count--
		return r.status
	}
	return 0
}

// chunkFault returns the delay before a chunk download and whether to cut
// its body short.
func (f *faults) chunkFault() (time.Duration, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cut := f.cutChunks > 0
	if cut {
		f.cutChunks--
	}
	return f.chunkWait, cut
}
