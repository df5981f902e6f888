package market

import (
	"errors"
	"fmt"
	"sort"
	"time"
)

// Code identifies a market: its ISO 10383 MIC, or CMES (CME Globex equity
// index futures) and ALWAYS (open around the clock, for crypto).
type Code string

// The markets Heartbeat knows.
const (
	XNYS   Code = "XNYS"
	XTSE   Code = "XTSE"
	XMEX   Code = "XMEX"
	XLON   Code = "XLON"
	XETR   Code = "XETR"
	XTKS   Code = "XTKS"
	XSHG   Code = "XSHG"
	XHKG   Code = "XHKG"
	XBOM   Code = "XBOM"
	XASX   Code = "XASX"
	CMES   Code = "CMES"
	ALWAYS Code = "ALWAYS"
)

// ErrOutOfCoverage is wrapped by every error about an instant or date the
// calendar cannot answer for, because its rules or tables do not reach it.
var ErrOutOfCoverage = errors.New("outside the calendar's coverage")

// ErrUnknownMarket is returned for a market code Heartbeat has no calendar
// for.
var ErrUnknownMarket = errors.New("unknown market")

// CoverageError says which calendar could not answer and what it covers.
type CoverageError struct {
	Market      Code
	What        string // the instant or date asked about, or what was searched for
	First, Last Date
}

// Error says which calendar could not answer, for what, and what it covers.
func (e *CoverageError) Error() string {
	return fmt.Sprintf("%s calendar covers %s through %s; %s is outside it", e.Market, e.First, e.Last, e.What)
}

// Unwrap makes errors.Is(err, ErrOutOfCoverage) true.
func (e *CoverageError) Unwrap() error { return ErrOutOfCoverage }

// Phase is the state of a market at an instant.
type Phase int

// The phases of a market.
const (
	Closed Phase = iota
	Open
	Break
)

// String returns "closed", "open" or "break".
func (p Phase) String() string {
	switch p {
	case Open:
		return "open"
	case Break:
		return "break"
	}
	return "closed"
}

// Session is one trading session. Instants are in UTC. The market is open at
// t when Open <= t < BreakStart or BreakEnd <= t < Close; a session without
// a lunch break has zero BreakStart and BreakEnd.
type Session struct {
	Market     Code
	Date       Date // the session's label
	Open       time.Time
	Close      time.Time
	BreakStart time.Time
	BreakEnd   time.Time
}

// HasBreak reports whether the session has a lunch break.
func (s Session) HasBreak() bool { return !s.BreakStart.IsZero() }

// PhaseAt returns the phase of the session at t: Closed outside
// [Open, Close), Break inside the lunch break, Open otherwise.
func (s Session) PhaseAt(t time.Time) Phase {
	switch {
	case t.Before(s.Open) || !t.Before(s.Close):
		return Closed
	case s.HasBreak() && !t.Before(s.BreakStart) && t.Before(s.BreakEnd):
		return Break
	}
	return Open
}

// Contains reports whether the market is open at t during this session.
func (s Session) Contains(t time.Time) bool { return s.PhaseAt(t) == Open }

// Calendar answers questions about one market's sessions. It is immutable
// and safe for concurrent use; every method is a pure function of its
// arguments.
type Calendar struct {
	code     Code
	name     string
	loc      *time.Location
	first    Date
	last     Date
	start    time.Time // first instant covered
	end      time.Time // first instant not covered
	sessions []Session // sorted by Open; Close of one <= Open of the next
	holidays map[Date]string
}

// Code returns the market's code.
func (c *Calendar) Code() Code { return c.code }

// Name returns the market's display name.
func (c *Calendar) Name() string { return c.name }

// Location returns the market's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// Coverage returns the first and last session dates the calendar knows.
func (c *Calendar) Coverage() (first, last Date) { return c.first, c.last }

func (c *Calendar) outside(what string) error {
	return &CoverageError{Market: c.code, What: what, First: c.first, Last: c.last}
}

func (c *Calendar) check(t time.Time) error {
	if t.Before(c.start) || !t.Before(c.end) {
		return c.outside(t.UTC().Format(time.RFC3339))
	}
	return nil
}

// firstClosingAfter returns the index of the first session whose Close is
// after t: the session containing t, or else the next one.
func (c *Calendar) firstClosingAfter(t time.Time) int {
	return sort.Search(len(c.sessions), func(i int) bool { return c.sessions[i].Close.After(t) })
}

// Phase returns the market's phase at t.
func (c *Calendar) Phase(t time.Time) (Phase, error) {
	if err := c.check(t); err != nil {
		return Closed, err
	}
	i := c.firstClosingAfter(t)
	if i == len(c.sessions) {
		return Closed, nil
	}
	return c.sessions[i].PhaseAt(t), nil
}

// IsOpen reports whether the market is open (in session and not in a
// break) at t.
func (c *Calendar) IsOpen(t time.Time) (bool, error) {
	p, err := c.Phase(t)
	return p == Open, err
}

// SessionAt returns the session containing t (including its break), or the
// first session after t when the market is closed.
func (c *Calendar) SessionAt(t time.Time) (Session, error) {
	if err := c.check(t); err != nil {
		return Session{}, err
	}
	i := c.firstClosingAfter(t)
	if i == len(c.sessions) {
		return Session{}, c.outside("the session after " + t.UTC().Format(time.RFC3339))
	}
	return c.sessions[i], nil
}

// NextOpen returns the first session open strictly after t.
func (c *Calendar) NextOpen(t time.Time) (time.Time, error) {
	if err := c.check(t); err != nil {
		return time.Time{}, err
	}
	i := sort.Search(len(c.sessions), func(i int) bool { return c.sessions[i].Open.After(t) })
	if i == len(c.sessions) {
		return time.Time{}, c.outside("the next open after " + t.UTC().Format(time.RFC3339))
	}
	return c.sessions[i].Open, nil
}

// NextClose returns the first session close strictly after t.
func (c *Calendar) NextClose(t time.Time) (time.Time, error) {
	if err := c.check(t); err != nil {
		return time.Time{}, err
	}
	i := c.firstClosingAfter(t)
	if i == len(c.sessions) {
		return time.Time{}, c.outside("the next close after " + t.UTC().Format(time.RFC3339))
	}
	return c.sessions[i].Close, nil
}

// PreviousSession returns the last session that closed at or before t.
func (c *Calendar) PreviousSession(t time.Time) (Session, error) {
	if err := c.check(t); err != nil {
		return Session{}, err
	}
	i := c.firstClosingAfter(t) - 1
	if i < 0 {
		return Session{}, c.outside("the session before " + t.UTC().Format(time.RFC3339))
	}
	return c.sessions[i], nil
}

// PreviousClose returns the last session close at or before t.
func (c *Calendar) PreviousClose(t time.Time) (time.Time, error) {
	s, err := c.PreviousSession(t)
	return s.Close, err
}

// NextChange returns the first instant after t at which the market's phase
// changes, and the phase it changes to. ok is false when the phase does not
// change in the two weeks after t (a market that is always open).
func (c *Calendar) NextChange(t time.Time) (at time.Time, to Phase, ok bool, err error) {
	now, err := c.Phase(t)
	if err != nil {
		return time.Time{}, Closed, false, err
	}
	horizon := t.AddDate(0, 0, 14)
	for i := c.firstClosingAfter(t); i < len(c.sessions); i++ {
		s := c.sessions[i]
		if s.Open.After(horizon) {
			return time.Time{}, Closed, false, nil
		}
		for _, e := range []time.Time{s.Open, s.BreakStart, s.BreakEnd, s.Close} {
			if e.IsZero() || !e.After(t) {
				continue
			}
			p, err := c.Phase(e)
			if err != nil {
				return time.Time{}, Closed, false, err
			}
			if p != now {
				return e, p, true, nil
			}
		}
	}
	return time.Time{}, Closed, false, c.outside("the next change after " + t.UTC().Format(time.RFC3339))
}

// Session returns the session labelled d; ok is false when d is not a
// trading day.
func (c *Calendar) Session(d Date) (s Session, ok bool, err error) {
	if d.Before(c.first) || d.After(c.last) {
		return Session{}, false, c.outside(d.String())
	}
	i := sort.Search(len(c.sessions), func(i int) bool { return !c.sessions[i].Date.Before(d) })
	if i < len(c.sessions) && c.sessions[i].Date == d {
		return c.sessions[i], true, nil
	}
	return Session{}, false, nil
}

// Sessions returns the sessions labelled from..to inclusive, in order.
func (c *Calendar) Sessions(from, to Date) ([]Session, error) {
	if from.Before(c.first) {
		return nil, c.outside(from.String())
	}
	if to.After(c.last) {
		return nil, c.outside(to.String())
	}
	i := sort.Search(len(c.sessions), func(i int) bool { return !c.sessions[i].Date.Before(from) })
	j := sort.Search(len(c.sessions), func(i int) bool { return c.sessions[i].Date.After(to) })
	if i >= j {
		return nil, nil
	}
	return append([]Session(nil), c.sessions[i:j]...), nil
}

// Holiday returns the name of the holiday or closure that makes weekday d
// a non-trading day, if any.
func (c *Calendar) Holiday(d Date) (name string, ok bool) {
	name, ok = c.holidays[d]
	return name, ok
}
