package clickhouse

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// peeked is a reader whose first batches were read ahead: it hands them
// on, then the rest of the reader.
type peeked struct {
	array.RecordReader
	held []arrow.RecordBatch
	cur  arrow.RecordBatch
}

// peek reads batches from rr until they hold at least n rows or rr ends,
// and returns a reader that yields them and then the rest, and whether
// rr had n rows or more. The caller drops it when done.
func peek(rr array.RecordReader, n int64) (*peeked, bool) {
	p := &peeked{RecordReader: rr}
	var rows int64
	for rows < n && rr.Next() {
		rec := rr.RecordBatch()
		rec.Retain()
		p.held = append(p.held, rec)
		rows += rec.NumRows()
	}
	return p, rows >= n
}

func (p *peeked) Next() bool {
	if p.cur != nil {
		p.cur.Release()
		p.cur = nil
	}
	if len(p.held) > 0 {
		p.cur, p.held = p.held[0], p.held[1:]
		return true
	}
	return p.RecordReader.Next()
}

func (p *peeked) RecordBatch() arrow.RecordBatch {
	if p.cur != nil {
		return p.cur
	}
	return p.RecordReader.RecordBatch()
}

func (p *peeked) Record() arrow.RecordBatch { return p.RecordBatch() }

// drop releases the batches read ahead and not handed on (a write that
// stopped early); the reader itself stays its owner's.
func (p *peeked) drop() {
	if p.cur != nil {
		p.cur.Release()
		p.cur = nil
	}
	for _, r := range p.held {
		r.Release()
	}
	p.held = nil
}
