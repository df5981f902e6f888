package schedule

import (
	"time"
)

// cronDeadlineCap bounds a cron slot's start deadline: a task of an
// hourly or daily slot that could not start within an hour is stale.
const cronDeadlineCap = time.Hour

// cronPlan fires at a cron expression's instants; its gate decides each
// one (no slow cadence: the expression is the cadence).
type cronPlan struct {
	cron     *Cron
	gate     gate
	activity activity
	parts    slotParts
}

// Next returns the first cron instant after prev and its decision. An
// expression that matches nothing within ten years (New refuses those it
// can tell) yields a Decision with Enqueue false a year after prev.
func (p *cronPlan) Next(prev time.Time) Decision {
	slot, err := p.cron.Next(prev)
	if err != nil {
		far := horizon(prev)
		return Decision{Slot: far, Deadline: far, Why: "skip: " + err.Error()}
	}
	active := p.activity.active(slot, 0)
	d := Decision{Slot: slot, Active: active, Enqueue: p.gate.enqueue(slot, active), Deadline: slot.Add(cronDeadlineCap)}
	if next, err := p.cron.Next(slot); err == nil && next.Before(d.Deadline) {
		d.Deadline = next
	}
	if d.Enqueue {
		d.Parts = p.parts.of(slot)
	}
	d.Why = explain(p.gate, p.activity, d, 0, "") + " (" + slot.In(p.cron.Location()).Format("Mon 15:04:05 MST") + ")"
	return d
}

// TaskKey returns PART:UNIXMILLI.
func (p *cronPlan) TaskKey(part Part, slot time.Time) string { return slotKey(part, slot) }

// Tasks returns the number of parts of the slot.
func (p *cronPlan) Tasks(d Decision) int { return p.parts.count(d) }

// String returns `cron "0 30 9 * * 1-5" in America/New_York, gate open`.
func (p *cronPlan) String() string {
	return `cron "` + p.cron.String() + `" in ` + p.cron.Location().String() + ", gate " + p.gate.String()
}
