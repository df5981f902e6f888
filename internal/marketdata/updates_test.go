package marketdata

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"heartbeat/internal/keys"
)

// Each Intraday commit that changes states announces exactly the changed
// symbols of its shard, once; a run that changes nothing announces
// nothing; States reads what the announcement points at.
func TestIntradayAnnouncesChangedSymbols(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	spy, es, other := shardOf(f, "SPY"), shardOf(f, "ES"), shardOf(f, "QQQ")
	if spy != es || other == spy {
		t.Fatalf("test wants SPY and ES on one shard and QQQ on the other; they are on %d, %d and %d", spy, es, other)
	}
	start, err := f.e.UpdatesEnd(ctx, spy)
	if err != nil || start != "0-0" {
		t.Fatalf("UpdatesEnd of an empty stream = %q, %v; want 0-0", start, err)
	}

	read := func(shard int, after string) []Update {
		t.Helper()
		us, err := f.e.ReadUpdates(ctx, shard, after, 100, 0)
		if err != nil {
			t.Fatal(err)
		}
		return us
	}
	f.trade(t, "1-1", "SPY", "100", "10", mon(14, 30, 0, 0))
	f.trade(t, "1-2", "ES", "6000", "5", mon(14, 30, 1, 0))
	f.trade(t, "1-3", "SPY", "101", "10", mon(14, 30, 2, 0))
	before := time.Now()
	f.intradayAll(t, mon(14, 30, 3, 0))
	us := read(spy, start)
	if len(us) != 1 {
		t.Fatalf("updates after one run = %+v, want one", us)
	}
	if diff := cmp.Diff([]string{"ES", "SPY"}, us[0].Symbols); diff != "" {
		t.Fatalf("announced symbols (-want +got):\n%s", diff)
	}
	if us[0].At.Before(before.Add(-time.Second)) || us[0].At.After(time.Now().Add(time.Second)) {
		t.Fatalf("update At %s is not the commit's time (about %s)", us[0].At, before)
	}
	if got := read(other, "0-0"); len(got) != 0 {
		t.Fatalf("the other shard announced %+v with no tick", got)
	}
	f.trade(t, "1-5", "QQQ", "400", "1", mon(14, 30, 3, 500))
	f.intradayAll(t, mon(14, 30, 3, 600))
	if got := read(other, "0-0"); len(got) != 1 || !cmp.Equal(got[0].Symbols, []string{"QQQ"}) {
		t.Fatalf("the other shard announced %+v, want [QQQ] once", got)
	}

	// Nothing new: no announcement.
	f.intradayAll(t, mon(14, 30, 4, 0))
	if got := read(spy, us[0].ID); len(got) != 0 {
		t.Fatalf("a run that changed nothing announced %+v", got)
	}

	// One symbol changes: only it.
	f.trade(t, "1-4", "ES", "6001", "5", mon(14, 30, 5, 0))
	f.intradayAll(t, mon(14, 30, 6, 0))
	got := read(spy, us[0].ID)
	if len(got) != 1 || !cmp.Equal(got[0].Symbols, []string{"ES"}) {
		t.Fatalf("second announcement = %+v, want [ES]", got)
	}
	if end, _ := f.e.UpdatesEnd(ctx, spy); end != got[0].ID {
		t.Fatalf("UpdatesEnd = %s, want the newest %s", end, got[0].ID)
	}

	sts, err := f.e.States(ctx, spy, []string{"SPY", "ES"})
	if err != nil {
		t.Fatal(err)
	}
	if sts[0] == nil || sts[0].LastPrice != dec("101") || sts[1] == nil || sts[1].LastPrice != dec("6001") {
		t.Fatalf("States = %+v, %+v; want SPY last 101, ES last 6001", sts[0], sts[1])
	}
	if _, err := f.e.States(ctx, other, []string{"SPY"}); err == nil {
		t.Fatal("States accepted a symbol of another shard")
	}
	// An entry no commit wrote comes with its error, and the reading goes
	// on past it.
	if err := f.rdb.XAdd(ctx, &redis.XAddArgs{Stream: keys.Updates(spy), Values: []string{"symbols", "SPY"}}).Err(); err != nil {
		t.Fatal(err)
	}
	f.trade(t, "1-6", "SPY", "102", "1", mon(14, 30, 7, 0))
	f.intradayAll(t, mon(14, 30, 8, 0))
	got = read(spy, got[0].ID)
	if len(got) != 2 || got[0].Err == nil || got[1].Err != nil || !cmp.Equal(got[1].Symbols, []string{"SPY"}) {
		t.Fatalf("after a malformed entry: %+v, want it with its error, then [SPY]", got)
	}
	if _, err := f.e.ReadUpdates(ctx, 7, "0-0", 1, 0); err == nil {
		t.Fatal("ReadUpdates accepted shard 7 of 2")
	}
}
