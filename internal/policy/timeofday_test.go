package policy

import (
	"testing"
	"time"
)

func TestTimeOfDay(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name   string
		window string
		at     time.Time
		want   bool
	}{
		// 2026-03-04 is a Wednesday; Berlin is UTC+1 until 2026-03-29.
		{"office hours inside", `{days: [mon, tue, wed, thu, fri], from: "08:00", to: "20:00", tz: Europe/Berlin}`, utc("2026-03-04T07:00:00Z"), true},
		{"office hours just before", `{days: [mon, tue, wed, thu, fri], from: "08:00", to: "20:00", tz: Europe/Berlin}`, utc("2026-03-04T06:59:59Z"), false},
		{"office hours end is exclusive", `{days: [mon, tue, wed, thu, fri], from: "08:00", to: "20:00", tz: Europe/Berlin}`, utc("2026-03-04T19:00:00Z"), false},
		{"office hours last minute", `{days: [mon, tue, wed, thu, fri], from: "08:00", to: "20:00", tz: Europe/Berlin}`, utc("2026-03-04T18:59:59Z"), true},
		{"zone matters: UTC 07:30 is 02:30 in New York", `{from: "08:00", to: "20:00", tz: America/New_York}`, utc("2026-03-04T07:30:00Z"), false},
		{"weekend excluded", `{days: [mon, tue, wed, thu, fri], from: "00:00", to: "24:00", tz: UTC}`, utc("2026-03-07T12:00:00Z"), false},
		{"whole day", `{days: [sat], from: "00:00", to: "24:00"}`, utc("2026-03-07T23:59:59Z"), true},
		{"local day differs from UTC day", `{days: [thu], from: "00:00", to: "02:00", tz: Europe/Berlin}`, utc("2026-03-04T23:30:00Z"), true},
		// Across midnight: Friday 22:00 to Saturday 06:00 (Berlin).
		{"night: friday evening", `{days: [fri], from: "22:00", to: "06:00", tz: Europe/Berlin}`, utc("2026-03-06T21:00:00Z"), true},
		{"night: saturday early", `{days: [fri], from: "22:00", to: "06:00", tz: Europe/Berlin}`, utc("2026-03-07T04:59:00Z"), true},
		{"night: saturday 06:00 is out", `{days: [fri], from: "22:00", to: "06:00", tz: Europe/Berlin}`, utc("2026-03-07T05:00:00Z"), false},
		{"night: friday early is not the friday window", `{days: [fri], from: "22:00", to: "06:00", tz: Europe/Berlin}`, utc("2026-03-06T03:00:00Z"), false},
		{"night: saturday evening is not covered", `{days: [fri], from: "22:00", to: "06:00", tz: Europe/Berlin}`, utc("2026-03-07T21:30:00Z"), false},
		{"to 00:00 means midnight", `{from: "20:00", to: "00:00"}`, utc("2026-03-04T23:59:00Z"), true},
		{"to 00:00 excludes the next morning", `{from: "20:00", to: "00:00"}`, utc("2026-03-05T00:00:00Z"), false},
		// DST: on 2026-03-29 Berlin skips 02:00-03:00; 01:30 UTC is 03:30 CEST.
		{"after spring forward", `{from: "03:00", to: "04:00", tz: Europe/Berlin}`, utc("2026-03-29T01:30:00Z"), true},
		{"New York summer time", `{from: "09:00", to: "17:00", tz: America/New_York}`, time.Date(2026, 7, 1, 9, 0, 0, 0, ny), true},
		{"Berlin local input", `{from: "09:00", to: "17:00", tz: Europe/Berlin}`, time.Date(2026, 7, 1, 8, 59, 0, 0, berlin), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustParse(t, "version: 1\nname: p\ntime_of_day:\n  - "+tt.window+"\n")
			if got := p.timeOfDay[0].contains(tt.at); got != tt.want {
				t.Errorf("contains(%s) = %v, want %v", tt.at.Format(time.RFC3339), got, tt.want)
			}
		})
	}
}

func TestTimeOfDayAnyWindow(t *testing.T) {
	p := mustParse(t, `version: 1
name: p
time_of_day:
  - {days: [mon, tue, wed, thu, fri], from: "08:00", to: "18:00", tz: Europe/Berlin}
  - {days: [sat, sun], from: "10:00", to: "12:00", tz: Europe/Berlin}
`)
	cases := map[string]bool{
		"2026-03-04T08:00:00Z": true,  // Wed 09:00
		"2026-03-07T09:30:00Z": true,  // Sat 10:30
		"2026-03-07T12:30:00Z": false, // Sat 13:30
	}
	for s, want := range cases {
		at, _ := time.Parse(time.RFC3339, s)
		got := stageTimeOfDay(&evaluation{now: at}, Agent, p) == nil
		if got != want {
			t.Errorf("%s allowed = %v, want %v", s, got, want)
		}
	}
}
