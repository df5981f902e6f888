package market

import (
	"fmt"
	"sort"
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

// build expands a spec into the sessions of every date from sp.first to
// sp.last.
func build(sp spec) (*Calendar, error) {
	loc, err := time.LoadLocation(sp.zone)
	if err != nil {
		return nil, fmt.Errorf("market %s: zone %q: %w", sp.code, sp.zone, err)
	}
	if len(sp.hours) == 0 || sp.first.IsZero() || sp.last.Before(sp.first) {
		return nil, fmt.Errorf("market %s: spec needs hours and a first..last range", sp.code)
	}
	c := &Calendar{code: sp.code, name: sp.name, loc: loc, first: sp.first, last: sp.last, holidays: map[Date]string{}}

	holidays := map[Date]string{}
	early := map[Date]int{}
	late := map[Date]int{}
	extra := map[Date]bool{}
	for y := sp.first.Year; y <= sp.last.Year; y++ {
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

	for d := sp.first; !d.After(sp.last); d = d.AddDays(1) {
		if d.IsWeekend() && !sp.everyDay && !extra[d] {
			continue
		}
		if name, ok := holidays[d]; ok {
			if !d.IsWeekend() || sp.everyDay {
				c.holidays[d] = name
			}
			continue
		}
		h := sp.hoursOn(d)
		s := Session{Market: sp.code, Date: d, Open: d.At(loc, h.open).UTC(), Close: d.At(loc, h.close).UTC()}
		if h.hasBreak() {
			s.BreakStart, s.BreakEnd = d.At(loc, h.breakStart).UTC(), d.At(loc, h.breakEnd).UTC()
		}
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
		c.sessions = append(c.sessions, s)
	}
	sort.Slice(c.sessions, func(i, j int) bool { return c.sessions[i].Open.Before(c.sessions[j].Open) })
	for i := 1; i < len(c.sessions); i++ {
		if c.sessions[i].Open.Before(c.sessions[i-1].Close) {
			return nil, fmt.Errorf("market %s: session %s overlaps %s", sp.code, c.sessions[i].Date, c.sessions[i-1].Date)
		}
	}

	// The covered instants run from local midnight of the first date (or
	// the first session's open, if it starts the evening before) to the
	// earliest instant a session labelled after the last date could open.
	c.start = sp.first.At(loc, min(0, sp.hoursOn(sp.first).open)).UTC()
	after := sp.last.AddDays(1)
	c.end = after.At(loc, min(0, sp.hoursOn(after).open)).UTC()
	return c, nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
