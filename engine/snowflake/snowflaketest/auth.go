//go:build duckdb_arrow

package snowflaketest

import (
	"cmp"
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"database/sql"
	"database/sql/driver"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// session is one logged-in client. Statements of a session run one at a
// time on the session's own DuckDB connection, which carries its current
// database and schema and its open transaction.
type session struct {
	id       int64
	token    string
	master   string
	user     *User
	account  string
	role     string
	expires  time.Time
	masterTo time.Time

	mu        sync.Mutex // serializes statements
	conn      *sql.Conn
	database  string
	schema    string
	warehouse string
	params    map[string]string
	defaultTZ string // the account's TIMEZONE, which UNSET returns to
	inTxn     bool

	cmu     sync.Mutex // guards cancels, requests and requestOrder
	cancels map[string]context.CancelFunc
	// requests are the results of the session's last request ids, oldest
	// first in requestOrder: a request sent again is not run again.
	requests     map[string]*result
	requestOrder []string
	// history is for QUERY_HISTORY_BY_SESSION (qhistory.go).
	history []*queryEntry
}

// close ends the session. Its DuckDB connection is closed, not handed back
// to the pool: an open transaction rolls back and temporary tables go, as
// when a Snowflake session ends.
func (s *session) close() {
	if s.conn != nil {
		s.conn.Raw(func(any) error { return driver.ErrBadConn })
		s.conn.Close()
	}
}

type loginRequest struct {
	Data struct {
		AccountName       string         `json:"ACCOUNT_NAME"`
		LoginName         string         `json:"LOGIN_NAME"`
		Password          string         `json:"PASSWORD"`
		Authenticator     string         `json:"AUTHENTICATOR"`
		Token             string         `json:"TOKEN"`
		SessionParameters map[string]any `json:"SESSION_PARAMETERS"`
	} `json:"data"`
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if err := decodeBody(r, &req); err != nil {
		writeFailure(w, sqlError(codeBadCredentials, "08004", "Incorrect username or password was specified."), nil)
		return
	}
	q := r.URL.Query()
	user, e := s.authenticate(&req)
	if e != nil {
		s.rejected.Add(1)
		s.log.Info("snowsim: login rejected", "user", req.Data.LoginName, "authenticator", req.Data.Authenticator, "code", e.code())
		writeFailure(w, e, nil)
		return
	}
	conn, err := s.db.Conn(context.Background())
	if err != nil {
		writeFailure(w, sqlError(codeGeneric, "08001", "cannot open session: %v", err), nil)
		return
	}
	now := time.Now()
	sess := &session{
		id:        s.seq.Add(1),
		token:     newToken(),
		master:    newToken(),
		user:      user,
		account:   s.opts.Account,
		role:      strings.ToUpper(orDefault(q.Get("roleName"), user.Role)),
		expires:   now.Add(s.opts.SessionValidity),
		masterTo:  now.Add(4 * time.Hour),
		conn:      conn,
		warehouse: strings.ToUpper(q.Get("warehouse")),
		params:    map[string]string{"GO_QUERY_RESULT_FORMAT": s.opts.ResultFormat},
		defaultTZ: s.opts.TimeZone,
	}
	if e := sess.setParam(context.Background(), "TIMEZONE", s.opts.TimeZone); e != nil {
		conn.Close()
		writeFailure(w, e, nil)
		return
	}
	for k, v := range req.Data.SessionParameters {
		str, ok := v.(string)
		if !ok {
			str = fmt.Sprint(v)
		}
		if e := sess.setParam(context.Background(), k, str); e != nil {
			conn.Close()
			writeFailure(w, e, nil)
			return
		}
	}
	// A database or schema the login names must exist, unless the client
	// turned CLIENT_VALIDATE_DEFAULT_PARAMETERS off: then the session
	// starts without it, as in Snowflake.
	validate := !strings.EqualFold(sess.params["CLIENT_VALIDATE_DEFAULT_PARAMETERS"], "false")
	if r := q.Get("roleName"); r != "" && !known(s.opts.Roles, sess.role) && !strings.EqualFold(sess.role, user.Role) {
		conn.Close()
		writeFailure(w, sqlError(codeRoleMissing, "08004", "Role '%s' specified in the connect string does not exist or not authorized. Contact your local system administrator, or attempt to login with another role, e.g. PUBLIC.", sess.role), nil)
		return
	}
	if sess.warehouse != "" && !known(s.opts.Warehouses, sess.warehouse) {
		if validate {
			conn.Close()
			writeFailure(w, sqlError(codeDefaultMissing, "08004", "The requested warehouse does not exist or not authorized."), nil)
			return
		}
		sess.warehouse = ""
	}
	if db := q.Get("databaseName"); db != "" {
		if e := s.use(sess, "DATABASE", unquoteName(db)); e != nil && validate {
			conn.Close()
			writeFailure(w, sqlError(codeDefaultMissing, "08004", "The requested database does not exist or not authorized."), nil)
			return
		} else if e == nil {
			if sc := q.Get("schemaName"); sc != "" {
				if e := s.use(sess, "SCHEMA", unquoteName(sc)); e != nil && validate {
					conn.Close()
					writeFailure(w, sqlError(codeDefaultMissing, "08004", "The requested schema does not exist or not authorized."), nil)
					return
				}
			}
		}
	}
	s.mu.Lock()
	s.sessions[sess.token] = sess
	s.masters[sess.master] = sess
	s.mu.Unlock()
	writeOK(w, map[string]any{
		"token":                   sess.token,
		"validityInSeconds":       int(s.opts.SessionValidity / time.Second),
		"masterToken":             sess.master,
		"masterValidityInSeconds": 4 * 3600,
		"displayUserName":         user.Name,
		"serverVersion":           "snowsim",
		"firstLogin":              false,
		"healthCheckInterval":     45,
		"sessionId":               sess.id,
		"parameters":              sess.loginParameters(),
		"sessionInfo": map[string]any{
			"databaseName":  nullable(sess.database),
			"schemaName":    nullable(sess.schema),
			"warehouseName": nullable(sess.warehouse),
			"roleName":      sess.role,
		},
	})
}

// known reports whether name is one of the account's names, or the
// account declares none.
func known(names []string, name string) bool {
	if len(names) == 0 {
		return true
	}
	for _, n := range names {
		if strings.EqualFold(unquoteName(n), name) {
			return true
		}
	}
	return false
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// unquoteName reads a database or schema name as the driver sends it:
// quoted names keep their case, others are upper-cased.
func unquoteName(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return strings.ReplaceAll(s[1:len(s)-1], `""`, `"`)
	}
	return strings.ToUpper(s)
}

// authenticate checks the credentials of a login request.
func (s *Server) authenticate(req *loginRequest) (*User, *Error) {
	bad := sqlError(codeBadCredentials, "08004", "Incorrect username or password was specified.")
	if !strings.EqualFold(req.Data.AccountName, s.opts.Account) {
		return nil, bad
	}
	switch strings.ToUpper(req.Data.Authenticator) {
	case "", "SNOWFLAKE":
		u := s.user(req.Data.LoginName)
		if u == nil || u.Password == "" || u.Password != req.Data.Password {
			return nil, bad
		}
		return u, nil
	case "OAUTH":
		u := s.user(req.Data.LoginName)
		if u == nil || u.Token == "" || u.Token != req.Data.Token {
			return nil, sqlError(390303, "08004", "Invalid OAuth access token.")
		}
		return u, nil
	case "PROGRAMMATIC_ACCESS_TOKEN":
		u := s.user(req.Data.LoginName)
		if u == nil || u.Token == "" || u.Token != req.Data.Token {
			return nil, bad
		}
		return u, nil
	case "SNOWFLAKE_JWT":
		return s.verifyJWT(req.Data.Token)
	}
	return nil, sqlError(390100, "08004", "Authenticator %s is not supported by snowsim.", req.Data.Authenticator)
}

func (s *Server) user(name string) *User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.users[strings.ToUpper(name)]
}

// verifyJWT checks a key-pair login token as Snowflake does: the subject
// names account and user, the issuer adds the SHA-256 fingerprint of the
// user's registered public key, and the RS256 signature verifies with it.
func (s *Server) verifyJWT(token string) (*User, *Error) {
	bad := sqlError(codeBadJWT, "08004", "JWT token is invalid.")
	var claims jwt.MapClaims
	var user *User
	_, err := jwt.ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
		sub, _ := claims["sub"].(string)
		iss, _ := claims["iss"].(string)
		account, name, ok := strings.Cut(sub, ".")
		if !ok || !strings.EqualFold(account, accountLocator(s.opts.Account)) {
			return nil, bad
		}
		user = s.user(name)
		if user == nil || user.PublicKey == nil {
			return nil, bad
		}
		if !strings.EqualFold(iss, sub+"."+fingerprint(user.PublicKey)) {
			return nil, bad
		}
		return user.PublicKey, nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithExpirationRequired())
	if err != nil || user == nil {
		return nil, bad
	}
	return user, nil
}

// accountLocator is the account part the driver puts in JWT claims: the
// name before any region or organisation suffix, upper-cased.
func accountLocator(account string) string {
	a, _, _ := strings.Cut(account, ".")
	return strings.ToUpper(a)
}

// fingerprint is Snowflake's public key fingerprint: SHA256: and the
// base64 SHA-256 of the DER-encoded key.
func fingerprint(pub *rsa.PublicKey) string {
	der, _ := x509.MarshalPKIXPublicKey(pub)
	sum := sha256.Sum256(der)
	return "SHA256:" + base64.StdEncoding.EncodeToString(sum[:])
}

// withSession resolves the session of a request from its Authorization
// header, answering as Snowflake does when the token has expired (the
// driver then renews it) or is unknown.
func (s *Server) withSession(h func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/queries/v1/query-request" && s.faults.expireDue() {
			s.ExpireSessions()
		}
		token := authToken(r)
		s.mu.Lock()
		sess := s.sessions[token]
		s.mu.Unlock()
		switch {
		case sess == nil:
			writeFailure(w, sqlError(codeSessionGone, "08001", "Session no longer exists.  New login required to access the service."), nil)
		case time.Now().After(sess.expires):
			writeFailure(w, sqlError(codeSessionExpired, "08001", "Session token has expired."), nil)
		default:
			h(w, r, sess)
		}
	}
}

// authToken reads Authorization: Snowflake Token="...".
func authToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	_, tok, ok := strings.Cut(h, `Token="`)
	if !ok {
		return ""
	}
	return strings.TrimSuffix(tok, `"`)
}

func (s *Server) handleTokenRequest(w http.ResponseWriter, r *http.Request) {
	var req struct {
		OldSessionToken string `json:"oldSessionToken"`
		RequestType     string `json:"requestType"`
	}
	if err := decodeBody(r, &req); err != nil {
		writeFailure(w, sqlError(codeSessionGone, "08001", "%v", err), nil)
		return
	}
	master := authToken(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.masters[master]
	switch {
	case sess == nil:
		writeFailure(w, sqlError(codeSessionGone, "08001", "Session no longer exists.  New login required to access the service."), nil)
		return
	case time.Now().After(sess.masterTo):
		writeFailure(w, sqlError(codeMasterExpired, "08001", "Authentication token has expired.  The user must authenticate again."), nil)
		return
	}
	delete(s.sessions, sess.token)
	sess.token = newToken()
	sess.expires = time.Now().Add(s.opts.SessionValidity)
	s.sessions[sess.token] = sess
	writeOK(w, map[string]any{
		"sessionToken":        sess.token,
		"validityInSecondsST": int(s.opts.SessionValidity / time.Second),
		"masterToken":         sess.master,
		"validityInSecondsMT": 4 * 3600,
		"sessionId":           sess.id,
	})
}

func (s *Server) handleHeartbeat(w http.ResponseWriter, r *http.Request, sess *session) {
	writeOK(w, map[string]any{})
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	token := authToken(r)
	s.mu.Lock()
	sess := s.sessions[token]
	if sess != nil {
		delete(s.sessions, sess.token)
		delete(s.masters, sess.master)
	}
	s.mu.Unlock()
	if sess != nil {
		sess.mu.Lock()
		sess.close()
		sess.mu.Unlock()
	}
	writeOK(w, nil)
}

// ExpireSessions makes every current session token expire now, so the next
// request of each client must renew it.
func (s *Server) ExpireSessions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sess := range s.sessions {
		sess.expires = time.Now().Add(-time.Second)
	}
}

// ExpireLogins makes every session and master token expire now: clients
// cannot renew and must log in again, as after Snowflake's four-hour
// master token lifetime.
func (s *Server) ExpireLogins() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sess := range s.sessions {
		sess.expires = time.Now().Add(-time.Second)
		sess.masterTo = time.Now().Add(-time.Second)
	}
}

// SetUser adds or replaces a user; revoke one by replacing it with wrong
// credentials, or remove it with RemoveUser.
func (s *Server) SetUser(u User) {
	if u.Role == "" {
		u.Role = "PUBLIC"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[strings.ToUpper(u.Name)] = &u
}

// RemoveUser deletes a user: its next login fails as with bad credentials.
func (s *Server) RemoveUser(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.users, strings.ToUpper(name))
}

// setParam validates a session parameter and sets it. TIMEZONE must be
// a zone Go and DuckDB know; the session's DuckDB connection switches to
// it, so TIMESTAMP_LTZ values and conversions are in that zone.
func (sess *session) setParam(ctx context.Context, name, value string) *Error {
	name = strings.ToUpper(name)
	if name == "TIMEZONE" {
		if value == "" {
			value = cmp.Or(sess.defaultTZ, "UTC")
		}
		if _, err := time.LoadLocation(value); err != nil || strings.ContainsAny(value, "'\\") {
			return sqlError(codeInvalidParam, "22023", "Invalid value [%s] for parameter 'TIMEZONE'", value)
		}
		if _, err := sess.conn.ExecContext(ctx, "SET TimeZone = '"+value+"'"); err != nil {
			return sqlError(codeInvalidParam, "22023", "Invalid value [%s] for parameter 'TIMEZONE'", value)
		}
	}
	sess.params[name] = value
	return nil
}

// zone is the session's TIMEZONE.
func (sess *session) zone() string {
	if z := sess.params["TIMEZONE"]; z != "" {
		return z
	}
	return "UTC"
}

// loginParameters are the session parameters a login answers with; the
// driver takes them over (the time zone it renders TIMESTAMP_LTZ in,
// whether it sends heartbeats).
func (sess *session) loginParameters() []map[string]any {
	keepAlive := strings.EqualFold(sess.params["CLIENT_SESSION_KEEP_ALIVE"], "true")
	params := []map[string]any{
		{"name": "TIMEZONE", "value": sess.zone()},
		{"name": "CLIENT_PREFETCH_THREADS", "value": 4},
		{"name": "CLIENT_SESSION_KEEP_ALIVE", "value": keepAlive},
		{"name": "CLIENT_RESULT_CHUNK_SIZE", "value": 160},
	}
	params = append(params, outputFormats(sess)...)
	if f, err := strconv.Atoi(sess.params["CLIENT_SESSION_KEEP_ALIVE_HEARTBEAT_FREQUENCY"]); err == nil {
		params = append(params, map[string]any{"name": "CLIENT_SESSION_KEEP_ALIVE_HEARTBEAT_FREQUENCY", "value": f})
	}
	return params
}
