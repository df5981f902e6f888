package market

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The engine tests below check the semantics of the Calendar and Set API on
// chosen days; the answer-file test (oracle_test.go) checks the data.

// calendars is the bundle the engine tests share: every market's calendar.
type calendars map[Code]*Calendar

// setup returns every market's calendar, failing the test if one cannot be
// built.
func setup(t testing.TB) calendars {
	t.Helper()
	all, err := All()
	if err != nil {
		t.Fatal(err)
	}
	cals := calendars{}
	for _, c := range all {
		cals[c.Code()] = c
	}
	return cals
}

// instant parses an RFC 3339 instant written in a test table.
func instant(t testing.TB, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// optInstant is instant, with "" the zero time (a session without a break).
func optInstant(t testing.TB, s string) time.Time {
	t.Helper()
	if s == "" {
		return time.Time{}
	}
	return instant(t, s)
}

// TestPhase checks Phase and IsOpen at the edges of sessions and lunch
// breaks: open and break end are inclusive, break start and close
// exclusive. 2026-03-10 is a Tuesday (New York on EDT, UTC-4).
func TestPhase(t *testing.T) {
	t.Parallel()
	cals := setup(t)
	tests := []struct {
		code Code
		at   string
		want Phase
	}{
		// XNYS 09:30-16:00 New York = 13:30-20:00Z.
		{XNYS, "2026-03-10T13:29:59Z", Closed},
		{XNYS, "2026-03-10T13:30:00Z", Open},
		{XNYS, "2026-03-10T19:59:59Z", Open},
		{XNYS, "2026-03-10T20:00:00Z", Closed},
		{XNYS, "2026-03-14T15:00:00Z", Closed}, // Saturday
		{XNYS, "2026-04-03T15:00:00Z", Closed}, // Good Friday
		// XHKG 09:30-12:00, 13:00-16:00 Hong Kong = 01:30-04:00Z, 05:00-08:00Z.
		{XHKG, "2026-03-10T01:29:59Z", Closed},
		{XHKG, "2026-03-10T01:30:00Z", Open},
		{XHKG, "2026-03-10T03:59:59Z", Open},
		{XHKG, "2026-03-10T04:00:00Z", Break},
		{XHKG, "2026-03-10T04:59:59Z", Break},
		{XHKG, "2026-03-10T05:00:00Z", Open},
		{XHKG, "2026-03-10T07:59:59Z", Open},
		{XHKG, "2026-03-10T08:00:00Z", Closed},
		// XTKS 09:00-11:30, 12:30-15:30 Tokyo = 00:00-02:30Z, 03:30-06:30Z.
		{XTKS, "2026-03-09T23:59:59Z", Closed},
		{XTKS, "2026-03-10T00:00:00Z", Open},
		{XTKS, "2026-03-10T02:29:59Z", Open},
		{XTKS, "2026-03-10T02:30:00Z", Break},
		{XTKS, "2026-03-10T03:29:59Z", Break},
		{XTKS, "2026-03-10T03:30:00Z", Open},
		{XTKS, "2026-03-10T06:29:59Z", Open},
		{XTKS, "2026-03-10T06:30:00Z", Closed},
		// XHKG half day (Christmas Eve, 09:30-12:00): no break, closed at noon.
		{XHKG, "2026-12-24T03:59:59Z", Open},
		{XHKG, "2026-12-24T04:00:00Z", Closed},
		{XHKG, "2026-12-24T05:30:00Z", Closed},
		// CMES: the 16:00-17:00 Chicago halt, and Saturday.
		{CMES, "2026-03-10T20:59:59Z", Open},
		{CMES, "2026-03-10T21:00:00Z", Closed},
		{CMES, "2026-03-10T22:00:00Z", Open},
		{CMES, "2026-03-14T15:00:00Z", Closed},
		{ALWAYS, "2026-03-14T00:00:00Z", Open},
		{ALWAYS, "2026-03-14T23:59:59Z", Open},
	}
	for _, tt := range tests {
		t.Run(string(tt.code)+"/"+tt.at, func(t *testing.T) {
			t.Parallel()
			c, at := cals[tt.code], instant(t, tt.at)
			got, err := c.Phase(at)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("Phase(%s) = %s, want %s", tt.at, got, tt.want)
			}
			open, err := c.IsOpen(at)
			if err != nil {
				t.Fatal(err)
			}
			if open != (tt.want == Open) {
				t.Fatalf("IsOpen(%s) = %v, want %v", tt.at, open, tt.want == Open)
			}
		})
	}
}

// TestSessionAt checks that SessionAt returns the session containing t
// (lunch break included) or, when the market is closed, the next one.
func TestSessionAt(t *testing.T) {
	t.Parallel()
	cals := setup(t)
	tests := []struct {
		name string
		code Code
		at   string
		want Date
	}{
		{"in session", XNYS, "2026-03-10T15:00:00Z", ymd(2026, 3, 10)},
		{"at the open", XNYS, "2026-03-10T13:30:00Z", ymd(2026, 3, 10)},
		{"at the close", XNYS, "2026-03-10T20:00:00Z", ymd(2026, 3, 11)},
		{"before the open", XNYS, "2026-03-10T05:00:00Z", ymd(2026, 3, 10)},
		{"weekend", XNYS, "2026-03-14T15:00:00Z", ymd(2026, 3, 16)},
		{"Good Friday", XNYS, "2026-04-03T15:00:00Z", ymd(2026, 4, 6)},
		{"lunch break", XHKG, "2026-03-10T04:30:00Z", ymd(2026, 3, 10)},
		{"CME Sunday evening", CMES, "2026-03-15T23:00:00Z", ymd(2026, 3, 16)},
		{"CME daily halt", CMES, "2026-03-10T21:30:00Z", ymd(2026, 3, 11)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := cals[tt.code].SessionAt(instant(t, tt.at))
			if err != nil {
				t.Fatal(err)
			}
			if s.Date != tt.want {
				t.Fatalf("SessionAt(%s).Date = %s, want %s", tt.at, s.Date, tt.want)
			}
		})
	}
}

// TestNextAndPrevious checks NextOpen and NextClose (strictly after t) and
// PreviousClose and PreviousSession (at or before t).
func TestNextAndPrevious(t *testing.T) {
	t.Parallel()
	cals := setup(t)
	previousSessionClose := func(c *Calendar, t time.Time) (time.Time, error) {
		s, err := c.PreviousSession(t)
		return s.Close, err
	}
	tests := []struct {
		name string
		code Code
		call func(*Calendar, time.Time) (time.Time, error)
		at   string
		want string
	}{
		{"NextOpen before the open", XNYS, (*Calendar).NextOpen, "2026-03-10T13:29:59Z", "2026-03-10T13:30:00Z"},
		{"NextOpen at the open", XNYS, (*Calendar).NextOpen, "2026-03-10T13:30:00Z", "2026-03-11T13:30:00Z"},
		{"NextOpen over a weekend", XNYS, (*Calendar).NextOpen, "2026-03-13T20:00:00Z", "2026-03-16T13:30:00Z"},
		{"NextOpen over Good Friday", XNYS, (*Calendar).NextOpen, "2026-04-02T20:00:00Z", "2026-04-06T13:30:00Z"},
		{"NextOpen in a break", XHKG, (*Calendar).NextOpen, "2026-03-10T04:30:00Z", "2026-03-11T01:30:00Z"},
		{"NextClose before the close", XNYS, (*Calendar).NextClose, "2026-03-10T19:59:59Z", "2026-03-10T20:00:00Z"},
		{"NextClose at the close", XNYS, (*Calendar).NextClose, "2026-03-10T20:00:00Z", "2026-03-11T20:00:00Z"},
		{"NextClose on Saturday", XNYS, (*Calendar).NextClose, "2026-03-14T15:00:00Z", "2026-03-16T20:00:00Z"},
		{"NextClose in a break", XHKG, (*Calendar).NextClose, "2026-03-10T04:30:00Z", "2026-03-10T08:00:00Z"},
		{"PreviousClose at the close", XNYS, (*Calendar).PreviousClose, "2026-03-10T20:00:00Z", "2026-03-10T20:00:00Z"},
		{"PreviousClose before the close", XNYS, (*Calendar).PreviousClose, "2026-03-10T19:59:59Z", "2026-03-09T20:00:00Z"},
		{"PreviousClose on Monday morning", XNYS, (*Calendar).PreviousClose, "2026-03-16T10:00:00Z", "2026-03-13T20:00:00Z"},
		{"PreviousSession on Monday morning", XNYS, previousSessionClose, "2026-03-16T10:00:00Z", "2026-03-13T20:00:00Z"},
		{"PreviousSession in a CME Sunday session", CMES, previousSessionClose, "2026-03-15T23:00:00Z", "2026-03-13T21:00:00Z"},
		{"PreviousSession at the close of the first session covered", XNYS, previousSessionClose, "2000-01-03T21:00:00Z", "2000-01-03T21:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.call(cals[tt.code], instant(t, tt.at))
			if err != nil {
				t.Fatal(err)
			}
			if want := instant(t, tt.want); !got.Equal(want) {
				t.Fatalf("at %s: got %s, want %s", tt.at, stamp(got), tt.want)
			}
		})
	}
}

// TestPreviousSession checks the session PreviousSession returns, not just
// its close.
func TestPreviousSession(t *testing.T) {
	t.Parallel()
	c := setup(t)[XHKG]
	// During the Wednesday lunch break the last closed session is Tuesday's.
	s, err := c.PreviousSession(instant(t, "2026-03-11T04:30:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	want := Session{
		Market:     XHKG,
		Date:       ymd(2026, 3, 10),
		Open:       instant(t, "2026-03-10T01:30:00Z"),
		Close:      instant(t, "2026-03-10T08:00:00Z"),
		BreakStart: instant(t, "2026-03-10T04:00:00Z"),
		BreakEnd:   instant(t, "2026-03-10T05:00:00Z"),
	}
	if diff := cmp.Diff(want, s); diff != "" {
		t.Fatalf("PreviousSession mismatch (-want +got):\n%s", diff)
	}
}

// TestNextChange checks the next phase change through breaks, closes,
// weekends and half days, and that an always-open market reports none.
func TestNextChange(t *testing.T) {
	t.Parallel()
	cals := setup(t)
	tests := []struct {
		name   string
		code   Code
		at     string
		wantAt string // empty: no change (ok false)
		to     Phase
	}{
		{"open to break", XHKG, "2026-03-10T02:00:00Z", "2026-03-10T04:00:00Z", Break},
		{"at break start", XHKG, "2026-03-10T04:00:00Z", "2026-03-10T05:00:00Z", Open},
		{"break to open", XHKG, "2026-03-10T04:30:00Z", "2026-03-10T05:00:00Z", Open},
		{"afternoon to close", XHKG, "2026-03-10T05:00:00Z", "2026-03-10T08:00:00Z", Closed},
		{"at close", XHKG, "2026-03-10T08:00:00Z", "2026-03-11T01:30:00Z", Open},
		{"half day has no break", XHKG, "2026-12-24T02:00:00Z", "2026-12-24T04:00:00Z", Closed},
		{"Tokyo morning", XTKS, "2026-03-10T01:00:00Z", "2026-03-10T02:30:00Z", Break},
		{"Tokyo lunch", XTKS, "2026-03-10T03:00:00Z", "2026-03-10T03:30:00Z", Open},
		{"weekend", XNYS, "2026-03-13T21:00:00Z", "2026-03-16T13:30:00Z", Open},
		{"CME halt", CMES, "2026-03-10T21:00:00Z", "2026-03-10T22:00:00Z", Open},
		{"CME Friday close", CMES, "2026-03-13T20:00:00Z", "2026-03-13T21:00:00Z", Closed},
		{"CME Sunday open", CMES, "2026-03-14T12:00:00Z", "2026-03-15T22:00:00Z", Open},
		{"always open", ALWAYS, "2026-03-10T12:00:00Z", "", Closed},
		{"always open at midnight", ALWAYS, "2026-03-10T00:00:00Z", "", Closed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			at, to, ok, err := cals[tt.code].NextChange(instant(t, tt.at))
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantAt == "" {
				if ok {
					t.Fatalf("NextChange(%s) = %s to %s, want no change", tt.at, stamp(at), to)
				}
				return
			}
			if !ok || !at.Equal(instant(t, tt.wantAt)) || to != tt.to {
				t.Fatalf("NextChange(%s) = %s to %s (ok %v), want %s to %s", tt.at, stamp(at), to, ok, tt.wantAt, tt.to)
			}
		})
	}
}

// TestSessionAndHoliday checks Session(d) and Holiday(d) on trading days,
// weekends and holidays, with the holiday's name.
func TestSessionAndHoliday(t *testing.T) {
	t.Parallel()
	cals := setup(t)
	tests := []struct {
		code    Code
		date    Date
		session bool
		holiday string // the closure's name; empty for a trading day or weekend
	}{
		{XNYS, ymd(2026, 3, 10), true, ""},
		{XNYS, ymd(2026, 3, 14), false, ""}, // Saturday: no session, no holiday
		{XNYS, ymd(2026, 4, 3), false, "Good Friday"},
		{XNYS, ymd(2026, 7, 3), false, "Independence Day"}, // July 4 is a Saturday
		{XNYS, ymd(2026, 11, 26), false, "Thanksgiving Day"},
		{XNYS, ymd(2026, 11, 27), true, ""},            // early close, still a session
		{XLON, ymd(2026, 12, 28), false, "Boxing Day"}, // December 26 is a Saturday
		{XTKS, ymd(2026, 1, 2), false, "New Year holiday (exchange closed)"},
		{XTKS, ymd(2024, 11, 4), false, "Substitute holiday"}, // Culture Day on Sunday
		{XHKG, ymd(2026, 4, 7), false, "Ching Ming Festival"},
		{XSHG, ymd(2026, 10, 7), false, "National Day holiday"},
		{XBOM, ymd(2026, 11, 10), false, "Diwali Balipratipada"},
		{CMES, ymd(2026, 4, 3), false, "Good Friday"},
		{CMES, ymd(2026, 1, 19), true, ""}, // Martin Luther King Jr. Day: early close
	}
	for _, tt := range tests {
		t.Run(string(tt.code)+"/"+tt.date.String(), func(t *testing.T) {
			t.Parallel()
			c := cals[tt.code]
			s, ok, err := c.Session(tt.date)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tt.session {
				t.Fatalf("Session(%s) ok = %v, want %v", tt.date, ok, tt.session)
			}
			if ok && (s.Date != tt.date || s.Market != tt.code) {
				t.Fatalf("Session(%s) = %s %s, want that date and market", tt.date, s.Market, s.Date)
			}
			name, isHoliday := c.Holiday(tt.date)
			if isHoliday != (tt.holiday != "") || name != tt.holiday {
				t.Fatalf("Holiday(%s) = %q, %v; want %q", tt.date, name, isHoliday, tt.holiday)
			}
		})
	}
}

// TestSessionTimes checks whole sessions on the days that test the model:
// DST changes in New York, Chicago, London and Sydney, Mexico City's hours
// following New York, CME's Sunday-evening open, half days without a break
// and Tokyo's longer afternoon from 2024-11-05.
func TestSessionTimes(t *testing.T) {
	t.Parallel()
	cals := setup(t)
	tests := []struct {
		name                              string
		code                              Code
		date                              Date
		open, breakStart, breakEnd, close string // UTC; break empty when none
	}{
		// US clocks go forward on Sunday 2026-03-08 and back on 2026-11-01.
		{"XNYS before spring forward", XNYS, ymd(2026, 3, 6), "2026-03-06T14:30:00Z", "", "", "2026-03-06T21:00:00Z"},
		{"XNYS after spring forward", XNYS, ymd(2026, 3, 9), "2026-03-09T13:30:00Z", "", "", "2026-03-09T20:00:00Z"},
		{"XNYS before fall back", XNYS, ymd(2026, 10, 30), "2026-10-30T13:30:00Z", "", "", "2026-10-30T20:00:00Z"},
		{"XNYS after fall back", XNYS, ymd(2026, 11, 2), "2026-11-02T14:30:00Z", "", "", "2026-11-02T21:00:00Z"},
		{"XNYS day after Thanksgiving", XNYS, ymd(2026, 11, 27), "2026-11-27T14:30:00Z", "", "", "2026-11-27T18:00:00Z"},
		// CME: 17:00 Chicago the evening before to 16:00. The Sunday 17:00
		// open falls after the change on both Sundays.
		{"CMES Friday before spring forward", CMES, ymd(2026, 3, 6), "2026-03-05T23:00:00Z", "", "", "2026-03-06T22:00:00Z"},
		{"CMES Sunday open across spring forward", CMES, ymd(2026, 3, 9), "2026-03-08T22:00:00Z", "", "", "2026-03-09T21:00:00Z"},
		{"CMES Friday before fall back", CMES, ymd(2026, 10, 30), "2026-10-29T22:00:00Z", "", "", "2026-10-30T21:00:00Z"},
		{"CMES Sunday open across fall back", CMES, ymd(2026, 11, 2), "2026-11-01T23:00:00Z", "", "", "2026-11-02T22:00:00Z"},
		{"CMES Monday after Good Friday", CMES, ymd(2026, 4, 6), "2026-04-05T22:00:00Z", "", "", "2026-04-06T21:00:00Z"},
		{"CMES MLK Day early close", CMES, ymd(2026, 1, 19), "2026-01-18T23:00:00Z", "", "", "2026-01-19T18:00:00Z"},
		// XMEX keeps 09:30-16:00 New York: the same UTC times as XNYS,
		// though Mexico City no longer changes its clocks.
		{"XMEX before US spring forward", XMEX, ymd(2026, 3, 6), "2026-03-06T14:30:00Z", "", "", "2026-03-06T21:00:00Z"},
		{"XMEX after US spring forward", XMEX, ymd(2026, 3, 9), "2026-03-09T13:30:00Z", "", "", "2026-03-09T20:00:00Z"},
		{"XMEX before US fall back", XMEX, ymd(2026, 10, 30), "2026-10-30T13:30:00Z", "", "", "2026-10-30T20:00:00Z"},
		{"XMEX after US fall back", XMEX, ymd(2026, 11, 3), "2026-11-03T14:30:00Z", "", "", "2026-11-03T21:00:00Z"}, // November 2 is the Day of the Dead
		// London goes to BST on Sunday 2026-03-29.
		{"XLON before BST", XLON, ymd(2026, 3, 27), "2026-03-27T08:00:00Z", "", "", "2026-03-27T16:30:00Z"},
		{"XLON after BST", XLON, ymd(2026, 3, 30), "2026-03-30T07:00:00Z", "", "", "2026-03-30T15:30:00Z"},
		// Sydney leaves daylight time on Sunday 2026-04-05 (Easter: Good
		// Friday and Easter Monday closed) and returns on 2026-10-04.
		{"XASX before AEDT ends", XASX, ymd(2026, 4, 2), "2026-04-01T23:00:00Z", "", "", "2026-04-02T05:00:00Z"},
		{"XASX after AEDT ends", XASX, ymd(2026, 4, 7), "2026-04-07T00:00:00Z", "", "", "2026-04-07T06:00:00Z"},
		{"XASX before AEDT starts", XASX, ymd(2026, 10, 2), "2026-10-02T00:00:00Z", "", "", "2026-10-02T06:00:00Z"},
		{"XASX after AEDT starts", XASX, ymd(2026, 10, 5), "2026-10-04T23:00:00Z", "", "", "2026-10-05T05:00:00Z"},
		// Half days end at the morning close and have no break.
		{"XHKG regular day", XHKG, ymd(2026, 12, 23), "2026-12-23T01:30:00Z", "2026-12-23T04:00:00Z", "2026-12-23T05:00:00Z", "2026-12-23T08:00:00Z"},
		{"XHKG Christmas Eve", XHKG, ymd(2026, 12, 24), "2026-12-24T01:30:00Z", "", "", "2026-12-24T04:00:00Z"},
		{"XHKG Lunar New Year's Eve", XHKG, ymd(2026, 2, 16), "2026-02-16T01:30:00Z", "", "", "2026-02-16T04:00:00Z"},
		// Tokyo's close moves from 15:00 to 15:30 on 2024-11-05.
		{"XTKS last 15:00 close", XTKS, ymd(2024, 11, 1), "2024-11-01T00:00:00Z", "2024-11-01T02:30:00Z", "2024-11-01T03:30:00Z", "2024-11-01T06:00:00Z"},
		{"XTKS first 15:30 close", XTKS, ymd(2024, 11, 5), "2024-11-05T00:00:00Z", "2024-11-05T02:30:00Z", "2024-11-05T03:30:00Z", "2024-11-05T06:30:00Z"},
		{"ALWAYS is a UTC day", ALWAYS, ymd(2026, 3, 8), "2026-03-08T00:00:00Z", "", "", "2026-03-09T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok, err := cals[tt.code].Session(tt.date)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				t.Fatalf("Session(%s): no session", tt.date)
			}
			want := Session{
				Market:     tt.code,
				Date:       tt.date,
				Open:       instant(t, tt.open),
				Close:      instant(t, tt.close),
				BreakStart: optInstant(t, tt.breakStart),
				BreakEnd:   optInstant(t, tt.breakEnd),
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("Session(%s) mismatch (-want +got):\n%s", tt.date, diff)
			}
		})
	}
}

// TestXMEXFollowsNewYork checks every 2026 day both markets trade: the BMV
// opens and closes with the NYSE (09:30-16:00 New York) all year, across
// both US clock changes, while Mexico City stays on UTC-6.
func TestXMEXFollowsNewYork(t *testing.T) {
	t.Parallel()
	cals := setup(t)
	mex, err := cals[XMEX].Sessions(ymd(2026, 1, 1), ymd(2026, 12, 31))
	if err != nil {
		t.Fatal(err)
	}
	compared := 0
	for _, m := range mex {
		n, ok, err := cals[XNYS].Session(m.Date)
		if err != nil {
			t.Fatal(err)
		}
		if !ok || n.Close.Before(m.Close) { // skip NYSE holidays and half days
			continue
		}
		if !m.Open.Equal(n.Open) || !m.Close.Equal(n.Close) {
			t.Fatalf("%s: XMEX %s-%s, XNYS %s-%s", m.Date, stamp(m.Open), stamp(m.Close), stamp(n.Open), stamp(n.Close))
		}
		compared++
	}
	if compared < 230 {
		t.Fatalf("compared %d days, want most of the year", compared)
	}
}

// TestCMESSundayEvening checks that CME's Sunday-evening trading belongs to
// Monday's session.
func TestCMESSundayEvening(t *testing.T) {
	t.Parallel()
	c := setup(t)[CMES]
	sunday := instant(t, "2026-03-15T23:00:00Z") // 18:00 CDT Sunday
	p, err := c.Phase(sunday)
	if err != nil {
		t.Fatal(err)
	}
	if p != Open {
		t.Fatalf("Phase(Sunday 18:00 Chicago) = %s, want open", p)
	}
	s, err := c.SessionAt(sunday)
	if err != nil {
		t.Fatal(err)
	}
	if s.Date != ymd(2026, 3, 16) {
		t.Fatalf("SessionAt(Sunday evening).Date = %s, want Monday 2026-03-16", s.Date)
	}
	if _, ok, err := c.Session(ymd(2026, 3, 15)); err != nil || ok {
		t.Fatalf("Session(Sunday) = ok %v, err %v; want no session", ok, err)
	}
	// Thursday evening before Good Friday does not open: there is no
	// Friday session.
	p, err = c.Phase(instant(t, "2026-04-02T23:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	if p != Closed {
		t.Fatalf("Phase(Thursday evening before Good Friday) = %s, want closed", p)
	}
}

// TestSessions checks the range query: labels from..to inclusive, in
// order, holidays and weekends left out.
func TestSessions(t *testing.T) {
	t.Parallel()
	cals := setup(t)
	tests := []struct {
		name     string
		code     Code
		from, to Date
		want     []Date
	}{
		{"Thanksgiving week", XNYS, ymd(2026, 11, 22), ymd(2026, 11, 28), []Date{ymd(2026, 11, 23), ymd(2026, 11, 24), ymd(2026, 11, 25), ymd(2026, 11, 27)}},
		{"one day", XNYS, ymd(2026, 3, 10), ymd(2026, 3, 10), []Date{ymd(2026, 3, 10)}},
		{"weekend only", XNYS, ymd(2026, 3, 14), ymd(2026, 3, 15), nil},
		{"CME week", CMES, ymd(2026, 3, 15), ymd(2026, 3, 16), []Date{ymd(2026, 3, 16)}},
		{"ALWAYS weekend", ALWAYS, ymd(2026, 3, 14), ymd(2026, 3, 15), []Date{ymd(2026, 3, 14), ymd(2026, 3, 15)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ss, err := cals[tt.code].Sessions(tt.from, tt.to)
			if err != nil {
				t.Fatal(err)
			}
			var got []Date
			for _, s := range ss {
				got = append(got, s.Date)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("Sessions(%s, %s) dates mismatch (-want +got):\n%s", tt.from, tt.to, diff)
			}
		})
	}
}

// TestCoverageErrors checks that every query outside a calendar's coverage
// returns a *CoverageError wrapping ErrOutOfCoverage, naming the market
// and its last covered date. XSHG and XBOM end with 2026, whose holidays
// are the last announced.
func TestCoverageErrors(t *testing.T) {
	t.Parallel()
	cals := setup(t)
	tests := []struct {
		name string
		code Code
		last Date
		call func(t *testing.T, c *Calendar) error
	}{
		{"XSHG Phase in 2027", XSHG, ymd(2026, 12, 31), func(t *testing.T, c *Calendar) error {
			_, err := c.Phase(instant(t, "2027-01-04T02:00:00Z"))
			return err
		}},
		{"XSHG Session in 2027", XSHG, ymd(2026, 12, 31), func(t *testing.T, c *Calendar) error {
			_, _, err := c.Session(ymd(2027, 1, 4))
			return err
		}},
		{"XSHG NextOpen after the last session", XSHG, ymd(2026, 12, 31), func(t *testing.T, c *Calendar) error {
			_, err := c.NextOpen(instant(t, "2026-12-31T08:00:00Z"))
			return err
		}},
		{"XSHG NextChange after the last session", XSHG, ymd(2026, 12, 31), func(t *testing.T, c *Calendar) error {
			_, _, _, err := c.NextChange(instant(t, "2026-12-31T08:00:00Z"))
			return err
		}},
		{"XBOM IsOpen in 2027", XBOM, ymd(2026, 12, 31), func(t *testing.T, c *Calendar) error {
			_, err := c.IsOpen(instant(t, "2027-01-04T05:00:00Z"))
			return err
		}},
		{"XBOM Sessions into 2027", XBOM, ymd(2026, 12, 31), func(t *testing.T, c *Calendar) error {
			_, err := c.Sessions(ymd(2026, 12, 1), ymd(2027, 1, 31))
			return err
		}},
		{"XBOM SessionAt after the last session", XBOM, ymd(2026, 12, 31), func(t *testing.T, c *Calendar) error {
			_, err := c.SessionAt(instant(t, "2026-12-31T12:00:00Z"))
			return err
		}},
		{"XNYS before 2000", XNYS, ymd(2035, 12, 31), func(t *testing.T, c *Calendar) error {
			_, err := c.Phase(instant(t, "1999-12-31T15:00:00Z"))
			return err
		}},
		{"XNYS PreviousSession before the first", XNYS, ymd(2035, 12, 31), func(t *testing.T, c *Calendar) error {
			_, err := c.PreviousSession(instant(t, "2000-01-03T15:00:00Z"))
			return err
		}},
		{"XNYS NextClose after 2035", XNYS, ymd(2035, 12, 31), func(t *testing.T, c *Calendar) error {
			_, err := c.NextClose(instant(t, "2036-01-02T15:00:00Z"))
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.call(t, cals[tt.code])
			if !errors.Is(err, ErrOutOfCoverage) {
				t.Fatalf("error = %v, want ErrOutOfCoverage", err)
			}
			var ce *CoverageError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *CoverageError", err)
			}
			if ce.Market != tt.code || ce.Last != tt.last || ce.First != ymd(2000, 1, 1) {
				t.Fatalf("CoverageError = %+v, want market %s covering 2000-01-01 through %s", *ce, tt.code, tt.last)
			}
		})
	}
}

// TestSetAnyOpen checks that a set is open when any market is, and that an
// error is returned rather than a guessed "closed".
func TestSetAnyOpen(t *testing.T) {
	t.Parallel()
	cals := setup(t)
	tests := []struct {
		name    string
		set     Set
		at      string
		want    bool
		wantErr bool
	}{
		{"New York open", Set{cals[XTKS], cals[XNYS]}, "2026-03-10T15:00:00Z", true, false},
		{"Tokyo lunch, London open", Set{cals[XTKS], cals[XLON]}, "2026-03-10T08:30:00Z", true, false},
		{"both closed", Set{cals[XTKS], cals[XNYS]}, "2026-03-10T22:00:00Z", false, false},
		{"empty set", Set{}, "2026-03-10T15:00:00Z", false, false},
		// An open market settles the answer even when another calendar
		// cannot answer.
		{"open despite an uncovered market", Set{cals[XSHG], cals[XNYS]}, "2027-01-04T15:00:00Z", true, false},
		{"uncovered market, rest closed", Set{cals[XSHG], cals[XNYS]}, "2027-01-04T22:00:00Z", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.set.AnyOpen(instant(t, tt.at))
			if tt.wantErr {
				var ce *CoverageError
				if !errors.As(err, &ce) || ce.Market != XSHG {
					t.Fatalf("AnyOpen error = %v, want an XSHG CoverageError", err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("AnyOpen(%s) = %v, want %v", tt.at, got, tt.want)
			}
		})
	}
}

// TestSetNextOpen checks which market of a set opens first, the tie rule
// (the market listed first wins) and error propagation.
func TestSetNextOpen(t *testing.T) {
	t.Parallel()
	cals := setup(t)
	tests := []struct {
		name   string
		set    Set
		at     string
		want   string
		winner Code
	}{
		{"Tokyo before London", Set{cals[XLON], cals[XTKS]}, "2026-03-10T21:00:00Z", "2026-03-11T00:00:00Z", XTKS},
		{"London before New York", Set{cals[XNYS], cals[XLON]}, "2026-03-10T21:00:00Z", "2026-03-11T08:00:00Z", XLON},
		// In winter London (08:00 GMT) and Frankfurt (09:00 CET) open together.
		{"tie goes to the first listed", Set{cals[XETR], cals[XLON]}, "2026-03-10T21:00:00Z", "2026-03-11T08:00:00Z", XETR},
		{"tie goes to the first listed, reversed", Set{cals[XLON], cals[XETR]}, "2026-03-10T21:00:00Z", "2026-03-11T08:00:00Z", XLON},
		{"CME Sunday evening beats Tokyo", Set{cals[XTKS], cals[CMES]}, "2026-03-14T12:00:00Z", "2026-03-15T22:00:00Z", CMES},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, winner, err := tt.set.NextOpen(instant(t, tt.at))
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(instant(t, tt.want)) || winner.Code() != tt.winner {
				t.Fatalf("NextOpen(%s) = %s %s, want %s %s", tt.at, stamp(got), winner.Code(), tt.want, tt.winner)
			}
		})
	}

	t.Run("an uncovered market is an error", func(t *testing.T) {
		t.Parallel()
		// New York has an answer, but Shanghai might open earlier: no guess.
		_, winner, err := Set{cals[XNYS], cals[XSHG]}.NextOpen(instant(t, "2027-01-04T15:00:00Z"))
		var ce *CoverageError
		if !errors.Is(err, ErrOutOfCoverage) || !errors.As(err, &ce) || ce.Market != XSHG || winner != nil {
			t.Fatalf("NextOpen = winner %v, error %v; want an XSHG CoverageError", winner, err)
		}
	})
	t.Run("empty set", func(t *testing.T) {
		t.Parallel()
		if _, _, err := (Set{}).NextOpen(instant(t, "2026-03-10T21:00:00Z")); err == nil || errors.Is(err, ErrOutOfCoverage) {
			t.Fatalf("NextOpen of an empty set: error %v, want a non-coverage error", err)
		}
	})
}

// BenchmarkPhase measures one Phase call, on instants spread over 2026.
func BenchmarkPhase(b *testing.B) {
	cals := setup(b)
	start := time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
	ts := make([]time.Time, 1024)
	for i := range ts {
		ts[i] = start.Add(time.Duration(i) * 511 * time.Minute)
	}
	for _, code := range []Code{XNYS, XHKG, CMES, ALWAYS} {
		b.Run(string(code), func(b *testing.B) {
			c := cals[code]
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := c.Phase(ts[i%len(ts)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkBuildCalendar measures building each market's calendar from its
// spec: what Lookup pays once per market.
func BenchmarkBuildCalendar(b *testing.B) {
	for _, code := range Codes() {
		b.Run(string(code), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := build(specs[code]()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkNextOpen measures one NextOpen call on XNYS over 2026.
func BenchmarkNextOpen(b *testing.B) {
	c := setup(b)[XNYS]
	start := time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := c.NextOpen(start.Add(time.Duration(i%1024) * 511 * time.Minute)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkAnyOpenAllMarkets measures the scheduler's gate question, "is
// any of the twelve markets open", on instants over 2026.
func BenchmarkAnyOpenAllMarkets(b *testing.B) {
	cals := setup(b)
	var set Set
	for _, code := range Codes() {
		set = append(set, cals[code])
	}
	start := time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := set.AnyOpen(start.Add(time.Duration(i%1024) * 511 * time.Minute)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkBuildAllCalendars measures building all twelve calendars: a
// process's start-up cost.
func BenchmarkBuildAllCalendars(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		for _, code := range Codes() {
			if _, err := build(specs[code]()); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkNewBook measures a Book of the twelve built-in markets: plain
// (the calendars shared within the process, built once) against one whose
// overrides file restates each market's coverage end, which makes every
// Book build its calendars itself. The ratio is what the sharing saves
// each Book after the first (a config check, each test).
func BenchmarkNewBook(b *testing.B) {
	plain, err := NewBook(BookConfig{})
	if err != nil {
		b.Fatal(err)
	}
	through := map[Code]Date{}
	for _, code := range Codes() {
		cal, err := plain.Lookup(code)
		if err != nil {
			b.Fatal(err)
		}
		_, through[code] = cal.Coverage()
	}
	for _, bc := range []struct {
		name string
		cfg  BookConfig
	}{
		{"plain", BookConfig{}},
		{"restated_coverage", BookConfig{File: &OverridesFile{Path: "bench.yaml", CoveredThrough: through}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := NewBook(bc.cfg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestSessionEdges lists a session's possible phase changes in order:
// the open, the break, every halt's start and end, the close, however
// many halts the session has.
func TestSessionEdges(t *testing.T) {
	t.Parallel()
	at := func(hhmm string) time.Time { return instant(t, "2026-03-10T"+hhmm+":00Z") }
	tests := []struct {
		name string
		s    Session
		want []string
	}{
		{"no break, no halt", Session{Open: at("13:30"), Close: at("20:00")}, []string{"13:30", "20:00"}},
		{"a break", Session{Open: at("01:30"), BreakStart: at("04:00"), BreakEnd: at("05:00"), Close: at("08:00")},
			[]string{"01:30", "04:00", "05:00", "08:00"}},
		{"three halts around a break", Session{Open: at("01:30"), BreakStart: at("04:00"), BreakEnd: at("05:00"), Close: at("08:00"),
			Halts: []Halt{{From: at("02:00"), To: at("02:10")}, {From: at("03:00"), To: at("03:10")}, {From: at("06:00"), To: at("06:30")}}},
			[]string{"01:30", "02:00", "02:10", "03:00", "03:10", "04:00", "05:00", "06:00", "06:30", "08:00"}},
	}
	for _, tt := range tests {
		var got []string
		for _, e := range tt.s.edges() {
			got = append(got, e.Format("15:04"))
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Fatalf("%s: edges (-want +got):\n%s", tt.name, diff)
		}
	}
}

// TestDateString writes four-digit years digit by digit and any other
// year through fmt; both give YYYY-MM-DD.
func TestDateString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d    Date
		want string
	}{
		{Date{2026, time.November, 27}, "2026-11-27"},
		{Date{1999, time.December, 31}, "1999-12-31"},
		{Date{2100, time.January, 1}, "2100-01-01"},
		{Date{987, time.October, 5}, "0987-10-05"},
		{Date{0, time.January, 1}, "0000-01-01"},
		{Date{9999, time.December, 31}, "9999-12-31"},
		{Date{10000, time.January, 1}, "10000-01-01"},
		{Date{-1, time.January, 1}, "-001-01-01"},
	}
	for _, tt := range tests {
		if got := tt.d.String(); got != tt.want {
			t.Fatalf("Date%+v.String() = %q, want %q", tt.d, got, tt.want)
		}
	}
}

// TestBuildSpec builds small specs: sessions that overlap the next day's
// are refused, and when two early-close rules fall on one date the
// earlier close wins, whichever rule comes first.
func TestBuildSpec(t *testing.T) {
	t.Parallel()
	wed := ymd(2026, 3, 4)
	on := func(d Date) func(int) []Date { return func(int) []Date { return []Date{d} } }
	base := func() spec {
		return spec{code: "TEST", zone: "UTC", first: ymd(2026, 3, 2), last: ymd(2026, 3, 6), hours: []hours{{open: 600, close: 960}}}
	}
	early := func(first, second int) spec {
		sp := base()
		sp.earlyCloses = []timedRule{rule{name: "first", dates: on(wed)}.at(first), rule{name: "second", dates: on(wed)}.at(second)}
		return sp
	}
	overlapping := base()
	overlapping.hours = []hours{{open: 600, close: 2100}} // 10:00 to 11:00 the next day
	tests := []struct {
		name      string
		sp        spec
		wantErr   string // a part of the error; "" for none
		wantClose string // Wednesday's close, when no error
	}{
		{"regular hours", base(), "", "2026-03-04T16:00:00Z"},
		{"sessions overlap", overlapping, "market TEST: session 2026-03-03 overlaps 2026-03-02", ""},
		{"earlier early close first", early(780, 840), "", "2026-03-04T13:00:00Z"},
		{"earlier early close second", early(840, 780), "", "2026-03-04T13:00:00Z"},
	}
	for _, tt := range tests {
		c, err := build(tt.sp)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("%s: build error = %v, want one saying %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: build: %v", tt.name, err)
		}
		s, ok, err := c.Session(wed)
		if err != nil || !ok {
			t.Fatalf("%s: Session(%s) = %v, %v", tt.name, wed, ok, err)
		}
		if got := stamp(s.Close); got != tt.wantClose {
			t.Fatalf("%s: Wednesday closes at %s, want %s", tt.name, got, tt.wantClose)
		}
	}
}
