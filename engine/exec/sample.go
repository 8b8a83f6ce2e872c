package exec

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/hockeystack/sluice/engine"
	"github.com/hockeystack/sluice/engine/config"
	"github.com/hockeystack/sluice/engine/plan"
	"github.com/hockeystack/sluice/engine/transform"
)

// ReadSample reads up to limit rows of a planned stream's query, over
// the whole span of an incremental stream (its start to now), and keeps
// them: what dry-run maps and shows. Nothing is written anywhere. The
// caller releases the batches; there is at least one, maybe empty.
func ReadSample(ctx context.Context, s *plan.Stream, src engine.Source, limit int, now time.Time) ([]arrow.RecordBatch, engine.Window, error) {
	var w engine.Window
	read := engine.Read{SQL: "SELECT * FROM (\n" + strings.TrimRight(strings.TrimSpace(s.Source.SQL), ";") + "\n) LIMIT " + fmt.Sprint(limit), Params: map[string]any{}}
	if inc := s.Exec.Incremental; inc != nil {
		w = engine.Window{Start: inc.Start, End: now}
		read.Params[config.WindowStart], read.Params[config.WindowEnd] = w.Start, w.End
	}
	read.Tag = s.Tag("dry-run "+w.String(), now)
	rr, err := src.Read(ctx, read)
	if err != nil {
		return nil, w, fmt.Errorf("stream %s: reading a sample: %w", s.Name, err)
	}
	defer rr.Release()
	var out []arrow.RecordBatch
	for rr.Next() {
		rec := rr.RecordBatch()
		rec.Retain()
		out = append(out, rec)
	}
	if err := rr.Err(); err != nil {
		Release(out)
		return nil, w, err
	}
	if len(out) == 0 {
		cols := make([]arrow.Array, rr.Schema().NumFields())
		for i, f := range rr.Schema().Fields() {
			cols[i] = array.MakeArrayOfNull(memory.DefaultAllocator, f.Type, 0)
		}
		out = append(out, array.NewRecordBatch(rr.Schema(), cols, 0))
	}
	return out, w, nil
}

// Release releases batches.
func Release(bs []arrow.RecordBatch) {
	for _, b := range bs {
		b.Release()
	}
}

// MapRows runs a planned stream's mapping and filter over every batch of
// rr, as a run of window w would, and renders the rows kept, a nil for
// each NULL: dry-run's sample and the rows a fixture test compares. An
// error names the row as a run's would.
func MapRows(s *plan.Stream, rr array.RecordReader, w engine.Window) ([][]*string, error) {
	prog, err := Compile(s, rr.Schema())
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", s.Name, err)
	}
	rows := [][]*string{}
	where := transform.Where{Stream: s.Name, Window: w.String()}
	for rr.Next() {
		rec := rr.RecordBatch()
		out, err := prog.Apply(memory.DefaultAllocator, rec, where)
		where.Row += rec.NumRows()
		if err != nil {
			return nil, err
		}
		for i := 0; i < int(out.NumRows()); i++ {
			row := make([]*string, out.NumCols())
			for c := range row {
				if a := out.Column(c); a.IsValid(i) {
					v := a.ValueStr(i)
					row[c] = &v
				}
			}
			rows = append(rows, row)
		}
		out.Release()
	}
	return rows, rr.Err()
}
