// Command sluice moves data between a customer's Snowflake and ClickHouse,
// driven by pipeline folders of YAML and SQL.
package main

import "os"

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
