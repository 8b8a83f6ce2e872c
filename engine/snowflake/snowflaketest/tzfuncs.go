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

// Snowflake does date arithmetic, truncation and date parts of a
// TIMESTAMP_TZ at the value's own wall clock, and keeps its offset in the
// result. DuckDB would see only the instant (the implicit cast to
// TIMESTAMPTZ). Two overloaded functions let the macros do it for every
// type alike: SF_WALL(x) is a TIMESTAMP_TZ's wall clock, text read as a
// timestamp, and any other timestamp, date or time unchanged; SF_REZONE(x, r) gives r, computed
// from SF_WALL(x), the offset of x back when x is a TIMESTAMP_TZ, and is
// r itself otherwise.

// udf is one overload of a scalar function: row-wise, NULL in, NULL out.
type udf struct {
	in  []duckdb.TypeInfo
	out duckdb.TypeInfo
	run func(v []driver.Value) (any, error)
}

func (f udf) Config() duckdb.ScalarFuncConfig {
	return duckdb.ScalarFuncConfig{InputTypeInfos: f.in, ResultTypeInfo: f.out}
}

func (f udf) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{RowExecutor: f.run}
}

// registerTZFunctions registers SF_WALL and SF_REZONE on conn's database.
func registerTZFunctions(ctx context.Context, conn *sql.Conn) error {
	tzInfo, err := typeInfoOf(ctx, conn, "CAST(NULL AS "+tzType+")")
	if err != nil {
		return err
	}
	plain := map[string]duckdb.Type{"TIMESTAMP": duckdb.TYPE_TIMESTAMP, "TIMESTAMPTZ": duckdb.TYPE_TIMESTAMP_TZ,
		"DATE": duckdb.TYPE_DATE, "TIME": duckdb.TYPE_TIME, "TIMESTAMP_NS": duckdb.TYPE_TIMESTAMP_NS}
	infos := map[string]duckdb.TypeInfo{}
	for name, t := range plain {
		if infos[name], err = duckdb.NewTypeInfo(t); err != nil {
			return err
		}
	}
	anyInfo, err := duckdb.NewTypeInfo(duckdb.TYPE_ANY)
	if err != nil {
		return err
	}
	varchar, err := duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR)
	if err != nil {
		return err
	}
	identity := func(v []driver.Value) (any, error) { return v[len(v)-1], nil }
	wall := []duckdb.ScalarFunc{udf{in: []duckdb.TypeInfo{tzInfo}, out: infos["TIMESTAMP"], run: func(v []driver.Value) (any, error) {
		t, off, err := tzValue(v[0])
		if err != nil {
			return nil, err
		}
		return t.Add(time.Duration(off) * time.Minute).UTC(), nil
	}}}
	rezone := []duckdb.ScalarFunc{udf{in: []duckdb.TypeInfo{tzInfo, infos["TIMESTAMP"]}, out: tzInfo, run: func(v []driver.Value) (any, error) {
		_, off, err := tzValue(v[0])
		if err != nil {
			return nil, err
		}
		w, ok := v[1].(time.Time)
		if !ok {
			return nil, fmt.Errorf("SF_REZONE: %T is not a time", v[1])
		}
		return map[string]any{"utc": w.Add(-time.Duration(off) * time.Minute), "off": off}, nil
	}}}
	// Text is read as a timestamp: its wall clock, any offset dropped,
	// as Snowflake reads text where a TIMESTAMP_NTZ is wanted.
	wall = append(wall, udf{in: []duckdb.TypeInfo{varchar}, out: infos["TIMESTAMP"], run: func(v []driver.Value) (any, error) {
		s, _ := v[0].(string)
		t, err := parseTZ(s)
		if err != nil {
			return nil, err
		}
		return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC), nil
	}})
	for name := range plain {
		wall = append(wall, udf{in: []duckdb.TypeInfo{infos[name]}, out: infos[name], run: identity})
		rezone = append(rezone, udf{in: []duckdb.TypeInfo{anyInfo, infos[name]}, out: infos[name], run: identity})
	}
	if err := duckdb.RegisterScalarUDFSet(conn, "SF_WALL", wall...); err != nil {
		return fmt.Errorf("snowsim: SF_WALL: %w", err)
	}
	if err := duckdb.RegisterScalarUDFSet(conn, "SF_REZONE", rezone...); err != nil {
		return fmt.Errorf("snowsim: SF_REZONE: %w", err)
	}
	return nil
}

// typeInfoOf is the type of a SQL expression as DuckDB reports it, alias
// included.
func typeInfoOf(ctx context.Context, conn *sql.Conn, expr string) (duckdb.TypeInfo, error) {
	var info duckdb.TypeInfo
	err := conn.Raw(func(dc any) error {
		st, err := dc.(driver.ConnPrepareContext).PrepareContext(ctx, "SELECT "+expr)
		if err != nil {
			return err
		}
		defer st.Close()
		info, err = st.(*duckdb.Stmt).ColumnTypeInfo(0)
		return err
	})
	return info, err
}

// tzValue reads an SF_TIMESTAMP_TZ as duckdb-go hands it to a function.
func tzValue(v driver.Value) (time.Time, int16, error) {
	m, ok := v.(map[string]any)
	if ok {
		t, ok1 := m["utc"].(time.Time)
		off, ok2 := m["off"].(int16)
		if ok1 && ok2 {
			return t, off, nil
		}
	}
	return time.Time{}, 0, fmt.Errorf("not a %s value: %v", tzType, v)
}
