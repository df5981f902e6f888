package schedule

import (
	"fmt"
	"strings"
	"time"

	"heartbeat/internal/market"
)

// atDeadline is how long after its slot an at task may still start.
const atDeadline = time.Minute

// atPlan fires once per session of a market, at an event of the session
// plus an offset, from the session as the calendar has it now: an early
// close or a late open moves the slot, a holiday or a runtime closure
// removes it, an extra session adds one.
type atPlan struct {
	anchor Anchor
	cal    *market.Calendar
	env    Env
}

// Next returns the first anchored slot after prev.
func (p *atPlan) Next(prev time.Time) Decision {
	limit := horizon(prev)
	s, slot, ok, err := nextSessionSlot(p.cal, prev, limit, p.anchor.Offset, p.anchor.Offset,
		func(s market.Session) (time.Time, bool) { return p.anchor.in(p.cal, s) })
	if !ok {
		return noSlot(p.env, limit, fmt.Sprintf("no %s session with a %s", p.cal.Code(), p.anchor.Event), err)
	}
	event := slot.Add(-p.anchor.Offset).In(p.cal.Location())
	return Decision{
		Slot:     slot,
		Enqueue:  true,
		Parts:    []Part{sessionPart(p.cal.Code(), s)},
		Deadline: slot.Add(atDeadline),
		Why: fmt.Sprintf("%s session %s: %s %s %s: slot at %s", p.cal.Code(), s.Date, p.anchor.Event,
			event.Format("15:04"), p.cal.Location(), p.anchor.Point),
	}
}

// TaskKey returns MARKET:DATE, the session's part.
func (p *atPlan) TaskKey(part Part, _ time.Time) string { return sessionKey(part) }

// Tasks returns the number of parts of the slot.
func (p *atPlan) Tasks(d Decision) int { return len(d.Parts) }

// String returns "at XNYS.close+2m".
func (p *atPlan) String() string { return "at " + p.anchor.String() }

// windowPlan gives each market of the job one slot per session inside a
// window around a session event: the first multiple of every in the
// window (every zero: the window's start). Markets whose slots fall on
// the same instant share it, one part each.
type windowPlan struct {
	window Window
	every  time.Duration
	env    Env
}

// Next returns the first slot after prev of any market of the job.
func (p *windowPlan) Next(prev time.Time) Decision {
	d := Decision{Slot: horizon(prev)}
	var why []string
	for _, cal := range p.env.Markets {
		s, slot, ok, err := nextSessionSlot(cal, prev, d.Slot, p.window.From.Offset, p.window.To.Offset,
			func(s market.Session) (time.Time, bool) {
				slot, _, ok := p.slotIn(cal, s)
				return slot, ok
			})
		if err != nil {
			p.env.calendarError(err)
		}
		if !ok {
			continue
		}
		_, end, _ := p.slotIn(cal, s)
		if !d.Enqueue || slot.Before(d.Slot) {
			d = Decision{Slot: slot, Enqueue: true, Deadline: end}
			why = why[:0]
		}
		d.Parts = append(d.Parts, sessionPart(cal.Code(), s))
		d.Deadline = minTime(d.Deadline, end)
		event, _ := Point{Event: p.window.From.Event}.in(cal, s)
		why = append(why, fmt.Sprintf("%s session %s: %s %s %s", cal.Code(), s.Date, p.window.From.Event,
			event.In(cal.Location()).Format("15:04"), cal.Location()))
	}
	if !d.Enqueue {
		return noSlot(p.env, d.Slot, "no session of "+codes(p.env.Markets)+" has a slot in window "+p.window.String(), nil)
	}
	d.Why = strings.Join(why, "; ") + ": slot in window " + p.window.String()
	if p.every > 0 {
		d.Why += " on the " + formatDuration(p.every) + " grid"
	}
	return d
}

// slotIn returns the slot of session s of cal and the window's end; false
// when the session has no slot (no such event, a window the wrong way
// round, no multiple of every inside it).
func (p *windowPlan) slotIn(cal *market.Calendar, s market.Session) (slot, end time.Time, ok bool) {
	start, ok1 := p.window.From.in(cal, s)
	end, ok2 := p.window.To.in(cal, s)
	if !ok1 || !ok2 || end.Before(start) {
		return time.Time{}, time.Time{}, false
	}
	slot = start
	if p.every > 0 {
		slot = AlignedAfter(start.Add(-time.Nanosecond), p.every)
	}
	if slot.After(end) {
		return time.Time{}, time.Time{}, false
	}
	return slot, end, true
}

// TaskKey returns MARKET:DATE, the session's part: one run per market and
// session whatever the slots inside the window.
func (p *windowPlan) TaskKey(part Part, _ time.Time) string { return sessionKey(part) }

// Tasks returns the number of parts of the slot.
func (p *windowPlan) Tasks(d Decision) int { return len(d.Parts) }

// String returns "within open-1m..open-1s every 30s".
func (p *windowPlan) String() string {
	s := "within " + p.window.String()
	if p.every > 0 {
		s += " every " + formatDuration(p.every)
	}
	return s
}

// nextSessionSlot returns the first session of cal whose slot is after
// prev and at or before limit, and that slot. slotOf gives a session's
// slot (false: it has none), which is never before the session's open +
// early nor after its close + late. err is a calendar error that ended the
// search (the calendar's coverage ends).
func nextSessionSlot(cal *market.Calendar, prev, limit time.Time, early, late time.Duration,
	slotOf func(market.Session) (time.Time, bool)) (market.Session, time.Time, bool, error) {
	// A session whose close + late is not after prev has no slot after
	// prev: start from the first session closing after prev - late.
	s, err := cal.SessionAt(prev.Add(-late))
	for ; err == nil; s, err = cal.SessionAt(s.Close) {
		if s.Open.Add(early).After(limit) {
			return market.Session{}, time.Time{}, false, nil
		}
		if slot, ok := slotOf(s); ok && slot.After(prev) && !slot.After(limit) {
			return s, slot, true, nil
		}
	}
	return market.Session{}, time.Time{}, false, err
}

// noSlot is the far decision of a session plan that found no slot up to
// limit: Enqueue false, to be asked again then (or when the calendars
// change). A calendar error is reported.
func noSlot(env Env, limit time.Time, what string, err error) Decision {
	why := "skip: " + what + " until " + limit.UTC().Format(time.RFC3339)
	if err != nil {
		env.calendarError(err)
		why += ": " + err.Error()
	}
	return Decision{Slot: limit, Deadline: limit, Why: why}
}

func codes(set market.Set) string {
	out := make([]string, len(set))
	for i, cal := range set {
		out[i] = string(cal.Code())
	}
	return strings.Join(out, " ")
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
