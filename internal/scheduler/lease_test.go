package scheduler

import (
	"context"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"heartbeat/internal/keys"
	"heartbeat/internal/testinfra"
)

// leaseTTL is the lease TTL of the lease tests; its margin is a tenth.
const leaseTTL = 2 * time.Second

// leaseFixture is a miniredis and the instant the tests send from.
type leaseFixture struct {
	mr  *miniredis.Miniredis
	rdb *redis.Client
	t0  time.Time
}

func setupLease(t *testing.T) leaseFixture {
	t.Helper()
	mr, rdb := testinfra.Mini(t)
	return leaseFixture{mr: mr, rdb: rdb, t0: time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)}
}

// try calls l.Try at sent and fails the test on an error or an unexpected
// result.
func try(t *testing.T, l *Lease, sent time.Time, wantHeld, wantAcquired bool) {
	t.Helper()
	held, acquired, err := l.Try(context.Background(), sent)
	if err != nil {
		t.Fatalf("%s: Try: %v", l.replica, err)
	}
	if held != wantHeld || acquired != wantAcquired {
		t.Fatalf("%s: Try = held %v, acquired %v; want %v, %v", l.replica, held, acquired, wantHeld, wantAcquired)
	}
}

// holder fails the test unless the lease in Redis is replica's with term.
func holder(t *testing.T, rdb redis.UniversalClient, replica string, term int64) {
	t.Helper()
	r, n, err := Holder(context.Background(), rdb)
	if err != nil {
		t.Fatalf("Holder: %v", err)
	}
	if r != replica || n != term {
		t.Fatalf("Holder = %q, %d; want %q, %d", r, n, replica, term)
	}
}

func TestLeaseAcquireFree(t *testing.T) {
	t.Parallel()
	f := setupLease(t)
	a := NewLease(f.rdb, "a", leaseTTL)
	try(t, a, f.t0, true, true)
	if a.Term() != 1 {
		t.Fatalf("Term = %d, want 1", a.Term())
	}
	if want := f.t0.Add(leaseTTL - leaseTTL/10); !a.ValidUntil().Equal(want) {
		t.Fatalf("ValidUntil = %s, want sent + TTL - margin = %s", a.ValidUntil(), want)
	}
	if ttl := f.mr.TTL(keys.Lease()); ttl != leaseTTL {
		t.Fatalf("lease TTL in Redis = %s, want %s", ttl, leaseTTL)
	}
	holder(t, f.rdb, "a", 1)
}

func TestLeaseHeldByAnother(t *testing.T) {
	t.Parallel()
	f := setupLease(t)
	a, b := NewLease(f.rdb, "a", leaseTTL), NewLease(f.rdb, "b", leaseTTL)
	try(t, a, f.t0, true, true)
	for i := range 3 {
		try(t, b, f.t0.Add(time.Duration(i)*500*time.Millisecond), false, false)
	}
	if b.Held(f.t0) || !b.ValidUntil().IsZero() || b.Term() != 0 {
		t.Fatalf("standby: Held %v, ValidUntil %s, Term %d; want false, zero, 0", b.Held(f.t0), b.ValidUntil(), b.Term())
	}
	holder(t, f.rdb, "a", 1)
}

func TestLeaseRenew(t *testing.T) {
	t.Parallel()
	f := setupLease(t)
	a := NewLease(f.rdb, "a", leaseTTL)
	try(t, a, f.t0, true, true)
	for i := 1; i <= 5; i++ {
		sent := f.t0.Add(time.Duration(i) * 500 * time.Millisecond)
		f.mr.FastForward(500 * time.Millisecond)
		try(t, a, sent, true, false)
		if a.Term() != 1 {
			t.Fatalf("renewal %d changed the term to %d", i, a.Term())
		}
		if want := sent.Add(leaseTTL - leaseTTL/10); !a.ValidUntil().Equal(want) {
			t.Fatalf("renewal %d: ValidUntil = %s, want %s", i, a.ValidUntil(), want)
		}
		if ttl := f.mr.TTL(keys.Lease()); ttl != leaseTTL {
			t.Fatalf("renewal %d: TTL in Redis = %s, want %s", i, ttl, leaseTTL)
		}
	}
	holder(t, f.rdb, "a", 1)
}

// TestLeaseHeldUntilMargin checks that a replica stops counting itself
// leader at sent + TTL - margin, while Redis still holds its key.
func TestLeaseHeldUntilMargin(t *testing.T) {
	t.Parallel()
	f := setupLease(t)
	a := NewLease(f.rdb, "a", leaseTTL)
	try(t, a, f.t0, true, true)
	end := f.t0.Add(leaseTTL - leaseTTL/10)
	tests := []struct {
		at   time.Time
		want bool
	}{
		{f.t0, true},
		{end.Add(-time.Nanosecond), true},
		{end, false},
		{f.t0.Add(leaseTTL), false},
	}
	for _, tt := range tests {
		if got := a.Held(tt.at); got != tt.want {
			t.Fatalf("Held(%s) = %v, want %v", tt.at, got, tt.want)
		}
	}
	f.mr.FastForward(leaseTTL - leaseTTL/10)
	if !f.mr.Exists(keys.Lease()) {
		t.Fatal("the lease expired in Redis before the holder stopped counting itself leader")
	}
}

// TestLeaseRenewFailsWhileRedisDown checks that a leader cut off from
// Redis stays leader only until its last successful renewal's sent + TTL -
// margin, before the key can expire, and renews again when Redis is back.
func TestLeaseRenewFailsWhileRedisDown(t *testing.T) {
	t.Parallel()
	f := setupLease(t)
	a := NewLease(f.rdb, "a", leaseTTL)
	try(t, a, f.t0, true, true)
	f.mr.SetError("ERR redis is down for the test")
	for _, d := range []time.Duration{500 * time.Millisecond, 1000 * time.Millisecond, 1799 * time.Millisecond, 1800 * time.Millisecond} {
		sent := f.t0.Add(d)
		held, acquired, err := a.Try(context.Background(), sent)
		if err == nil {
			t.Fatalf("Try at +%s while Redis fails: no error", d)
		}
		if want := d < leaseTTL-leaseTTL/10; held != want || acquired {
			t.Fatalf("Try at +%s while Redis fails = held %v, acquired %v; want %v, false", d, held, acquired, want)
		}
		if want := f.t0.Add(leaseTTL - leaseTTL/10); !a.ValidUntil().Equal(want) {
			t.Fatalf("a failed renewal moved ValidUntil to %s", a.ValidUntil())
		}
	}
	f.mr.SetError("")
	try(t, a, f.t0.Add(1900*time.Millisecond), true, false)
	if a.Term() != 1 {
		t.Fatalf("Term = %d after renewing, want 1", a.Term())
	}
}

func TestLeaseTermsGrow(t *testing.T) {
	t.Parallel()
	f := setupLease(t)
	a, b := NewLease(f.rdb, "a", leaseTTL), NewLease(f.rdb, "b", leaseTTL)
	ctx := context.Background()
	now := f.t0

	try(t, a, now, true, true) // term 1
	if err := a.Release(ctx); err != nil {
		t.Fatal(err)
	}
	try(t, b, now, true, true) // term 2: released, taken at once
	holder(t, f.rdb, "b", 2)
	if err := b.Release(ctx); err != nil {
		t.Fatal(err)
	}
	try(t, a, now, true, true) // term 3: a again, with a new term
	if a.Term() != 3 {
		t.Fatalf("a's second term = %d, want 3", a.Term())
	}
	// a's key expires without a renewal; a's next Try takes a new term.
	f.mr.FastForward(leaseTTL)
	now = now.Add(leaseTTL)
	try(t, a, now, true, true)
	if a.Term() != 4 {
		t.Fatalf("term after the key expired = %d, want 4", a.Term())
	}
	holder(t, f.rdb, "a", 4)
}

// TestLeaseLearnsTermsFromTheHolder: a replica that finds the lease held
// reads how long it has left and the holder's term, so that when the term
// counter was lost (a failover that dropped the INCR) its own next term
// still exceeds every term it saw.
func TestLeaseLearnsTermsFromTheHolder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		value    string // the other holder's lease; no term counter in Redis
		wantTerm int64  // a's term once the other's lease expired
	}{
		{"replica and term", "b:7", 8},
		{"host:pid replica names keep their colon", "host-1:4242:12", 13},
		{"an empty replica name", ":7", 8},
		{"no term", "legacy", 1},
		{"a term that is not a number", "b:x", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setupLease(t)
			if err := f.mr.Set(keys.Lease(), tt.value); err != nil {
				t.Fatal(err)
			}
			f.mr.SetTTL(keys.Lease(), 1500*time.Millisecond)
			a := NewLease(f.rdb, "a", leaseTTL)
			try(t, a, f.t0, false, false)
			if got := a.ExpiresIn(); got != 1500*time.Millisecond {
				t.Fatalf("ExpiresIn = %s, want the holder's 1.5s", got)
			}
			f.mr.FastForward(1500 * time.Millisecond)
			try(t, a, f.t0.Add(1500*time.Millisecond), true, true)
			if a.Term() != tt.wantTerm || a.ExpiresIn() != 0 {
				t.Fatalf("after %q expired: Term %d, ExpiresIn %s; want %d, 0", tt.value, a.Term(), a.ExpiresIn(), tt.wantTerm)
			}
			holder(t, f.rdb, "a", tt.wantTerm)
		})
	}
}

func TestLeaseRelease(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// run leaves a having held the lease, and returns who holds it now.
		run        func(t *testing.T, f leaseFixture, a, b *Lease) (replica string, term int64)
		wantHolder string
		wantTerm   int64
	}{
		{
			name: "release frees the lease for another at once",
			run: func(t *testing.T, f leaseFixture, a, b *Lease) (string, int64) {
				try(t, a, f.t0, true, true)
				if err := a.Release(context.Background()); err != nil {
					t.Fatal(err)
				}
				if a.Held(f.t0) {
					t.Fatal("still Held after Release")
				}
				holder(t, f.rdb, "", 0)
				try(t, b, f.t0, true, true)
				return "b", 2
			},
		},
		{
			name: "release of a lease another replica took since does nothing",
			run: func(t *testing.T, f leaseFixture, a, b *Lease) (string, int64) {
				try(t, a, f.t0, true, true)
				f.mr.FastForward(leaseTTL) // a's key expires, a does not know
				try(t, b, f.t0.Add(leaseTTL), true, true)
				if err := a.Release(context.Background()); err != nil {
					t.Fatal(err)
				}
				return "b", 2
			},
		},
		{
			name: "release without holding does nothing",
			run: func(t *testing.T, f leaseFixture, a, b *Lease) (string, int64) {
				try(t, b, f.t0, true, true)
				try(t, a, f.t0, false, false)
				if err := a.Release(context.Background()); err != nil {
					t.Fatal(err)
				}
				return "b", 1
			},
		},
		{
			name: "release twice",
			run: func(t *testing.T, f leaseFixture, a, b *Lease) (string, int64) {
				try(t, a, f.t0, true, true)
				for range 2 {
					if err := a.Release(context.Background()); err != nil {
						t.Fatal(err)
					}
				}
				return "", 0
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setupLease(t)
			a, b := NewLease(f.rdb, "a", leaseTTL), NewLease(f.rdb, "b", leaseTTL)
			replica, term := tt.run(t, f, a, b)
			holder(t, f.rdb, replica, term)
		})
	}
}

func TestHolder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		value       string // "" leaves the key absent
		wantReplica string
		wantTerm    int64
	}{
		{"absent", "", "", 0},
		{"replica and term", "a:7", "a", 7},
		{"host:pid replica names keep their colon", "host-1:4242:12", "host-1:4242", 12},
		{"no term", "legacy", "legacy", 0},
		{"an empty replica name", ":7", "", 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setupLease(t)
			if tt.value != "" {
				if err := f.mr.Set(keys.Lease(), tt.value); err != nil {
					t.Fatal(err)
				}
			}
			holder(t, f.rdb, tt.wantReplica, tt.wantTerm)
		})
	}
}

func TestHolderRedisError(t *testing.T) {
	t.Parallel()
	f := setupLease(t)
	f.mr.SetError("ERR down")
	if _, _, err := Holder(context.Background(), f.rdb); err == nil {
		t.Fatal("Holder: no error while Redis fails")
	}
}

// TestLeaseExpiresOnRealRedis lets a real redis-server expire a lease
// nobody renews: the standby acquires it, with the next term, only after
// the holder has stopped counting itself leader.
func TestLeaseExpiresOnRealRedis(t *testing.T) {
	t.Parallel()
	srv := testinfra.StartRedis(t)
	rdb := srv.Client()
	ctx := context.Background()
	const ttl = 300 * time.Millisecond
	a, b := NewLease(rdb, "a", ttl), NewLease(rdb, "b", ttl)

	sent := time.Now()
	if held, acquired, err := a.Try(ctx, sent); err != nil || !held || !acquired {
		t.Fatalf("a: Try = %v, %v, %v", held, acquired, err)
	}
	if held, _, err := b.Try(ctx, time.Now()); err != nil || held {
		t.Fatalf("b acquired a held lease: %v, %v", held, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		now := time.Now()
		held, acquired, err := b.Try(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		if held {
			if !acquired || b.Term() != 2 {
				t.Fatalf("b: acquired %v, term %d; want true, 2", acquired, b.Term())
			}
			if !now.After(a.ValidUntil()) {
				t.Fatalf("b acquired at %s, before a stopped leading at %s", now, a.ValidUntil())
			}
			if now.Sub(sent) < ttl-20*time.Millisecond {
				t.Fatalf("the lease expired %s after a acquired it, TTL %s", now.Sub(sent), ttl)
			}
			break
		}
		if now.After(deadline) {
			t.Fatal("the lease did not expire in 5s")
		}
		<-tick.C
	}
	// a's renewal fails: the lease is b's.
	held, acquired, err := a.Try(ctx, time.Now())
	if err != nil || held || acquired {
		t.Fatalf("a: Try after losing = %v, %v, %v; want false, false, nil", held, acquired, err)
	}
	holder(t, rdb, "b", 2)
}
