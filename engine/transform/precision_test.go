package transform

import (
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/hockeystack/sluice/engine/sqltype"
)

// nanos is a one-column batch TS of nanosecond timestamps (a Snowflake
// TIMESTAMP_*(9) as the source reads it), with zone tz.
func nanos(mem memory.Allocator, tz string, ts ...time.Time) arrow.RecordBatch {
	schema := arrow.NewSchema([]arrow.Field{{Name: "TS", Type: &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: tz}, Nullable: true}}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for _, tm := range ts {
		b.Field(0).(*array.TimestampBuilder).Append(arrow.Timestamp(tm.UnixNano()))
	}
	return b.NewRecordBatch()
}

// TestNanosecondTimestamps: nanoseconds arrive whole in DateTime64(9)
// and as text; a column of fewer digits stops at a value that would lose
// some, by copy, default and expression alike, unless it says
// allow_lossy (the plan grades it lossy and refuses it without); a value
// with nothing beyond the column's digits is stored.
func TestNanosecondTimestamps(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	fine := time.Date(2024, 2, 29, 12, 34, 56, 123456789, time.UTC)
	micro := time.Date(1969, 7, 20, 20, 17, 40, 123456000, time.UTC)
	for _, tc := range []struct {
		typ, path string
		lossy     bool
		value     time.Time
		want      string // the stored value's text, or the error's end
	}{
		{"DateTime64(9, 'UTC')", "copy", false, fine, "2024-02-29 12:34:56.123456789"},
		{"DateTime64(9, 'UTC')", "expr", false, fine, "2024-02-29 12:34:56.123456789"},
		{"DateTime64(6, 'UTC')", "copy", false, fine, "error: 2024-02-29T12:34:56.123456789Z has sub-second digits beyond the 6 DateTime64(6, 'UTC') keeps (set allow_lossy: true to drop them)"},
		{"DateTime64(6, 'UTC')", "default", false, fine, "error: 2024-02-29T12:34:56.123456789Z has sub-second digits beyond the 6 DateTime64(6, 'UTC') keeps (set allow_lossy: true to drop them)"},
		{"DateTime64(6, 'UTC')", "expr", false, fine, "error: 2024-02-29T12:34:56.123456789Z has sub-second digits beyond the 6 DateTime64(6, 'UTC') keeps (set allow_lossy: true to drop them)"},
		{"DateTime64(5, 'UTC')", "copy", false, micro, "error: 1969-07-20T20:17:40.123456Z has sub-second digits beyond the 5 DateTime64(5, 'UTC') keeps (set allow_lossy: true to drop them)"},
		{"DateTime64(6, 'UTC')", "copy", false, micro, "1969-07-20 20:17:40.123456"},
		{"DateTime64(6, 'UTC')", "copy", true, fine, "2024-02-29 12:34:56.123456"},
		{"DateTime64(6, 'UTC')", "expr", true, fine, "2024-02-29 12:34:56.123456"},
		{"String", "copy", false, fine, "2024-02-29 12:34:56.123456789"},
		{"String", "expr", false, fine, "2024-02-29 12:34:56.123456789"},
		{"String", "copy", false, micro, "1969-07-20 20:17:40.123456"},
	} {
		col := Column{Name: "at", Type: ch(t, "Nullable("+tc.typ+")"), From: "TS", AllowLossy: tc.lossy}
		switch tc.path {
		case "default":
			col.Default = str("2000-01-01T00:00:00Z")
		case "expr":
			col.From, col.Expr = "", "TS"
			if tc.typ == "String" {
				col.Expr = "string(TS)"
			}
		}
		rec := nanos(mem, "UTC", tc.value)
		prog, err := Compile(rec.Schema(), []Column{col}, "")
		if err != nil {
			t.Fatal(err)
		}
		out, err := prog.Apply(mem, rec, Where{Stream: "s", Window: "w"})
		rec.Release()
		got := ""
		switch {
		case err != nil:
			got = "error: " + err.Error()
		default:
			c := out.Column(0)
			if ts, ok := c.(*array.Timestamp); ok {
				got = timestampText(ts.Value(0).ToTime(ts.DataType().(*arrow.TimestampType).Unit))
			} else {
				got = c.ValueStr(0)
			}
			out.Release()
		}
		if strings.HasPrefix(tc.want, "error: ") && !strings.HasSuffix(got, "row 1: "+strings.TrimPrefix(tc.want, "error: ")) || !strings.HasPrefix(tc.want, "error: ") && got != tc.want {
			t.Errorf("%s by %s (allow_lossy %v): %q\nwant %q", tc.typ, tc.path, tc.lossy, got, tc.want)
		}
	}
}

// TestNanosecondOverflow: a push of a ClickHouse DateTime64(3) from 2262
// on into a Snowflake TIMESTAMP_NTZ(9), which travels in nanoseconds,
// stops at the value instead of wrapping to 1677.
func TestNanosecondOverflow(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{{Name: "at", Type: &arrow.TimestampType{Unit: arrow.Millisecond}, Nullable: true}}, nil)
	b := array.NewRecordBuilder(mem, schema)
	b.Field(0).(*array.TimestampBuilder).Append(arrow.Timestamp(time.Date(2262, 4, 11, 23, 47, 16, 854_000_000, time.UTC).UnixMilli()))
	b.Field(0).(*array.TimestampBuilder).Append(arrow.Timestamp(time.Date(2290, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()))
	rec := b.NewRecordBatch()
	b.Release()
	defer rec.Release()
	ty, err := sqltype.ParseSnowflake("TIMESTAMP_NTZ(9)")
	if err != nil {
		t.Fatal(err)
	}
	prog, err := Compile(schema, []Column{{Name: "AT", Type: ty, From: "at"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	out, err := prog.Apply(mem, rec, Where{Stream: "s", Window: "w"})
	if out != nil {
		out.Release()
	}
	if want := "row 2: 2290-01-01T00:00:00Z is outside the range TIMESTAMP_NTZ(9) holds in nanoseconds"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want an error containing %q", err, want)
	}
}
