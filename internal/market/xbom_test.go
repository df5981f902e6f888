package market

import (
	"errors"
	"testing"
)

// TestXBOMAnnouncedYear checks BSE's 2026 holiday circular (the last year
// it has announced) and the special Saturday sessions, with the names the
// calendar gives.
func TestXBOMAnnouncedYear(t *testing.T) {
	t.Parallel()
	c, err := Lookup(XBOM)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		date        Date
		holiday     string // non-empty: the market is closed for this holiday
		open, close string // UTC, when the market trades (09:15-15:30 Kolkata)
	}{
		{date: ymd(2024, 1, 20), open: "2024-01-20T03:45:00Z", close: "2024-01-20T10:00:00Z"},
		{date: ymd(2024, 1, 22), holiday: "Ram Mandir Pran Pratishtha"},
		{date: ymd(2025, 2, 1), open: "2025-02-01T03:45:00Z", close: "2025-02-01T10:00:00Z"},
		{date: ymd(2026, 1, 15), holiday: "Municipal Corporation Elections"},
		{date: ymd(2026, 1, 26), holiday: "Republic Day"},
		{date: ymd(2026, 3, 3), holiday: "Holi"},
		{date: ymd(2026, 3, 26), holiday: "Ram Navami"},
		{date: ymd(2026, 3, 31), holiday: "Mahavir Jayanti"},
		{date: ymd(2026, 4, 3), holiday: "Good Friday"},
		{date: ymd(2026, 4, 14), holiday: "Dr. Baba Saheb Ambedkar Jayanti"},
		{date: ymd(2026, 5, 1), holiday: "Maharashtra Day"},
		{date: ymd(2026, 5, 28), holiday: "Bakri Id"},
		{date: ymd(2026, 6, 26), holiday: "Muharram"},
		{date: ymd(2026, 9, 14), holiday: "Ganesh Chaturthi"},
		{date: ymd(2026, 10, 2), holiday: "Mahatma Gandhi Jayanti"},
		{date: ymd(2026, 10, 20), holiday: "Dussehra"},
		{date: ymd(2026, 11, 10), holiday: "Diwali Balipratipada"},
		{date: ymd(2026, 11, 24), holiday: "Guru Nanak Jayanti"},
		{date: ymd(2026, 12, 25), holiday: "Christmas"},
		{date: ymd(2026, 12, 31), open: "2026-12-31T03:45:00Z", close: "2026-12-31T10:00:00Z"},
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
			if got, want := [2]string{stamp(s.Open), stamp(s.Close)}, [2]string{tt.open, tt.close}; got != want {
				t.Fatalf("session (open, close) = %v, want %v", got, want)
			}
			if s.HasBreak() {
				t.Fatalf("session has a break %s-%s, want none", stamp(s.BreakStart), stamp(s.BreakEnd))
			}
		})
	}
}

// TestXBOMCoverageEnd checks that the calendar refuses dates after the last
// announced year instead of guessing: beyond the answer file's end
// (2026-12-31) even a fixed-date holiday such as Republic Day 2027 is out of
// coverage, because the festival dates around it are not yet known.
func TestXBOMCoverageEnd(t *testing.T) {
	t.Parallel()
	c, err := Lookup(XBOM)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []Date{ymd(2027, 1, 1), ymd(2027, 1, 26), ymd(2030, 8, 15)} {
		if _, _, err := c.Session(d); !errors.Is(err, ErrOutOfCoverage) {
			t.Fatalf("Session(%s) error = %v, want ErrOutOfCoverage", d, err)
		}
	}
	var cerr *CoverageError
	if _, _, err := c.Session(ymd(2027, 1, 26)); !errors.As(err, &cerr) || cerr.Last != ymd(2026, 12, 31) {
		t.Fatalf("Session(2027-01-26) error = %v, want a CoverageError ending 2026-12-31", err)
	}
}
