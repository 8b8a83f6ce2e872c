//go:build duckdb_arrow

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hockeystack/sluice/engine/clickhouse/clickhousetest"
	"github.com/hockeystack/sluice/engine/snowflake/snowflaketest"
	"github.com/hockeystack/sluice/engine/state"
	"github.com/hockeystack/sluice/engine/state/pgtest"
)

// tickPipeline is one pipeline of a serve fleet: a daily-windowed upsert
// stream that starts behind days windows before today (UTC), with a
// lookback.
type tickPipeline struct {
	name     string
	behind   int
	lookback time.Duration
	// append writes mode append; the default is upsert.
	append bool
}

// destination is the pipeline's destination mapping, in db.
func (p tickPipeline) destination(db string) string {
	if p.append {
		return fmt.Sprintf("{connection: ch, table: %s.%s, mode: append, create: true}", db, p.name)
	}
	return fmt.Sprintf("{connection: ch, table: %s.%s, mode: upsert, key: [id], version: at, create: true}", db, p.name)
}

func (p tickPipeline) start(today time.Time) time.Time { return today.AddDate(0, 0, -p.behind) }

// fleet is a snowsim, a clickhouse-server and a folder of pipelines that
// all read one EVENTS table, each into its own ClickHouse table, each over
// a connection of its own (as customers have).
type fleet struct {
	sf        *snowflaketest.Server
	ch        *clickhousetest.DB
	dir       string
	pipelines []tickPipeline
	today     time.Time
	schedule  string
}

func newFleet(t testing.TB, schedule string, pipelines []tickPipeline) *fleet {
	f := &fleet{sf: snowflaketest.Start(t, snowflaketest.Options{}), ch: clickhousetest.NewDB(t), dir: t.TempDir(),
		pipelines: pipelines, today: time.Now().UTC().Truncate(24 * time.Hour), schedule: schedule}
	oldest := f.today
	for _, p := range pipelines {
		if p.start(f.today).Before(oldest) {
			oldest = p.start(f.today)
		}
	}
	// One event every ten minutes from the oldest start to a day ahead.
	n := int(f.today.AddDate(0, 0, 1).Sub(oldest) / (10 * time.Minute))
	if err := f.sf.Exec(context.Background(), fmt.Sprintf(`CREATE DATABASE ACME; CREATE SCHEMA ACME.CRM;
		CREATE TABLE ACME.CRM.EVENTS (ID NUMBER(18,0) NOT NULL, AMOUNT NUMBER(12,2), AT TIMESTAMP_NTZ);
		INSERT INTO ACME.CRM.EVENTS SELECT SEQ4(), (SEQ4() %% 997) / 4, DATEADD(minute, SEQ4() * 10, '%s'::TIMESTAMP_NTZ)
		FROM TABLE(GENERATOR(ROWCOUNT => %d))`, oldest.Format(time.DateTime), n)); err != nil {
		t.Fatal(err)
	}
	var conns strings.Builder
	fmt.Fprintf(&conns, "version: 1\nconnections:\n  ch: {kind: clickhouse, access: read_write, host: %s, auth: {method: none}}\n", f.ch.Addr)
	files := map[string]string{}
	for _, p := range pipelines {
		fmt.Fprintf(&conns, "  sf_%s: {kind: snowflake, access: read_only, account: SNOWSIM, host: 127.0.0.1, port: %d, protocol: http, user: SLUICE, database: ACME, schema: CRM, auth: {method: password, password: {env: SF_PASSWORD}}}\n", p.name, f.sf.Port)
		files[p.name+"/pipeline.yaml"] = fmt.Sprintf(`version: 1
name: %s
schedule: "%s"
streams:
  events:
    source:
      connection: sf_%s
      query: q.sql
      incremental: {cursor: AT, start: %s, window: 1d, lookback: %s}
    columns:
      id:     {type: Int64}
      amount: {type: "Decimal(12, 2)"}
      at:     {type: "DateTime('UTC')", allow_lossy: true}
    destination: %s
`, p.name, schedule, p.name, p.start(f.today).Format(time.DateOnly), spanText(p.lookback), p.destination(f.ch.Name))
		files[p.name+"/q.sql"] = `SELECT ID, AMOUNT, "AT" FROM EVENTS WHERE "AT" >= :window_start AND "AT" < :window_end`
	}
	files["connections.yaml"] = conns.String()
	writeFiles(t, f.dir, files)
	return f
}

func spanText(d time.Duration) string {
	switch {
	case d == 0:
		return `"0"`
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	default:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
}

// daemon is one `sluice serve` process.
type daemon struct {
	cmd     *exec.Cmd
	addr    string
	mu      sync.Mutex
	logs    strings.Builder
	stopped time.Duration // how long SIGTERM took
}

func (f *fleet) serve(t testing.TB, stateLoc string, args ...string) *daemon {
	argv := append([]string{"serve", "--listen", "127.0.0.1:0", "--state", stateLoc}, args...)
	argv = append(argv, f.dir)
	d := &daemon{cmd: exec.Command(os.Args[0], argv...)}
	d.cmd.Env = append(os.Environ(), "SLUICE_RUN_AS_CLI=1", "SF_PASSWORD=sluice", "SLUICE_CONNECTIONS="+filepath.Join(f.dir, "connections.yaml"))
	errPipe, _ := d.cmd.StderrPipe()
	out, _ := d.cmd.StdoutPipe()
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.cmd.Process.Kill() })
	go func() {
		sc := bufio.NewScanner(errPipe)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			d.mu.Lock()
			d.logs.WriteString(sc.Text() + "\n")
			d.mu.Unlock()
		}
		io.Copy(io.Discard, errPipe)
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	m := regexp.MustCompile(`http://(\S+)`).FindStringSubmatch(line)
	if err != nil || m == nil {
		t.Fatalf("serve did not start: %q %v\n%s", line, err, d.log())
	}
	d.addr = m[1]
	go io.Copy(io.Discard, out)
	return d
}

func (d *daemon) log() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.logs.String()
}

// metrics reads /metrics: series (name and labels) to value.
func (d *daemon) metrics() map[string]float64 {
	out := map[string]float64{}
	resp, err := http.Get("http://" + d.addr + "/metrics")
	if err != nil {
		return out
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if i := strings.LastIndexByte(line, ' '); i > 0 && !strings.HasPrefix(line, "#") {
			v, _ := strconv.ParseFloat(line[i+1:], 64)
			out[line[:i]] = v
		}
	}
	return out
}

// metric reads one series from /metrics (0 when absent).
func (d *daemon) metric(name string, labels string) float64 {
	return d.metrics()[name+labels]
}

// stop sends SIGTERM and waits for the daemon to end.
func (d *daemon) stop(t testing.TB) {
	start := time.Now()
	d.cmd.Process.Signal(syscall.SIGTERM)
	if err := d.cmd.Wait(); err != nil {
		t.Errorf("serve ended with %v\n%s", err, d.log())
	}
	d.stopped = time.Since(start)
}

// read is one source query that snowsim received for a window.
type read struct {
	pipeline   string
	cut        time.Time
	start, end time.Time
	at         int // its place in snowsim's history
}

// reads are the window queries snowsim received, from their query tags;
// other counts the statements that were not window reads. A nil t skips
// the check of the tags.
func (f *fleet) reads(t testing.TB) (out []read, other int) {
	for i, q := range f.sf.QueryHistory() {
		var tag struct{ Pipeline, Window, Cut string }
		if q.QueryTag == "" || json.Unmarshal([]byte(q.QueryTag), &tag) != nil || tag.Cut == "" {
			other++
			continue
		}
		r := read{pipeline: tag.Pipeline, at: i}
		var err error
		if r.cut, err = time.Parse(time.RFC3339Nano, tag.Cut); err != nil && t != nil {
			t.Fatalf("tag %s: %v", q.QueryTag, err)
		}
		s, e, _ := strings.Cut(strings.Trim(tag.Window, "[)"), ", ")
		r.start, _ = time.Parse(time.RFC3339, s)
		r.end, _ = time.Parse(time.RFC3339, e)
		out = append(out, r)
	}
	return out, other
}

// tickReport is what the check found for one pipeline.
type tickReport struct {
	ticks   int // ticks checked whole
	windows int // window reads in them
}

// checkTicks checks every pipeline's window reads tick by tick against
// the rule the README states: a tick cut at c reads, once each and oldest
// first, every window up to c that is not committed complete, and every
// complete one ending within the lookback of the newest committed end;
// nothing else. Every tick but the last must be whole; the last may have
// been stopped part way. It returns per pipeline how many ticks it checked.
func (f *fleet) checkTicks(t testing.TB, reads []read) map[string]tickReport {
	t.Helper()
	byPipeline := map[string][]read{}
	for _, r := range reads {
		byPipeline[r.pipeline] = append(byPipeline[r.pipeline], r)
	}
	out := map[string]tickReport{}
	for _, p := range f.pipelines {
		rs := byPipeline[p.name]
		var cuts []time.Time
		byCut := map[time.Time][]read{}
		for _, r := range rs {
			if _, ok := byCut[r.cut]; !ok {
				cuts = append(cuts, r.cut)
			}
			byCut[r.cut] = append(byCut[r.cut], r)
		}
		sort.Slice(cuts, func(i, j int) bool { return cuts[i].Before(cuts[j]) })
		type entry struct {
			end      time.Time
			complete bool
		}
		ledger := map[time.Time]entry{}
		var newest time.Time
		var rep tickReport
		for i, cut := range cuts {
			var want []string
			for d := p.start(f.today); d.Before(cut); d = d.AddDate(0, 0, 1) {
				end := d.AddDate(0, 0, 1)
				complete := !end.After(cut)
				if !complete {
					end = cut
				}
				e, ok := ledger[d]
				if ok && e.complete && !e.end.After(newest.Add(-p.lookback)) {
					continue
				}
				want = append(want, label(d, end))
			}
			var got []string
			for _, r := range byCut[cut] {
				got = append(got, label(r.start, r.end))
			}
			last := i == len(cuts)-1
			if !last && strings.Join(got, " ") != strings.Join(want, " ") || last && !strings.HasPrefix(strings.Join(want, " "), strings.Join(got, " ")) {
				t.Errorf("%s, tick %d cut %s:\n read %s\n want %s", p.name, i, cut.Format(time.RFC3339), got, want)
			}
			for _, r := range byCut[cut] {
				// Query tags give a window's bounds in whole seconds.
				e := entry{r.end, true}
				if r.end.Equal(cut.Truncate(time.Second)) {
					e = entry{cut, false}
				}
				ledger[r.start] = e
				newest = maxTime(newest, e.end)
			}
			if !last {
				rep.ticks++
				rep.windows += len(got)
			}
		}
		out[p.name] = rep
	}
	return out
}

func label(s, e time.Time) string {
	return s.UTC().Format("01-02T15:04") + ".." + e.UTC().Format("01-02T15:04:05")
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// waitTicks waits until every pipeline has finished n ticks on the
// daemons together.
func (f *fleet) waitTicks(t testing.TB, n int, within time.Duration, ds ...*daemon) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		behind := ""
		var ms []map[string]float64
		for _, d := range ds {
			ms = append(ms, d.metrics())
		}
		for _, p := range f.pipelines {
			var got float64
			for _, m := range ms {
				got += m[fmt.Sprintf(`sluice_ticks_total{pipeline="%s",stream="events"}`, p.name)]
			}
			if got < float64(n) {
				behind = fmt.Sprintf("%s has finished %v of %d ticks", p.name, got, n)
				break
			}
		}
		if behind == "" {
			return
		}
		if time.Now().After(deadline) {
			var logs strings.Builder
			for _, d := range ds {
				logs.WriteString(lastLines(d.log(), 30))
			}
			t.Fatalf("%s after %s\n%s", behind, within, logs.String())
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n") + "\n"
}

// checkLanded checks each pipeline's table against the source: every
// event before the cut of its newest committed window, once.
func (f *fleet) checkLanded(t testing.TB, st *state.Store) {
	t.Helper()
	ctx := context.Background()
	for _, p := range f.pipelines {
		ws, err := st.Windows(ctx, p.name, "events")
		if err != nil {
			t.Fatal(err)
		}
		var newest time.Time
		for _, w := range ws {
			if w.State != state.Committed {
				t.Errorf("%s: window %s is %s", p.name, label(w.Start, w.End), w.State)
			}
			newest = maxTime(newest, w.End)
		}
		from := p.start(f.today)
		want := int(newest.Sub(from)/(10*time.Minute)) + 1 // events at from, from+10m, ..., < newest
		if newest.Sub(from)%(10*time.Minute) == 0 {
			want--
		}
		var n, distinct uint64
		if err := f.ch.Conn.QueryRow(ctx, fmt.Sprintf("SELECT count(), uniqExact(id) FROM %s.%s FINAL", f.ch.Name, p.name)).Scan(&n, &distinct); err != nil {
			t.Fatal(err)
		}
		if int(n) != want || n != distinct {
			t.Errorf("%s: %d rows (%d ids) up to %s, want %d", p.name, n, distinct, newest.Format(time.RFC3339), want)
		}
	}
}

// tickCases are the shapes of backlog serve must go through: behind by 1,
// 2 and 30 windows; no lookback, a lookback inside one window, and one
// spanning two.
var tickCases = []tickPipeline{
	{name: "behind1_lookback0", behind: 1},
	{name: "behind2_lookback10m", behind: 2, lookback: 10 * time.Minute},
	{name: "behind30_lookback30h", behind: 30, lookback: 30 * time.Hour},
	{name: "behind2_lookback30h", behind: 2, lookback: 30 * time.Hour},
}

// TestServeTicks runs serve with a real clock on a ten-second schedule
// until every pipeline has finished three ticks, with one window a job
// and with five, and checks every window read snowsim received against
// the rule, tick by tick: the backlog goes by in as many reads as it has
// windows and the lookback re-reads once a tick. After the first tick of
// a stream, snowsim receives nothing but window reads: no login, no
// describe. The tables hold every event up to the newest cut once.
func TestServeTicks(t *testing.T) {
	for _, perJob := range []string{"1", "5"} {
		t.Run("windows-per-job="+perJob, func(t *testing.T) {
			f := newFleet(t, "@every 10s", tickCases)
			d := f.serve(t, filepath.Join(f.dir, "state.db"), "--windows-per-job", perJob, "--workers", "4", "--per-connection", "4")
			f.waitTicks(t, 3, 2*time.Minute, d)
			_, otherBefore := f.reads(t)
			f.waitTicks(t, 4, time.Minute, d)
			m := d.metrics()
			d.stop(t)
			reads, other := f.reads(t)
			rep := f.checkTicks(t, reads)
			perPipeline := map[string]int{}
			for _, r := range reads {
				perPipeline[r.pipeline]++
			}
			for _, p := range f.pipelines {
				if rep[p.name].ticks < 3 {
					t.Errorf("%s: %d whole ticks seen in snowsim's history, want at least 3", p.name, rep[p.name].ticks)
				}
				// What /metrics says agrees with what snowsim received.
				labels := fmt.Sprintf(`{pipeline="%s",stream="events"}`, p.name)
				if r := m["sluice_windows_repeated_total"+labels]; r != 0 {
					t.Errorf("%s: %v windows repeated", p.name, r)
				}
				if q := m["sluice_source_queries_total"+labels]; q == 0 || q > float64(perPipeline[p.name]) {
					t.Errorf("%s: /metrics counts %v source queries, snowsim received %d by the end", p.name, q, perPipeline[p.name])
				}
				// Caught up, a tick reads the window cut at the tick and
				// the lookback's: one or two windows, one query each.
				if w, q := m["sluice_tick_windows"+labels], m["sluice_tick_source_queries"+labels]; w < 1 || w > 2 || q != w {
					t.Errorf("%s: the last tick committed %v windows in %v source queries", p.name, w, q)
				}
			}
			if other != otherBefore {
				t.Errorf("snowsim received %d statements other than window reads after the third tick, want none", other-otherBefore)
			}
			st, err := state.Open(filepath.Join(f.dir, "state.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			f.checkLanded(t, st)
		})
	}
}

// TestServeTicksManyMachines: the same on three workers sharing Postgres,
// where the jobs of one tick go to whichever worker is free.
func TestServeTicksManyMachines(t *testing.T) {
	stateURL := pgtest.Start(t).NewDatabase(t, "sluice")
	f := newFleet(t, "@every 10s", tickCases)
	var ds []*daemon
	for range 3 {
		ds = append(ds, f.serve(t, stateURL, "--workers", "2", "--per-connection", "2"))
	}
	f.waitTicks(t, 3, 2*time.Minute, ds...)
	for _, d := range ds {
		d.stop(t)
	}
	reads, _ := f.reads(t)
	rep := f.checkTicks(t, reads)
	busy := 0
	for _, d := range ds {
		if strings.Contains(d.log(), `"msg":"window committed"`) {
			busy++
		}
	}
	if busy < 2 {
		t.Errorf("windows ran on %d worker(s), want them spread", busy)
	}
	for _, p := range f.pipelines {
		if rep[p.name].ticks < 2 {
			t.Errorf("%s: %d whole ticks seen in snowsim's history, want at least 2", p.name, rep[p.name].ticks)
		}
	}
	st, err := state.Open(stateURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	f.checkLanded(t, st)
}

// TestServeStopsWith200Due: SIGTERM while 200 streams are due starts no
// further window, lets the running ones finish and ends well within the
// grace period, with no window left loading; the next serve loads the
// rest, and every table holds each event once.
func TestServeStopsWith200Due(t *testing.T) {
	var ps []tickPipeline
	for i := range 200 {
		ps = append(ps, tickPipeline{name: fmt.Sprintf("c%03d", i), behind: 1})
	}
	f := newFleet(t, "0 3 * * *", ps)
	statePath := filepath.Join(f.dir, "state.db")
	d := f.serve(t, statePath, "--workers", "4", "--grace", "30s")
	deadline := time.Now().Add(time.Minute)
	for r, _ := f.reads(t); len(r) < 40; r, _ = f.reads(t) {
		if time.Now().After(deadline) {
			t.Fatalf("%d windows read in a minute\n%s", len(r), lastLines(d.log(), 30))
		}
		time.Sleep(20 * time.Millisecond)
	}
	before, _ := f.reads(t)
	d.stop(t)
	after, _ := f.reads(t)
	if late := len(after) - len(before); late > 4 {
		t.Errorf("%d windows read after SIGTERM, want at most the 4 running", late)
	}
	if d.stopped > 10*time.Second {
		t.Errorf("serve took %s to stop, want the running windows' time", d.stopped)
	}
	t.Logf("SIGTERM with 200 streams due: %d windows read before, %d after; stopped in %s", len(before), len(after)-len(before), d.stopped.Round(time.Millisecond))
	st, err := state.Open(statePath)
	if err != nil {
		t.Fatal(err)
	}
	committed := 0
	for _, p := range ps {
		ws, _ := st.Windows(context.Background(), p.name, "events")
		for _, w := range ws {
			if w.State != state.Committed {
				t.Errorf("%s: window %s left %s", p.name, label(w.Start, w.End), w.State)
			}
			committed++
		}
	}
	st.Close()
	if committed == 0 || committed >= 2*len(ps) {
		t.Errorf("%d windows committed before the stop, want some and not all", committed)
	}
	// The next serve takes up the tick where it stopped.
	d = f.serve(t, statePath, "--workers", "4")
	f.waitTicks(t, 1, 3*time.Minute, d)
	d.stop(t)
	st, err = state.Open(statePath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	f.checkLanded(t, st)
}
