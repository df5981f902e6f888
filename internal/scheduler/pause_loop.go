package scheduler

import (
	"context"
	"heartbeat/internal/jobs"
	"heartbeat/internal/keys"
)

// pauseLoop re-reads the paused jobs every fast tick.
func (s *Scheduler) pauseLoop(ctx context.Context) {
	defer s.wg.Done()
	for {
		if s.d.Clock.SleepUntil(ctx, s.d.Clock.Now().Add(s.cfg.FastTick)) != nil {
			return
		}
		s.refreshPauses(ctx)
	}
}

func (s *Scheduler) refreshPauses(ctx context.Context) {
	p, err := s.d.Redis.HGetAll(ctx, keys.Paused()).Result()
	s.redisResult(err, "paused jobs")
	if err != nil {
		return
	}
	s.mu.Lock()
	s.paused = p
	s.mu.Unlock()
}

func (s *Scheduler) isPaused(job jobs.Name) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.paused[string(job)]
	return ok
}
