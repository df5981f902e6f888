package runner

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"heartbeat/internal/jobs"
	"heartbeat/internal/keys"
	"heartbeat/internal/runlog"
	"heartbeat/internal/tasks"
	"heartbeat/internal/testinfra"
)

// logBuffer is a zerolog writer shared by a handler and its lock's
// renewal goroutine.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// messages returns the level and message of every line, "level: message".
func (l *logBuffer) messages(t *testing.T) []string {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(l.buf.Bytes()))
	for sc.Scan() {
		var line struct{ Level, Message string }
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		out = append(out, line.Level+": "+line.Message)
	}
	return out
}

// withLog rebuilds f's handlers with a logger writing to a buffer, at
// info level and above, and returns the buffer.
func (f *fixture) withLog(t *testing.T) *logBuffer {
	t.Helper()
	var logs logBuffer
	f.deps.Log = zerolog.New(&logs).Level(zerolog.InfoLevel)
	h, err := NewHandlers(f.deps)
	if err != nil {
		t.Fatal(err)
	}
	f.h = h
	return &logs
}

// heldRun starts an Intraday run (interval 1 s: a 3 s run lock, renewed
// every second) at its slot whose body blocks until the returned release
// is called; it returns once the body runs. wait returns the handler's
// result.
func (f *fixture) heldRun(t *testing.T) (release func(), wait func() error) {
	t.Helper()
	started, unblock := make(chan struct{}), make(chan struct{})
	handler := f.h.wrap(jobs.Intraday, func(context.Context, tasks.Payload, time.Time) error {
		close(started)
		<-unblock
		return nil
	})
	done := make(chan error, 1)
	go func() { done <- handler(context.Background(), task(t, intradayPayload())) }()
	select {
	case <-started:
	case <-time.After(testWait):
		t.Fatal("the body did not start")
	}
	var once sync.Once
	release = func() { once.Do(func() { close(unblock) }) }
	t.Cleanup(release)
	wait = func() error {
		select {
		case err := <-done:
			return err
		case <-time.After(testWait):
			t.Fatal("the handler did not return")
			return nil
		}
	}
	return release, wait
}

// testWait bounds a wait for work on the wall clock; the handlers run on
// a fake clock, so it only has to exceed a loaded machine's delays.
const testWait = 30 * time.Second

// advanceRenewal waits until the lock's renewal sleeps on the clock,
// then moves the clock one renewal interval (a third of the 3 s TTL).
func (f *fixture) advanceRenewal(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	if err := f.clk.WaitForSleepers(ctx, 1); err != nil {
		t.Fatalf("the run lock's renewal does not sleep on the clock: %v", err)
	}
	f.clk.Advance(time.Second)
}

// waitTTL polls until the key's TTL in miniredis is want.
func (f *fixture) waitTTL(t *testing.T, key string, want time.Duration) {
	t.Helper()
	deadline := time.Now().Add(testWait)
	for f.mr.TTL(key) != want {
		if time.Now().After(deadline) {
			t.Fatalf("TTL of %s is %s, want %s", key, f.mr.TTL(key), want)
		}
		time.Sleep(time.Millisecond) // polls miniredis; the renewal it waits for is already due
	}
}

// TestRunLockRenewedWhileTheRunLasts holds a run past most of its lock's
// TTL (miniredis's clock moved on 2.5 s): a renewal interval later on the
// worker's clock the TTL is whole again, and again the next; when the run
// ends the lock is released and the run recorded ok.
func TestRunLockRenewedWhileTheRunLasts(t *testing.T) {
	t.Parallel()
	f := setup(t, slot)
	key := keys.RunLock(string(jobs.Intraday), "1")
	release, wait := f.heldRun(t)
	if ttl := f.mr.TTL(key); ttl != 3*time.Second {
		t.Fatalf("run lock TTL %s at the start, want 3s", ttl)
	}
	for range 2 {
		f.mr.FastForward(2500 * time.Millisecond)
		if ttl := f.mr.TTL(key); ttl != 500*time.Millisecond {
			t.Fatalf("run lock TTL %s after 2.5 s, want 500ms", ttl)
		}
		f.advanceRenewal(t)
		f.waitTTL(t, key, 3*time.Second)
	}
	release()
	if err := wait(); err != nil {
		t.Fatalf("handler: %v", err)
	}
	if f.mr.Exists(key) {
		t.Fatal("the run lock is still held after the run")
	}
	if diff := cmp.Diff(map[string]float64{"ok": 1}, f.outcomes(t, jobs.Intraday)); diff != "" {
		t.Fatalf("outcomes (-want +got):\n%s", diff)
	}
}

// TestRunLockRenewalLost takes the run lock away mid-run (it expired and
// another run took it): the renewal fails, which is logged once however
// many renewals follow; the run goes on and ends ok, and its release
// leaves the other run's lock alone.
func TestRunLockRenewalLost(t *testing.T) {
	t.Parallel()
	f := setup(t, slot)
	logs := f.withLog(t)
	key := keys.RunLock(string(jobs.Intraday), "1")
	release, wait := f.heldRun(t)
	testinfra.Must(t, f.rdb.Set(context.Background(), key, "another run", 3*time.Second).Err(), "take the lock")
	for range 3 {
		f.advanceRenewal(t)
	}
	// The third renewal is due: wait until it sleeps again, so all three ran.
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	if err := f.clk.WaitForSleepers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	release()
	if err := wait(); err != nil {
		t.Fatalf("handler: %v", err)
	}
	if v, err := f.rdb.Get(context.Background(), key).Result(); err != nil || v != "another run" {
		t.Fatalf("the other run's lock = %q, %v after the release, want it kept", v, err)
	}
	want := []string{"warn: run lock renewal failed: the run goes on; its commit is checkpoint-checked"}
	if diff := cmp.Diff(want, logs.messages(t)); diff != "" {
		t.Fatalf("log (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]float64{"ok": 1}, f.outcomes(t, jobs.Intraday)); diff != "" {
		t.Fatalf("outcomes (-want +got):\n%s", diff)
	}
}

// failCommand is a go-redis hook that fails every command named name.
type failCommand struct {
	name string
	err  error
}

func (h failCommand) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h failCommand) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() == h.name {
			cmd.SetErr(h.err)
			return h.err
		}
		return next(ctx, cmd)
	}
}

// ProcessPipelineHook fails a pipeline holding the command (the run
// history appends to two streams in one pipeline).
func (h failCommand) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, cmd := range cmds {
			if cmd.Name() == h.name {
				for _, c := range cmds {
					c.SetErr(h.err)
				}
				return h.err
			}
		}
		return next(ctx, cmds)
	}
}

// TestWrapRedisFailures fails one Redis command of a run: taking the run
// lock (SET NX), or appending to the run history (XADD). A run that could
// not take its lock does not run its body, is recorded as an error and
// returns it (asynq retries); a run whose history append failed still
// returns its own result, and the failure is logged once.
func TestWrapRedisFailures(t *testing.T) {
	t.Parallel()
	refused := errors.New("connection refused")
	tests := []struct {
		name        string
		failOn      string // the command that fails
		lockClient  bool   // the failing client is the handler's (run lock), else the run history's
		wantRan     bool
		wantErr     error
		wantOutcome string
		wantHistory []string // the outcomes in the run history
		wantLog     []string
	}{
		{name: "taking the run lock", failOn: "set", lockClient: true, wantErr: refused, wantOutcome: "error",
			wantHistory: []string{"error"}, wantLog: []string{"error: run"}},
		{name: "appending the run history", failOn: "xadd", wantRan: true, wantOutcome: "ok",
			wantLog: []string{"error: run history not written"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, slot)
			failing := redis.NewClient(&redis.Options{Addr: f.mr.Addr()})
			t.Cleanup(func() { failing.Close() })
			failing.AddHook(failCommand{name: tt.failOn, err: refused})
			if tt.lockClient {
				f.deps.Redis = failing
			} else {
				f.deps.Runs = runlog.New(failing, 0)
			}
			logs := f.withLog(t)
			ran := false
			handler := f.h.wrap(jobs.Intraday, func(context.Context, tasks.Payload, time.Time) error { ran = true; return nil })
			err := f.run(t, handler, task(t, intradayPayload()), false, slot)
			if ran != tt.wantRan {
				t.Fatalf("body ran = %v, want %v", ran, tt.wantRan)
			}
			if (tt.wantErr == nil && err != nil) || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Fatalf("handler returned %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(map[string]float64{tt.wantOutcome: 1}, f.outcomes(t, jobs.Intraday)); diff != "" {
				t.Fatalf("outcomes (-want +got):\n%s", diff)
			}
			var history []string
			for _, r := range f.runs(t) {
				history = append(history, r["outcome"].(string))
			}
			if diff := cmp.Diff(tt.wantHistory, history); diff != "" {
				t.Fatalf("run history outcomes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantLog, logs.messages(t)); diff != "" {
				t.Fatalf("log (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLockTTL: the run lock outlives three intervals, and never less than
// three seconds, so a short job's lock does not expire between renewals.
func TestLockTTL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		interval, want time.Duration
	}{
		{0, 3 * time.Second},
		{100 * time.Millisecond, 3 * time.Second},
		{time.Second, 3 * time.Second},
		{1500 * time.Millisecond, 4500 * time.Millisecond},
		{time.Minute, 3 * time.Minute},
	}
	for _, tt := range tests {
		if got := lockTTL(tt.interval); got != tt.want {
			t.Fatalf("lockTTL(%s) = %s, want %s", tt.interval, got, tt.want)
		}
	}
}
