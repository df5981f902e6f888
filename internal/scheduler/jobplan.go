package scheduler

import (
	"fmt"
	"time"

	"heartbeat/internal/jobs"
	"heartbeat/internal/market"
	"heartbeat/internal/schedule"
	"heartbeat/internal/tasks"
)

// JobPlan is one job's schedule as a replica runs it: the job's spec and
// the plan its schedule kind (internal/schedule) decides slots with.
type JobPlan struct {
	Spec jobs.Spec
	schedule.Plan
	slow time.Duration
}

// NewJobPlan builds the plan of a job in a replica with cfg: its markets
// open its gate, the book resolves an at anchor, calendar errors go to
// onCalendarError (may be nil). An interval job stays on its fast cadence
// at least two intervals after its last market closed.
func NewJobPlan(cfg Config, spec jobs.Spec, markets market.Set, book *market.Book, onCalendarError func(error)) (JobPlan, error) {
	env := schedule.Env{
		Markets: markets, Book: book, Slow: cfg.SlowTick, Shards: max(cfg.Shards, 1), Split: spec.Split,
		CloseGrace: max(cfg.CloseGrace, 2*spec.Schedule.Every), OnCalendarError: onCalendarError, Predicate: spec.Predicate,
	}
	plan, err := schedule.New(spec.Schedule, env)
	if err != nil {
		return JobPlan{}, fmt.Errorf("job %s: %w", spec.Name, err)
	}
	return JobPlan{Spec: spec, Plan: plan, slow: cfg.SlowTick}, nil
}

// StartBy returns the latest instant a task of decision d may start: the
// job's policy's start deadline, or the schedule's.
func (p JobPlan) StartBy(d schedule.Decision) time.Time {
	return p.Spec.Policy.Deadline(d.Slot, d.Deadline)
}

// Payload returns the task of one part of a decided slot.
func (p JobPlan) Payload(d schedule.Decision, part schedule.Part, term int64, now time.Time) tasks.Payload {
	return tasks.Payload{Job: p.Spec.Name, Slot: d.Slot.UTC(), Part: part.Name, Key: p.TaskKey(part, d.Slot),
		Interval: p.Spec.Schedule.Every, Deadline: p.StartBy(d).UTC(), Overlap: p.Spec.Policy.Overlap,
		Term: term, EnqueuedAt: now.UTC()}
}

// Cadence is a job's effective cadence around a decision: an interval
// job's interval while one of its markets is open (or for a window
// schedule, its grid), max(interval, slow tick) otherwise; zero for cron
// and at schedules, which have none.
func (p JobPlan) Cadence(d schedule.Decision) time.Duration {
	every := p.Spec.Schedule.Every
	switch {
	case every == 0 || p.Spec.Schedule.Within != "" || d.Active:
		return every
	case p.Spec.Schedule.Gate != schedule.GateOpen && p.Spec.Schedule.Gate != schedule.GateAlways:
		return every // a predicate gate decides every slot
	}
	return max(every, p.slow)
}

// Preview returns a plan's next n decisions after the instant after: the
// slots the job would fire at and what its gate decides at each. It is a
// pure function of the calendars.
func Preview(p schedule.Plan, after time.Time, n int) []schedule.Decision {
	out := make([]schedule.Decision, 0, max(n, 0))
	for prev := after; len(out) < n; {
		d := p.Next(prev)
		out = append(out, d)
		prev = d.Slot
	}
	return out
}
