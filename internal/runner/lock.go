package runner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"heartbeat/internal/clock"
)

// runLock is held while one job part runs, so a job never runs
// concurrently with its own previous slot. It has a short TTL, renewed
// while the run lasts, so a worker that dies frees it within the TTL.
type runLock struct {
	rdb   redis.UniversalClient
	key   string
	token string
	ttl   time.Duration
}

// renewLockScript extends the lock if it still holds our token.
// KEYS[1]: lock. ARGV[1]: token; ARGV[2]: TTL ms. Result: 1 or 0.
var renewLockScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
`)

// releaseLockScript deletes the lock if it holds our token.
// KEYS[1]: lock. ARGV[1]: token. Result: 1 or 0.
var releaseLockScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
`)

// lockTTL is the run lock's TTL for a job interval.
func lockTTL(interval time.Duration) time.Duration { return max(3*time.Second, 3*interval) }

// acquireRunLock takes the lock, or returns ok=false if a run holds it.
func acquireRunLock(ctx context.Context, rdb redis.UniversalClient, key string, ttl time.Duration) (*runLock, bool, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, false, fmt.Errorf("run lock token: %w", err)
	}
	l := &runLock{rdb: rdb, key: key, token: hex.EncodeToString(b[:]), ttl: ttl}
	ok, err := rdb.SetNX(ctx, key, l.token, ttl).Result()
	if err != nil {
		return nil, false, fmt.Errorf("acquire run lock %s: %w", key, err)
	}
	return l, ok, nil
}

// keepAlive renews the lock every third of its TTL, on clk, until ctx is
// done. A renewal that fails (Redis unreachable, or the lock no longer
// ours) is reported to lost once per run; the run goes on, and its
// commit's checkpoint check keeps a concurrent run from committing twice.
func (l *runLock) keepAlive(ctx context.Context, clk clock.Clock, lost func(error)) {
	every := l.ttl / 3
	reported := false
	for next := clk.Now().Add(every); ; next = next.Add(every) {
		if clk.SleepUntil(ctx, next) != nil {
			return
		}
		n, err := renewLockScript.Run(ctx, l.rdb, []string{l.key}, l.token, l.ttl.Milliseconds()).Int()
		if ctx.Err() != nil {
			return
		}
		if err == nil && n == 0 {
			err = errLockLost
		}
		if err != nil && !reported {
			reported = true
			lost(fmt.Errorf("renew run lock %s: %w", l.key, err))
		}
	}
}

// errLockLost is a renewal's error when the lock holds another token, or
// none: it expired before the renewal.
var errLockLost = errors.New("the lock is no longer ours")

// release frees the lock if still ours.
func (l *runLock) release(ctx context.Context) error {
	if err := releaseLockScript.Run(ctx, l.rdb, []string{l.key}, l.token).Err(); err != nil {
		return fmt.Errorf("release run lock %s: %w", l.key, err)
	}
	return nil
}
