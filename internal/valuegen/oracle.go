package valuegen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// The differential tests' oracles compare what a destination holds with
// what the README's mapping says it holds. These are the rules they share.

// UTCText is the README's text of a timestamp: its UTC clock with the
// fraction it has, trailing zeros dropped.
func UTCText(t time.Time) string {
	s := t.UTC().Format(time.DateTime)
	if ns := t.Nanosecond(); ns != 0 {
		s += strings.TrimRight(fmt.Sprintf(".%09d", ns), "0")
	}
	return s
}

// ClockText is the README's text of a TIME: its clock with the fraction
// it has, trailing zeros dropped.
func ClockText(d time.Duration) string {
	s := fmt.Sprintf("%02d:%02d:%02d", int(d/time.Hour), int(d/time.Minute%60), int(d/time.Second%60))
	if ns := int64(d % time.Second); ns != 0 {
		s += strings.TrimRight(fmt.Sprintf(".%09d", ns), "0")
	}
	return s
}

// TrimZeros drops a decimal's trailing fractional zeros (and a bare
// point).
func TrimZeros(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// SameDecimal holds got to the same decimal as want, however many
// trailing zeros each has.
func SameDecimal(got, want string) bool {
	return got == want || TrimZeros(got) == TrimZeros(want)
}

// SameJSON holds got to compact JSON (no whitespace outside strings) of
// the same value as want, numbers compared by their digits. Other text
// (none, \N) is compared as it is.
func SameJSON(got, want string) bool {
	if got == want {
		return true
	}
	var buf bytes.Buffer
	if json.Compact(&buf, []byte(got)) != nil || buf.String() != got {
		return false
	}
	decode := func(s string) (any, error) {
		d := json.NewDecoder(strings.NewReader(s))
		d.UseNumber()
		var v any
		err := d.Decode(&v)
		return v, err
	}
	g, err1 := decode(got)
	w, err2 := decode(want)
	return err1 == nil && err2 == nil && reflect.DeepEqual(g, w)
}
