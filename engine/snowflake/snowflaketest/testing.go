//go:build duckdb_arrow

package snowflaketest

import (
	"context"
	"crypto/rsa"
	"database/sql"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	sf "github.com/snowflakedb/gosnowflake/v2"
)

func init() {
	// The driver probes cloud metadata endpoints to detect its platform
	// unless told not to: tests stay on 127.0.0.1.
	if os.Getenv("SNOWFLAKE_DISABLE_PLATFORM_DETECTION") == "" {
		os.Setenv("SNOWFLAKE_DISABLE_PLATFORM_DETECTION", "true")
	}
}

// Start starts a server for a test and closes it when the test ends.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s, err := NewServer(opts)
	if err != nil {
		tb.Fatalf("snowflaketest: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// Config returns a driver configuration that logs in as user with
// password over plain HTTP to this server, with retries bounded and
// telemetry off.
func (s *Server) Config(user, password string) *sf.Config {
	return &sf.Config{
		Account:           s.opts.Account,
		User:              user,
		Password:          password,
		Host:              s.Host,
		Port:              s.Port,
		Protocol:          "http",
		DisableOCSPChecks: true,
		MaxRetryCount:     3,
		LoginTimeout:      30 * time.Second,
		RequestTimeout:    60 * time.Second,
		JWTExpireTimeout:  time.Minute,
		Params:            map[string]*string{"CLIENT_TELEMETRY_ENABLED": ptr("false")},
	}
}

// KeyPairConfig returns a configuration that logs in with a private key.
func (s *Server) KeyPairConfig(user string, key *rsa.PrivateKey) *sf.Config {
	cfg := s.Config(user, "")
	cfg.Authenticator = sf.AuthTypeJwt
	cfg.PrivateKey = key
	return cfg
}

func ptr(s string) *string { return &s }

// Open opens a database handle for cfg; the caller closes it.
func Open(cfg *sf.Config) *sql.DB {
	return sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, *cfg))
}

// Exec runs Snowflake SQL (one or more statements) as an administrator,
// outside any client session: for seeding tables and inspecting them.
func (s *Server) Exec(ctx context.Context, sqlText string) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	sess := &session{user: &User{Name: "SNOWSIM_ADMIN"}, role: "ACCOUNTADMIN", conn: conn,
		params: map[string]string{"GO_QUERY_RESULT_FORMAT": "json"}}
	defer sess.close()
	for _, stmt := range splitStatements(sqlText) {
		res := &result{id: s.newQueryID(), session: sess}
		sess.mu.Lock()
		s.statement(ctx, res, sess, stmt, nil, false)
		sess.mu.Unlock()
		if res.err != nil {
			return fmt.Errorf("%s: %w", firstLine(stmt), res.err)
		}
	}
	return nil
}

// Query runs one Snowflake query as an administrator and returns its
// column names and rows, each value as Arrow renders it (NULL for nulls):
// for inspecting what a pipeline wrote.
func (s *Server) Query(ctx context.Context, sqlText string) ([]string, [][]string, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, nil, err
	}
	sess := &session{user: &User{Name: "SNOWSIM_ADMIN"}, role: "ACCOUNTADMIN", conn: conn,
		params: map[string]string{"GO_QUERY_RESULT_FORMAT": "arrow"}}
	defer sess.close()
	res := &result{id: s.newQueryID(), session: sess}
	sess.mu.Lock()
	s.statement(ctx, res, sess, sqlText, nil, false)
	sess.mu.Unlock()
	if res.err != nil {
		return nil, nil, res.err
	}
	var names []string
	for _, c := range res.columns {
		names = append(names, c.Name)
	}
	var rows [][]string
	for _, ch := range append([]*chunk{res.inline}, res.chunks...) {
		if ch == nil {
			continue
		}
		for _, rec := range ch.records {
			for i := 0; i < int(rec.NumRows()); i++ {
				row := make([]string, rec.NumCols())
				for j := range row {
					switch col := rec.Column(j).(type) {
					case *array.Decimal128: // every digit of the scale, as Snowflake shows it
						row[j] = "NULL"
						if col.IsValid(i) {
							row[j] = col.Value(i).ToString(col.DataType().(*arrow.Decimal128Type).Scale)
						}
					default:
						row[j] = "NULL"
						if col.IsValid(i) {
							row[j] = col.ValueStr(i)
						}
					}
				}
				rows = append(rows, row)
			}
		}
	}
	return names, rows, nil
}

func firstLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i] + "..."
		}
	}
	return s
}
