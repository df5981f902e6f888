package scheduler

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"
)

// TestEventsLeaderCrashedAtAFaultStep crashes the leading replica at each
// fault step of the events loop, at XNYS's pre_open (14:29Z) and at its
// open (14:30Z) on Monday 2026-11-23, as a SIGKILL would: held at the
// step by Deps.Fault, it loses its Redis connection and its loops end
// without releasing the lease. The standby takes over once the lease
// expires and, from the cursor the crashed leader left, emits what is
// missing: each transition is in the stream once, in order. The terms
// say who appended each: killed before Emit, the standby appends the
// transition (term 2); killed after Emit, before the cursor moved, the
// crashed leader's event (term 1) stands and the standby's Emit of it is
// a duplicate.
func TestEventsLeaderCrashedAtAFaultStep(t *testing.T) {
	t.Parallel()
	preOpen, open := mon(14, 29, 0, 0), mon(14, 30, 0, 0)
	cases := []struct {
		step string
		at   time.Time // the instant of the transition the leader crashes at
		// leftBehind is the stream when the leader is held at the step.
		leftBehind []string
		want       []string
	}{
		{StepBeforeEmit, preOpen, nil,
			[]string{"XNYS pre_open 14:29:00 term 2", "XNYS open 14:30:00 term 2"}},
		{StepAfterEmit, preOpen, []string{"XNYS pre_open 14:29:00 term 1"},
			[]string{"XNYS pre_open 14:29:00 term 1", "XNYS open 14:30:00 term 2"}},
		{StepBeforeEmit, open, []string{"XNYS pre_open 14:29:00 term 1"},
			[]string{"XNYS pre_open 14:29:00 term 1", "XNYS open 14:30:00 term 2"}},
		{StepAfterEmit, open, []string{"XNYS pre_open 14:29:00 term 1", "XNYS open 14:30:00 term 1"},
			[]string{"XNYS pre_open 14:29:00 term 1", "XNYS open 14:30:00 term 1"}},
	}
	for _, tc := range cases {
		t.Run(tc.step+" at "+tc.at.Format("15:04"), func(t *testing.T) {
			t.Parallel()
			f := setup(t, mon(14, 28, 0, 0))
			// The leader's own connection, closed when it crashes.
			leaderRedis := redis.NewClient(&redis.Options{Addr: f.mr.Addr()})
			t.Cleanup(func() { _ = leaderRedis.Close() })
			reached, release := make(chan struct{}), make(chan struct{})
			fault := func(step string) {
				// The clock stands at tc.at until the crash: the
				// transition due then is the one being emitted.
				if step == tc.step && f.clk.Now().Equal(tc.at) {
					close(reached)
					<-release
				}
			}
			cfg := testConfig("a")
			a := f.startWith(t, cfg, f.client, func(d *Deps) { d.Redis, d.Fault = leaderRedis, fault })
			cfg.Replica = "b"
			f.start(t, cfg)
			holder(t, f.rdb, "a", 1)

			f.runUntil(t, tc.at.Add(-time.Millisecond))
			f.clk.Set(tc.at)
			select {
			case <-reached:
			case <-time.After(stopBound):
				t.Fatalf("the leader never reached %s at %s", tc.step, tc.at.Format("15:04:05"))
			}
			if diff := cmp.Diff(tc.leftBehind, streamed(t, f)); diff != "" {
				t.Fatalf("stream with the leader held at %s (-want +got):\n%s", tc.step, diff)
			}
			f.crash(t, a, leaderRedis, release)

			// The crashed leader's lease stands until it expires in
			// Redis (miniredis's time moves only when told): the standby
			// does not lead, and the stream does not change.
			f.runUntil(t, tc.at.Add(cfg.LeaseTTL))
			holder(t, f.rdb, "a", 1)
			if got := streamed(t, f); !slices.Equal(got, tc.leftBehind) {
				t.Fatalf("while the crashed leader's lease stood, the stream became %v, want %v", got, tc.leftBehind)
			}
			f.mr.FastForward(cfg.LeaseTTL)
			f.runUntil(t, mon(14, 30, 5, 0))
			holder(t, f.rdb, "b", 2)
			if diff := cmp.Diff(tc.want, streamed(t, f)); diff != "" {
				t.Fatalf("events stream (-want +got):\n%s", diff)
			}
		})
	}
}

// crash ends r as a SIGKILL would while its events loop is held in the
// fault hook until release is closed: its Redis connection rdb is closed
// first, so nothing it does afterwards reaches Redis, then its loops end
// without releasing the lease, which stays until it expires.
func (f *fixture) crash(t *testing.T, r *replica, rdb *redis.Client, release chan struct{}) {
	t.Helper()
	if err := rdb.Close(); err != nil {
		t.Fatalf("close the crashed replica's Redis client: %v", err)
	}
	r.s.cancel()
	close(release)
	done := make(chan struct{})
	go func() { r.s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(stopBound):
		t.Fatalf("the crashed replica's loops did not end within %s", stopBound)
	}
	r.stopped = true
	f.loops -= r.loops
}
