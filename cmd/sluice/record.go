package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hockeystack/sluice/engine/config"
	"github.com/hockeystack/sluice/engine/fixture"
	"github.com/hockeystack/sluice/engine/snowflake"
)

// record writes tests/<stream>.yaml from a sample of the live source: the
// first rows of each table the stream's SQL reads, and, as the expected
// rows, what the current mapping makes of them on snowsim. The solutions
// engineer then trims the rows and checks the expectations by hand.
func record(e *env, l loaded, dir, stream string, limit int) int {
	var s *config.Stream
	for _, c := range l.Pipeline.Streams {
		if c.Name == stream {
			s = c
		}
	}
	if s == nil || s.Direction != config.Pull {
		fmt.Fprintf(e.stderr, "sluice test --record: %s is not a pull stream of %s\n", stream, l.Pipeline.Name)
		return exitUsage
	}
	out := filepath.Join(dir, "tests", s.Name+".yaml")
	if exists(out) {
		fmt.Fprintf(e.stderr, "sluice test --record: %s exists; move it away to record again\n", out)
		return exitUsage
	}
	ctx := context.Background()
	c := l.Connections.Get(s.Source.Connection)
	db, err := snowflake.Open(ctx, c, e.getenv)
	if err != nil {
		return e.fail("sluice test --record", err)
	}
	defer db.Close()
	fx, err := fixture.Sample(ctx, db, c, s, out, limit)
	if err != nil {
		return e.fail("sluice test --record", err)
	}
	sim, err := e.simulate(e)
	if err != nil {
		return e.fail("sluice test --record: starting snowsim", err)
	}
	defer sim.Close()
	_, p, err := fixture.Produce(ctx, sim, l.Pipeline, l.Connections, fx)
	if err != nil {
		return e.fail("sluice test --record: running the mapping on the sample", err)
	}
	text, err := fx.YAML(p)
	if err != nil {
		return e.fail("sluice test --record", err)
	}
	if err := config.CheckWritable(dir, out); err != nil {
		return e.fail("sluice test --record", err)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return e.fail("sluice test --record", err)
	}
	if err := os.WriteFile(out, text, 0o644); err != nil {
		return e.fail("sluice test --record", err)
	}
	fmt.Fprintf(e.stdout, "recorded %s: %d source table(s), %d expected row(s); check the expectations before committing it\n", out, len(fx.Given), len(p.Rows))
	return exitOK
}
