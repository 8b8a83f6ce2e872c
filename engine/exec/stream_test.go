package exec

import (
	"testing"
	"time"

	"github.com/hockeystack/sluice/engine"
	"github.com/hockeystack/sluice/engine/config"
	"github.com/hockeystack/sluice/engine/plan"
	"github.com/hockeystack/sluice/engine/sqltype"
	"github.com/hockeystack/sluice/engine/transform"
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
	p := &plan.Stream{
		Name:        name,
		Source:      plan.Source{SQL: "SELECT ID, NAME FROM T WHERE AT >= :window_start AND AT < :window_end"},
		Destination: plan.Destination{Table: "t", Mode: string(mode), Key: []string{"id"}},
		Exec: plan.Exec{Pipeline: "p", Incremental: inc, Location: time.UTC, Mode: mode,
			Mapping: []transform.Column{
				{Name: "id", From: "ID", Type: typ("Int64"), Key: true},
				{Name: "name", From: "NAME", Type: typ("String")},
				{Name: "twice", Expr: "ID * 2", Type: typ("Int64")},
			}},
	}
	return Stream{Plan: p, Source: src, Sink: sink}
}
