package scheduler

import (
	"strconv"
	"time"

	"heartbeat/internal/jobs"
	"heartbeat/internal/market"
)

// Part is one task of a slot: a shard, a market's coming session, or the
// whole job.
type Part struct {
	Name    string         // the task payload's part: "3", "XNYS:2026-11-27" or ""
	Market  market.Code    // pre-open parts only
	Session market.Session // pre-open parts only: the coming session
}

// Decision is what the scheduler does at one slot.
type Decision struct {
	Slot    time.Time
	Enqueue bool   // false: the gate is shut (skipped_closed)
	Active  bool   // at least one of the job's markets was open at the slot or during the interval before it
	Parts   []Part // the tasks to enqueue when Enqueue
}

// PreOpenWindow is when a pre-open task runs: its market opens 1 to 60
// seconds after the slot.
var PreOpenWindow = [2]time.Duration{time.Second, time.Minute}

// Plan computes a job's slots and gate decisions. It is a pure function of
// the instants passed in.
type Plan struct {
	Job     jobs.Spec     // effective: config overrides applied
	Markets market.Set    // the markets the job depends on
	Slow    time.Duration // scheduler.slow_tick
	// CloseGrace keeps a job active (fast cadence, gate open) this long
	// after its last market closed, so late ticks and the session's last
	// bars are still processed. Zero: only the interval before the slot.
	CloseGrace time.Duration
	Shards     int
	// OnCalendarError is told about calendar errors (an instant outside a
	// calendar's coverage); the market then counts as closed. May be nil.
	OnCalendarError func(error)
}

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

// Next returns the first slot after prev and its decision. Slots are the
// multiples of the job's interval; while every market the job depends on is
// closed (at the slot, and during the interval and the close grace before
// it) only the first slot in each slow-tick window counts, so the cadence
// becomes max(interval, slow tick), still aligned. Pre-open jobs keep their
// interval: their gate is about markets that are closed.
func (p Plan) Next(prev time.Time) Decision {
	iv := p.Job.Interval
	slow := max(iv, p.Slow)
	for c := AlignedAfter(prev, iv); ; c = c.Add(iv) {
		if p.Job.Gate == jobs.GatePreOpen {
			parts := p.preOpenParts(c)
			return Decision{Slot: c, Enqueue: len(parts) > 0, Parts: parts}
		}
		active := p.active(c, iv)
		newSlowWindow := c.UnixNano()/slow.Nanoseconds() != prev.UnixNano()/slow.Nanoseconds() || prev.IsZero()
		if !active && !newSlowWindow {
			continue
		}
		d := Decision{Slot: c, Active: active, Enqueue: active || p.Job.Gate == jobs.GateAlways}
		if d.Enqueue {
			d.Parts = p.parts()
		}
		return d
	}
}

// active reports whether slot c of a job with interval iv runs: a market
// is open at c, or was open during the interval or the close grace before
// it and is not halted at c (a halt closes the gate at once; a close,
// only after the grace).
func (p Plan) active(c time.Time, iv time.Duration) bool {
	for _, cal := range p.Markets {
		phase, err := cal.Phase(c)
		if err != nil {
			if p.OnCalendarError != nil {
				p.OnCalendarError(err)
			}
			continue
		}
		switch {
		case phase == market.Open:
			return true
		case phase == market.Halted:
			continue
		case p.openAt(cal, c.Add(-iv)), p.CloseGrace > iv && p.openAt(cal, c.Add(-p.CloseGrace)):
			return true
		}
	}
	return false
}

func (p Plan) openAt(cal *market.Calendar, t time.Time) bool {
	open, err := cal.IsOpen(t)
	if err != nil {
		if p.OnCalendarError != nil {
			p.OnCalendarError(err)
		}
		return false
	}
	return open
}

// parts returns the tasks of a shard-split or whole job.
func (p Plan) parts() []Part {
	if p.Job.Partition != jobs.ByShard {
		return []Part{{}}
	}
	out := make([]Part, p.Shards)
	for i := range out {
		out[i] = Part{Name: strconv.Itoa(i)}
	}
	return out
}

// preOpenParts returns one part per market whose next session opens 1 to
// 60 seconds after t.
func (p Plan) preOpenParts(t time.Time) []Part {
	var out []Part
	for _, cal := range p.Markets {
		open, err := cal.NextOpen(t)
		if err != nil {
			if p.OnCalendarError != nil {
				p.OnCalendarError(err)
			}
			continue
		}
		if d := open.Sub(t); d < PreOpenWindow[0] || d > PreOpenWindow[1] {
			continue
		}
		if before, err := cal.IsOpen(open.Add(-time.Nanosecond)); err == nil && before {
			continue // a market that never closes (ALWAYS) has no pre-open
		}
		s, err := cal.SessionAt(open)
		if err != nil {
			continue
		}
		out = append(out, Part{Name: string(cal.Code()) + ":" + s.Date.String(), Market: cal.Code(), Session: s})
	}
	return out
}
