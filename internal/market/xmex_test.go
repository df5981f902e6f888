package market

import (
	"errors"
	"testing"
	"time"
)

// TestXMEXBeyondAnswerFile checks dates after xmex.csv ends (2020-09-18)
// against the BMV's published holiday calendars and trading-hours notices,
// and the consequences of the rules. While New York is on daylight saving
// time and Mexico City is not, the session runs 07:30-14:00 Mexico City
// (13:30-20:00 UTC); otherwise 08:30-15:00.
func TestXMEXBeyondAnswerFile(t *testing.T) {
	t.Parallel()
	c, err := Lookup(XMEX)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		date        Date
		holiday     string // non-empty: the market is closed for this holiday
		open, close string // UTC, when the market trades
	}{
		{date: ymd(2020, 10, 26), open: "2020-10-26T13:30:00Z", close: "2020-10-26T20:00:00Z"},
		{date: ymd(2020, 11, 2), holiday: "Day of the Dead"},
		{date: ymd(2020, 11, 3), open: "2020-11-03T14:30:00Z", close: "2020-11-03T21:00:00Z"},
		{date: ymd(2021, 3, 22), open: "2021-03-22T13:30:00Z", close: "2021-03-22T20:00:00Z"},
		{date: ymd(2021, 4, 5), open: "2021-04-05T13:30:00Z", close: "2021-04-05T20:00:00Z"},
		{date: ymd(2022, 10, 31), open: "2022-10-31T13:30:00Z", close: "2022-10-31T20:00:00Z"},
		{date: ymd(2024, 10, 1), holiday: "Transmission of Federal Executive Power"},
		{date: ymd(2025, 2, 3), holiday: "Constitution Day"},
		{date: ymd(2025, 3, 7), open: "2025-03-07T14:30:00Z", close: "2025-03-07T21:00:00Z"},
		{date: ymd(2025, 3, 10), open: "2025-03-10T13:30:00Z", close: "2025-03-10T20:00:00Z"},
		{date: ymd(2025, 3, 17), holiday: "Benito Juárez's Birthday"},
		{date: ymd(2025, 4, 17), holiday: "Holy Thursday"},
		{date: ymd(2025, 4, 18), holiday: "Good Friday"},
		{date: ymd(2025, 10, 31), open: "2025-10-31T13:30:00Z", close: "2025-10-31T20:00:00Z"},
		{date: ymd(2025, 11, 3), open: "2025-11-03T14:30:00Z", close: "2025-11-03T21:00:00Z"},
		{date: ymd(2025, 11, 17), holiday: "Revolution Day"},
		{date: ymd(2025, 12, 12), holiday: "Bank Employees' Day"},
		{date: ymd(2026, 11, 2), holiday: "Day of the Dead"},
		{date: ymd(2026, 12, 11), open: "2026-12-11T14:30:00Z", close: "2026-12-11T21:00:00Z"},
		{date: ymd(2030, 4, 18), holiday: "Holy Thursday"},
		{date: ymd(2030, 10, 1), holiday: "Transmission of Federal Executive Power"},
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
				t.Fatal("want a session, got none")
			}
			if got := stamp(s.Open); got != tt.open {
				t.Fatalf("open = %s, want %s", got, tt.open)
			}
			if got := stamp(s.Close); got != tt.close {
				t.Fatalf("close = %s, want %s", got, tt.close)
			}
		})
	}
}

// TestXMEXCoverageEnd checks that the calendar refuses dates past its rules.
func TestXMEXCoverageEnd(t *testing.T) {
	t.Parallel()
	c, err := Lookup(XMEX)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Session(ymd(2036, time.January, 2)); !errors.Is(err, ErrOutOfCoverage) {
		t.Fatalf("Session(2036-01-02) error = %v, want ErrOutOfCoverage", err)
	}
}
