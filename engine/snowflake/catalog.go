package snowflake

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"sort"
	"strings"
	"time"

	sf "github.com/snowflakedb/gosnowflake/v2"

	"github.com/hockeystack/sluice/engine/ddl"
	"github.com/hockeystack/sluice/engine/plan"
	"github.com/hockeystack/sluice/engine/sqlscan"
	"github.com/hockeystack/sluice/engine/sqltype"
)

// Catalog reads live schemas from Snowflake: query result columns through
// describe-only requests (nothing runs, no warehouse time), tables through
// INFORMATION_SCHEMA.COLUMNS. It only reads.
type Catalog struct {
	db               *sql.DB
	database, schema string // defaults for partial table names
}

// NewCatalog returns a catalog over db; the caller keeps ownership of db.
// database and schema complete table names given with fewer parts.
func NewCatalog(db *sql.DB, database, schema string) *Catalog {
	if schema == "" {
		schema = "PUBLIC"
	}
	return &Catalog{db: db, database: strings.ToUpper(database), schema: strings.ToUpper(schema)}
}

var _ plan.Catalog = (*Catalog)(nil)

// Server returns "Snowflake" and CURRENT_VERSION().
func (c *Catalog) Server(ctx context.Context) (string, string, error) {
	var v string
	if err := c.db.QueryRowContext(ctx, "SELECT CURRENT_VERSION()").Scan(&v); err != nil {
		return "", "", fmt.Errorf("reading the version: %w", err)
	}
	return "Snowflake", v, nil
}

// Bind turns :name placeholders into positional ? binds, in order, with
// their values: times as TIMESTAMP_TZ, so window bounds keep their instant
// whatever the session's time zone.
func Bind(query string, params map[string]any) (string, []any) {
	var args []any
	out := sqlscan.BindPlaceholders(query, func(name string) string {
		v := params[name]
		if t, ok := v.(time.Time); ok {
			args = append(args, sf.DataTypeTimestampTz, t)
		} else {
			args = append(args, v)
		}
		return "?"
	})
	return out, args
}

// DescribeQuery returns a query's result columns without running it.
func (c *Catalog) DescribeQuery(ctx context.Context, query string, params map[string]any) ([]plan.TypedColumn, error) {
	q, args := Bind(strings.TrimRight(strings.TrimSpace(query), ";"), params)
	rows, err := c.db.QueryContext(sf.WithDescribeOnly(ctx), q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	cols := make([]plan.TypedColumn, len(types))
	var scales []int
	for i, ct := range types {
		t, err := typeOf(ct)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", ct.Name(), err)
		}
		if t.Kind == sqltype.Timestamp && scales == nil {
			// database/sql does not report a timestamp's precision: the
			// row types do. Without them TIMESTAMP_* is its default, (9).
			if scales = c.describeScales(ctx, q, args); scales == nil {
				scales = []int{}
			}
		}
		cols[i] = plan.TypedColumn{Name: ct.Name(), Type: withScale(t, scales, i)}
	}
	return cols, nil
}

// describeScales describes q again at the driver's level for the scales
// of its columns (see describedScales); nil when they cannot be read.
func (c *Catalog) describeScales(ctx context.Context, q string, args []any) []int {
	conn, err := c.db.Conn(ctx)
	if err != nil {
		return nil
	}
	defer conn.Close()
	var scales []int
	conn.Raw(func(dc any) error {
		named := make([]driver.NamedValue, len(args))
		for i, a := range args {
			named[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
		}
		qc, ok := dc.(driver.QueryerContext)
		if !ok {
			return nil
		}
		rows, err := qc.QueryContext(sf.WithDescribeOnly(ctx), q, named)
		if err != nil {
			return nil
		}
		defer rows.Close()
		scales = describedScales(rows)
		return nil
	})
	return scales
}

// typeOf maps a result column's rowtype to a Snowflake type.
func typeOf(ct *sql.ColumnType) (sqltype.Type, error) {
	text := ct.DatabaseTypeName()
	switch text {
	case "FIXED":
		p, s, ok := ct.DecimalSize()
		if !ok || p == 0 {
			p, s = 38, 0
		}
		text = fmt.Sprintf("NUMBER(%d,%d)", p, s)
	case "REAL":
		text = "FLOAT"
	case "TEXT":
		text = "VARCHAR"
		if l, ok := ct.Length(); ok && l > 0 {
			text = fmt.Sprintf("VARCHAR(%d)", l)
		}
	case "BINARY":
		if l, ok := ct.Length(); ok && l > 0 {
			text = fmt.Sprintf("BINARY(%d)", l)
		}
	}
	t, err := sqltype.ParseSnowflake(text)
	if err != nil {
		return t, err
	}
	if n, ok := ct.Nullable(); ok {
		t.Nullable = n
	}
	return t, nil
}

// DescribeTable reads a table's columns from its database's
// INFORMATION_SCHEMA, with their declared types.
func (c *Catalog) DescribeTable(ctx context.Context, table string) ([]plan.TypedColumn, error) {
	parts := strings.Split(table, ".")
	for i, p := range parts {
		parts[i] = strings.ToUpper(p)
	}
	db, schema, name := c.database, c.schema, parts[len(parts)-1]
	switch len(parts) {
	case 2:
		schema = parts[0]
	case 3:
		db, schema = parts[0], parts[1]
	}
	if db == "" {
		return nil, fmt.Errorf("table %s: no database (name it as DATABASE.SCHEMA.TABLE or set the connection's database)", table)
	}
	return c.Columns(ctx, db, schema, name)
}

// Columns reads the columns of table db.schema.name, each part spelled
// exactly as Snowflake keeps it (no quoting, case kept), from the
// database's INFORMATION_SCHEMA, with their declared types.
func (c *Catalog) Columns(ctx context.Context, db, schema, name string) ([]plan.TypedColumn, error) {
	q := fmt.Sprintf(`SELECT COLUMN_NAME, DATA_TYPE, IS_NULLABLE, CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION
		FROM %s.INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, ddl.QuoteSnowflake(db))
	rows, err := c.db.QueryContext(ctx, q, schema, name)
	if err != nil {
		return nil, fmt.Errorf("reading %s.INFORMATION_SCHEMA.COLUMNS: %w", db, err)
	}
	defer rows.Close()
	var cols []plan.TypedColumn
	for rows.Next() {
		var col, dataType, isNull string
		var length, prec, scale, dtPrec sql.NullInt64
		if err := rows.Scan(&col, &dataType, &isNull, &length, &prec, &scale, &dtPrec); err != nil {
			return nil, err
		}
		text := dataType
		switch dataType {
		case "NUMBER":
			text = fmt.Sprintf("NUMBER(%d,%d)", prec.Int64, scale.Int64)
		case "TEXT":
			text = fmt.Sprintf("VARCHAR(%d)", length.Int64)
		case "BINARY":
			text = fmt.Sprintf("BINARY(%d)", length.Int64)
		case "TIME", "TIMESTAMP_NTZ", "TIMESTAMP_LTZ", "TIMESTAMP_TZ":
			if dtPrec.Valid {
				text = fmt.Sprintf("%s(%d)", dataType, dtPrec.Int64)
			}
		}
		if isNull == "NO" {
			text += " NOT NULL"
		}
		t, err := sqltype.ParseSnowflake(text)
		if err != nil {
			return nil, fmt.Errorf("column %s: type %s: %w", col, text, err)
		}
		cols = append(cols, plan.TypedColumn{Name: col, Type: t})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(cols) == 0 {
		return nil, plan.ErrNoTable
	}
	return cols, nil
}

// Constraint is a PRIMARY KEY or UNIQUE constraint a table declares
// (Snowflake keeps them without enforcing them).
type Constraint struct {
	Primary bool
	Name    string
	Columns []string // in key order
}

// Constraints lists the primary key and the unique constraints of table
// db.schema.name (parts spelled exactly) with SHOW PRIMARY KEYS and SHOW
// UNIQUE KEYS: the primary key first, then the unique keys by name.
func (c *Catalog) Constraints(ctx context.Context, db, schema, name string) ([]Constraint, error) {
	table := ddl.QuoteSnowflake(db) + "." + ddl.QuoteSnowflake(schema) + "." + ddl.QuoteSnowflake(name)
	var out []Constraint
	for _, primary := range []bool{true, false} {
		what := "UNIQUE KEYS"
		if primary {
			what = "PRIMARY KEYS"
		}
		rows, err := c.db.QueryContext(ctx, "SHOW "+what+" IN TABLE "+table)
		if err != nil {
			return nil, fmt.Errorf("SHOW %s: %w", what, err)
		}
		cols, err := rows.Columns()
		if err != nil {
			rows.Close()
			return nil, err
		}
		at := map[string]int{}
		for i, n := range cols {
			at[strings.ToLower(n)] = i
		}
		type keyCol struct {
			seq  int
			name string
		}
		byName := map[string][]keyCol{}
		var order []string
		for rows.Next() {
			vals := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return nil, err
			}
			get := func(k string) string {
				if i, ok := at[k]; ok {
					return vals[i].String
				}
				return ""
			}
			cn := get("constraint_name")
			var seq int
			fmt.Sscan(get("key_sequence"), &seq)
			if _, ok := byName[cn]; !ok {
				order = append(order, cn)
			}
			byName[cn] = append(byName[cn], keyCol{seq, get("column_name")})
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
		sort.Strings(order)
		for _, cn := range order {
			kc := byName[cn]
			sort.Slice(kc, func(i, j int) bool { return kc[i].seq < kc[j].seq })
			k := Constraint{Primary: primary, Name: cn}
			for _, x := range kc {
				k.Columns = append(k.Columns, x.name)
			}
			out = append(out, k)
		}
	}
	return out, nil
}

// Profile counts the rows of table db.schema.name and reads the earliest
// and latest value of each of cols (dates or timestamps); a column with
// no value is left out of spans.
func (c *Catalog) Profile(ctx context.Context, db, schema, name string, cols []string) (int64, map[string][2]time.Time, error) {
	table := ddl.QuoteSnowflake(db) + "." + ddl.QuoteSnowflake(schema) + "." + ddl.QuoteSnowflake(name)
	sel := []string{"COUNT(*)"}
	for _, col := range cols {
		q := ddl.QuoteSnowflake(col)
		sel = append(sel, "MIN("+q+")", "MAX("+q+")")
	}
	var rows int64
	times := make([]sql.NullTime, 2*len(cols))
	dest := []any{&rows}
	for i := range times {
		dest = append(dest, &times[i])
	}
	if err := c.db.QueryRowContext(ctx, "SELECT "+strings.Join(sel, ", ")+" FROM "+table).Scan(dest...); err != nil {
		return 0, nil, fmt.Errorf("profiling %s: %w", table, err)
	}
	spans := map[string][2]time.Time{}
	for i, col := range cols {
		if times[2*i].Valid && times[2*i+1].Valid {
			spans[col] = [2]time.Time{times[2*i].Time, times[2*i+1].Time}
		}
	}
	return rows, spans, nil
}
