package transform

import (
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/hockeystack/sluice/engine/ddl"
)

// TestTimeRanges: a date or time outside what the destination server
// stores stops the window with one wording, whichever path the column
// takes (a plain copy, a default that sends it down the general path, an
// expression), at both ends; on 18.16 a DateTime64 column is a DateTime
// and the instant before 1970 must not wrap to 2106.
func TestTimeRanges(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	old := ddl.ClickHouseVersion{Major: 18, Minor: 16, Patch: 1}.TimeRanges()
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	for _, tc := range []struct {
		typ   string
		value string
		want  string // "" for a value that is stored
	}{
		{"DateTime64(6)", "1969-12-31T23:59:59Z", "1969-12-31T23:59:59Z is outside the range DateTime64(6) stores on this server (1970-01-01T00:00:00Z to 2105-12-31T23:59:59Z)"},
		{"DateTime64(6)", "1970-01-01T00:00:00Z", ""},
		{"DateTime64(6)", "2105-12-31T23:59:59Z", ""},
		{"DateTime64(6)", "2106-01-01T00:00:00Z", "2106-01-01T00:00:00Z is outside the range DateTime64(6) stores on this server (1970-01-01T00:00:00Z to 2105-12-31T23:59:59Z)"},
		{"DateTime('UTC')", "1969-07-20T20:17:40Z", "1969-07-20T20:17:40Z is outside the range DateTime('UTC') stores on this server (1970-01-01T00:00:00Z to 2105-12-31T23:59:59Z)"},
		{"Date", "1969-12-31T00:00:00Z", "1969-12-31 is outside the range Date stores on this server (1970-01-01 to 2105-12-31)"},
		{"Date", "2105-12-31T00:00:00Z", ""},
		{"Date", "2106-01-01T00:00:00Z", "2106-01-01 is outside the range Date stores on this server (1970-01-01 to 2105-12-31)"},
	} {
		for _, path := range []string{"copy", "default", "expr"} {
			ty := ch(t, "Nullable("+tc.typ+")")
			col := Column{Name: "at", Type: ty, From: "TS", Range: old[ty.Name()]}
			switch path {
			case "default":
				col.Default = str("2000-01-01 00:00:00")
				if ty.Name() == "Date" {
					col.Default = str("2000-01-01")
				}
			case "expr":
				col.From, col.Expr = "", "TS"
			}
			rec := source(mem, []int64{1}, []string{"1.00"}, []*string{str("x")}, []time.Time{at(tc.value)})
			prog, err := Compile(rec.Schema(), []Column{col}, "")
			if err != nil {
				t.Fatal(err)
			}
			out, err := prog.Apply(mem, rec, Where{Stream: "s", Window: "w"})
			rec.Release()
			if out != nil {
				out.Release()
			}
			got := ""
			if err != nil {
				got = err.Error()
			}
			if tc.want == "" && got != "" || tc.want != "" && !strings.HasSuffix(got, "column at, row 1: "+tc.want) {
				t.Errorf("%s %s by %s: %q\nwant %q", tc.typ, tc.value, path, got, tc.want)
			}
		}
	}
	// Current releases: a DateTime64 reaches back to 1900, and not beyond.
	ty := ch(t, "DateTime64(6)")
	for value, want := range map[string]string{
		"1900-01-01T00:00:00Z": "",
		"1899-12-31T23:59:59Z": "1899-12-31T23:59:59Z is outside the range DateTime64(6) stores on this server (1900-01-01T00:00:00Z to 2299-12-31T23:59:59.999999999Z)",
	} {
		rec := source(mem, []int64{1}, []string{"1.00"}, []*string{str("x")}, []time.Time{at(value)})
		prog, _ := Compile(rec.Schema(), []Column{{Name: "at", Type: ty, From: "TS"}}, "")
		out, err := prog.Apply(mem, rec, Where{})
		rec.Release()
		if out != nil {
			out.Release()
		}
		if err != nil && (want == "" || !strings.HasSuffix(err.Error(), want)) || err == nil && want != "" {
			t.Errorf("current DateTime64(6) %s: %v, want %q", value, err, want)
		}
	}
}
