package web

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"heartbeat/internal/market"
)

// The markets board shows the effective calendars: the process's book (the
// built-in rules, the markets defined in config, the overrides file and the
// runtime entries), never the built-in calendars alone.

// overridesAhead is how many days after today the board lists the
// overrides of (today's session included).
const overridesAhead = 7

// coverageWarnDays: a market whose coverage ends within this many days
// (the first day not covered is at most this many days after today, in the
// market's zone) gets a warning on the page and in the API.
const coverageWarnDays = 30

// OverrideView is an override entry in force, as the API and the page show
// it. Times are the market's wall clock (zone) on the entry's date, HH:MM.
type OverrideView struct {
	Market     string     `json:"market"`
	Kind       string     `json:"kind"` // holiday, early_close, late_open, halt, extra_session
	Date       string     `json:"date"` // the session's label
	Name       string     `json:"name,omitempty"`
	Zone       string     `json:"zone"`
	Open       string     `json:"open,omitempty"`  // late_open, extra_session
	Close      string     `json:"close,omitempty"` // early_close, extra_session
	BreakStart string     `json:"break_start,omitempty"`
	BreakEnd   string     `json:"break_end,omitempty"`
	From       string     `json:"from,omitempty"` // halt
	To         string     `json:"to,omitempty"`   // halt
	Summary    string     `json:"summary"`        // "early close 13:00 EST"
	Source     SourceView `json:"source"`
}

// SourceView says where an override comes from: the overrides file (ref
// is path:line, entry the list and index) or a runtime entry (ref is its
// ID, actor who entered it and at when).
type SourceView struct {
	Origin string    `json:"origin"` // file or runtime
	Ref    string    `json:"ref,omitempty"`
	Entry  string    `json:"entry,omitempty"`
	Actor  string    `json:"actor,omitempty"`
	At     time.Time `json:"at,omitzero"`
}

// String says where the entry comes from, for the page:
// "file overrides.yaml:7 (halts[0])" or "runtime, by cli:ann@ops at
// 2026-12-02 14:03:00Z (calendar:XNYS:...)".
func (s SourceView) String() string {
	if s.Origin == market.OriginFile {
		if s.Entry == "" {
			return "file " + s.Ref
		}
		return "file " + s.Ref + " (" + s.Entry + ")"
	}
	var b strings.Builder
	b.WriteString(s.Origin)
	if s.Actor != "" {
		b.WriteString(", by " + s.Actor)
	}
	if !s.At.IsZero() {
		b.WriteString(" at " + s.At.UTC().Format("2006-01-02 15:04:05Z"))
	}
	if s.Ref != "" {
		b.WriteString(" (" + s.Ref + ")")
	}
	return b.String()
}

// RejectedView is a runtime entry the calendar could not apply, and why.
type RejectedView struct {
	OverrideView
	Reason string `json:"reason"`
}

// HaltView is a halt of a session, in UTC.
type HaltView struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	Name string    `json:"name,omitempty"`
}

func sourceView(s market.Source) SourceView {
	v := SourceView{Origin: s.Origin, Ref: s.Ref, Actor: s.Actor, At: s.At}
	if s.Origin == market.OriginFile {
		v.Ref, v.Entry, _ = strings.Cut(s.Ref, "#")
	}
	if !v.At.IsZero() {
		v.At = v.At.UTC()
	}
	return v
}

func overrideView(o market.Override, loc *time.Location) OverrideView {
	v := OverrideView{Market: string(o.Market), Kind: string(o.Kind), Date: o.Date.String(), Name: o.Name, Zone: loc.String(),
		Source: sourceView(o.Source)}
	local := func(t market.TimeOfDay) string {
		return t.String() + " " + o.Date.At(loc, int(t)).Format("MST")
	}
	switch o.Kind {
	case market.KindHoliday:
		v.Summary = "closed"
	case market.KindEarlyClose:
		v.Close = o.Close.String()
		v.Summary = "early close " + local(o.Close)
	case market.KindLateOpen:
		v.Open = o.Open.String()
		v.Summary = "late open " + local(o.Open)
	case market.KindHalt:
		v.From, v.To = o.From.String(), o.To.String()
		v.Summary = "halt " + o.From.String() + "-" + local(o.To)
	case market.KindExtraSession:
		v.Open, v.Close = o.Open.String(), o.Close.String()
		v.Summary = "extra session " + o.Open.String() + "-" + local(o.Close)
		if o.BreakStart != 0 || o.BreakEnd != 0 {
			v.BreakStart, v.BreakEnd = o.BreakStart.String(), o.BreakEnd.String()
			v.Summary += ", break " + o.BreakStart.String() + "-" + o.BreakEnd.String()
		}
	}
	return v
}

// overrideViews returns the views of the entries of c dated from..to
// (inclusive); both zero: all of them.
func overrideViews(c *market.Calendar, from, to market.Date) []OverrideView {
	out := []OverrideView{}
	for _, o := range c.Overrides() {
		if !from.IsZero() && (o.Date.Before(from) || o.Date.After(to)) {
			continue
		}
		out = append(out, overrideView(o, c.Location()))
	}
	return out
}

func rejectedViews(c *market.Calendar) []RejectedView {
	var out []RejectedView
	for _, r := range c.Rejected() {
		out = append(out, RejectedView{OverrideView: overrideView(r.Override, c.Location()), Reason: r.Reason})
	}
	return out
}

// daysBetween returns how many calendar days b is after a (negative when
// before). Both are taken at midnight UTC, where every day is 24 hours.
func daysBetween(a, b market.Date) int {
	return int(b.UTCMidnight().Sub(a.UTCMidnight()) / (24 * time.Hour))
}

// inDays says when a day is, from today: "today", "in 1 day", "in 29
// days", "yesterday", "3 days ago".
func inDays(days int) string {
	switch {
	case days == 0:
		return "today"
	case days == 1:
		return "in 1 day"
	case days > 1:
		return fmt.Sprintf("in %d days", days)
	case days == -1:
		return "yesterday"
	}
	return fmt.Sprintf("%d days ago", -days)
}

// coverageWarning returns the warning about c's coverage at now: its end
// is less than coverageWarnDays away, or already past (the market is then
// closed, or answered with assumed weekdays). Empty when there is none.
func coverageWarning(c *market.Calendar, now time.Time) string {
	_, last := c.Coverage()
	days := daysBetween(market.DateOf(now.In(c.Location())), last)
	const fix = "add the exchange's announced holidays with covered_through in calendars.overrides"
	switch {
	case days >= coverageWarnDays:
		return ""
	case days >= 0 && c.Assumes():
		return fmt.Sprintf("%s calendar coverage ends %s (%s): sessions after it will be assumed weekdays at regular hours; %s",
			c.Code(), last, inDays(days), fix)
	case days >= 0:
		return fmt.Sprintf("%s calendar coverage ends %s (%s): %s, or set calendars.on_coverage_end: weekdays", c.Code(), last, inDays(days), fix)
	case c.Assumes():
		return fmt.Sprintf("%s calendar coverage ended %s (%s): its sessions since are assumed weekdays at regular hours, holidays unknown; %s",
			c.Code(), last, inDays(days), fix)
	}
	return fmt.Sprintf("%s calendar coverage ended %s (%s): the market is treated as closed since; %s, or set calendars.on_coverage_end: weekdays",
		c.Code(), last, inDays(days), fix)
}

// marketBoard returns every market of book at now, and the coverage
// warnings (one per market that has one, in the book's order).
func marketBoard(book *market.Book, now time.Time) (board []MarketView, warnings []string) {
	cals := book.All()
	board, warnings = make([]MarketView, 0, len(cals)), []string{}
	for _, c := range cals {
		mv := marketView(c, now)
		if mv.CoverageWarning != "" {
			warnings = append(warnings, mv.CoverageWarning)
		}
		board = append(board, mv)
	}
	return board, warnings
}

// marketView returns one market at now: its phase and session, the
// overrides in force from today's session to overridesAhead days on, the
// runtime entries it rejected, and its coverage.
func marketView(c *market.Calendar, now time.Time) MarketView {
	v := market.Describe(c, now)
	_, last := c.Coverage()
	mv := MarketView{Market: string(c.Code()), Name: c.Name(), Zone: c.Location().String(), LocalTime: v.Local, Phase: v.Phase.String(),
		CoveredThrough: last.String(), OnCoverageEnd: "closed", CoverageWarning: coverageWarning(c, now), Rejected: rejectedViews(c)}
	if c.Assumes() {
		mv.OnCoverageEnd = "weekdays"
	}
	today := market.DateOf(v.Local)
	from := today
	if v.Err == nil && v.Session.Date.Before(from) {
		from = v.Session.Date // a session that began on an earlier date
	}
	mv.Overrides = overrideViews(c, from, today.AddDays(overridesAhead))
	sort.SliceStable(mv.Overrides, func(i, j int) bool { return mv.Overrides[i].Date < mv.Overrides[j].Date })
	if v.Err != nil {
		mv.Error = v.Err.Error()
		return mv
	}
	mv.Session, mv.Open, mv.Close = v.Session.Date.String(), v.Session.Open.UTC(), v.Session.Close.UTC()
	mv.Assumed = v.Session.Assumed
	mv.SessionBar = sessionSVG(v.Session, c.Location(), now)
	for _, h := range v.Session.Halts {
		mv.Halts = append(mv.Halts, HaltView{From: h.From.UTC(), To: h.To.UTC(), Name: h.Name})
	}
	if !v.NextChange.IsZero() {
		at := v.NextChange.UTC()
		mv.NextChange, mv.NextPhase = &at, v.NextPhase.String()
		mv.Countdown = v.Countdown()
	}
	return mv
}
