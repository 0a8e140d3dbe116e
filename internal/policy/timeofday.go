package policy

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// todRule is one allowed weekly time window in a zone. Times are wall-clock minutes
// since local midnight, [from, to). When to <= from the window crosses midnight and
// belongs to the day it starts on: {days: [fri], from: "22:00", to: "06:00"} is Friday
// 22:00 to Saturday 06:00.
type todRule struct {
	days     uint8 // bit i set = time.Weekday(i) allowed
	from, to int   // minutes, 0..1440
	loc      *time.Location
	tz       string
}

var dayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

func parseDay(s string) (time.Weekday, bool) {
	for i, n := range dayNames {
		if strings.EqualFold(s, n) {
			return time.Weekday(i), true
		}
	}
	return 0, false
}

// parseClock reads "HH:MM" (00:00 to 24:00) as minutes since midnight.
func parseClock(s string) (int, error) {
	bad := fmt.Errorf("%q is not a time of day like 08:00 or 24:00", s)
	if len(s) != 5 || s[2] != ':' || !allDigits(s[:2]) || !allDigits(s[3:]) {
		return 0, bad
	}
	h, _ := strconv.Atoi(s[:2])
	m, _ := strconv.Atoi(s[3:])
	if h > 24 || m > 59 || (h == 24 && m != 0) {
		return 0, bad
	}
	return h*60 + m, nil
}

func formatClock(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

func (r *todRule) dayAllowed(d time.Weekday) bool { return r.days&(1<<uint(d)) != 0 }

// contains reports whether the instant falls in the window, on the wall clock of the
// rule's zone. Across a daylight-saving change this follows the wall clock: a window
// 01:00–03:00 is shorter on the night the clocks skip 02:00.
func (r *todRule) contains(now time.Time) bool {
	local := now.In(r.loc)
	m := local.Hour()*60 + local.Minute()
	day := local.Weekday()
	if r.from < r.to {
		return r.dayAllowed(day) && m >= r.from && m < r.to
	}
	// Crosses midnight: the evening part belongs to today, the morning part to the
	// window that started yesterday.
	if m >= r.from && r.dayAllowed(day) {
		return true
	}
	return m < r.to && r.dayAllowed((day+6)%7)
}

func (r *todRule) daysList() []string {
	var out []string
	// Monday first, as people write weeks.
	for _, d := range []time.Weekday{1, 2, 3, 4, 5, 6, 0} {
		if r.dayAllowed(d) {
			out = append(out, dayNames[d])
		}
	}
	return out
}
