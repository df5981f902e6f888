package scheduler

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"heartbeat/internal/jobs"
	"heartbeat/internal/keys"
	"heartbeat/internal/metrics"
	"heartbeat/internal/runlog"
)

// TestCatchUpCounts calls catchUp directly on a replica that is not
// started, so that what it counts is all that runs: the failures this
// replica decided but never recorded (Redis knows an older slot), and a
// latest-policy catch-up whose one missed slot is fired.
func TestCatchUpCounts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		latest     bool
		redisLast  time.Time // zero: none recorded
		ourLast    time.Time // the replica's lastSlot
		unrecorded int
		current    time.Time
		now        time.Time
		want       map[string]float64
		enqueued   int
	}{
		{"our own unrecorded failures, Redis behind", false, mon(15, 0, 2, 0), mon(15, 0, 5, 0), 3,
			mon(15, 0, 6, 0), mon(15, 0, 5, 900), map[string]float64{string(runlog.Missed): 3}, 0},
		{"latest policy, one missed slot: fired, nothing counted missed", true, mon(15, 0, 4, 0), time.Time{}, 0,
			mon(15, 0, 6, 0), mon(15, 0, 5, 500), map[string]float64{string(runlog.Enqueued): 2}, 2},
		{"skip policy, one missed slot: counted", false, mon(15, 0, 4, 0), time.Time{}, 0,
			mon(15, 0, 6, 0), mon(15, 0, 5, 500), map[string]float64{string(runlog.Missed): 2}, 0},
		{"nothing missed, nothing of our own: no outcome", false, mon(15, 0, 5, 0), mon(15, 0, 5, 0), 0,
			mon(15, 0, 6, 0), mon(15, 0, 5, 900), map[string]float64{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, tt.now)
			jc := job(t, jobs.Intraday)
			if tt.latest {
				jc.Spec.Policy.CatchUp = jobs.CatchUpLatest
			}
			r := unstarted(t, f, jc)
			s := r.s
			ctx := context.Background()
			if !tt.redisLast.IsZero() {
				if err := f.rdb.HSet(ctx, keys.LastSlots(), string(jobs.Intraday), tt.redisLast.UnixMilli()).Err(); err != nil {
					t.Fatal(err)
				}
			}
			j := s.jobs[0]
			j.lastSlot, j.unrecorded = tt.ourLast, tt.unrecorded
			s.catchUp(ctx, j, tt.current, tt.now, 1)
			if diff := cmp.Diff(tt.want, r.counts(jobs.Intraday)); diff != "" {
				t.Fatalf("slot outcomes (-want +got):\n%s", diff)
			}
			wantOutcome := ""
			for o := range tt.want {
				wantOutcome = o // the last count is of the only outcome
			}
			if _, _, js := s.Status(tt.now); js[0].LastOutcome != wantOutcome {
				t.Fatalf("last outcome %q, want %q", js[0].LastOutcome, wantOutcome)
			}
			if got := len(r.rec.enqueued()); got != tt.enqueued {
				t.Fatalf("enqueued %d tasks, want %d", got, tt.enqueued)
			}
			if j.unrecorded != 0 {
				t.Fatalf("unrecorded = %d after the catch-up, want 0", j.unrecorded)
			}
		})
	}
}

// unstarted builds a replica with one job and does not start it: its
// methods run only when a test calls them.
func unstarted(t *testing.T, f *fixture, jc JobConfig) *replica {
	t.Helper()
	r := &replica{m: metrics.New(), rec: &recorder{clk: f.clk, next: f.client}}
	s, err := New(testConfig("a", jc), Deps{Redis: f.rdb, Enqueuer: r.rec, Instruments: f.in, Clock: f.clk, Log: f.log, Metrics: r.m})
	if err != nil {
		t.Fatal(err)
	}
	r.s = s
	return r
}

// TestRecordSlotCountsUnrecorded: recording a slot counts the tasks not
// run since the last record as missed, and only then; a record with none
// leaves the job's last outcome as the slot's own.
func TestRecordSlotCountsUnrecorded(t *testing.T) {
	t.Parallel()
	f := setup(t, mon(15, 0, 1, 0))
	r := unstarted(t, f, job(t, jobs.Intraday))
	s, j := r.s, r.s.jobs[0]
	ctx := context.Background()
	lastOutcome := func() string {
		_, _, js := s.Status(mon(15, 0, 1, 0))
		return js[0].LastOutcome
	}
	s.count(j, runlog.Enqueued, 2)
	s.recordSlot(ctx, j, mon(15, 0, 1, 0))
	if got := lastOutcome(); got != string(runlog.Enqueued) {
		t.Fatalf("last outcome %q after a slot enqueued and recorded, want %q", got, runlog.Enqueued)
	}
	j.addUnrecorded(2)
	s.recordSlot(ctx, j, mon(15, 0, 2, 0))
	if got := lastOutcome(); got != string(runlog.Missed) {
		t.Fatalf("last outcome %q after two unrecorded tasks, want %q", got, runlog.Missed)
	}
	want := map[string]float64{string(runlog.Enqueued): 2, string(runlog.Missed): 2}
	if diff := cmp.Diff(want, r.counts(jobs.Intraday)); diff != "" {
		t.Fatalf("slot outcomes (-want +got):\n%s", diff)
	}
	if got, err := f.rdb.HGet(ctx, keys.LastSlots(), string(jobs.Intraday)).Int64(); err != nil || got != mon(15, 0, 2, 0).UnixMilli() {
		t.Fatalf("last slot recorded %d (%v), want 15:00:02", got, err)
	}
}

// TestSchedulerStandbyWithoutHolderExpiry: a holder whose lease key has
// no expiry (PTTL -1, so ExpiresIn is 0) gives a standby nothing to wait
// for: it tries again at its regular renew interval, not a millisecond
// later.
func TestSchedulerStandbyWithoutHolderExpiry(t *testing.T) {
	t.Parallel()
	f := setup(t, mon(15, 0, 0, 0))
	if err := f.mr.Set(keys.Lease(), "z:5"); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig("b", job(t, jobs.Intraday))
	cfg.RenewEvery, cfg.LeaseTTL = 2*time.Second, 5*time.Second
	f.start(t, cfg)
	got := f.clk.Sleepers()
	if slices.ContainsFunc(got, mon(15, 0, 0, 1).Equal) || !slices.ContainsFunc(got, mon(15, 0, 2, 0).Equal) {
		t.Fatalf("sleepers %v: want the standby's next attempt at 15:00:02, none at 15:00:00.001", got)
	}
}
