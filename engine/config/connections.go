package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v4"

	"github.com/hockeystack/sluice/engine/diag"
)

// ConnectionsFileName is the file Sluice looks for in a pipeline folder's
// parent folders when no connections file is named.
const ConnectionsFileName = "connections.yaml"

// Access says whether Sluice may write through a connection.
type Access string

// The accesses.
const (
	ReadOnly  Access = "read_only"
	ReadWrite Access = "read_write"
)

// Connections is a loaded connections file.
type Connections struct {
	File   string
	byName map[string]*Connection
}

// Get returns the connection called name, or nil.
func (c *Connections) Get(name string) *Connection {
	if c == nil {
		return nil
	}
	return c.byName[name]
}

// Names returns the connection names, sorted.
func (c *Connections) Names() []string {
	if c == nil {
		return nil
	}
	names := make([]string, 0, len(c.byName))
	for n := range c.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Connection is one named Snowflake account or ClickHouse server. It holds
// references to secrets, never secrets, so it is safe to log and print.
type Connection struct {
	Name      string
	Pos       diag.Pos
	Kind      Kind
	Access    Access
	Account   string
	Host      string
	Port      int
	Protocol  string
	User      string
	Role      string
	Warehouse string
	Database  string
	Schema    string
	Secure    bool
	// Timeout bounds a login (Snowflake, retries included) or a dial
	// (ClickHouse): a server that is down fails the run within it.
	// Zero means the default, DefaultTimeout.
	Timeout time.Duration
	Auth    Auth
}

// DefaultTimeout is a connection's timeout when it sets none.
const DefaultTimeout = 60 * time.Second

// LoginTimeout is the connection's timeout, or the default.
func (c *Connection) LoginTimeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

// Auth is how a connection authenticates.
type Auth struct {
	Method     string // key_pair, password, oauth, pat or none
	PrivateKey *Secret
	Passphrase *Secret
	Password   *Secret
	Token      *Secret
}

// Secret says where a secret is read from: an environment variable or a
// file. The secret itself is read only by Resolve, at connect time.
type Secret struct {
	Env  string
	File string
}

// String names where the secret lives, never its value.
func (s *Secret) String() string {
	if s.Env != "" {
		return "env:" + s.Env
	}
	return "file:" + s.File
}

// Resolve reads the secret. getenv is os.Getenv outside tests.
func (s *Secret) Resolve(getenv func(string) string) (string, error) {
	if s.Env != "" {
		v := getenv(s.Env)
		if v == "" {
			return "", fmt.Errorf("environment variable %s is not set", s.Env)
		}
		return v, nil
	}
	b, err := os.ReadFile(s.File)
	if err != nil {
		return "", fmt.Errorf("reading secret: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// FindConnections returns the connections file to use for the pipeline
// folder dir: explicit if set, else the environment's SLUICE_CONNECTIONS,
// else the nearest connections.yaml in dir or a folder above it. It
// returns "" when there is none.
func FindConnections(explicit, fromEnv, dir string) string {
	if explicit != "" {
		return explicit
	}
	if fromEnv != "" {
		return fromEnv
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	rel := filepath.Clean(dir)
	for {
		if _, err := os.Stat(filepath.Join(abs, ConnectionsFileName)); err == nil {
			return filepath.Clean(filepath.Join(rel, ConnectionsFileName))
		}
		parent := filepath.Dir(abs)
		if parent == abs {
			return ""
		}
		abs = parent
		rel = filepath.Join(rel, "..")
	}
}

// ConnectionsOptions configure LoadConnections.
type ConnectionsOptions struct {
	// Within is the folder the file was found in, which it must not lead
	// out of through a symlink; "" for a file the operator named, which
	// may be a symlink to anywhere (a mounted secret, say).
	Within string
}

// LoadConnections reads and checks a connections file. Like every file of
// a folder, it must be a regular file of at most MaxFileSize bytes. It
// returns the connections (nil when the file could not be read or
// parsed), the file's text as checked for rendering the diagnostics, and
// the diagnostics.
func LoadConnections(path string, opts ConnectionsOptions) (*Connections, diag.Sources, diag.Diagnostics) {
	var ds diag.Diagnostics
	src, err := ReadFolderFile(opts.Within, path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			ds.Errorf(diag.Pos{File: path}, 0, "connections file not found")
		} else {
			ds.Errorf(diag.Pos{File: path}, 0, "connections file %s", readError(err))
		}
		return nil, nil, ds
	}
	c, text, ds := parseConnections(path, src)
	return c, diag.Sources{path: text}, ds
}

// ParseConnections checks the contents of a connections file.
func ParseConnections(path string, src []byte) (*Connections, diag.Diagnostics) {
	c, _, ds := parseConnections(path, src)
	return c, ds
}

// parseConnections checks the contents of a connections file and returns
// its text as checked, for snippets.
func parseConnections(path string, src []byte) (*Connections, []byte, diag.Diagnostics) {
	var ds diag.Diagnostics
	d := parseYAML(path, src, &ds)
	if d.root == nil {
		return nil, d.src, ds
	}
	checkLiteralSecrets(d, d.root, true)
	connectionsSchema().validate(d)
	c := &Connections{File: path, byName: map[string]*Connection{}}
	_, conns := get(d.root, "connections")
	pairs(conns, func(k, v *yaml.Node) {
		conn := &Connection{Name: k.Value, Pos: d.pos(k)}
		field := func(name string) string { _, n := get(v, name); s, _ := str(n); return s }
		conn.Kind = Kind(field("kind"))
		conn.Access = Access(field("access"))
		conn.Account, conn.Host, conn.Protocol = field("account"), field("host"), field("protocol")
		conn.User, conn.Role, conn.Warehouse = field("user"), field("role"), field("warehouse")
		conn.Database, conn.Schema = field("database"), field("schema")
		if _, n := get(v, "port"); n != nil {
			fmt.Sscan(n.Value, &conn.Port)
		}
		if _, n := get(v, "secure"); n != nil {
			conn.Secure, _ = boolean(n)
		}
		if _, n := get(v, "timeout"); n != nil {
			t, err := time.ParseDuration(n.Value)
			switch {
			case err != nil:
				d.errorf(n, "connection %s: timeout %q is not a duration such as 30s or 2m", k.Value, n.Value)
			case t < time.Second || t > time.Hour:
				d.errorf(n, "connection %s: timeout %s is outside 1s to 1h", k.Value, n.Value)
			default:
				conn.Timeout = t
			}
		}
		_, auth := get(v, "auth")
		conn.Auth = Auth{
			Method:     func() string { _, n := get(auth, "method"); s, _ := str(n); return s }(),
			PrivateKey: secretAt(auth, "private_key"),
			Passphrase: secretAt(auth, "passphrase"),
			Password:   secretAt(auth, "password"),
			Token:      secretAt(auth, "token"),
		}
		checkConnection(d, k, v, conn)
		c.byName[conn.Name] = conn
	})
	return c, d.shown(), ds
}

func secretAt(auth *yaml.Node, key string) *Secret {
	_, n := get(auth, key)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	_, env := get(n, "env")
	_, file := get(n, "file")
	s := &Secret{}
	s.Env, _ = str(env)
	s.File, _ = str(file)
	if s.Env == "" && s.File == "" {
		return nil
	}
	return s
}

// checkConnection reports what the schema cannot: the fields each kind and
// auth method needs.
func checkConnection(d *doc, key, v *yaml.Node, c *Connection) {
	need := func(field, why string) {
		d.errorf(key, "connection %s: missing %q (%s)", c.Name, field, why)
	}
	_, authNode := get(v, "auth")
	switch c.Kind {
	case "snowflake":
		if c.Account == "" {
			need("account", "every Snowflake connection names its account")
		}
		if c.User == "" {
			need("user", "Snowflake needs a user")
		}
		if authNode == nil {
			need("auth", "Snowflake needs credentials")
		}
	case "clickhouse":
		if c.Host == "" {
			need("host", "every ClickHouse connection names its server")
		}
		if c.Auth.Method == "key_pair" || c.Auth.Method == "oauth" || c.Auth.Method == "pat" {
			_, m := get(authNode, "method")
			d.errorf(m, "connection %s: ClickHouse connections authenticate with password or none, not %s", c.Name, c.Auth.Method)
		}
	}
	if authNode == nil {
		return
	}
	required := map[string][]string{
		"key_pair": {"private_key"},
		"password": {"password"},
		"oauth":    {"token"},
		"pat":      {"token"},
	}[c.Auth.Method]
	for _, f := range required {
		if k, _ := get(authNode, f); k == nil {
			_, m := get(authNode, "method")
			d.errorf(m, "connection %s: auth method %s needs %q", c.Name, c.Auth.Method, f)
		}
	}
	allowed := map[string][]string{
		"key_pair": {"method", "private_key", "passphrase"},
		"password": {"method", "password"},
		"oauth":    {"method", "token"},
		"pat":      {"method", "token"},
		"none":     {"method"},
	}[c.Auth.Method]
	if allowed == nil {
		return
	}
	pairs(authNode, func(k, _ *yaml.Node) {
		if !contains(allowed, k.Value) {
			d.errorf(k, "connection %s: %q is not used by auth method %s", c.Name, k.Value, c.Auth.Method)
		}
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// secretKeys are the field names that hold secrets.
var secretKeys = []string{"password", "passphrase", "private_key", "token", "secret", "api_key", "access_token", "client_secret"}

// checkLiteralSecrets reports secrets written into a file rather than
// referenced. In a connections file (refsAllowed) a secret field must be an
// {env: ...} or {file: ...} reference; in a pipeline folder no secret field
// may appear at all. A PEM private key anywhere is reported too.
func checkLiteralSecrets(d *doc, n *yaml.Node, refsAllowed bool) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], resolveAlias(n.Content[i+1])
			if contains(secretKeys, strings.ToLower(k.Value)) {
				switch {
				case !refsAllowed:
					d.errorf(k, "secret %q in a pipeline folder: secrets live in the connections file, referenced as {env: NAME} or {file: PATH}", k.Value)
					d.mask(v)
					continue
				case v.Kind == yaml.ScalarNode:
					d.errorf(v, "%s is written literally: reference it as {env: NAME} or {file: PATH} instead", k.Value)
					d.mask(v)
					continue
				}
			}
			checkLiteralSecrets(d, v, refsAllowed)
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			checkLiteralSecrets(d, c, refsAllowed)
		}
	case yaml.ScalarNode:
		if strings.Contains(n.Value, "-----BEGIN") && strings.Contains(n.Value, "PRIVATE KEY") {
			d.errorf(n, "a private key is written literally: reference it as {file: PATH} or {env: NAME} in the connections file")
			d.mask(n)
		}
	}
}
