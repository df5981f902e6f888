package scheduler

import (
	"context"
	"heartbeat/internal/jobs"
	"heartbeat/internal/keys"
	"heartbeat/internal/runlog"
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
	if v, err := s.d.Redis.HGet(ctx, keys.LastSlots(), string(j.name)).Result(); err == nil {
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
		s.count(j, runlog.Missed, ours)
	}
	if last.IsZero() || !last.Before(current) {
		return
	}
	_, plan, _ := j.snapshot()
	floor := current.Add(-s.cfg.LookBack)
	j.mu.Lock()
	if j.enabledSince.After(floor) {
		floor = j.enabledSince // nothing was owed while the job was disabled
	}
	j.mu.Unlock()
	if last.Before(floor) {
		last = floor
	}
	var missed []schedule.Decision
	for prev := last; ; {
		d := plan.Next(prev)
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
	if plan.Spec.Policy.CatchUp == jobs.CatchUpLatest {
		latest := missed[len(missed)-1]
		if now.Before(plan.StartBy(latest)) && !s.isPaused(j.name) {
			s.fire(ctx, j, plan, latest, term, now)
			missed = missed[:len(missed)-1]
		}
	}
	if len(missed) > 0 {
		n := 0
		for _, d := range missed {
			n += plan.Tasks(d)
		}
		// A job paused now was (most likely) paused while nobody led:
		// its slots would not have run anyway.
		outcome := runlog.Missed
		if s.isPaused(j.name) {
			outcome = runlog.SkippedPaused
		}
		s.count(j, outcome, n)
		s.log.Warn().Str("job", string(j.name)).Int("missed", len(missed)).Time("from", missed[0].Slot).
			Time("to", missed[len(missed)-1].Slot).Msg("slots not run while no replica led")
	}
}
