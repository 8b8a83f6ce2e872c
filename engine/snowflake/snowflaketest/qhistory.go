//go:build duckdb_arrow

package snowflaketest

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// INFORMATION_SCHEMA.QUERY_HISTORY_BY_SESSION() lists the session's
// statements, the running one included, most recent first.

// A queryEntry is one request of a session, for QUERY_HISTORY_BY_SESSION.
type queryEntry struct {
	id, text, tag       string
	database, schema    string
	role, warehouse     string
	start, end          time.Time
	errCode, errMessage string
}

// maxSessionHistory bounds what a session keeps of its history.
const maxSessionHistory = 1000

// began records that res started running text in sess.
func (sess *session) began(res *result, text, tag string) {
	sess.cmu.Lock()
	defer sess.cmu.Unlock()
	sess.history = append(sess.history, &queryEntry{id: res.id, text: text, tag: tag,
		database: sess.database, schema: sess.schema, role: sess.role, warehouse: sess.warehouse, start: time.Now()})
	if len(sess.history) > maxSessionHistory {
		sess.history = sess.history[len(sess.history)-maxSessionHistory:]
	}
}

// ended records that res finished.
func (sess *session) ended(res *result) {
	sess.cmu.Lock()
	defer sess.cmu.Unlock()
	for i := len(sess.history) - 1; i >= 0; i-- {
		if q := sess.history[i]; q.id == res.id {
			q.end = time.Now()
			if res.err != nil {
				q.errCode, q.errMessage = res.err.code(), res.err.Message
			}
			return
		}
	}
}

// queryHistoryTable is the DuckDB subquery QUERY_HISTORY_BY_SESSION
// stands for: sess's statements, most recent first, at most limit.
func queryHistoryTable(sess *session, limit int) string {
	sess.cmu.Lock()
	entries := make([]queryEntry, 0, len(sess.history))
	for i := len(sess.history) - 1; i >= 0 && len(entries) < limit; i-- {
		entries = append(entries, *sess.history[i])
	}
	sess.cmu.Unlock()
	text := func(s string) string {
		if s == "" {
			return "CAST(NULL AS VARCHAR)"
		}
		return sqlQuote(s)
	}
	ts := func(t time.Time) string {
		if t.IsZero() {
			return "CAST(NULL AS TIMESTAMPTZ)"
		}
		return "CAST(" + sqlQuote(t.UTC().Format("2006-01-02 15:04:05.000000+00")) + " AS TIMESTAMPTZ)"
	}
	var rows []string
	for _, q := range entries {
		status, elapsed := "RUNNING", time.Since(q.start)
		if !q.end.IsZero() {
			status, elapsed = "SUCCESS", q.end.Sub(q.start)
			if q.errCode != "" {
				status = "FAILED_WITH_ERROR"
			}
		}
		rows = append(rows, "("+strings.Join([]string{
			text(q.id), text(q.text), text(q.database), text(q.schema), strconv.FormatInt(sess.id, 10),
			text(sess.user.Name), text(q.role), text(q.warehouse), "CAST(" + sqlQuote(q.tag) + " AS VARCHAR)", text(status),
			text(q.errCode), text(q.errMessage), ts(q.start), ts(q.end), strconv.FormatInt(elapsed.Milliseconds(), 10),
		}, ", ")+")")
	}
	return fmt.Sprintf("(SELECT * FROM (VALUES %s) AS __qh(QUERY_ID, QUERY_TEXT, DATABASE_NAME, SCHEMA_NAME, SESSION_ID, "+
		"USER_NAME, ROLE_NAME, WAREHOUSE_NAME, QUERY_TAG, EXECUTION_STATUS, ERROR_CODE, ERROR_MESSAGE, START_TIME, END_TIME, "+
		"TOTAL_ELAPSED_TIME))", strings.Join(rows, ", "))
}
