//go:build duckdb_arrow

package snowflaketest

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

// GENERATOR(TIMELIMIT => n) generates rows for n seconds. snowsim gives
// one row after n seconds (Snowflake promises no count): SF_SLEEP(n)
// waits n seconds, or until its query is canceled, and is true.

// registerSleep registers SF_SLEEP on conn's database.
func registerSleep(conn *sql.Conn) error {
	dbl, err := duckdb.NewTypeInfo(duckdb.TYPE_DOUBLE)
	if err != nil {
		return err
	}
	boolean, err := duckdb.NewTypeInfo(duckdb.TYPE_BOOLEAN)
	if err != nil {
		return err
	}
	f := sleepFunc{in: dbl, out: boolean}
	if err := duckdb.RegisterScalarUDF(conn, "SF_SLEEP", f); err != nil {
		return fmt.Errorf("snowsim: SF_SLEEP: %w", err)
	}
	return nil
}

type sleepFunc struct{ in, out duckdb.TypeInfo }

func (f sleepFunc) Config() duckdb.ScalarFuncConfig {
	return duckdb.ScalarFuncConfig{InputTypeInfos: []duckdb.TypeInfo{f.in}, ResultTypeInfo: f.out, Volatile: true}
}

func (f sleepFunc) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{RowContextExecutor: func(ctx context.Context, v []driver.Value) (any, error) {
		secs, _ := v[0].(float64)
		if ctx == nil {
			ctx = context.Background()
		}
		t := time.NewTimer(time.Duration(secs * float64(time.Second)))
		defer t.Stop()
		select {
		case <-t.C:
			return true, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}}
}
