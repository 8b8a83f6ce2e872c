//go:build duckdb_arrow

package snowflaketest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
)

// A query's result is cut into chunks while DuckDB produces it: each
// downloadable chunk is encoded as soon as its rows are in, its records
// are released, and its body goes to a file of the server's, from which
// downloads are served. What a large result holds in memory is then a
// few chunks, not every row (a 20M-row result once took 12 GB), and a
// download costs the kernel's copy, not the server's.

// chunkWriter cuts records into a result's chunks as they arrive. Use
// add for each record, then finish (or abort, after an error).
type chunkWriter struct {
	s   *Server
	res *result
	// pending are the records not yet in a chunk, pendingRows their rows.
	pending     []arrow.RecordBatch
	pendingRows int64
	total       int64
	// sem bounds the chunks encoding at once (and so the records held).
	sem  chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	errs []error
}

func (s *Server) newChunkWriter(res *result) *chunkWriter {
	return &chunkWriter{s: s, res: res, sem: make(chan struct{}, 2)}
}

// add takes a record (the writer retains it) and cuts chunks once the
// result is past the inline first chunk.
func (w *chunkWriter) add(rec arrow.RecordBatch) {
	if rec.NumRows() == 0 {
		return
	}
	rec.Retain()
	w.pending = append(w.pending, rec)
	w.pendingRows += rec.NumRows()
	w.total += rec.NumRows()
	if w.total <= int64(w.s.opts.FirstChunkRows) {
		return // may yet be the inline chunk
	}
	for w.pendingRows >= int64(w.s.opts.ChunkRows) {
		w.cut(int64(w.s.opts.ChunkRows))
	}
}

// cut makes a chunk of the first rows pending rows, slicing the record
// where the chunk fills up, and starts encoding it.
func (w *chunkWriter) cut(rows int64) {
	var recs []arrow.RecordBatch
	taken := int64(0)
	for taken < rows {
		r := w.pending[0]
		take := min(r.NumRows(), rows-taken)
		if take == r.NumRows() {
			recs = append(recs, r)
			w.pending = w.pending[1:]
		} else {
			recs = append(recs, r.NewSlice(0, take))
			w.pending[0] = r.NewSlice(take, r.NumRows())
			r.Release()
		}
		taken += take
	}
	w.pendingRows -= taken
	c := w.res.newChunk(w.s, recs)
	w.res.chunks = append(w.res.chunks, c)
	if c.format != "arrow" {
		return // JSON rows are rendered on first download, from the records
	}
	w.sem <- struct{}{}
	w.wg.Add(1)
	go func() {
		defer func() { <-w.sem; w.wg.Done() }()
		if err := c.spill(w.s); err != nil {
			w.mu.Lock()
			w.errs = append(w.errs, err)
			w.mu.Unlock()
		}
	}()
}

// finish cuts what is left, waits for the encoding and sets the result's
// total. A result of at most FirstChunkRows rows is one inline chunk.
func (w *chunkWriter) finish() error {
	w.res.total = w.total
	if w.total <= int64(w.s.opts.FirstChunkRows) {
		w.res.inline = w.res.newChunk(w.s, w.pending)
		w.pending = nil
		return nil
	}
	if w.pendingRows > 0 {
		w.cut(w.pendingRows)
	}
	w.wg.Wait()
	if len(w.errs) > 0 {
		return w.errs[0]
	}
	return nil
}

// abort releases what the writer holds after the query failed.
func (w *chunkWriter) abort() {
	w.wg.Wait()
	release := func(c *chunk) {
		if c != nil {
			c.release()
		}
	}
	for _, c := range w.res.chunks {
		release(c)
	}
	release(w.res.inline)
	w.res.chunks, w.res.inline = nil, nil
	for _, r := range w.pending {
		r.Release()
	}
	w.pending = nil
}

func (res *result) newChunk(s *Server, recs []arrow.RecordBatch) *chunk {
	rows := 0
	for _, r := range recs {
		rows += int(r.NumRows())
	}
	return &chunk{rows: rows, records: recs, columns: res.columns, format: res.format, gzip: s.opts.Gzip}
}

// spillDir is where the server keeps encoded chunks: made on first use,
// removed on Close.
func (s *Server) spillDir() (string, error) {
	s.spillOnce.Do(func() {
		s.spillPath, s.spillErr = os.MkdirTemp("", "snowsim-results-")
		s.encodeBufs = make(chan *bytes.Buffer, 2)
	})
	return s.spillPath, s.spillErr
}

// encodeBuffer returns a buffer to encode a chunk in, one used before
// when there is one: a fresh buffer of tens of megabytes costs more to
// fault in than to fill. (A sync.Pool drops its buffers at every
// collection, which come often while a result streams.)
func (s *Server) encodeBuffer() *bytes.Buffer {
	select {
	case b := <-s.encodeBufs:
		b.Reset()
		return b
	default:
		return new(bytes.Buffer)
	}
}

func (s *Server) putEncodeBuffer(b *bytes.Buffer) {
	select {
	case s.encodeBufs <- b:
	default:
	}
}

// spill encodes the chunk, writes its body to a file of the server's and
// releases its records.
func (c *chunk) spill(s *Server) error {
	c.once.Do(func() {
		defer func() {
			for _, r := range c.records {
				r.Release()
			}
			c.records = nil
		}()
		dir, err := s.spillDir()
		if err != nil {
			c.err = err
			return
		}
		buf := s.encodeBuffer()
		defer s.putEncodeBuffer(buf)
		if c.err = arrowChunkTo(buf, c.records, c.columns, c.gzip); c.err != nil {
			return
		}
		f, err := os.CreateTemp(dir, "chunk-")
		if err != nil {
			c.err = err
			return
		}
		_, err = f.Write(buf.Bytes())
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(f.Name())
			c.err = fmt.Errorf("keeping a result chunk: %w", err)
			return
		}
		c.file, c.size = f.Name(), int64(buf.Len())
	})
	return c.err
}

// serve writes the chunk's body as a download; cut drops the connection
// halfway through the body (a fault).
func (c *chunk) serve(w http.ResponseWriter, cut bool) {
	var body io.Reader
	var size int64
	if c.format == "arrow" && c.records == nil && c.data == nil {
		// Encoded when its rows came in (or released: the error says so).
		if err := c.spillError(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		f, err := os.Open(c.file)
		if err != nil {
			http.Error(w, "result evicted", http.StatusInternalServerError)
			return
		}
		defer f.Close()
		body, size = f, c.size
	} else {
		data, err := c.encode()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		body, size = bytes.NewReader(data), int64(len(data))
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	// With its length known the body goes out unchunked, and a file's
	// by sendfile.
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	if cut {
		io.CopyN(w, body, size/2)
		panic(http.ErrAbortHandler) // drop the connection mid-body
	}
	io.Copy(w, body)
}

// spillError is the error encoding the chunk met, if it was encoded.
func (c *chunk) spillError() error {
	c.once.Do(func() { c.err = fmt.Errorf("result evicted") })
	if c.err == nil && c.file == "" {
		return fmt.Errorf("result evicted")
	}
	return c.err
}
