// Package chdbtest checks the DDL and statements Sluice plans for current
// ClickHouse releases against a current ClickHouse engine. The only
// ClickHouse server to be had on the test machines is 18.16, which the
// sink's own tests use; chdb (ClickHouse 26.x in a shared library, from
// the npm package @chdb/lib-linux-x64-gnu, loaded by chdb-go) runs the
// newer path. clickhouse-go cannot connect to it, so these tests run the
// plan's SQL, not the sink.
//
// The tests build with the chdb tag and find the library through
// $CHDB_LIB_PATH; `make test` fetches it (scripts/install-deps).
package chdbtest
