// Package tokenlock is the one token-checked lock of Heartbeat, on one
// Redis key: a holder sets the key to a token of its own with a TTL and
// renews or releases it only while the key still holds that token, so a
// holder whose lock expired and was taken by another can never extend or
// delete the other's. The scheduler's leader lease (whose token is
// "<replica>:<term>", acquired with its own fencing script) and the
// workers' run lock (a random token) both renew and release through it.
// Callers build the keys in package keys.
package tokenlock

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// renewScript extends the lock if it still holds the token.
// KEYS[1]: the lock. ARGV[1]: the token; ARGV[2]: the new TTL in ms.
// Result: 1 renewed, 0 the lock holds another token or none.
var renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`)

// releaseScript deletes the lock if it holds the token.
// KEYS[1]: the lock. ARGV[1]: the token.
// Result: 1 released, 0 the lock holds another token or none.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
`)

// ErrNotHeld is a renewal's error when the lock holds another token, or
// none: it expired before the renewal.
var ErrNotHeld = errors.New("the lock is no longer ours")

// NewToken returns a random token (24 hex digits) for a holder that has
// no identity of its own.
func NewToken() (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("lock token: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// Acquire sets key to token for ttl if the key is absent (SET NX PX). It
// returns false, and no error, when another holder has it.
func Acquire(ctx context.Context, rdb redis.UniversalClient, key, token string, ttl time.Duration) (bool, error) {
	ok, err := rdb.SetNX(ctx, key, token, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("acquire lock %s: %w", key, err)
	}
	return ok, nil
}

// Renew sets key's TTL to ttl if the key still holds token. It returns an
// error wrapping ErrNotHeld when it does not (nothing is changed).
func Renew(ctx context.Context, rdb redis.UniversalClient, key, token string, ttl time.Duration) error {
	n, err := renewScript.Run(ctx, rdb, []string{key}, token, ttl.Milliseconds()).Int()
	if err != nil {
		return fmt.Errorf("renew lock %s: %w", key, err)
	}
	if n == 0 {
		return fmt.Errorf("renew lock %s: %w", key, ErrNotHeld)
	}
	return nil
}

// Release deletes key if it holds token, and reports whether it did: a
// lock that expired, or that another holder took since, is left alone.
func Release(ctx context.Context, rdb redis.UniversalClient, key, token string) (bool, error) {
	n, err := releaseScript.Run(ctx, rdb, []string{key}, token).Int()
	if err != nil {
		return false, fmt.Errorf("release lock %s: %w", key, err)
	}
	return n == 1, nil
}
