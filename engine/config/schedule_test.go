package config

import (
	"testing"
	"time"
)

func TestScheduleInItsZone(t *testing.T) {
	s, err := ParseSchedule("0 3 * * *", "America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	ny, _ := time.LoadLocation("America/New_York")
	for _, tc := range []struct{ now, want string }{
		{"2024-03-09T12:00:00Z", "2024-03-10T07:00:00Z"}, // the day clocks jump from 02:00 to 03:00: 03:00 EDT
		{"2024-03-11T06:00:00Z", "2024-03-11T07:00:00Z"}, // 03:00 EDT = 07:00 UTC
		{"2024-11-04T00:00:00Z", "2024-11-04T08:00:00Z"}, // 03:00 EST = 08:00 UTC
	} {
		now, _ := time.Parse(time.RFC3339, tc.now)
		got := s.Next(now).UTC().Format(time.RFC3339)
		if got != tc.want {
			t.Errorf("Next(%s) = %s (%s), want %s", tc.now, got, s.Next(now).In(ny), tc.want)
		}
	}
	if _, err := ParseSchedule("0 3 * *", "UTC"); err == nil {
		t.Error("a four-field schedule parsed")
	}
	if _, err := ParseSchedule("@daily", "Mars/Olympus"); err == nil {
		t.Error("an unknown zone parsed")
	}
}
