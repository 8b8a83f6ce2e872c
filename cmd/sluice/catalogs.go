package main

import (
	"context"

	"github.com/hockeystack/sluice/engine/connect"
	"github.com/hockeystack/sluice/engine/pipeline"
)

// linkOptions are how this process opens connections (pipeline.Options).
func linkOptions(e *env) connect.Options { return pipeline.Options(e.getenv) }

// openLinks connects to every connection the pipeline's streams use.
func openLinks(ctx context.Context, e *env, l loaded) *connect.Links {
	return l.Open(ctx, linkOptions(e))
}
