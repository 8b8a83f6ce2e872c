package ddl

import (
	"fmt"
	"strings"
)

// SnowflakeWrite builds the statements of one push window into
// Snowflake. Plan and sink both use it, so the plan shows the statements
// sent.
type SnowflakeWrite struct {
	// Table is the target as written ([DATABASE.][SCHEMA.]TABLE).
	Table   string
	Columns []string
	// Window is the column windows are cut on, "" when none; Key the
	// merge key.
	Window string
	Key    []string
	// Mode is append, merge or replace.
	Mode string
}

func (w SnowflakeWrite) target() string { return QuoteSnowflakeName(w.Table) }

// Stage is the staging table's quoted name.
func (w SnowflakeWrite) Stage() string { return SnowflakeStage(w.Table) }

// CreateStage (re)creates the staging table, shaped like the target.
func (w SnowflakeWrite) CreateStage() string { return SnowflakeStageLike(w.Stage(), w.target()) }

// DropStage drops the staging table.
func (w SnowflakeWrite) DropStage() string { return "DROP TABLE IF EXISTS " + w.Stage() }

// InsertRows inserts rows bound to its ? markers, one per column, into
// table (quoted).
func (w SnowflakeWrite) InsertRows(table string) string {
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(w.Columns)), ", ")
	return fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", table, QuoteSnowflakeList(w.Columns), marks)
}

// Put puts a Parquet file on the user's stage at folder (a large load).
func Put(path, folder string) string {
	return fmt.Sprintf("PUT 'file://%s' %s AUTO_COMPRESS = FALSE SOURCE_COMPRESSION = NONE OVERWRITE = TRUE", path, folder)
}

// CopyInto loads every file of folder into table (quoted), atomically.
// FORCE: the files are new, and a table's load history must never make
// COPY skip one.
func CopyInto(table, folder string) string {
	return fmt.Sprintf("COPY INTO %s FROM %s/ FILE_FORMAT = (TYPE = PARQUET) MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE FORCE = TRUE PURGE = TRUE", table, folder)
}

// Clear deletes the window's rows from the target: with two ? markers
// for the window's start and end when windowed, else every row.
func (w SnowflakeWrite) Clear(windowed bool) string {
	if !windowed {
		return "DELETE FROM " + w.target()
	}
	q := QuoteSnowflake(w.Window)
	return fmt.Sprintf("DELETE FROM %s WHERE %s >= ? AND %s < ?", w.target(), q, q)
}

// InsertStaged copies the staged rows into the target.
func (w SnowflakeWrite) InsertStaged() string {
	return SnowflakeInsertSelect(w.target(), w.Stage(), w.Columns)
}

// Swap swaps the staging table in (replace).
func (w SnowflakeWrite) Swap() string { return SnowflakeSwap(w.target(), w.Stage()) }

// Merge merges the staged rows on the key (merge).
func (w SnowflakeWrite) Merge() string {
	return SnowflakeMerge(w.target(), w.Stage(), w.Columns, w.Key)
}

// Digest counts the target's rows of a window (two ? markers when
// windowed) and sums HASH of each.
func (w SnowflakeWrite) Digest(windowed bool) string {
	q := fmt.Sprintf("SELECT COUNT(*), CAST(SUM(HASH(%s)) AS VARCHAR) FROM %s", QuoteSnowflakeList(w.Columns), w.target())
	if windowed {
		c := QuoteSnowflake(w.Window)
		q += fmt.Sprintf(" WHERE %s >= ? AND %s < ?", c, c)
	}
	return q
}

// Windowed says whether a window of this write is cut on its column:
// an append with a window column.
func (w SnowflakeWrite) Windowed() bool { return w.Mode == "append" && w.Window != "" }

// Steps are the statements of one window's write, in order, as the plan
// shows them.
func (w SnowflakeWrite) Steps() []string {
	windowed := w.Windowed()
	binds := ""
	if windowed {
		binds = " -- the ? bound to the window's start and end, as TIMESTAMP_NTZ"
	}
	steps := []string{
		w.CreateStage(),
		w.InsertRows(w.Stage()) + " -- for each batch of rows, array-bound, in a load under the bulk size",
		Put("{file}", "@~/sluice/{load}") + " -- for each Parquet file, in a load of the bulk size or more",
		CopyInto(w.Stage(), "@~/sluice/{load}") + " -- when the load went through Parquet files",
	}
	switch w.Mode {
	case "append":
		steps = append(steps, "BEGIN", w.Clear(windowed)+binds, w.InsertStaged(), "COMMIT")
	case "merge":
		steps = append(steps, w.Merge())
	case "replace":
		steps = append(steps, w.Swap())
	}
	if w.Mode != "merge" {
		note := " -- must count the rows written; the ledger keeps both"
		if windowed {
			note += " (the ? bound to the window's start and end)"
		}
		steps = append(steps, w.Digest(windowed)+note)
	}
	return append(steps, w.DropStage())
}
