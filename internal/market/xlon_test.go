package market

import (
	"errors"
	"testing"
	"time"
)

// euSessionCase is one date checked beyond an answer file's end: either a
// holiday (closed, with the reason given) or a session with its local open
// and close times.
type euSessionCase struct {
	date    Date
	holiday string // the closure's name; empty when the market trades
	open    string // local open time, 15:04, when the market trades
	close   string // local close time, 15:04, when the market trades
}

// euCheckSessions checks each case against the calendar of code with
// Session and Holiday, each case in its own parallel subtest.
func euCheckSessions(t *testing.T, code Code, cases []euSessionCase) {
	t.Helper()
	c, err := Lookup(code)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.date.String(), func(t *testing.T) {
			t.Parallel()
			s, ok, err := c.Session(tc.date)
			if err != nil {
				t.Fatalf("Session(%s): %v", tc.date, err)
			}
			name, isHoliday := c.Holiday(tc.date)
			if tc.holiday != "" {
				if ok {
					t.Fatalf("Session(%s): want closed for %q, got a session %s-%s", tc.date, tc.holiday, s.Open, s.Close)
				}
				if !isHoliday || name != tc.holiday {
					t.Fatalf("Holiday(%s) = %q, %v; want %q, true", tc.date, name, isHoliday, tc.holiday)
				}
				return
			}
			if !ok {
				t.Fatalf("Session(%s): want %s-%s, got closed (holiday %q)", tc.date, tc.open, tc.close, name)
			}
			if isHoliday {
				t.Fatalf("Holiday(%s) = %q; want no holiday on a trading day", tc.date, name)
			}
			open, closing := s.Open.In(c.Location()).Format("15:04"), s.Close.In(c.Location()).Format("15:04")
			if open != tc.open || closing != tc.close {
				t.Fatalf("Session(%s) = %s-%s local; want %s-%s", tc.date, open, closing, tc.open, tc.close)
			}
			if s.HasBreak() {
				t.Fatalf("Session(%s) has a break %s-%s; want none", tc.date, s.BreakStart, s.BreakEnd)
			}
		})
	}
}

// euCheckCoverageEnd checks that the calendar of code answers for last and
// returns a CoverageError for the day after.
func euCheckCoverageEnd(t *testing.T, code Code, last Date) {
	t.Helper()
	c, err := Lookup(code)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Session(last); err != nil {
		t.Fatalf("Session(%s): %v", last, err)
	}
	_, _, err = c.Session(last.AddDays(1))
	var ce *CoverageError
	if !errors.Is(err, ErrOutOfCoverage) || !errors.As(err, &ce) || ce.Last != last {
		t.Fatalf("Session(%s) error = %v; want a CoverageError ending %s", last.AddDays(1), err, last)
	}
}

// TestXLONBeyondAnswerFile checks London sessions after xlon.csv ends
// (2023-09-12): the published bank holidays for 2023-2027 and rule
// consequences up to 2035.
func TestXLONBeyondAnswerFile(t *testing.T) {
	t.Parallel()
	euCheckSessions(t, XLON, []euSessionCase{
		{date: ymd(2023, time.December, 22), open: "08:00", close: "12:30"}, // Christmas Eve on Sunday
		{date: ymd(2023, time.December, 25), holiday: "Christmas Day"},
		{date: ymd(2023, time.December, 26), holiday: "Boxing Day"},
		{date: ymd(2023, time.December, 29), open: "08:00", close: "12:30"}, // New Year's Eve on Sunday
		{date: ymd(2024, time.January, 1), holiday: "New Year's Day"},
		{date: ymd(2024, time.March, 29), holiday: "Good Friday"},
		{date: ymd(2024, time.April, 1), holiday: "Easter Monday"},
		{date: ymd(2024, time.May, 6), holiday: "Early May Bank Holiday"},
		{date: ymd(2024, time.May, 7), open: "08:00", close: "16:30"},
		{date: ymd(2024, time.May, 27), holiday: "Spring Bank Holiday"},
		{date: ymd(2024, time.August, 26), holiday: "Summer Bank Holiday"},
		{date: ymd(2024, time.December, 24), open: "08:00", close: "12:30"},
		{date: ymd(2024, time.December, 31), open: "08:00", close: "12:30"},
		{date: ymd(2025, time.May, 5), holiday: "Early May Bank Holiday"},
		{date: ymd(2025, time.May, 26), holiday: "Spring Bank Holiday"},
		{date: ymd(2025, time.August, 25), holiday: "Summer Bank Holiday"},
		{date: ymd(2026, time.December, 28), holiday: "Boxing Day"},    // Boxing Day on Saturday
		{date: ymd(2027, time.December, 27), holiday: "Christmas Day"}, // Christmas on Saturday
		{date: ymd(2027, time.December, 28), holiday: "Boxing Day"},
		{date: ymd(2028, time.January, 3), holiday: "New Year's Day"}, // New Year's Day on Saturday
		{date: ymd(2030, time.April, 19), holiday: "Good Friday"},
		{date: ymd(2030, time.April, 22), holiday: "Easter Monday"},
		{date: ymd(2035, time.March, 23), holiday: "Good Friday"},
	})
}

// TestXLONCoverage checks that London answers through 2035 and no further.
func TestXLONCoverage(t *testing.T) {
	t.Parallel()
	euCheckCoverageEnd(t, XLON, ymd(2035, time.December, 31))
}
