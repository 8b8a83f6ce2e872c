//go:build duckdb_arrow

package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hockeystack/sluice/engine/snowflake/snowflaketest"
)

// TestConnectionFailureIsNeverSuccess: with the Snowflake password
// rejected, plan --live, dry-run and run each exit 1 naming the
// connection, and the run is in the history, failed. A push whose
// Snowflake destination rejects the password fails dry-run the same way.
func TestConnectionFailureIsNeverSuccess(t *testing.T) {
	t.Run("pull source", func(t *testing.T) {
		f := newPullFixture(t, goodColumns)
		t.Setenv("SF_PASSWORD", "wrong")
		for _, verb := range []string{"plan", "dry-run", "run"} {
			out, errOut, code := f.run(t, verb)
			if verb == "plan" {
				out, errOut, code = sluice(t, "plan", "--live", "--connections", filepath.Join(f.dir, "connections.yaml"), filepath.Join(f.dir, "p"))
			}
			if code != 1 || !strings.Contains(errOut, "connection sf") {
				t.Errorf("%s: exit %d, want 1 naming connection sf\n%s%s", verb, code, out, errOut)
			}
		}
		out, errOut, code := f.run(t, "history")
		if code != 0 || !strings.Contains(out, "failed") || !strings.Contains(out, "did not start") || !strings.Contains(out, "connection sf") {
			t.Errorf("history after a run that could not connect: exit %d\n%s%s", code, out, errOut)
		}
	})
	t.Run("push destination", func(t *testing.T) {
		f := newPushFixture(t, snowflaketest.Options{Users: []snowflaketest.User{{Name: "WRITER", Password: "sluice"}}})
		if err := f.sf.Exec(context.Background(), "CREATE TABLE ACME.CRM.EVENTS (ID VARCHAR(64) NOT NULL, CONTACT_ID NUMBER(18,0), AMOUNT NUMBER(38,2), AT TIMESTAMP_NTZ(6) NOT NULL, NOTE VARCHAR)"); err != nil {
			t.Fatal(err)
		}
		f.pipeline(t, f.eventsStream())
		t.Setenv("SF_PASSWORD", "wrong")
		out, errOut, code := f.run(t, "dry-run")
		if code != 1 || !strings.Contains(errOut, "connection sf") {
			t.Errorf("dry-run: exit %d, want 1 naming connection sf\n%s%s", code, out, errOut)
		}
	})
}

// TestServePausesOnFirstRejection: a pipeline of four streams whose
// Snowflake user is gone is paused after one refused login, whichever
// stream made it; the others do not try the credentials again.
func TestServePausesOnFirstRejection(t *testing.T) {
	f := newFleet(t, "0 3 * * *", []tickPipeline{{name: "gone", behind: 2}})
	var streams strings.Builder
	for _, name := range []string{"a", "b", "c", "d"} {
		fmt.Fprintf(&streams, `  %s:
    source:
      connection: sf_gone
      query: q.sql
      incremental: {cursor: AT, start: %s, window: 1d}
    columns:
      id:     {type: Int64}
      amount: {type: "Decimal(12, 2)"}
      at:     {type: "DateTime('UTC')", allow_lossy: true}
    destination: {connection: ch, table: %s.gone_%s, mode: append, create: true}
`, name, f.today.AddDate(0, 0, -2).Format(time.DateOnly), f.ch.Name, name)
	}
	writeFiles(t, f.dir, map[string]string{"gone/pipeline.yaml": "version: 1\nname: gone\nschedule: \"0 3 * * *\"\nstreams:\n" + streams.String()})
	f.sf.RemoveUser("SLUICE")
	d := f.serve(t, filepath.Join(f.dir, "state.db"), "--workers", "4")
	waitFor(t, d, 60*time.Second, "pause", func() bool {
		resp, err := http.Get("http://" + d.addr + "/healthz")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(b), "paused gone: credentials rejected")
	})
	time.Sleep(2 * time.Second) // the other streams' jobs have run by now
	d.stop(t)
	t.Logf("%d logins refused", f.sf.RejectedLogins())
	if n := f.sf.RejectedLogins(); n != 1 {
		t.Errorf("%d logins refused, want 1\n%s", n, lastLines(d.log(), 30))
	}
}

// TestPushChecksRowsBeforeSending: values the push's declared Snowflake
// types cannot hold (a note longer than VARCHAR(6), an amount beyond
// NUMBER(4,2)) stop the window in Sluice, naming stream, row (the stream
// has no key) and column, and no row reaches Snowflake.
func TestPushChecksRowsBeforeSending(t *testing.T) {
	for _, tc := range []struct{ name, from, to, want string }{
		{"varchar", "NOTE:       {from: note, type: VARCHAR}", "NOTE:       {from: note, type: VARCHAR(6)}", `column NOTE, row 3: "note 10" is longer than 6 characters`},
		{"number", `AMOUNT:     {from: amount, type: "NUMBER(38,2)"}`, `AMOUNT:     {from: amount, type: "NUMBER(4,2)"}`, "column AMOUNT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newPushFixture(t, snowflaketest.Options{Users: []snowflaketest.User{{Name: "WRITER", Password: "sluice"}}})
			f.pipeline(t, strings.Replace(f.eventsStream(), tc.from, tc.to, 1))
			out, errOut, code := f.run(t, "run")
			if code != 1 || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, "stream events") || !strings.Contains(errOut, ", row ") {
				t.Fatalf("exit %d, want 1 with %q, the stream and the row\n%s%s", code, tc.want, out, errOut)
			}
			if got := f.sfRows(t, "SELECT COUNT(*) FROM ACME.CRM.EVENTS", joined); got[0] != "0" {
				t.Errorf("rows reached Snowflake: %v", got)
			}
			t.Logf("%s", lastLines(errOut, 2))
		})
	}
}
