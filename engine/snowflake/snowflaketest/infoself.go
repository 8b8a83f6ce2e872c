//go:build duckdb_arrow

package snowflaketest

import (
	"fmt"
	"strings"
)

// Snowflake's INFORMATION_SCHEMA lists its own views: in TABLES as views
// of schema INFORMATION_SCHEMA, and their columns in COLUMNS.

// infoViews are the INFORMATION_SCHEMA views snowsim has, with their
// columns and Snowflake types, in order.
var infoViews = []struct {
	name string
	cols [][2]string
}{
	{"COLUMNS", [][2]string{{"TABLE_CATALOG", "TEXT"}, {"TABLE_SCHEMA", "TEXT"}, {"TABLE_NAME", "TEXT"}, {"COLUMN_NAME", "TEXT"},
		{"ORDINAL_POSITION", "NUMBER"}, {"COLUMN_DEFAULT", "TEXT"}, {"IS_NULLABLE", "TEXT"}, {"DATA_TYPE", "TEXT"},
		{"CHARACTER_MAXIMUM_LENGTH", "NUMBER"}, {"CHARACTER_OCTET_LENGTH", "NUMBER"}, {"NUMERIC_PRECISION", "NUMBER"},
		{"NUMERIC_PRECISION_RADIX", "NUMBER"}, {"NUMERIC_SCALE", "NUMBER"}, {"DATETIME_PRECISION", "NUMBER"}, {"COMMENT", "TEXT"}}},
	{"LOAD_HISTORY", [][2]string{{"SCHEMA_NAME", "TEXT"}, {"TABLE_NAME", "TEXT"}, {"FILE_NAME", "TEXT"},
		{"LAST_LOAD_TIME", "TIMESTAMP_LTZ"}, {"STATUS", "TEXT"}, {"ROW_COUNT", "NUMBER"}, {"ROW_PARSED", "NUMBER"}}},
	{"SCHEMATA", [][2]string{{"CATALOG_NAME", "TEXT"}, {"SCHEMA_NAME", "TEXT"}}},
	{"TABLES", [][2]string{{"TABLE_CATALOG", "TEXT"}, {"TABLE_SCHEMA", "TEXT"}, {"TABLE_NAME", "TEXT"}, {"TABLE_OWNER", "TEXT"},
		{"TABLE_TYPE", "TEXT"}, {"IS_TRANSIENT", "TEXT"}, {"CLUSTERING_KEY", "TEXT"}, {"ROW_COUNT", "NUMBER"},
		{"BYTES", "NUMBER"}, {"CREATED", "TIMESTAMP_LTZ"}, {"LAST_ALTERED", "TIMESTAMP_LTZ"}, {"COMMENT", "TEXT"}}},
}

// infoSelfColumns are COLUMNS rows of the views of database db.
func infoSelfColumns(db string) string {
	var rows []string
	for _, v := range infoViews {
		for i, c := range v.cols {
			prec, radix, scale, length, dtp := "NULL", "NULL", "NULL", "NULL", "NULL"
			switch c[1] {
			case "NUMBER":
				prec, radix, scale = "9", "10", "0"
			case "TEXT":
				length = "16777216"
			case "TIMESTAMP_LTZ":
				dtp = "9"
			}
			rows = append(rows, fmt.Sprintf("(%s, 'INFORMATION_SCHEMA', %s, %s, %d, NULL, 'YES', %s, %s, %s, %s, %s, %s, %s, NULL)",
				sqlQuote(db), sqlQuote(v.name), sqlQuote(c[0]), i+1, sqlQuote(c[1]), length, length, prec, radix, scale, dtp))
		}
	}
	return "SELECT * FROM (VALUES " + strings.Join(rows, ", ") + ")"
}

// infoSelfTables are TABLES rows of the views of database db.
func infoSelfTables(db string) string {
	var rows []string
	for _, v := range infoViews {
		rows = append(rows, fmt.Sprintf("(%s, 'INFORMATION_SCHEMA', %s, NULL, 'VIEW', 'NO', NULL, NULL, NULL, NULL, NULL, NULL)", sqlQuote(db), sqlQuote(v.name)))
	}
	return "SELECT * FROM (VALUES " + strings.Join(rows, ", ") + ")"
}
