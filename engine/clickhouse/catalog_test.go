package clickhouse

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hockeystack/sluice/engine/clickhouse/clickhousetest"
	"github.com/hockeystack/sluice/engine/plan"
)

func TestMain(m *testing.M) { os.Exit(clickhousetest.Main(m)) }

func describe(cols []plan.TypedColumn) []string {
	var out []string
	for _, c := range cols {
		out = append(out, c.Name+" "+c.Type.String())
	}
	return out
}

func TestCatalog(t *testing.T) {
	db := clickhousetest.NewDB(t)
	ctx := context.Background()
	if err := db.Conn.Exec(ctx, "CREATE TABLE "+db.Name+`.touchpoints (
		touchpoint_id String,
		contact_id Nullable(Int64),
		channel LowCardinality(String),
		touched_at DateTime('UTC'),
		revenue_usd Decimal(38, 2)
	) ENGINE = MergeTree ORDER BY touchpoint_id`); err != nil {
		t.Fatal(err)
	}
	cat := NewCatalog(db.Conn, db.Name)

	kind, version, err := cat.Server(ctx)
	if err != nil || kind != "ClickHouse" || version == "" {
		t.Fatalf("Server() = %q, %q, %v", kind, version, err)
	}

	cols, err := cat.DescribeTable(ctx, "touchpoints")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"touchpoint_id String",
		"contact_id Nullable(Int64)",
		"channel LowCardinality(String)",
		"touched_at DateTime('UTC')",
		"revenue_usd Decimal(38, 2)",
	}
	if diff := cmp.Diff(want, describe(cols)); diff != "" {
		t.Errorf("DescribeTable (-want +got):\n%s", diff)
	}

	if _, err := cat.DescribeTable(ctx, db.Name+".missing"); !errors.Is(err, plan.ErrNoTable) {
		t.Errorf("DescribeTable(missing) = %v, want ErrNoTable", err)
	}

	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.FixedZone("EST", -5*3600))
	q := "-- touchpoints in the window\nSELECT touchpoint_id, toString(contact_id) AS contact, revenue_usd * 2 AS doubled\nFROM " + db.Name +
		".touchpoints\nWHERE touched_at >= :window_start AND touched_at < :window_end -- bounds\n;"
	cols, err = cat.DescribeQuery(ctx, q, map[string]any{"window_start": start, "window_end": start.AddDate(0, 1, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if got := describe(cols); len(got) != 3 || got[0] != "touchpoint_id String" || got[1] != "contact Nullable(String)" {
		t.Errorf("DescribeQuery = %v", got)
	}

	// A column the source cannot read is refused when the plan describes
	// the query, not found out at the first read.
	if _, err := cat.DescribeQuery(ctx, "SELECT 1 AS id, [1, 2] AS xs", nil); err == nil || err.Error() != "column xs: reading Array(UInt8) values is not supported" {
		t.Errorf("DescribeQuery of an Array: %v", err)
	}
	if _, err := cat.DescribeQuery(ctx, "SELECT nope FROM "+db.Name+".touchpoints", nil); err == nil {
		t.Error("DescribeQuery of a bad column succeeded")
	}
}
