package marketdata

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"heartbeat/internal/bars"
	"heartbeat/internal/keys"
)

// idSeq hands out increasing stream IDs, so two fixtures fed the same
// trades hold the same IDs.
type idSeq struct{ n int }

func (s *idSeq) next() string { s.n++; return fmt.Sprintf("1-%d", s.n) }

func feedIDs(t *testing.T, f fixture, ids *idSeq, trades []fed) {
	t.Helper()
	for _, tr := range trades {
		f.trade(t, ids.next(), tr.sym, tr.price, tr.size, tr.at)
	}
}

// wantBars computes, straight from the trades, the 1-minute bars of the
// minutes that ended by closedBy, as the store keeps them (revision 1),
// by symbol in testInstruments order, then start.
func wantBars(trades []fed, closedBy time.Time) []bars.Bar {
	var out []bars.Bar
	for _, in := range testInstruments {
		byStart := map[time.Time]*bars.Bar{}
		var starts []time.Time
		first, last := map[time.Time]time.Time{}, map[time.Time]time.Time{}
		for _, tr := range trades {
			m := tr.at.Truncate(time.Minute)
			if tr.sym != in.Symbol || m.Add(time.Minute).After(closedBy) {
				continue
			}
			p, s := dec(tr.price), dec(tr.size)
			b := byStart[m]
			if b == nil {
				b = &bars.Bar{Symbol: in.Symbol, Market: string(in.Market), Start: m, Open: p, High: p, Low: p, Close: p, Revision: 1}
				byStart[m], first[m], last[m] = b, tr.at, tr.at
				starts = append(starts, m)
			}
			if tr.at.Before(first[m]) {
				b.Open, first[m] = p, tr.at
			}
			if !tr.at.Before(last[m]) {
				b.Close, last[m] = p, tr.at
			}
			b.High, b.Low = max(b.High, p), min(b.Low, p)
			b.Volume += s
			b.Trades++
			b.Notional = plusTrade(b.Notional, p, s)
		}
		for i := range starts {
			for j := i + 1; j < len(starts); j++ {
				if starts[j].Before(starts[i]) {
					starts[i], starts[j] = starts[j], starts[i]
				}
			}
		}
		for _, m := range starts {
			out = append(out, *byStart[m])
		}
	}
	return out
}

// flushAll runs FlushClosedBars on every shard and sums the stats.
func flushAll(t *testing.T, f fixture, now time.Time) FlushStats {
	t.Helper()
	var sum FlushStats
	for s := 0; s < f.e.set.Shards; s++ {
		st, err := f.e.FlushClosedBars(context.Background(), s, now)
		if err != nil {
			t.Fatalf("FlushClosedBars shard %d at %s: %v", s, now, err)
		}
		sum.Redriven += st.Redriven
		sum.Written += st.Written
		sum.Corrupt += st.Corrupt
	}
	return sum
}

// closedBarsLeft counts the entries left in every shard's closed-bar
// stream, and those claimed but not acknowledged.
func closedBarsLeft(t *testing.T, f fixture) (entries, pending int64) {
	t.Helper()
	ctx := context.Background()
	for s := 0; s < f.e.set.Shards; s++ {
		entries += f.rdb.XLen(ctx, keys.ClosedBars(s)).Val()
		p, err := f.rdb.XPending(ctx, keys.ClosedBars(s), keys.FlushGroup).Result()
		if err != nil && err != redis.Nil && !redis.HasErrorPrefix(err, "NOGROUP") {
			t.Fatalf("XPENDING shard %d: %v", s, err)
		}
		if p != nil {
			pending += p.Count
		}
	}
	return entries, pending
}

// flushTrades close five bars at 14:32 (SPY's pre-market 14:29 bar
// included); flushLate is a late tick that amends SPY's 14:31 bar.
var (
	flushTrades = []fed{
		{"SPY", "100", "10", mon(14, 29, 50, 0)},
		{"SPY", "100.5", "20", mon(14, 30, 1, 0)},
		{"BTCUSD", "50000", "0.01", mon(14, 30, 3, 0)},
		{"SPY", "101", "5", mon(14, 30, 30, 0)},
		{"SPY", "100.25", "1", mon(14, 30, 59, 0)},
		{"SPY", "99", "1", mon(14, 31, 2, 0)},
		{"BTCUSD", "50010.5", "0.02", mon(14, 31, 10, 0)},
	}
	flushLate = fed{"SPY", "98", "2", mon(14, 31, 30, 0)}
)

func TestFlushClosedBars(t *testing.T) {
	t.Parallel()
	f := setup(t, withStore())
	ids := &idSeq{}
	feedIDs(t, f, ids, flushTrades)
	f.intradayAll(t, mon(14, 32, 0, 0))

	st := flushAll(t, f, mon(14, 32, 0, 0))
	want := wantBars(flushTrades, mon(14, 32, 0, 0))
	if len(want) != 5 {
		t.Fatalf("the test expects 5 closed bars, computed %d", len(want))
	}
	if diff := cmp.Diff(want, f.storedBars(t)); diff != "" {
		t.Fatalf("stored bars (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(FlushStats{Written: 5}, st); diff != "" {
		t.Fatalf("stats (-want +got):\n%s", diff)
	}
	if n, p := closedBarsLeft(t, f); n != 0 || p != 0 {
		t.Fatalf("closed-bar streams hold %d entries (%d pending) after the flush, want none", n, p)
	}

	// A late tick amends SPY's 14:31 bar: revision 2 replaces the stored
	// bar.
	feedIDs(t, f, ids, []fed{flushLate})
	f.intradayAll(t, mon(14, 32, 5, 0))
	st = flushAll(t, f, mon(14, 32, 5, 0))
	want = wantBars(append(append([]fed{}, flushTrades...), flushLate), mon(14, 32, 0, 0))
	for i := range want {
		if want[i].Symbol == "SPY" && want[i].Start.Equal(mon(14, 31, 0, 0)) {
			want[i].Revision = 2
		}
	}
	if diff := cmp.Diff(want, f.storedBars(t)); diff != "" {
		t.Fatalf("stored bars after the amendment (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(FlushStats{Written: 1}, st); diff != "" {
		t.Fatalf("stats of the amendment's flush (-want +got):\n%s", diff)
	}

	// Repeating the flush changes nothing.
	before := dumpAll(t, f)
	st = flushAll(t, f, mon(14, 32, 6, 0))
	if diff := cmp.Diff(FlushStats{}, st); diff != "" {
		t.Fatalf("stats of a repeated flush (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, dumpAll(t, f)); diff != "" {
		t.Fatalf("a repeated flush changed something (-before +after):\n%s", diff)
	}
}

// TestFlushCrashMatchesCleanRun kills a flush after each of its steps,
// runs it again, and compares Redis and the store with a clean run.
func TestFlushCrashMatchesCleanRun(t *testing.T) {
	t.Parallel()
	run := func(t *testing.T, f fixture, step string) (redriven int) {
		t.Helper()
		ids := &idSeq{}
		feedIDs(t, f, ids, flushTrades)
		f.intradayAll(t, mon(14, 32, 0, 0))
		if step != "" {
			n := shardOf(f, "SPY")
			f.e.fault = func(s string) error {
				if s == step {
					return errInjected
				}
				return nil
			}
			_, err := f.e.FlushClosedBars(context.Background(), n, mon(14, 32, 0, 0))
			f.e.fault = nil
			if !errors.Is(err, errInjected) {
				t.Fatalf("flush with a fault after %s = %v, want the injected fault", step, err)
			}
			_, pending := closedBarsLeft(t, f)
			if wantPending := map[string]int64{"claim": 3, "write": 3, "ack": 0}[step]; pending != wantPending {
				t.Fatalf("after a crash at %s: %d entries pending, want %d", step, pending, wantPending)
			}
		}
		redriven = flushAll(t, f, mon(14, 32, 0, 0)).Redriven
		feedIDs(t, f, ids, []fed{flushLate})
		f.intradayAll(t, mon(14, 32, 5, 0))
		flushAll(t, f, mon(14, 32, 5, 0))
		if n, p := closedBarsLeft(t, f); n != 0 || p != 0 {
			t.Fatalf("closed-bar streams hold %d entries (%d pending) after the flush, want none", n, p)
		}
		return redriven
	}
	clean := setup(t, withStore())
	run(t, clean, "")
	want := dumpAll(t, clean)
	cases := []struct {
		step     string
		redriven int
	}{
		{"claim", 3}, // SPY's three closed bars
		{"write", 3},
		{"ack", 0},
	}
	for _, c := range cases {
		t.Run(c.step, func(t *testing.T) {
			t.Parallel()
			f := setup(t, withStore())
			if got := run(t, f, c.step); got != c.redriven {
				t.Fatalf("re-driven %d entries, want %d", got, c.redriven)
			}
			if diff := cmp.Diff(want, dumpAll(t, f)); diff != "" {
				t.Fatalf("after a crash at %s (-clean +crashed):\n%s", c.step, diff)
			}
		})
	}
}

// TestFlushDeadLettersCorruptEntries puts undecodable entries (and one the
// store refuses) among good ones: each is dead-lettered as corrupt_bar and
// the good bars still reach the store.
func TestFlushDeadLettersCorruptEntries(t *testing.T) {
	t.Parallel()
	f := setup(t, withStore())
	ctx := context.Background()
	ids := &idSeq{}
	n := shardOf(f, "SPY")
	goodBar, _ := json.Marshal(Bar{Start: mon(14, 0, 0, 0).UnixMilli(), Open: dec("1"), High: dec("1"), Low: dec("1"), Close: dec("1"), Revision: 1})
	corrupt := []map[string]any{
		{"symbol": "SPY", "market": "XNYS", "bar": "{not json"},
		{"market": "XNYS", "bar": string(goodBar)},                  // no symbol
		{"symbol": "SPY", "market": "XNYS"},                         // no bar
		{"symbol": "SPY", "market": "../x", "bar": string(goodBar)}, // a market code the store refuses (it names files)
	}
	// Corrupt entries first, so a blocked flush would strand the good
	// bars behind them.
	for i, c := range corrupt {
		if err := f.rdb.XAdd(ctx, &redis.XAddArgs{Stream: keys.ClosedBars(n), ID: fmt.Sprintf("1-%d", i+1), Values: c}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	feedIDs(t, f, ids, flushTrades)
	f.intradayAll(t, mon(14, 32, 0, 0))

	st := flushAll(t, f, mon(14, 32, 0, 0))
	if diff := cmp.Diff(FlushStats{Written: 5, Corrupt: len(corrupt)}, st); diff != "" {
		t.Fatalf("stats (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantBars(flushTrades, mon(14, 32, 0, 0)), f.storedBars(t)); diff != "" {
		t.Fatalf("stored bars (-want +got):\n%s", diff)
	}
	if left, p := closedBarsLeft(t, f); left != 0 || p != 0 {
		t.Fatalf("closed-bar streams hold %d entries (%d pending), want none", left, p)
	}
	dl := f.rdb.XRange(ctx, keys.DeadLetter(n), "-", "+").Val()
	var got []string
	for _, m := range dl {
		got = append(got, fmt.Sprintf("%s %s", m.Values["id"], m.Values["reason"]))
	}
	wantDL := []string{"1-1 corrupt_bar", "1-2 corrupt_bar", "1-3 corrupt_bar", "1-4 corrupt_bar"}
	if diff := cmp.Diff(wantDL, got); diff != "" {
		t.Fatalf("dead letters (-want +got):\n%s", diff)
	}
	if c := f.rdb.HGet(ctx, keys.DeadLetterCounts(n), "corrupt_bar").Val(); c != "4" {
		t.Fatalf("corrupt_bar count = %q, want 4", c)
	}
	// Nothing of it is re-driven.
	if st := flushAll(t, f, mon(14, 33, 0, 0)); st != (FlushStats{}) {
		t.Fatalf("a second flush did %+v, want nothing", st)
	}
}
