package marketdata

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"heartbeat/internal/testinfra"
)

// scenario feeds ticks and runs the consuming computations at a series of
// instants; it is replayed cleanly and with faults, and the final Redis
// contents must match.
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
		{trades([4]any{"SPY", "100", "10", mon(14, 29, 50, 0)}, [4]any{"SPY", "100.5", "20", mon(14, 30, 1, 0)},
			[4]any{"ES", "6000", "2", mon(14, 30, 2, 0)}, [4]any{"BTCUSD", "50000", "0.01", mon(14, 30, 3, 0)}), mon(14, 30, 4, 0)},
		{trades([4]any{"SPY", "101", "5", mon(14, 30, 30, 0)}, [4]any{"QQQ", "400", "7", mon(14, 30, 31, 0)}), mon(14, 30, 32, 0)},
		{func(f fixture, t testing.TB) {
			f.add(t, next(), "symbol", "SPY", "price", "oops", "size", "1", "ts", fmt.Sprint(mon(14, 30, 40, 0).UnixMilli()))
			trades([4]any{"SPY", "99", "1", mon(14, 31, 2, 0)}, [4]any{"SPY", "98", "1", mon(14, 30, 59, 0)})(f, t)
		}, mon(14, 31, 3, 0)},
		{nil, mon(14, 32, 0, 0)},
		{trades([4]any{"ES", "6001", "1", mon(14, 33, 0, 0)}, [4]any{"ES", "5000", "1", mon(14, 30, 0, 0)}), mon(14, 33, 1, 0)},
		{trades([4]any{"SPY", "102", "3", mon(21, 0, 5, 0)}), mon(21, 1, 0, 0)},
		{trades([4]any{"SPY", "103", "3", mon(14, 30, 5, 0).AddDate(0, 0, 1)}), mon(14, 31, 0, 0).AddDate(0, 0, 1)},
	}
}

// runScenario plays the scenario; fail, when set, is installed as the
// engine's fault hook, and a failed run is retried at the same instant.
func runScenario(t testing.TB, f fixture, fail func(step string) error) {
	t.Helper()
	ctx := context.Background()
	for _, s := range crashScenario() {
		if s.feed != nil {
			s.feed(f, t)
		}
		for shard := 0; shard < f.e.set.Shards; shard++ {
			for attempt := 0; ; attempt++ {
				f.e.fault = fail
				_, err := f.e.Intraday(ctx, shard, s.at)
				f.e.fault = nil
				if err == nil {
					break
				}
				if !errors.Is(err, errInjected) || attempt > 10 {
					t.Fatalf("Intraday shard %d at %s: %v", shard, s.at, err)
				}
			}
		}
	}
}

var errInjected = errors.New("injected fault: the worker died here")

// TestCrashAtEveryStepMatchesCleanRun kills the work after each step of a
// run (before the commit, and after it with the reply lost) at every run of
// the scenario in turn, retries, and compares Redis with a clean run.
func TestCrashAtEveryStepMatchesCleanRun(t *testing.T) {
	t.Parallel()
	clean := setup(t)
	runScenario(t, clean, nil)
	want := dump(t, clean.rdb)
	crashAtEveryStep(t, want, func(t *testing.T) fixture { return setup(t) })
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
		return setupOn(t, rdb, testSettings())
	}
	clean := newDB(t)
	runScenario(t, clean, nil)
	want := dump(t, clean.rdb)
	crashAtEveryStep(t, want, newDB)
}

func crashAtEveryStep(t *testing.T, want map[string]string, fresh func(t *testing.T) fixture) {
	steps := []string{"read_checkpoint", "read_ticks", "read_state", "compute", "commit"}
	for _, step := range steps {
		for k := 1; k <= 14; k += 3 {
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
				if diff := cmp.Diff(want, dump(t, f.rdb)); diff != "" {
					t.Fatalf("state after a crash at %s of run %d differs from a clean run (-clean +crashed):\n%s", step, k, diff)
				}
			})
		}
	}
}
