package schedule

import (
	"errors"
	"strconv"
	"time"
)

// Split says how a slot of an interval or cron plan splits into tasks:
// SplitOne, SplitShard, SplitMarket or SplitFunc. The zero value is
// SplitOne.
type Split struct {
	kind splitKind
	fn   func(slot time.Time) []Part
}

type splitKind int

const (
	splitOne splitKind = iota
	splitShard
	splitMarket
	splitFunc
)

// The splits.
var (
	// SplitOne makes a slot one task (part "").
	SplitOne = Split{kind: splitOne}
	// SplitShard makes one task per tick shard (parts "0" to Shards-1).
	SplitShard = Split{kind: splitShard}
	// SplitMarket makes one task per market of the job (part "XNYS"). For
	// a within plan it is the plan's own split: one part per market and
	// session.
	SplitMarket = Split{kind: splitMarket}
)

// SplitFunc makes the parts of a slot with fn, a pure function of the
// slot. Part names are the task identities' variable parts: give each part
// of a slot a distinct, stable name ("" is the whole job).
func SplitFunc(fn func(slot time.Time) []Part) Split { return Split{kind: splitFunc, fn: fn} }

// String returns "one", "shard", "market" or "func".
func (s Split) String() string {
	switch s.kind {
	case splitShard:
		return "shard"
	case splitMarket:
		return "market"
	case splitFunc:
		return "func"
	}
	return "one"
}

// sessionParts reports whether the split fits a session plan, whose parts
// are its markets' sessions.
func (s Split) sessionParts() bool { return s.kind == splitOne || s.kind == splitMarket }

// slotParts makes the parts of interval and cron slots. The fixed splits
// are computed once and shared by every decision.
type slotParts struct {
	fixed []Part
	fn    func(slot time.Time) []Part
}

func newSlotParts(env Env) (slotParts, error) {
	switch env.Split.kind {
	case splitShard:
		if env.Shards < 1 {
			return slotParts{}, errors.New("split: shard needs Shards >= 1")
		}
		parts := make([]Part, env.Shards)
		for i := range parts {
			parts[i] = Part{Name: strconv.Itoa(i)}
		}
		return slotParts{fixed: parts}, nil
	case splitMarket:
		if len(env.Markets) == 0 {
			return slotParts{}, errors.New("split: market needs the job's markets")
		}
		parts := make([]Part, len(env.Markets))
		for i, cal := range env.Markets {
			parts[i] = Part{Name: string(cal.Code()), Market: cal.Code()}
		}
		return slotParts{fixed: parts}, nil
	case splitFunc:
		if env.Split.fn == nil {
			return slotParts{}, errors.New("split: SplitFunc needs a function")
		}
		return slotParts{fn: env.Split.fn}, nil
	}
	return slotParts{fixed: []Part{{}}}, nil
}

// of returns the parts of the slot.
func (s slotParts) of(slot time.Time) []Part {
	if s.fn != nil {
		return s.fn(slot)
	}
	return s.fixed
}

// count returns how many tasks the slot is or would have been.
func (s slotParts) count(d Decision) int {
	if d.Enqueue {
		return len(d.Parts)
	}
	return len(s.of(d.Slot))
}
