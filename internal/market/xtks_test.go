package market

import (
	"errors"
	"testing"
)

// TestXTKSBeyondAnswerFile checks dates after xtks.csv ends (2026-12-30)
// against the rules of the Act on National Holidays and the exchange's New
// Year holidays.
func TestXTKSBeyondAnswerFile(t *testing.T) {
	t.Parallel()
	c, err := Lookup(XTKS)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		date    Date
		holiday string // non-empty: the market is closed for this holiday
		// UTC instants, when the market trades (09:00-15:30 Tokyo with a
		// 11:30-12:30 break).
		open, breakStart, breakEnd, close string
	}{
		{date: ymd(2026, 12, 31), holiday: "Year-end holiday (exchange closed)"},
		{date: ymd(2027, 1, 1), holiday: "New Year's Day"},
		{date: ymd(2027, 1, 4), open: "2027-01-04T00:00:00Z", breakStart: "2027-01-04T02:30:00Z", breakEnd: "2027-01-04T03:30:00Z", close: "2027-01-04T06:30:00Z"},
		{date: ymd(2027, 1, 11), holiday: "Coming of Age Day"},
		{date: ymd(2027, 2, 11), holiday: "National Foundation Day"},
		{date: ymd(2027, 2, 23), holiday: "Emperor's Birthday"},
		// Vernal Equinox Day 2027 is Sunday March 21 (official gazette).
		{date: ymd(2027, 3, 22), holiday: "Substitute holiday"},
		{date: ymd(2027, 4, 29), holiday: "Showa Day"},
		{date: ymd(2027, 5, 3), holiday: "Constitution Memorial Day"},
		{date: ymd(2027, 5, 4), holiday: "Greenery Day"},
		{date: ymd(2027, 5, 5), holiday: "Children's Day"},
		{date: ymd(2027, 7, 19), holiday: "Marine Day"},
		{date: ymd(2027, 9, 20), holiday: "Respect for the Aged Day"},
		{date: ymd(2027, 9, 23), holiday: "Autumnal Equinox Day"},
		{date: ymd(2027, 10, 11), holiday: "Sports Day"},
		{date: ymd(2027, 11, 3), holiday: "Culture Day"},
		{date: ymd(2027, 11, 23), holiday: "Labor Thanksgiving Day"},
		{date: ymd(2027, 12, 30), open: "2027-12-30T00:00:00Z", breakStart: "2027-12-30T02:30:00Z", breakEnd: "2027-12-30T03:30:00Z", close: "2027-12-30T06:30:00Z"},
		{date: ymd(2027, 12, 31), holiday: "Year-end holiday (exchange closed)"},
		{date: ymd(2028, 1, 3), holiday: "New Year holiday (exchange closed)"},
		{date: ymd(2028, 3, 20), holiday: "Vernal Equinox Day"},
		{date: ymd(2028, 8, 11), holiday: "Mountain Day"},
		{date: ymd(2028, 9, 22), holiday: "Autumnal Equinox Day"},
		// May 5, 2030 is a Sunday; May 6 is its substitute.
		{date: ymd(2030, 5, 6), holiday: "Substitute holiday"},
		// Silver Week: Respect for the Aged Day (Sep 20) and Autumnal
		// Equinox Day (Sep 22) enclose a citizens' holiday.
		{date: ymd(2032, 9, 21), holiday: "Citizens' holiday"},
		{date: ymd(2035, 12, 28), open: "2035-12-28T00:00:00Z", breakStart: "2035-12-28T02:30:00Z", breakEnd: "2035-12-28T03:30:00Z", close: "2035-12-28T06:30:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.date.String(), func(t *testing.T) {
			t.Parallel()
			s, ok, err := c.Session(tt.date)
			if err != nil {
				t.Fatal(err)
			}
			if tt.holiday != "" {
				if ok {
					t.Fatalf("want closed for %s, got session %s-%s", tt.holiday, stamp(s.Open), stamp(s.Close))
				}
				if name, _ := c.Holiday(tt.date); name != tt.holiday {
					t.Fatalf("holiday name = %q, want %q", name, tt.holiday)
				}
				return
			}
			if !ok {
				name, _ := c.Holiday(tt.date)
				t.Fatalf("want a session, got none (holiday %q)", name)
			}
			got := [4]string{stamp(s.Open), stamp(s.BreakStart), stamp(s.BreakEnd), stamp(s.Close)}
			want := [4]string{tt.open, tt.breakStart, tt.breakEnd, tt.close}
			if got != want {
				t.Fatalf("session (open, break start, break end, close) = %v, want %v", got, want)
			}
		})
	}
}

// TestXTKSCoverageEnd checks that the calendar answers through 2035 and
// refuses to guess after it.
func TestXTKSCoverageEnd(t *testing.T) {
	t.Parallel()
	c, err := Lookup(XTKS)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := c.Session(ymd(2035, 12, 31)); err != nil || ok {
		t.Fatalf("Session(2035-12-31) = ok %v, err %v; want closed, no error", ok, err)
	}
	if _, _, err := c.Session(ymd(2036, 1, 4)); !errors.Is(err, ErrOutOfCoverage) {
		t.Fatalf("Session(2036-01-04) error = %v, want ErrOutOfCoverage", err)
	}
}
