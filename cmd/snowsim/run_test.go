//go:build duckdb_arrow

package main

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	sf "github.com/snowflakedb/gosnowflake/v2"
)

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServeSeeded(t *testing.T) {
	seed := filepath.Join(t.TempDir(), "seed.sql")
	os.WriteFile(seed, []byte("CREATE DATABASE ACME; CREATE TABLE ACME.PUBLIC.T (A NUMBER); INSERT INTO ACME.PUBLIC.T VALUES (41), (1);"), 0o644)
	var out, errOut syncBuffer
	stop := make(chan struct{})
	done := make(chan int)
	go func() { done <- run([]string{"--user", "ana:secret", "--seed", seed}, &out, &errOut, stop) }()
	var port int
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && port == 0; time.Sleep(20 * time.Millisecond) {
		if m := regexp.MustCompile(`port (\d+)`).FindStringSubmatch(out.String()); m != nil {
			port, _ = strconv.Atoi(m[1])
		}
	}
	if port == 0 {
		t.Fatalf("snowsim did not start: %s", errOut.String())
	}
	cfg := &sf.Config{Account: "SNOWSIM", User: "ana", Password: "secret", Host: "127.0.0.1", Port: port, Protocol: "http",
		Database: "ACME", MaxRetryCount: 1, DisableOCSPChecks: true}
	db := sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, *cfg))
	var sum int
	err := db.QueryRowContext(context.Background(), "SELECT SUM(A) FROM T").Scan(&sum)
	db.Close()
	close(stop)
	if code := <-done; code != 0 || err != nil || sum != 42 {
		t.Fatalf("exit %d, sum %d, err %v\n%s", code, sum, err, errOut.String())
	}
}
