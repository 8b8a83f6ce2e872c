package exec

import (
	"testing"

	"github.com/hockeystack/sluice/engine"
	"github.com/hockeystack/sluice/engine/config"
	"github.com/hockeystack/sluice/engine/sqltype"
)

// testStream is the one place the tests build a Stream, so that only it
// changes when the Stream's fields do. The mapping reads batchSource's
// schema: id Int64 (not nullable: a NULL ID is bad data) from ID, name
// String from NAME, and twice Int64 = ID * 2 (an expression, so the
// mapping allocates from the runner's allocator).
func testStream(t *testing.T, name string, mode config.Mode, inc *config.Incremental, src engine.Source, sink engine.Sink) Stream {
	t.Helper()
	typ := func(text string) sqltype.Type {
		ty, err := sqltype.ParseClickHouse(text)
		if err != nil {
			t.Fatal(err)
		}
		return ty
	}
	c := &config.Stream{
		Name:        name,
		Source:      config.Source{SQL: "SELECT ID, NAME FROM T WHERE AT >= :window_start AND AT < :window_end"},
		Incremental: inc,
		Columns: []*config.Column{
			{Name: "id", From: "ID", Type: typ("Int64")},
			{Name: "name", From: "NAME", Type: typ("String")},
			{Name: "twice", Expr: &config.Expr{Text: "ID * 2"}, Type: typ("Int64")},
		},
		Destination: config.Destination{Table: "t", Mode: mode, Key: []string{"id"}},
	}
	return Stream{Config: c, Source: src, Sink: sink}
}
