package clickhouse

import (
	"context"
	"net"
	"strconv"
	"testing"

	"github.com/hockeystack/sluice/engine/clickhouse/clickhousetest"
	"github.com/hockeystack/sluice/engine/config"
)

// TestCredentialsRejected: the real server refusing a user is told apart
// from other failures, so serve pauses instead of retrying.
func TestCredentialsRejected(t *testing.T) {
	srv := clickhousetest.Shared(t)
	host, port, _ := net.SplitHostPort(srv.Addr)
	p, _ := strconv.Atoi(port)
	conn := func(user string) *config.Connection {
		return &config.Connection{Name: "ch", Kind: "clickhouse", Host: host, Port: p, User: user, Auth: config.Auth{Method: "none"}}
	}
	_, err := Open(context.Background(), conn("nobody"), func(string) string { return "" })
	if err == nil || !CredentialsRejected(err) {
		t.Fatalf("unknown user: %v, want credentials rejected", err)
	}
	c, err := Open(context.Background(), conn("default"), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.Exec(context.Background(), "SELECT * FROM no_such_database.no_such_table")
	if err == nil || CredentialsRejected(err) {
		t.Errorf("a missing table: %v, want an error that is not about credentials", err)
	}
}
