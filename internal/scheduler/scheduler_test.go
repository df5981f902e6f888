package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"heartbeat/internal/clock"
	"heartbeat/internal/jobs"
	"heartbeat/internal/keys"
	"heartbeat/internal/market"
	"heartbeat/internal/metrics"
	"heartbeat/internal/runlog"
	"heartbeat/internal/schedule"
	"heartbeat/internal/tasks"
	"heartbeat/internal/testinfra"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The scheduler tests run replicas on a fake clock and a miniredis, with
// XNYS as the only market: on Monday 2026-11-23 it is open 14:30-21:00Z.
// The fixture moves the clock from one sleeper's deadline to the next and,
// after each move, waits until every loop of every started replica sleeps
// again, so each step's work is done before the next begins. Replicas are
// started between slots, never within enqueueAhead of one: a slot due at
// the very start races the first lease attempt, which Start launches in
// a goroutine, and may or may not be enqueued.

// enqueueAhead is the scheduler.enqueue_ahead of the tests.
const enqueueAhead = 100 * time.Millisecond

// fixture is one test's Redis, clock and asynq client.
type fixture struct {
	mr     *miniredis.Miniredis
	rdb    *redis.Client
	clk    *clock.Fake
	in     *market.Instruments
	client *asynq.Client
	insp   *asynq.Inspector
	loops  int // goroutines of the running replicas that sleep on clk when idle
	// log is the replicas' logger; zerolog.Nop() unless a test sets it.
	log zerolog.Logger
}

func setup(t *testing.T, start time.Time) *fixture {
	t.Helper()
	mr, rdb := testinfra.Mini(t)
	in, err := market.NewInstruments(nil, []market.Instrument{{Symbol: "SPY", Market: market.XNYS, Weight: 1}})
	if err != nil {
		t.Fatal(err)
	}
	opt := asynq.RedisClientOpt{Addr: mr.Addr()}
	f := &fixture{mr: mr, rdb: rdb, clk: clock.NewFake(start), in: in, client: asynq.NewClient(opt), insp: asynq.NewInspector(opt),
		log: zerolog.Nop()}
	t.Cleanup(func() {
		f.client.Close()
		f.insp.Close()
	})
	return f
}

// testConfig is a replica's config with the defaults of config.Default
// and the given jobs.
func testConfig(replica string, js ...JobConfig) Config {
	return Config{Replica: replica, Lock: true, LeaseTTL: 2 * time.Second, RenewEvery: 500 * time.Millisecond,
		FastTick: time.Second, SlowTick: time.Minute, EnqueueAhead: enqueueAhead, Retention: time.Hour, Shards: 2, Jobs: js}
}

// job is a registry job, enabled.
func job(t testing.TB, name jobs.Name) JobConfig {
	t.Helper()
	spec, ok := jobs.Lookup(name)
	if !ok {
		t.Fatalf("no job %s", name)
	}
	return JobConfig{Spec: spec, Enabled: true}
}

// replica is one started Scheduler with its metrics and what it enqueued.
type replica struct {
	s       *Scheduler
	m       *metrics.Metrics
	rec     *recorder
	loops   int
	stopped bool
}

// start builds and starts a replica whose enqueues go to the fixture's
// asynq client, and waits until its loops sleep.
func (f *fixture) start(t *testing.T, cfg Config) *replica {
	t.Helper()
	return f.startWith(t, cfg, f.client)
}

// startWith is start with the recorder passing tasks on to next; opts
// change the replica's Deps (its Redis client, a fault hook) before New.
func (f *fixture) startWith(t *testing.T, cfg Config, next Enqueuer, opts ...func(*Deps)) *replica {
	t.Helper()
	// The lease, settings and events loops, and one loop per job (a
	// disabled job's waits for its settings to change).
	r := &replica{m: metrics.New(), rec: &recorder{clk: f.clk, next: next}, loops: 3 + len(cfg.Jobs)}
	deps := Deps{Redis: f.rdb, Enqueuer: r.rec, Instruments: f.in, Clock: f.clk, Log: f.log, Metrics: r.m}
	for _, opt := range opts {
		opt(&deps)
	}
	s, err := New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	r.s = s
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.loops += r.loops
	t.Cleanup(func() { f.stop(t, r) })
	f.waitIdle(t)
	return r
}

// stopBound bounds a Stop in the tests. The fake clock does not move
// while Stop runs, so a Stop that returns nil within it did not wait for
// any of the loops' deadlines: its loops ended on cancellation. The bound
// only has to exceed the scheduling delays of a loaded machine; a Stop
// that hangs fails with context.DeadlineExceeded (TestSchedulerStopTimesOut
// shows it does).
const stopBound = 30 * time.Second

// stop stops a replica (once) and checks Stop returned without waiting
// for the clock.
func (f *fixture) stop(t *testing.T, r *replica) {
	t.Helper()
	if r.stopped {
		return
	}
	r.stopped = true
	f.loops -= r.loops
	ctx, cancel := context.WithTimeout(context.Background(), stopBound)
	defer cancel()
	if err := r.s.Stop(ctx); err != nil {
		t.Errorf("Stop: %v", err)
	}
}

// waitIdle waits until every loop of the running replicas sleeps on the
// clock.
func (f *fixture) waitIdle(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.clk.WaitForSleepers(ctx, f.loops); err != nil {
		t.Fatalf("at %s, %d loops did not all sleep (sleepers %v): %v", f.clk.Now(), f.loops, f.clk.Sleepers(), err)
	}
}

// runUntil moves the clock from deadline to deadline up to until, letting
// every woken loop finish its work before the next move.
func (f *fixture) runUntil(t *testing.T, until time.Time) {
	t.Helper()
	for {
		f.waitIdle(t)
		next := f.clk.Sleepers()
		if len(next) == 0 || next[0].After(until) {
			break
		}
		f.clk.Set(next[0])
	}
	if f.clk.Now().Before(until) {
		f.clk.Set(until)
	}
	f.waitIdle(t)
}

// enqueued is one task a replica enqueued.
type enqueued struct {
	ID      string
	Queue   string
	At      time.Time // the fake clock at the enqueue
	Payload tasks.Payload
}

// recorder is an Enqueuer that passes tasks on to next (when set) and
// records those enqueued.
type recorder struct {
	clk  clock.Clock
	next Enqueuer

	mu  sync.Mutex
	got []enqueued
}

func (r *recorder) EnqueueContext(ctx context.Context, task *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error) {
	var info *asynq.TaskInfo
	if r.next != nil {
		var err error
		if info, err = r.next.EnqueueContext(ctx, task, opts...); err != nil {
			return nil, err
		}
	}
	e := enqueued{At: r.clk.Now()}
	for _, o := range opts {
		switch o.Type() {
		case asynq.TaskIDOpt:
			e.ID = o.Value().(string)
		case asynq.QueueOpt:
			e.Queue = o.Value().(string)
		}
	}
	p, err := tasks.Decode(task)
	if err != nil {
		return nil, err
	}
	e.Payload = p
	r.mu.Lock()
	r.got = append(r.got, e)
	r.mu.Unlock()
	return info, nil
}

// enqueued returns what was enqueued, in byTime order.
func (r *recorder) enqueued() []enqueued {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := slices.Clone(r.got)
	slices.SortFunc(out, byTime)
	return out
}

// byTime orders enqueued tasks by instant, then slot, then ID.
func byTime(a, b enqueued) int {
	if c := a.At.Compare(b.At); c != 0 {
		return c
	}
	if c := a.Payload.Slot.Compare(b.Payload.Slot); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// counts returns a job's non-zero slot outcomes in a replica's metrics.
func (r *replica) counts(name jobs.Name) map[string]float64 {
	out := map[string]float64{}
	for _, o := range []string{string(runlog.Enqueued), string(runlog.DuplicateSuppressed), string(runlog.SkippedClosed),
		string(runlog.SkippedPaused), string(runlog.Missed)} {
		if v := testutil.ToFloat64(r.m.Slots.WithLabelValues(string(name), o)); v != 0 {
			out[o] = v
		}
	}
	return out
}

// expect is what a replica enqueues for one slot of an interval job at at:
// one task per part, identified by part ("all" for the whole job) and
// slot, which may start until the next slot.
func expect(j JobConfig, term int64, slot, at time.Time, parts ...string) []enqueued {
	var out []enqueued
	every := j.Spec.Schedule.Every
	for _, part := range parts {
		key := part
		if key == "" {
			key = "all"
		}
		key += fmt.Sprintf(":%d", slot.UnixMilli())
		out = append(out, enqueued{
			ID: string(j.Spec.Name) + ":" + key, Queue: j.Spec.Queue, At: at,
			Payload: tasks.Payload{Job: j.Spec.Name, Slot: slot, Part: part, Key: key, Interval: every,
				Deadline: slot.Add(every), Term: term, EnqueuedAt: at},
		})
	}
	return out
}

// expectSession is what a replica enqueues for one part of a session
// schedule's slot: identified by its session, startable until deadline.
func expectSession(j JobConfig, term int64, slot, at, deadline time.Time, part string) []enqueued {
	return []enqueued{{
		ID: string(j.Spec.Name) + ":" + part, Queue: j.Spec.Queue, At: at,
		Payload: tasks.Payload{Job: j.Spec.Name, Slot: slot, Part: part, Key: part, Interval: j.Spec.Schedule.Every,
			Deadline: deadline, Term: term, EnqueuedAt: at},
	}}
}

// onTime is expect for every slot of a job from first to last (by
// interval), each enqueued enqueueAhead before it, for shards 0 and 1 or,
// for a whole job, its single part.
func onTime(j JobConfig, term int64, slots ...time.Time) []enqueued {
	parts := []string{"0", "1"}
	if j.Spec.Split.String() == schedule.SplitOne.String() {
		parts = []string{""}
	}
	var out []enqueued
	for _, s := range slots {
		out = append(out, expect(j, term, s, s.Add(-enqueueAhead), parts...)...)
	}
	return out
}

// every returns the instants from first to last, step apart.
func every(first, last time.Time, step time.Duration) []time.Time {
	var out []time.Time
	for at := first; !at.After(last); at = at.Add(step) {
		out = append(out, at)
	}
	return out
}

// mon is an instant on Monday 2026-11-23.
func mon(hh, mm, ss, ms int) time.Time {
	return time.Date(2026, 11, 23, hh, mm, ss, ms*int(time.Millisecond), time.UTC)
}

// TestSchedulerEnqueuesSlots runs one leader with one job and checks the
// tasks it enqueued (IDs, queues, payloads, enqueueAhead before their
// slots) and the slot outcomes it counted.
func TestSchedulerEnqueuesSlots(t *testing.T) {
	t.Parallel()
	intraday := job(t, jobs.Intraday)           // 1 s, gate open, by shard
	sessionVolume := job(t, jobs.SessionVolume) // 10 s, gate always, whole
	preOpen := job(t, jobs.PreOpenBacktest)     // 30 s, pre-open, by market
	closedBars := job(t, jobs.ClosedBarsFlush)  // 60 s, gate open, by shard
	tests := []struct {
		name   string
		job    JobConfig
		paused bool
		start  time.Time
		until  time.Time
		want   []enqueued
		counts map[string]float64
	}{
		{
			name: "open: every second, a task per shard", job: intraday,
			start: mon(14, 59, 59, 500), until: mon(15, 0, 3, 0),
			want:   onTime(intraday, 1, every(mon(15, 0, 0, 0), mon(15, 0, 3, 0), time.Second)...),
			counts: map[string]float64{string(runlog.Enqueued): 8},
		},
		{
			name: "started inside a slot's enqueue lead: that slot is enqueued at once", job: intraday,
			start: mon(14, 59, 59, 950), until: mon(15, 0, 1, 0),
			want:   append(expect(intraday, 1, mon(15, 0, 0, 0), mon(14, 59, 59, 950), "0", "1"), onTime(intraday, 1, mon(15, 0, 1, 0))...),
			counts: map[string]float64{string(runlog.Enqueued): 4},
		},
		{
			name: "close, gate open: the 21:00:00 slot runs, then one skipped slot a minute", job: intraday,
			start: mon(20, 59, 58, 500), until: mon(21, 2, 0, 0),
			// Two intervals of grace after the close, then one shut slot a minute.
			want:   onTime(intraday, 1, mon(20, 59, 59, 0), mon(21, 0, 0, 0), mon(21, 0, 1, 0)),
			counts: map[string]float64{string(runlog.Enqueued): 6, string(runlog.SkippedClosed): 4},
		},
		{
			name: "close, gate always: then enqueued once a minute", job: sessionVolume,
			start: mon(20, 59, 45, 0), until: mon(21, 2, 0, 0),
			want:   onTime(sessionVolume, 1, mon(20, 59, 50, 0), mon(21, 0, 0, 0), mon(21, 0, 10, 0), mon(21, 1, 0, 0), mon(21, 2, 0, 0)),
			counts: map[string]float64{string(runlog.Enqueued): 5},
		},
		{
			name: "open at 14:30: skipped until then, then every second", job: intraday,
			start: mon(14, 28, 30, 0), until: mon(14, 30, 1, 0),
			want:   onTime(intraday, 1, mon(14, 30, 0, 0), mon(14, 30, 1, 0)),
			counts: map[string]float64{string(runlog.Enqueued): 4, string(runlog.SkippedClosed): 2},
		},
		{
			name: "60 s job: the slots at and after the close run", job: closedBars,
			start: mon(20, 58, 30, 0), until: mon(21, 2, 0, 0),
			want:   onTime(closedBars, 1, mon(20, 59, 0, 0), mon(21, 0, 0, 0), mon(21, 1, 0, 0)),
			counts: map[string]float64{string(runlog.Enqueued): 6, string(runlog.SkippedClosed): 2},
		},
		{
			name: "paused", job: intraday, paused: true,
			start: mon(14, 59, 59, 500), until: mon(15, 0, 2, 0),
			counts: map[string]float64{string(runlog.SkippedPaused): 6},
		},
		{
			name: "paused while closed: counted paused", job: intraday, paused: true,
			start: mon(21, 30, 30, 0), until: mon(21, 32, 0, 0),
			counts: map[string]float64{string(runlog.SkippedPaused): 4},
		},
		{
			name: "pre-open: one task per session; the second slot in the window enqueues nothing", job: preOpen,
			start: mon(14, 28, 45, 0), until: mon(14, 31, 0, 0),
			want:   expectSession(preOpen, 1, mon(14, 29, 0, 0), mon(14, 28, 59, 900), mon(14, 29, 59, 0), "XNYS:2026-11-23"),
			counts: map[string]float64{string(runlog.Enqueued): 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, tt.start)
			if tt.paused {
				// A pause of an earlier version: moved to the settings
				// store at start, and obeyed.
				f.mr.HSet(keys.LegacyPaused(), string(tt.job.Spec.Name), "paused by a test")
			}
			r := f.start(t, testConfig("a", tt.job))
			f.runUntil(t, tt.until)
			if diff := cmp.Diff(tt.want, r.rec.enqueued()); diff != "" {
				t.Fatalf("enqueued (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.counts, r.counts(tt.job.Spec.Name)); diff != "" {
				t.Fatalf("slot outcomes (-want +got):\n%s", diff)
			}
			pending, err := f.insp.ListPendingTasks(tt.job.Spec.Queue)
			if err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
				t.Fatal(err)
			}
			if len(pending) != len(tt.want) {
				t.Fatalf("%d tasks pending in queue %s, want %d", len(pending), tt.job.Spec.Queue, len(tt.want))
			}
			if len(tt.want) > 0 {
				last := tt.want[len(tt.want)-1].Payload.Slot
				got, err := f.rdb.HGet(context.Background(), keys.LastSlots(), string(tt.job.Spec.Name)).Int64()
				if err != nil || got < last.UnixMilli() {
					t.Fatalf("last slot in Redis = %d, %v; want at least %d", got, err, last.UnixMilli())
				}
			}
		})
	}
}

// TestSchedulerNoLockSuppressesDuplicates runs two replicas with the lock
// off on one Redis: both enqueue every slot, asynq keeps one task per
// slot and part, and the other replica counts duplicate_suppressed.
func TestSchedulerNoLockSuppressesDuplicates(t *testing.T) {
	t.Parallel()
	intraday := job(t, jobs.Intraday)
	f := setup(t, mon(14, 59, 59, 500))
	var rs []*replica
	for _, name := range []string{"a", "b"} {
		cfg := testConfig(name, intraday)
		cfg.Lock = false
		rs = append(rs, f.start(t, cfg))
	}
	f.runUntil(t, mon(15, 0, 4, 0))

	want := onTime(intraday, 0, every(mon(15, 0, 0, 0), mon(15, 0, 4, 0), time.Second)...)
	var got []enqueued
	total := map[string]float64{}
	for _, r := range rs {
		got = append(got, r.rec.enqueued()...)
		for k, v := range r.counts(jobs.Intraday) {
			total[k] += v
		}
		if v := testutil.ToFloat64(r.m.Leader); v != 1 {
			t.Fatalf("leader gauge = %v with the lock off, want 1", v)
		}
	}
	slices.SortFunc(got, func(a, b enqueued) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(want, func(a, b enqueued) int { return strings.Compare(a.ID, b.ID) })
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("enqueued by either replica (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]float64{string(runlog.Enqueued): 10, string(runlog.DuplicateSuppressed): 10}, total); diff != "" {
		t.Fatalf("slot outcomes of both replicas (-want +got):\n%s", diff)
	}
	pending, err := f.insp.ListPendingTasks(jobs.QueueCritical)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range pending {
		ids = append(ids, p.ID)
	}
	slices.Sort(ids)
	var wantIDs []string
	for _, w := range want {
		wantIDs = append(wantIDs, w.ID)
	}
	if diff := cmp.Diff(wantIDs, ids); diff != "" {
		t.Fatalf("tasks in the queue (-want +got):\n%s", diff)
	}
}

// TestSchedulerLockOnlyLeaderEnqueues runs two replicas with the lock: the
// first to start leads and enqueues every slot; the other enqueues and
// counts nothing.
func TestSchedulerLockOnlyLeaderEnqueues(t *testing.T) {
	t.Parallel()
	intraday, sessionVolume := job(t, jobs.Intraday), job(t, jobs.SessionVolume)
	f := setup(t, mon(14, 59, 59, 500))
	a := f.start(t, testConfig("a", intraday, sessionVolume))
	b := f.start(t, testConfig("b", intraday, sessionVolume))
	f.runUntil(t, mon(15, 0, 10, 0))

	want := append(onTime(intraday, 1, every(mon(15, 0, 0, 0), mon(15, 0, 10, 0), time.Second)...),
		onTime(sessionVolume, 1, mon(15, 0, 0, 0), mon(15, 0, 10, 0))...)
	slices.SortFunc(want, byTime)
	if diff := cmp.Diff(want, a.rec.enqueued()); diff != "" {
		t.Fatalf("leader enqueued (-want +got):\n%s", diff)
	}
	if got := b.rec.enqueued(); len(got) != 0 {
		t.Fatalf("standby enqueued %d tasks: %v", len(got), got)
	}
	for _, name := range []jobs.Name{jobs.Intraday, jobs.SessionVolume} {
		if got := b.counts(name); len(got) != 0 {
			t.Fatalf("standby counted %s slots: %v", name, got)
		}
	}
	if diff := cmp.Diff(map[string]float64{string(runlog.Enqueued): 22}, a.counts(jobs.Intraday)); diff != "" {
		t.Fatalf("leader's intraday outcomes (-want +got):\n%s", diff)
	}
	holder(t, f.rdb, "a", 1)
	for _, c := range []struct {
		r            *replica
		name         string
		leader, term float64
	}{{a, "a", 1, 1}, {b, "b", 0, 0}} {
		if l, tm := testutil.ToFloat64(c.r.m.Leader), testutil.ToFloat64(c.r.m.Term); l != c.leader || tm != c.term {
			t.Fatalf("%s: leader gauge %v, term gauge %v; want %v, %v", c.name, l, tm, c.leader, c.term)
		}
		lead, term, _ := c.r.s.Status(f.clk.Now())
		if lead != (c.leader == 1) || float64(term) != c.term {
			t.Fatalf("%s: Status = leader %v, term %d", c.name, lead, term)
		}
		raw, err := f.rdb.HGet(context.Background(), keys.Standbys(), c.name).Result()
		if err != nil {
			t.Fatalf("%s's heartbeat: %v", c.name, err)
		}
		var info ReplicaInfo
		if err := json.Unmarshal([]byte(raw), &info); err != nil {
			t.Fatal(err)
		}
		if info.Leader != (c.leader == 1) || info.Replica != c.name || info.Seen.Before(mon(15, 0, 9, 0)) {
			t.Fatalf("%s's heartbeat: %+v", c.name, info)
		}
		if strings.Contains(raw, "valid_until") != (c.leader == 1) {
			t.Fatalf("%s's heartbeat %s: valid_until must be published by the leader only", c.name, raw)
		}
	}
}

// TestSchedulerFailover stops the leader (which releases the lease) and
// checks the standby takes over at its next renew attempt, that no slot
// is enqueued twice, and what the new leader does with the slots that
// passed while nobody led.
func TestSchedulerFailover(t *testing.T) {
	t.Parallel()
	intraday := job(t, jobs.Intraday)
	tests := []struct {
		name       string
		renewEvery time.Duration
		leaseTTL   time.Duration
		catchUp    string
		stopAt     time.Time // a enqueued slots up to 15:00:05 by then
		takeover   time.Time // b's next lease attempt after stopAt: b tries every renewEvery from 14:59:59.500
		wantB      []enqueued
		wantMissed float64
	}{
		{
			name: "renew every 500 ms: no slot lost", renewEvery: 500 * time.Millisecond, leaseTTL: 2 * time.Second, catchUp: jobs.CatchUpSkip,
			stopAt: mon(15, 0, 5, 0), takeover: mon(15, 0, 5, 500),
			wantB: onTime(intraday, 2, every(mon(15, 0, 6, 0), mon(15, 0, 10, 0), time.Second)...),
		},
		{
			name: "renew every 2 s, catch-up skip: the slots before the takeover are missed", renewEvery: 2 * time.Second, leaseTTL: 5 * time.Second, catchUp: jobs.CatchUpSkip,
			stopAt: mon(15, 0, 5, 600), takeover: mon(15, 0, 7, 500),
			wantB:      onTime(intraday, 2, every(mon(15, 0, 8, 0), mon(15, 0, 10, 0), time.Second)...),
			wantMissed: 4, // two slots × two shards
		},
		{
			name: "renew every 2 s, catch-up latest: the latest missed slot is enqueued late, once", renewEvery: 2 * time.Second, leaseTTL: 5 * time.Second, catchUp: jobs.CatchUpLatest,
			stopAt: mon(15, 0, 5, 600), takeover: mon(15, 0, 7, 500),
			wantB: append(expect(intraday, 2, mon(15, 0, 7, 0), mon(15, 0, 7, 900), "0", "1"),
				onTime(intraday, 2, every(mon(15, 0, 8, 0), mon(15, 0, 10, 0), time.Second)...)...),
			wantMissed: 2, // one slot × two shards
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, mon(14, 59, 59, 500))
			j := intraday
			j.Spec.Policy.CatchUp = tt.catchUp
			cfg := func(name string) Config {
				c := testConfig(name, j)
				c.RenewEvery, c.LeaseTTL = tt.renewEvery, tt.leaseTTL
				return c
			}
			a := f.start(t, cfg("a"))
			b := f.start(t, cfg("b"))
			f.runUntil(t, tt.stopAt)
			f.stop(t, a)
			holder(t, f.rdb, "", 0)
			if v := testutil.ToFloat64(a.m.Leader); v != 0 {
				t.Fatalf("stopped leader's gauge = %v", v)
			}

			f.runUntil(t, tt.takeover.Add(-time.Millisecond))
			holder(t, f.rdb, "", 0)
			f.runUntil(t, tt.takeover)
			holder(t, f.rdb, "b", 2)
			f.runUntil(t, mon(15, 0, 10, 0))

			if diff := cmp.Diff(onTime(intraday, 1, every(mon(15, 0, 0, 0), mon(15, 0, 5, 0), time.Second)...), a.rec.enqueued()); diff != "" {
				t.Fatalf("a enqueued (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantB, b.rec.enqueued()); diff != "" {
				t.Fatalf("b enqueued (-want +got):\n%s", diff)
			}
			want := map[string]float64{string(runlog.Enqueued): float64(len(tt.wantB))}
			if tt.wantMissed > 0 {
				want[string(runlog.Missed)] = tt.wantMissed
			}
			if diff := cmp.Diff(want, b.counts(jobs.Intraday)); diff != "" {
				t.Fatalf("b's outcomes (-want +got):\n%s", diff)
			}
			if l, tm := testutil.ToFloat64(b.m.Leader), testutil.ToFloat64(b.m.Term); l != 1 || tm != 2 {
				t.Fatalf("b: leader gauge %v, term gauge %v; want 1, 2", l, tm)
			}
		})
	}
}

// TestSchedulerCatchUp starts a replica where a previous leader left a
// last slot in Redis, and checks what the new leader counts and enqueues
// for the slots in between.
func TestSchedulerCatchUp(t *testing.T) {
	t.Parallel()
	intraday := job(t, jobs.Intraday)
	tests := []struct {
		name       string
		catchUp    string
		last       time.Time // zero: none recorded
		maxCatchUp time.Duration
		paused     bool
		start      time.Time
		until      time.Time
		want       []enqueued
		counts     map[string]float64
	}{
		{
			name: "skip: the slots in between are missed", catchUp: jobs.CatchUpSkip, last: mon(15, 0, 0, 0),
			start: mon(15, 0, 4, 500), until: mon(15, 0, 5, 0),
			want:   onTime(intraday, 1, mon(15, 0, 5, 0)),
			counts: map[string]float64{string(runlog.Missed): 8, string(runlog.Enqueued): 2},
		},
		{
			name: "latest: the latest is enqueued, the rest missed", catchUp: jobs.CatchUpLatest, last: mon(15, 0, 0, 0),
			start: mon(15, 0, 4, 500), until: mon(15, 0, 5, 0),
			want: append(expect(intraday, 1, mon(15, 0, 4, 0), mon(15, 0, 4, 900), "0", "1"),
				onTime(intraday, 1, mon(15, 0, 5, 0))...),
			counts: map[string]float64{string(runlog.Missed): 6, string(runlog.Enqueued): 4},
		},
		{
			name: "latest, paused: nothing enqueued", catchUp: jobs.CatchUpLatest, last: mon(15, 0, 0, 0), paused: true,
			start: mon(15, 0, 4, 500), until: mon(15, 0, 5, 0),
			counts: map[string]float64{string(runlog.SkippedPaused): 10},
		},
		{
			name: "across the close: only slots that would have run are missed", catchUp: jobs.CatchUpSkip, last: mon(20, 59, 58, 0),
			start: mon(21, 2, 30, 0), until: mon(21, 3, 0, 0),
			counts: map[string]float64{string(runlog.Missed): 6, string(runlog.SkippedClosed): 2},
		},
		{
			name: "latest across the close: the latest is past its interval, so missed too", catchUp: jobs.CatchUpLatest, last: mon(20, 59, 58, 0),
			start: mon(21, 2, 30, 0), until: mon(21, 3, 0, 0),
			counts: map[string]float64{string(runlog.Missed): 6, string(runlog.SkippedClosed): 2},
		},
		{
			name: "bounded by the look-back", catchUp: jobs.CatchUpSkip, last: mon(14, 0, 0, 0), maxCatchUp: 10 * time.Second,
			start: mon(15, 0, 4, 500), until: mon(15, 0, 5, 0),
			want:   onTime(intraday, 1, mon(15, 0, 5, 0)),
			counts: map[string]float64{string(runlog.Missed): 18, string(runlog.Enqueued): 2},
		},
		{
			name: "last slot is the current one: nothing missed", catchUp: jobs.CatchUpSkip, last: mon(15, 0, 5, 0),
			start: mon(15, 0, 4, 500), until: mon(15, 0, 6, 0),
			want:   onTime(intraday, 1, mon(15, 0, 5, 0), mon(15, 0, 6, 0)),
			counts: map[string]float64{string(runlog.Enqueued): 4},
		},
		{
			name: "nothing recorded: nothing missed", catchUp: jobs.CatchUpLatest,
			start: mon(15, 0, 4, 500), until: mon(15, 0, 5, 0),
			want:   onTime(intraday, 1, mon(15, 0, 5, 0)),
			counts: map[string]float64{string(runlog.Enqueued): 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, tt.start)
			if !tt.last.IsZero() {
				if err := f.rdb.HSet(context.Background(), keys.LastSlots(), string(jobs.Intraday), tt.last.UnixMilli()).Err(); err != nil {
					t.Fatal(err)
				}
			}
			if tt.paused {
				f.mr.HSet(keys.LegacyPaused(), string(jobs.Intraday), "paused by a test")
			}
			j := intraday
			j.Spec.Policy.CatchUp = tt.catchUp
			cfg := testConfig("a", j)
			cfg.LookBack = tt.maxCatchUp
			r := f.start(t, cfg)
			f.runUntil(t, tt.until)
			if diff := cmp.Diff(tt.want, r.rec.enqueued()); diff != "" {
				t.Fatalf("enqueued (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.counts, r.counts(jobs.Intraday)); diff != "" {
				t.Fatalf("slot outcomes (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSchedulerLeaderCutOffFromRedis cuts the leader off from Redis: it
// stops enqueuing at its last successful renewal + TTL - margin, before
// its lease can expire, reports not ready, and when Redis is back leads
// again and counts the slots that passed as missed.
func TestSchedulerLeaderCutOffFromRedis(t *testing.T) {
	t.Parallel()
	intraday := job(t, jobs.Intraday)
	f := setup(t, mon(14, 59, 59, 500))
	r := f.start(t, testConfig("a", intraday))
	r.rec.next = nil // enqueues must not need Redis: the test is about leadership
	f.runUntil(t, mon(15, 0, 2, 0))
	// The last renewal was sent at 15:00:02.000: a leads until 15:00:03.800.
	f.mr.SetError("ERR redis is down for the test")
	f.runUntil(t, mon(15, 0, 6, 0))
	if err := r.s.Ready(); err == nil {
		t.Fatal("Ready while Redis fails")
	}
	if v := testutil.ToFloat64(r.m.Leader); v != 0 {
		t.Fatalf("leader gauge = %v after the lease's validity, want 0", v)
	}
	if lead, _, _ := r.s.Status(f.clk.Now()); lead {
		t.Fatal("Status: still leader")
	}
	f.mr.SetError("")
	f.runUntil(t, mon(15, 0, 8, 0))
	if err := r.s.Ready(); err != nil {
		t.Fatalf("Ready after Redis came back: %v", err)
	}
	if v := testutil.ToFloat64(r.m.Leader); v != 1 {
		t.Fatalf("leader gauge = %v after renewing, want 1", v)
	}
	want := onTime(intraday, 1, append(every(mon(15, 0, 0, 0), mon(15, 0, 3, 0), time.Second), mon(15, 0, 7, 0), mon(15, 0, 8, 0))...)
	if diff := cmp.Diff(want, r.rec.enqueued()); diff != "" {
		t.Fatalf("enqueued (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]float64{string(runlog.Enqueued): 12, string(runlog.Missed): 6}, r.counts(jobs.Intraday)); diff != "" {
		t.Fatalf("slot outcomes (-want +got):\n%s", diff)
	}
}

// TestSchedulerStop checks Stop returns without waiting for the clock
// (see stopBound), is safe twice and before Start, releases the lease and
// unregisters the replica.
func TestSchedulerStop(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		lock  bool
		start bool
	}{
		{"lock on", true, true},
		{"lock off", false, true},
		{"never started", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, mon(15, 0, 0, 500))
			cfg := testConfig("a", job(t, jobs.Intraday), job(t, jobs.SessionVolume))
			cfg.Lock = tt.lock
			var s *Scheduler
			m := metrics.New()
			if tt.start {
				r := f.start(t, cfg)
				f.runUntil(t, mon(15, 0, 2, 0))
				s, m = r.s, r.m
				f.loops -= r.loops
				r.stopped = true
			} else {
				var err error
				if s, err = New(cfg, Deps{Redis: f.rdb, Enqueuer: f.client, Instruments: f.in, Clock: f.clk, Log: zerolog.Nop(), Metrics: m}); err != nil {
					t.Fatal(err)
				}
			}
			now := f.clk.Now()
			for i := range 2 {
				ctx, cancel := context.WithTimeout(context.Background(), stopBound)
				err := s.Stop(ctx)
				cancel()
				if err != nil {
					t.Fatalf("Stop %d: %v", i+1, err)
				}
			}
			if !f.clk.Now().Equal(now) {
				t.Fatalf("the clock moved during Stop: %s -> %s", now, f.clk.Now())
			}
			if n := len(f.clk.Sleepers()); n != 0 {
				t.Fatalf("%d loops still sleep after Stop", n)
			}
			holder(t, f.rdb, "", 0)
			if f.mr.Exists(keys.Standbys()) {
				if _, err := f.rdb.HGet(context.Background(), keys.Standbys(), "a").Result(); err == nil {
					t.Fatal("the replica is still registered after Stop")
				}
			}
			if v := testutil.ToFloat64(m.Leader); v != 0 {
				t.Fatalf("leader gauge = %v after Stop", v)
			}
		})
	}
}

// TestNew checks New accepts the tests' config and rejects it with one
// field or dependency missing.
func TestNew(t *testing.T) {
	t.Parallel()
	_, rdb := testinfra.Mini(t)
	in, err := market.NewInstruments(nil, []market.Instrument{{Symbol: "SPY", Market: market.XNYS}})
	if err != nil {
		t.Fatal(err)
	}
	deps := Deps{Redis: rdb, Enqueuer: &recorder{}, Instruments: in, Clock: clock.NewFake(mon(15, 0, 0, 0)), Log: zerolog.Nop(), Metrics: metrics.New()}
	zeroInterval := job(t, jobs.Intraday)
	zeroInterval.Spec.Schedule.Every = 0
	disabledZero := zeroInterval
	disabledZero.Enabled = false
	tests := []struct {
		name      string
		cfg       func(*Config)
		deps      func(*Deps)
		wantField string // "": no error
	}{
		{"valid", nil, nil, ""},
		{"lock off needs no lease settings", func(c *Config) { c.Lock, c.LeaseTTL, c.RenewEvery = false, 0, 0 }, nil, ""},
		{"a disabled job is not checked", func(c *Config) { c.Jobs = []JobConfig{disabledZero} }, nil, ""},
		{"no replica name", func(c *Config) { c.Replica = "" }, nil, "Replica"},
		{"no Redis", nil, func(d *Deps) { d.Redis = nil }, "Deps.Redis"},
		{"no enqueuer", nil, func(d *Deps) { d.Enqueuer = nil }, "Deps.Enqueuer"},
		{"no instruments", nil, func(d *Deps) { d.Instruments = nil }, "Deps.Instruments"},
		{"no clock", nil, func(d *Deps) { d.Clock = nil }, "Deps.Clock"},
		{"no metrics", nil, func(d *Deps) { d.Metrics = nil }, "Deps.Metrics"},
		{"no lease TTL", func(c *Config) { c.LeaseTTL = 0 }, nil, "LeaseTTL"},
		{"no renew interval", func(c *Config) { c.RenewEvery = 0 }, nil, "RenewEvery"},
		{"no fast tick", func(c *Config) { c.FastTick = 0 }, nil, "FastTick"},
		{"one shard", func(c *Config) { c.Shards = 1 }, nil, ""},
		{"no shards", func(c *Config) { c.Shards = 0 }, nil, "Shards"},
		{"a job with a zero interval", func(c *Config) { c.Jobs = []JobConfig{zeroInterval} }, nil, "Jobs[intraday].Spec.Schedule"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, d := testConfig("a", job(t, jobs.Intraday)), deps
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			if tt.deps != nil {
				tt.deps(&d)
			}
			_, err := New(cfg, d)
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("New = %v, want no error", err)
				}
				return
			}
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Field != tt.wantField {
				t.Fatalf("New = %v, want a *ConfigError naming %s", err, tt.wantField)
			}
		})
	}
}

// TestSchedulerStandbyRetriesWhenTheLeaseExpires: a standby that finds
// the lease held by a replica that died without releasing it tries again
// just after the lease expires, not at its next regular attempt.
func TestSchedulerStandbyRetriesWhenTheLeaseExpires(t *testing.T) {
	t.Parallel()
	f := setup(t, mon(15, 0, 0, 0))
	if err := f.mr.Set(keys.Lease(), "z:5"); err != nil {
		t.Fatal(err)
	}
	f.mr.SetTTL(keys.Lease(), 1200*time.Millisecond)
	cfg := testConfig("b", job(t, jobs.Intraday))
	cfg.RenewEvery, cfg.LeaseTTL = 2*time.Second, 5*time.Second
	f.start(t, cfg)
	retry := mon(15, 0, 1, 201) // the holder's 1.2 s, plus 1 ms
	if got := f.clk.Sleepers(); !slices.ContainsFunc(got, retry.Equal) {
		t.Fatalf("sleepers %v: the standby does not retry at %s", got, retry)
	}
	f.mr.FastForward(1200 * time.Millisecond)
	f.runUntil(t, retry)
	holder(t, f.rdb, "b", 6)
}
