package schedule

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrNothingToTrigger is a Trigger's error when the schedule has no slot
// to run at that instant: no market of a window schedule is inside its
// window, no session of an at schedule has had its slot in the last week.
var ErrNothingToTrigger = errors.New("nothing to trigger")

// TriggerSlot returns the slot of a grid of step that a trigger at now
// runs: the slot in progress (the latest multiple of step at or before
// now) while at least half of its step is left, so a worker starts it well
// before it expires at slot + step; otherwise the next slot, which begins
// within half a step.
func TriggerSlot(now time.Time, step time.Duration) time.Time {
	next := AlignedAfter(now, step)
	if next.Sub(now) >= step/2 {
		return next.Add(-step)
	}
	return next
}

// Trigger returns the slot of the interval grid a trigger at now runs,
// with every part of the job: the gate is not asked.
func (p *intervalPlan) Trigger(now time.Time) (Decision, error) {
	slot := TriggerSlot(now, p.every)
	return Decision{Slot: slot, Enqueue: true, Parts: p.parts.of(slot), Deadline: slot.Add(p.every),
		Why: "trigger: slot of the " + formatDuration(p.every) + " grid"}, nil
}

// Trigger returns a slot on the whole second (as TriggerSlot with a 1 s
// step) with every part of the job; it may start until the next cron
// instant, at most an hour later.
func (p *cronPlan) Trigger(now time.Time) (Decision, error) {
	slot := TriggerSlot(now, time.Second)
	d := Decision{Slot: slot, Enqueue: true, Parts: p.parts.of(slot), Deadline: slot.Add(cronDeadlineCap),
		Why: "trigger: outside the cron instants"}
	if next, err := p.cron.Next(slot); err == nil && next.Before(d.Deadline) {
		d.Deadline = next
	}
	return d, nil
}

// Trigger returns the slot of the latest session whose anchored slot is
// at or before now, within a week: its task key is the session's, so a
// session that already ran within the task retention is not run again.
// It may start until a minute after now.
func (p *atPlan) Trigger(now time.Time) (Decision, error) {
	var last Decision
	for d := p.Next(now.AddDate(0, 0, -7)); d.Enqueue && !d.Slot.After(now); d = p.Next(d.Slot) {
		last = d
	}
	if !last.Enqueue {
		return Decision{}, fmt.Errorf("%w: no %s session had its slot (%s) in the week before %s",
			ErrNothingToTrigger, p.cal.Code(), p.anchor, now.UTC().Format(time.RFC3339))
	}
	last.Deadline = now.Add(atDeadline)
	last.Why = "trigger: " + last.Why
	return last, nil
}

// Trigger returns a slot on the window's grid (as TriggerSlot with step
// every, or 1 s) with one part per market whose window holds the slot, or
// ErrNothingToTrigger naming the next slot.
func (p *windowPlan) Trigger(now time.Time) (Decision, error) {
	step := p.every
	if step <= 0 {
		step = time.Second
	}
	slot := TriggerSlot(now, step)
	d := Decision{Slot: slot, Enqueue: true, Deadline: horizon(slot)}
	var why []string
	span := max(p.window.From.Offset.Abs(), p.window.To.Offset.Abs())
	for _, cal := range p.env.Markets {
		s, err := cal.SessionAt(slot.Add(-span))
		for n := 0; err == nil && n < 3 && !s.Open.Add(-span).After(slot); n++ {
			start, ok1 := p.window.From.in(cal, s)
			end, ok2 := p.window.To.in(cal, s)
			if ok1 && ok2 && !slot.Before(start) && !slot.After(end) {
				d.Parts = append(d.Parts, sessionPart(cal.Code(), s))
				d.Deadline = minTime(d.Deadline, end)
				why = append(why, fmt.Sprintf("%s session %s", cal.Code(), s.Date))
				break
			}
			s, err = cal.SessionAt(s.Close)
		}
		if err != nil {
			p.env.calendarError(err)
		}
	}
	if len(d.Parts) == 0 {
		next := p.Next(slot)
		return Decision{}, fmt.Errorf("%w: no market of the job (%s) is inside window %s at %s; the next slot is %s",
			ErrNothingToTrigger, codes(p.env.Markets), p.window, slot.UTC().Format(time.RFC3339), next.Slot.UTC().Format(time.RFC3339))
	}
	d.Why = "trigger: " + strings.Join(why, "; ") + " in window " + p.window.String()
	return d, nil
}
