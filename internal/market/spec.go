package market

import (
	"fmt"
	"slices"
	"time"
)

// spec is the data that defines one market's calendar. Each market file
// (xnys.go, cmes.go, ...) returns one; build expands it into sessions.
type spec struct {
	code Code
	name string
	zone string // IANA time zone name
	// first and last bound the dates the rules and tables are known to be
	// right for. last is where a table of announced dates ends.
	first, last Date
	// hours are the regular trading hours, each from a date on, sorted by
	// from; the first entry's from may be zero.
	hours []hours
	// everyDay makes weekends trading days too (ALWAYS).
	everyDay bool
	// weekdays, when set, are the days of the week the market trades on
	// (markets defined in config); nil means Monday to Friday.
	weekdays *[7]bool
	// holidays are full closures on what would be trading days.
	holidays []rule
	// earlyCloses end a session early at a local time; such a session has
	// no break.
	earlyCloses []timedRule
	// lateOpens start a session late at a local time.
	lateOpens []timedRule
	// extraSessions are weekend dates the exchange trades on, with regular
	// hours (special sessions such as a budget-day Saturday).
	extraSessions []rule
}

// hours are a market's regular session times, in minutes after local
// midnight of the session's date. A negative open starts the session on the
// evening before (CME Globex: -420 is 17:00 the previous day); a close of
// 1440 is midnight at the end of the date.
type hours struct {
	from                 Date
	open, close          int
	breakStart, breakEnd int // both zero when there is no break
}

func (h hours) hasBreak() bool { return h.breakStart != 0 || h.breakEnd != 0 }

func (sp spec) hoursOn(d Date) hours {
	h := sp.hours[0]
	for _, e := range sp.hours[1:] {
		if d.Before(e.from) {
			break
		}
		h = e
	}
	return h
}

// trades reports whether the market trades on weekday wd when it is not a
// holiday: Monday to Friday unless the spec says otherwise.
func (sp spec) trades(wd time.Weekday) bool {
	switch {
	case sp.everyDay:
		return true
	case sp.weekdays != nil:
		return sp.weekdays[wd]
	}
	return wd != time.Saturday && wd != time.Sunday
}

// build expands a spec into the sessions of every date from sp.first to
// sp.last.
func build(sp spec) (*Calendar, error) {
	d, err := expand(sp, layers{})
	if err != nil {
		return nil, err
	}
	return newCalendar(d), nil
}

// layers are what is applied over a spec's own rules, lowest precedence
// first: an overrides file (which may extend the coverage), then runtime
// entries; assume adds assumed weekday sessions past the coverage.
type layers struct {
	coveredThrough Date
	file           []Override
	runtime        []Override
	assume         bool
}

// assumeYears is how far past its coverage a calendar with
// on_coverage_end: weekdays answers.
const assumeYears = 5

// expand turns a spec and the layers over it into one version of a
// calendar. A file entry that cannot be applied is an error; a runtime
// entry that cannot be applied is set aside in rejected.
func expand(sp spec, ls layers) (*calData, error) {
	loc, err := time.LoadLocation(sp.zone)
	if err != nil {
		return nil, fmt.Errorf("market %s: zone %q: %w", sp.code, sp.zone, err)
	}
	if len(sp.hours) == 0 || sp.first.IsZero() || sp.last.Before(sp.first) {
		return nil, fmt.Errorf("market %s: spec needs hours and a first..last range", sp.code)
	}
	covered := sp.last
	if ls.coveredThrough.After(covered) {
		covered = ls.coveredThrough
	}
	c := &calData{code: sp.code, name: sp.name, loc: loc, first: sp.first, last: covered, covered: covered, holidays: map[Date]string{}, assume: ls.assume}
	days := sp.regularDays(loc, covered, c.holidays)
	for _, o := range sortedByKind(ls.file) {
		if err := o.applyIn(days, c.holidays, loc, covered); err != nil {
			return nil, err
		}
		c.overrides = append(c.overrides, o)
	}
	for _, o := range sortedByKind(ls.runtime) {
		// A runtime entry applies whole or not at all: applyIn changes
		// nothing when it fails.
		if err := o.applyIn(days, c.holidays, loc, covered); err != nil {
			c.rejected = append(c.rejected, Rejected{Override: o, Reason: err.Error(), Err: err})
			continue
		}
		c.overrides = append(c.overrides, o)
	}

	// In date order: the sort below then meets sorted input and costs a
	// pass, where a map's order made it the largest part of NewBook.
	dates := make([]Date, 0, len(days))
	for d := range days {
		dates = append(dates, d)
	}
	slices.SortFunc(dates, Date.Compare)
	c.sessions = make([]Session, 0, len(days))
	for _, d := range dates {
		c.sessions = append(c.sessions, days[d])
	}
	if ls.assume {
		c.last = covered.AddDays(assumeYears * 366)
		for d := covered.AddDays(1); !d.After(c.last); d = d.AddDays(1) {
			if d.IsWeekend() {
				continue
			}
			s := sp.regularSession(loc, d)
			s.Assumed = true
			c.sessions = append(c.sessions, s)
		}
	}
	slices.SortFunc(c.sessions, func(a, b Session) int { return a.Open.Compare(b.Open) })
	for i := 1; i < len(c.sessions); i++ {
		if c.sessions[i].Open.Before(c.sessions[i-1].Close) {
			return nil, fmt.Errorf("market %s: session %s overlaps %s", sp.code, c.sessions[i].Date, c.sessions[i-1].Date)
		}
	}

	// The covered instants run from local midnight of the first date (or
	// the first session's open, if it starts the evening before) to the
	// earliest instant a session labelled after the last date could open.
	c.start = sp.first.At(loc, min(0, sp.hoursOn(sp.first).open)).UTC()
	after := c.last.AddDays(1)
	c.end = after.At(loc, min(0, sp.hoursOn(after).open)).UTC()
	return c, nil
}

// regularSession is the session of date d with the regular hours of d.
func (sp spec) regularSession(loc *time.Location, d Date) Session {
	h := sp.hoursOn(d)
	s := Session{Market: sp.code, Date: d, Open: d.At(loc, h.open).UTC(), Close: d.At(loc, h.close).UTC()}
	if h.hasBreak() {
		s.BreakStart, s.BreakEnd = d.At(loc, h.breakStart).UTC(), d.At(loc, h.breakEnd).UTC()
	}
	return s
}

// regularDays returns the sessions the spec's own rules and tables give for
// sp.first..last, keyed by label, and fills names with the holidays that
// close a trading weekday.
func (sp spec) regularDays(loc *time.Location, last Date, names map[Date]string) map[Date]Session {
	holidays := map[Date]string{}
	early := map[Date]int{}
	late := map[Date]int{}
	extra := map[Date]bool{}
	for y := sp.first.Year; y <= last.Year; y++ {
		for _, r := range sp.holidays {
			for _, d := range r.in(y) {
				if _, dup := holidays[d]; !dup {
					holidays[d] = r.name
				}
			}
		}
		for _, r := range sp.earlyCloses {
			for _, d := range r.in(y) {
				if at, ok := early[d]; !ok || r.at < at {
					early[d] = r.at
				}
			}
		}
		for _, r := range sp.lateOpens {
			for _, d := range r.in(y) {
				if at, ok := late[d]; !ok || r.at > at {
					late[d] = r.at
				}
			}
		}
		for _, r := range sp.extraSessions {
			for _, d := range r.in(y) {
				extra[d] = true
			}
		}
	}

	days := make(map[Date]Session, (last.Year-sp.first.Year+1)*366)
	for d := sp.first; !d.After(last); d = d.AddDays(1) {
		if !sp.trades(d.Weekday()) && !extra[d] {
			continue
		}
		if name, ok := holidays[d]; ok {
			if sp.trades(d.Weekday()) {
				names[d] = name
			}
			continue
		}
		s := sp.regularSession(loc, d)
		if at, ok := late[d]; ok {
			s.Open = d.At(loc, at).UTC()
			if s.HasBreak() && !s.Open.Before(s.BreakStart) {
				s.Open, s.BreakStart, s.BreakEnd = maxTime(s.Open, s.BreakEnd), time.Time{}, time.Time{}
			}
		}
		if at, ok := early[d]; ok {
			s.Close = d.At(loc, at).UTC()
			s.BreakStart, s.BreakEnd = time.Time{}, time.Time{}
		}
		days[d] = s
	}
	return days
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
