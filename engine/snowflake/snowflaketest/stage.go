//go:build duckdb_arrow

package snowflaketest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/hockeystack/sluice/engine/sqlscan"
)

// Stages are folders under the server's stage root: the driver writes PUT
// files straight into them (a LOCAL_FS stage, as Snowflake's own tests
// use), and COPY INTO reads them with DuckDB.

var putRE = regexp.MustCompile(`(?is)^\s*PUT\s+'?(file://[^'\s]+)'?\s+(?:'(@[^']+)'|(@\S+))(.*)$`)

// stageDir maps a stage reference (@~, @%TABLE, @NAME, with an optional
// /path) to its folder, creating it.
func (s *Server) stageDir(sess *session, ref string) (string, *Error) {
	ref = strings.TrimPrefix(ref, "@")
	name, sub, _ := strings.Cut(ref, "/")
	var dir string
	switch {
	case name == "~":
		dir = filepath.Join(s.stageRoot, "users", sess.user.Name)
	case strings.HasPrefix(name, "%"):
		o, e := sess.resolve(splitName(strings.TrimPrefix(name, "%")))
		if e != nil {
			return "", e
		}
		dir = filepath.Join(s.stageRoot, "tables", o.String())
	default:
		o, e := sess.resolve(splitName(name))
		if e != nil {
			return "", e
		}
		dir = filepath.Join(s.stageRoot, "stages", o.String())
	}
	if sub != "" {
		clean := filepath.Clean("/" + sub)
		dir = filepath.Join(dir, clean)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", sqlError(codeGeneric, "58030", "stage %s: %v", ref, err)
	}
	return dir, nil
}

// splitName splits a dotted name, upper-casing unquoted parts.
func splitName(n string) []string {
	var parts []string
	for _, t := range sqlscan.Scan(n) {
		switch t.Kind {
		case sqlscan.Ident:
			parts = append(parts, strings.ToUpper(t.Text))
		case sqlscan.QuotedIdent:
			parts = append(parts, t.Text)
		}
	}
	return parts
}

// put answers PUT with the upload instructions the driver follows for a
// local stage.
func (s *Server) put(w http.ResponseWriter, res *result, sess *session, text string) bool {
	m := putRE.FindStringSubmatch(text)
	if m == nil {
		return false
	}
	// A quoted stage reference may hold spaces.
	m = []string{m[0], m[1], m[2] + m[3], m[4]}
	dir, e := s.stageDir(sess, m[2])
	if e != nil {
		res.err = e
		return false
	}
	opts := options(m[3])
	autoCompress := opts["AUTO_COMPRESS"] != "FALSE"
	writeOK(w, map[string]any{
		"command":           "UPLOAD",
		"src_locations":     []string{strings.TrimPrefix(m[1], "file://")},
		"autoCompress":      autoCompress,
		"overwrite":         opts["OVERWRITE"] == "TRUE",
		"sourceCompression": strings.ToLower(orDefault(opts["SOURCE_COMPRESSION"], "AUTO_DETECT")),
		"parallel":          4,
		"stageInfo":         map[string]any{"locationType": "LOCAL_FS", "location": dir + "/", "path": ""},
		"queryId":           res.id,
		"rowtype":           []any{},
		"statementTypeId":   typeDDL,
	})
	return true
}

var optionRE = regexp.MustCompile(`(?i)([A-Z_]+)\s*=\s*('(?:[^']|'')*'|\([^)]*\)|[^\s,)]+)`)

// options reads KEY = value pairs, upper-casing keys and unquoted values.
func options(text string) map[string]string {
	out := map[string]string{}
	for _, m := range optionRE.FindAllStringSubmatch(text, -1) {
		v := m[2]
		if strings.HasPrefix(v, "'") {
			v, _ = unquoteString(v)
		} else if !strings.HasPrefix(v, "(") {
			v = strings.ToUpper(v)
		}
		out[strings.ToUpper(m[1])] = v
	}
	return out
}

var copyRE = regexp.MustCompile(`(?is)^\s*COPY\s+INTO\s+(\S+)\s+FROM\s+'?(@[^'\s]+)'?(.*)$`)

var copyOwnRE = regexp.MustCompile(`(?is)^\s*COPY\s+INTO\s+([^@\s]\S*)((?:\s+(?:[A-Z_]+\s*=[\s\S]*))?)$`)

// copyInto loads staged files into a table, skipping files it loaded
// before (by name and content) unless FORCE = TRUE, all files in one
// transaction.
func (s *Server) copyInto(ctx context.Context, res *result, sess *session, text string) *Error {
	m := copyRE.FindStringSubmatch(text)
	if m == nil {
		// COPY INTO t with no FROM loads t's own stage, @%t.
		if t := copyOwnRE.FindStringSubmatch(text); t != nil {
			m = []string{t[0], t[1], "@%" + t[1], t[2]}
		}
	}
	if m == nil {
		return sqlError(codeUnsupported, "0A000", "SQL compilation error:\nsnowsim supports COPY INTO <table> FROM @stage")
	}
	o, e := sess.resolve(splitName(m[1]))
	if e != nil {
		return e
	}
	if !s.tableExists(ctx, sess, o) {
		return sqlError(codeObjectMissing, "42S02", "SQL compilation error:\nTable '%s' does not exist or not authorized.", o)
	}
	dir, e := s.stageDir(sess, m[2])
	if e != nil {
		return e
	}
	// Load history names files by their path in the stage, folders too.
	root, e := s.stageDir(sess, strings.SplitN(m[2], "/", 2)[0])
	if e != nil {
		return e
	}
	rest := m[3]
	opts := options(rest)
	format := options(strings.Trim(opts["FILE_FORMAT"], "()"))
	kind := orDefault(format["TYPE"], "CSV")
	var files []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	if list := opts["FILES"]; list != "" {
		want := map[string]bool{}
		for _, f := range regexp.MustCompile(`'([^']*)'`).FindAllStringSubmatch(list, -1) {
			want[f[1]] = true
		}
		var kept []string
		for _, f := range files {
			rel, _ := filepath.Rel(dir, f)
			if want[rel] {
				kept = append(kept, f)
			}
		}
		files = kept
	}
	if pat := opts["PATTERN"]; pat != "" {
		re, err := regexp.Compile("^(?:" + pat + ")$")
		if err != nil {
			return sqlError(codeSyntax, "42000", "invalid PATTERN %q: %v", pat, err)
		}
		var kept []string
		for _, f := range files {
			rel, _ := filepath.Rel(dir, f)
			if re.MatchString(rel) || re.MatchString(f) {
				kept = append(kept, f)
			}
		}
		files = kept
	}
	force := opts["FORCE"] == "TRUE"
	byName := opts["MATCH_BY_COLUMN_NAME"] == "CASE_INSENSITIVE" || opts["MATCH_BY_COLUMN_NAME"] == "CASE_SENSITIVE"
	type loaded struct {
		file, hash string
		rows       int64
	}
	var done []loaded
	e = s.ddlLike(ctx, sess, func() error {
		for _, f := range files {
			hash, err := fileHash(f)
			if err != nil {
				return err
			}
			name, _ := filepath.Rel(root, f)
			if !force && s.loadedBefore(ctx, sess, o, name, hash) {
				continue
			}
			src, e := readerFor(kind, f, format)
			if e != nil {
				return e
			}
			q := "INSERT INTO " + o.duck() + " SELECT * FROM " + src
			if byName {
				q = "INSERT INTO " + o.duck() + " BY NAME SELECT * FROM " + src
			}
			r, err := sess.conn.ExecContext(ctx, q)
			if err != nil {
				return copyError(err, name)
			}
			n, _ := r.RowsAffected()
			if _, err := sess.conn.ExecContext(ctx, "INSERT INTO "+meta(o.db, "LOAD_HISTORY")+" VALUES (?, ?, ?, ?, now(), 'LOADED', ?, ?)",
				o.schema, o.name, name, hash, n, n); err != nil {
				return err
			}
			done = append(done, loaded{name, hash, n})
		}
		return nil
	})
	if e != nil {
		return e
	}
	if opts["PURGE"] == "TRUE" { // loaded files leave the stage
		for _, d := range done {
			os.Remove(filepath.Join(root, d.file))
		}
	}
	if len(done) == 0 {
		res.setStatus("status", "Copy executed with 0 files processed.")
		return nil
	}
	res.statementType = typeDDL
	res.columns = []column{
		{Name: "file", Kind: kText, Nullable: true}, {Name: "status", Kind: kText, Nullable: true},
		{Name: "rows_parsed", Kind: kFixed, Precision: 19}, {Name: "rows_loaded", Kind: kFixed, Precision: 19},
		{Name: "error_limit", Kind: kFixed, Precision: 19}, {Name: "errors_seen", Kind: kFixed, Precision: 19},
		{Name: "first_error", Kind: kText, Nullable: true},
	}
	for _, d := range done {
		n := strconv.FormatInt(d.rows, 10)
		file, status, one, zero := d.file, "LOADED", "1", "0"
		res.status = append(res.status, []*string{&file, &status, &n, &n, &one, &zero, nil})
	}
	res.total = int64(len(done))
	return nil
}

// ddlLike runs f in its own transaction unless the session has one open.
func (s *Server) ddlLike(ctx context.Context, sess *session, f func() error) *Error {
	if sess.inTxn {
		if err := f(); err != nil {
			if e, ok := err.(*Error); ok {
				return e
			}
			return fromDuck(err)
		}
		return nil
	}
	if _, err := sess.conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return fromDuck(err)
	}
	if err := f(); err != nil {
		sess.conn.ExecContext(context.Background(), "ROLLBACK")
		if e, ok := err.(*Error); ok {
			return e
		}
		return fromDuck(err)
	}
	if _, err := sess.conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fromDuck(err)
	}
	return nil
}

func copyError(err error, file string) *Error {
	msg := err.Error()
	if m := regexp.MustCompile(`(?i)table \S+ has (\d+) columns but (\d+) values were supplied`).FindStringSubmatch(msg); m != nil {
		return sqlError(100080, "22000", "Number of columns in file (%s) does not match that of the corresponding table (%s), use file format option error_on_column_count_mismatch=false to ignore this error\n  File '%s'", m[2], m[1], file)
	}
	e := fromDuck(err)
	e.Message += fmt.Sprintf("\n  File '%s'", file)
	return e
}

// readerFor is the DuckDB table function that reads a staged file.
func readerFor(kind, file string, format map[string]string) (string, *Error) {
	switch kind {
	case "CSV":
		args := []string{sqlQuote(file), "all_varchar = true", "auto_detect = false"}
		skip := orDefault(format["SKIP_HEADER"], "0")
		args = append(args, "skip = "+skip, "header = false")
		delim := orDefault(format["FIELD_DELIMITER"], ",")
		args = append(args, "delim = "+sqlQuote(delim))
		if q := format["FIELD_OPTIONALLY_ENCLOSED_BY"]; q != "" && q != "NONE" {
			args = append(args, "quote = "+sqlQuote(q), "escape = "+sqlQuote(q))
		}
		// Snowflake's defaults: NULL_IF = ('\N') and EMPTY_FIELD_AS_NULL.
		nulls := []string{sqlQuote(`\N`)}
		if n := format["NULL_IF"]; n != "" {
			nulls = nil
			for _, v := range regexp.MustCompile(`'((?:[^']|'')*)'`).FindAllStringSubmatch(n, -1) {
				nulls = append(nulls, sqlQuote(strings.ReplaceAll(v[1], "''", "'")))
			}
		}
		if format["EMPTY_FIELD_AS_NULL"] != "FALSE" {
			nulls = append(nulls, "''")
		}
		args = append(args, "nullstr = ["+strings.Join(nulls, ", ")+"]")
		columns, err := csvColumns(file, delim[0], skip)
		if err != nil {
			return "", sqlError(codeGeneric, "22000", "reading %s: %v", filepath.Base(file), err)
		}
		args = append(args, "columns = {"+columns+"}")
		return "read_csv(" + strings.Join(args, ", ") + ")", nil
	case "PARQUET":
		return "read_parquet(" + sqlQuote(file) + ")", nil
	case "JSON":
		return "read_json(" + sqlQuote(file) + ")", nil
	}
	return "", sqlError(codeUnsupported, "0A000", "snowsim cannot load files of type %s", kind)
}

// csvColumns declares as many VARCHAR columns as the file's first data
// line has fields, so DuckDB reads values as text and the table's types
// convert them, as Snowflake does.
func csvColumns(file string, delim byte, skip string) (string, error) {
	n, _ := strconv.Atoi(skip)
	r, err := openMaybeGzip(file)
	if err != nil {
		return "", err
	}
	defer r.Close()
	buf := make([]byte, 1<<16)
	k, _ := io.ReadFull(r, buf)
	lines := strings.Split(string(buf[:k]), "\n")
	if n >= len(lines) {
		return "'C1': 'VARCHAR'", nil
	}
	fields := 1
	inQuote := false
	for _, c := range lines[n] {
		switch {
		case c == '"':
			inQuote = !inQuote
		case byte(c) == delim && !inQuote:
			fields++
		}
	}
	cols := make([]string, fields)
	for i := range cols {
		cols[i] = fmt.Sprintf("'C%d': 'VARCHAR'", i+1)
	}
	return strings.Join(cols, ", "), nil
}

func openMaybeGzip(file string) (io.ReadCloser, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	if !strings.HasSuffix(file, ".gz") {
		return f, nil
	}
	gz, err := newGzipReader(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{gz, f}, nil
}

func fileHash(file string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (s *Server) loadedBefore(ctx context.Context, sess *session, o objectName, file, hash string) bool {
	var n int
	err := sess.conn.QueryRowContext(ctx, "SELECT count(*) FROM "+meta(o.db, "LOAD_HISTORY")+
		` WHERE "SCHEMA_NAME" = ? AND "TABLE_NAME" = ? AND "FILE_NAME" = ? AND "ETAG" = ?`, o.schema, o.name, file, hash).Scan(&n)
	return err == nil && n > 0 && err != sql.ErrNoRows
}
