package ddl

import "strings"

// ClickHouseReplace builds the statements of a replace load into
// ClickHouse: the full result into a new table, swapped in whole. Plan
// and sink both use it, so the plan shows the statements sent.
type ClickHouseReplace struct {
	// Table is the target; Create its CREATE TABLE IF NOT EXISTS, as
	// planned.
	Table  string
	Create string
	// Exchange says the server has EXCHANGE TABLES.
	Exchange bool
	// Append gives the column list and digest shared with appends.
	Append ClickHouseAppend
}

// Next is the table the load goes into; Old is where the target goes
// for a moment on a server without EXCHANGE TABLES.
func (r ClickHouseReplace) Next() string { return r.Table + "__sluice_new" }
func (r ClickHouseReplace) Old() string  { return r.Table + "__sluice_old" }

// DropNext drops a new table a failed load left.
func (r ClickHouseReplace) DropNext() string {
	return "DROP TABLE IF EXISTS " + QuoteClickHouseName(r.Next())
}

// CreateNext creates the new table as the target is planned.
func (r ClickHouseReplace) CreateNext() string {
	return strings.Replace(r.Create, "CREATE TABLE IF NOT EXISTS "+QuoteClickHouseName(r.Table), "CREATE TABLE "+QuoteClickHouseName(r.Next()), 1)
}

// Digest reads the new table's digest, before the swap.
func (r ClickHouseReplace) Digest() string { return r.Append.Digest(r.Next(), "") }

// Swap swaps the new table in: renamed when there is no target yet,
// exchanged where the server can, else both renamed in one statement.
func (r ClickHouseReplace) Swap(exists bool) []string {
	q := QuoteClickHouseName
	switch {
	case !exists:
		return []string{"RENAME TABLE " + q(r.Next()) + " TO " + q(r.Table)}
	case r.Exchange:
		return []string{"EXCHANGE TABLES " + q(r.Next()) + " AND " + q(r.Table), "DROP TABLE " + q(r.Next())}
	default:
		return []string{"DROP TABLE IF EXISTS " + q(r.Old()),
			"RENAME TABLE " + q(r.Table) + " TO " + q(r.Old()) + ", " + q(r.Next()) + " TO " + q(r.Table),
			"DROP TABLE " + q(r.Old())}
	}
}

// Steps are the statements of the load, in order, as the plan shows
// them.
func (r ClickHouseReplace) Steps() []string {
	create := r.CreateNext()
	if i := strings.IndexByte(create, '\n'); i >= 0 {
		create = create[:i] + " (...) -- as the DDL above"
	}
	steps := []string{
		r.DropNext(),
		create,
		r.Append.Insert(r.Next()) + " -- every row of the result, in blocks of at least 100,000",
		r.Digest() + " -- must count the rows written; the ledger keeps both",
		TableExists(r.Table),
	}
	for _, s := range r.Swap(false) {
		steps = append(steps, s+" -- when there is no "+r.Table+" yet")
	}
	for _, s := range r.Swap(true) {
		steps = append(steps, s+" -- when there is")
	}
	return steps
}

// TableExists counts 1 when table exists, 0 when not.
func TableExists(table string) string {
	db, name := splitName(table)
	return "SELECT count() FROM system.tables WHERE database = " + db + " AND name = " + QuoteString(name)
}

// CreateDatabase creates a dotted table name's database; "" when the
// name has none.
func CreateDatabase(table string) string {
	db, _, ok := strings.Cut(table, ".")
	if !ok {
		return ""
	}
	return "CREATE DATABASE IF NOT EXISTS " + QuoteClickHouse(db)
}

// ClickHousePrepare are the statements a ClickHouse sink runs before a
// stream's first window: it checks the target, creates it (and its
// database) when it may, and drops staging tables that a write that
// died left (append and upsert).
func ClickHousePrepare(a ClickHouseAppend, create string, staged bool) []string {
	steps := []string{TableExists(a.Table)}
	if c := CreateDatabase(a.Table); c != "" {
		steps = append(steps, c+" -- when the table does not exist")
	}
	if i := strings.IndexByte(create, '\n'); i >= 0 {
		create = create[:i] + " (...) -- as the DDL above, when the table does not exist"
	}
	steps = append(steps, create)
	if staged {
		steps = append(steps, a.LeftStages()+" -- when it does", a.DropStage("{left}")+" -- for each staging table a write that died left")
	}
	return steps
}
