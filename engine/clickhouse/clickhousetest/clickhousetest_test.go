package clickhousetest

import (
	"context"
	"os"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func TestServerAnswers(t *testing.T) {
	db := NewDB(t)
	ctx := context.Background()
	if err := db.Conn.Exec(ctx, "CREATE TABLE "+db.Name+".t (a Int64) ENGINE = MergeTree ORDER BY a"); err != nil {
		t.Fatal(err)
	}
	var n uint64
	if err := db.Conn.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = '"+db.Name+"'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 || db.Version == "" {
		t.Errorf("tables = %d, version %q", n, db.Version)
	}
	t.Logf("clickhouse-server %s at %s", db.Version, db.Addr)
}
