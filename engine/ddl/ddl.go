// Package ddl writes the CREATE TABLE statements Sluice runs, for
// ClickHouse and Snowflake, and knows which ClickHouse server versions have
// which types and statements. It is pure: plans render the same DDL the
// sinks execute.
package ddl

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hockeystack/sluice/engine/sqltype"
)

// ClickHouseVersion is a ClickHouse server version.
type ClickHouseVersion struct{ Major, Minor, Patch int }

// CurrentClickHouse is the version offline plans write DDL for: production
// runs a current release.
var CurrentClickHouse = ClickHouseVersion{25, 8, 0}

// ParseClickHouseVersion parses "18.16.1" or "25.8.2.29".
func ParseClickHouseVersion(s string) (ClickHouseVersion, error) {
	parts := strings.Split(strings.TrimSpace(s), ".")
	var v ClickHouseVersion
	nums := []*int{&v.Major, &v.Minor, &v.Patch}
	for i := 0; i < len(parts) && i < 3; i++ {
		n, err := strconv.Atoi(parts[i])
		if err != nil {
			return ClickHouseVersion{}, fmt.Errorf("invalid ClickHouse version %q", s)
		}
		*nums[i] = n
	}
	if len(parts) < 2 {
		return ClickHouseVersion{}, fmt.Errorf("invalid ClickHouse version %q", s)
	}
	return v, nil
}

func (v ClickHouseVersion) String() string {
	return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
}

// AtLeast reports whether v is major.minor or later.
func (v ClickHouseVersion) AtLeast(major, minor int) bool {
	return v.Major > major || v.Major == major && v.Minor >= minor
}

// Feature is something only some ClickHouse versions have.
type Feature int

// The features Sluice chooses DDL by. The versions are the first releases
// in which each is available without experimental settings.
const (
	DateTime64      Feature = iota // 20.1
	Date32                         // 21.9
	Bool                           // 22.1
	Map                            // 21.8
	JSON                           // 24.8 (the new JSON type)
	ExchangeTables                 // 21.8 (Atomic databases)
	CreateOrReplace                // 21.1
	LowCardinality                 // 19.9 without allow_experimental_low_cardinality_type
	// DurableReplacePartition: REPLACE PARTITION on a MergeTree covers the
	// parts it replaces with an empty part on disk, so a restart does not
	// load them again (ClickHouse pull request 107623, first in 26.6).
	DurableReplacePartition
)

var since = map[Feature][2]int{
	DateTime64: {20, 1}, Date32: {21, 9}, Bool: {22, 1}, Map: {21, 8}, JSON: {24, 8},
	ExchangeTables: {21, 8}, CreateOrReplace: {21, 1}, LowCardinality: {19, 9},
	DurableReplacePartition: {26, 6},
}

// Has reports whether v has feature f.
func (v ClickHouseVersion) Has(f Feature) bool {
	s := since[f]
	return v.AtLeast(s[0], s[1])
}

// ClickHouseType returns the type Sluice creates for a declared type on
// server v, and how values of the declared type fit it: Exact unless v lacks
// the type and an older one stands in (DateTime64(6) becomes DateTime on
// 18.16, dropping sub-second digits: Lossy). A type v cannot hold at all is
// an error.
func ClickHouseType(t sqltype.Type, v ClickHouseVersion) (sqltype.Type, sqltype.Conversion, error) {
	out := t
	conv := sqltype.Conversion{}
	switch t.Kind {
	case sqltype.Timestamp:
		if t.Name() == "DateTime64" && !v.Has(DateTime64) {
			var err error
			out, err = sqltype.ParseClickHouse(dateTime(t))
			if err != nil {
				return t, conv, err
			}
			out.Nullable, out.LowCardinality = t.Nullable, t.LowCardinality
			if t.Precision > 0 {
				conv = sqltype.Conversion{Fit: sqltype.Lossy, Reason: fmt.Sprintf("ClickHouse %s has no DateTime64: %s is stored as %s, dropping sub-second digits", v, t.Plain(), out.Plain())}
			}
		}
	case sqltype.Date:
		if t.Name() == "Date32" && !v.Has(Date32) {
			out = mustCH("Date", t)
			conv = sqltype.Conversion{Fit: sqltype.Checked, Reason: fmt.Sprintf("ClickHouse %s has no Date32: Date holds 1970-01-01 onwards, and earlier dates stop the window", v)}
		}
	case sqltype.Bool:
		if !v.Has(Bool) {
			out = mustCH("UInt8", t)
		}
	case sqltype.JSON:
		if !v.Has(JSON) {
			out = mustCH("String", t)
		}
	case sqltype.Map:
		if !v.Has(Map) {
			return t, conv, fmt.Errorf("ClickHouse %s has no Map type", v)
		}
	case sqltype.Array:
		elem, c, err := ClickHouseType(*t.Elem, v)
		if err != nil {
			return t, conv, err
		}
		out.Elem, conv = &elem, c
	}
	return out, conv, nil
}

// dateTime spells the DateTime that stands in for a DateTime64.
func dateTime(t sqltype.Type) string {
	if t.Zone == sqltype.Named {
		return "DateTime('" + t.TZ + "')"
	}
	return "DateTime"
}

func mustCH(name string, like sqltype.Type) sqltype.Type {
	t, err := sqltype.ParseClickHouse(name)
	if err != nil {
		panic(err)
	}
	t.Nullable, t.LowCardinality = like.Nullable, like.LowCardinality
	return t
}

// TimeRanges returns the span server v stores in each date and time
// type, by type name, where it is narrower than the type's own (see
// sqltype.Type.TimeRange): before 21.1 date tables end in 2105 and
// DateTime64 columns are created as DateTime; from 21.1 to 22.7 Date32
// and DateTime64 span 1925 to 2283.
func (v ClickHouseVersion) TimeRanges() map[string]sqltype.TimeRange {
	// A Date32 column is created as Date before 21.9 (ClickHouseType):
	// it stores what Date does there.
	switch {
	case !v.AtLeast(21, 1):
		dt := sqltype.TimeRange{Earliest: time.Unix(0, 0).UTC(), Latest: time.Date(2105, 12, 31, 23, 59, 59, 0, time.UTC)}
		date := sqltype.TimeRange{Earliest: time.Unix(0, 0).UTC(), Latest: time.Date(2105, 12, 31, 0, 0, 0, 0, time.UTC)}
		return map[string]sqltype.TimeRange{
			"Date":       date,
			"Date32":     date,
			"DateTime":   dt,
			"DateTime64": dt,
		}
	case !v.AtLeast(22, 8):
		r := map[string]sqltype.TimeRange{
			"Date32":     {Earliest: time.Date(1925, 1, 1, 0, 0, 0, 0, time.UTC), Latest: time.Date(2283, 11, 11, 0, 0, 0, 0, time.UTC)},
			"DateTime64": {Earliest: time.Date(1925, 1, 1, 0, 0, 0, 0, time.UTC), Latest: time.Date(2283, 11, 11, 23, 59, 59, 999999999, time.UTC)},
		}
		if !v.Has(Date32) {
			r["Date32"], _ = mustCH("Date", sqltype.Type{}).TimeRange()
		}
		return r
	}
	return nil
}
