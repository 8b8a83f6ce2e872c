package clickhouse

import (
	"context"
	"testing"

	"github.com/hockeystack/sluice/engine/clickhouse/clickhousetest"
	"github.com/hockeystack/sluice/engine/ddl"
)

// TestDigestOfWideDecimals: 18.16's toString of a negative 38-digit
// Decimal128 writes past its buffer, so a digest made of each row's text
// was garbage and, now and then, killed the server (the differential
// test's long run lost its server in the digest of such a window; so did
// TestExactNumbersEndToEnd). The digest hashes such columns' bytes on
// servers before 21.1: the same rows give the same digest every time,
// and the server lives.
func TestDigestOfWideDecimals(t *testing.T) {
	db := clickhousetest.NewPrivateDB(t, "digest") // a server of its own: without the fix it dies
	ctx := context.Background()
	// The same rows in two tables sorted differently: a digest is a sum
	// over rows, so the two must be equal. 18.16's garbage text of a row
	// depends on the rows read before it.
	values := `SELECT number AS k,
			if(number % 7 = 0, NULL, toDecimal128(concat('-', substring(concat(toString(cityHash64(number)), toString(cityHash64(number + 1)), '99999999999999999999'), 1, 1 + number % 38)), 0)) AS v,
			toDecimal128(concat('-', substring(concat(toString(cityHash64(number + 2)), '9999999999999999999999999999'), 1, 1 + number % 28), '.', toString(1000000000 + number)), 10) AS w,
			toDecimal64('-1.5', 2) AS d
			FROM system.numbers LIMIT 3000`
	for _, q := range []string{
		"CREATE TABLE digest.t (k Int64, v Nullable(Decimal(38, 0)), w Decimal(38, 10), d Decimal(18, 2)) ENGINE = MergeTree ORDER BY k",
		"CREATE TABLE digest.u (k Int64, v Nullable(Decimal(38, 0)), w Decimal(38, 10), d Decimal(18, 2)) ENGINE = MergeTree ORDER BY (d, w)",
		"INSERT INTO digest.t " + values,
		"INSERT INTO digest.u " + values,
	} {
		if err := db.Conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	var version string
	if err := db.Conn.QueryRow(ctx, "SELECT version()").Scan(&version); err != nil {
		t.Fatal(err)
	}
	v, err := ddl.ParseClickHouseVersion(version)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"k", "v", "w", "d"}
	a := ddl.ClickHouseAppend{Table: "digest.t", Columns: names,
		Raw: ddl.DigestRaw(v, names, []string{"Int64", "Nullable(Decimal(38, 0))", "Decimal(38, 10)", "Decimal(18, 2)"})}
	if !v.AtLeast(21, 1) && len(a.Raw) != 2 {
		t.Errorf("ClickHouse %s: digest hashes the bytes of %v, want v and w", version, a.Raw)
	}
	var first string
	for i := range 20 {
		table := []string{"digest.t", "digest.u"}[i%2]
		d, err := digest(ctx, ConnRunner{db.Conn}, a.Digest(table, ""))
		if err != nil {
			t.Fatalf("digest %d of %s: %v", i, table, err)
		}
		if d.Rows != 3000 {
			t.Fatalf("digest %d of %s counts %d rows", i, table, d.Rows)
		}
		if i == 0 {
			first = d.Sum
		} else if d.Sum != first {
			t.Fatalf("digest %d of %s is %s, of digest.t %s: the same rows", i, table, d.Sum, first)
		}
	}
}
