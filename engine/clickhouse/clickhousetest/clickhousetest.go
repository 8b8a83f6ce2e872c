// Package clickhousetest starts a real clickhouse-server for tests, in the
// spirit of net/http/httptest: a throwaway data folder, a free port on
// 127.0.0.1, and a fresh database per test.
//
// Tests that use it call Main from TestMain, so the server started for the
// package stops when its tests end:
//
//	func TestMain(m *testing.M) { os.Exit(clickhousetest.Main(m)) }
//
// Set SLUICE_CLICKHOUSE_ADDR to use a server already running instead.
package clickhousetest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Server is a running clickhouse-server.
type Server struct {
	// Addr is host:port of the native protocol.
	Addr    string
	Version string
	dir     string
	bin     string
	cmd     *exec.Cmd
	exited  chan struct{}
}

var (
	mu       sync.Mutex
	shared   *Server
	startErr error
	dbSeq    atomic.Int64
)

// Main runs the package's tests and stops the shared server, if one was
// started. It returns the exit code for os.Exit.
func Main(m *testing.M) int {
	code := m.Run()
	mu.Lock()
	defer mu.Unlock()
	if shared != nil {
		shared.Stop()
	}
	return code
}

// Shared returns the package's server, starting it on first use. A missing
// clickhouse-server fails the test with how to install it: tests at a
// database boundary never pass without a database.
func Shared(tb testing.TB) *Server {
	tb.Helper()
	mu.Lock()
	defer mu.Unlock()
	if shared == nil && startErr == nil {
		if addr := os.Getenv("SLUICE_CLICKHOUSE_ADDR"); addr != "" {
			shared, startErr = attach(addr)
		} else {
			shared, startErr = Start()
		}
	}
	if startErr != nil {
		tb.Fatalf("clickhousetest: %v", startErr)
	}
	return shared
}

// DB is a fresh database on the shared server, dropped when the test ends.
type DB struct {
	*Server
	Name string
	Conn driver.Conn
}

// NewDB creates a database for one test and a connection to it.
func NewDB(tb testing.TB) *DB {
	tb.Helper()
	s := Shared(tb)
	name := fmt.Sprintf("t%d_%d", os.Getpid(), dbSeq.Add(1))
	conn, err := s.Connect("default")
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	if err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("creating database: %v", err)
	}
	tb.Cleanup(func() {
		conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name)
		conn.Close()
	})
	return &DB{Server: s, Name: name, Conn: conn}
}

// Connect opens a native-protocol connection to database.
func (s *Server) Connect(database string) (driver.Conn, error) {
	return clickhouse.Open(&clickhouse.Options{
		Addr:        []string{s.Addr},
		Auth:        clickhouse.Auth{Database: database, Username: "default"},
		DialTimeout: 5 * time.Second,
		ReadTimeout: 60 * time.Second,
		Settings:    clickhouse.Settings{},
	})
}

func attach(addr string) (*Server, error) {
	s := &Server{Addr: addr}
	return s, s.wait(10 * time.Second)
}

// Start starts a new clickhouse-server on a free 127.0.0.1 port with its
// data in a temporary folder. Stop it with Stop.
func Start() (*Server, error) { return start("warning") }

// StartLogging is Start with the server logging every query it runs to
// its log, in order (Queries reads them back).
func StartLogging() (*Server, error) { return start("debug") }

func start(level string) (*Server, error) {
	bin, err := exec.LookPath("clickhouse-server")
	if err != nil {
		return nil, fmt.Errorf("clickhouse-server not found (install it: apt-get install clickhouse-server, or set SLUICE_CLICKHOUSE_ADDR): %w", err)
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		s, err := startOnce(bin, level)
		if err == nil {
			return s, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func startOnce(bin, level string) (*Server, error) {
	dir, err := os.MkdirTemp("", "clickhousetest-")
	if err != nil {
		return nil, err
	}
	tcp, err := freePort()
	if err != nil {
		return nil, err
	}
	httpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	config := fmt.Sprintf(`<yandex>
  <logger><level>%[4]s</level><log>%[1]s/server.log</log><errorlog>%[1]s/error.log</errorlog></logger>
  <listen_host>127.0.0.1</listen_host>
  <tcp_port>%[2]d</tcp_port>
  <http_port>%[3]d</http_port>
  <path>%[1]s/data/</path>
  <tmp_path>%[1]s/tmp/</tmp_path>
  <users_config>%[1]s/users.xml</users_config>
  <mark_cache_size>268435456</mark_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <shutdown_wait_unfinished>1</shutdown_wait_unfinished>
</yandex>
`, dir, tcp, httpPort, level)
	users := `<yandex>
  <profiles><default>
    <allow_experimental_low_cardinality_type>1</allow_experimental_low_cardinality_type>
    <poll_interval>1</poll_interval>
  </default></profiles>
  <users><default>
    <password></password>
    <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
    <profile>default</profile>
    <quota>default</quota>
  </default></users>
  <quotas><default></default></quotas>
</yandex>
`
	if err := os.WriteFile(filepath.Join(dir, "config.xml"), []byte(config), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "users.xml"), []byte(users), 0o644); err != nil {
		return nil, err
	}
	s := &Server{Addr: fmt.Sprintf("127.0.0.1:%d", tcp), dir: dir, bin: bin}
	if err := s.launch(); err != nil {
		return nil, err
	}
	return s, nil
}

// launch starts the server process on s's folder and waits for it.
func (s *Server) launch() error {
	cmd := exec.Command(s.bin, "--config-file="+filepath.Join(s.dir, "config.xml"))
	cmd.Dir = s.dir
	out, err := os.OpenFile(filepath.Join(s.dir, "stdout.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = out, out
	// The server dies with the test process, even when that is killed.
	// Pdeathsig fires when the OS thread that started the child exits,
	// not the process (go.dev/issue/27505), and the Go runtime ends a
	// thread when a goroutine locked to it returns without unlocking. A
	// server started from an ordinary test goroutine was killed that way
	// mid-test whenever some other code on its thread did so. So the
	// server is started, and waited for, from a goroutine that holds its
	// thread until the server has exited.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	started := make(chan error, 1)
	exited := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			out.Close()
			started <- err
			return
		}
		started <- nil
		cmd.Wait()
		out.Close()
		close(exited)
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("starting clickhouse-server: %w", err)
	}
	s.cmd, s.exited = cmd, exited
	if err := s.wait(30 * time.Second); err != nil {
		logs, _ := os.ReadFile(filepath.Join(s.dir, "error.log"))
		s.Stop()
		return fmt.Errorf("%w\n%s", err, tail(string(logs), 2000))
	}
	return nil
}

// Kill stops the server with sig (SIGTERM shuts it down as an operator
// would, SIGKILL crashes it) and waits until it has exited. Its data
// stays for Restart.
func (s *Server) Kill(sig syscall.Signal) error {
	if s.cmd == nil {
		return fmt.Errorf("clickhousetest: the server at %s was not started here", s.Addr)
	}
	if s.hasExited() {
		return nil // its pid may already be another process's
	}
	syscall.Kill(-s.cmd.Process.Pid, sig)
	select {
	case <-s.exited:
		return nil
	case <-time.After(60 * time.Second):
		return fmt.Errorf("clickhouse-server did not exit within a minute of %v", sig)
	}
}

// hasExited reports whether the server process has been waited for.
func (s *Server) hasExited() bool {
	select {
	case <-s.exited:
		return true
	default:
		return false
	}
}

// Restart stops the server with sig, if it runs, and starts it again on
// the same data and port.
func (s *Server) Restart(sig syscall.Signal) error {
	select {
	case <-s.exited:
	default:
		if err := s.Kill(sig); err != nil {
			return err
		}
	}
	return s.launch()
}

// wait polls the server until it answers SELECT 1, and reads its version.
func (s *Server) wait(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	var lastErr error
	for time.Now().Before(deadline) {
		if s.exited != nil {
			select {
			case <-s.exited:
				return fmt.Errorf("clickhouse-server exited during start-up")
			default:
			}
		}
		conn, err := s.Connect("default")
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			err = conn.Ping(ctx)
			if err == nil {
				var v string
				if err = conn.QueryRow(ctx, "SELECT version()").Scan(&v); err == nil {
					s.Version = v
				}
			}
			cancel()
			conn.Close()
			if err == nil {
				return nil
			}
		}
		lastErr = err
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("clickhouse-server at %s did not answer within %v: %v", s.Addr, limit, lastErr)
}

// CPUTime is the CPU time the server process has used so far, user and
// system, read from /proc; false for a server this package did not start.
func (s *Server) CPUTime() (time.Duration, bool) {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0, false
	}
	return ProcessCPU(s.cmd.Process.Pid)
}

// ProcessCPU reads a process's user and system CPU time from
// /proc/PID/stat (in clock ticks of 1/100 s, Linux's USER_HZ).
func ProcessCPU(pid int) (time.Duration, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// Fields after the command name, which is in parentheses and may hold
	// spaces: state is field 3, utime 14, stime 15.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, true
}

// Stop kills the server and removes its data.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil && !s.hasExited() {
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
		}
	}
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// logLine starts each line of the server's log: its time stamp.
var logLine = regexp.MustCompile(`^\d{4}\.\d{2}\.\d{2} \d{2}:\d{2}:\d{2}\.\d+ `)

// queryLine is a query the server began, as it logs it at debug level:
// "executeQuery: (from 127.0.0.1:port) <query>".
var queryLine = regexp.MustCompile(`executeQuery: \(from [^)]*\) (.*)$`)

// Queries returns the statements a server started with StartLogging has
// run, in the order it began them: the server's own record of what its
// clients sent.
func (s *Server) Queries() ([]string, error) {
	data, err := os.ReadFile(filepath.Join(s.dir, "server.log"))
	if err != nil {
		return nil, err
	}
	var out []string
	in := false // inside a query that spans lines
	for _, line := range strings.Split(string(data), "\n") {
		if !logLine.MatchString(line) {
			if in {
				out[len(out)-1] += "\n" + line
			}
			continue
		}
		m := queryLine.FindStringSubmatch(line)
		in = m != nil
		if in {
			out = append(out, m[1])
		}
	}
	return out, nil
}

// NewPrivateDB is NewDB on a server of the test's own, started for it
// and stopped when it ends: for a test that must not share a server's
// fate with the package's other tests.
func NewPrivateDB(tb testing.TB, name string) *DB {
	tb.Helper()
	s, err := Start()
	if err != nil {
		tb.Fatalf("clickhousetest: %v", err)
	}
	tb.Cleanup(s.Stop)
	conn, err := s.Connect("default")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	if err := conn.Exec(context.Background(), "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("creating database: %v", err)
	}
	return &DB{Server: s, Name: name, Conn: conn}
}
