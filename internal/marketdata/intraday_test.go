package marketdata

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"heartbeat/internal/decimal"
	"heartbeat/internal/keys"
	"heartbeat/internal/ticks"
)

func dec(s string) decimal.Dec { return decimal.MustParse(s) }

func TestIntradaySessionFiguresAndBars(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	// SPY: a pre-market trade (out of session), then three in-session
	// trades over two minutes, one arriving out of order.
	f.trade(t, "1-1", "SPY", "99.50", "100", mon(14, 0, 0, 0))
	f.trade(t, "1-2", "SPY", "100.00", "10", mon(14, 30, 0, 0))
	f.trade(t, "1-3", "SPY", "101.25", "30", mon(14, 30, 40, 0))
	f.trade(t, "1-4", "SPY", "100.50", "20", mon(14, 30, 20, 0)) // earlier ts, arrives later
	f.trade(t, "1-5", "SPY", "99.75", "5", mon(14, 31, 5, 0))
	f.intradayAll(t, mon(14, 31, 6, 0))

	st := f.state(t, "SPY")
	want := Figures{Session: "2026-11-23", Open: dec("100"), High: dec("101.25"), Low: dec("99.75"), Last: dec("99.75"),
		FirstTS: mon(14, 30, 0, 0).UnixMilli(), LastTS: mon(14, 31, 5, 0).UnixMilli(), Volume: dec("65"), Trades: 4}
	// 100 × 10 + 101.25 × 30 + 100.50 × 20 + 99.75 × 5 = 1000 + 3037.5 + 2010 + 498.75
	want.Notional = notionalOf(t, "6546.25")
	if diff := cmp.Diff(want, st.Cur); diff != "" {
		t.Fatalf("session figures (-want +got):\n%s", diff)
	}
	if st.OutOfSession != 1 || st.Ticks != 5 {
		t.Fatalf("out of session %d, ticks %d; want 1, 5", st.OutOfSession, st.Ticks)
	}
	// The 14:30 bar closed when the 14:31 trade arrived: close is the
	// latest timestamp (101.25 at :40), not the last arrival.
	if st.Bar == nil || st.Bar.Start != mon(14, 31, 0, 0).UnixMilli() {
		t.Fatalf("open bar = %+v, want the 14:31 bar", st.Bar)
	}
	closed, err := f.rdb.XRange(ctx, keys.ClosedBars(shardOf(f, "SPY")), "-", "+").Result()
	if err != nil || len(closed) != 2 {
		t.Fatalf("closed bars = %v, %v; want the 14:00 and 14:30 bars", closed, err)
	}
	var b Bar
	if err := json.Unmarshal([]byte(closed[1].Values["bar"].(string)), &b); err != nil {
		t.Fatal(err)
	}
	if b.Open != dec("100") || b.High != dec("101.25") || b.Low != dec("100") || b.Close != dec("101.25") ||
		b.Volume != dec("60") || b.Trades != 3 || b.Revision != 1 || b.Session != "2026-11-23" {
		t.Fatalf("14:30 bar = %+v", b)
	}
	if b.CumVolume != dec("60") || b.CumTrades != 3 {
		t.Fatalf("14:30 bar session totals = %s / %d, want 60 / 3", b.CumVolume, b.CumTrades)
	}

	// Time closes the 14:31 bar once its minute is over.
	f.intradayAll(t, mon(14, 32, 0, 0))
	if st := f.state(t, "SPY"); st.Bar != nil {
		t.Fatalf("bar still open after its minute: %+v", st.Bar)
	}
	if n := f.rdb.ZCard(ctx, keys.MinuteBars(shardOf(f, "SPY"), "SPY", mon(14, 0, 0, 0).UnixMilli()/hourMS)).Val(); n != 3 {
		t.Fatalf("minute bars kept = %d, want 3", n)
	}
	if n := f.rdb.ZCard(ctx, keys.OpenBars(shardOf(f, "SPY"))).Val(); n != 0 {
		t.Fatalf("open bars index has %d entries, want 0", n)
	}
}

func shardOf(f fixture, sym string) int { return ticks.Shard(sym, f.e.set.Shards) }

func TestIntradayLateTicks(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	f.trade(t, "1-1", "BTCUSD", "50000", "0.5", mon(15, 0, 10, 0))
	f.trade(t, "1-2", "BTCUSD", "50010", "0.1", mon(15, 1, 2, 0)) // closes the 15:00 bar
	f.intradayAll(t, mon(15, 1, 3, 0))
	// Within the 10 s late window after 15:01:00: amends the 15:00 bar.
	f.trade(t, "1-3", "BTCUSD", "49990", "0.2", mon(15, 0, 59, 0))
	f.intradayAll(t, mon(15, 1, 4, 0))
	// Beyond the window once the symbol's newest tick is at 15:01:20.
	f.trade(t, "1-4", "BTCUSD", "50020", "0.1", mon(15, 1, 20, 0))
	f.trade(t, "1-5", "BTCUSD", "1", "1", mon(15, 0, 30, 0))
	f.intradayAll(t, mon(15, 1, 21, 0))

	n := shardOf(f, "BTCUSD")
	closed := f.rdb.XRange(ctx, keys.ClosedBars(n), "-", "+").Val()
	if len(closed) != 2 {
		t.Fatalf("closed bar entries = %d, want 2 (close, then amendment)", len(closed))
	}
	var amended Bar
	_ = json.Unmarshal([]byte(closed[1].Values["bar"].(string)), &amended)
	if amended.Revision != 2 || amended.Low != dec("49990") || amended.Close != dec("49990") || amended.Volume != dec("0.7") {
		t.Fatalf("amended bar = %+v", amended)
	}
	minute := f.rdb.ZRange(ctx, keys.MinuteBars(n, "BTCUSD", mon(15, 0, 0, 0).UnixMilli()/hourMS), 0, -1).Val()
	if len(minute) != 1 || !strings.Contains(minute[0], `"rev":2`) {
		t.Fatalf("minute bars = %v, want the amended 15:00 bar only", minute)
	}
	dl := f.rdb.XRange(ctx, keys.DeadLetter(n), "-", "+").Val()
	if len(dl) != 1 || dl[0].Values["reason"] != string(ticks.ReasonLate) || dl[0].Values["id"] != "1-5" {
		t.Fatalf("dead letters = %v, want tick 1-5 as late", dl)
	}
	st := f.state(t, "BTCUSD")
	if st.Cur.Volume != dec("0.9") || st.Cur.Low != dec("49990") {
		t.Fatalf("session = %+v; the late-rejected tick must not count, the amendment must", st.Cur)
	}
}

func TestIntradayDeadLetters(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	now := mon(15, 0, 0, 0)
	ms := fmt.Sprint(now.UnixMilli())
	cases := []struct {
		fields []string
		reason ticks.Reason
	}{
		{[]string{"symbol", "SPY", "price", "100", "ts", ms}, ticks.ReasonMissingField},
		{[]string{"symbol", "SPY", "price", "abc", "size", "1", "ts", ms}, ticks.ReasonBadNumber},
		{[]string{"symbol", "SPY", "price", "NaN", "size", "1", "ts", ms}, ticks.ReasonBadNumber},
		{[]string{"symbol", "SPY", "price", "0", "size", "1", "ts", ms}, ticks.ReasonBadPrice},
		{[]string{"symbol", "SPY", "price", "-1", "size", "1", "ts", ms}, ticks.ReasonBadPrice},
		{[]string{"symbol", "SPY", "price", "1", "size", "-1", "ts", ms}, ticks.ReasonBadSize},
		{[]string{"symbol", "NOPE", "price", "1", "size", "1", "ts", ms}, ticks.ReasonUnknownSymbol},
		{[]string{"symbol", "SPY", "price", "1", "size", "1", "ts", fmt.Sprint(now.Add(time.Hour).UnixMilli())}, ticks.ReasonFuture},
		{[]string{"symbol", "SPY", "price", "1", "size", "1", "ts", "yesterday"}, ticks.ReasonBadTimestamp},
	}
	for i, c := range cases {
		f.add(t, fmt.Sprintf("1-%d", i+1), c.fields...)
	}
	f.trade(t, "2-1", "SPY", "100", "1", now)
	f.intradayAll(t, now)

	n := shardOf(f, "SPY")
	dl := f.rdb.XRange(ctx, keys.DeadLetter(n), "-", "+").Val()
	unknown := f.rdb.XRange(ctx, keys.DeadLetter(shardOf(f, "NOPE")), "-", "+").Val()
	if n != shardOf(f, "NOPE") {
		dl = append(dl, unknown...)
	}
	got := map[string]string{}
	for _, m := range dl {
		got[m.Values["id"].(string)] = m.Values["reason"].(string)
	}
	for i, c := range cases {
		if id := fmt.Sprintf("1-%d", i+1); got[id] != string(c.reason) {
			t.Errorf("entry %s %v: dead-lettered as %q, want %q", id, c.fields, got[id], c.reason)
		}
	}
	if st := f.state(t, "SPY"); st.Cur.Trades != 1 {
		t.Fatalf("the good tick was not processed: %+v", st.Cur)
	}
	counts := map[string]int{}
	for s := 0; s < f.e.set.Shards; s++ {
		for r, v := range f.rdb.HGetAll(ctx, keys.DeadLetterCounts(s)).Val() {
			var k int
			fmt.Sscan(v, &k)
			counts[r] += k
		}
	}
	want := map[string]int{"missing_field": 1, "bad_number": 2, "bad_price": 2, "bad_size": 1, "unknown_symbol": 1, "future": 1, "bad_timestamp": 1}
	if diff := cmp.Diff(want, counts); diff != "" {
		t.Fatalf("dead-letter counts (-want +got):\n%s", diff)
	}
	// Consumed ticks are trimmed from the stream.
	if l := f.rdb.XLen(ctx, keys.Ticks(n)).Val(); l > 1 {
		t.Fatalf("tick stream still holds %d entries after the run", l)
	}
}

func TestIntradayCMESSundayEveningBelongsToMonday(t *testing.T) {
	t.Parallel()
	f := setup(t)
	sun := time.Date(2026, 11, 22, 23, 5, 0, 0, time.UTC) // 17:05 Chicago, Sunday
	f.trade(t, "1-1", "ES", "6000.25", "3", sun)
	f.intradayAll(t, sun.Add(time.Second))
	if st := f.state(t, "ES"); st.Cur.Session != "2026-11-23" {
		t.Fatalf("Sunday-evening ES trade is in session %q, want 2026-11-23", st.Cur.Session)
	}
	// The 16:00-17:00 halt is out of session.
	halt := time.Date(2026, 11, 23, 22, 30, 0, 0, time.UTC)
	f.trade(t, "1-2", "ES", "6001", "1", halt)
	f.intradayAll(t, halt.Add(time.Second))
	if st := f.state(t, "ES"); st.OutOfSession != 1 || st.Cur.Trades != 1 {
		t.Fatalf("halt trade: out of session %d, session trades %d; want 1, 1", st.OutOfSession, st.Cur.Trades)
	}
}

func TestIntradaySessionRollKeepsPreviousClose(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.trade(t, "1-1", "SPY", "100", "1", mon(20, 59, 0, 0))
	f.intradayAll(t, mon(21, 0, 0, 0))
	tue := mon(14, 31, 0, 0).AddDate(0, 0, 1)
	f.trade(t, "1-2", "SPY", "102", "2", tue)
	f.intradayAll(t, tue.Add(time.Second))
	st := f.state(t, "SPY")
	if st.PrevClose != dec("100") || st.Cur.Session != "2026-11-24" || st.Cur.Volume != dec("2") {
		t.Fatalf("after the roll: prev close %s, session %s, volume %s", st.PrevClose, st.Cur.Session, st.Cur.Volume)
	}
	if st.Prev == nil || st.Prev.Session != "2026-11-23" {
		t.Fatalf("previous session not kept: %+v", st.Prev)
	}
}

func TestIntradayConflictCommitsNothing(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.trade(t, "1-1", "SPY", "100", "1", mon(15, 0, 0, 0))
	n := shardOf(f, "SPY")
	// While run A computes, run B (another worker) runs the same shard
	// to completion; A's commit must then change nothing.
	other, err := New(f.e.set, Deps{Redis: f.rdb, Instruments: f.e.instr, Log: f.e.log})
	if err != nil {
		t.Fatal(err)
	}
	f.e.fault = func(step string) error {
		if step == "compute" {
			if _, err := other.Intraday(context.Background(), n, mon(15, 0, 1, 0)); err != nil {
				t.Errorf("run B: %v", err)
			}
		}
		return nil
	}
	_, err = f.e.Intraday(context.Background(), n, mon(15, 0, 1, 0))
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("run A = %v, want ErrConflict", err)
	}
	if st := f.state(t, "SPY"); st.Cur.Trades != 1 {
		t.Fatalf("trade counted %d times, want 1", st.Cur.Trades)
	}
}

// TestFloorMinute floors to the minute's start, before 1970 too.
func TestFloorMinute(t *testing.T) {
	t.Parallel()
	tests := []struct{ ms, want int64 }{
		{0, 0}, {1, 0}, {59_999, 0}, {60_000, 60_000}, {90_000, 60_000},
		{-1, -60_000}, {-59_999, -60_000}, {-60_000, -60_000}, {-60_001, -120_000},
	}
	for _, tt := range tests {
		if got := floorMinute(tt.ms); got != tt.want {
			t.Fatalf("floorMinute(%d) = %d, want %d", tt.ms, got, tt.want)
		}
	}
}

// TestIntradayLateTickEdges: a tick exactly lateWindow after its minute's
// end is still applied, and a late tick of the previous session (within
// the window, after the roll) amends that session, not the new one.
func TestIntradayLateTickEdges(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	n := shardOf(f, "BTCUSD")
	f.trade(t, "1-1", "BTCUSD", "50000", "1", mon(15, 0, 10, 0))
	f.trade(t, "1-2", "BTCUSD", "50010", "1", mon(15, 1, 10, 0)) // 15:00's end + 10 s
	f.intradayAll(t, mon(15, 1, 10, 500))                        // the 15:00 bar is kept for the edge
	f.trade(t, "1-3", "BTCUSD", "49990", "1", mon(15, 0, 30, 0)) // at the window's edge: applied
	f.intradayAll(t, mon(15, 1, 11, 0))
	closed := f.rdb.XRange(ctx, keys.ClosedBars(n), "-", "+").Val()
	var amended Bar
	if len(closed) > 0 {
		_ = json.Unmarshal([]byte(closed[len(closed)-1].Values["bar"].(string)), &amended)
	}
	if amended.Start != mon(15, 0, 0, 0).UnixMilli() || amended.Revision != 2 || amended.Volume != dec("2") {
		t.Fatalf("last closed bar = %+v, want the 15:00 bar amended to volume 2", amended)
	}
	// ALWAYS's sessions are UTC days: Tuesday's starts at midnight.
	tue := func(hh, mm, ss int) time.Time { return mon(hh, mm, ss, 0).AddDate(0, 0, 1) }
	f.trade(t, "1-4", "BTCUSD", "50020", "1", mon(23, 59, 50, 0))
	f.trade(t, "1-5", "BTCUSD", "50030", "1", tue(0, 0, 2))
	f.intradayAll(t, tue(0, 0, 3))
	f.trade(t, "1-6", "BTCUSD", "50040", "2", mon(23, 59, 58, 0)) // Monday's, 2 s late
	f.intradayAll(t, tue(0, 0, 4))

	if dl := f.rdb.XRange(ctx, keys.DeadLetter(n), "-", "+").Val(); len(dl) != 0 {
		t.Fatalf("dead letters = %v, want none", dl)
	}
	st := f.state(t, "BTCUSD")
	if st.Prev == nil || st.Prev.Volume != dec("6") || st.Prev.Last != dec("50040") || st.Cur.Volume != dec("1") {
		t.Fatalf("previous session %+v, current %+v; want Monday's 6 ending at the late tick, Tuesday's 1", st.Prev, st.Cur)
	}
	starts := map[int64]bool{}
	for _, b := range st.Recent {
		if starts[b.Start] {
			t.Fatalf("two kept bars start at %d: %+v", b.Start, st.Recent)
		}
		starts[b.Start] = true
	}
}
