package scheduler

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"heartbeat/internal/keys"
	"heartbeat/internal/tokenlock"
)

// The leader lease.
//
// One key, hb:{scheduler}:lease, holds "<replica>:<term>" with a TTL. A
// replica acquires it only when it is absent, taking the next term from
// the counter hb:{scheduler}:term in the same script, so terms only grow.
// The holder renews it every renew interval, well before the TTL, through
// tokenlock, whose script checks the value is still its own; a renewal
// that fails or errs does not extend anything. A replica counts itself leader only until
// the instant it sent its last successful renewal plus the TTL minus a
// margin: a leader cut off from Redis stops enqueuing before its lease can
// expire and another replica can take over. On shutdown the holder deletes
// the lease (tokenlock.Release: again checking it is its own), so a
// standby takes over at its next attempt instead of waiting for the TTL.

// acquireScript takes the lease if it is free.
// KEYS[1]: lease; KEYS[2]: term counter. ARGV[1]: replica; ARGV[2]: TTL
// ms; ARGV[3]: the highest term the replica has seen (the counter is
// raised past it if Redis lost its data, so terms keep growing).
// Result: {new term, 0, ""} when acquired; {0, remaining TTL ms, holder's
// value} when another replica holds it.
var acquireScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v then return {0, redis.call('PTTL', KEYS[1]), v} end
local term = redis.call('INCR', KEYS[2])
local seen = tonumber(ARGV[3])
if term <= seen then
  term = seen + 1
  redis.call('SET', KEYS[2], term)
end
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. term, 'PX', ARGV[2])
return {term, 0, ''}
`)

// Lease is one replica's view of the leader lease. It is not safe for
// concurrent use; the scheduler's lease loop owns it and publishes its
// state.
type Lease struct {
	rdb     redis.UniversalClient
	replica string
	ttl     time.Duration
	margin  time.Duration

	term       int64
	value      string
	validUntil time.Time
	seen       int64         // highest term seen, ours or another holder's
	expiresIn  time.Duration // another holder's remaining TTL at the last attempt
}

// NewLease returns a lease handle for a replica.
func NewLease(rdb redis.UniversalClient, replica string, ttl time.Duration) *Lease {
	return &Lease{rdb: rdb, replica: replica, ttl: ttl, margin: ttl / 10}
}

// Term returns the term of the lease held (or last held).
func (l *Lease) Term() int64 { return l.term }

// ValidUntil returns the instant until which this replica may act as
// leader (zero when it does not hold the lease).
func (l *Lease) ValidUntil() time.Time { return l.validUntil }

// Held reports whether the lease is held and valid at now.
func (l *Lease) Held(now time.Time) bool { return now.Before(l.validUntil) }

// Try acquires the lease if it is free, or renews it if held; sent is the
// instant the request leaves, from the caller's clock. It returns whether
// the lease is held afterwards and whether it was newly acquired.
func (l *Lease) Try(ctx context.Context, sent time.Time) (held, acquired bool, err error) {
	ttl := strconv.FormatInt(l.ttl.Milliseconds(), 10)
	if l.value != "" {
		err := tokenlock.Renew(ctx, l.rdb, keys.Lease(), l.value, l.ttl)
		if err == nil {
			l.validUntil = sent.Add(l.ttl - l.margin)
			return true, false, nil
		}
		if !errors.Is(err, tokenlock.ErrNotHeld) {
			return l.Held(sent), false, fmt.Errorf("lease: %w", err)
		}
		l.value, l.validUntil = "", time.Time{}
	}
	res, err := acquireScript.Run(ctx, l.rdb, []string{keys.Lease(), keys.Term()}, l.replica, ttl, l.seen).Slice()
	if err != nil {
		return false, false, fmt.Errorf("acquire lease: %w", err)
	}
	if len(res) != 3 {
		return false, false, fmt.Errorf("acquire lease: unexpected reply %v", res)
	}
	term, _ := res[0].(int64)
	if term == 0 {
		pttl, _ := res[1].(int64)
		l.expiresIn = time.Duration(max(pttl, 0)) * time.Millisecond
		if holder, _ := res[2].(string); holder != "" {
			if i := strings.LastIndexByte(holder, ':'); i >= 0 {
				if t, err := strconv.ParseInt(holder[i+1:], 10, 64); err == nil {
					l.seen = max(l.seen, t)
				}
			}
		}
		return false, false, nil
	}
	l.term, l.value, l.validUntil = term, l.replica+":"+strconv.FormatInt(term, 10), sent.Add(l.ttl-l.margin)
	l.seen, l.expiresIn = max(l.seen, term), 0
	return true, true, nil
}

// ExpiresIn returns, after a failed acquisition, how long the holder's
// lease had left: a standby retries right after it rather than a whole
// renew interval later.
func (l *Lease) ExpiresIn() time.Duration { return l.expiresIn }

// Release gives the lease up if held.
func (l *Lease) Release(ctx context.Context) error {
	if l.value == "" {
		return nil
	}
	value := l.value
	l.value, l.validUntil = "", time.Time{}
	if _, err := tokenlock.Release(ctx, l.rdb, keys.Lease(), value); err != nil {
		return fmt.Errorf("lease: %w", err)
	}
	return nil
}

// Holder returns who holds the lease now, as "<replica>:<term>", or "".
func Holder(ctx context.Context, rdb redis.UniversalClient) (replica string, term int64, err error) {
	v, err := rdb.Get(ctx, keys.Lease()).Result()
	if err == redis.Nil {
		return "", 0, nil
	}
	if err != nil {
		return "", 0, fmt.Errorf("read lease: %w", err)
	}
	i := strings.LastIndexByte(v, ':')
	if i < 0 {
		return v, 0, nil
	}
	term, _ = strconv.ParseInt(v[i+1:], 10, 64)
	return v[:i], term, nil
}
