package runner

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"heartbeat/internal/clock"
	"heartbeat/internal/tokenlock"
)

// runLock is held while one job part runs, so a job never runs
// concurrently with its own previous slot. It is a tokenlock with a
// random token and a short TTL, renewed while the run lasts, so a worker
// that dies frees it within the TTL.
type runLock struct {
	rdb   redis.UniversalClient
	key   string
	token string
	ttl   time.Duration
}

// lockTTL is the run lock's TTL for a job interval.
func lockTTL(interval time.Duration) time.Duration { return max(3*time.Second, 3*interval) }

// acquireRunLock takes the lock, or returns ok=false if a run holds it.
func acquireRunLock(ctx context.Context, rdb redis.UniversalClient, key string, ttl time.Duration) (*runLock, bool, error) {
	token, err := tokenlock.NewToken()
	if err != nil {
		return nil, false, fmt.Errorf("run lock: %w", err)
	}
	ok, err := tokenlock.Acquire(ctx, rdb, key, token, ttl)
	if err != nil {
		return nil, false, fmt.Errorf("run lock: %w", err)
	}
	return &runLock{rdb: rdb, key: key, token: token, ttl: ttl}, ok, nil
}

// keepAlive renews the lock every third of its TTL, on clk, until ctx is
// done. A renewal that fails (Redis unreachable, or the lock no longer
// ours: tokenlock.ErrNotHeld) is reported to lost once per run; the run
// goes on, and its commit's checkpoint check keeps a concurrent run from
// committing twice.
func (l *runLock) keepAlive(ctx context.Context, clk clock.Clock, lost func(error)) {
	every := l.ttl / 3
	reported := false
	for next := clk.Now().Add(every); ; next = next.Add(every) {
		if clk.SleepUntil(ctx, next) != nil {
			return
		}
		err := tokenlock.Renew(ctx, l.rdb, l.key, l.token, l.ttl)
		if ctx.Err() != nil {
			return
		}
		if err != nil && !reported {
			reported = true
			lost(fmt.Errorf("run lock: %w", err))
		}
	}
}

// release frees the lock if still ours.
func (l *runLock) release(ctx context.Context) error {
	if _, err := tokenlock.Release(ctx, l.rdb, l.key, l.token); err != nil {
		return fmt.Errorf("run lock: %w", err)
	}
	return nil
}
