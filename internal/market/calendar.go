package market

import (
	"errors"
	"fmt"
	"sort"
	"sync/atomic"
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
	// Halted is a halt an operator entered inside a session (a technical
	// fault, a news pending halt): the market is not open, but the session
	// goes on and keeps its label.
	Halted
)

// String returns "closed", "open", "break" or "halted".
func (p Phase) String() string {
	switch p {
	case Open:
		return "open"
	case Break:
		return "break"
	case Halted:
		return "halted"
	}
	return "closed"
}

// Session is one trading session. Instants are in UTC. The market is open at
// t when Open <= t < BreakStart or BreakEnd <= t < Close, and t is in none
// of the session's halts; a session without a lunch break has zero
// BreakStart and BreakEnd.
type Session struct {
	Market     Code
	Date       Date // the session's label
	Open       time.Time
	Close      time.Time
	BreakStart time.Time
	BreakEnd   time.Time
	// Halts are the operator-entered halts of the session, sorted, each
	// inside [Open, Close).
	Halts []Halt
	// Assumed marks a session past the calendar's coverage that exists
	// only because calendars.on_coverage_end is "weekdays": regular hours
	// on a weekday, holidays unknown.
	Assumed bool
}

// Halt is a span of a session during which the market is halted.
type Halt struct {
	From, To time.Time // [From, To), UTC
	Name     string
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
	for _, h := range s.Halts {
		if !t.Before(h.From) && t.Before(h.To) {
			return Halted
		}
	}
	return Open
}

// edges returns the instants at which the session's phase may change, in
// order: open, break start and end, each halt's start and end, close.
func (s Session) edges() []time.Time {
	out := make([]time.Time, 0, 4+2*len(s.Halts))
	out = append(out, s.Open)
	if s.HasBreak() {
		out = append(out, s.BreakStart, s.BreakEnd)
	}
	for _, h := range s.Halts {
		out = append(out, h.From, h.To)
	}
	out = append(out, s.Close)
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}

// Contains reports whether the market is open at t during this session.
func (s Session) Contains(t time.Time) bool { return s.PhaseAt(t) == Open }

// Calendar answers questions about one market's sessions. It is safe for
// concurrent use, and every method is a pure function of its arguments and
// of the calendar's current sessions.
//
// A calendar of a Book is a handle: when the book's runtime overrides
// change, the book swaps the sessions behind it at once, so everything
// holding the *Calendar (instruments, job plans, the feed) sees the
// effective calendar without being told. Each method reads one consistent
// version. Calendars from Lookup never change.
type Calendar struct {
	code Code
	cur  atomic.Pointer[calData]
}

// calData is one version of a calendar's sessions. It is immutable.
type calData struct {
	code     Code
	name     string
	loc      *time.Location
	first    Date
	last     Date      // last date answered for, assumed sessions included
	covered  Date      // last date the rules, tables and overrides vouch for
	start    time.Time // first instant covered
	end      time.Time // first instant not covered
	sessions []Session // sorted by Open; Close of one <= Open of the next
	holidays map[Date]string
	// overrides are the entries applied to the built-in sessions, in
	// precedence order; rejected are runtime entries that could not be
	// applied, with why.
	overrides []Override
	rejected  []Rejected
	assume    bool // sessions after covered are assumed weekdays
}

func newCalendar(d *calData) *Calendar {
	c := &Calendar{code: d.code}
	c.cur.Store(d)
	return c
}

func (c *Calendar) data() *calData { return c.cur.Load() }

// Code returns the market's code.
func (c *Calendar) Code() Code { return c.code }

// Name returns the market's display name.
func (c *Calendar) Name() string { return c.data().name }

// Location returns the market's time zone.
func (c *Calendar) Location() *time.Location { return c.data().loc }

// Coverage returns the first and last session dates the calendar vouches
// for: built-in rules and tables, extended by an overrides file's
// covered_through. Sessions assumed past it (calendars.on_coverage_end:
// weekdays) are not included.
func (c *Calendar) Coverage() (first, last Date) {
	d := c.data()
	return d.first, d.covered
}

// Assumes reports whether the calendar answers past its coverage with
// assumed weekday sessions.
func (c *Calendar) Assumes() bool { return c.data().assume }

// Overrides returns the override entries in force, in precedence order
// (file entries, then runtime entries).
func (c *Calendar) Overrides() []Override { return append([]Override(nil), c.data().overrides...) }

// Rejected returns the runtime entries that could not be applied (a close
// on a date the file has since made a holiday, ...), with the reason.
func (c *Calendar) Rejected() []Rejected { return append([]Rejected(nil), c.data().rejected...) }

func (c *calData) outside(what string) error {
	return &CoverageError{Market: c.code, What: what, First: c.first, Last: c.last}
}

func (c *calData) check(t time.Time) error {
	if t.Before(c.start) || !t.Before(c.end) {
		return c.outside(t.UTC().Format(time.RFC3339))
	}
	return nil
}

// firstClosingAfter returns the index of the first session whose Close is
// after t: the session containing t, or else the next one.
func (c *calData) firstClosingAfter(t time.Time) int {
	return sort.Search(len(c.sessions), func(i int) bool { return c.sessions[i].Close.After(t) })
}

// Phase returns the market's phase at t.
func (c *calData) Phase(t time.Time) (Phase, error) {
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
func (c *calData) IsOpen(t time.Time) (bool, error) {
	p, err := c.Phase(t)
	return p == Open, err
}

// SessionAt returns the session containing t (including its break), or the
// first session after t when the market is closed.
func (c *calData) SessionAt(t time.Time) (Session, error) {
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
func (c *calData) NextOpen(t time.Time) (time.Time, error) {
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
func (c *calData) NextClose(t time.Time) (time.Time, error) {
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
func (c *calData) PreviousSession(t time.Time) (Session, error) {
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
func (c *calData) PreviousClose(t time.Time) (time.Time, error) {
	s, err := c.PreviousSession(t)
	return s.Close, err
}

// NextChange returns the first instant after t at which the market's phase
// changes, and the phase it changes to. ok is false when the phase does not
// change in the two weeks after t (a market that is always open).
func (c *calData) NextChange(t time.Time) (at time.Time, to Phase, ok bool, err error) {
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
		for _, e := range s.edges() {
			if !e.After(t) {
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
func (c *calData) Session(d Date) (s Session, ok bool, err error) {
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
func (c *calData) Sessions(from, to Date) ([]Session, error) {
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
func (c *calData) Holiday(d Date) (name string, ok bool) {
	name, ok = c.holidays[d]
	return name, ok
}

// Phase returns the market's phase at t.
func (c *Calendar) Phase(t time.Time) (Phase, error) { return c.data().Phase(t) }

// IsOpen reports whether the market is open (in session, not in a break
// and not halted) at t.
func (c *Calendar) IsOpen(t time.Time) (bool, error) { return c.data().IsOpen(t) }

// SessionAt returns the session containing t (including its break), or the
// first session after t when the market is closed.
func (c *Calendar) SessionAt(t time.Time) (Session, error) { return c.data().SessionAt(t) }

// NextOpen returns the first session open strictly after t.
func (c *Calendar) NextOpen(t time.Time) (time.Time, error) { return c.data().NextOpen(t) }

// NextClose returns the first session close strictly after t.
func (c *Calendar) NextClose(t time.Time) (time.Time, error) { return c.data().NextClose(t) }

// PreviousSession returns the last session that closed at or before t.
func (c *Calendar) PreviousSession(t time.Time) (Session, error) { return c.data().PreviousSession(t) }

// PreviousClose returns the last session close at or before t.
func (c *Calendar) PreviousClose(t time.Time) (time.Time, error) { return c.data().PreviousClose(t) }

// NextChange returns the first instant after t at which the market's phase
// changes, and the phase it changes to. ok is false when the phase does not
// change in the two weeks after t (a market that is always open).
func (c *Calendar) NextChange(t time.Time) (at time.Time, to Phase, ok bool, err error) {
	return c.data().NextChange(t)
}

// Session returns the session labelled d; ok is false when d is not a
// trading day.
func (c *Calendar) Session(d Date) (s Session, ok bool, err error) { return c.data().Session(d) }

// Sessions returns the sessions labelled from..to inclusive, in order.
func (c *Calendar) Sessions(from, to Date) ([]Session, error) { return c.data().Sessions(from, to) }

// Holiday returns the name of the holiday or closure that makes weekday d
// a non-trading day, if any.
func (c *Calendar) Holiday(d Date) (name string, ok bool) { return c.data().Holiday(d) }
