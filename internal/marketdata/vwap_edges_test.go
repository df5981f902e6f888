package marketdata

import (
	"context"
	"strconv"
	"testing"
	"time"

	"heartbeat/internal/keys"
	"heartbeat/internal/testinfra"
)

// TestVwapCatchUpIsBounded: a capture after a gap longer than a day
// captures vwapMaxCatchUp minutes, the last of them the newest final
// minute; a bar just before that window is not read, so its session gets
// no point.
func TestVwapCatchUpIsBounded(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	n := shardOf(f, "BTCUSD")
	tue := func(hh, mm, ss int) time.Time { return mon(hh, mm, ss, 0).AddDate(0, 0, 1) }
	f.trade(t, "1-1", "BTCUSD", "50000", "1", mon(15, 0, 10, 0))
	f.intradayAll(t, mon(15, 0, 11, 0))
	if _, err := f.e.VwapMinuteCapture(ctx, n, mon(15, 0, 11, 0)); err != nil { // checkpoint: 14:59
		t.Fatal(err)
	}
	f.trade(t, "1-2", "BTCUSD", "50100", "1", tue(15, 0, 10))
	now := tue(15, 1, 30) // the newest final minute is Tuesday 15:00
	f.intradayAll(t, now)
	points, err := f.e.VwapMinuteCapture(ctx, n, now)
	if err != nil {
		t.Fatal(err)
	}
	// The window is Monday 15:01 to Tuesday 15:00: Monday's 15:00 bar is
	// outside it, so only Tuesday's minute has a point.
	if len(points) != 1 || !points[0].Minute.Equal(tue(15, 0, 0)) || points[0].Session != "2026-11-24" {
		t.Fatalf("points = %d (first %+v), want one at Tuesday 15:00", len(points), first(points))
	}
	if got, want := f.rdb.HGet(ctx, keys.Checkpoints(n), ckptVwap).Val(), strconv.FormatInt(tue(15, 0, 0).UnixMilli(), 10); got != want {
		t.Fatalf("checkpoint %s, want %s", got, want)
	}
}

func first(ps []VwapPoint) *VwapPoint {
	if len(ps) == 0 {
		return nil
	}
	return &ps[0]
}

// TestVwapShardWithoutSymbols: a shard no configured symbol hashes to
// captures nothing, without error, and moves its checkpoint.
func TestVwapShardWithoutSymbols(t *testing.T) {
	t.Parallel()
	set := testSettings()
	set.Shards = 16
	_, rdb := testinfra.Mini(t)
	f := setupOn(t, rdb, set)
	empty := -1
	for s := range set.Shards {
		if len(f.e.byShard[s]) == 0 {
			empty = s
			break
		}
	}
	if empty < 0 {
		t.Fatal("every shard has a symbol; raise Shards")
	}
	ctx := context.Background()
	now := mon(15, 0, 30, 0)
	if _, err := f.e.Intraday(ctx, empty, now); err != nil {
		t.Fatal(err)
	}
	points, err := f.e.VwapMinuteCapture(ctx, empty, now)
	if err != nil || len(points) != 0 {
		t.Fatalf("capture of an empty shard: %v, %v; want no point, no error", points, err)
	}
	if got, want := rdb.HGet(ctx, keys.Checkpoints(empty), ckptVwap).Val(), strconv.FormatInt(mon(14, 59, 0, 0).UnixMilli(), 10); got != want {
		t.Fatalf("checkpoint %q, want %q", got, want)
	}
}
