package ddl

import (
	"fmt"
	"slices"
	"strings"
)

// AppendStrategy is how a window of an append stream replaces an earlier
// write of the same window in ClickHouse.
type AppendStrategy int

const (
	// AppendDelete deletes the window's rows with a mutation, waits for
	// it to finish, then attaches the staging table's partitions. A
	// mutation's new parts cover the parts they replace, so a server
	// restart at any point brings nothing back, on every version. Readers
	// miss the window's rows between the delete and the attach; they
	// never see them twice.
	AppendDelete AppendStrategy = iota
	// AppendReplace rebuilds each partition the window touches in the
	// staging table (the window's rows and the target's rows outside the
	// window) and swaps it in with REPLACE PARTITION: readers see the old
	// partition or the new one. Only servers that cover replaced parts on
	// disk (DurableReplacePartition) use it: on older ones the replaced
	// parts stay on disk until a background cleanup, and a restart before
	// it loads them again beside their replacement.
	AppendReplace
)

// AppendStrategyFor returns the strategy Sluice uses on server v.
func AppendStrategyFor(v ClickHouseVersion) AppendStrategy {
	if v.Has(DurableReplacePartition) {
		return AppendReplace
	}
	return AppendDelete
}

// ClickHouseAppend builds the statements that write one window of an
// append stream. The plan shows them with placeholders and the sink runs
// them with values, so the plan's steps are the statements sent.
type ClickHouseAppend struct {
	// Table is the target, db.table, unquoted.
	Table string
	// Columns are the target's columns, unquoted, in insert order.
	Columns []string
	// Window is the column windows are cut on.
	Window   string
	Strategy AppendStrategy
	// Raw are the columns the digest hashes by their bytes rather than
	// their text (DigestRaw).
	Raw []string
}

// DigestRaw returns the columns, of names and their ClickHouse types,
// whose text server v cannot make: before 21.1, toString of a 38-digit
// negative Decimal128 writes past its buffer, which gives garbage text
// and now and then kills the server (18.16 died in the digest of a
// window of such values). Their digest hashes the value's bytes instead.
func DigestRaw(v ClickHouseVersion, names, types []string) []string {
	if v.AtLeast(21, 1) {
		return nil
	}
	var raw []string
	for i, t := range types {
		var p int
		if _, after, ok := strings.Cut(t, "Decimal("); ok {
			fmt.Sscanf(after, "%d", &p)
		}
		if p > 18 {
			raw = append(raw, names[i])
		}
	}
	return raw
}

// Stage names the staging table of the window starting at start (as
// 20230101T000000; the plan shows {window}).
func (a ClickHouseAppend) Stage(start string) string {
	return a.Table + StagePrefix + start
}

// StagePrefix follows a target's name in its staging tables' names.
const StagePrefix = "__sluice_stage_"

func (a ClickHouseAppend) columnList() string {
	cols := make([]string, len(a.Columns))
	for i, c := range a.Columns {
		cols[i] = QuoteClickHouse(c)
	}
	return strings.Join(cols, ", ")
}

// InWindow is the condition on the window column for [start, end), both
// given as SQL expressions.
func (a ClickHouseAppend) InWindow(start, end string) string {
	w := QuoteClickHouse(a.Window)
	return fmt.Sprintf("%s >= %s AND %s < %s", w, start, w, end)
}

// CreateStage makes an empty staging table like the target.
func (a ClickHouseAppend) CreateStage(stage string) string {
	return "CREATE TABLE " + QuoteClickHouseName(stage) + " AS " + QuoteClickHouseName(a.Table)
}

// DropStage drops a staging table.
func (a ClickHouseAppend) DropStage(stage string) string {
	return "DROP TABLE IF EXISTS " + QuoteClickHouseName(stage)
}

// Insert is the INSERT the window's rows are sent with.
func (a ClickHouseAppend) Insert(table string) string {
	return "INSERT INTO " + QuoteClickHouseName(table) + " (" + a.columnList() + ")"
}

// StagePartitions lists the partitions, by ID, that the staging table's
// rows fall in.
func (a ClickHouseAppend) StagePartitions(stage string) string {
	db, name := splitName(stage)
	return "SELECT DISTINCT partition_id FROM system.parts WHERE database = " + db + " AND table = " + QuoteString(name) + " AND active ORDER BY partition_id"
}

// WindowPartitions lists the partitions, by ID, of the target that hold
// rows of the window (AppendReplace only: _partition_id is newer than
// the servers AppendDelete serves).
func (a ClickHouseAppend) WindowPartitions(inWindow string) string {
	return "SELECT DISTINCT _partition_id FROM " + QuoteClickHouseName(a.Table) + " WHERE " + inWindow + " ORDER BY _partition_id"
}

// Keep copies the target's rows of one partition that lie outside the
// window into the staging table (AppendReplace).
func (a ClickHouseAppend) Keep(stage, partitionID, inWindow string) string {
	list := a.columnList()
	return fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s WHERE _partition_id = %s AND NOT (%s)",
		QuoteClickHouseName(stage), list, list, QuoteClickHouseName(a.Table), partitionID, inWindow)
}

// Replace swaps one partition of the staging table in (AppendReplace).
func (a ClickHouseAppend) Replace(stage, partitionID string) string {
	return "ALTER TABLE " + QuoteClickHouseName(a.Table) + " REPLACE PARTITION ID " + partitionID + " FROM " + QuoteClickHouseName(stage)
}

// OutsideWindow counts the staged rows outside the window, with one of
// their window values: a window with any is refused before the target
// changes.
func (a ClickHouseAppend) OutsideWindow(stage, inWindow string) string {
	return "SELECT toString(count()), toString(any(" + QuoteClickHouse(a.Window) + ")) FROM " + QuoteClickHouseName(stage) + " WHERE NOT (" + inWindow + ")"
}

// Delete deletes the window's rows from the target (AppendDelete).
func (a ClickHouseAppend) Delete(inWindow string) string {
	return "ALTER TABLE " + QuoteClickHouseName(a.Table) + " DELETE WHERE " + inWindow
}

// PendingMutations lists the target's mutations not yet done: the delete
// has finished when it is empty.
func (a ClickHouseAppend) PendingMutations() string {
	db, name := splitName(a.Table)
	return "SELECT mutation_id, command FROM system.mutations WHERE database = " + db + " AND table = " + QuoteString(name) + " AND NOT is_done"
}

// Attach adds one partition of the staging table to the target
// (AppendDelete).
func (a ClickHouseAppend) Attach(stage, partitionID string) string {
	return "ALTER TABLE " + QuoteClickHouseName(a.Table) + " ATTACH PARTITION ID " + partitionID + " FROM " + QuoteClickHouseName(stage)
}

// Digest counts the rows of a table where cond holds and sums a hash of
// each row's values as text (NULL as \N), which any ClickHouse version
// computes for every type: the ledger keeps both for each window, and
// verify compares them. A row there twice changes the sum. Each column
// is made text on its own: toString of a tuple holding Nullable
// decimals crashed 18.16 now and then.
func (a ClickHouseAppend) Digest(table, cond string) string {
	if cond == "" {
		cond = "1"
	}
	cols := make([]string, len(a.Columns))
	for i, c := range a.Columns {
		text := "toString(" + QuoteClickHouse(c) + ")"
		if slices.Contains(a.Raw, c) {
			text = "hex(reinterpretAsString(" + QuoteClickHouse(c) + "))"
		}
		cols[i] = "ifNull(" + text + ", '\\N')"
	}
	return "SELECT toString(count()), toString(sum(cityHash64(" + strings.Join(cols, ", ") + "))) FROM " + QuoteClickHouseName(table) + " WHERE " + cond
}

// LeftStages lists the staging tables of the target that exist: a run
// that stopped with the server can leave one behind.
func (a ClickHouseAppend) LeftStages() string {
	db, name := splitName(a.Table)
	return "SELECT name FROM system.tables WHERE database = " + db + " AND startsWith(name, " + QuoteString(name+StagePrefix) + ")"
}

// Steps are the statements of one window's write, in order, with the
// placeholders the plan documents: {window} in the staging table's name
// (the window's start, as 20230101T000000), {window_start} and
// {window_end}, and {partition_id} for each partition a step repeats over.
func (a ClickHouseAppend) Steps() []string {
	const start = "20060102T150405"
	stage := a.Stage(start)
	in := a.InWindow("{window_start}", "{window_end}")
	each := " -- for each {partition_id} of "
	var steps []string
	switch a.Strategy {
	case AppendReplace:
		steps = []string{
			a.DropStage(stage),
			a.CreateStage(stage),
			a.Insert(stage) + " -- rows of the window, in blocks of at least 100,000",
			a.OutsideWindow(stage, in) + " -- must count 0",
			a.StagePartitions(stage),
			a.WindowPartitions(in),
			a.Keep(stage, "{partition_id}", in) + each + "either list",
			a.Replace(stage, "{partition_id}") + each + "either list",
		}
	default:
		steps = []string{
			a.DropStage(stage),
			a.CreateStage(stage),
			a.Insert(stage) + " -- rows of the window, in blocks of at least 100,000",
			a.OutsideWindow(stage, in) + " -- must count 0",
			a.StagePartitions(stage),
			a.Delete(in),
			a.PendingMutations() + " -- until it returns no row",
			a.Attach(stage, "{partition_id}") + each + "the staging table",
		}
	}
	steps = append(steps,
		a.Digest(a.Table, in)+" -- must count the rows written; the ledger keeps both",
		a.DropStage(stage))
	for i, st := range steps {
		steps[i] = strings.ReplaceAll(st, StagePrefix+start, StagePrefix+"{window}")
	}
	return steps
}

// UpsertSteps are the statements of one window's write in upsert mode. A
// window of one block (up to 100,000 rows) is sent once every row is
// mapped; a bigger one is staged, and only a complete window's
// partitions are attached. Either way a window that fails leaves the
// target as it was.
func (a ClickHouseAppend) UpsertSteps() []string {
	const start = "20060102T150405"
	stage := a.Stage(start)
	steps := []string{
		a.Insert(a.Table) + " -- a window of one block: its rows, once all are mapped",
		a.DropStage(stage) + " -- a bigger window:",
		a.CreateStage(stage),
		a.Insert(stage) + " -- rows of the window, in blocks of at least 100,000",
		a.StagePartitions(stage),
		a.Attach(stage, "{partition_id}") + " -- for each {partition_id} of the staging table",
		a.DropStage(stage),
	}
	for i, st := range steps {
		steps[i] = strings.ReplaceAll(st, StagePrefix+start, StagePrefix+"{window}")
	}
	return steps
}

// splitName returns a dotted name's database as a SQL expression
// (currentDatabase() when it has none) and its table name.
func splitName(name string) (db, table string) {
	if d, t, ok := strings.Cut(name, "."); ok {
		return QuoteString(d), t
	}
	return "currentDatabase()", name
}

// QuoteString quotes s as a ClickHouse string literal.
func QuoteString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
