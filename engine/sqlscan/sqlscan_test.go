package sqlscan

import (
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPlaceholders(t *testing.T) {
	src := `-- :not_a_placeholder in a comment
SELECT v:a.b::string AS X, 'text :nor_in_a_string', "col:x",
       /* :nor_here */ TO_DATE(:window_start)
FROM t WHERE ts >= :window_start AND ts<:window_end AND y = $$ :dollar $$`
	var got []string
	for _, tok := range Scan(src) {
		if tok.Kind == Placeholder {
			got = append(got, tok.Text+"@"+strconv.Itoa(tok.Line)+":"+strconv.Itoa(tok.Col))
		}
	}
	want := []string{"window_start@3:32", "window_start@4:20", "window_end@4:41"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("placeholders (-want +got):\n%s", diff)
	}
}

func TestBindPlaceholders(t *testing.T) {
	src := "SELECT v:a::int, ':window_start' FROM t -- :window_end\nWHERE x >= :window_start AND x<:window_end"
	got := BindPlaceholders(src, func(name string) string { return "@" + name })
	want := "SELECT v:a::int, ':window_start' FROM t -- :window_end\nWHERE x >= @window_start AND x<@window_end"
	if got != want {
		t.Errorf("BindPlaceholders:\n got %q\nwant %q", got, want)
	}
}

// TestQuotedNames: a name in double quotes is Snowflake's, where only a
// doubled quote escapes; one in backticks is ClickHouse's, where a
// backslash escapes too.
func TestQuotedNames(t *testing.T) {
	src := "SELECT \"say \"\"hi\"\"\", \"a\\b\", `p\\\\`, `back\\`tick`, `a``b`, `x\\x41\\n`, `\\q` FROM t"
	want := []string{`say "hi"`, `a\b`, `p\`, "back`tick", "a`b", "xA\n", `\q`}
	var got []string
	for _, tok := range Scan(src) {
		if tok.Kind == QuotedIdent {
			got = append(got, tok.Text)
		}
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("quoted names %q, want %q", got, want)
	}
}

// TestTables: each table a query reads, its parts as Snowflake keeps them
// (unquoted upper-cased, quoted exact), once, without its own CTEs.
func TestTables(t *testing.T) {
	q := `WITH recent AS (SELECT * FROM crm.activities), "Kept" AS (SELECT 1)
SELECT "Id", "Order Total" FROM "Acme"."Crm"."My ""Big"" Table" t
JOIN "select" s ON s.id = t."Id" JOIN Acme.Crm.Contacts c ON 1 JOIN recent r ON 1
JOIN "recent" q ON 1 JOIN "Kept" k ON 1 JOIN "Acme"."Crm"."My ""Big"" Table" again ON 1
JOIN TABLE(FLATTEN(x)) f JOIN LATERAL (SELECT 1) l JOIN "TABLE" u ON 1`
	var got []string
	for _, n := range Tables(q) {
		got = append(got, strings.Join(n, "|")+" = "+n.String()+" = "+n.Quoted())
	}
	want := []string{
		`CRM|ACTIVITIES = CRM.ACTIVITIES = "CRM"."ACTIVITIES"`,
		`Acme|Crm|My "Big" Table = "Acme"."Crm"."My ""Big"" Table" = "Acme"."Crm"."My ""Big"" Table"`,
		`select = "select" = "select"`,
		`ACME|CRM|CONTACTS = ACME.CRM.CONTACTS = "ACME"."CRM"."CONTACTS"`,
		`recent = "recent" = "recent"`,
		`TABLE = TABLE = "TABLE"`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Tables (-want +got):\n%s", diff)
	}
}

// TestParseName: quoted parts exact, plain ones upper-cased, other
// unquoted parts kept; String reads back as the same name.
func TestParseName(t *testing.T) {
	for in, want := range map[string]string{
		`acme.crm.contacts`:               "ACME|CRM|CONTACTS",
		`"Acme"."Crm"."My ""Big"" Table"`: `Acme|Crm|My "Big" Table`,
		`"select"`:                        "select",
		`acme."Crm".t_1$`:                 "ACME|Crm|T_1$",
		`my-db.PUBLIC.x`:                  "my-db|PUBLIC|X",
	} {
		n, err := ParseName(in)
		if err != nil || strings.Join(n, "|") != want {
			t.Errorf("ParseName(%s) = %q, %v; want %s", in, n, err, want)
			continue
		}
		if back, err := ParseName(n.String()); err != nil || !cmp.Equal(back, n) {
			t.Errorf("ParseName(%s.String() = %s) = %q, %v", in, n.String(), back, err)
		}
	}
	for _, bad := range []string{`"open`, `"a"b.c`, `a..b`, `a.`, `ab"c"`, `""`} {
		if n, err := ParseName(bad); err == nil {
			t.Errorf("ParseName(%s) = %q, want an error", bad, n)
		}
	}
}
