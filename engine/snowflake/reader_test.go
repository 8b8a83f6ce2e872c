package snowflake

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/hockeystack/sluice/engine/sqltype"
)

// The reader's handoff between its downloads and Next, with the driver's
// chunks replaced by functions: every record (the driver's and the
// converted ones) comes from a checked allocator, which must be empty
// once the reader is released, however the read ended.

// driverRecord is a record as the driver hands a NUMBER(18,0) column
// with higher precision: decimal128(38, 0). A value of -1 stands for one
// out of Int64's range, which the conversion refuses.
func driverRecord(mem memory.Allocator, vals ...int64) arrow.RecordBatch {
	typ := &arrow.Decimal128Type{Precision: 38, Scale: 0}
	b := array.NewDecimal128Builder(mem, typ)
	defer b.Release()
	for _, v := range vals {
		if v == -1 {
			b.Append(decimal128.FromBigInt(new(big.Int).Lsh(big.NewInt(1), 70)))
			continue
		}
		b.Append(decimal128.FromI64(v))
	}
	a := b.NewArray()
	defer a.Release()
	return array.NewRecordBatch(arrow.NewSchema([]arrow.Field{{Name: "N", Type: typ, Nullable: true}}, nil), []arrow.Array{a}, int64(len(vals)))
}

// fakeChunk is one chunk of a result.
type fakeChunk struct {
	recs [][]int64 // one record each
	err  error     // the download fails
	// waitCtx holds the download until the read's context ends; it then
	// fails with the context's error, or with ok delivers its records
	// (one that finished as the read was cancelled).
	waitCtx, ok bool
	// inline records were decoded with the query's response, before any
	// fetch, as the driver does the first chunk's.
	inline bool
}

// chunkFetches turns chunks into the reader's fetch functions; fetched[i]
// closes when chunk i's fetch has returned.
func chunkFetches(mem memory.Allocator, chunks []fakeChunk) (fetches []func(context.Context) ([]arrow.RecordBatch, error), fetched []chan struct{}) {
	build := func(c fakeChunk) []arrow.RecordBatch {
		var out []arrow.RecordBatch
		for _, vals := range c.recs {
			out = append(out, driverRecord(mem, vals...))
		}
		return out
	}
	fetches = make([]func(context.Context) ([]arrow.RecordBatch, error), len(chunks))
	for i, c := range chunks {
		var inline []arrow.RecordBatch
		if c.inline {
			inline = build(c)
		}
		done := make(chan struct{})
		fetched = append(fetched, done)
		fetches[i] = func(ctx context.Context) ([]arrow.RecordBatch, error) {
			defer close(done)
			if c.waitCtx {
				<-ctx.Done()
				if !c.ok {
					return nil, ctx.Err()
				}
			}
			if c.err != nil {
				return nil, c.err
			}
			if c.inline {
				return inline, nil
			}
			return build(c), nil
		}
	}
	return fetches, fetched
}

// wait waits for the fetches of the first n chunks to return.
func wait(fetched []chan struct{}, n int) {
	for _, done := range fetched[:n] {
		<-done
	}
}

// newFakeReader starts a reader over chunks of one NUMBER(18,0) column.
func newFakeReader(ctx context.Context, mem memory.Allocator, chunks []fakeChunk, prefetch int) (r *reader, fetched []chan struct{}, closed *int) {
	typ, _ := sqltype.ParseSnowflake("NUMBER(18,0)")
	fetches, fetched := chunkFetches(mem, chunks)
	closed = new(int)
	r = &reader{
		refs: 1, schema: arrow.NewSchema([]arrow.Field{{Name: "N", Type: typ.Arrow(), Nullable: true}}, nil),
		cols: []sourceColumn{{typ: typ}}, alloc: mem, chunks: fetches,
		close: func() { *closed++ },
	}
	r.start(ctx, prefetch)
	return r, fetched, closed
}

// readAll reads r to its end and returns the values it gave.
func readAll(r *reader) string {
	var vals []string
	for r.Next() {
		rec := r.RecordBatch()
		for i := range int(rec.NumRows()) {
			vals = append(vals, rec.Column(0).ValueStr(i))
		}
	}
	return strings.Join(vals, " ")
}

func TestReaderReleasesEveryRecord(t *testing.T) {
	broken := errors.New("chunk download failed: 403")
	cases := []struct {
		name     string
		chunks   []fakeChunk
		prefetch int
		want     string // the values read
		wantErr  string
		// fetched is how many chunks to wait for before reading: the
		// prefetch starts them before any Next.
		fetched int
	}{{
		name:     "read to the end",
		chunks:   []fakeChunk{{recs: [][]int64{{1, 2}}, inline: true}, {recs: [][]int64{{3}, {4, 5}}}, {recs: [][]int64{{6}}}},
		prefetch: 2, want: "1 2 3 4 5 6",
	}, {
		// The chunk's first record converts; its second does not.
		name:     "a record fails to convert mid-chunk",
		chunks:   []fakeChunk{{recs: [][]int64{{1, 2}}, inline: true}, {recs: [][]int64{{3}, {-1}}}, {recs: [][]int64{{6}}}},
		prefetch: 1, want: "1 2", wantErr: "column N: 1180591620717411303424 is beyond Int64",
	}, {
		// The chunks after the failing one are downloaded by then.
		name:     "a chunk fails while later ones download",
		chunks:   []fakeChunk{{recs: [][]int64{{1, 2}}}, {err: broken}, {recs: [][]int64{{5}}}, {recs: [][]int64{{6}}}},
		prefetch: 4, want: "1 2", wantErr: broken.Error(), fetched: 4,
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			r, fetched, closed := newFakeReader(context.Background(), mem, c.chunks, c.prefetch)
			wait(fetched, c.fetched)
			if got := readAll(r); got != c.want {
				t.Errorf("read %q, want %q", got, c.want)
			}
			if err := r.Err(); (c.wantErr == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("error %v, want %q", err, c.wantErr)
			}
			if r.Next() {
				t.Error("Next after the end gave a batch")
			}
			r.Release()
			if *closed != 1 {
				t.Errorf("rows closed %d times", *closed)
			}
		})
	}
}

// TestReaderReleasedEarly: a sink that fails releases the reader after a
// batch, with later chunks downloaded and waiting; they are released.
func TestReaderReleasedEarly(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	chunks := []fakeChunk{{recs: [][]int64{{1}}, inline: true}, {recs: [][]int64{{2}}}, {recs: [][]int64{{3}}}, {recs: [][]int64{{4}}}, {recs: [][]int64{{5}}, waitCtx: true}}
	r, fetched, closed := newFakeReader(context.Background(), mem, chunks, 5)
	// All but the last chunk are in memory: in Next's hands, in the
	// handoff and in their download slots.
	wait(fetched, 4)
	if !r.Next() {
		t.Fatal(r.Err())
	}
	r.Release()
	wait(fetched, 5)
	if *closed != 1 {
		t.Errorf("rows closed %d times", *closed)
	}
}

// TestReaderCancelled: a read whose context ends mid-result fails with
// the context's error (it is not the end of the result), and releases
// what it holds; so does one cancelled before its first chunk arrived,
// whose first chunk the driver decoded already.
func TestReaderCancelled(t *testing.T) {
	t.Run("mid-read", func(t *testing.T) {
		for range 20 {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			ctx, cancel := context.WithCancel(context.Background())
			chunks := []fakeChunk{{recs: [][]int64{{1, 2}}, inline: true}, {recs: [][]int64{{3}}, waitCtx: true, ok: true}, {waitCtx: true}, {recs: [][]int64{{4}}}}
			r, _, _ := newFakeReader(ctx, mem, chunks, 4)
			if !r.Next() {
				t.Fatal(r.Err())
			}
			cancel()
			for r.Next() {
			}
			if err := r.Err(); !errors.Is(err, context.Canceled) {
				t.Fatalf("error %v after the context was cancelled mid-read, want context.Canceled", err)
			}
			r.Release()
			mem.AssertSize(t, 0)
		}
	})
	t.Run("before the first chunk", func(t *testing.T) {
		for range 20 {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			chunks := []fakeChunk{{recs: [][]int64{{1, 2}}, inline: true}, {recs: [][]int64{{3}}}}
			r, _, closed := newFakeReader(ctx, mem, chunks, 2)
			r.Release()
			mem.AssertSize(t, 0)
			if *closed != 1 {
				t.Fatalf("rows closed %d times", *closed)
			}
		}
	})
}
