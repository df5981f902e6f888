package market

import (
	"errors"
	"testing"
	"time"
)

// TestXTSEBeyondAnswerFile checks dates after xtse.csv ends (2019-10-04)
// against TMX's published calendars and the consequences of the rules.
func TestXTSEBeyondAnswerFile(t *testing.T) {
	t.Parallel()
	c, err := Lookup(XTSE)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		date        Date
		holiday     string // non-empty: the market is closed for this holiday
		open, close string // UTC, when the market trades
	}{
		{date: ymd(2025, 2, 17), holiday: "Family Day"},
		{date: ymd(2025, 5, 19), holiday: "Victoria Day"},
		{date: ymd(2025, 7, 1), holiday: "Canada Day"},
		{date: ymd(2025, 8, 4), holiday: "Civic Holiday"},
		{date: ymd(2025, 10, 13), holiday: "Thanksgiving Day"},
		// National Day for Truth and Reconciliation: TSX trades.
		{date: ymd(2025, 9, 30), open: "2025-09-30T13:30:00Z", close: "2025-09-30T20:00:00Z"},
		{date: ymd(2025, 12, 24), open: "2025-12-24T14:30:00Z", close: "2025-12-24T18:00:00Z"},
		{date: ymd(2025, 12, 26), holiday: "Boxing Day"},
		{date: ymd(2026, 4, 3), holiday: "Good Friday"},
		{date: ymd(2026, 5, 18), holiday: "Victoria Day"},
		{date: ymd(2026, 12, 25), holiday: "Christmas Day"},
		{date: ymd(2026, 12, 28), holiday: "Boxing Day"},
		{date: ymd(2027, 12, 24), open: "2027-12-24T14:30:00Z", close: "2027-12-24T18:00:00Z"},
		{date: ymd(2027, 12, 27), holiday: "Christmas Day"},
		{date: ymd(2027, 12, 28), holiday: "Boxing Day"},
		{date: ymd(2027, 12, 29), open: "2027-12-29T14:30:00Z", close: "2027-12-29T21:00:00Z"},
		{date: ymd(2028, 7, 3), holiday: "Canada Day"},
		{date: ymd(2030, 4, 19), holiday: "Good Friday"},
		{date: ymd(2033, 1, 3), holiday: "New Year's Day"},
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

// TestXTSECoverageEnd checks that the calendar refuses dates past its rules.
func TestXTSECoverageEnd(t *testing.T) {
	t.Parallel()
	c, err := Lookup(XTSE)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Session(ymd(2036, time.January, 2)); !errors.Is(err, ErrOutOfCoverage) {
		t.Fatalf("Session(2036-01-02) error = %v, want ErrOutOfCoverage", err)
	}
}
