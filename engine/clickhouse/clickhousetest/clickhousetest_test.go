package clickhousetest

import (
	"context"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"
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

// A server started from a goroutine whose OS thread later ends must keep
// running: Pdeathsig is tied to the starting thread, and a goroutine that
// returns while locked to its thread ends that thread.
func TestServerOutlivesItsStartingThread(t *testing.T) {
	type result struct {
		s   *Server
		err error
	}
	done := make(chan result)
	onEndingThread(func() {
		s, err := Start()
		done <- result{s, err}
	})
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	defer r.s.Stop()
	time.Sleep(500 * time.Millisecond) // the thread's exit and any signal
	conn, err := r.s.Connect("default")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Ping(context.Background()); err != nil {
		t.Fatalf("the server died with the thread that started it: %v", err)
	}
}

// onEndingThread runs f on a goroutine locked to an OS thread that ends
// when f returns. The main thread never ends, so a goroutine that lands
// on it holds it and hands f to one that cannot.
func onEndingThread(f func()) {
	go func() {
		runtime.LockOSThread() // never unlocked on a thread that ends
		if syscall.Gettid() == os.Getpid() {
			done := make(chan struct{})
			onEndingThread(func() { f(); close(done) })
			<-done
			runtime.UnlockOSThread()
			return
		}
		f()
	}()
}
