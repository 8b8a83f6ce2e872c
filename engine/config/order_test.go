package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const orderPipeline = `version: 1
name: p
defaults:
  source: {connection: sf, incremental: false}
  destination: {connection: ch}
streams:
  a_export:
    source: {connection: ch, query: export.sql}
    columns:
      TOTAL: {from: total, type: "NUMBER(38,2)"}
    destination: {connection: sf_rw, table: OUT.PUBLIC.TOTALS, mode: replace}
  b_deals:
    source: {query: deals.sql}
    columns:
      amount: {from: AMOUNT, type: "Decimal(38, 2)"}
    destination: {table: crm.deals, mode: replace}
  c_audit:
    source: {query: audit.sql}
    AFTER
    columns:
      n: {from: N, type: Int64}
    destination: {table: crm.audit, mode: replace}
`

func loadOrder(t *testing.T, after, exportSQL string) ([]string, []string, *Pipeline) {
	t.Helper()
	yaml := strings.Replace(orderPipeline, "AFTER", after, 1)
	p, ds := loadFiles(t, map[string]string{"pipeline.yaml": yaml, "export.sql": exportSQL,
		"deals.sql": "SELECT AMOUNT FROM DEALS", "audit.sql": "SELECT N FROM AUDIT"})
	var names []string
	for _, s := range p.Streams {
		names = append(names, s.Name)
	}
	return names, messages(ds), p
}

// TestStreamOrder: a push reading the table a pull of the pipeline writes
// runs after it, whatever the names; after: adds what SQL cannot show; a
// cycle is an error at each of its streams, and so is an unknown name.
func TestStreamOrder(t *testing.T) {
	order, ds, p := loadOrder(t, "", "SELECT sum(amount) AS total FROM crm.deals")
	if want := []string{"b_deals", "a_export", "c_audit"}; !cmp.Equal(order, want) || len(ds) > 0 {
		t.Errorf("push after the pull it reads: order %v, diagnostics %v", order, ds)
	}
	if s := p.Streams[1]; !cmp.Equal(s.Upstream, []string{"b_deals"}) || len(s.Reads) != 1 || s.Reads[0].String() != "CRM.DEALS (written by b_deals)" {
		t.Errorf("a_export: upstream %v, reads %v", s.Upstream, s.Reads)
	}
	// A bare table name matches the written table by its last part.
	if order, _, _ := loadOrder(t, "", "SELECT sum(amount) AS total FROM deals d JOIN x ON 1"); !cmp.Equal(order, []string{"b_deals", "a_export", "c_audit"}) {
		t.Errorf("bare name: order %v", order)
	}
	// A quoted name matches ignoring case as before, and reads as written.
	if order, _, p := loadOrder(t, "", "SELECT sum(amount) AS total FROM \"crm\".`deals`"); !cmp.Equal(order, []string{"b_deals", "a_export", "c_audit"}) ||
		p.Streams[1].Reads[0].String() != `"crm"."deals" (written by b_deals)` {
		t.Errorf("quoted name: order %v, reads %v", order, p.Streams[1].Reads)
	}
	// Nothing read, nothing waited for: name order.
	if order, _, _ := loadOrder(t, "", "SELECT 1 AS total FROM other.t"); !cmp.Equal(order, []string{"a_export", "b_deals", "c_audit"}) {
		t.Errorf("independent: order %v", order)
	}
	order, _, _ = loadOrder(t, "after: [a_export]", "SELECT sum(amount) AS total FROM crm.deals")
	if want := []string{"b_deals", "a_export", "c_audit"}; !cmp.Equal(order, want) {
		t.Errorf("after: order %v, want %v", order, want)
	}
	order, _, _ = loadOrder(t, "", "SELECT 1 AS total FROM crm.audit")
	if want := []string{"b_deals", "c_audit", "a_export"}; !cmp.Equal(order, want) {
		t.Errorf("reading c_audit's table: order %v, want %v", order, want)
	}
	_, ds, _ = loadOrder(t, "after: [a_exprot]", "SELECT 1 AS total")
	if want := []string{`p/pipeline.yaml:19:13: stream c_audit: after: no stream a_exprot in this pipeline (did you mean "a_export"?)`}; !cmp.Equal(ds, want) {
		t.Errorf("unknown after:\n%s", cmp.Diff(want, ds))
	}
	// c_audit waits for a_export, which reads what c_audit writes.
	_, ds, _ = loadOrder(t, "after: [a_export]", "SELECT count(*) AS total FROM crm.audit")
	want := []string{
		"p/pipeline.yaml:7:3: stream a_export waits for c_audit: streams a_export, c_audit wait for each other in a cycle",
		"p/pipeline.yaml:17:3: stream c_audit waits for a_export: streams a_export, c_audit wait for each other in a cycle",
	}
	if !cmp.Equal(ds, want) {
		t.Errorf("cycle:\n%s", cmp.Diff(want, ds))
	}
}
