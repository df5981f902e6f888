// Package events owns the market transition events: which transitions a
// market's calendar has between two instants (pre_open, open, break_start,
// break_end, halt_start, halt_end, close), as pure functions of the
// calendars, and the Redis stream they are emitted to exactly once.
package events

import (
	"errors"
	"sort"
	"strconv"
	"time"

	"heartbeat/internal/market"
)

// Kind is the kind of a market transition.
type Kind string

// The kinds of transition, and Changed: a transition already emitted
// that a calendar change has since moved.
const (
	PreOpen    Kind = "pre_open"
	Open       Kind = "open"
	BreakStart Kind = "break_start"
	BreakEnd   Kind = "break_end"
	HaltStart  Kind = "halt_start"
	HaltEnd    Kind = "halt_end"
	Close      Kind = "close"
	Changed    Kind = "changed"
)

// Kinds lists the transition kinds in the order they occur in a session,
// then Changed.
func Kinds() []Kind {
	return []Kind{PreOpen, Open, BreakStart, BreakEnd, HaltStart, HaltEnd, Close, Changed}
}

// PreOpenLead is how long before an open its pre_open transition is.
const PreOpenLead = 60 * time.Second

// Transition is one change of a market's phase, as its calendar has it.
type Transition struct {
	Market  market.Code
	Kind    Kind
	At      time.Time   // the calendar's instant, UTC
	Session market.Date // the label of the session it belongs to
}

// ID is the transition's identity, MARKET:KIND:UNIXMS: the key that makes
// its emission happen once.
func (t Transition) ID() string {
	return string(t.Market) + ":" + string(t.Kind) + ":" + strconv.FormatInt(t.At.UnixMilli(), 10)
}

// Slot is what a transition of a session stands for whatever its
// instant, MARKET:KIND:SESSION; empty for halts, which a session may
// have several of. An emitted transition whose slot reappears at another
// instant has been moved by a calendar change.
func (t Transition) Slot() string {
	if t.Kind == HaltStart || t.Kind == HaltEnd {
		return ""
	}
	return string(t.Market) + ":" + string(t.Kind) + ":" + t.Session.String()
}

// rank orders transitions of one session at the same instant: whatever
// ends comes before whatever starts, and the close last.
func rank(k Kind) int {
	switch k {
	case PreOpen:
		return 0
	case Open:
		return 1
	case HaltEnd:
		return 2
	case BreakEnd:
		return 3
	case BreakStart:
		return 4
	case HaltStart:
		return 5
	}
	return 6
}

// Between returns the transitions of cal with from < At <= to, in order
// of instant (a session's close before the next session's pre_open at
// the same instant). A market that trades on across a session boundary
// (ALWAYS) has no open, pre_open or close there. On a calendar error
// (its coverage ends before to) it returns the transitions found up to
// there with the error.
func Between(cal *market.Calendar, from, to time.Time) ([]Transition, error) {
	type keyed struct {
		Transition
		seq, rank int
	}
	var found []keyed
	s, err := cal.SessionAt(from)
	for seq := 0; err == nil; seq++ {
		if s.Open.Add(-PreOpenLead).After(to) {
			break
		}
		for _, t := range sessionTransitions(cal, s) {
			if t.At.After(from) && !t.At.After(to) {
				found = append(found, keyed{t, seq, rank(t.Kind)})
			}
		}
		// The next session opens at or after this one's close, so its
		// pre_open is at or after close - PreOpenLead.
		if s.Close.Add(-PreOpenLead).After(to) {
			break
		}
		s, err = cal.SessionAt(s.Close)
	}
	sort.SliceStable(found, func(i, j int) bool {
		a, b := found[i], found[j]
		if !a.At.Equal(b.At) {
			return a.At.Before(b.At)
		}
		if a.seq != b.seq {
			return a.seq < b.seq
		}
		return a.rank < b.rank
	})
	out := make([]Transition, len(found))
	for i, k := range found {
		out[i] = k.Transition
	}
	if err != nil {
		return out, err
	}
	return out, nil
}

// sessionTransitions returns every transition of session s.
func sessionTransitions(cal *market.Calendar, s market.Session) []Transition {
	at := func(k Kind, t time.Time) Transition {
		return Transition{Market: cal.Code(), Kind: k, At: t.UTC(), Session: s.Date}
	}
	var out []Transition
	if before, err := cal.IsOpen(s.Open.Add(-time.Nanosecond)); err != nil || !before {
		out = append(out, at(PreOpen, s.Open.Add(-PreOpenLead)), at(Open, s.Open))
	}
	if s.HasBreak() {
		out = append(out, at(BreakStart, s.BreakStart), at(BreakEnd, s.BreakEnd))
	}
	for _, h := range s.Halts {
		out = append(out, at(HaltStart, h.From), at(HaltEnd, h.To))
	}
	if after, err := cal.IsOpen(s.Close); err != nil || !after {
		out = append(out, at(Close, s.Close))
	}
	return out
}

// Next returns the earliest transitions of any of cals after after and at
// or before limit: every transition at that first instant. ok is false
// when there is none up to limit. Calendar errors are joined and
// returned beside whatever the other calendars answered.
func Next(cals []*market.Calendar, after, limit time.Time) (first []Transition, ok bool, err error) {
	var errs []error
	for _, cal := range cals {
		ts, err := Between(cal, after, limit)
		if err != nil {
			errs = append(errs, err)
		}
		if len(ts) == 0 {
			continue
		}
		switch {
		case !ok || ts[0].At.Before(first[0].At):
			first, ok = nil, true
		case ts[0].At.After(first[0].At):
			continue
		}
		for _, t := range ts {
			if !t.At.Equal(ts[0].At) {
				break
			}
			first = append(first, t)
		}
	}
	return first, ok, errors.Join(errs...)
}
