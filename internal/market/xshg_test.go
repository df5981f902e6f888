package market

import (
	"errors"
	"testing"
)

// TestXSHGSchedule checks the calendar against the State Council's 2026
// holiday notice, the last year announced, and checks that it refuses to
// answer beyond it: the answer file ends on 2026-12-31, and so does what
// anyone can know of Shanghai's closures.
func TestXSHGSchedule(t *testing.T) {
	t.Parallel()
	c, err := Lookup(XSHG)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		date    string
		holiday string // name of the closure; empty for a regular session
	}{
		{date: "2026-01-02", holiday: "New Year holiday"},
		{date: "2026-01-05"},
		// Since 2025 the eve of Lunar New Year is a statutory day.
		{date: "2026-02-16", holiday: "Spring Festival"},
		{date: "2026-02-19", holiday: "Spring Festival"},
		{date: "2026-02-23", holiday: "Spring Festival holiday"},
		{date: "2026-02-24"},
		{date: "2026-04-06", holiday: "Qingming Festival holiday"},
		{date: "2026-05-01", holiday: "Labour Day"},
		{date: "2026-05-05", holiday: "Labour Day holiday"},
		{date: "2026-05-06"},
		{date: "2026-06-19", holiday: "Dragon Boat Festival"},
		{date: "2026-09-25", holiday: "Mid-Autumn Festival"},
		{date: "2026-10-02", holiday: "National Day"},
		{date: "2026-10-07", holiday: "National Day holiday"},
		{date: "2026-10-08"},
		{date: "2026-12-31"},
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
			got := [4]string{
				s.Open.In(loc).Format("15:04"),
				s.BreakStart.In(loc).Format("15:04"),
				s.BreakEnd.In(loc).Format("15:04"),
				s.Close.In(loc).Format("15:04"),
			}
			if want := [4]string{"09:30", "11:30", "13:00", "15:00"}; got != want {
				t.Fatalf("session open, break start, break end, close = %v, want %v", got, want)
			}
		})
	}

	// 2027's schedule is not announced yet: no guess.
	for _, date := range []string{"2027-01-04", "2027-02-08"} {
		t.Run(date, func(t *testing.T) {
			t.Parallel()
			d, err := ParseDate(date)
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = c.Session(d)
			var cov *CoverageError
			if !errors.Is(err, ErrOutOfCoverage) || !errors.As(err, &cov) || cov.Last != NewDate(2026, 12, 31) {
				t.Fatalf("got %v, want a CoverageError ending 2026-12-31", err)
			}
		})
	}
}
