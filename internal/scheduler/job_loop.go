package scheduler

import (
	"context"
	"errors"
	"fmt"
	"heartbeat/internal/jobs"
	"heartbeat/internal/keys"
	"heartbeat/internal/metrics"
	"heartbeat/internal/schedule"
	"heartbeat/internal/tasks"
	"time"

	"github.com/hibiken/asynq"
)

// jobLoop waits for each slot of one job and fires it while leading.
func (s *Scheduler) jobLoop(ctx context.Context, j *jobRunner, prev time.Time) {
	defer s.wg.Done()
	var servedGen uint64
	// passed: a slot went by while this replica did not lead. When it
	// leads again, with a new term or the same one renewed after a lapse,
	// the slots nobody enqueued are caught up.
	passed := false
	for {
		d, ok := s.waitForSlot(ctx, j, prev)
		if !ok {
			return
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
		if now.After(j.plan.StartBy(d)) {
			// The process stalled past the slot's life.
			if d.Enqueue {
				j.addUnrecorded(j.tasks(d))
			}
		} else {
			s.fire(ctx, j, d, term, now)
		}
		s.recordSlot(ctx, j, d.Slot)
		prev = d.Slot
	}
}

// waitForSlot decides the first slot after prev and sleeps until its
// enqueue instant. While it waits it looks at the calendars once a fast
// tick: when a runtime entry changed them (a closure, a halt, an extra
// session), it decides again from now, so the change applies from the
// next slot rather than after a long slow-cadence wait. ok is false when
// ctx ended.
func (s *Scheduler) waitForSlot(ctx context.Context, j *jobRunner, prev time.Time) (d schedule.Decision, ok bool) {
	book := s.d.Instruments.Book()
	version := book.Version()
	d = j.plan.Next(prev)
	j.setNext(d)
	for {
		target := d.Slot.Add(-s.cfg.EnqueueAhead)
		wake := target
		if now := s.d.Clock.Now(); wake.Sub(now) > s.cfg.FastTick {
			wake = now.Add(s.cfg.FastTick)
		}
		if s.d.Clock.SleepUntil(ctx, wake) != nil {
			return d, false
		}
		now := s.d.Clock.Now()
		if v := book.Version(); v != version {
			version = v
			d = j.plan.Next(maxTime(prev, now))
			j.setNext(d)
			continue
		}
		if !now.Before(target) {
			return d, true
		}
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// tasks is how many tasks a slot is (or would have been): one per part.
// heartbeat_slots_total counts tasks, so scheduler and worker outcomes add
// up.
func (j *jobRunner) tasks(d schedule.Decision) int { return j.plan.Tasks(d) }

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

func (s *Scheduler) count(j *jobRunner, outcome string, n int) {
	s.d.Metrics.Slots.WithLabelValues(string(j.cfg.Spec.Name), outcome).Add(float64(n))
	j.mu.Lock()
	j.lastOutcome = outcome
	j.mu.Unlock()
}

// fire enqueues one slot's tasks, unless the job is paused or its gate is
// shut.
func (s *Scheduler) fire(ctx context.Context, j *jobRunner, d schedule.Decision, term int64, now time.Time) {
	spec := j.cfg.Spec
	switch {
	case s.isPaused(spec.Name):
		s.count(j, metrics.SlotSkippedPaused, j.tasks(d))
		return
	case !d.Enqueue:
		s.count(j, metrics.SlotSkippedClosed, j.tasks(d))
		return
	}
	began := s.d.Clock.Now()
	for _, part := range d.Parts {
		p := j.plan.Payload(d, part, term, now)
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
func (s *Scheduler) enqueue(ctx context.Context, spec jobs.Spec, p tasks.Payload) (string, error) {
	task, opts, err := tasks.New(spec, p, tasks.Options{Retention: s.cfg.Retention})
	if err != nil {
		return "", err
	}
	_, err = s.d.Enqueuer.EnqueueContext(ctx, task, opts...)
	switch {
	case errors.Is(err, asynq.ErrTaskIDConflict), errors.Is(err, asynq.ErrDuplicateTask):
		return metrics.SlotDuplicateSuppressed, nil
	case err != nil:
		return "", fmt.Errorf("enqueue %s: %w", p.ID(), err)
	}
	return metrics.SlotEnqueued, nil
}

// recordSlot remembers the last slot decided, in Redis for the next leader.
func (s *Scheduler) recordSlot(ctx context.Context, j *jobRunner, slot time.Time) {
	j.mu.Lock()
	j.lastSlot = slot
	j.mu.Unlock()
	err := s.d.Redis.HSet(ctx, keys.LastSlots(), string(j.cfg.Spec.Name), slot.UnixMilli()).Err()
	s.redisResult(err, "record slot")
	if err != nil {
		return
	}
	j.mu.Lock()
	n := j.unrecorded
	j.unrecorded = 0
	j.mu.Unlock()
	if n > 0 {
		s.count(j, metrics.SlotMissed, n)
	}
}

func (j *jobRunner) addUnrecorded(n int) {
	j.mu.Lock()
	j.unrecorded += n
	j.mu.Unlock()
}
