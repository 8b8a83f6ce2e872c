package main

import (
	"context"
	"fmt"

	"github.com/hockeystack/sluice/engine/connect"
)

// linkOptions are how this process opens connections: secrets from its
// environment, $SLUICE_BULK_ROWS for pushes, and the crash hook of
// $SLUICE_TEST_CRASH.
func linkOptions(e *env) connect.Options {
	o := connect.Options{Getenv: e.getenv, Hook: crashHook(e)}
	fmt.Sscan(e.getenv("SLUICE_BULK_ROWS"), &o.BulkRows)
	return o
}

// openLinks connects to every connection the pipeline's streams use.
func openLinks(ctx context.Context, e *env, l loaded) *connect.Links {
	return connect.Pipeline(ctx, l.pipeline, l.connections, linkOptions(e))
}
