package schedule

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"heartbeat/internal/market"
)

// Part is one task of a slot: a shard, a market, a market's session, or
// the whole job.
type Part struct {
	Name    string         // the task payload's part: "3" (shard), "XNYS" (market), "XNYS:2026-11-27" (session), "" (whole)
	Market  market.Code    // set for per-market and per-session parts
	Session market.Session // set for session parts: the session the slot belongs to
}

// Decision is what a job does at one slot.
type Decision struct {
	Slot time.Time // UTC
	// Enqueue is false when the gate is shut at the slot (counted
	// skipped_closed). Session plans have no closed slots: their only
	// Decision with Enqueue false is the far one Next returns when no
	// session within a year has a slot (see Plan).
	Enqueue bool
	// Active reports a market of the job open at the slot or within the
	// look-back before it (the fast cadence); interval and cron plans only.
	Active bool
	// Parts are the tasks of an enqueued slot; nil when Enqueue is false.
	// They may be shared with other decisions: do not modify them.
	Parts []Part
	// Deadline is the latest instant a task of this slot may start: the
	// next slot for an interval, the next cron instant but at most an
	// hour for cron, the window's end for within, the slot + 1 minute for
	// at. A per-job policy may replace it.
	Deadline time.Time
	// Why says in one line what was decided and why, for preview and the
	// status page.
	Why string
}

// Plan decides a job's slots. Implementations are pure functions of the
// instants passed in and of the calendars, whose runtime changes they see
// on the next call (calendars are atomic handles). A Plan is safe for
// concurrent use if Env's callbacks are.
//
// Next always returns a slot strictly after prev and terminates: when a
// session plan finds no slot within a year after prev (a market past its
// calendar's coverage, an event no session has), it reports calendar
// errors to Env.OnCalendarError and returns a Decision with Enqueue false
// a year after prev, to be asked again then or when the calendars change.
type Plan interface {
	// Next returns the first slot strictly after prev and its decision.
	Next(prev time.Time) Decision
	// TaskKey is the variable part of a task's identity (the caller
	// prefixes the job's name): "PART:UNIXMILLI" for interval and cron
	// slots ("all" for a whole-job part), "MARKET:DATE" for session plans,
	// so a session runs once whatever the slots inside its window.
	TaskKey(p Part, slot time.Time) string
	// Tasks is how many tasks the slot is, or would have been had its gate
	// been open (metrics count tasks).
	Tasks(d Decision) int
	// String is the schedule's canonical text, for status pages.
	String() string
	// Trigger is the slot a manual trigger at now runs, with its parts and
	// start deadline, whatever the gate says: see each kind's Trigger. Its
	// error wraps ErrNothingToTrigger when there is none.
	Trigger(now time.Time) (Decision, error)
}

// Spec is a job's schedule as config and the public API fill it. Exactly
// one of Every, Cron, At and Within is set, except that Every may
// accompany Within as its slot grid.
type Spec struct {
	// Every is a fixed interval; slots are its multiples since the Unix
	// epoch. A whole number of milliseconds.
	Every time.Duration
	// Cron has 6 fields with seconds ("0 */5 * * * *") or 5 (seconds 0);
	// see ParseCron.
	Cron string
	// TZ is the IANA zone Cron's fields are read in; default UTC.
	TZ string
	// At anchors one slot per session of a market: "XNYS.close+2m"; see
	// ParseAnchor.
	At string
	// Within gives each market of the job one slot per session inside a
	// window: "open-60s..open-1s"; see ParseWindow.
	Within string
	// Gate is "open" (default) or "always", for Every and Cron.
	Gate string
}

// The gate names of Spec.Gate.
const (
	GateOpen   = "open"
	GateAlways = "always"
)

// horizon is how far after prev a session plan looks for a slot.
func horizon(prev time.Time) time.Time { return prev.AddDate(1, 0, 0) }

// kind is which schedule a Spec describes.
type kind int

const (
	kindNone kind = iota
	kindEvery
	kindCron
	kindAt
	kindWithin
)

// kind returns the schedule kind of s, or an error when it does not name
// exactly one.
func (s Spec) kind() (kind, error) {
	var kinds []kind
	if s.Every != 0 && s.Within == "" {
		kinds = append(kinds, kindEvery)
	}
	if s.Cron != "" {
		kinds = append(kinds, kindCron)
	}
	if s.At != "" {
		kinds = append(kinds, kindAt)
	}
	if s.Within != "" {
		kinds = append(kinds, kindWithin)
	}
	switch len(kinds) {
	case 0:
		return kindNone, errors.New("schedule: one of every, cron, at or within is required")
	case 1:
		return kinds[0], nil
	}
	return kindNone, errors.New("schedule: exactly one of every, cron, at or within (every may accompany within as its slot grid)")
}

// Validate checks a schedule; each error names its field ("cron: field 3
// (day of month): 32 out of range 1-31", "at: unknown market XFOO"). The
// book resolves an At anchor's market; nil skips that check.
func (s Spec) Validate(book *market.Book) error {
	_, err := s.parse(book)
	return err
}

// parsed is a validated Spec.
type parsed struct {
	kind   kind
	cron   *Cron
	anchor Anchor
	window Window
}

func (s Spec) parse(book *market.Book) (parsed, error) {
	var (
		p    parsed
		errs []error
		err  error
	)
	if p.kind, err = s.kind(); err != nil {
		errs = append(errs, err)
	}
	switch {
	case s.Every < 0:
		errs = append(errs, fmt.Errorf("every: must be > 0, got %s", s.Every))
	case s.Every%time.Millisecond != 0:
		errs = append(errs, fmt.Errorf("every: must be a whole number of milliseconds, got %s", s.Every))
	}
	loc := time.UTC
	if s.TZ != "" {
		if s.Cron == "" {
			errs = append(errs, errors.New("tz: only with cron"))
		}
		if loc, err = time.LoadLocation(s.TZ); err != nil {
			errs = append(errs, fmt.Errorf("tz: unknown time zone %q", s.TZ))
			loc = time.UTC
		}
	}
	if s.Cron != "" {
		if p.cron, err = ParseCron(s.Cron, loc); err != nil {
			errs = append(errs, err)
		}
	}
	if s.At != "" {
		if p.anchor, err = ParseAnchor(s.At); err != nil {
			errs = append(errs, fmt.Errorf("at: %w", err))
		} else if book != nil {
			if _, err := book.Lookup(p.anchor.Market); err != nil {
				errs = append(errs, fmt.Errorf("at: %w %s (known: %v)", market.ErrUnknownMarket, p.anchor.Market, book.Codes()))
			}
		}
	}
	if s.Within != "" {
		if p.window, err = ParseWindow(s.Within); err != nil {
			errs = append(errs, fmt.Errorf("within: %w", err))
		}
	}
	switch s.Gate {
	case "", GateOpen, GateAlways:
		if s.Gate != "" && (s.At != "" || s.Within != "") {
			errs = append(errs, errors.New("gate: only every and cron schedules have a gate; at and within run once per session"))
		}
	case "preopen":
		errs = append(errs, errors.New("gate: preopen is now a window: within: open-60s..open-1s with every: 30s"))
	default:
		errs = append(errs, fmt.Errorf("gate: must be open or always, got %q", s.Gate))
	}
	return p, errors.Join(errs...)
}

// Env is what a plan needs besides its Spec: the job's markets and how
// its slots split, and the scheduler's settings.
type Env struct {
	// Markets are the job's markets: their opening gates interval and
	// cron slots, their sessions give a within plan its slots, and
	// SplitMarket makes one part of each.
	Markets market.Set
	// Book resolves an at anchor's market; required for at.
	Book *market.Book
	// Slow is scheduler.slow_tick: while every market is closed an
	// interval plan keeps one slot per slow-tick window.
	Slow time.Duration
	// CloseGrace keeps an interval or cron job active (fast cadence, gate
	// open) this long after its last market closed, so late ticks and the
	// session's last bars are still processed. Zero: an interval plan
	// looks back one interval, a cron plan not at all. The scheduler gives
	// an interval job at least two intervals.
	CloseGrace time.Duration
	// Shards is the number of tick shards, for SplitShard.
	Shards int
	// Split says how an interval or cron slot splits into parts; the zero
	// value is SplitOne. Session plans' parts are their markets' sessions.
	Split Split
	// OnCalendarError is told about calendar errors (an instant outside a
	// calendar's coverage); the market then counts as closed. May be nil.
	OnCalendarError func(error)
	// Predicate, when set, is the gate of an interval or cron plan: a slot
	// is enqueued when it returns true (Spec.Gate must then be empty).
	// Every slot is decided, without the slow cadence.
	Predicate func(slot time.Time) bool
}

func (e Env) calendarError(err error) {
	if e.OnCalendarError != nil {
		e.OnCalendarError(err)
	}
}

// New returns the plan of a schedule in an environment.
func New(s Spec, env Env) (Plan, error) {
	p, err := s.parse(env.Book)
	if err != nil {
		return nil, err
	}
	switch p.kind {
	case kindEvery, kindCron:
		g, err := newGate(s.Gate, env)
		if err != nil {
			return nil, err
		}
		parts, err := newSlotParts(env)
		if err != nil {
			return nil, err
		}
		act := activity{env}
		if p.kind == kindEvery {
			return &intervalPlan{every: s.Every, slow: env.Slow, gate: g, activity: act, parts: parts}, nil
		}
		return &cronPlan{cron: p.cron, gate: g, activity: act, parts: parts}, nil
	}
	if env.Predicate != nil {
		return nil, errors.New("gate: a predicate gate is only for every and cron schedules")
	}
	if !env.Split.sessionParts() {
		return nil, fmt.Errorf("split: a session plan's parts are its markets' sessions; split %s does not apply", env.Split)
	}
	if p.kind == kindAt {
		if env.Book == nil {
			return nil, errors.New("at: Env.Book is required to find the anchor's market")
		}
		cal, err := env.Book.Lookup(p.anchor.Market)
		if err != nil {
			return nil, fmt.Errorf("at: %w", err)
		}
		return &atPlan{anchor: p.anchor, cal: cal, env: env}, nil
	}
	if len(env.Markets) == 0 {
		return nil, errors.New("within: the job has no markets")
	}
	return &windowPlan{window: p.window, every: s.Every, env: env}, nil
}

// slotKey is the task key of an interval or cron slot: PART:UNIXMILLI,
// "all" for a whole-job part, as the task IDs have always been.
func slotKey(p Part, slot time.Time) string {
	name := p.Name
	if name == "" {
		name = "all"
	}
	return name + ":" + strconv.FormatInt(slot.UnixMilli(), 10)
}

// sessionKey is the task key of a session part: MARKET:DATE, its name.
func sessionKey(p Part) string { return p.Name }

// sessionPart returns the part of a market's session.
func sessionPart(code market.Code, s market.Session) Part {
	return Part{Name: string(code) + ":" + s.Date.String(), Market: code, Session: s}
}
