//go:build duckdb_arrow

// Command snowsim runs the local Snowflake simulator as a standalone
// server: the demo, offline `sluice test` runs and manual experiments talk
// to it with the real Snowflake driver. Build it with -tags duckdb_arrow.
package main

import "os"

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, nil)) }
