//go:build duckdb_arrow

// Package snowflaketest is a local Snowflake: a server that speaks the
// protocol of Snowflake's REST API well enough for the unmodified
// gosnowflake driver, with DuckDB behind it executing Snowflake SQL
// translated to DuckDB's dialect. Tests start one in-process on
// 127.0.0.1:0, like net/http/httptest; cmd/snowsim runs the same server
// standalone.
//
// It is built with the duckdb_arrow tag (DuckDB hands results over as
// Arrow), and only tests and cmd/snowsim import it: the sluice binary never
// links DuckDB.
package snowflaketest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // registers the duckdb driver
)

// Options configure a Server.
type Options struct {
	// Account is the account name clients log in to; "SNOWSIM" when empty.
	Account string
	// Users may log in; when empty, one read-write user SLUICE with the
	// password "sluice".
	Users []User
	// ResultFormat is "arrow" (Snowflake's default for the Go driver) or
	// "json". A session can switch with ALTER SESSION SET
	// GO_QUERY_RESULT_FORMAT.
	ResultFormat string
	// FirstChunkRows rows go inline in the query response; the rest is cut
	// into chunks of ChunkRows rows that the client downloads. Defaults:
	// 1,000 and 100,000.
	FirstChunkRows, ChunkRows int
	// Gzip compresses chunk downloads, as Snowflake's storage does. Off by
	// default: on loopback it costs more than it saves.
	Gzip bool
	// SessionValidity is how long a session token lasts before the client
	// must renew it with its master token; an hour when zero.
	SessionValidity time.Duration
	// Logger receives one line per request; discarded when nil.
	Logger *slog.Logger
	// TimeZone is the account's default TIMEZONE, a session's zone until
	// it sets its own; UTC when empty. (Snowflake's own default is
	// America/Los_Angeles.)
	TimeZone string
	// Warehouses and Roles, when given, are the account's: a login naming
	// another warehouse fails with 390201 (unless the client turns
	// CLIENT_VALIDATE_DEFAULT_PARAMETERS off), another role with 390189.
	// When empty, any name is accepted.
	Warehouses, Roles []string
	// Admin serves POST /snowsim/exec, which runs the Snowflake SQL in its
	// body as an administrator, and POST /snowsim/query, which answers
	// one query as tab-separated lines: for demos that change source data
	// while a pipeline runs and show what it wrote. Off unless set.
	Admin bool
}

// User is an account user and how it authenticates.
type User struct {
	Name     string
	Password string
	// PublicKey verifies key-pair (JWT) logins.
	PublicKey *rsa.PublicKey
	// Token is accepted for OAuth and programmatic-access-token logins.
	Token string
	// Role is the user's default role; "PUBLIC" when empty.
	Role string
	// ReadOnly users can read but not write: every statement that changes
	// data or objects fails with insufficient privileges.
	ReadOnly bool
}

// Server is a running simulator. Its methods are safe for concurrent use.
type Server struct {
	// URL is the server's base URL, http://127.0.0.1:port.
	URL  string
	Host string
	Port int

	opts     Options
	log      *slog.Logger
	db       *sql.DB
	listener net.Listener
	http     *http.Server
	// stageRoot holds the stages' files; removed on Close.
	stageRoot string
	// spillPath holds encoded result chunks (chunks.go); removed on Close.
	spillOnce sync.Once
	spillPath string
	spillErr  error
	// encodeBufs keeps buffers chunks were encoded in, for the next.
	encodeBufs chan *bytes.Buffer
	// downloads are the staged files GET handed out (stagecmds.go).
	downloads downloads

	mu       sync.Mutex
	users    map[string]*User // by upper-case name
	sessions map[string]*session
	masters  map[string]*session
	results  map[string]*result // by query id
	history  []QueryRecord
	seq      atomic.Int64
	rejected atomic.Int64 // logins refused
	faults   faults
}

// RejectedLogins counts the logins the server has refused.
func (s *Server) RejectedLogins() int { return int(s.rejected.Load()) }

// QueryRecord is one statement the server ran, for tests to inspect.
type QueryRecord struct {
	QueryID  string
	User     string
	SQL      string
	QueryTag string
	Error    string // Snowflake error code, "" on success
}

// NewServer starts a simulator on 127.0.0.1 at a free port.
func NewServer(opts Options) (*Server, error) {
	if opts.Account == "" {
		opts.Account = "SNOWSIM"
	}
	if len(opts.Users) == 0 {
		opts.Users = []User{{Name: "SLUICE", Password: "sluice"}}
	}
	if opts.ResultFormat == "" {
		opts.ResultFormat = "arrow"
	}
	if opts.FirstChunkRows == 0 {
		opts.FirstChunkRows = 1000
	}
	if opts.ChunkRows == 0 {
		opts.ChunkRows = 100_000
	}
	if opts.SessionValidity == 0 {
		opts.SessionValidity = time.Hour
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, fmt.Errorf("opening duckdb: %w", err)
	}
	s := &Server{
		opts:     opts,
		log:      log,
		db:       db,
		users:    map[string]*User{},
		sessions: map[string]*session{},
		masters:  map[string]*session{},
		results:  map[string]*result{},
	}
	for i := range opts.Users {
		u := opts.Users[i]
		if u.Role == "" {
			u.Role = "PUBLIC"
		}
		s.users[strings.ToUpper(u.Name)] = &u
	}
	if err := s.bootstrap(context.Background()); err != nil {
		db.Close()
		return nil, err
	}
	root, err := os.MkdirTemp("", "snowsim-stages-")
	if err != nil {
		db.Close()
		return nil, err
	}
	s.stageRoot = root
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		db.Close()
		return nil, err
	}
	s.listener = l
	s.Port = l.Addr().(*net.TCPAddr).Port
	s.Host = "127.0.0.1"
	s.URL = fmt.Sprintf("http://127.0.0.1:%d", s.Port)
	s.http = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go s.http.Serve(l)
	return s, nil
}

// Listen serves on addr instead of the default listener; cmd/snowsim uses
// it for a fixed port.
func (s *Server) Listen(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	old := s.listener
	s.listener = l
	s.Port = l.Addr().(*net.TCPAddr).Port
	host, _, _ := net.SplitHostPort(l.Addr().String())
	s.Host = host
	s.URL = "http://" + l.Addr().String()
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	s.http.Close()
	old.Close()
	s.http = srv
	go srv.Serve(l)
	return nil
}

// Close stops the server and discards its data.
func (s *Server) Close() error {
	s.http.Close()
	s.mu.Lock()
	for _, sess := range s.sessions {
		sess.close()
	}
	s.sessions = map[string]*session{}
	s.mu.Unlock()
	os.RemoveAll(s.stageRoot)
	if s.spillPath != "" {
		os.RemoveAll(s.spillPath)
	}
	return s.db.Close()
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /session/v1/login-request", s.handleLogin)
	mux.HandleFunc("POST /session/token-request", s.handleTokenRequest)
	mux.HandleFunc("POST /session/heartbeat", s.withSession(s.handleHeartbeat))
	mux.HandleFunc("POST /session", s.handleLogout)
	mux.HandleFunc("POST /queries/v1/query-request", s.withSession(s.handleQuery))
	mux.HandleFunc("POST /queries/v1/abort-request", s.withSession(s.handleAbort))
	mux.HandleFunc("GET /queries/{id}/result", s.withSession(s.handleResult))
	mux.HandleFunc("GET /monitoring/queries/{id}", s.withSession(s.handleStatus))
	mux.HandleFunc("GET /chunks/{id}/{n}", s.handleChunk)
	mux.HandleFunc("GET /snowsim-stage/{token}", s.handleStageFile)
	mux.HandleFunc("POST /telemetry/send", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		writeJSON(w, map[string]any{"success": true, "code": nil, "message": nil, "data": "Log Received"})
	})
	if s.opts.Admin {
		mux.HandleFunc("POST /snowsim/exec", func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(r.Body)
			if err == nil {
				err = s.Exec(r.Context(), string(body))
			}
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			io.WriteString(w, "ok\n")
		})
		mux.HandleFunc("POST /snowsim/query", func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(r.Body)
			var names []string
			var rows [][]string
			if err == nil {
				names, rows, err = s.Query(r.Context(), string(body))
			}
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			io.WriteString(w, strings.Join(names, "\t")+"\n")
			for _, row := range rows {
				io.WriteString(w, strings.Join(row, "\t")+"\n")
			}
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.log.Warn("snowsim: unknown endpoint", "method", r.Method, "path", r.URL.Path)
		http.Error(w, "snowsim: no such endpoint", http.StatusNotFound)
	})
	return s.faults.wrap(s, mux)
}

// response is the envelope of every Snowflake REST answer.
type response struct {
	Data    any     `json:"data"`
	Code    *string `json:"code"`
	Message *string `json:"message"`
	Success bool    `json:"success"`
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// writeOK writes a successful response around data.
func writeOK(w http.ResponseWriter, data any) {
	writeJSON(w, response{Data: data, Success: true})
}

// writeFailure writes a Snowflake error: HTTP 200 with success false, as
// Snowflake does for every SQL and most protocol errors.
func writeFailure(w http.ResponseWriter, e *Error, data any) {
	code := e.code()
	msg := e.Message
	writeJSON(w, response{Data: data, Code: &code, Message: &msg, Success: false})
}

func newToken() string {
	b := make([]byte, 24)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// newQueryID returns a query id shaped like Snowflake's (a UUID).
func (s *Server) newQueryID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// decodeBody decodes a JSON request body, which the driver may gzip.
func decodeBody(r *http.Request, v any) error {
	body := r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		gz, err := newGzipReader(body)
		if err != nil {
			return err
		}
		body = gz
	}
	if err := json.NewDecoder(body).Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("decoding request: %w", err)
	}
	return nil
}

// QueryHistory returns the statements run so far, oldest first.
func (s *Server) QueryHistory() []QueryRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]QueryRecord(nil), s.history...)
}

func (s *Server) record(q QueryRecord) {
	s.mu.Lock()
	s.history = append(s.history, q)
	s.mu.Unlock()
}

// Sessions returns the number of open sessions.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// anyToken returns the token of some open session, for protocol tests.
func (s *Server) anyToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for t := range s.sessions {
		return t
	}
	return ""
}
