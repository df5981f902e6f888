package market

import (
	"errors"
	"testing"
)

// TestXHKGBeyondAnswerFile checks dates after the answer file's end
// (2025-09-05): the Hong Kong general holidays gazetted for 2025 and 2026,
// and consequences of the rules in later years.
func TestXHKGBeyondAnswerFile(t *testing.T) {
	t.Parallel()
	c, err := Lookup(XHKG)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		date    string
		holiday string // name of the closure; empty for a session
		open    string // local open time of a session
		close   string // local close time
		lunch   bool   // the session has the 12:00-13:00 break
	}{
		{date: "2025-10-07", holiday: "Day following Mid-Autumn Festival"},
		{date: "2025-10-29", holiday: "Chung Yeung Festival"},
		{date: "2025-12-24", open: "09:30", close: "12:00"},
		{date: "2025-12-26", holiday: "First weekday after Christmas Day"},
		{date: "2026-01-02", open: "09:30", close: "16:00", lunch: true},
		{date: "2026-02-16", open: "09:30", close: "12:00"}, // Lunar New Year's Eve
		{date: "2026-02-17", holiday: "Lunar New Year"},
		{date: "2026-02-19", holiday: "Lunar New Year"},
		{date: "2026-04-03", holiday: "Good Friday"},
		{date: "2026-04-06", holiday: "Easter Monday"},
		// Ching Ming (Sunday 5 April) moves to Monday, which is Easter
		// Monday, so the gazette gives Tuesday.
		{date: "2026-04-07", holiday: "Ching Ming Festival"},
		{date: "2026-05-25", holiday: "Buddha's Birthday"}, // Sunday 24 May
		{date: "2026-06-19", holiday: "Tuen Ng Festival"},
		// The day following Mid-Autumn is Saturday 26 September: no
		// substitute.
		{date: "2026-09-28", open: "09:30", close: "16:00", lunch: true},
		{date: "2026-10-19", holiday: "Chung Yeung Festival"}, // Sunday 18 October
		// Lunar New Year 2027 is a Saturday: the half day is Friday, and
		// the Sunday second day gives the fourth day (Tuesday).
		{date: "2027-02-05", open: "09:30", close: "12:00"},
		{date: "2027-02-08", holiday: "Lunar New Year"},
		{date: "2027-02-09", holiday: "Lunar New Year substitute"},
		{date: "2027-12-27", holiday: "First weekday after Christmas Day"},
		{date: "2030-04-19", holiday: "Good Friday"},
		{date: "2030-04-22", holiday: "Easter Monday"},
		{date: "2033-12-27", holiday: "Christmas Day"}, // Sunday Christmas
		{date: "2035-12-31", open: "09:30", close: "12:00"},
	}
	for _, tt := range tests {
		t.Run(tt.date, func(t *testing.T) {
			t.Parallel()
			d, err := ParseDate(tt.date)
			if err != nil {
				t.Fatal(err)
			}
			s, ok, err := c.Session(d)
			if err != nil {
				t.Fatal(err)
			}
			if tt.holiday != "" {
				if ok {
					t.Fatalf("got a session %s-%s, want closed for %s", s.Open, s.Close, tt.holiday)
				}
				if name, _ := c.Holiday(d); name != tt.holiday {
					t.Fatalf("holiday name %q, want %q", name, tt.holiday)
				}
				return
			}
			if !ok {
				name, _ := c.Holiday(d)
				t.Fatalf("closed (%s), want a session", name)
			}
			loc := c.Location()
			if got := s.Open.In(loc).Format("15:04"); got != tt.open {
				t.Fatalf("open %s, want %s", got, tt.open)
			}
			if got := s.Close.In(loc).Format("15:04"); got != tt.close {
				t.Fatalf("close %s, want %s", got, tt.close)
			}
			if s.HasBreak() != tt.lunch {
				t.Fatalf("lunch break %v, want %v", s.HasBreak(), tt.lunch)
			}
			if tt.lunch {
				if bs, be := s.BreakStart.In(loc).Format("15:04"), s.BreakEnd.In(loc).Format("15:04"); bs != "12:00" || be != "13:00" {
					t.Fatalf("break %s-%s, want 12:00-13:00", bs, be)
				}
			}
		})
	}

	t.Run("coverage ends 2035", func(t *testing.T) {
		t.Parallel()
		_, _, err := c.Session(NewDate(2036, 1, 2))
		if !errors.Is(err, ErrOutOfCoverage) {
			t.Fatalf("got %v, want ErrOutOfCoverage", err)
		}
	})
}
