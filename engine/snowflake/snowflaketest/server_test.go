//go:build duckdb_arrow

package snowflaketest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	sf "github.com/snowflakedb/gosnowflake/v2"
)

func seed(t *testing.T, s *Server, sqlText string) {
	t.Helper()
	if err := s.Exec(context.Background(), sqlText); err != nil {
		t.Fatal(err)
	}
}

func TestLoginAndSelect(t *testing.T) {
	s := Start(t, Options{})
	seed(t, s, `CREATE DATABASE ACME; CREATE SCHEMA ACME.CRM;
		CREATE TABLE ACME.CRM.CONTACTS (CONTACT_ID NUMBER(38,0) NOT NULL, EMAIL VARCHAR(200), AMOUNT NUMBER(10,2), UPDATED_AT TIMESTAMP_NTZ, ACTIVE BOOLEAN);
		INSERT INTO ACME.CRM.CONTACTS VALUES (1, 'a@x.com', 12.5, '2024-01-02 03:04:05.123456', TRUE), (2, NULL, NULL, NULL, FALSE)`)
	for _, format := range []string{"json", "arrow"} {
		t.Run(format, func(t *testing.T) {
			cfg := s.Config("sluice", "sluice")
			cfg.Database = "ACME"
			cfg.Schema = "CRM"
			cfg.Params["GO_QUERY_RESULT_FORMAT"] = &format
			db := Open(cfg)
			defer db.Close()
			rows, err := db.QueryContext(context.Background(), "select contact_id, email, amount, updated_at, active from contacts order by contact_id")
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			cols, _ := rows.Columns()
			if len(cols) != 5 || cols[0] != "CONTACT_ID" || cols[3] != "UPDATED_AT" {
				t.Fatalf("columns = %v", cols)
			}
			var got []string
			for rows.Next() {
				var id int64
				var email, amount sql.NullString
				var ts sql.NullTime
				var active bool
				if err := rows.Scan(&id, &email, &amount, &ts, &active); err != nil {
					t.Fatal(err)
				}
				got = append(got, email.String+"|"+amount.String+"|"+ts.Time.Format(time.RFC3339Nano))
				if id == 1 && !active {
					t.Error("active should be true")
				}
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			want := []string{"a@x.com|12.50|2024-01-02T03:04:05.123456Z", "||0001-01-01T00:00:00Z"}
			if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
				t.Errorf("rows = %q, want %q", got, want)
			}
		})
	}
}

func TestBadPassword(t *testing.T) {
	s := Start(t, Options{})
	db := Open(s.Config("sluice", "wrong"))
	defer db.Close()
	err := db.PingContext(context.Background())
	var se *sf.SnowflakeError
	if !errors.As(err, &se) || se.Number != 390100 {
		t.Fatalf("ping with a bad password = %v, want SnowflakeError 390100", err)
	}
}

// TestAdminQuery: Query answers as an administrator with every value
// rendered, NULLs as NULL, and a missing table as Snowflake's error.
func TestAdminQuery(t *testing.T) {
	s := Start(t, Options{})
	ctx := context.Background()
	if err := s.Exec(ctx, `CREATE DATABASE ACME; CREATE SCHEMA ACME.CRM;
		CREATE TABLE ACME.CRM.T (ID NUMBER(18,0), AMOUNT NUMBER(10,2), NOTE VARCHAR);
		INSERT INTO ACME.CRM.T VALUES (1, 1.50, 'a'), (2, -0.01, NULL)`); err != nil {
		t.Fatal(err)
	}
	names, rows, err := s.Query(ctx, "SELECT ID, AMOUNT, NOTE FROM ACME.CRM.T ORDER BY ID")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(names, rows), "[ID AMOUNT NOTE] [[1 1.50 a] [2 -0.01 NULL]]"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if _, _, err := s.Query(ctx, "SELECT * FROM ACME.CRM.MISSING"); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("error %v, want a missing object", err)
	}
}

// TestAdminQueryEndpoint: with Admin set, POST /snowsim/query answers as
// tab-separated lines, and a bad query is a 400 with Snowflake's message.
func TestAdminQueryEndpoint(t *testing.T) {
	s := Start(t, Options{Admin: true})
	post := func(path, body string) (int, string) {
		resp, err := http.Post(s.URL+path, "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := post("/snowsim/exec", "CREATE DATABASE D; CREATE TABLE D.PUBLIC.T (A NUMBER(10,2), B VARCHAR); INSERT INTO D.PUBLIC.T VALUES (1.5, 'x'), (NULL, 'y')"); code != 200 {
		t.Fatalf("exec: %d %s", code, body)
	}
	if code, body := post("/snowsim/query", "SELECT A, B FROM D.PUBLIC.T ORDER BY B"); code != 200 || body != "A\tB\n1.50\tx\nNULL\ty\n" {
		t.Errorf("query: %d %q", code, body)
	}
	if code, body := post("/snowsim/query", "SELECT * FROM D.PUBLIC.MISSING"); code != 400 || !strings.Contains(body, "does not exist") {
		t.Errorf("bad query: %d %q", code, body)
	}
}
