package market

import (
	"errors"
	"testing"
	"time"
)

// TestCMESBeyondAnswerFile checks dates after cmes.csv ends (2027-07-16)
// against CME Group's holiday calendar rules. Each session opens at 17:00
// Chicago the day before its date.
func TestCMESBeyondAnswerFile(t *testing.T) {
	t.Parallel()
	c, err := Lookup(CMES)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		date        Date
		holiday     string // non-empty: the market is closed for this holiday
		open, close string // UTC, when the market trades
	}{
		{date: ymd(2027, 9, 6), open: "2027-09-05T22:00:00Z", close: "2027-09-06T17:00:00Z"},
		{date: ymd(2027, 9, 7), open: "2027-09-06T22:00:00Z", close: "2027-09-07T21:00:00Z"},
		{date: ymd(2027, 11, 25), open: "2027-11-24T23:00:00Z", close: "2027-11-25T18:00:00Z"},
		{date: ymd(2027, 11, 26), open: "2027-11-25T23:00:00Z", close: "2027-11-26T18:00:00Z"},
		{date: ymd(2027, 12, 24), holiday: "Christmas Day"},
		{date: ymd(2027, 12, 27), open: "2027-12-26T23:00:00Z", close: "2027-12-27T22:00:00Z"},
		{date: ymd(2027, 12, 31), open: "2027-12-30T23:00:00Z", close: "2027-12-31T22:00:00Z"},
		{date: ymd(2028, 1, 17), open: "2028-01-16T23:00:00Z", close: "2028-01-17T18:00:00Z"},
		{date: ymd(2028, 4, 14), holiday: "Good Friday"},
		{date: ymd(2028, 4, 17), open: "2028-04-16T22:00:00Z", close: "2028-04-17T21:00:00Z"},
		{date: ymd(2028, 6, 19), open: "2028-06-18T22:00:00Z", close: "2028-06-19T17:00:00Z"},
		{date: ymd(2028, 7, 4), open: "2028-07-03T22:00:00Z", close: "2028-07-04T17:00:00Z"},
		{date: ymd(2028, 12, 25), holiday: "Christmas Day"},
		{date: ymd(2028, 12, 26), open: "2028-12-25T23:00:00Z", close: "2028-12-26T22:00:00Z"},
		{date: ymd(2030, 4, 19), holiday: "Good Friday"},
		{date: ymd(2034, 1, 2), holiday: "New Year's Day"},
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

// TestCMESCoverageEnd checks that the calendar refuses dates past its rules.
func TestCMESCoverageEnd(t *testing.T) {
	t.Parallel()
	c, err := Lookup(CMES)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Session(ymd(2036, time.January, 2)); !errors.Is(err, ErrOutOfCoverage) {
		t.Fatalf("Session(2036-01-02) error = %v, want ErrOutOfCoverage", err)
	}
}
