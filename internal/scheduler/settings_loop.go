package scheduler

import (
	"context"
)

// settingsLoop re-reads the jobs' runtime settings and the pauses when
// the settings store's revision changes (one GET a fast tick).
func (s *Scheduler) settingsLoop(ctx context.Context) {
	defer s.wg.Done()
	for {
		if s.d.Clock.SleepUntil(ctx, s.d.Clock.Now().Add(s.cfg.FastTick)) != nil {
			return
		}
		s.refreshSettings(ctx)
	}
}

// refreshSettings applies the jobs' runtime settings if the store changed
// since they were last read. Called by Start, then by the settings loop
// alone.
func (s *Scheduler) refreshSettings(ctx context.Context) {
	rev, err := s.store.Revision(ctx)
	s.redisResult(err, "job settings")
	if err != nil || (s.settingsRead && rev == s.settingsRev) {
		return
	}
	entries, rev, err := s.store.List(ctx, "")
	s.redisResult(err, "job settings")
	if err != nil {
		return
	}
	all, err := jobSettingsOf(entries)
	if err != nil {
		s.log.Error().Err(err).Msg("job settings not read")
		return
	}
	paused, err := pausesOf(entries)
	if err != nil {
		s.log.Error().Err(err).Msg("pauses not read")
		return
	}
	s.mu.Lock()
	s.paused = paused
	s.mu.Unlock()
	for _, j := range s.jobs {
		s.applySettings(j, all[j.name])
	}
	s.settingsRev, s.settingsRead = rev, true
}

// applySettings installs a job's runtime settings (nil: none) if they
// changed. Settings that do not apply (written by hand, or valid under
// another config) are logged and leave the job as it was.
func (s *Scheduler) applySettings(j *jobRunner, rs *RuntimeSettings) {
	j.mu.Lock()
	same := j.runtime.equal(rs)
	j.mu.Unlock()
	if same {
		return
	}
	cfg, since, err := effective(j.base, rs)
	var plan JobPlan
	if err == nil {
		plan, err = NewJobPlan(s.cfg, cfg.Spec, s.d.Instruments.Calendars(), s.d.Instruments.Book(), func(err error) { s.calendarError(j, err) })
	}
	if err != nil {
		s.log.Error().Err(err).Str("job", string(j.name)).Msg("job settings not applied: the job runs as before")
		return
	}
	j.update(cfg, plan, rs, since)
	ev := s.log.Info().Str("job", string(j.name)).Bool("enabled", cfg.Enabled).Str("schedule", plan.String())
	if rs != nil {
		ev = ev.Str("actor", rs.Actor).Time("at", rs.At)
	} else {
		ev = ev.Str("source", "config")
	}
	ev.Msg("job settings changed: applied from the next slot boundary")
}
