package marketdata

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"heartbeat/internal/keys"
	"heartbeat/internal/testinfra"
	"heartbeat/internal/ticks"
)

// TestCommitWaitsForReplicas runs Intraday with ingest.wait_replicas on a
// master with one replica: with 1 the commits are acknowledged, with 2 they
// are applied all the same and each is reported short once, by component.
// The master starts with an empty script cache, so the first commit also
// goes through the NOSCRIPT fallback.
func TestCommitWaitsForReplicas(t *testing.T) {
	t.Parallel()
	master := testinfra.StartRedis(t)
	replica := testinfra.StartRedis(t, testinfra.WithArgs("--replicaof", "127.0.0.1", strconv.Itoa(master.Port)))
	rdb := master.Client()
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if n, err := rdb.Do(ctx, "wait", 1, 100).Int(); err == nil && n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica %s did not connect", replica.Addr())
		}
	}
	at := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		replicas  int
		wantShort int
	}{{1, 0}, {2, 2}} {
		if err := rdb.FlushAll(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		if err := rdb.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		set := testSettings()
		set.WaitReplicas = tc.replicas
		var mu sync.Mutex
		var short []string
		f := setupOn(t, rdb, set, func(d *Deps) {
			d.WaitShort = func(component string) { mu.Lock(); short = append(short, component); mu.Unlock() }
		})
		f.trade(t, strconv.FormatInt(at.UnixMilli(), 10)+"-0", "BTCUSD", "100", "1", at)
		f.intradayAll(t, at.Add(time.Second))
		f.trade(t, strconv.FormatInt(at.UnixMilli()+1, 10)+"-0", "BTCUSD", "101", "2", at.Add(time.Millisecond))
		f.intradayAll(t, at.Add(2*time.Second))
		if st := f.state(t, "BTCUSD"); st.Ticks != 2 {
			t.Fatalf("replicas %d: %d ticks applied, want 2 (a short WAIT must not undo a commit)", tc.replicas, st.Ticks)
		}
		// Only the shard with ticks commits a change; an idle shard's
		// run changes nothing and commits its unchanged checkpoint.
		got := 0
		for _, c := range short {
			if c != "intraday" {
				t.Fatalf("short commit reported as %q", c)
			}
			got++
		}
		if tc.wantShort == 0 && got != 0 || tc.wantShort > 0 && got < tc.wantShort {
			t.Fatalf("replicas %d: %d short commits reported, want %d or more", tc.replicas, got, tc.wantShort)
		}
		if tc.replicas == 1 {
			v, err := replica.Client().HGet(ctx, keys.Intraday(ticks.Shard("BTCUSD", set.Shards)), "BTCUSD").Result()
			if err != nil || v == "" {
				t.Fatalf("replicas 1: the acknowledged commit is not on the replica: %v", err)
			}
		}
	}
}
