package marketdata

import (
	"context"
	"fmt"
	"testing"
	"time"

	"heartbeat/internal/ticks"
)

// TestTickBacklogAge: zero on an empty stream, the age of the oldest
// unconsumed trade while Intraday has not run, zero again once it consumed
// everything, and the age of the first trade after its checkpoint when new
// ones arrive.
func TestTickBacklogAge(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	n := ticks.Shard("BTCUSD", f.e.set.Shards)
	now := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	age := func(at time.Time) time.Duration {
		t.Helper()
		a, err := f.e.TickBacklogAge(ctx, n, at)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	if a := age(now); a != 0 {
		t.Fatalf("empty stream: %s", a)
	}
	first := now.Add(-40 * time.Second)
	f.trade(t, fmt.Sprintf("%d-0", first.UnixMilli()), "BTCUSD", "100", "1", first)
	second := now.Add(-10 * time.Second)
	f.trade(t, fmt.Sprintf("%d-0", second.UnixMilli()), "BTCUSD", "101", "1", second)
	if a := age(now); a != 40*time.Second {
		t.Fatalf("two unconsumed trades: %s, want 40s", a)
	}
	if _, err := f.e.Intraday(ctx, n, now); err != nil {
		t.Fatal(err)
	}
	if a := age(now.Add(time.Minute)); a != 0 {
		t.Fatalf("all consumed: %s", a)
	}
	third := now.Add(5 * time.Second)
	f.trade(t, fmt.Sprintf("%d-0", third.UnixMilli()), "BTCUSD", "102", "1", third)
	if a := age(now.Add(35 * time.Second)); a != 30*time.Second {
		t.Fatalf("a new trade after the checkpoint: %s, want 30s", a)
	}
	if _, err := f.e.TickBacklogAge(ctx, 99, now); err == nil {
		t.Fatal("shard 99 accepted")
	}
}
