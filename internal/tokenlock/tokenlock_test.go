package tokenlock

import (
	"context"
	"errors"
	"testing"
	"time"

	"heartbeat/internal/testinfra"
)

// TestLock walks one key through the holders' moves: each step is one
// call by one token, and what Redis holds afterwards.
func TestLock(t *testing.T) {
	t.Parallel()
	type step struct {
		name    string
		op      string // acquire, renew, release, expire (miniredis's clock moves past the TTL)
		token   string
		ok      bool          // acquire and release: the result
		notHeld bool          // renew: ErrNotHeld
		holder  string        // the key's value afterwards, "" if absent
		ttl     time.Duration // the key's TTL afterwards (a renewal first moves miniredis's clock 1 s)
	}
	const key, ttl = "hb:{lock}:test", 3 * time.Second
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"acquire renew release", []step{
			{name: "a acquires", op: "acquire", token: "a", ok: true, holder: "a", ttl: ttl},
			{name: "b is refused", op: "acquire", token: "b", ok: false, holder: "a", ttl: ttl},
			{name: "a renews", op: "renew", token: "a", holder: "a", ttl: ttl},
			{name: "a releases", op: "release", token: "a", ok: true, holder: ""},
			{name: "a releases again", op: "release", token: "a", ok: false, holder: ""},
		}},
		{"another token renews or releases nothing", []step{
			{name: "a acquires", op: "acquire", token: "a", ok: true, holder: "a", ttl: ttl},
			{name: "b cannot renew", op: "renew", token: "b", notHeld: true, holder: "a", ttl: ttl - time.Second},
			{name: "b cannot release", op: "release", token: "b", ok: false, holder: "a", ttl: ttl - time.Second},
		}},
		{"expired and taken over", []step{
			{name: "a acquires", op: "acquire", token: "a", ok: true, holder: "a", ttl: ttl},
			{name: "the TTL passes", op: "expire", holder: ""},
			{name: "a's renewal finds nothing", op: "renew", token: "a", notHeld: true, holder: ""},
			{name: "b acquires", op: "acquire", token: "b", ok: true, holder: "b", ttl: ttl},
			{name: "a cannot renew b's", op: "renew", token: "a", notHeld: true, holder: "b", ttl: ttl - time.Second},
			{name: "a cannot release b's", op: "release", token: "a", ok: false, holder: "b", ttl: ttl - time.Second},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mr, rdb := testinfra.Mini(t)
			ctx := context.Background()
			for _, s := range tc.steps {
				switch s.op {
				case "acquire":
					ok, err := Acquire(ctx, rdb, key, s.token, ttl)
					if err != nil || ok != s.ok {
						t.Fatalf("%s: Acquire = %v, %v; want %v", s.name, ok, err, s.ok)
					}
				case "renew":
					mr.FastForward(time.Second) // the renewal must restore the whole TTL
					err := Renew(ctx, rdb, key, s.token, ttl)
					if got := errors.Is(err, ErrNotHeld); got != s.notHeld || (err != nil && !s.notHeld) {
						t.Fatalf("%s: Renew = %v, want ErrNotHeld %v", s.name, err, s.notHeld)
					}
				case "release":
					ok, err := Release(ctx, rdb, key, s.token)
					if err != nil || ok != s.ok {
						t.Fatalf("%s: Release = %v, %v; want %v", s.name, ok, err, s.ok)
					}
				case "expire":
					mr.FastForward(ttl)
				default:
					t.Fatalf("unknown op %q", s.op)
				}
				holder, _ := mr.Get(key)
				if holder != s.holder {
					t.Fatalf("%s: the key holds %q, want %q", s.name, holder, s.holder)
				}
				if got := mr.TTL(key); got != s.ttl {
					t.Fatalf("%s: TTL %v, want %v", s.name, got, s.ttl)
				}
			}
		})
	}
}

func TestErrorsAreWrapped(t *testing.T) {
	t.Parallel()
	mr, rdb := testinfra.Mini(t)
	mr.SetError("LOADING")
	ctx := context.Background()
	if _, err := Acquire(ctx, rdb, "k", "a", time.Second); err == nil {
		t.Error("Acquire on a failing Redis: no error")
	}
	if err := Renew(ctx, rdb, "k", "a", time.Second); err == nil || errors.Is(err, ErrNotHeld) {
		t.Errorf("Renew on a failing Redis: %v, want an error other than ErrNotHeld", err)
	}
	if _, err := Release(ctx, rdb, "k", "a"); err == nil {
		t.Error("Release on a failing Redis: no error")
	}
}

func TestNewToken(t *testing.T) {
	t.Parallel()
	a, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 24 || a == b {
		t.Fatalf("tokens %q and %q: want two different 24-digit tokens", a, b)
	}
}
