//go:build duckdb_arrow

package snowflaketest

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// faults injects failures for reliability tests.
type faults struct {
	mu        sync.Mutex
	rules     []*faultRule
	chunkWait time.Duration
	cutChunks int
	// expireAfter counts query requests down to a session expiry; -1 off.
	expireAfter int
	corrupt     []*corruptRule
}

type corruptRule struct {
	sqlContains string
	skip, row   int
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

// CorruptText makes one query result carry bytes that are not UTF-8, as a
// broken client or storage layer could deliver them: after skip results
// of queries whose SQL contains sqlContains, the next one has the first
// byte of its first text column at row (0-based, counted across the whole
// result) replaced by 0xFF. A NULL or empty value there is left alone.
func (s *Server) CorruptText(sqlContains string, skip, row int) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.corrupt = append(s.faults.corrupt, &corruptRule{sqlContains: sqlContains, skip: skip, row: row})
}

// corruptRow reports the row of this query's result to corrupt, or -1.
func (f *faults) corruptRow(sql string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, r := range f.corrupt {
		if !strings.Contains(sql, r.sqlContains) {
			continue
		}
		if r.skip > 0 {
			r.skip--
			continue
		}
		f.corrupt = append(f.corrupt[:i:i], f.corrupt[i+1:]...)
		return r.row
	}
	return -1
}

// corruptText replaces the record holding row with a copy whose first text
// column's value there starts with 0xFF; the replaced record is released.
func corruptText(records []arrow.RecordBatch, cols []column, row int) {
	col := slices.IndexFunc(cols, func(c column) bool { return c.Kind == kText })
	if col < 0 {
		return
	}
	for i, rec := range records {
		if int64(row) >= rec.NumRows() {
			row -= int(rec.NumRows())
			continue
		}
		a := rec.Column(col)
		if a.IsNull(row) || a.ValueStr(row) == "" {
			return
		}
		b := array.NewStringBuilder(memory.DefaultAllocator)
		defer b.Release()
		for j := 0; j < a.Len(); j++ {
			switch {
			case a.IsNull(j):
				b.AppendNull()
			case j == row:
				b.Append("\xff" + a.ValueStr(j)[1:])
			default:
				b.Append(a.ValueStr(j))
			}
		}
		bad := b.NewArray()
		defer bad.Release()
		arrs := slices.Clone(rec.Columns())
		arrs[col] = bad
		fields := slices.Clone(rec.Schema().Fields())
		fields[col].Type = arrow.BinaryTypes.String
		records[i] = array.NewRecordBatch(arrow.NewSchema(fields, nil), arrs, rec.NumRows())
		rec.Release()
		return
	}
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.rules, s.faults.chunkWait, s.faults.cutChunks, s.faults.expireAfter, s.faults.corrupt = nil, 0, 0, 0, nil
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
