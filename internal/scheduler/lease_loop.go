package scheduler

import (
	"context"
	"encoding/json"
	"heartbeat/internal/keys"
	"time"
)

// ReplicaInfo is what a replica publishes about itself.
type ReplicaInfo struct {
	Replica    string    `json:"replica"`
	Leader     bool      `json:"leader"`
	Term       int64     `json:"term"`
	Seen       time.Time `json:"seen"`
	Started    time.Time `json:"started"`
	ValidUntil time.Time `json:"valid_until,omitzero"`
}

func (s *Scheduler) releaseLease(ctx context.Context) error {
	s.leaseMu.Lock()
	defer s.leaseMu.Unlock()
	return s.lease.Release(ctx)
}

// leadership returns whether this replica may enqueue at now, the
// leadership generation and the term.
func (s *Scheduler) leadership(now time.Time) (bool, uint64, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.leader && now.Before(s.validUntil), s.gen, s.term
}

// tryLease acquires or renews the lease once and publishes the outcome.
func (s *Scheduler) tryLease(ctx context.Context, now time.Time) {
	if s.lease == nil {
		return
	}
	s.leaseMu.Lock()
	defer s.leaseMu.Unlock()
	held, acquired, err := s.lease.Try(ctx, now)
	s.redisResult(err, "leader lease")
	s.mu.Lock()
	was := s.leader
	s.leader, s.validUntil = held, s.lease.ValidUntil()
	if acquired {
		s.term = s.lease.Term()
		s.gen++
	}
	s.mu.Unlock()
	switch {
	case acquired:
		s.d.Metrics.Leader.Set(1)
		s.d.Metrics.Term.Set(float64(s.lease.Term()))
		s.log.Info().Int64("term", s.lease.Term()).Msg("✓ Leader lock acquired")
	case held && !was:
		// Renewed after its validity lapsed (Redis was slow or
		// unreachable, but the key had not expired): same term.
		s.d.Metrics.Leader.Set(1)
		s.log.Info().Int64("term", s.lease.Term()).Msg("leader lock renewed after a lapse: leading again")
	case was && !held && ctx.Err() == nil:
		s.d.Metrics.Leader.Set(0)
		s.log.Warn().Int64("term", s.lease.Term()).Msg("leader lock lost: standing by")
	}
}

// leaseLoop acquires or renews the lease every renew interval and keeps the
// replica's heartbeat for the status page.
func (s *Scheduler) leaseLoop(ctx context.Context) {
	defer s.wg.Done()
	next := s.d.Clock.Now()
	lastBeat := time.Time{}
	for {
		now := s.d.Clock.Now()
		s.tryLease(ctx, now)
		if now.Sub(lastBeat) >= s.cfg.FastTick {
			s.heartbeat(ctx, now)
			lastBeat = now
		}
		every := s.cfg.RenewEvery
		if !s.cfg.Lock {
			every = s.cfg.FastTick
		}
		next = next.Add(every)
		n := s.d.Clock.Now()
		if next.Before(n) {
			next = n
		}
		// A standby tries again just after the holder's lease would
		// expire, if that is sooner than its next regular attempt.
		if s.lease != nil {
			if lead, _, _ := s.leadership(n); !lead {
				if in := s.lease.ExpiresIn(); in > 0 && n.Add(in+time.Millisecond).Before(next) {
					next = n.Add(in + time.Millisecond)
				}
			}
		}
		if s.d.Clock.SleepUntil(ctx, next) != nil {
			return
		}
	}
}

func (s *Scheduler) heartbeat(ctx context.Context, now time.Time) {
	lead, _, term := s.leadership(now)
	s.mu.Lock()
	info := ReplicaInfo{Replica: s.cfg.Replica, Leader: lead, Term: term, Seen: now.UTC(), Started: s.started.UTC()}
	if lead && s.cfg.Lock {
		info.ValidUntil = s.validUntil.UTC()
	}
	s.mu.Unlock()
	b, _ := json.Marshal(info)
	s.redisResult(s.d.Redis.HSet(ctx, keys.Standbys(), s.cfg.Replica, b).Err(), "replica heartbeat")
}
