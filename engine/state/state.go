// Package state keeps a pipeline's window ledger and run history in an
// embedded SQLite file, or in Postgres when several machines share the
// work: which windows of which streams are committed, which
// failed and why, and each run's outcome. A window is committed only after
// its rows are durable in the destination, so the ledger never claims more
// than the destination holds; re-running any window is always safe.
package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the Postgres driver as "pgx"
	_ "modernc.org/sqlite"             // registers the pure-Go sqlite driver
)

// Window states.
const (
	Loading   = "loading"
	Committed = "committed"
	Failed    = "failed"
)

// Store is an open state file. It is safe for concurrent use.
type Store struct {
	db *sql.DB
	pg bool
}

const schema = `
CREATE TABLE IF NOT EXISTS windows (
	pipeline TEXT NOT NULL,
	stream   TEXT NOT NULL,
	start    TEXT NOT NULL,   -- RFC 3339, UTC
	"end"    TEXT NOT NULL,
	complete BOOLEAN NOT NULL, -- the window reached its full size (not cut at "now")
	state    TEXT NOT NULL,
	rows     INTEGER NOT NULL DEFAULT 0,
	attempts INTEGER NOT NULL DEFAULT 0,
	error    TEXT,
	run_id   INTEGER,
	cut      TEXT,            -- the cut of the run (a serve tick) that last began it, RFC 3339
	committed_end TEXT,       -- "end" when last committed: the destination holds the window to there, while it loads again too
	digest   TEXT,            -- "rows:checksum" the destination computed when the window committed; sluice verify recomputes it
	updated  TEXT NOT NULL,
	PRIMARY KEY (pipeline, stream, start)
);
CREATE TABLE IF NOT EXISTS schedule (
	pipeline     TEXT NOT NULL,
	stream       TEXT NOT NULL,
	last_started TEXT NOT NULL, -- when serve last started the stream, RFC 3339
	PRIMARY KEY (pipeline, stream)
);
CREATE TABLE IF NOT EXISTS paused (
	pipeline TEXT PRIMARY KEY,
	reason   TEXT NOT NULL,
	since    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
	id       INTEGER PRIMARY KEY AUTOINCREMENT,
	pipeline TEXT NOT NULL,
	started  TEXT NOT NULL,
	finished TEXT,
	status   TEXT NOT NULL,
	windows  INTEGER NOT NULL DEFAULT 0,
	rows     INTEGER NOT NULL DEFAULT 0,
	error    TEXT,
	cut      TEXT,              -- the time the run's windows were cut at; serve's jobs of one tick share it
	reads    INTEGER NOT NULL DEFAULT 0,
	repeats  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS runs_by_pipeline ON runs (pipeline, id);
`

// columns added to tables after their first release; a state file made
// before gains them when it is opened.
var columns = []struct{ table, column, def string }{
	{"windows", "cut", "TEXT"},
	{"windows", "committed_end", "TEXT"},
	{"windows", "digest", "TEXT"},
	{"runs", "cut", "TEXT"},
	{"runs", "reads", "INTEGER NOT NULL DEFAULT 0"},
	{"runs", "repeats", "INTEGER NOT NULL DEFAULT 0"},
}

// migrate adds the columns an older state file lacks.
func migrate(ctx context.Context, db *sql.DB) error {
	for _, c := range columns {
		if _, err := db.ExecContext(ctx, `SELECT `+c.column+` FROM `+c.table+` LIMIT 0`); err == nil {
			continue
		}
		if _, err := db.ExecContext(ctx, `ALTER TABLE `+c.table+` ADD COLUMN `+c.column+` `+c.def); err != nil {
			return fmt.Errorf("adding %s.%s: %w", c.table, c.column, err)
		}
	}
	return nil
}

// Open opens (creating) the state at path: a SQLite file, or, for
// several machines sharing the work, a Postgres database given as a
// postgres:// URL.
func Open(path string) (*Store, error) {
	if IsPostgres(path) {
		return openPostgres(path)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("creating state folder: %w", err)
		}
	}
	// The state names customers' tables and holds their errors: only its
	// owner reads it. SQLite gives its -wal and -shm files the same mode.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening state %s: %w", path, err)
	}
	f.Close()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(FULL)")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	if _, err = db.Exec(schema); err == nil {
		err = migrate(context.Background(), db)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("opening state %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// IsPostgres reports whether a state location is a Postgres URL.
func IsPostgres(path string) bool {
	return strings.HasPrefix(path, "postgres://") || strings.HasPrefix(path, "postgresql://")
}

func openPostgres(url string) (*Store, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Workers starting together race to create the tables: one at a time.
	conn, err := db.Conn(ctx)
	if err == nil {
		defer conn.Close()
		_, err = conn.ExecContext(ctx, `SELECT pg_advisory_lock(7336021)`)
	}
	if err == nil {
		_, err = conn.ExecContext(ctx, strings.Replace(schema, "INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY", 1))
		if err == nil {
			err = migrate(ctx, db)
		}
		conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock(7336021)`)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("opening state %s: %w", redactURL(url), err)
	}
	return &Store{db: db, pg: true}, nil
}

// redactURL hides a password in a connection URL.
func redactURL(u string) string {
	at := strings.LastIndexByte(u, '@')
	scheme := strings.Index(u, "://")
	if at < 0 || scheme < 0 {
		return u
	}
	if colon := strings.IndexByte(u[scheme+3:at], ':'); colon >= 0 {
		return u[:scheme+3+colon+1] + "[redacted]" + u[at:]
	}
	return u
}

// q writes a statement's ? placeholders as Postgres numbers them.
func (s *Store) q(query string) string {
	if !s.pg {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Postgres reports whether the state lives in Postgres.
func (s *Store) Postgres() bool { return s.pg }

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// Entry is one window's entry in the ledger.
type Entry struct {
	Stream     string
	Start, End time.Time
	Complete   bool
	State      string
	Rows       int64
	Attempts   int
	Error      string
	// Cut is the cut of the run that last began the window: serve's jobs
	// of one tick share it, so a window committed earlier in the same
	// tick is never run again in it.
	Cut time.Time
	// Digest is "rows:checksum" as the destination computed it when the
	// window last committed ("" when it computes none).
	Digest  string
	Updated time.Time
}

// stamp is a fixed-width UTC layout, so stored times sort as text.
const stamp = "2006-01-02T15:04:05.000000000Z"

func ts(t time.Time) string { return t.UTC().Format(stamp) }

func parse(s string) time.Time {
	t, _ := time.Parse(stamp, s)
	return t
}

// Windows returns the ledger of a stream (all streams when stream is
// ""), in start order.
func (s *Store) Windows(ctx context.Context, pipeline, stream string) ([]Entry, error) {
	q := `SELECT stream, start, "end", complete, state, rows, attempts, coalesce(error, ''), coalesce(cut, ''), coalesce(digest, ''), updated FROM windows WHERE pipeline = ?`
	args := []any{pipeline}
	if stream != "" {
		q += " AND stream = ?"
		args = append(args, stream)
	}
	rows, err := s.db.QueryContext(ctx, s.q(q+" ORDER BY stream, start"), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var w Entry
		var start, end, cut, updated string
		if err := rows.Scan(&w.Stream, &start, &end, &w.Complete, &w.State, &w.Rows, &w.Attempts, &w.Error, &cut, &w.Digest, &updated); err != nil {
			return nil, err
		}
		w.Start, w.End, w.Cut, w.Updated = parse(start), parse(end), parse(cut), parse(updated)
		out = append(out, w)
	}
	return out, rows.Err()
}

// Window returns one window of the ledger, and false when the ledger has
// none starting at start.
func (s *Store) Window(ctx context.Context, pipeline, stream string, start time.Time) (Entry, bool, error) {
	var w Entry
	var st, end, cut, updated string
	err := s.db.QueryRowContext(ctx, s.q(`SELECT start, "end", complete, state, rows, attempts, coalesce(error, ''), coalesce(cut, ''), coalesce(digest, ''), updated
		FROM windows WHERE pipeline = ? AND stream = ? AND start = ?`), pipeline, stream, ts(start)).
		Scan(&st, &end, &w.Complete, &w.State, &w.Rows, &w.Attempts, &w.Error, &cut, &w.Digest, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return Entry{}, false, nil
	}
	if err != nil {
		return Entry{}, false, err
	}
	w.Stream = stream
	w.Start, w.End, w.Cut, w.Updated = parse(st), parse(end), parse(cut), parse(updated)
	return w, true, nil
}

// Watermark is the end of a stream's newest committed window. A window
// loading again (the newest one, cut at every run) keeps the end it was
// last committed with: the destination holds its rows up to there.
type Watermark struct {
	Pipeline, Stream string
	End              time.Time
}

// Watermarks returns every stream's watermark (those of one pipeline
// when pipeline is not ""), by pipeline and stream.
func (s *Store) Watermarks(ctx context.Context, pipeline string) ([]Watermark, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT pipeline, stream, max(CASE WHEN state = ? THEN "end" ELSE committed_end END) AS e FROM windows
		WHERE (state = ? OR committed_end IS NOT NULL) AND (? = '' OR pipeline = ?)
		GROUP BY pipeline, stream ORDER BY pipeline, stream`), Committed, Committed, pipeline, pipeline)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Watermark
	for rows.Next() {
		var w Watermark
		var end string
		if err := rows.Scan(&w.Pipeline, &w.Stream, &end); err != nil {
			return nil, err
		}
		w.End = parse(end)
		out = append(out, w)
	}
	return out, rows.Err()
}

// Begin records that a window (its Stream, Start, End, Complete and Cut)
// is loading in run, counting the attempt. repeat reports that the ledger
// held the window committed in the same cut already: a window run twice
// in one tick, which serve never means to do (metrics count it).
func (s *Store) Begin(ctx context.Context, pipeline string, w Entry, run int64) (repeat bool, err error) {
	var was, cut string
	err = s.db.QueryRowContext(ctx, s.q(`SELECT state, coalesce(cut, '') FROM windows WHERE pipeline = ? AND stream = ? AND start = ?`),
		pipeline, w.Stream, ts(w.Start)).Scan(&was, &cut)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, err
	}
	repeat = was == Committed && cut == ts(w.Cut)
	_, err = s.db.ExecContext(ctx, s.q(`INSERT INTO windows (pipeline, stream, start, "end", complete, state, attempts, run_id, cut, updated)
		VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?)
		ON CONFLICT (pipeline, stream, start) DO UPDATE SET "end" = excluded."end", complete = excluded.complete,
			state = excluded.state, attempts = windows.attempts + 1, error = NULL, run_id = excluded.run_id, cut = excluded.cut, updated = excluded.updated`),
		pipeline, w.Stream, ts(w.Start), ts(w.End), w.Complete, Loading, run, ts(w.Cut), ts(time.Now()))
	return repeat, err
}

// Commit records a window's rows as durable in the destination, with
// the destination's digest of them ("" when it computes none).
func (s *Store) Commit(ctx context.Context, pipeline, stream string, start time.Time, rows int64, digest string) error {
	return s.set(ctx, pipeline, stream, start, Committed, rows, "", digest)
}

// Fail records why a window failed.
func (s *Store) Fail(ctx context.Context, pipeline, stream string, start time.Time, cause error) error {
	return s.set(ctx, pipeline, stream, start, Failed, 0, cause.Error(), "")
}

func (s *Store) set(ctx context.Context, pipeline, stream string, start time.Time, state string, rows int64, msg, digest string) error {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE windows SET state = ?, rows = ?, error = nullif(?, ''), updated = ?,
		committed_end = CASE WHEN ? = ? THEN "end" ELSE committed_end END, digest = nullif(?, '') WHERE pipeline = ? AND stream = ? AND start = ?`),
		state, rows, msg, ts(time.Now()), state, Committed, digest, pipeline, stream, ts(start))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errors.New("no such window in the ledger")
	}
	return nil
}

// Run is one run's history entry.
type Run struct {
	ID                int64
	Pipeline          string
	Started, Finished time.Time
	Status            string
	// Cut is the time the run's windows were cut at (serve's jobs of
	// one tick share it).
	Cut time.Time
	RunStats
	Error string
}

// RunStats are what a run did.
type RunStats struct {
	Windows int   // windows committed
	Rows    int64 // rows written
	// Reads counts the queries sent to the source, retries included.
	Reads int
	// Repeats counts windows run that the ledger held committed in the
	// same cut (see Begin).
	Repeats int
}

// KeepRuns is how many runs of a pipeline the history keeps: finishing a
// run forgets the older ones, so the state of a pipeline served every
// minute stops growing after KeepRuns runs.
const KeepRuns = 1000

// StartRun records a run's start and the time its windows are cut at,
// and returns its id.
func (s *Store) StartRun(ctx context.Context, pipeline string, cut time.Time) (int64, error) {
	return s.startRun(ctx, pipeline, time.Now(), cut)
}

func (s *Store) startRun(ctx context.Context, pipeline string, started, cut time.Time) (int64, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, s.q(`INSERT INTO runs (pipeline, started, status, cut) VALUES (?, ?, 'running', ?) RETURNING id`), pipeline, ts(started), ts(cut)).Scan(&id)
	return id, err
}

// FailedStart records a run that began at started and stopped before
// its first window: a connection that failed, a live plan with problems.
func (s *Store) FailedStart(ctx context.Context, pipeline string, started time.Time, cause error) error {
	id, err := s.startRun(ctx, pipeline, started, started)
	if err != nil {
		return err
	}
	return s.FinishRun(ctx, id, RunStats{}, cause)
}

// FinishRun records a run's outcome (cause is nil for success) and
// forgets the pipeline's runs older than the newest KeepRuns.
func (s *Store) FinishRun(ctx context.Context, id int64, st RunStats, cause error) error {
	status, msg := "succeeded", ""
	if cause != nil {
		status, msg = "failed", cause.Error()
	}
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE runs SET finished = ?, status = ?, windows = ?, rows = ?, reads = ?, repeats = ?, error = nullif(?, '') WHERE id = ?`),
		ts(time.Now()), status, st.Windows, st.Rows, st.Reads, st.Repeats, msg, id)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, s.q(`DELETE FROM runs WHERE pipeline = (SELECT pipeline FROM runs WHERE id = ?)
		AND id <= (SELECT id FROM runs r WHERE r.pipeline = (SELECT pipeline FROM runs WHERE id = ?) ORDER BY id DESC LIMIT 1 OFFSET ?)`), id, id, KeepRuns)
	return err
}

// Runs returns a pipeline's most recent runs, newest first.
func (s *Store) Runs(ctx context.Context, pipeline string, limit int) ([]Run, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT id, pipeline, started, coalesce(finished, ''), status, coalesce(cut, ''), windows, rows, reads, repeats, coalesce(error, '')
		FROM runs WHERE pipeline = ? ORDER BY id DESC LIMIT ?`), pipeline, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		var r Run
		var started, finished, cut string
		if err := rows.Scan(&r.ID, &r.Pipeline, &started, &finished, &r.Status, &cut, &r.Windows, &r.Rows, &r.Reads, &r.Repeats, &r.Error); err != nil {
			return nil, err
		}
		r.Started, r.Finished, r.Cut = parse(started), parse(finished), parse(cut)
		out = append(out, r)
	}
	return out, rows.Err()
}

// Reset forgets a stream's windows from start on (all when start is
// zero), so the next run loads them again.
func (s *Store) Reset(ctx context.Context, pipeline, stream string, from time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM windows WHERE pipeline = ? AND stream = ? AND start >= ?`), pipeline, stream, ts(from))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// DB is the state's connection pool, for the job queue that shares it
// (sluice serve). A SQLite file has one connection: it takes one writer.
func (s *Store) DB() *sql.DB { return s.db }

// Started records that serve started a scheduled run of a stream.
func (s *Store) Started(ctx context.Context, pipeline, stream string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO schedule (pipeline, stream, last_started) VALUES (?, ?, ?)
		ON CONFLICT (pipeline, stream) DO UPDATE SET last_started = excluded.last_started`), pipeline, stream, ts(at))
	return err
}

// LastStarted is when serve last started a stream; zero if never.
func (s *Store) LastStarted(ctx context.Context, pipeline, stream string) (time.Time, error) {
	var v string
	err := s.db.QueryRowContext(ctx, s.q(`SELECT last_started FROM schedule WHERE pipeline = ? AND stream = ?`), pipeline, stream).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	return parse(v), err
}

// Known reports whether the state has ever recorded anything of a
// pipeline: a run, a window, a schedule or a pause.
func (s *Store) Known(ctx context.Context, pipeline string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, s.q(`SELECT (SELECT count(*) FROM runs WHERE pipeline = ?) + (SELECT count(*) FROM windows WHERE pipeline = ?)
		+ (SELECT count(*) FROM schedule WHERE pipeline = ?) + (SELECT count(*) FROM paused WHERE pipeline = ?)`), pipeline, pipeline, pipeline, pipeline).Scan(&n)
	return n > 0, err
}

// Pause stops serve from running a pipeline, saying why, until Resume.
func (s *Store) Pause(ctx context.Context, pipeline, reason string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO paused (pipeline, reason, since) VALUES (?, ?, ?)
		ON CONFLICT (pipeline) DO UPDATE SET reason = excluded.reason, since = excluded.since`), pipeline, reason, ts(at))
	return err
}

// Resume lets serve run a paused pipeline again.
func (s *Store) Resume(ctx context.Context, pipeline string) error {
	_, err := s.db.ExecContext(ctx, s.q(`DELETE FROM paused WHERE pipeline = ?`), pipeline)
	return err
}

// Paused says whether a pipeline is paused and why.
func (s *Store) Paused(ctx context.Context, pipeline string) (reason string, since time.Time, paused bool, err error) {
	var at string
	err = s.db.QueryRowContext(ctx, s.q(`SELECT reason, since FROM paused WHERE pipeline = ?`), pipeline).Scan(&reason, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, false, nil
	}
	return reason, parse(at), err == nil, err
}

// Pause is why and since when a pipeline is paused.
type Pause struct {
	Reason string
	Since  time.Time
}

// Pauses returns every paused pipeline, in one query (the status page
// of a fleet).
func (s *Store) Pauses(ctx context.Context) (map[string]Pause, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT pipeline, reason, since FROM paused`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]Pause{}
	for rows.Next() {
		var name, reason, at string
		if err := rows.Scan(&name, &reason, &at); err != nil {
			return nil, err
		}
		out[name] = Pause{Reason: reason, Since: parse(at)}
	}
	return out, rows.Err()
}

// Slot takes one of n slots named key for as long as the caller holds it,
// across every process sharing a Postgres state (an advisory lock held on
// a connection of its own). It returns ok false when all n are taken. A
// SQLite state serves one process, which counts its own: ok is always
// true. release gives the slot back.
func (s *Store) Slot(ctx context.Context, key string, n int) (release func(), ok bool, err error) {
	if !s.pg {
		return func() {}, true, nil
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, false, err
	}
	for i := 0; i < n; i++ {
		var got bool
		if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock(hashtext($1), $2)`, "sluice:"+key, i).Scan(&got); err != nil {
			conn.Close()
			return nil, false, err
		}
		if got {
			return func() {
				conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock(hashtext($1), $2)`, "sluice:"+key, i)
				conn.Close()
			}, true, nil
		}
	}
	conn.Close()
	return nil, false, nil
}
