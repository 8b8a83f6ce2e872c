// Package clickhouse connects Sluice to ClickHouse over the native protocol
// (clickhouse-go): the catalog that reads live schemas for plans, and the
// source and sink that move Arrow batches.
package clickhouse

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/hockeystack/sluice/engine/config"
)

// Open connects to the ClickHouse server a connection names, reading its
// password through getenv (os.Getenv outside tests). The password never
// appears in errors.
func Open(ctx context.Context, c *config.Connection, getenv func(string) string) (driver.Conn, error) {
	if c.Kind != config.ClickHouse {
		return nil, fmt.Errorf("connection %s is %s, not clickhouse", c.Name, c.Kind)
	}
	auth := clickhouse.Auth{Database: c.Database, Username: c.User}
	if auth.Username == "" {
		auth.Username = "default"
	}
	if c.Auth.Password != nil {
		pw, err := c.Auth.Password.Resolve(getenv)
		if err != nil {
			return nil, fmt.Errorf("connection %s: password (%s): %w", c.Name, c.Auth.Password, err)
		}
		auth.Password = pw
	}
	host := c.Host
	port := c.Port
	if h, p, err := net.SplitHostPort(host); err == nil {
		host = h
		port, _ = strconv.Atoi(p)
	}
	if port == 0 {
		port = 9000
		if c.Secure {
			port = 9440
		}
	}
	opts := &clickhouse.Options{
		Addr:             []string{net.JoinHostPort(host, strconv.Itoa(port))},
		Auth:             auth,
		Protocol:         clickhouse.Native,
		DialTimeout:      cmp.Or(c.Timeout, 10*time.Second),
		ReadTimeout:      5 * time.Minute,
		MaxOpenConns:     4,
		ConnMaxLifetime:  time.Hour,
		ClientInfo:       clickhouse.ClientInfo{Products: []struct{ Name, Version string }{{Name: "sluice", Version: "1"}}},
		Compression:      &clickhouse.Compression{Method: clickhouse.CompressionLZ4},
		BlockBufferSize:  10,
		MaxIdleConns:     2,
		ConnOpenStrategy: clickhouse.ConnOpenInOrder,
	}
	if c.Secure {
		opts.TLS = tlsConfig()
	}
	conn, err := clickhouse.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", c.Name, err)
	}
	if err := conn.Ping(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("connecting to %s: %w", c.Name, redact(err, auth.Password))
	}
	return conn, nil
}

// redact removes a secret from an error's text, in case a driver quotes it.
func redact(err error, secret string) error {
	if secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return fmt.Errorf("%s", strings.ReplaceAll(err.Error(), secret, "[redacted]"))
}

// CredentialsRejected reports whether err is ClickHouse refusing the
// connection's user or password (UNKNOWN_USER, WRONG_PASSWORD,
// REQUIRED_PASSWORD, AUTHENTICATION_FAILED).
func CredentialsRejected(err error) bool {
	var ex *clickhouse.Exception
	if !errors.As(err, &ex) {
		return false
	}
	switch ex.Code {
	case 192, 193, 194, 516:
		return true
	}
	return false
}
