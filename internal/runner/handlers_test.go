package runner

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"heartbeat/internal/bars"
	"heartbeat/internal/clock"
	"heartbeat/internal/config"
	"heartbeat/internal/jobs"
	"heartbeat/internal/keys"
	"heartbeat/internal/market"
	"heartbeat/internal/marketdata"
	"heartbeat/internal/metrics"
	"heartbeat/internal/runlog"
	"heartbeat/internal/schedule"
	"heartbeat/internal/tasks"
	"heartbeat/internal/testinfra"
	"heartbeat/internal/ticks"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// slot is the slot of the handler tests: Monday 2026-11-23 15:00:00Z,
// XNYS open.
var slot = time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)

// fixture is a worker's handlers on a miniredis, with a fake clock.
type fixture struct {
	mr  *miniredis.Miniredis
	rdb *redis.Client
	clk *clock.Fake
	m   *metrics.Metrics
	h   *Handlers
	// deps are h's; a test may change them and call NewHandlers again.
	deps HandlerDeps
}

// setup returns handlers (with a real marketdata engine, two shards, on
// XNYS and ALWAYS) whose clock shows now.
func setup(t *testing.T, now time.Time) fixture {
	t.Helper()
	mr, rdb := testinfra.Mini(t)
	in, err := market.NewInstruments(nil, []market.Instrument{
		{Symbol: "SPY", Market: market.XNYS, Weight: 1},
		{Symbol: "BTCUSD", Market: market.ALWAYS, Weight: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	target, err := config.ParseDistance("1%")
	if err != nil {
		t.Fatal(err)
	}
	stop, err := config.ParseDistance("0.5%")
	if err != nil {
		t.Fatal(err)
	}
	eng, err := marketdata.New(marketdata.Settings{Shards: 2, LateWindow: 10 * time.Second, MaxFuture: 5 * time.Second, BatchSize: 1000,
		DeadLetterMaxLen: 1000, VwapKeepDays: 2, BacktestSessions: 5, BacktestTarget: target, BacktestStop: stop},
		marketdata.Deps{Redis: rdb, Instruments: in, Store: bars.NewMemory(), Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	f := fixture{mr: mr, rdb: rdb, clk: clock.NewFake(now), m: metrics.New()}
	f.deps = HandlerDeps{Engine: eng, Redis: rdb, Runs: runlog.New(rdb, 0), Clock: f.clk, Log: zerolog.Nop(), Metrics: f.m, Worker: "w1"}
	f.h, err = NewHandlers(f.deps)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// task returns the asynq task of a payload, as the scheduler builds it.
func task(t *testing.T, p tasks.Payload) *asynq.Task {
	t.Helper()
	spec, ok := jobs.Lookup(p.Job)
	if !ok {
		t.Fatalf("no job %s", p.Job)
	}
	tk, _, err := tasks.New(spec, p, tasks.Options{Retention: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// intradayPayload is shard 1 of the intraday slot, enqueued 100 ms ahead
// under term 7.
func intradayPayload() tasks.Payload {
	return tasks.Payload{Job: jobs.Intraday, Slot: slot, Part: "1", Interval: time.Second, Term: 7, EnqueuedAt: slot.Add(-100 * time.Millisecond)}
}

// runs returns the run history's entries, oldest first, as raw fields.
func (f fixture) runs(t *testing.T) []map[string]any {
	t.Helper()
	msgs, err := f.rdb.XRange(context.Background(), keys.Runs, "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]map[string]any, len(msgs))
	for i, m := range msgs {
		out[i] = m.Values
	}
	return out
}

// outcomes returns a job's non-zero run outcomes from heartbeat_slots_total
// (the one metric of worker outcomes).
func (f fixture) outcomes(t *testing.T, job jobs.Name) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, o := range []runlog.Outcome{runlog.OK, runlog.Error, runlog.Expired, runlog.SkippedOverlap} {
		if n := testutil.ToFloat64(f.m.Slots.WithLabelValues(string(job), string(o))); n != 0 {
			out[string(o)] = n
		}
	}
	return out
}

// run starts handler on tk in a goroutine; when wait is set, it checks the
// handler waits on the clock until the slot and then sets the clock to
// startAt. It returns what the handler returned.
func (f fixture) run(t *testing.T, handler asynq.HandlerFunc, tk *asynq.Task, wait bool, startAt time.Time) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- handler(ctx, tk) }()
	if wait {
		if err := f.clk.WaitForSleepers(ctx, 1); err != nil {
			t.Fatalf("the handler did not wait for its slot: %v", err)
		}
		if got := f.clk.Sleepers(); !got[0].Equal(slot) {
			t.Fatalf("the handler waits until %s, want the slot %s", got[0], slot)
		}
		f.clk.Set(startAt)
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		t.Fatal("the handler did not return")
		return nil
	}
}

var errBoom = errors.New("boom")

// TestWrap runs one task through wrap with a body the test controls, and
// checks the outcome, what the handler returns, and the run history entry
// field by field (the operator contract: slot RFC 3339 in milliseconds,
// other instants in microseconds, UTC).
func TestWrap(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		now      time.Time // the clock when the worker picks the task up
		startAt  time.Time // zero: the task is picked up at or after its slot
		heldLock bool      // another run of the job part holds the run lock
		deadline time.Time // the payload's start deadline; zero: slot + interval
		overlap  string    // the payload's overlap policy
		took     time.Duration
		bodyErr  error
		wantRan  bool
		wantErr  []error // errors.Is targets of the handler's error; nil: no error
		want     map[string]any
	}{
		{
			name: "waits until the slot, then runs", now: slot.Add(-100 * time.Millisecond), startAt: slot, took: 1500 * time.Microsecond,
			wantRan: true,
			want: map[string]any{"outcome": "ok", "error": "",
				"started_at": "2026-11-23T15:00:00.000000Z", "finished_at": "2026-11-23T15:00:00.001500Z"},
		},
		{
			name: "picked up late, within the interval: runs at once", now: slot.Add(300*time.Millisecond + 7*time.Microsecond), took: 2 * time.Millisecond,
			wantRan: true,
			want: map[string]any{"outcome": "ok", "error": "",
				"started_at": "2026-11-23T15:00:00.300007Z", "finished_at": "2026-11-23T15:00:00.302007Z"},
		},
		{
			name: "picked up exactly at slot + interval: still runs", now: slot.Add(time.Second),
			wantRan: true,
			want: map[string]any{"outcome": "ok", "error": "",
				"started_at": "2026-11-23T15:00:01.000000Z", "finished_at": "2026-11-23T15:00:01.000000Z"},
		},
		{
			name: "picked up after slot + interval: expired, not run", now: slot.Add(time.Second + time.Millisecond),
			want: map[string]any{"outcome": "expired", "error": "",
				"started_at": "2026-11-23T15:00:01.001000Z", "finished_at": "2026-11-23T15:00:01.001000Z"},
		},
		{
			name: "a start deadline policy: picked up after slot + interval, before the deadline: runs", now: slot.Add(2 * time.Second),
			deadline: slot.Add(5 * time.Second), wantRan: true,
			want: map[string]any{"outcome": "ok", "error": "",
				"started_at": "2026-11-23T15:00:02.000000Z", "finished_at": "2026-11-23T15:00:02.000000Z"},
		},
		{
			name: "a start deadline policy: picked up after it: expired", now: slot.Add(5*time.Second + time.Millisecond),
			deadline: slot.Add(5 * time.Second),
			want: map[string]any{"outcome": "expired", "error": "",
				"started_at": "2026-11-23T15:00:05.001000Z", "finished_at": "2026-11-23T15:00:05.001000Z"},
		},
		{
			name: "overlap allowed: runs although the run lock is held", now: slot, heldLock: true, overlap: jobs.OverlapAllow,
			wantRan: true,
			want: map[string]any{"outcome": "ok", "error": "",
				"started_at": "2026-11-23T15:00:00.000000Z", "finished_at": "2026-11-23T15:00:00.000000Z"},
		},
		{
			name: "the run lock is held: skipped_overlap, not run", now: slot, heldLock: true,
			want: map[string]any{"outcome": "skipped_overlap", "error": "",
				"started_at": "2026-11-23T15:00:00.000000Z", "finished_at": "2026-11-23T15:00:00.000000Z"},
		},
		{
			name: "an error is recorded and returned for a retry", now: slot, took: time.Millisecond, bodyErr: errBoom,
			wantRan: true, wantErr: []error{errBoom},
			want: map[string]any{"outcome": "error", "error": "boom",
				"started_at": "2026-11-23T15:00:00.000000Z", "finished_at": "2026-11-23T15:00:00.001000Z"},
		},
		{
			name: "a checkpoint conflict is recorded and not retried", now: slot, bodyErr: fmt.Errorf("commit: %w", marketdata.ErrConflict),
			wantRan: true, wantErr: []error{marketdata.ErrConflict, asynq.SkipRetry},
			want: map[string]any{"outcome": "error", "error": "commit: " + marketdata.ErrConflict.Error(),
				"started_at": "2026-11-23T15:00:00.000000Z", "finished_at": "2026-11-23T15:00:00.000000Z"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, tt.now)
			p := intradayPayload()
			p.Deadline, p.Overlap = tt.deadline, tt.overlap
			lockKey := keys.RunLock(string(p.Job), p.Part)
			if tt.heldLock {
				if err := f.rdb.Set(context.Background(), lockKey, "another run", time.Minute).Err(); err != nil {
					t.Fatal(err)
				}
			}
			var ranAt []time.Time
			var sawLock bool
			body := func(ctx context.Context, got tasks.Payload, now time.Time) error {
				ranAt = append(ranAt, now)
				if diff := cmp.Diff(p, got); diff != "" {
					t.Errorf("body's payload (-want +got):\n%s", diff)
				}
				sawLock = f.rdb.Exists(ctx, lockKey).Val() == 1
				f.clk.Advance(tt.took)
				return tt.bodyErr
			}
			err := f.run(t, f.h.wrap(jobs.Intraday, body), task(t, p), !tt.startAt.IsZero(), tt.startAt)

			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("handler returned %v, want nil", err)
			case tt.wantErr != nil && err == nil:
				t.Fatal("handler returned nil, want an error")
			}
			for _, target := range tt.wantErr {
				if !errors.Is(err, target) {
					t.Fatalf("handler returned %v, want it to wrap %v", err, target)
				}
			}
			if tt.wantErr != nil && !slices.Contains(tt.wantErr, asynq.SkipRetry) && errors.Is(err, asynq.SkipRetry) {
				t.Fatalf("handler returned %v: a transient error must be retried", err)
			}
			switch {
			case tt.wantRan && len(ranAt) != 1:
				t.Fatalf("body ran %d times, want once", len(ranAt))
			case !tt.wantRan && len(ranAt) != 0:
				t.Fatalf("body ran at %v, want not at all", ranAt)
			case tt.wantRan && !ranAt[0].Equal(utc(t, tt.want["started_at"].(string))):
				t.Fatalf("body ran with now = %s, want the run's start %s", ranAt[0], tt.want["started_at"])
			case tt.wantRan && !sawLock:
				t.Fatal("body ran without the run lock held")
			}

			want := map[string]any{"job": "intraday", "slot": "2026-11-23T15:00:00.000Z", "part": "1", "task_id": "intraday:1:1795446000000",
				"term": "7", "enqueued_at": "2026-11-23T14:59:59.900000Z", "worker": "w1"}
			for k, v := range tt.want {
				want[k] = v
			}
			if diff := cmp.Diff([]map[string]any{want}, f.runs(t)); diff != "" {
				t.Fatalf("run history (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(map[string]float64{tt.want["outcome"].(string): 1}, f.outcomes(t, jobs.Intraday)); diff != "" {
				t.Fatalf("outcomes counted (-want +got):\n%s", diff)
			}
			// Only an ok run is a success; ok and error runs are timed,
			// runs that did not run the body are not.
			outcome := tt.want["outcome"].(string)
			wantSuccess := 0.0
			if outcome == "ok" {
				wantSuccess = float64(utc(t, tt.want["finished_at"].(string)).UnixMilli()) / 1000 // whole milliseconds
			}
			if got := testutil.ToFloat64(f.m.LastSuccess.WithLabelValues("intraday")); got != wantSuccess {
				t.Fatalf("last success = %v, want %v", got, wantSuccess)
			}
			wantTimed := 0
			if outcome == "ok" || outcome == "error" {
				wantTimed = 1
			}
			if got := testutil.CollectAndCount(f.m.RunDuration); got != wantTimed {
				t.Fatalf("run duration series = %d, want %d", got, wantTimed)
			}
			lock, err := f.rdb.Get(context.Background(), lockKey).Result()
			switch {
			case tt.heldLock && lock != "another run":
				t.Fatalf("the other run's lock became %q, %v", lock, err)
			case !tt.heldLock && !errors.Is(err, redis.Nil):
				t.Fatalf("run lock left behind: %q, %v", lock, err)
			}
		})
	}
}

func utc(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// TestWrapOverlap runs a second task of the same job part while the first
// is still running: it is skipped_overlap; another part is not blocked;
// once the first finishes, the job part runs again.
func TestWrapOverlap(t *testing.T) {
	t.Parallel()
	f := setup(t, slot)
	entered, release := make(chan string, 3), make(chan struct{})
	body := func(ctx context.Context, p tasks.Payload, now time.Time) error {
		entered <- p.Part
		if p.Slot.Equal(slot) && p.Part == "1" {
			<-release
		}
		return nil
	}
	handler := f.h.wrap(jobs.Intraday, body)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	first := intradayPayload()
	firstTask := task(t, first)
	firstDone := make(chan error, 1)
	go func() { firstDone <- handler(ctx, firstTask) }()
	select {
	case <-entered:
	case <-ctx.Done():
		t.Fatal("the first run did not start")
	}

	// The next slot's task for the same part, started while the first runs
	// (the interval is 1 s, so the first overruns its own interval).
	f.clk.Set(slot.Add(time.Second))
	second := first
	second.Slot, second.EnqueuedAt = slot.Add(time.Second), slot.Add(900*time.Millisecond)
	if err := handler(ctx, task(t, second)); err != nil {
		t.Fatalf("overlapping run: %v", err)
	}
	other := second
	other.Part = "0"
	if err := handler(ctx, task(t, other)); err != nil {
		t.Fatalf("other part: %v", err)
	}
	if got := <-entered; got != "0" {
		t.Fatalf("body entered for part %q, want 0", got)
	}

	close(release)
	if err := <-firstDone; err != nil {
		t.Fatalf("first run: %v", err)
	}
	third := first
	third.Slot, third.EnqueuedAt = slot.Add(time.Second), slot.Add(900*time.Millisecond)
	if err := handler(ctx, task(t, third)); err != nil {
		t.Fatalf("after the first finished: %v", err)
	}
	if got := <-entered; got != "1" {
		t.Fatalf("body entered for part %q, want 1", got)
	}

	var got []string
	for _, r := range f.runs(t) {
		got = append(got, fmt.Sprintf("%s %s %s", r["part"], r["slot"], r["outcome"]))
	}
	want := []string{
		"1 2026-11-23T15:00:01.000Z skipped_overlap",
		"0 2026-11-23T15:00:01.000Z ok",
		"1 2026-11-23T15:00:00.000Z ok",
		"1 2026-11-23T15:00:01.000Z ok",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("runs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]float64{"ok": 3, "skipped_overlap": 1}, f.outcomes(t, jobs.Intraday)); diff != "" {
		t.Fatalf("outcomes (-want +got):\n%s", diff)
	}
}

// TestWrapNotRecorded covers tasks that end without a run history entry:
// an undecodable payload (dropped for good) and a worker shutting down
// while the task waits for its slot (retried).
func TestWrapNotRecorded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		task    *asynq.Task
		cancel  bool // cancel the context while the handler waits
		wantErr error
	}{
		{"undecodable payload: not retried", asynq.NewTask("heartbeat:intraday", []byte("{not json")), false, asynq.SkipRetry},
		{"shutdown while waiting for the slot", nil, true, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, slot.Add(-time.Second))
			tk := tt.task
			if tk == nil {
				tk = task(t, intradayPayload())
			}
			ran := false
			handler := f.h.wrap(jobs.Intraday, func(context.Context, tasks.Payload, time.Time) error { ran = true; return nil })
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- handler(ctx, tk) }()
			if tt.cancel {
				wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer wcancel()
				if err := f.clk.WaitForSleepers(wctx, 1); err != nil {
					t.Fatal(err)
				}
				cancel()
			}
			var err error
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("the handler did not return")
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("handler returned %v, want %v", err, tt.wantErr)
			}
			if ran {
				t.Fatal("body ran")
			}
			if runs := f.runs(t); len(runs) != 0 {
				t.Fatalf("run history: %v, want nothing", runs)
			}
		})
	}
}

// TestRegister runs tasks through Register and a ServeMux, as a worker
// does, with the real engine behind the handlers.
func TestRegister(t *testing.T) {
	t.Parallel()
	sessionVolume := tasks.Payload{Job: jobs.SessionVolume, Slot: slot, Interval: 10 * time.Second, Term: 1, EnqueuedAt: slot.Add(-100 * time.Millisecond)}
	intraday := intradayPayload()
	outOfRange := intraday
	outOfRange.Part = "7"
	notAShard := intraday
	notAShard.Part = "x"
	job := func(name jobs.Name, part string) tasks.Payload {
		spec, _ := jobs.Lookup(name)
		return tasks.Payload{Job: name, Slot: slot, Part: part, Interval: spec.Schedule.Every, Term: 1, EnqueuedAt: slot.Add(-100 * time.Millisecond)}
	}
	// Monday 2026-11-23 15:00 UTC: XNYS is open; its next session is
	// Tuesday's.
	tests := []struct {
		name        string
		p           tasks.Payload
		wantOutcome string
		wantErr     bool
		noRetry     bool   // the error wraps asynq.SkipRetry
		key         string // a key the job must have written
	}{
		{"session volume", sessionVolume, "ok", false, false, keys.MarketSessionVolume("XNYS")},
		{"intraday shard 1", intraday, "ok", false, false, keys.Checkpoints(1)},
		{"intraday on a shard out of range", outOfRange, "error", true, false, ""},
		{"intraday on a part that is not a shard", notAShard, "error", true, true, ""},
		{"week52 extremes", job(jobs.Week52Extremes, "0"), "ok", false, false, ""},
		{"week52 extremes on a part that is not a shard", job(jobs.Week52Extremes, "x"), "error", true, true, ""},
		{"market metrics", job(jobs.MarketMetrics, ""), "ok", false, false, keys.MarketMetrics("XNYS")},
		{"twenty-four hour", job(jobs.TwentyFourHour, "1"), "ok", false, false, ""},
		{"pre-open backtest", job(jobs.PreOpenBacktest, "XNYS:2026-11-24"), "ok", false, false, keys.Backtest("XNYS", "2026-11-24")},
		{"pre-open on a part that is not a session", job(jobs.PreOpenBacktest, "XNYS"), "error", true, true, ""},
		{"pre-open on a day without a session", job(jobs.PreOpenBacktest, "XNYS:2026-11-22"), "error", true, true, ""},
		{"pre-open on an unknown market", job(jobs.PreOpenBacktest, "XPAR:2026-11-24"), "error", true, true, ""},
		{"vwap minute capture", job(jobs.VwapMinuteCapture, "0"), "ok", false, false, ""},
		{"closed bars flush", job(jobs.ClosedBarsFlush, "1"), "ok", false, false, keys.ClosedBars(1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, slot)
			mux := asynq.NewServeMux()
			testinfra.Must(t, f.h.Register(mux, jobs.Builtin(), nil), "register")
			for _, spec := range jobs.Registry {
				if _, pattern := mux.Handler(asynq.NewTask(spec.TaskType, nil)); pattern != spec.TaskType {
					t.Fatalf("no handler for %s (pattern %q)", spec.TaskType, pattern)
				}
			}
			err := mux.ProcessTask(context.Background(), task(t, tt.p))
			if (err != nil) != tt.wantErr {
				t.Fatalf("ProcessTask = %v, want error %v", err, tt.wantErr)
			}
			runs := f.runs(t)
			if len(runs) != 1 {
				t.Fatalf("%d runs recorded, want 1", len(runs))
			}
			r := runs[0]
			if r["job"] != string(tt.p.Job) || r["outcome"] != tt.wantOutcome || r["task_id"] != tt.p.ID() {
				t.Fatalf("run = %v, want job %s, outcome %s, task %s", r, tt.p.Job, tt.wantOutcome, tt.p.ID())
			}
			if tt.wantErr && r["error"] != err.Error() {
				t.Fatalf("run's error = %q, want the handler's %q", r["error"], err)
			}
			if got := errors.Is(err, asynq.SkipRetry); got != tt.noRetry {
				t.Fatalf("error %v: SkipRetry %v, want %v", err, got, tt.noRetry)
			}
			if tt.key != "" && f.rdb.Exists(context.Background(), tt.key).Val() != 1 {
				t.Fatalf("%s did not write %s", tt.p.Job, tt.key)
			}
			if diff := cmp.Diff(map[string]float64{tt.wantOutcome: 1}, f.outcomes(t, tt.p.Job)); diff != "" {
				t.Fatalf("outcomes (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRegisterCustom: a program's own job gets the same wrapper (run
// history, outcome) as the built-in ones; a job without a handler, or a
// handler replacing a built-in one, is refused.
func TestRegisterCustom(t *testing.T) {
	t.Parallel()
	f := setup(t, slot)
	set := jobs.Builtin()
	testinfra.Must(t, set.Add(jobs.Spec{Name: "eod_report", Schedule: schedule.Spec{At: "XNYS.close+2m"}}), "add")
	var got tasks.Payload
	custom := map[jobs.Name]Func{"eod_report": func(_ context.Context, p tasks.Payload, _ time.Time) error { got = p; return nil }}
	mux := asynq.NewServeMux()
	testinfra.Must(t, f.h.Register(mux, set, custom), "register")
	p := tasks.Payload{Job: "eod_report", Slot: slot, Part: "XNYS:2026-11-23", Key: "XNYS:2026-11-23", Deadline: slot.Add(time.Minute)}
	spec, _ := set.Lookup("eod_report")
	tk, _, err := tasks.New(spec, p, tasks.Options{Retention: time.Hour})
	testinfra.Must(t, err, "task")
	if err := mux.ProcessTask(context.Background(), tk); err != nil {
		t.Fatal(err)
	}
	if got.ID() != "eod_report:XNYS:2026-11-23" {
		t.Fatalf("the body got %+v", got)
	}
	if runs := f.runs(t); len(runs) != 1 || runs[0]["outcome"] != "ok" || runs[0]["task_id"] != "eod_report:XNYS:2026-11-23" {
		t.Fatalf("run history %v", runs)
	}
	if err := f.h.Register(asynq.NewServeMux(), set, nil); err == nil || !strings.Contains(err.Error(), "eod_report has no handler") {
		t.Fatalf("a job without a handler: %v", err)
	}
	if err := f.h.Register(asynq.NewServeMux(), set, map[jobs.Name]Func{jobs.Intraday: custom["eod_report"], "eod_report": custom["eod_report"]}); err == nil {
		t.Fatal("a built-in handler was replaced")
	}
}

// TestHandlerMetrics runs the intraday and flush handlers over a tick
// before the open, a tick in the session and a closed-bar entry that
// cannot be decoded, and checks what they count.
func TestHandlerMetrics(t *testing.T) {
	t.Parallel()
	f := setup(t, slot)
	ctx := context.Background()
	shard := ticks.Shard("SPY", 2)
	for _, tr := range []struct {
		price string
		at    time.Time
	}{
		{"100", slot.Add(-31 * time.Minute)}, // 14:29, before the 14:30 open
		{"101", slot.Add(-10 * time.Second)},
	} {
		if err := f.rdb.XAdd(ctx, &redis.XAddArgs{Stream: keys.Ticks(shard), Values: []string{ticks.FieldSymbol, "SPY",
			ticks.FieldPrice, tr.price, ticks.FieldSize, "1", ticks.FieldTS, fmt.Sprint(tr.at.UnixMilli())}}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.rdb.XAdd(ctx, &redis.XAddArgs{Stream: keys.ClosedBars(shard), ID: "1-1",
		Values: []string{"symbol", "SPY", "market", "XNYS", "bar", "{"}}).Err(); err != nil {
		t.Fatal(err)
	}
	mux := asynq.NewServeMux()
	testinfra.Must(t, f.h.Register(mux, jobs.Builtin(), nil), "register")
	for _, name := range []jobs.Name{jobs.Intraday, jobs.ClosedBarsFlush} {
		spec, _ := jobs.Lookup(name)
		p := tasks.Payload{Job: name, Slot: slot, Part: fmt.Sprint(shard), Interval: spec.Schedule.Every, Term: 1, EnqueuedAt: slot}
		if err := mux.ProcessTask(ctx, task(t, p)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	got := map[string]float64{
		"ticks in session":     testutil.ToFloat64(f.m.Ticks.WithLabelValues("in_session")),
		"ticks out of session": testutil.ToFloat64(f.m.Ticks.WithLabelValues("out_of_session")),
		"corrupt bars":         testutil.ToFloat64(f.m.DeadLetters.WithLabelValues("corrupt_bar")),
	}
	want := map[string]float64{"ticks in session": 1, "ticks out of session": 1, "corrupt bars": 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("counted (-want +got):\n%s", diff)
	}
}
