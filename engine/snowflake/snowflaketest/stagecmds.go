//go:build duckdb_arrow

package snowflaketest

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// LIST, REMOVE, GET and COPY INTO @stage (unload), on the folders PUT
// writes (stage.go). A stage reference's path is a prefix of the files'
// paths in the stage, as in Snowflake: @~/data matches data.csv.gz and
// data/x.csv.

var (
	listRE   = regexp.MustCompile(`(?is)^\s*(?:LIST|LS)\s+(?:'(@[^']+)'|(@\S+))(.*)$`)
	removeRE = regexp.MustCompile(`(?is)^\s*(?:REMOVE|RM)\s+(?:'(@[^']+)'|(@\S+))(.*)$`)
	getRE    = regexp.MustCompile(`(?is)^\s*GET\s+(?:'(@[^']+)'|(@\S+))\s+(?:'file://([^']+)'|file://(\S+))(.*)$`)
	unloadRE = regexp.MustCompile(`(?is)^\s*COPY\s+INTO\s+'?(@[^'\s]+)'?\s+FROM\s+(\([\s\S]*\)|\S+)(.*)$`)
)

// stageFile is a file in a stage: its path from the stage's root.
type stageFile struct {
	path, rel string
}

// stageFiles lists the files of the stage ref names whose path in the
// stage starts with ref's path and matches pattern (a regular expression
// on the whole path, "" for any).
func (s *Server) stageFiles(sess *session, ref, pattern string) (string, []stageFile, *Error) {
	name, prefix, _ := strings.Cut(strings.TrimPrefix(ref, "@"), "/")
	root, e := s.stageDir(sess, "@"+name)
	if e != nil {
		return "", nil, e
	}
	var re *regexp.Regexp
	if pattern != "" {
		var err error
		if re, err = regexp.Compile("^(?:" + pattern + ")$"); err != nil {
			return "", nil, sqlError(codeSyntax, "42000", "SQL compilation error:\ninvalid PATTERN '%s'", pattern)
		}
	}
	var out []stageFile
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if strings.HasPrefix(rel, strings.TrimPrefix(prefix, "/")) && (re == nil || re.MatchString(rel)) {
			out = append(out, stageFile{path: p, rel: rel})
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].rel < out[j].rel })
	return root, out, nil
}

// listedName is a file's name as LIST shows it: under a named stage's
// name (lower case), else its path in the stage.
func listedName(ref string, f stageFile) string {
	name, _, _ := strings.Cut(strings.TrimPrefix(ref, "@"), "/")
	if name == "~" || strings.HasPrefix(name, "%") {
		return f.rel
	}
	parts := splitName(name)
	return strings.ToLower(parts[len(parts)-1]) + "/" + f.rel
}

// list answers LIST @stage[/path] [PATTERN = '...']: name, size, md5 and
// last_modified of each file.
func (s *Server) list(res *result, sess *session, text string) *Error {
	m := listRE.FindStringSubmatch(text)
	if m == nil {
		return syntax("LIST @<stage>")
	}
	m = []string{m[0], m[1] + m[2], m[3]}
	_, files, e := s.stageFiles(sess, m[1], options(m[2])["PATTERN"])
	if e != nil {
		return e
	}
	res.statementType = typeSelect
	res.columns = []column{
		{Name: "name", Kind: kText}, {Name: "size", Kind: kFixed, Precision: 19},
		{Name: "md5", Kind: kText, Nullable: true}, {Name: "last_modified", Kind: kText},
	}
	for _, f := range files {
		info, err := os.Stat(f.path)
		data, err2 := os.ReadFile(f.path)
		if err != nil || err2 != nil {
			continue
		}
		sum := md5.Sum(data)
		name, size, digest := listedName(m[1], f), strconv.FormatInt(info.Size(), 10), hex.EncodeToString(sum[:])
		modified := info.ModTime().UTC().Format(time.RFC1123)
		res.status = append(res.status, []*string{&name, &size, &digest, &modified})
	}
	res.total = int64(len(res.status))
	return nil
}

// remove answers REMOVE @stage[/path] [PATTERN = '...']: the files it
// removed.
func (s *Server) remove(res *result, sess *session, text string) *Error {
	m := removeRE.FindStringSubmatch(text)
	if m == nil {
		return syntax("REMOVE @<stage>")
	}
	m = []string{m[0], m[1] + m[2], m[3]}
	_, files, e := s.stageFiles(sess, m[1], options(m[2])["PATTERN"])
	if e != nil {
		return e
	}
	res.statementType = typeSelect
	res.columns = []column{{Name: "name", Kind: kText}, {Name: "result", Kind: kText}}
	for _, f := range files {
		if err := os.Remove(f.path); err != nil {
			continue
		}
		name, removed := listedName(m[1], f), "removed"
		res.status = append(res.status, []*string{&name, &removed})
	}
	res.total = int64(len(res.status))
	return nil
}

// downloads maps the tokens of GET's URLs to the files they serve.
type downloads struct {
	mu    sync.Mutex
	files map[string]download
}

// A download is a staged file as GET serves it: encrypted, as Snowflake
// keeps internal stages (client-side AES-CBC under a per-file key, the key
// wrapped by the query's stage master key), with the metadata headers a
// cloud store returns beside it.
type download struct {
	data    []byte
	headers map[string]string
}

// encryptForGet encrypts data as Snowflake's internal stages do, under
// master (the query stage master key) for query.
func encryptForGet(data, master []byte, query string) (download, error) {
	fileKey, iv := make([]byte, 16), make([]byte, aes.BlockSize)
	if _, err := rand.Read(fileKey); err != nil {
		return download{}, err
	}
	if _, err := rand.Read(iv); err != nil {
		return download{}, err
	}
	block, err := aes.NewCipher(fileKey)
	if err != nil {
		return download{}, err
	}
	pad := aes.BlockSize - len(data)%aes.BlockSize
	plain := append(append([]byte(nil), data...), bytes.Repeat([]byte{byte(pad)}, pad)...)
	out := make([]byte, len(plain))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(out, plain)
	kek, err := aes.NewCipher(master)
	if err != nil {
		return download{}, err
	}
	wrapped := append(append([]byte(nil), fileKey...), bytes.Repeat([]byte{aes.BlockSize}, aes.BlockSize)...)
	for i := 0; i < len(wrapped); i += aes.BlockSize {
		kek.Encrypt(wrapped[i:i+aes.BlockSize], wrapped[i:i+aes.BlockSize])
	}
	meta, _ := json.Marshal(map[string]any{
		"EncryptionMode":      "FullBlob",
		"WrappedContentKey":   map[string]string{"KeyId": "symmKey1", "EncryptedKey": base64.StdEncoding.EncodeToString(wrapped), "Algorithm": "AES_CBC_256"},
		"EncryptionAgent":     map[string]string{"Protocol": "1.0", "EncryptionAlgorithm": "AES_CBC_128"},
		"ContentEncryptionIV": base64.StdEncoding.EncodeToString(iv),
		"KeyWrappingMetadata": map[string]string{"EncryptionLibrary": "Java 5.3.0"},
	})
	matdesc, _ := json.Marshal(map[string]string{"queryId": query, "smkId": "1", "keySize": "128"})
	return download{data: out, headers: map[string]string{
		"x-goog-meta-encryptiondata": string(meta),
		"x-goog-meta-matdesc":        string(matdesc),
	}}, nil
}

// handleStageFile serves a staged file GET handed out, ranges and HEAD
// included, as a cloud store serves a presigned URL.
func (s *Server) handleStageFile(w http.ResponseWriter, r *http.Request) {
	s.downloads.mu.Lock()
	d, ok := s.downloads.files[r.PathValue("token")]
	s.downloads.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	for k, v := range d.headers {
		w.Header().Set(k, v)
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(d.data))
}

// get answers GET @stage[/path] 'file://dir' with the download
// instructions the driver follows. The driver downloads from a local
// (LOCAL_FS) stage nothing, so the stage is presented as Snowflake
// presents an internal stage on GCS: a presigned URL per file, here on
// this server. It reports whether it wrote the response.
func (s *Server) get(w http.ResponseWriter, r *http.Request, res *result, sess *session, text string) bool {
	m := getRE.FindStringSubmatch(text)
	if m == nil {
		res.err = syntax("GET @<stage> 'file://<path>'")
		return false
	}
	m = []string{m[0], m[1] + m[2], m[3] + m[4], m[5]}
	opts := options(m[3])
	root, files, e := s.stageFiles(sess, strings.TrimSpace(m[1]), opts["PATTERN"])
	if e != nil {
		res.err = e
		return false
	}
	if len(files) == 0 {
		// Nothing to download: an empty result of GET's columns.
		res.statementType = typeSelect
		res.columns = []column{{Name: "file", Kind: kText}, {Name: "size", Kind: kFixed, Precision: 19},
			{Name: "status", Kind: kText}, {Name: "message", Kind: kText}}
		return false
	}
	master := make([]byte, 16)
	rand.Read(master)
	material := map[string]any{"queryStageMasterKey": base64.StdEncoding.EncodeToString(master), "queryId": res.id, "smkId": 1}
	var src, urls []string
	var materials []any
	served := map[string]download{}
	for i, f := range files {
		data, err := os.ReadFile(f.path)
		if err != nil {
			res.err = sqlError(codeGeneric, "58030", "stage %s: %v", m[1], err)
			return false
		}
		d, err := encryptForGet(data, master, res.id)
		if err != nil {
			res.err = sqlError(codeGeneric, "58030", "stage %s: %v", m[1], err)
			return false
		}
		token := res.id + "-" + strconv.Itoa(i)
		served[token] = d
		src = append(src, f.rel)
		urls = append(urls, "http://"+r.Host+"/snowsim-stage/"+token)
		materials = append(materials, material)
	}
	s.downloads.mu.Lock()
	if s.downloads.files == nil {
		s.downloads.files = map[string]download{}
	}
	for k, v := range served {
		s.downloads.files[k] = v
	}
	s.downloads.mu.Unlock()
	parallel, _ := strconv.Atoi(orDefault(opts["PARALLEL"], "10"))
	writeOK(w, map[string]any{
		"command":            "DOWNLOAD",
		"src_locations":      src,
		"presignedUrls":      urls,
		"encryptionMaterial": materials,
		"localLocation":      strings.TrimSpace(m[2]),
		"parallel":           parallel,
		"stageInfo":          map[string]any{"locationType": "GCS", "location": filepath.Base(root) + "/", "path": "", "creds": map[string]any{}},
		"queryId":            res.id,
		"rowtype":            []any{},
		"statementTypeId":    typeDDL,
	})
	return true
}

// unload answers COPY INTO @stage[/prefix] FROM table|(query): one file,
// PREFIX data_0_0_0.csv (gzip by default, as Snowflake's COMPRESSION =
// AUTO), or Parquet with FILE_FORMAT = (TYPE = PARQUET).
func (s *Server) unload(ctx context.Context, res *result, sess *session, text string) *Error {
	m := unloadRE.FindStringSubmatch(text)
	if m == nil {
		return syntax("COPY INTO @<stage> FROM <table>|(<query>)")
	}
	name, prefix, _ := strings.Cut(strings.TrimPrefix(m[1], "@"), "/")
	root, e := s.stageDir(sess, "@"+name)
	if e != nil {
		return e
	}
	opts := options(m[3])
	format := options(strings.Trim(opts["FILE_FORMAT"], "()"))
	kind := orDefault(format["TYPE"], "CSV")
	from := strings.TrimSpace(m[2])
	query := "SELECT * FROM " + from
	if strings.HasPrefix(from, "(") {
		query = strings.TrimSuffix(strings.TrimPrefix(from, "("), ")")
	}
	duckSQL, _, e := translateSQL(query, sess)
	if e != nil {
		return e
	}
	file := "data_0_0_0"
	if prefix != "" {
		if strings.HasSuffix(prefix, "/") {
			file = prefix + file
		} else {
			file = prefix + "_0_0_0"
		}
	}
	var copyOpts string
	switch kind {
	case "PARQUET":
		file += ".snappy.parquet"
		copyOpts = "FORMAT parquet"
	case "CSV":
		file += ".csv"
		delim := orDefault(format["FIELD_DELIMITER"], ",")
		copyOpts = "FORMAT csv, HEADER " + strconv.FormatBool(opts["HEADER"] == "TRUE") + ", DELIMITER " + sqlQuote(delim)
		switch strings.ToUpper(orDefault(format["COMPRESSION"], "AUTO")) {
		case "AUTO", "GZIP":
			file += ".gz"
			copyOpts += ", COMPRESSION gzip"
		case "NONE":
		default:
			return sqlError(codeUnsupported, "0A000", "SQL compilation error:\nsnowsim unloads CSV with COMPRESSION = GZIP or NONE")
		}
	default:
		return sqlError(codeUnsupported, "0A000", "SQL compilation error:\nsnowsim unloads CSV and Parquet")
	}
	path := filepath.Join(root, filepath.FromSlash(file))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return sqlError(codeGeneric, "58030", "stage %s: %v", m[1], err)
	}
	var rows int64
	if err := sess.conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM ("+duckSQL+")").Scan(&rows); err != nil {
		return fromDuck(err)
	}
	if _, err := sess.conn.ExecContext(ctx, "COPY ("+duckSQL+") TO "+sqlQuote(path)+" ("+copyOpts+")"); err != nil {
		return fromDuck(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		return sqlError(codeGeneric, "58030", "stage %s: %v", m[1], err)
	}
	n, size := strconv.FormatInt(rows, 10), strconv.FormatInt(info.Size(), 10)
	res.statementType = typeDDL
	res.columns = []column{{Name: "rows_unloaded", Kind: kFixed, Precision: 19},
		{Name: "input_bytes", Kind: kFixed, Precision: 19}, {Name: "output_bytes", Kind: kFixed, Precision: 19}}
	res.status = [][]*string{{&n, &size, &size}}
	res.total = 1
	return nil
}
