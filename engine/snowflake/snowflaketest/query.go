//go:build duckdb_arrow

package snowflaketest

import (
	"context"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/hockeystack/sluice/engine/sqlscan"
)

// Statement type ids, as the driver tells queries from DML and DDL.
const (
	typeSelect = 0x1000
	typeInsert = 0x3100
	typeUpdate = 0x3200
	typeDelete = 0x3300
	typeMerge  = 0x3400
	typeDDL    = 0x6000
	typeMulti  = 0xA000
)

type bindValue struct {
	Type  string `json:"type"`
	Value any    `json:"value"`
	// Fmt and Schema describe a structured bind: JSON text of the
	// schema's type (structured.go).
	Fmt    string          `json:"fmt,omitempty"`
	Schema json.RawMessage `json:"schema,omitempty"`
}

type queryRequest struct {
	SQLText      string               `json:"sqlText"`
	AsyncExec    bool                 `json:"asyncExec"`
	DescribeOnly bool                 `json:"describeOnly"`
	Parameters   map[string]any       `json:"parameters"`
	Bindings     map[string]bindValue `json:"bindings"`
	BindStage    string               `json:"bindStage"`
}

func (s *Server) handleQuery(w http.ResponseWriter, r *http.Request, sess *session) {
	var req queryRequest
	if err := decodeBody(r, &req); err != nil {
		writeFailure(w, sqlError(codeSyntax, "42000", "%v", err), nil)
		return
	}
	requestID := r.URL.Query().Get("requestId")
	if prev := sess.request(requestID); prev != nil {
		// Snowflake runs a request once per session: the same request id
		// again (the driver's retry after a lost response) gets the first
		// execution's result.
		if req.AsyncExec {
			writeAsync(w, prev.id)
			return
		}
		<-prev.done
		if s.lookup(prev.id) == nil {
			writeFailure(w, sqlError(codeGeneric, "XX000", "Result of request %s is no longer available.", requestID), nil)
			return
		}
		s.respond(w, prev, sess)
		return
	}
	tag := sess.params["QUERY_TAG"]
	if t, ok := req.Parameters["QUERY_TAG"].(string); ok {
		tag = t
	}
	stmts := splitStatements(req.SQLText)
	want := 1
	if v, ok := req.Parameters["MULTI_STATEMENT_COUNT"]; ok {
		want, _ = strconv.Atoi(fmt.Sprint(v))
	} else if v, ok := sess.params["MULTI_STATEMENT_COUNT"]; ok {
		want, _ = strconv.Atoi(v)
	}
	id := s.newQueryID()
	res := &result{id: id, done: make(chan struct{}), session: sess, async: req.AsyncExec}
	s.store(res)
	sess.remember(requestID, res)
	sess.began(res, req.SQLText, tag)
	if len(stmts) == 0 {
		// Only comments or blanks: Snowflake's empty statement error.
		res.err = sqlError(codeEmptyStatement, "42000", "Empty SQL statement.")
		s.finish(res, sess, req.SQLText, tag)
		s.respond(w, res, sess)
		return
	}
	if want != 0 && len(stmts) != want {
		res.err = sqlError(codeStatementCount, "0A000", "Actual statement count %d did not match the desired statement count %d.", len(stmts), want)
		s.finish(res, sess, req.SQLText, tag)
		s.respond(w, res, sess)
		return
	}
	if len(stmts) == 1 && strings.HasPrefix(strings.ToUpper(strings.TrimSpace(stmts[0])), "PUT") {
		if sess.user.ReadOnly {
			res.err = sqlError(codeInsufficientPriv, "42501", "SQL access control error:\nInsufficient privileges to operate on stage")
		} else if !s.put(w, res, sess, stmts[0]) && res.err == nil {
			res.err = sqlError(codeSyntax, "42000", "SQL compilation error:\nsyntax error: PUT 'file://<path>' @<stage>")
		} else if res.err == nil {
			s.finish(res, sess, req.SQLText, tag)
			return
		}
		s.finish(res, sess, req.SQLText, tag)
		s.respond(w, res, sess)
		return
	}
	if len(stmts) == 1 && getRE.MatchString(stmts[0]) {
		if s.get(w, r, res, sess, stmts[0]) && res.err == nil {
			s.finish(res, sess, req.SQLText, tag)
			return
		}
		s.finish(res, sess, req.SQLText, tag)
		s.respond(w, res, sess)
		return
	}
	args, e := bindArgs(req.Bindings)
	if e == nil {
		args, e = structuredBinds(req.Bindings, args, sess)
	}
	if e != nil {
		res.err = e
		s.finish(res, sess, req.SQLText, tag)
		s.respond(w, res, sess)
		return
	}
	run := func(ctx context.Context) {
		s.run(ctx, res, sess, stmts, args, req.DescribeOnly)
		s.finish(res, sess, req.SQLText, tag)
	}
	ctx, cancel := context.WithCancel(context.Background())
	sess.setCancel(requestID, cancel)
	if req.AsyncExec {
		go func() { defer cancel(); defer sess.setCancel(requestID, nil); run(ctx) }()
		writeAsync(w, id)
		return
	}
	defer cancel()
	defer sess.setCancel(requestID, nil)
	run(ctx)
	s.respond(w, res, sess)
}

// writeAsync answers a request to run a query asynchronously.
func writeAsync(w http.ResponseWriter, id string) {
	code := "333334"
	msg := "Asynchronous execution in progress. Use provided query id to perform query monitoring and management."
	writeJSON(w, response{Data: map[string]any{"queryId": id, "getResultUrl": "/queries/" + id + "/result"}, Code: &code, Message: &msg, Success: true})
}

// maxRequests bounds the request ids a session remembers.
const maxRequests = 256

// remember records the result of a session's request id.
func (sess *session) remember(requestID string, res *result) {
	if requestID == "" {
		return
	}
	sess.cmu.Lock()
	defer sess.cmu.Unlock()
	if sess.requests == nil {
		sess.requests = map[string]*result{}
	}
	if len(sess.requestOrder) >= maxRequests {
		delete(sess.requests, sess.requestOrder[0])
		sess.requestOrder = sess.requestOrder[1:]
	}
	sess.requests[requestID] = res
	sess.requestOrder = append(sess.requestOrder, requestID)
}

// request is the result of an earlier request with this id, or nil.
func (sess *session) request(requestID string) *result {
	if requestID == "" {
		return nil
	}
	sess.cmu.Lock()
	defer sess.cmu.Unlock()
	return sess.requests[requestID]
}

func (sess *session) setCancel(requestID string, cancel context.CancelFunc) {
	if requestID == "" {
		return
	}
	sess.cmu.Lock()
	defer sess.cmu.Unlock()
	if sess.cancels == nil {
		sess.cancels = map[string]context.CancelFunc{}
	}
	if cancel == nil {
		delete(sess.cancels, requestID)
	} else {
		sess.cancels[requestID] = cancel
	}
}

func (s *Server) handleAbort(w http.ResponseWriter, r *http.Request, sess *session) {
	var req struct {
		RequestID string `json:"requestId"`
	}
	decodeBody(r, &req)
	sess.cmu.Lock()
	cancel := sess.cancels[req.RequestID]
	sess.cmu.Unlock()
	if cancel != nil {
		cancel()
	}
	writeOK(w, nil)
}

// finish records a statement in the history and releases waiters.
func (s *Server) finish(res *result, sess *session, sqlText, tag string) {
	code := ""
	if res.err != nil {
		code = res.err.code()
	}
	s.record(QueryRecord{QueryID: res.id, User: sess.user.Name, SQL: sqlText, QueryTag: tag, Error: code})
	sess.ended(res)
	res.finished = time.Now()
	close(res.done)
}

// store keeps a result for fetching by id. It bounds what is kept: at
// most 256 results, and at most 8 with downloadable chunks (the large
// ones), dropping the oldest finished first.
func (s *Server) store(res *result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.results[res.id] = res
	for s.over() {
		var oldest *result
		large := s.largeResults() > 8
		for _, r := range s.results {
			if r.finished.IsZero() || large && len(r.chunks) == 0 {
				continue
			}
			if oldest == nil || r.finished.Before(oldest.finished) {
				oldest = r
			}
		}
		if oldest == nil {
			return
		}
		delete(s.results, oldest.id)
		for _, c := range append(oldest.chunks, oldest.inline) {
			if c != nil {
				c.release()
			}
		}
	}
}

func (s *Server) over() bool { return len(s.results) > 256 || s.largeResults() > 8 }

func (s *Server) largeResults() int {
	n := 0
	for _, r := range s.results {
		if len(r.chunks) > 0 {
			n++
		}
	}
	return n
}

func (s *Server) lookup(id string) *result {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.results[id]
}

// run executes the statements of one request on the session.
func (s *Server) run(ctx context.Context, res *result, sess *session, stmts []string, args []any, describeOnly bool) {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	if len(stmts) == 1 {
		s.statement(ctx, res, sess, stmts[0], args, describeOnly)
		return
	}
	var ids, types []string
	for _, text := range stmts {
		n := countBinds(text)
		sub := &result{id: s.newQueryID(), done: make(chan struct{}), session: sess}
		s.store(sub)
		part := args
		if n <= len(args) {
			part, args = args[:n], args[n:]
		}
		s.statement(ctx, sub, sess, text, part, false)
		sub.finished = time.Now()
		close(sub.done)
		if sub.err != nil {
			res.err = sub.err
			return
		}
		ids = append(ids, sub.id)
		types = append(types, strconv.FormatInt(sub.statementType, 10))
	}
	res.statementType = typeMulti
	res.resultID = ids
	res.resultTypes = types
	res.setStatus("multiple statement execution", "Multiple statements executed successfully.")
}

func countBinds(text string) int {
	n := 0
	for _, t := range sqlscan.Scan(text) {
		if t.Kind == sqlscan.Punct && t.Text == "?" {
			n++
		}
	}
	return n
}

// setStatus makes res a one-row text result, the answer to DDL.
func (res *result) setStatus(name, value string) {
	res.columns = []column{{Name: name, Kind: kText, Nullable: true}}
	res.status = [][]*string{{&value}}
	res.total = 1
	if res.statementType == 0 {
		res.statementType = typeDDL
	}
}

// setCount makes res the answer to DML: the affected row count.
func (res *result) setCount(stmtType int64, name string, n int64) {
	v := strconv.FormatInt(n, 10)
	res.statementType = stmtType
	res.columns = []column{{Name: name, Kind: kFixed, Precision: 19}}
	res.status = [][]*string{{&v}}
	res.total = 1
}

// statement executes one Snowflake statement.
func (s *Server) statement(ctx context.Context, res *result, sess *session, text string, args []any, describeOnly bool) {
	toks := sqlscan.Scan(text)
	if len(toks) == 0 {
		res.err = sqlError(900, "42000", "Empty SQL statement.")
		return
	}
	first := strings.ToUpper(toks[0].Text)
	if writes(toks) && sess.user.ReadOnly {
		res.err = sqlError(codeInsufficientPriv, "42501", "SQL access control error:\nInsufficient privileges to operate on %s", target(toks, sess))
		return
	}
	if handled := s.special(ctx, res, sess, toks, text, args); handled {
		return
	}
	duckSQL, _, e := translateSQL(text, sess)
	if e != nil {
		res.err = e
		return
	}
	stmtType := int64(typeSelect)
	switch first {
	case "INSERT":
		stmtType = typeInsert
	case "UPDATE":
		stmtType = typeUpdate
	case "DELETE":
		stmtType = typeDelete
	case "MERGE":
		stmtType = typeMerge
	}
	args, err := resolveTZBinds(ctx, sess, duckSQL, args)
	if err != nil {
		res.err = fromDuck(err)
		return
	}
	if stmtType != typeSelect {
		n, err := s.execCount(ctx, sess, duckSQL, args)
		if err != nil {
			res.err = fromDuck(err)
			return
		}
		col := map[int64]string{typeInsert: "number of rows inserted", typeUpdate: "number of rows updated",
			typeDelete: "number of rows deleted", typeMerge: "number of rows merged"}[stmtType]
		res.setCount(stmtType, col, n)
		return
	}
	if !describeOnly {
		res.corrupt = s.faults.corruptRow(text) + 1
	}
	res.structured = selectStructured(toks)
	// Read before the query runs: the query holds the session's
	// connection until its last row, and the catalog is read through it.
	tableTypes := tableStructured(ctx, sess, toks)
	res.structuredCols = func() map[string]*stype { return tableTypes }
	s.query(ctx, res, sess, duckSQL, args, describeOnly)
	if res.err == nil {
		applyLiterals(res.columns, selectLiterals(toks))
	}
}

// execCount runs DML, once per row of array binds, and returns the rows
// it affected.
func (s *Server) execCount(ctx context.Context, sess *session, q string, args []any) (int64, error) {
	rows := arrayRows(args)
	if rows == nil {
		r, err := sess.conn.ExecContext(ctx, q, args...)
		if err != nil {
			return 0, err
		}
		return r.RowsAffected()
	}
	// Array binds insert many rows in one statement: all or nothing.
	own := !sess.inTxn
	if own {
		if _, err := sess.conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
			return 0, err
		}
	}
	var total int64
	err := sess.conn.Raw(func(dc any) error {
		if uq, lists, ok := unnestInsert(q, args); ok {
			st, err := dc.(driver.ConnPrepareContext).PrepareContext(ctx, uq)
			if err != nil {
				return err
			}
			defer st.Close()
			named := make([]driver.NamedValue, len(lists))
			for i, l := range lists {
				named[i] = driver.NamedValue{Ordinal: i + 1, Value: l}
			}
			r, err := st.(driver.StmtExecContext).ExecContext(ctx, named)
			if err != nil {
				return err
			}
			total, _ = r.RowsAffected()
			return nil
		}
		// An INSERT ... VALUES (?, ...) runs with many rows a statement,
		// as Snowflake loads an array bind in one go; other DML once per
		// row.
		group := 1
		into, values, tuple, ok := valuesTuple(q)
		head := into + values
		if ok {
			group = valuesGroup
		}
		prepared := map[int]driver.Stmt{}
		defer func() {
			for _, st := range prepared {
				st.Close()
			}
		}()
		for start := 0; start < len(rows); start += group {
			part := rows[start:min(start+group, len(rows))]
			st := prepared[len(part)]
			if st == nil {
				text := q
				if ok {
					text = head + strings.TrimSuffix(strings.Repeat(tuple+", ", len(part)), ", ")
				}
				var err error
				if st, err = dc.(driver.ConnPrepareContext).PrepareContext(ctx, text); err != nil {
					return err
				}
				prepared[len(part)] = st
			}
			var named []driver.NamedValue
			for _, row := range part {
				for _, v := range row {
					named = append(named, driver.NamedValue{Ordinal: len(named) + 1, Value: v})
				}
			}
			r, err := st.(driver.StmtExecContext).ExecContext(ctx, named)
			if err != nil {
				return err
			}
			n, _ := r.RowsAffected()
			total += n
		}
		return nil
	})
	if own {
		if err != nil {
			sess.conn.ExecContext(context.Background(), "ROLLBACK")
			return 0, err
		}
		if _, err := sess.conn.ExecContext(ctx, "COMMIT"); err != nil {
			return 0, err
		}
	}
	return total, err
}

// valuesGroup is how many rows of an array-bound INSERT go into one
// statement.
const valuesGroup = 256

var valuesRE = regexp.MustCompile(`(?is)^(.*)(\bVALUES\s*)(\(\s*\?(?:\s*,\s*\?)*\s*\))\s*;?\s*$`)

// valuesTuple splits INSERT ... VALUES (?, ?) into its head and its one
// tuple of placeholders.
func valuesTuple(q string) (into, values, tuple string, ok bool) {
	m := valuesRE.FindStringSubmatch(q)
	if m == nil || !strings.HasPrefix(strings.ToUpper(strings.TrimSpace(q)), "INSERT") {
		return "", "", "", false
	}
	return m[1], m[2], m[3], true
}

// unnestInsert rewrites INSERT ... VALUES (?, ...) whose arguments are all
// arrays of text into one INSERT ... SELECT of unnested lists, bound one
// list a column: a whole array bind in one statement, as Snowflake loads
// it. The table's types convert the text as they would the VALUES.
func unnestInsert(q string, args []any) (string, []any, bool) {
	into, _, tuple, ok := valuesTuple(q)
	if !ok || strings.Count(tuple, "?") != len(args) {
		return "", nil, false
	}
	// duckdb-go binds no NULL inside a list: each column goes as its text
	// and a list of NULL flags.
	var lists []any
	var unnest, cols []string
	for i, a := range args {
		arr, ok := a.([]any)
		if !ok {
			return "", nil, false
		}
		text := make([]any, len(arr))
		null := make([]any, len(arr))
		for j, v := range arr {
			switch v := v.(type) {
			case nil:
				text[j], null[j] = "", true
			case string:
				text[j], null[j] = v, false
			default:
				return "", nil, false
			}
		}
		lists = append(lists, text, null)
		unnest = append(unnest, fmt.Sprintf("unnest(?::VARCHAR[]) AS v%d, unnest(?::BOOLEAN[]) AS n%d", i, i))
		cols = append(cols, fmt.Sprintf("CASE WHEN n%d THEN NULL ELSE v%d END", i, i))
	}
	return into + "SELECT " + strings.Join(cols, ", ") + " FROM (SELECT " + strings.Join(unnest, ", ") + ")", lists, true
}

// arrayRows turns array binds into rows of scalar arguments, or nil when
// no argument is an array.
func arrayRows(args []any) [][]any {
	n := -1
	for _, a := range args {
		if arr, ok := a.([]any); ok {
			n = len(arr)
			break
		}
	}
	if n < 0 {
		return nil
	}
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = make([]any, len(args))
		for j, a := range args {
			if arr, ok := a.([]any); ok && i < len(arr) {
				rows[i][j] = arr[i]
			} else if !ok {
				rows[i][j] = a
			}
		}
	}
	return rows
}

// query runs a statement that returns rows, through DuckDB's Arrow
// interface, cutting the result into chunks as it comes (chunks.go).
func (s *Server) query(ctx context.Context, res *result, sess *session, q string, args []any, describeOnly bool) {
	var aliases []string
	var cw *chunkWriter
	err := sess.conn.Raw(func(dc any) error {
		st, err := dc.(driver.ConnPrepareContext).PrepareContext(ctx, q)
		if err != nil {
			return err
		}
		ds := st.(*duckdb.Stmt)
		n, _ := ds.ColumnCount()
		for i := range n {
			alias := ""
			if ti, err := ds.ColumnTypeInfo(i); err == nil {
				alias = ti.Alias()
			}
			aliases = append(aliases, alias)
		}
		st.Close()
		ar, err := duckdb.NewArrowFromConn(dc.(driver.Conn))
		if err != nil {
			return err
		}
		if describeOnly {
			// Snowflake describes without running: LIMIT 0 reads nothing.
			q = "SELECT * FROM (" + q + ") AS __describe LIMIT 0"
		}
		rr, err := ar.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rr.Release()
		s.setColumns(res, sess, rr.Schema(), aliases)
		var structured func([]arrow.RecordBatch) ([]arrow.RecordBatch, error)
		if res.structured != nil || semiStructured(res.columns) {
			structured = typeStructured(res.columns, res.structured, res.structuredCols, sess, res.format)
		}
		cw = s.newChunkWriter(res)
		row := 0 // rows before the record
		for rr.Next() {
			rec := rr.RecordBatch()
			rec.Retain()
			recs := []arrow.RecordBatch{rec}
			if structured != nil {
				if recs, err = structured(recs); err != nil {
					for _, r := range recs {
						r.Release()
					}
					return structuredError{err}
				}
			}
			n := recs[0].NumRows()
			if r := res.corrupt - 1 - row; res.corrupt > 0 && r >= 0 && int64(r) < n {
				corruptText(recs, res.columns, r)
			}
			row += int(n)
			recs = prettyVariants(recs, res.columns)
			cw.add(recs[0])
			recs[0].Release()
		}
		if err := rr.Err(); err != nil {
			return err
		}
		return cw.finish()
	})
	if err != nil {
		if cw != nil {
			cw.abort()
		}
		if errors.Is(err, context.Canceled) {
			res.err = sqlError(codeQueryCancelled, "57014", "SQL execution canceled")
			return
		}
		var se structuredError
		if errors.As(err, &se) {
			res.err = sqlError(100071, "22000", "%v", se.err)
			return
		}
		res.err = fromDuck(err)
		return
	}
}

// structuredError is a value that does not fit its structured type.
type structuredError struct{ err error }

func (e structuredError) Error() string { return e.err.Error() }

// setColumns sets a query result's columns and format from DuckDB's schema
// and type aliases.
func (s *Server) setColumns(res *result, sess *session, schema *arrow.Schema, aliases []string) {
	res.statementType = typeSelect
	for i, f := range schema.Fields() {
		alias := ""
		if i < len(aliases) {
			alias = aliases[i]
		}
		res.columns = append(res.columns, columnOf(f, alias, nil))
	}
	// The driver sends ALTER SESSION SET GO_QUERY_RESULT_FORMAT = JSON,
	// unquoted: parameter values are case-insensitive.
	// A statement answered in JSON whatever the session says (SHOW) set
	// it before.
	if res.format != "json" {
		res.format = "arrow"
		if strings.EqualFold(sess.params["GO_QUERY_RESULT_FORMAT"], "json") {
			res.format = "json"
		}
	}
}

// respond writes a finished result as the query response.
func (s *Server) respond(w http.ResponseWriter, res *result, sess *session) {
	if res.err != nil {
		writeFailure(w, res.err, map[string]any{
			"queryId": res.id, "sqlState": res.err.SQLState, "errorCode": res.err.code(), "internalError": false,
			"age": 0, "line": -1, "pos": -1, "type": "COMPILATION",
		})
		return
	}
	rowtypes := make([]map[string]any, len(res.columns))
	for i, c := range res.columns {
		rowtypes[i] = c.rowType()
	}
	data := map[string]any{
		"parameters":         append([]map[string]any{{"name": "TIMEZONE", "value": sess.zone()}}, outputFormats(sess)...),
		"rowtype":            rowtypes,
		"queryId":            res.id,
		"statementTypeId":    res.statementType,
		"total":              res.total,
		"finalDatabaseName":  nullable(sess.database),
		"finalSchemaName":    nullable(sess.schema),
		"finalWarehouseName": nullable(sess.warehouse),
		"finalRoleName":      sess.role,
		"databaseProvider":   nil,
		"version":            1,
		"sqlState":           "00000",
	}
	switch {
	case res.status != nil:
		data["rowset"] = res.status
		data["returned"] = len(res.status)
		data["queryResultFormat"] = "json"
		if res.resultID != nil {
			data["resultIds"] = strings.Join(res.resultID, ",")
			data["resultTypes"] = strings.Join(res.resultTypes, ",")
		}
	case res.format == "json":
		data["queryResultFormat"] = "json"
		rows := [][]*string{}
		if res.inline != nil {
			if _, err := res.inline.encode(); err != nil {
				writeFailure(w, sqlError(codeGeneric, "XX000", "encoding result: %v", err), nil)
				return
			}
			if res.inline.json != nil {
				rows = res.inline.json
			}
		}
		data["rowset"] = rows
		data["returned"] = len(rows)
	default:
		data["queryResultFormat"] = "arrow"
		b64 := ""
		if res.inline != nil && res.inline.rows > 0 {
			body, err := arrowChunk(res.inline.records, res.columns)
			if err != nil {
				writeFailure(w, sqlError(codeGeneric, "XX000", "encoding result: %v", err), nil)
				return
			}
			b64 = base64Of(body)
		}
		data["rowsetBase64"] = b64
		data["returned"] = 0
		if res.inline != nil {
			data["returned"] = res.inline.rows
		}
	}
	if len(res.chunks) > 0 {
		chunks := make([]map[string]any, len(res.chunks))
		for i, c := range res.chunks {
			chunks[i] = map[string]any{
				"url":              fmt.Sprintf("%s/chunks/%s/%d", s.URL, res.id, i),
				"rowCount":         c.rows,
				"uncompressedSize": c.rows * 64 * max(1, len(res.columns)),
				"compressedSize":   c.rows * 32 * max(1, len(res.columns)),
			}
		}
		data["chunks"] = chunks
		data["chunkHeaders"] = map[string]string{"x-snowsim-chunk": "1"}
		data["qrmk"] = ""
	}
	writeOK(w, data)
}

// handleChunk serves one downloadable chunk of a result.
func (s *Server) handleChunk(w http.ResponseWriter, r *http.Request) {
	res := s.lookup(r.PathValue("id"))
	n, err := strconv.Atoi(r.PathValue("n"))
	if res == nil || err != nil || n < 0 || n >= len(res.chunks) {
		http.Error(w, "no such chunk", http.StatusNotFound)
		return
	}
	wait, cut := s.faults.chunkFault()
	if wait > 0 {
		time.Sleep(wait)
	}
	res.chunks[n].serve(w, cut)
}

// resultWait is how long a request for a result waits for its query
// before answering that it is still running.
var resultWait = 20 * time.Second

func (s *Server) handleResult(w http.ResponseWriter, r *http.Request, sess *session) {
	res := s.lookup(r.PathValue("id"))
	if res == nil {
		writeFailure(w, sqlError(codeResultMissing, "02000", "Result for query %s not found or expired.", r.PathValue("id")), nil)
		return
	}
	select {
	case <-res.done:
		s.respond(w, res, sess)
	case <-time.After(resultWait):
		code := "333333"
		msg := "Query execution in progress."
		if res.async {
			// An asynchronous query's result is asked for until it is
			// there: Snowflake's code for that is 333334.
			code, msg = "333334", "Asynchronous execution in progress."
		}
		writeJSON(w, response{Data: map[string]any{"queryId": res.id, "getResultUrl": "/queries/" + res.id + "/result"}, Code: &code, Message: &msg, Success: true})
	}
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request, sess *session) {
	res := s.lookup(r.PathValue("id"))
	if res == nil {
		writeOK(w, map[string]any{"queries": []any{}})
		return
	}
	status := map[string]any{"id": res.id, "status": "RUNNING", "sqlText": "", "startTime": 0, "endTime": 0}
	select {
	case <-res.done:
		status["status"] = "SUCCESS"
		status["endTime"] = res.finished.UnixMilli()
		if res.err != nil {
			status["status"] = "FAILED_WITH_ERROR"
			status["errorCode"] = strconv.Itoa(res.err.Code)
			status["errorMessage"] = res.err.Message
		}
	default:
	}
	writeOK(w, map[string]any{"queries": []any{status}})
}

// bindArgs converts the driver's bindings ("1", "2", ...) into DuckDB
// arguments by their Snowflake types. An array bind becomes []any.
func bindArgs(b map[string]bindValue) ([]any, *Error) {
	if len(b) == 0 {
		return nil, nil
	}
	args := make([]any, len(b))
	for k, v := range b {
		i, err := strconv.Atoi(k)
		if err != nil || i < 1 || i > len(b) {
			return nil, sqlError(codeBindCount, "07001", "Bind variable %s not set.", k)
		}
		if arr, ok := v.Value.([]any); ok {
			out := make([]any, len(arr))
			for j, x := range arr {
				a, e := bindValueOf(v.Type, x)
				if e != nil {
					return nil, e
				}
				out[j] = a
			}
			args[i-1] = out
			continue
		}
		a, e := bindValueOf(v.Type, v.Value)
		if e != nil {
			return nil, e
		}
		args[i-1] = a
	}
	return args, nil
}

func bindValueOf(typ string, v any) (any, *Error) {
	if v == nil {
		return nil, nil
	}
	str, ok := v.(string)
	if !ok {
		str = fmt.Sprint(v)
	}
	bad := func() *Error { return sqlError(codeBadCast, "22018", "Numeric value '%s' is not recognized", str) }
	switch strings.ToUpper(typ) {
	case "FIXED":
		if n, err := strconv.ParseInt(str, 10, 64); err == nil {
			return n, nil
		}
		if n, ok := new(big.Int).SetString(str, 10); ok {
			return n, nil
		}
		return str, nil
	case "REAL":
		f, err := strconv.ParseFloat(str, 64)
		if err != nil {
			return nil, bad()
		}
		return f, nil
	case "BOOLEAN":
		b, err := strconv.ParseBool(str)
		if err != nil {
			return nil, bad()
		}
		return b, nil
	case "DATE":
		ms, err := strconv.ParseInt(str, 10, 64)
		if err != nil {
			return nil, bad()
		}
		// The driver sends the instant's epoch milliseconds, time of day
		// included; the date is the day it falls in, floored (before
		// 1970 the milliseconds are negative).
		const day = 86_400_000
		days := ms / day
		if ms%day < 0 {
			days--
		}
		return time.UnixMilli(days * day).UTC(), nil
	case "TIME":
		ns, err := strconv.ParseInt(str, 10, 64)
		if err != nil {
			return nil, bad()
		}
		return time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(ns)), nil
	case "TIMESTAMP_NTZ", "TIMESTAMP_LTZ", "TIMESTAMP_TZ":
		num, offset, _ := strings.Cut(str, " ")
		ns, ok := new(big.Int).SetString(num, 10)
		if !ok {
			return nil, bad()
		}
		sec := new(big.Int).Div(ns, big.NewInt(1e9))
		frac := new(big.Int).Mod(ns, big.NewInt(1e9))
		t := time.Unix(sec.Int64(), frac.Int64()).UTC()
		if offset != "" {
			if m, err := strconv.Atoi(offset); err == nil {
				t = t.In(time.FixedZone("", (m-1440)*60))
			}
		}
		return t, nil
	case "BINARY":
		b, err := hex.DecodeString(str)
		if err != nil {
			return nil, bad()
		}
		return b, nil
	}
	return str, nil
}

// resolveTZBinds rebinds the times DuckDB expects as SF_TIMESTAMP_TZ, a
// struct duckdb-go cannot bind a time.Time to, as text with its offset,
// which the type's cast reads back exactly.
func resolveTZBinds(ctx context.Context, sess *session, q string, args []any) ([]any, error) {
	isTime := func(v any) bool { _, ok := v.(time.Time); return ok }
	hasTime := func(a any) bool {
		if arr, ok := a.([]any); ok {
			return slices.ContainsFunc(arr, isTime)
		}
		return isTime(a)
	}
	if !slices.ContainsFunc(args, hasTime) {
		return args, nil
	}
	// The text layout of each argument DuckDB cannot bind a time.Time
	// to: SF_TIMESTAMP_TZ, and TIME(7..9), DuckDB's TIME_NS; "" binds
	// the value itself.
	asText := make([]string, len(args))
	err := sess.conn.Raw(func(dc any) error {
		st, err := dc.(driver.ConnPrepareContext).PrepareContext(ctx, q)
		if err != nil {
			return err
		}
		defer st.Close()
		for i := range args {
			t, err := st.(*duckdb.Stmt).ParamType(i + 1)
			switch {
			case err != nil:
			case t == duckdb.TYPE_STRUCT:
				asText[i] = "2006-01-02 15:04:05.999999999 -07:00"
			case t == duckTimeNS:
				asText[i] = "15:04:05.999999999"
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	value := func(v any, layout string) any {
		if t, ok := v.(time.Time); ok && layout != "" {
			return t.Format(layout)
		}
		return v
	}
	out := make([]any, len(args))
	for i, a := range args {
		if arr, ok := a.([]any); ok {
			conv := make([]any, len(arr))
			for j, v := range arr {
				conv[j] = value(v, asText[i])
			}
			out[i] = conv
			continue
		}
		out[i] = value(a, asText[i])
	}
	return out, nil
}

// splitStatements splits a request into statements at top-level
// semicolons, dropping empty ones.
func splitStatements(text string) []string {
	var out []string
	start := 0
	for _, t := range sqlscan.Scan(text) {
		if t.Kind == sqlscan.Punct && t.Text == ";" {
			if s := strings.TrimSpace(text[start:t.Off]); s != "" {
				out = append(out, s)
			}
			start = t.End
		}
	}
	if s := strings.TrimSpace(text[start:]); s != "" && len(sqlscan.Scan(s)) > 0 {
		out = append(out, s)
	}
	return out
}

// writes reports whether a statement changes data or objects.
func writes(toks []sqlscan.Token) bool {
	switch strings.ToUpper(toks[0].Text) {
	case "INSERT", "UPDATE", "DELETE", "MERGE", "CREATE", "DROP", "ALTER", "TRUNCATE", "COPY", "PUT", "REMOVE", "RM", "UNDROP", "GRANT", "REVOKE":
		return !(strings.EqualFold(toks[0].Text, "ALTER") && len(toks) > 1 && isWord(toks[1], "SESSION"))
	}
	return false
}

// target names the object a write statement touches, for the privilege
// error.
func target(toks []sqlscan.Token, sess *session) string {
	for i, t := range toks {
		if isWord(t, "TABLE", "INTO", "FROM", "VIEW", "SCHEMA", "DATABASE") && i+1 < len(toks) {
			var parts []string
			for j := i + 1; j < len(toks); j++ {
				if toks[j].Kind == sqlscan.Ident || toks[j].Kind == sqlscan.QuotedIdent {
					if isWord(toks[j], "IF", "NOT", "EXISTS") {
						continue
					}
					parts = append(parts, strings.ToUpper(toks[j].Text))
					if j+1 < len(toks) && isPunct(toks[j+1], ".") {
						j++
						continue
					}
				}
				break
			}
			if len(parts) > 0 {
				return strings.ToLower(t.Text) + " '" + strings.Join(parts, ".") + "'"
			}
		}
	}
	return "this object"
}
