package schedule

import (
	"time"
)

// AlignedAfter returns the first multiple of interval since the Unix epoch
// strictly after t, in UTC. A negative interval has the same multiples as
// its absolute value; interval must not be zero.
func AlignedAfter(t time.Time, interval time.Duration) time.Time {
	n := t.UnixNano()
	i := interval.Nanoseconds()
	if i < 0 {
		i = -i
	}
	next := (n/i + 1) * i
	if n < 0 && n%i != 0 {
		next -= i
	}
	return time.Unix(0, next).UTC()
}

// intervalPlan fires at the multiples of a fixed interval since the Unix
// epoch. While every market of the job is inactive (closed at the slot,
// at the slot an interval before and within the close grace), the open and
// always gates keep only the first slot of each slow-tick window, so the
// cadence becomes max(interval, slow tick), still aligned.
type intervalPlan struct {
	every    time.Duration
	slow     time.Duration
	gate     gate
	activity activity
	parts    slotParts
}

// Next returns the first slot after prev and its decision.
func (p *intervalPlan) Next(prev time.Time) Decision {
	iv := p.every
	slow := max(iv, p.slow).Nanoseconds()
	for c := AlignedAfter(prev, iv); ; c = c.Add(iv) {
		active := p.activity.active(c, iv)
		if p.gate.followsMarkets() && !active {
			newSlowWindow := c.UnixNano()/slow != prev.UnixNano()/slow || prev.IsZero()
			if !newSlowWindow {
				continue
			}
		}
		d := Decision{Slot: c, Active: active, Enqueue: p.gate.enqueue(c, active), Deadline: c.Add(iv)}
		if d.Enqueue {
			d.Parts = p.parts.of(c)
		}
		d.Why = explain(p.gate, p.activity, d, iv, ", slow cadence")
		return d
	}
}

// TaskKey returns PART:UNIXMILLI.
func (p *intervalPlan) TaskKey(part Part, slot time.Time) string { return slotKey(part, slot) }

// Tasks returns the number of parts of the slot.
func (p *intervalPlan) Tasks(d Decision) int { return p.parts.count(d) }

// String returns "every 1s, gate open".
func (p *intervalPlan) String() string {
	return "every " + formatDuration(p.every) + ", gate " + p.gate.String()
}
