// Package snowflake connects Sluice to Snowflake through the gosnowflake
// driver: connection set-up for every auth method, the catalog that reads
// live schemas for plans, and (with the pull and push engines) the source
// and sink.
package snowflake

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"database/sql"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	sf "github.com/snowflakedb/gosnowflake/v2"
	"github.com/youmark/pkcs8"

	"github.com/hockeystack/sluice/engine/config"
)

func init() {
	// The driver logs failures it also returns as errors; Sluice reports
	// the errors itself, once, where they happen.
	sf.GetLogger().SetLogLevel("OFF")
}

// Config builds the driver configuration of a connection, reading its
// secrets through getenv (os.Getenv outside tests). Errors name where a
// secret was to come from, never the secret.
func Config(c *config.Connection, getenv func(string) string) (*sf.Config, error) {
	if c.Kind != config.Snowflake {
		return nil, fmt.Errorf("connection %s is %s, not snowflake", c.Name, c.Kind)
	}
	cfg := &sf.Config{
		Account:        c.Account,
		User:           c.User,
		Role:           c.Role,
		Warehouse:      c.Warehouse,
		Database:       c.Database,
		Schema:         c.Schema,
		Host:           c.Host,
		Port:           c.Port,
		Protocol:       c.Protocol,
		Application:    "sluice",
		LoginTimeout:   c.LoginTimeout(),
		RequestTimeout: 5 * time.Minute,
		// Key-pair tokens are minted per login; a short life limits a leak.
		JWTExpireTimeout: 60 * time.Second,
		MaxRetryCount:    7,
		// Sluice reads TIMESTAMP_NTZ as a UTC wall clock and binds window
		// bounds as TIMESTAMP_TZ instants; a session in UTC makes
		// Snowflake's conversions between the timestamp types agree
		// (an account's default zone is America/Los_Angeles), whatever
		// the account or user has set.
		Params: map[string]*string{"TIMEZONE": new("UTC")},
	}
	secret := func(s *config.Secret, what string) (string, error) {
		if s == nil {
			return "", fmt.Errorf("connection %s: auth method %s needs a %s", c.Name, c.Auth.Method, what)
		}
		v, err := s.Resolve(getenv)
		if err != nil {
			return "", fmt.Errorf("connection %s: %s (%s): %w", c.Name, what, s, err)
		}
		return v, nil
	}
	switch c.Auth.Method {
	case "password":
		pw, err := secret(c.Auth.Password, "password")
		if err != nil {
			return nil, err
		}
		cfg.Authenticator, cfg.Password = sf.AuthTypeSnowflake, pw
	case "key_pair":
		pemText, err := secret(c.Auth.PrivateKey, "private key")
		if err != nil {
			return nil, err
		}
		var pass string
		if c.Auth.Passphrase != nil {
			if pass, err = secret(c.Auth.Passphrase, "passphrase"); err != nil {
				return nil, err
			}
		}
		key, err := ParsePrivateKey([]byte(pemText), []byte(pass))
		if err != nil {
			return nil, fmt.Errorf("connection %s: private key (%s): %w", c.Name, c.Auth.PrivateKey, err)
		}
		cfg.Authenticator, cfg.PrivateKey = sf.AuthTypeJwt, key
	case "oauth":
		tok, err := secret(c.Auth.Token, "token")
		if err != nil {
			return nil, err
		}
		cfg.Authenticator, cfg.Token = sf.AuthTypeOAuth, tok
	case "pat":
		tok, err := secret(c.Auth.Token, "token")
		if err != nil {
			return nil, err
		}
		cfg.Authenticator, cfg.Token = sf.AuthTypePat, tok
	default:
		return nil, fmt.Errorf("connection %s: auth method %q is not one Snowflake takes", c.Name, c.Auth.Method)
	}
	return cfg, nil
}

// ParsePrivateKey reads an RSA private key in PEM: PKCS#8, encrypted with
// passphrase when it is (as `openssl pkcs8 -topk8 -v2 aes256` writes), or
// PKCS#1.
func ParsePrivateKey(pemData, passphrase []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(pemData)
	if block == nil {
		return nil, errors.New("no PEM block found")
	}
	var key any
	var err error
	switch block.Type {
	case "ENCRYPTED PRIVATE KEY":
		if len(passphrase) == 0 {
			return nil, errors.New("the key is encrypted and no passphrase is configured")
		}
		key, err = pkcs8.ParsePKCS8PrivateKey(block.Bytes, passphrase)
		if err != nil {
			return nil, errors.New("cannot decrypt the key: wrong passphrase or unsupported cipher")
		}
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("unexpected PEM block %q", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("parsing the key: %w", err)
	}
	rsaKey, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("the key is %T; Snowflake key-pair auth takes RSA keys", key)
	}
	return rsaKey, nil
}

// Open connects to the Snowflake account a connection names and checks
// the login. The caller closes the handle.
func Open(ctx context.Context, c *config.Connection, getenv func(string) string) (*sql.DB, error) {
	cfg, err := Config(c, getenv)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, *cfg))
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connecting to %s: %w", c.Name, redact(err, cfg))
	}
	return db, nil
}

// redact removes secrets from an error's text, in case a layer quotes
// them.
func redact(err error, cfg *sf.Config) error {
	msg := err.Error()
	for _, s := range []string{cfg.Password, cfg.Token} {
		if s != "" && strings.Contains(msg, s) {
			return errors.New(strings.ReplaceAll(msg, s, "[redacted]"))
		}
	}
	return err
}

// credentialCodes are Snowflake's answers to a login it refuses: wrong
// user or password, a JWT it cannot verify, a disabled or locked user, an
// OAuth or access token that is invalid or expired.
var credentialCodes = map[int]bool{390100: true, 390101: true, 390102: true, 390144: true, 390303: true, 390318: true}

// CredentialsRejected reports whether err is Snowflake refusing the
// connection's credentials. Trying again would not help, and repeated
// failed logins lock the user.
func CredentialsRejected(err error) bool {
	var se *sf.SnowflakeError
	return errors.As(err, &se) && credentialCodes[se.Number]
}
