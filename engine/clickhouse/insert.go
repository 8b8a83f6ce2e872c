package clickhouse

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/hockeystack/sluice/engine/ddl"
)

// insertStatement is the INSERT a batch of the named columns is opened
// with. clickhouse-go reads the column list back out of the statement, to
// order the block it sends, with regular expressions that know no
// escapes: a name holding a backslash or a backtick comes out wrong and
// the insert fails, and an unbalanced parenthesis in a name cuts the
// column list off the statement, which then inserts into every column of
// the table. So a newline follows INTO, which the driver's pattern for a
// column list does not allow (it finds none and leaves the block in the
// server's order, the order of the list), and parentheses in names are
// written \x28 and \x29, which both ClickHouse 18.16 and current releases
// read back. prepareInsert checks the block the server answers with.
func insertStatement(table string, cols []string) string {
	parens := strings.NewReplacer("(", `\x28`, ")", `\x29`)
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = parens.Replace(ddl.QuoteClickHouse(c))
	}
	return "INSERT INTO\n" + ddl.QuoteClickHouseName(table) + " (" + strings.Join(q, ", ") + ")"
}

// prepareInsert opens a batch insert of cols into table and checks that
// the server expects exactly those columns, in that order, so a value can
// never land in another column. The caller sends or aborts the batch.
func prepareInsert(ctx context.Context, conn driver.Conn, table string, cols []string) (driver.Batch, error) {
	batch, err := conn.PrepareBatch(ctx, insertStatement(table, cols))
	if err != nil {
		return nil, err
	}
	var got []string
	for _, c := range batch.Columns() {
		got = append(got, c.Name())
	}
	if !slices.Equal(got, cols) {
		batch.Abort()
		return nil, fmt.Errorf("the server expects the columns %q, not %q", got, cols)
	}
	return batch, nil
}
