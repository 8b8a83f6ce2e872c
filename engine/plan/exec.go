package plan

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/hockeystack/sluice/engine"
	"github.com/hockeystack/sluice/engine/config"
	"github.com/hockeystack/sluice/engine/ddl"
	"github.com/hockeystack/sluice/engine/sqltype"
	"github.com/hockeystack/sluice/engine/transform"
)

// Exec is the executable half of a stream's plan: the typed facts exec
// and the sinks run, compiled with the fields the plan's text and JSON
// show and never parsed back from them.
type Exec struct {
	// Pipeline names the stream's pipeline (the ledger, query tags).
	Pipeline string
	// Incremental cuts the reads into windows in Location; nil reads
	// everything every run.
	Incremental *config.Incremental
	Location    *time.Location
	// Mapping is what transform compiles for each source schema, with
	// the destination server's date and time ranges; Filter is the row
	// filter, "" for none.
	Mapping []transform.Column
	Filter  string
	// SourceKind and DestinationKind are the connections' kinds; Mode
	// the destination's write mode.
	SourceKind, DestinationKind config.Kind
	Mode                        config.Mode
	// ClickHouse is the server version a ClickHouse destination's
	// statements are written for.
	ClickHouse ddl.ClickHouseVersion
	// WindowColumn is the destination column windows are cut on, "" when
	// none.
	WindowColumn string
	// Columns are the destination columns with the types the table is
	// created with on the target server.
	Columns []TypedColumn
}

// TypedColumn is a column and its type: one read from a live database,
// or a destination column with its type on the server.
type TypedColumn struct {
	Name string
	Type sqltype.Type
}

// tagTemplate is the query tag with {window} and {cut} for the values a
// run fills in (QueryTag).
func tagTemplate(pipeline, stream string) string {
	// Fields in this order, as encoding/json writes a map's.
	tag, _ := json.Marshal(struct {
		App      string `json:"app"`
		Cut      string `json:"cut"`
		Pipeline string `json:"pipeline"`
		Stream   string `json:"stream"`
		Window   string `json:"window"`
	}{"sluice", "{cut}", pipeline, stream, "{window}"})
	return string(tag)
}

// QueryTag is the tag of the stream's read of window w in a run cut at
// cut: the plan's template filled in; "" when the source takes no tags.
func (s *Stream) QueryTag(w engine.Window, cut time.Time) string {
	return s.Tag(w.String(), cut)
}

// Tag is the plan's query tag with {window} filled with window.
func (s *Stream) Tag(window string, cut time.Time) string {
	if s.Source.QueryTag == "" {
		return ""
	}
	return strings.NewReplacer("{window}", jsonText(window), "{cut}", cut.UTC().Format(time.RFC3339Nano)).Replace(s.Source.QueryTag)
}

// jsonText is s escaped for the inside of a JSON string.
func jsonText(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

// execOf compiles the executable half of a stream planned for server v.
func (c *compiler) execOf(s *config.Stream, cols []Column, v ddl.ClickHouseVersion) Exec {
	e := Exec{
		Pipeline:        c.p.Name,
		Incremental:     s.Incremental,
		Location:        c.loc,
		SourceKind:      s.Source.ConnectionKind,
		DestinationKind: s.Destination.ConnectionKind,
		Mode:            s.Destination.Mode,
		ClickHouse:      v,
	}
	if s.Filter != nil {
		e.Filter = s.Filter.Text
	}
	if wc := s.WindowColumn(); wc != nil {
		e.WindowColumn = wc.Name
	}
	var ranges map[string]sqltype.TimeRange
	if s.Destination.ConnectionKind == config.ClickHouse {
		ranges = v.TimeRanges()
	}
	for i, col := range s.Columns {
		m := transform.Column{Name: col.Name, Type: col.Type, From: col.From, Default: col.Default, AllowLossy: col.AllowLossy,
			Key: slices.Contains(s.Destination.Key, col.Name), Range: ranges[col.Type.Name()]}
		if col.Expr != nil {
			m.Expr = col.Expr.Text
		}
		e.Mapping = append(e.Mapping, m)
		t := col.Type
		if s.Destination.ConnectionKind == config.ClickHouse {
			if created, _, err := ddl.ClickHouseType(col.Type, v); err == nil {
				t = created
			}
		}
		e.Columns = append(e.Columns, TypedColumn{Name: cols[i].Name, Type: t})
	}
	return e
}
