package scheduler

import (
	"context"
	"errors"
	"fmt"

	calrt "heartbeat/internal/calendars"
	"heartbeat/internal/market"
)

// ErrNoCalendars is returned by the calendar actions on Controls built
// without runtime calendar entries.
var ErrNoCalendars = errors.New("controls: no runtime calendar entries configured")

// CalendarAdd enters a runtime calendar entry (a closure, early close,
// late open, halt or extra session) after checking it against the
// effective calendar, and audits it. Every scheduler replica and worker
// applies it within a fast tick; it lasts until removed. A refused entry
// is audited too, with why.
func (c *Controls) CalendarAdd(ctx context.Context, o market.Override, note, actor string) (AuditEntry, error) {
	if c.d.Calendars == nil {
		return AuditEntry{}, ErrNoCalendars
	}
	stored, err := c.d.Calendars.Add(ctx, o, actor, c.d.Clock.Now())
	e := AuditEntry{Action: ActionCalendarAdd, Actor: actor, Note: note, Market: string(o.Market), Entry: calrt.ID(o)}
	if err != nil {
		e.Result = "refused: " + err.Error()
		if _, aerr := c.audit(ctx, e); aerr != nil {
			return e, errors.Join(err, aerr)
		}
		return e, err
	}
	e.Result = "entered " + Describe(stored)
	return c.audit(ctx, e)
}

// CalendarRemove removes the runtime calendar entry id, and audits it.
func (c *Controls) CalendarRemove(ctx context.Context, id, note, actor string) (AuditEntry, error) {
	if c.d.Calendars == nil {
		return AuditEntry{}, ErrNoCalendars
	}
	o, err := c.d.Calendars.Remove(ctx, id)
	if err != nil {
		return AuditEntry{}, fmt.Errorf("remove %s: %w", id, err)
	}
	return c.audit(ctx, AuditEntry{Action: ActionCalendarRemove, Actor: actor, Note: note, Market: string(o.Market), Entry: id,
		Result: "removed " + Describe(o)})
}

// CalendarEntries returns the runtime calendar entries stored.
func (c *Controls) CalendarEntries(ctx context.Context) ([]market.Override, error) {
	if c.d.Calendars == nil {
		return nil, ErrNoCalendars
	}
	list, _, err := c.d.Calendars.Entries(ctx)
	return list, err
}

// Describe writes an override for an operator: "XNYS 2027-01-11 holiday
// (hurricane)", "XNYS 2027-03-11 halt 10:00-11:30".
func Describe(o market.Override) string {
	s := fmt.Sprintf("%s %s %s", o.Market, o.Date, o.Kind)
	switch o.Kind {
	case market.KindEarlyClose:
		s += " at " + o.Close.String()
	case market.KindLateOpen:
		s += " at " + o.Open.String()
	case market.KindHalt:
		s += " " + o.From.String() + "-" + o.To.String()
	case market.KindExtraSession:
		s += " " + o.Open.String() + "-" + o.Close.String()
		if o.BreakStart != 0 || o.BreakEnd != 0 {
			s += " break " + o.BreakStart.String() + "-" + o.BreakEnd.String()
		}
	}
	if o.Name != "" {
		s += " (" + o.Name + ")"
	}
	return s
}
