package scheduler

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"

	"heartbeat/internal/jobs"
	"heartbeat/internal/keys"
	"heartbeat/internal/metrics"
	"heartbeat/internal/runlog"
	"heartbeat/internal/tasks"
)

// failingEnqueuer fails the enqueues of the slots in fail and passes the
// others on to next.
type failingEnqueuer struct {
	next Enqueuer
	fail map[time.Time]bool
	err  error
}

func (e *failingEnqueuer) EnqueueContext(ctx context.Context, task *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error) {
	p, err := decodeSlot(task)
	if err != nil {
		return nil, err
	}
	if e.fail[p] {
		return nil, e.err
	}
	return e.next.EnqueueContext(ctx, task, opts...)
}

// decodeSlot returns the slot of a task's payload.
func decodeSlot(task *asynq.Task) (time.Time, error) {
	p, err := tasks.Decode(task)
	return p.Slot, err
}

// TestSchedulerEnqueueFails makes the enqueues of one slot fail: its two
// tasks are counted missed (not enqueued), the outage is logged once when
// it starts and once when it ends (the slot's record, right after, is the
// next command to succeed), and the next slots are enqueued as usual.
func TestSchedulerEnqueueFails(t *testing.T) {
	t.Parallel()
	intraday := job(t, jobs.Intraday)
	f := setup(t, mon(15, 0, 0, 500))
	var logs logBuffer
	f.log = fakeTimeLogger(&logs, f.clk)
	boom := errors.New("connection refused")
	failing := &failingEnqueuer{next: f.client, fail: map[time.Time]bool{mon(15, 0, 2, 0): true}, err: boom}
	r := f.startWith(t, testConfig("a", intraday), failing)

	f.runUntil(t, mon(15, 0, 4, 0))
	if err := r.s.Ready(); err != nil {
		t.Fatalf("Ready() = %v after enqueues succeeded again", err)
	}

	want := onTime(intraday, 1, mon(15, 0, 1, 0), mon(15, 0, 3, 0), mon(15, 0, 4, 0))
	if diff := cmp.Diff(want, r.rec.enqueued()); diff != "" {
		t.Fatalf("enqueued (-want +got):\n%s", diff)
	}
	wantCounts := map[string]float64{string(runlog.Enqueued): 6, string(runlog.Missed): 2}
	if diff := cmp.Diff(wantCounts, r.counts(jobs.Intraday)); diff != "" {
		t.Fatalf("slot outcomes (-want +got):\n%s", diff)
	}
	var got []logLine
	for _, l := range logs.lines(t) {
		if l.Message == "redis unavailable: not enqueuing; retrying" || l.Message == "redis reachable again" {
			got = append(got, l)
		}
	}
	wantLogs := []logLine{
		{At: mon(15, 0, 1, 900), Level: "error", Message: "redis unavailable: not enqueuing; retrying", Err: true},
		// The first command to succeed after it is the slot's record.
		{At: mon(15, 0, 1, 900), Level: "info", Message: "redis reachable again"},
	}
	if diff := cmp.Diff(wantLogs, got); diff != "" {
		t.Fatalf("outage log (-want +got):\n%s", diff)
	}
}

// TestSchedulerSlotReachedLate moves the clock past several slots at once,
// as a process stalled (a GC pause, a suspended VM) would find it: slots
// whose interval has ended by the time the loop reaches them are counted
// missed and not enqueued; the slot still within its interval, and the
// current one, are enqueued at once, late; the next one on time.
func TestSchedulerSlotReachedLate(t *testing.T) {
	t.Parallel()
	intraday := job(t, jobs.Intraday)
	f := setup(t, mon(15, 0, 0, 500))
	cfg := testConfig("a", intraday)
	// The lease outlives the stall, so the replica leads throughout and
	// what is tested is the slots' lateness alone.
	cfg.LeaseTTL = time.Minute
	r := f.start(t, cfg)

	f.clk.Set(mon(15, 0, 5, 0)) // slots 01, 02 and 03 ended unseen; 04 ends now
	f.runUntil(t, mon(15, 0, 6, 0))

	var want []enqueued
	want = append(want, expect(intraday, 1, mon(15, 0, 4, 0), mon(15, 0, 5, 0), "0", "1")...)
	want = append(want, expect(intraday, 1, mon(15, 0, 5, 0), mon(15, 0, 5, 0), "0", "1")...)
	want = append(want, onTime(intraday, 1, mon(15, 0, 6, 0))...)
	if diff := cmp.Diff(want, r.rec.enqueued()); diff != "" {
		t.Fatalf("enqueued (-want +got):\n%s", diff)
	}
	wantCounts := map[string]float64{string(runlog.Enqueued): 6, string(runlog.Missed): 6}
	if diff := cmp.Diff(wantCounts, r.counts(jobs.Intraday)); diff != "" {
		t.Fatalf("slot outcomes (-want +got):\n%s", diff)
	}
	last, err := f.rdb.HGet(context.Background(), keys.LastSlots(), string(jobs.Intraday)).Int64()
	if err != nil || last != mon(15, 0, 6, 0).UnixMilli() {
		t.Fatalf("last slot recorded = %d (err %v), want %d", last, err, mon(15, 0, 6, 0).UnixMilli())
	}
}

// blockingEnqueuer blocks every enqueue, whatever its context, until
// released: a loop stuck in a call that ignores cancellation.
type blockingEnqueuer struct {
	entered chan struct{} // closed at the first enqueue
	release chan struct{}
	once    sync.Once
}

func (e *blockingEnqueuer) EnqueueContext(context.Context, *asynq.Task, ...asynq.Option) (*asynq.TaskInfo, error) {
	e.once.Do(func() { close(e.entered) })
	<-e.release
	return &asynq.TaskInfo{}, nil
}

// TestSchedulerStopTimesOut stops a replica whose job loop is stuck in an
// enqueue: Stop returns when its context ends, with an error wrapping
// context.DeadlineExceeded; it keeps the lease (a loop might still
// enqueue, so a standby must not lead before the lease expires), still
// unregisters the replica and clears the leader gauge; a second Stop
// returns the same error at once.
func TestSchedulerStopTimesOut(t *testing.T) {
	t.Parallel()
	f := setup(t, mon(15, 0, 0, 500))
	blocking := &blockingEnqueuer{entered: make(chan struct{}), release: make(chan struct{})}
	m := metrics.New()
	s, err := New(testConfig("a", job(t, jobs.Intraday)), Deps{Redis: f.rdb, Enqueuer: blocking, Instruments: f.in,
		Clock: f.clk, Log: zerolog.Nop(), Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.loops = 3 // lease, pauses, one job
	f.waitIdle(t)
	f.clk.Set(mon(15, 0, 0, 900)) // slot 15:00:01 is due
	select {
	case <-blocking.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the job loop did not reach the enqueue")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	err = s.Stop(ctx)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop with a stuck loop = %v, want an error wrapping context.DeadlineExceeded", err)
	}
	if again := s.Stop(context.Background()); !errors.Is(again, context.DeadlineExceeded) {
		t.Fatalf("second Stop = %v, want the first one's error", again)
	}
	holder(t, f.rdb, "a", 1)
	if _, err := f.rdb.HGet(context.Background(), keys.Standbys(), "a").Result(); err == nil {
		t.Fatal("the replica is still registered after Stop")
	}
	if v := testutil.ToFloat64(m.Leader); v != 0 {
		t.Fatalf("leader gauge = %v after Stop", v)
	}
	close(blocking.release) // the loop ends; goleak checks it did
}
