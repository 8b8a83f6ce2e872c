//go:build duckdb_arrow

package snowflake

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/youmark/pkcs8"

	"github.com/hockeystack/sluice/engine/config"
	"github.com/hockeystack/sluice/engine/plan"
	"github.com/hockeystack/sluice/engine/snowflake/snowflaketest"
)

// connection describes the simulator as a connections-file entry would.
func connection(s *snowflaketest.Server, user string, auth config.Auth) *config.Connection {
	return &config.Connection{
		Name: "acme", Kind: "snowflake", Access: config.ReadOnly, Account: "SNOWSIM", User: user,
		Host: s.Host, Port: s.Port, Protocol: "http", Database: "ACME", Schema: "CRM", Auth: auth,
	}
}

func TestAuthMethods(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s := snowflaketest.Start(t, snowflaketest.Options{Users: []snowflaketest.User{
		{Name: "SVC", PublicKey: &key.PublicKey, Password: "pw", Token: "tok"},
	}})
	if err := s.Exec(context.Background(), "CREATE DATABASE ACME; CREATE SCHEMA ACME.CRM"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	enc, err := pkcs8.MarshalPrivateKey(key, []byte("open sesame"), nil)
	if err != nil {
		t.Fatal(err)
	}
	encPath := filepath.Join(dir, "rsa_key.p8")
	os.WriteFile(encPath, pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: enc}), 0o600)
	env := map[string]string{"PW": "pw", "TOKEN": "tok", "PASS": "open sesame", "WRONG": "nope"}
	getenv := func(k string) string { return env[k] }
	for _, tc := range []struct {
		name string
		auth config.Auth
		err  string
	}{
		{"password", config.Auth{Method: "password", Password: &config.Secret{Env: "PW"}}, ""},
		{"key pair, encrypted", config.Auth{Method: "key_pair", PrivateKey: &config.Secret{File: encPath}, Passphrase: &config.Secret{Env: "PASS"}}, ""},
		{"key pair, wrong passphrase", config.Auth{Method: "key_pair", PrivateKey: &config.Secret{File: encPath}, Passphrase: &config.Secret{Env: "WRONG"}}, "wrong passphrase"},
		{"pat", config.Auth{Method: "pat", Token: &config.Secret{Env: "TOKEN"}}, ""},
		{"oauth", config.Auth{Method: "oauth", Token: &config.Secret{Env: "TOKEN"}}, ""},
		{"missing secret", config.Auth{Method: "password", Password: &config.Secret{Env: "UNSET"}}, "environment variable UNSET is not set"},
		{"bad password", config.Auth{Method: "password", Password: &config.Secret{Env: "WRONG"}}, "390100"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := Open(context.Background(), connection(s, "svc", tc.auth), getenv)
			if err == nil {
				db.Close()
			}
			switch {
			case tc.err == "" && err != nil:
				t.Errorf("Open: %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Errorf("Open = %v, want an error containing %q", err, tc.err)
			}
			if err != nil && (strings.Contains(err.Error(), "open sesame") || strings.Contains(err.Error(), "nope")) {
				t.Errorf("error leaks a secret: %v", err)
			}
		})
	}
}

func TestCatalog(t *testing.T) {
	s := snowflaketest.Start(t, snowflaketest.Options{})
	err := s.Exec(context.Background(), `CREATE DATABASE ACME; CREATE SCHEMA ACME.CRM;
		CREATE TABLE ACME.CRM.CONTACTS (CONTACT_ID NUMBER(38,0) NOT NULL, EMAIL VARCHAR(320), SCORE FLOAT,
			CUSTOM VARIANT, UPDATED_AT TIMESTAMP_NTZ(6), CLOSED_ON DATE, ACTIVE BOOLEAN)`)
	if err != nil {
		t.Fatal(err)
	}
	db, err := Open(context.Background(), connection(s, "sluice", config.Auth{Method: "password", Password: &config.Secret{Env: "PW"}}),
		func(string) string { return "sluice" })
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cat := NewCatalog(db, "ACME", "CRM")
	ctx := context.Background()

	kind, version, err := cat.Server(ctx)
	if err != nil || kind != "Snowflake" || version == "" {
		t.Fatalf("Server() = %q %q %v", kind, version, err)
	}

	cols, err := cat.DescribeTable(ctx, "CONTACTS")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cols {
		got = append(got, c.Name+" "+c.Type.String())
	}
	want := "CONTACT_ID NUMBER(38,0) NOT NULL, EMAIL VARCHAR(320), SCORE FLOAT, CUSTOM VARIANT, UPDATED_AT TIMESTAMP_NTZ(6), CLOSED_ON DATE, ACTIVE BOOLEAN"
	if strings.Join(got, ", ") != want {
		t.Errorf("DescribeTable:\n got %s\nwant %s", strings.Join(got, ", "), want)
	}
	if _, err := cat.DescribeTable(ctx, "ACME.CRM.NOPE"); !errors.Is(err, plan.ErrNoTable) {
		t.Errorf("missing table: %v", err)
	}

	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	// A timestamp's precision comes from the row types (database/sql
	// reports none for it).
	cols, err = cat.DescribeQuery(ctx, `SELECT CONTACT_ID, LOWER(EMAIL) AS EMAIL, CUSTOM:plan::string AS PLAN, SCORE * 2 AS DOUBLED,
		UPDATED_AT, UPDATED_AT::TIMESTAMP_NTZ(3) AS U3, UPDATED_AT::TIMESTAMP_NTZ AS U9
		FROM CONTACTS WHERE UPDATED_AT >= :window_start AND UPDATED_AT < :window_end`,
		map[string]any{"window_start": start, "window_end": start.AddDate(0, 1, 0)})
	if err != nil {
		t.Fatal(err)
	}
	got = nil
	for _, c := range cols {
		got = append(got, c.Name+" "+c.Type.Plain())
	}
	if strings.Join(got, ", ") != "CONTACT_ID NUMBER(38,0), EMAIL VARCHAR, PLAN VARCHAR, DOUBLED FLOAT, UPDATED_AT TIMESTAMP_NTZ(6), U3 TIMESTAMP_NTZ(3), U9 TIMESTAMP_NTZ(9)" {
		t.Errorf("DescribeQuery: %s", strings.Join(got, ", "))
	}
	if _, err := cat.DescribeQuery(ctx, "SELECT NOPE FROM CONTACTS", nil); err == nil || !strings.Contains(err.Error(), "invalid identifier") {
		t.Errorf("DescribeQuery of a bad column: %v", err)
	}
	// Describing reads no rows: the simulator saw describe-only requests.
	for _, q := range s.QueryHistory() {
		if strings.Contains(q.SQL, "DOUBLED") && q.Error != "" {
			t.Errorf("describe failed: %+v", q)
		}
	}
}

// Every session Sluice opens runs in UTC, whatever the account's zone.
func TestConfigPinsSessionTimezone(t *testing.T) {
	cfg, err := Config(&config.Connection{Name: "acme", Kind: "snowflake", Account: "X", User: "U",
		Auth: config.Auth{Method: "password", Password: &config.Secret{Env: "PW"}}}, func(string) string { return "pw" })
	if err != nil {
		t.Fatal(err)
	}
	if tz := cfg.Params["TIMEZONE"]; tz == nil || *tz != "UTC" {
		t.Errorf("session TIMEZONE = %v, want UTC", tz)
	}
}

// TestDeadServerFailsWithinTimeout: a connection's timeout bounds the
// login, retries included, so a Snowflake that is down fails a run in
// about that long, naming the connection.
func TestDeadServerFailsWithinTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close() // nothing listens there now
	c := &config.Connection{Name: "down", Kind: "snowflake", Account: "X", User: "U", Host: "127.0.0.1", Port: port, Protocol: "http",
		Timeout: 2 * time.Second, Auth: config.Auth{Method: "password", Password: &config.Secret{Env: "PW"}}}
	cfg, err := Config(c, func(string) string { return "pw" })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LoginTimeout != 2*time.Second {
		t.Errorf("login timeout %v, want the connection's 2s", cfg.LoginTimeout)
	}
	start := time.Now()
	_, err = Open(context.Background(), c, func(string) string { return "pw" })
	took := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "connecting to down") {
		t.Fatalf("open of a dead server: %v", err)
	}
	t.Logf("failed after %v: %v", took.Round(time.Millisecond), err)
}
