package schedule

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"heartbeat/internal/market"
)

// gate decides whether a slot of an interval or cron plan is enqueued.
type gate interface {
	// enqueue decides a slot at which the job's markets are (or are not)
	// active.
	enqueue(slot time.Time, active bool) bool
	// followsMarkets reports whether the gate decides by the markets'
	// activity: an interval plan then keeps only one inactive slot per
	// slow-tick window, and an active slot is explained by the markets.
	followsMarkets() bool
	// why explains a decision the markets do not explain.
	why(enqueue bool) string
	String() string
}

// newGate returns the gate named by Spec.Gate, or env's predicate.
func newGate(name string, env Env) (gate, error) {
	switch {
	case env.Predicate != nil && name != "":
		return nil, fmt.Errorf("gate: a predicate gate is set, so gate must be empty, got %q", name)
	case env.Predicate != nil:
		return predicateGate{env.Predicate}, nil
	case name == GateAlways:
		return alwaysGate{}, nil
	case len(env.Markets) == 0:
		return nil, errors.New("gate: open needs the job's markets; without any it would skip every slot (use always or a predicate)")
	}
	return openGate{}, nil
}

// openGate enqueues a slot while a market of the job is active and skips
// it otherwise.
type openGate struct{}

func (openGate) enqueue(_ time.Time, active bool) bool { return active }
func (openGate) followsMarkets() bool                  { return true }
func (openGate) String() string                        { return GateOpen }
func (openGate) why(bool) string                       { return "skip (skipped_closed): markets closed" }

// alwaysGate enqueues every slot.
type alwaysGate struct{}

func (alwaysGate) enqueue(time.Time, bool) bool { return true }
func (alwaysGate) followsMarkets() bool         { return true }
func (alwaysGate) String() string               { return GateAlways }
func (alwaysGate) why(bool) string              { return "enqueue: markets closed" }

// predicateGate enqueues the slots a user's predicate admits, whatever the
// markets.
type predicateGate struct{ admit func(time.Time) bool }

func (g predicateGate) enqueue(slot time.Time, _ bool) bool { return g.admit(slot) }
func (predicateGate) followsMarkets() bool                  { return false }
func (predicateGate) String() string                        { return "predicate" }
func (predicateGate) why(enqueue bool) string {
	if enqueue {
		return "enqueue: the job's predicate admits the slot"
	}
	return "skip (skipped_closed): the job's predicate refuses the slot"
}

// activity tells whether a job's markets (Env.Markets) are active at a
// slot: open, or open during the look-back before it and not halted.
type activity struct{ env Env }

// active reports whether a market is open at c, or was open at c-back or
// c-CloseGrace (when that is further back) and is not halted at c: a halt
// closes the gate at once, a close only after the grace. back is an
// interval plan's interval, zero for cron.
func (a activity) active(c time.Time, back time.Duration) bool {
	for _, cal := range a.env.Markets {
		phase, err := cal.Phase(c)
		if err != nil {
			a.env.calendarError(err)
			continue
		}
		switch {
		case phase == market.Open:
			return true
		case phase == market.Halted:
			continue
		case back > 0 && a.openAt(cal, c.Add(-back)), a.env.CloseGrace > back && a.openAt(cal, c.Add(-a.env.CloseGrace)):
			return true
		}
	}
	return false
}

func (a activity) openAt(cal *market.Calendar, t time.Time) bool {
	open, err := cal.IsOpen(t)
	if err != nil {
		a.env.calendarError(err)
		return false
	}
	return open
}

// openMarkets lists the markets open at any of the instants.
func (a activity) openMarkets(at ...time.Time) []string {
	var out []string
	for _, cal := range a.env.Markets {
		for _, t := range at {
			if open, err := cal.IsOpen(t); err == nil && open {
				out = append(out, string(cal.Code()))
				break
			}
		}
	}
	return out
}

// whyActive explains an active slot: the markets open at it or back
// before it, else those within the close grace.
func (a activity) whyActive(slot time.Time, back time.Duration) string {
	at := []time.Time{slot}
	if back > 0 {
		at = append(at, slot.Add(-back))
	}
	if open := a.openMarkets(at...); len(open) > 0 {
		return "enqueue: open: " + strings.Join(open, " ")
	}
	return "enqueue: close grace: " + strings.Join(a.openMarkets(slot.Add(-a.env.CloseGrace)), " ") + " closed within " + a.env.CloseGrace.String()
}

// explain says why gate g decided d; closed is appended to the
// explanation of an inactive slot ("slow cadence" for an interval plan).
func explain(g gate, a activity, d Decision, back time.Duration, closed string) string {
	switch {
	case !g.followsMarkets():
		return g.why(d.Enqueue)
	case d.Active:
		return a.whyActive(d.Slot, back)
	}
	return g.why(d.Enqueue) + closed
}
