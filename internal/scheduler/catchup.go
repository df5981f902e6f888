package scheduler

import (
	"context"
	"heartbeat/internal/jobs"
	"heartbeat/internal/keys"
	"heartbeat/internal/metrics"
	"heartbeat/internal/schedule"
	"strconv"
	"time"
)

// catchUp runs when this replica has just become leader: the slots between
// the last one any leader decided and the current one were missed. They
// are counted; with the latest policy the most recent one is enqueued once
// if its start deadline has not passed. Only slots within the look-back
// are considered.
func (s *Scheduler) catchUp(ctx context.Context, j *jobRunner, current, now time.Time, term int64) {
	last := time.Time{}
	if v, err := s.d.Redis.HGet(ctx, keys.LastSlots(), string(j.cfg.Spec.Name)).Result(); err == nil {
		if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
			last = time.UnixMilli(ms).UTC()
		}
	}
	j.mu.Lock()
	ours := 0
	if j.lastSlot.After(last) {
		// This replica decided slots Redis does not know of (its records
		// failed, or Redis lost its data); no other leader counted its
		// failures since, so it counts them itself.
		last, ours = j.lastSlot, j.unrecorded
	}
	j.unrecorded = 0
	j.mu.Unlock()
	if ours > 0 {
		s.count(j, metrics.SlotMissed, ours)
	}
	if last.IsZero() || !last.Before(current) {
		return
	}
	if floor := current.Add(-s.cfg.LookBack); last.Before(floor) {
		last = floor
	}
	var missed []schedule.Decision
	for prev := last; ; {
		d := j.plan.Next(prev)
		if !d.Slot.Before(current) {
			break
		}
		if d.Enqueue {
			missed = append(missed, d)
		}
		prev = d.Slot
	}
	if len(missed) == 0 {
		return
	}
	if j.cfg.Spec.Policy.CatchUp == jobs.CatchUpLatest {
		latest := missed[len(missed)-1]
		if now.Before(j.plan.StartBy(latest)) && !s.isPaused(j.cfg.Spec.Name) {
			s.fire(ctx, j, latest, term, now)
			missed = missed[:len(missed)-1]
		}
	}
	if len(missed) > 0 {
		n := 0
		for _, d := range missed {
			n += j.tasks(d)
		}
		// A job paused now was (most likely) paused while nobody led:
		// its slots would not have run anyway.
		outcome := metrics.SlotMissed
		if s.isPaused(j.cfg.Spec.Name) {
			outcome = metrics.SlotSkippedPaused
		}
		s.count(j, outcome, n)
		s.log.Warn().Str("job", string(j.cfg.Spec.Name)).Int("missed", len(missed)).Time("from", missed[0].Slot).
			Time("to", missed[len(missed)-1].Slot).Msg("slots not run while no replica led")
	}
}
