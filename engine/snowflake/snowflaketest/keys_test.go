//go:build duckdb_arrow

package snowflaketest

import (
	"context"
	"strings"
	"testing"
)

// TestShowKeys lists declared primary and unique keys as Snowflake does
// (one row per column, in key order, with Snowflake's output columns),
// through the real driver, and keeps them across renames, swaps and
// column changes; a dropped table takes its keys with it.
func TestShowKeys(t *testing.T) {
	s := Start(t, Options{})
	seed(t, s, `CREATE DATABASE D; CREATE SCHEMA D.S;
		CREATE TABLE D.S.ORDERS (ID NUMBER(38,0) PRIMARY KEY, "Ext Id" VARCHAR UNIQUE, A NUMBER, B NUMBER,
			CONSTRAINT AB_UNIQUE UNIQUE (A, "B"));
		CREATE TABLE D.S."Lines" (ORDER_ID NUMBER, LINE NUMBER, NOTE VARCHAR, CONSTRAINT PK_LINES PRIMARY KEY (ORDER_ID, LINE));
		CREATE TABLE D.S.PLAIN (X NUMBER)`)
	cfg := s.Config("sluice", "sluice")
	cfg.Database, cfg.Schema = "D", "S"
	db := Open(cfg)
	defer db.Close()
	ctx := context.Background()
	show := func(q string) []string {
		t.Helper()
		got, err := render(ctx, db, q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if got[0] != "created_on\tdatabase_name\tschema_name\ttable_name\tcolumn_name\tkey_sequence\tconstraint_name\trely\tcomment" {
			t.Errorf("%s: header %q", q, got[0])
		}
		var out []string
		for _, r := range got[1:] {
			f := strings.Split(r, "\t")
			name := f[6]
			if strings.HasPrefix(name, "SYS_CONSTRAINT_") {
				name = "SYS_CONSTRAINT_"
			}
			out = append(out, strings.Join([]string{f[1], f[2], f[3], f[4], f[5], name}, " "))
		}
		return out
	}
	check := func(q string, want ...string) {
		t.Helper()
		if got := show(q); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s:\n%s\nwant\n%s", q, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	check("SHOW PRIMARY KEYS IN TABLE ORDERS", "D S ORDERS ID 1 SYS_CONSTRAINT_")
	check(`SHOW PRIMARY KEYS IN D.S."Lines"`, "D S Lines ORDER_ID 1 PK_LINES", "D S Lines LINE 2 PK_LINES")
	check("SHOW UNIQUE KEYS IN TABLE D.S.ORDERS", "D S ORDERS A 1 AB_UNIQUE", "D S ORDERS B 2 AB_UNIQUE", "D S ORDERS Ext Id 1 SYS_CONSTRAINT_")
	check("SHOW PRIMARY KEYS IN TABLE PLAIN")
	check("SHOW TERSE PRIMARY KEYS IN SCHEMA D.S", "D S Lines ORDER_ID 1 PK_LINES", "D S Lines LINE 2 PK_LINES", "D S ORDERS ID 1 SYS_CONSTRAINT_")

	for _, q := range []string{`ALTER TABLE ORDERS RENAME COLUMN ID TO ORDER_ID`, `ALTER TABLE ORDERS DROP COLUMN B`,
		`ALTER TABLE ORDERS RENAME TO ORDERS2`, `ALTER TABLE "Lines" SWAP WITH PLAIN`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	check("SHOW PRIMARY KEYS IN TABLE ORDERS2", "D S ORDERS2 ORDER_ID 1 SYS_CONSTRAINT_")
	check("SHOW UNIQUE KEYS IN TABLE ORDERS2", "D S ORDERS2 Ext Id 1 SYS_CONSTRAINT_")
	check("SHOW PRIMARY KEYS IN TABLE PLAIN", "D S PLAIN ORDER_ID 1 PK_LINES", "D S PLAIN LINE 2 PK_LINES")
	check(`SHOW PRIMARY KEYS IN TABLE "Lines"`)
	if _, err := db.Exec("DROP TABLE ORDERS2"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE ORDERS2 (ID NUMBER)"); err != nil {
		t.Fatal(err)
	}
	check("SHOW PRIMARY KEYS IN TABLE ORDERS2")
	if _, err := render(ctx, db, "SHOW PRIMARY KEYS IN TABLE NOPE"); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("a missing table: %v", err)
	}
}
