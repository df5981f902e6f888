package marketdata

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"heartbeat/internal/keys"
	"heartbeat/internal/testinfra"
)

// scenario feeds ticks and runs the consuming computations (Intraday,
// VwapMinuteCapture and FlushClosedBars, on every shard) at a series of
// instants; it is replayed cleanly and with faults, and the final Redis
// contents and stored bars must match.
type scenarioStep struct {
	feed func(f fixture, t testing.TB)
	at   time.Time
}

func crashScenario() []scenarioStep {
	id := 0
	next := func() string { id++; return fmt.Sprintf("5-%d", id) }
	trades := func(specs ...[4]any) func(f fixture, t testing.TB) {
		return func(f fixture, t testing.TB) {
			for _, s := range specs {
				f.trade(t, next(), s[0].(string), s[1].(string), s[2].(string), s[3].(time.Time))
			}
		}
	}
	return []scenarioStep{
		{func(f fixture, t testing.TB) {
			// A closed-bar entry the flush cannot decode, with a fixed ID
			// so its dead letter is the same in every replay.
			if err := f.rdb.XAdd(context.Background(), &redis.XAddArgs{Stream: keys.ClosedBars(shardOf(f, "SPY")), ID: "1-1",
				Values: []string{"symbol", "SPY", "market", "XNYS", "bar", "{"}}).Err(); err != nil {
				t.Fatal(err)
			}
			trades([4]any{"SPY", "100", "10", mon(14, 29, 50, 0)}, [4]any{"SPY", "100.5", "20", mon(14, 30, 1, 0)},
				[4]any{"ES", "6000", "2", mon(14, 30, 2, 0)}, [4]any{"BTCUSD", "50000", "0.01", mon(14, 30, 3, 0)})(f, t)
		}, mon(14, 30, 4, 0)},
		{trades([4]any{"SPY", "101", "5", mon(14, 30, 30, 0)}, [4]any{"QQQ", "400", "7", mon(14, 30, 31, 0)}), mon(14, 30, 32, 0)},
		{func(f fixture, t testing.TB) {
			f.add(t, next(), "symbol", "SPY", "price", "oops", "size", "1", "ts", fmt.Sprint(mon(14, 30, 40, 0).UnixMilli()))
			trades([4]any{"SPY", "99", "1", mon(14, 31, 2, 0)}, [4]any{"SPY", "98", "1", mon(14, 30, 59, 0)})(f, t)
		}, mon(14, 31, 3, 0)},
		{nil, mon(14, 32, 0, 0)},
		{trades([4]any{"ES", "6001", "1", mon(14, 33, 0, 0)}, [4]any{"ES", "5000", "1", mon(14, 30, 0, 0)}), mon(14, 33, 1, 0)},
		{trades([4]any{"QQQ", "401", "3", mon(14, 35, 0, 0)}, [4]any{"BTCUSD", "50010", "0.02", mon(14, 36, 30, 0)}), mon(14, 37, 15, 0)},
		{trades([4]any{"SPY", "102", "3", mon(21, 0, 5, 0)}), mon(21, 1, 0, 0)},
		{trades([4]any{"SPY", "103", "3", mon(14, 30, 5, 0).AddDate(0, 0, 1)}), mon(14, 31, 0, 0).AddDate(0, 0, 1)},
	}
}

// scenarioJobs are the consuming computations the scenario runs at each
// instant, in order, on every shard; each names its fault steps.
var scenarioJobs = []struct {
	name  string
	steps []string
	run   func(ctx context.Context, e *Engine, shard int, now time.Time) error
}{
	{"intraday", []string{"read_checkpoint", "read_ticks", "read_state", "compute", "commit"},
		func(ctx context.Context, e *Engine, shard int, now time.Time) error {
			_, err := e.Intraday(ctx, shard, now)
			return err
		}},
	{"vwap", []string{"read_checkpoint", "read_bars", "compute", "commit"},
		func(ctx context.Context, e *Engine, shard int, now time.Time) error {
			_, err := e.VwapMinuteCapture(ctx, shard, now)
			return err
		}},
	{"flush", []string{"claim", "write", "ack"},
		func(ctx context.Context, e *Engine, shard int, now time.Time) error {
			_, err := e.FlushClosedBars(ctx, shard, now)
			return err
		}},
}

// runScenario plays the scenario; fail, when set, is installed as the
// engine's fault hook (called with "job/step"), and a failed run is
// retried at the same instant.
func runScenario(t testing.TB, f fixture, fail func(step string) error) {
	t.Helper()
	ctx := context.Background()
	for _, s := range crashScenario() {
		if s.feed != nil {
			s.feed(f, t)
		}
		for _, job := range scenarioJobs {
			for shard := 0; shard < f.e.set.Shards; shard++ {
				for attempt := 0; ; attempt++ {
					if fail != nil {
						f.e.fault = func(step string) error { return fail(job.name + "/" + step) }
					}
					err := job.run(ctx, f.e, shard, s.at)
					f.e.fault = nil
					if err == nil {
						break
					}
					if !errors.Is(err, errInjected) || attempt > 10 {
						t.Fatalf("%s shard %d at %s: %v", job.name, shard, s.at, err)
					}
				}
			}
		}
	}
}

var errInjected = errors.New("injected fault: the worker died here")

// TestCrashAtEveryStepMatchesCleanRun kills the work after each step of a
// run (before the commit, and after it with the reply lost) of each
// consuming computation, at runs spread over the scenario, retries, and
// compares Redis and the durable store with a clean run.
func TestCrashAtEveryStepMatchesCleanRun(t *testing.T) {
	t.Parallel()
	fresh := func(t *testing.T) fixture { return setup(t, withStore()) }
	clean := fresh(t)
	runScenario(t, clean, nil)
	crashAtEveryStep(t, dumpAll(t, clean), fresh)
}

// TestCrashAtEveryStepRealRedis is the same against a real redis-server.
func TestCrashAtEveryStepRealRedis(t *testing.T) {
	t.Parallel()
	srv := testinfra.StartRedis(t)
	db := 0
	newDB := func(t *testing.T) fixture {
		db++
		rdb := redis.NewClient(&redis.Options{Addr: srv.Addr(), DB: db % 16})
		t.Cleanup(func() { rdb.Close() })
		if err := rdb.FlushDB(context.Background()).Err(); err != nil {
			t.Fatal(err)
		}
		return setupOn(t, rdb, testSettings(), withStore())
	}
	clean := newDB(t)
	runScenario(t, clean, nil)
	crashAtEveryStep(t, dumpAll(t, clean), newDB)
}

// crashAtEveryStep counts how often each step of each job is reached in a
// clean replay, then for every step crashes at the occurrences
// crashOccurrences picks.
func crashAtEveryStep(t *testing.T, want map[string]string, fresh func(t *testing.T) fixture) {
	counts := map[string]int{}
	runScenario(t, fresh(t), func(step string) error { counts[step]++; return nil })
	for _, job := range scenarioJobs {
		for _, name := range job.steps {
			step := job.name + "/" + name
			n := counts[step]
			if n == 0 {
				t.Fatalf("the scenario never reaches %s", step)
			}
			for _, k := range crashOccurrences(n) {
				t.Run(fmt.Sprintf("%s/run%d", step, k), func(t *testing.T) {
					f := fresh(t)
					seen := 0
					runScenario(t, f, func(s string) error {
						if s != step {
							return nil
						}
						seen++
						if seen == k {
							return errInjected
						}
						return nil
					})
					if seen < k {
						t.Fatalf("%s reached %d times, the fault was for its occurrence %d", step, seen, k)
					}
					if diff := cmp.Diff(want, dumpAll(t, f)); diff != "" {
						t.Fatalf("state after a crash at %s of run %d differs from a clean run (-clean +crashed):\n%s", step, k, diff)
					}
				})
			}
		}
	}
}

// crashOccurrences returns which of a step's n occurrences
// crashAtEveryStep kills: five spread over the scenario, the first and the
// last included, or under go test -short (what make mutation runs, once
// per mutant) the last only, where a run has the most state to lose.
func crashOccurrences(n int) []int {
	if testing.Short() {
		return []int{n}
	}
	return spread(n, 5)
}

// spread returns up to m occurrence numbers in 1..n, evenly spaced, the
// first and the last included.
func spread(n, m int) []int {
	if n <= m {
		out := make([]int, n)
		for i := range out {
			out[i] = i + 1
		}
		return out
	}
	out := make([]int, m)
	for i := range out {
		out[i] = 1 + i*(n-1)/(m-1)
	}
	return out
}

// TestWorkersTakingTurnsMatchCleanRun runs the scenario with the runs of
// each shard alternating between two engines (two workers) on one Redis:
// each engine's cache of Intraday states must notice the other's commits,
// including those that consumed no tick, so the result equals one engine's.
func TestWorkersTakingTurnsMatchCleanRun(t *testing.T) {
	t.Parallel()
	clean := setup(t, withStore())
	runScenario(t, clean, nil)

	a := setup(t, withStore())
	b, err := New(a.e.set, Deps{Redis: a.rdb, Instruments: a.e.instr, Store: a.store, Log: a.e.log})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	turn := 0
	for _, s := range crashScenario() {
		if s.feed != nil {
			s.feed(a, t)
		}
		for _, job := range scenarioJobs {
			for shard := 0; shard < a.e.set.Shards; shard++ {
				e := a.e
				if turn++; turn%3 != 0 { // a, b, b, a, b, b, ...: both runs in a row and turns
					e = b
				}
				if err := job.run(ctx, e, shard, s.at); err != nil {
					t.Fatalf("%s shard %d at %s: %v", job.name, shard, s.at, err)
				}
			}
		}
	}
	if diff := cmp.Diff(dumpAll(t, clean), dumpAll(t, a)); diff != "" {
		t.Fatalf("two workers taking turns differ from one (-one +two):\n%s", diff)
	}
}

// TestStateCacheSeesOtherWorkersCommits: worker a runs, worker b commits a
// trade, then a runs again with its cached states; a must not work from
// its stale copy.
func TestStateCacheSeesOtherWorkersCommits(t *testing.T) {
	t.Parallel()
	a := setup(t)
	b, err := New(a.e.set, Deps{Redis: a.rdb, Instruments: a.e.instr, Log: a.e.log})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	n := shardOf(a, "SPY")
	for i, step := range []struct {
		e   *Engine
		ms  int
		vol string
	}{{a.e, 1, "1"}, {b, 2, "2"}, {a.e, 3, "3"}, {a.e, 4, "4"}} {
		at := mon(15, 0, i, 0)
		a.trade(t, fmt.Sprintf("9-%d", i+1), "SPY", "100", "1", at)
		if _, err := step.e.Intraday(ctx, n, at.Add(time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		if st := a.state(t, "SPY"); st.Cur.Volume != dec(step.vol) {
			t.Fatalf("step %d: session volume %s, want %s", i, st.Cur.Volume, step.vol)
		}
	}
	// b runs with nothing new but the minute over: it closes the bar; a's
	// next run must see the bar closed, not reopen it from its cache.
	if _, err := b.Intraday(ctx, n, mon(15, 1, 0, 0)); err != nil {
		t.Fatal(err)
	}
	a.trade(t, "9-9", "SPY", "101", "1", mon(15, 1, 1, 0))
	if _, err := a.e.Intraday(ctx, n, mon(15, 1, 2, 0)); err != nil {
		t.Fatal(err)
	}
	closed := a.rdb.XLen(ctx, keys.ClosedBars(n)).Val()
	if closed != 1 {
		t.Fatalf("closed-bar entries = %d, want 1 (the 15:00 bar closed once)", closed)
	}
}
