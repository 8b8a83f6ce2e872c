package ddl

import (
	"fmt"
	"strings"
)

// Column is one column of a table to create.
type Column struct {
	Name string
	Type string // spelled in the table's dialect, nullability included
}

// ClickHouseTable describes a MergeTree-family table.
type ClickHouseTable struct {
	Name    string // db.table
	Columns []Column
	// Engine is MergeTree or ReplacingMergeTree(version).
	Engine string
	// PartitionBy is nil for a table without partitions.
	PartitionBy *KeyExpr
	OrderBy     []KeyExpr
	// Settings go into the SETTINGS clause, in order.
	Settings []string
}

// Create returns the CREATE TABLE statement, one column a line.
func (t ClickHouseTable) Create(ifNotExists bool) string {
	var b strings.Builder
	b.WriteString("CREATE TABLE ")
	if ifNotExists {
		b.WriteString("IF NOT EXISTS ")
	}
	b.WriteString(QuoteClickHouseName(t.Name))
	b.WriteString("\n(\n")
	writeColumns(&b, t.Columns, QuoteClickHouse)
	b.WriteString(")\nENGINE = ")
	b.WriteString(t.Engine)
	if t.PartitionBy != nil {
		b.WriteString("\nPARTITION BY ")
		b.WriteString(t.PartitionBy.SQL())
	}
	b.WriteString("\nORDER BY ")
	if len(t.OrderBy) == 1 {
		b.WriteString(t.OrderBy[0].SQL())
	} else {
		b.WriteString(KeyExpr{Kind: KeyTuple, Args: t.OrderBy}.SQL())
	}
	if len(t.Settings) > 0 {
		b.WriteString("\nSETTINGS ")
		b.WriteString(strings.Join(t.Settings, ", "))
	}
	return b.String()
}

// SnowflakeTable describes a Snowflake table.
type SnowflakeTable struct {
	Name    string // [DATABASE.][SCHEMA.]TABLE
	Columns []Column
	// Transient tables keep no fail-safe history: right for staging.
	Transient bool
}

// Create returns the CREATE TABLE statement, one column a line.
func (t SnowflakeTable) Create(ifNotExists bool) string {
	var b strings.Builder
	b.WriteString("CREATE ")
	if t.Transient {
		b.WriteString("TRANSIENT ")
	}
	b.WriteString("TABLE ")
	if ifNotExists {
		b.WriteString("IF NOT EXISTS ")
	}
	b.WriteString(QuoteSnowflakeName(t.Name))
	b.WriteString(" (\n")
	writeColumns(&b, t.Columns, QuoteSnowflake)
	b.WriteString(")")
	return b.String()
}

// writeColumns writes column definitions one a line, names aligned.
func writeColumns(b *strings.Builder, cols []Column, quote func(string) string) {
	width := 0
	for _, c := range cols {
		width = max(width, len(quote(c.Name)))
	}
	for i, c := range cols {
		fmt.Fprintf(b, "    %-*s %s", width, quote(c.Name), c.Type)
		if i < len(cols)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
}

// SnowflakeStage is the staging table a replace or merge push loads before
// it touches the target: the target's name with __SLUICE_STAGE appended,
// in the target's schema, quoted.
func SnowflakeStage(table string) string {
	return QuoteSnowflakeName(table + "__SLUICE_STAGE")
}

// SnowflakeStageLike (re)creates the staging table as an empty transient
// copy of table's shape. Both names are quoted.
func SnowflakeStageLike(stage, table string) string {
	return fmt.Sprintf("CREATE OR REPLACE TRANSIENT TABLE %s LIKE %s", stage, table)
}

// SnowflakeInsertSelect copies the named columns of every staged row into
// table. Both names are quoted.
func SnowflakeInsertSelect(table, stage string, cols []string) string {
	list := QuoteSnowflakeList(cols)
	return fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s", table, list, list, stage)
}

// SnowflakeSwap exchanges table and stage in one atomic step. Both names
// are quoted.
func SnowflakeSwap(table, stage string) string {
	return fmt.Sprintf("ALTER TABLE %s SWAP WITH %s", table, stage)
}

// SnowflakeMerge merges stage into table on key: rows whose key matches
// are updated, the others inserted. table and stage are quoted names.
func SnowflakeMerge(table, stage string, cols, key []string) string {
	isKey := map[string]bool{}
	on := make([]string, len(key))
	for i, c := range key {
		isKey[strings.ToUpper(c)] = true
		q := QuoteSnowflake(c)
		on[i] = fmt.Sprintf("t.%s = s.%s", q, q)
	}
	var set, vals []string
	for _, c := range cols {
		q := QuoteSnowflake(c)
		if !isKey[strings.ToUpper(c)] {
			set = append(set, fmt.Sprintf("%s = s.%s", q, q))
		}
		vals = append(vals, "s."+q)
	}
	q := fmt.Sprintf("MERGE INTO %s t USING %s s ON %s", table, stage, strings.Join(on, " AND "))
	if len(set) > 0 {
		q += " WHEN MATCHED THEN UPDATE SET " + strings.Join(set, ", ")
	}
	return q + fmt.Sprintf(" WHEN NOT MATCHED THEN INSERT (%s) VALUES (%s)", QuoteSnowflakeList(cols), strings.Join(vals, ", "))
}
