package scheduler

import (
	"context"
	"errors"
	"fmt"
	"heartbeat/internal/jobs"
	"heartbeat/internal/keys"
	"heartbeat/internal/runlog"
	"heartbeat/internal/schedule"
	"heartbeat/internal/tasks"
	"time"

	"github.com/hibiken/asynq"
)

// jobLoop waits for each slot of one job and fires it while leading. A
// disabled job's loop waits for its settings to change; enabled again,
// it starts from the next slot after that instant.
func (s *Scheduler) jobLoop(ctx context.Context, j *jobRunner, prev time.Time) {
	defer s.wg.Done()
	var servedGen uint64
	// passed: a slot went by while this replica did not lead. When it
	// leads again, with a new term or the same one renewed after a lapse,
	// the slots nobody enqueued are caught up.
	passed := false
	for {
		if cfg, _, version := j.snapshot(); !cfg.Enabled {
			if !s.waitForChange(ctx, j, version) {
				return
			}
			prev = s.d.Clock.Now().Add(-s.cfg.EnqueueAhead)
			continue
		}
		d, plan, ok := s.waitForSlot(ctx, j, prev)
		if !ok {
			return
		}
		if d.Slot.IsZero() {
			continue // disabled while waiting
		}
		now := s.d.Clock.Now()
		lead, gen, term := s.leadership(now)
		if !lead {
			prev = d.Slot
			passed = true
			continue
		}
		if gen != servedGen || passed {
			s.catchUp(ctx, j, d.Slot, now, term)
			servedGen, passed = gen, false
		}
		if now.After(plan.StartBy(d)) {
			// The process stalled past the slot's life.
			if d.Enqueue {
				j.addUnrecorded(plan.Tasks(d))
			}
		} else {
			s.fire(ctx, j, plan, d, term, now)
		}
		s.recordSlot(ctx, j, d.Slot)
		prev = d.Slot
	}
}

// waitForChange sleeps a fast tick at a time until the job's settings
// change from version; false when ctx ended.
func (s *Scheduler) waitForChange(ctx context.Context, j *jobRunner, version uint64) bool {
	for !j.changed(version) {
		if s.d.Clock.SleepUntil(ctx, s.d.Clock.Now().Add(s.cfg.FastTick)) != nil {
			return false
		}
	}
	return true
}

// waitForSlot decides the first slot after prev and sleeps until its
// enqueue instant, returning it with the plan that decided it. While it
// waits it looks once a fast tick at the calendars and at the job's
// settings: when a runtime entry changed the calendars (a closure, a
// halt, an extra session) or `scheduler set` changed the job, it decides
// again from now, so the change applies from the next slot boundary —
// no slot of the old plan after prev is run, none of the new plan before
// now is owed. A decision with a zero slot means the job was disabled.
// ok is false when ctx ended.
func (s *Scheduler) waitForSlot(ctx context.Context, j *jobRunner, prev time.Time) (d schedule.Decision, plan JobPlan, ok bool) {
	book := s.d.Instruments.Book()
	bookVersion := book.Version()
	cfg, plan, version := j.snapshot()
	if !cfg.Enabled {
		return schedule.Decision{}, plan, true
	}
	d = plan.Next(prev)
	j.setNext(d)
	for {
		target := d.Slot.Add(-s.cfg.EnqueueAhead)
		wake := target
		if now := s.d.Clock.Now(); wake.Sub(now) > s.cfg.FastTick {
			wake = now.Add(s.cfg.FastTick)
		}
		if s.d.Clock.SleepUntil(ctx, wake) != nil {
			return d, plan, false
		}
		now := s.d.Clock.Now()
		if v := book.Version(); v != bookVersion || j.changed(version) {
			bookVersion = v
			if cfg, plan, version = j.snapshot(); !cfg.Enabled {
				return schedule.Decision{}, plan, true
			}
			d = plan.Next(maxTime(prev, now))
			j.setNext(d)
			continue
		}
		if !now.Before(target) {
			return d, plan, true
		}
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func (j *jobRunner) setNext(d schedule.Decision) {
	j.mu.Lock()
	j.next = d
	j.mu.Unlock()
}

// Next returns the slot the job waits for.
func (j *jobRunner) Next() schedule.Decision {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.next
}

func (s *Scheduler) count(j *jobRunner, outcome runlog.Outcome, n int) {
	s.d.Metrics.CountSlots(string(j.name), outcome, n)
	j.mu.Lock()
	j.lastOutcome = string(outcome)
	j.mu.Unlock()
}

// fire enqueues one slot's tasks, unless the job is paused or its gate is
// shut.
// heartbeat_slots_total counts tasks (plan.Tasks), so scheduler and
// worker outcomes add up.
func (s *Scheduler) fire(ctx context.Context, j *jobRunner, plan JobPlan, d schedule.Decision, term int64, now time.Time) {
	spec := plan.Spec
	switch {
	case s.isPaused(spec.Name):
		s.count(j, runlog.SkippedPaused, plan.Tasks(d))
		return
	case !d.Enqueue:
		s.count(j, runlog.SkippedClosed, plan.Tasks(d))
		return
	}
	began := s.d.Clock.Now()
	for _, part := range d.Parts {
		p := plan.Payload(d, part, term, now)
		outcome, err := s.enqueue(ctx, spec, p)
		if err != nil {
			s.redisResult(err, "enqueue")
			j.addUnrecorded(1)
			continue
		}
		s.redisResult(nil, "enqueue")
		s.count(j, outcome, 1)
	}
	s.d.Metrics.Enqueues.WithLabelValues(string(spec.Name)).Observe(s.d.Clock.Now().Sub(began).Seconds())
}

// enqueue enqueues one task; a task ID conflict means another replica (or
// an earlier run of this one) already enqueued the slot.
func (s *Scheduler) enqueue(ctx context.Context, spec jobs.Spec, p tasks.Payload) (runlog.Outcome, error) {
	task, opts, err := tasks.New(spec, p, tasks.Options{Retention: s.cfg.Retention})
	if err != nil {
		return "", err
	}
	_, err = s.d.Enqueuer.EnqueueContext(ctx, task, opts...)
	switch {
	case errors.Is(err, asynq.ErrTaskIDConflict), errors.Is(err, asynq.ErrDuplicateTask):
		return runlog.DuplicateSuppressed, nil
	case err != nil:
		return "", fmt.Errorf("enqueue %s: %w", p.ID(), err)
	}
	return runlog.Enqueued, nil
}

// recordSlot remembers the last slot decided, in Redis for the next leader.
func (s *Scheduler) recordSlot(ctx context.Context, j *jobRunner, slot time.Time) {
	j.mu.Lock()
	j.lastSlot = slot
	j.mu.Unlock()
	err := s.d.Redis.HSet(ctx, keys.LastSlots(), string(j.name), slot.UnixMilli()).Err()
	s.redisResult(err, "record slot")
	if err != nil {
		return
	}
	j.mu.Lock()
	n := j.unrecorded
	j.unrecorded = 0
	j.mu.Unlock()
	if n > 0 {
		s.count(j, runlog.Missed, n)
	}
}

func (j *jobRunner) addUnrecorded(n int) {
	j.mu.Lock()
	j.unrecorded += n
	j.mu.Unlock()
}
