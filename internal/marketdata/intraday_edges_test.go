package marketdata

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"heartbeat/internal/keys"
	"heartbeat/internal/market"
	"heartbeat/internal/testinfra"
	"heartbeat/internal/ticks"
)

// TestIntradayTimestampTieKeepsArrivalOrder: two trades in the same
// millisecond leave the later arrival as the symbol's last price, the
// session's last and the bar's close, and the earlier as the session's and
// the bar's open.
func TestIntradayTimestampTieKeepsArrivalOrder(t *testing.T) {
	t.Parallel()
	f := setup(t)
	at := mon(14, 30, 5, 0)
	f.trade(t, "1-1", "SPY", "100", "1", at)
	f.trade(t, "1-2", "SPY", "101", "1", at)
	f.intradayAll(t, mon(14, 30, 6, 0))
	st := f.state(t, "SPY")
	if st.LastPrice != dec("101") || st.Cur.Last != dec("101") || st.Bar == nil || st.Bar.Close != dec("101") {
		t.Fatalf("last price %s, session last %s, bar %+v; want 101 (the later arrival) for each", st.LastPrice, st.Cur.Last, st.Bar)
	}
	if st.Cur.Open != dec("100") || st.Bar.Open != dec("100") {
		t.Fatalf("session open %s, bar open %s; want 100 (the earlier arrival) for both", st.Cur.Open, st.Bar.Open)
	}
}

// TestIntradayEarliestAmendedMinute: when one run's late ticks amend
// several closed minutes, of one symbol or of several, the shard publishes
// the earliest of them for the VWAP capture, whatever order the ticks
// arrive in.
func TestIntradayEarliestAmendedMinute(t *testing.T) {
	t.Parallel()
	set := testSettings()
	set.Shards = 1
	set.LateWindow = 3 * time.Minute // three closed minutes stay amendable
	_, rdb := testinfra.Mini(t)
	f := setupOn(t, rdb, set)
	ctx := context.Background()
	for i, sym := range []string{"BTCUSD", "ES"} {
		for m := range 3 {
			f.trade(t, fmt.Sprintf("1-%d", 3*i+m+1), sym, "100", "1", mon(15, m, 10, 0))
		}
	}
	f.intradayAll(t, mon(15, 2, 11, 0))
	if v := rdb.HGet(ctx, keys.Amended(0), amendedEarliest).Val(); v != "" {
		t.Fatalf("amended earliest = %q after a run without late ticks, want none", v)
	}
	f.trade(t, "2-1", "BTCUSD", "101", "1", mon(15, 1, 30, 0)) // amends 15:01
	f.trade(t, "2-2", "BTCUSD", "102", "1", mon(15, 0, 30, 0)) // then 15:00
	f.trade(t, "2-3", "ES", "103", "1", mon(15, 1, 40, 0))     // ES amends 15:01 only
	f.intradayAll(t, mon(15, 2, 12, 0))
	want := strconv.FormatInt(mon(15, 0, 0, 0).UnixMilli(), 10)
	if v := rdb.HGet(ctx, keys.Amended(0), amendedEarliest).Val(); v != want {
		t.Fatalf("amended earliest = %s, want %s (15:00)", v, want)
	}
}

// TestIntradayZeroSizeLateTickUpdatesTradeTotals: a late trade of size 0
// changes no volume or notional, only the trade count; every kept bar
// after the amended one must still carry the new session trade total.
func TestIntradayZeroSizeLateTickUpdatesTradeTotals(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.trade(t, "1-1", "BTCUSD", "50000", "1", mon(15, 0, 10, 0))
	f.trade(t, "1-2", "BTCUSD", "50010", "1", mon(15, 1, 5, 0)) // closes 15:00
	f.intradayAll(t, mon(15, 1, 6, 0))
	f.trade(t, "1-3", "BTCUSD", "49990", "0", mon(15, 0, 50, 0)) // amends 15:00
	f.intradayAll(t, mon(15, 1, 7, 0))
	st := f.state(t, "BTCUSD")
	if len(st.Recent) != 1 || st.Bar == nil {
		t.Fatalf("kept bars %+v, open bar %+v; want the 15:00 bar closed and 15:01 open", st.Recent, st.Bar)
	}
	if got := st.Recent[0]; got.Trades != 2 || got.CumTrades != 2 || got.CumVolume != dec("1") {
		t.Fatalf("15:00 bar: trades %d, session totals %d trades / %s; want 2, 2 / 1", got.Trades, got.CumTrades, got.CumVolume)
	}
	if st.Bar.CumTrades != 3 || st.Bar.CumVolume != dec("2") {
		t.Fatalf("open 15:01 bar's session totals %d trades / %s, want 3 / 2", st.Bar.CumTrades, st.Bar.CumVolume)
	}
}

// TestIntradayLateTickRewritesLaterMinuteBars: a late tick that amends a
// closed minute changes the session totals of every later kept bar, and
// their minute-bar entries (what the VWAP capture reads) are rewritten.
func TestIntradayLateTickRewritesLaterMinuteBars(t *testing.T) {
	t.Parallel()
	set := testSettings()
	set.LateWindow = 3 * time.Minute
	_, rdb := testinfra.Mini(t)
	f := setupOn(t, rdb, set)
	ctx := context.Background()
	n := shardOf(f, "BTCUSD")
	f.trade(t, "1-1", "BTCUSD", "50000", "1", mon(15, 0, 10, 0))
	f.trade(t, "1-2", "BTCUSD", "50010", "1", mon(15, 1, 10, 0))
	f.trade(t, "1-3", "BTCUSD", "50020", "1", mon(15, 2, 10, 0))
	f.intradayAll(t, mon(15, 2, 11, 0))
	f.trade(t, "1-4", "BTCUSD", "50030", "1", mon(15, 0, 30, 0)) // amends 15:00
	f.intradayAll(t, mon(15, 2, 12, 0))
	start := mon(15, 1, 0, 0).UnixMilli()
	s := strconv.FormatInt(start, 10)
	raw := rdb.ZRangeByScore(ctx, keys.MinuteBars(n, "BTCUSD", start/hourMS), &redis.ZRangeBy{Min: s, Max: s}).Val()
	if len(raw) != 1 {
		t.Fatalf("minute bars at 15:01 = %v, want one", raw)
	}
	var b Bar
	if err := json.Unmarshal([]byte(raw[0]), &b); err != nil {
		t.Fatal(err)
	}
	if b.CumVolume != dec("3") || b.CumTrades != 3 {
		t.Fatalf("stored 15:01 bar's session totals %s / %d trades, want 3 / 3 (the late 15:00 tick included)", b.CumVolume, b.CumTrades)
	}
}

// TestIntradayBatchSize: a run reads at most ingest.batch_size entries and
// has caught up only once it read fewer than it asked for; the next run
// takes the rest.
func TestIntradayBatchSize(t *testing.T) {
	t.Parallel()
	set := testSettings()
	set.BatchSize = 2
	_, rdb := testinfra.Mini(t)
	f := setupOn(t, rdb, set)
	ctx := context.Background()
	n := shardOf(f, "BTCUSD")
	f.trade(t, "1-1", "BTCUSD", "50000", "1", mon(15, 0, 10, 0))
	f.trade(t, "1-2", "BTCUSD", "50010", "1", mon(15, 0, 20, 0))
	f.trade(t, "1-3", "BTCUSD", "50020", "1", mon(15, 0, 30, 0))
	now := mon(15, 0, 31, 0)
	for i, want := range []struct {
		read     int
		caughtUp bool
		ticks    int64
	}{{2, false, 2}, {1, true, 3}} {
		st, err := f.e.Intraday(ctx, n, now)
		if err != nil {
			t.Fatal(err)
		}
		if st.Read != want.read || st.Accepted != want.read || st.CaughtUp != want.caughtUp {
			t.Fatalf("run %d: read %d, accepted %d, caught up %v; want %d, %d, %v", i+1, st.Read, st.Accepted, st.CaughtUp, want.read, want.read, want.caughtUp)
		}
		if got := f.state(t, "BTCUSD").Ticks; got != want.ticks {
			t.Fatalf("run %d: state counts %d ticks, want %d", i+1, got, want.ticks)
		}
		// The checkpoint is REV|ID: every commit increments the revision.
		if got, wantCk := rdb.HGet(ctx, keys.Checkpoints(n), ckptIntraday).Val(), intradayCheckpoint(int64(i+1), "1-"+strconv.Itoa(int(want.ticks))); got != wantCk {
			t.Fatalf("run %d: checkpoint %q, want %q", i+1, got, wantCk)
		}
		at := rdb.HGet(ctx, keys.Checkpoints(n), ckptIntradayAt).Val()
		if wantAt := map[bool]string{true: strconv.FormatInt(now.UnixMilli(), 10)}[want.caughtUp]; at != wantAt {
			t.Fatalf("run %d: %s = %q, want %q", i+1, ckptIntradayAt, at, wantAt)
		}
	}
}

// TestIntradayRunStats: what one run reports about itself: entries read,
// accepted, out of session, rejected by reason, bars closed and amended,
// sessions finished;
// and a rejected entry's fields in its dead letter.
func TestIntradayRunStats(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	n := shardOf(f, "SPY")
	f.trade(t, "1-1", "SPY", "99", "1", mon(14, 0, 0, 0)) // pre-market
	f.trade(t, "1-2", "SPY", "100", "1", mon(14, 30, 10, 0))
	f.add(t, "1-3", "symbol", "SPY", "price", "100", "ts", "1") // no size
	f.trade(t, "1-4", "SPY", "101", "1", mon(14, 31, 5, 0))     // closes 14:30
	st, err := f.e.Intraday(ctx, n, mon(14, 31, 6, 0))
	if err != nil {
		t.Fatal(err)
	}
	want := IntradayStats{Read: 4, Accepted: 3, OutOfSession: 1, Rejected: map[ticks.Reason]int{ticks.ReasonMissingField: 1},
		BarsClosed: 2, CaughtUp: true}
	if diff := cmp.Diff(want, st); diff != "" {
		t.Fatalf("first run (-want +got):\n%s", diff)
	}
	// The dead letter keeps the rejected entry's fields.
	dl := f.rdb.XRange(ctx, keys.DeadLetter(n), "-", "+").Val()
	if len(dl) != 1 || dl[0].Values["fields"] != `{"price":"100","symbol":"SPY","ts":"1"}` {
		t.Fatalf("dead letters %v, want entry 1-3 with its three fields", dl)
	}
	f.trade(t, "1-5", "SPY", "102", "1", mon(14, 30, 50, 0)) // amends 14:30
	f.trade(t, "1-6", "SPY", "98", "1", mon(14, 0, 30, 0))   // too late
	st, err = f.e.Intraday(ctx, n, mon(14, 31, 7, 0))
	if err != nil {
		t.Fatal(err)
	}
	want = IntradayStats{Read: 2, Accepted: 1, Rejected: map[ticks.Reason]int{ticks.ReasonLate: 1}, BarsAmended: 1, CaughtUp: true}
	if diff := cmp.Diff(want, st); diff != "" {
		t.Fatalf("second run (-want +got):\n%s", diff)
	}
	// Tuesday's first trade finishes Monday's session: its daily bar is
	// written and queued for the flush.
	f.trade(t, "1-7", "SPY", "103", "1", mon(14, 30, 0, 0).AddDate(0, 0, 1))
	st, err = f.e.Intraday(ctx, n, mon(14, 30, 1, 0).AddDate(0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	want = IntradayStats{Read: 1, Accepted: 1, Rejected: map[ticks.Reason]int{}, BarsClosed: 1, SessionsFinished: 1, CaughtUp: true}
	if diff := cmp.Diff(want, st); diff != "" {
		t.Fatalf("third run (-want +got):\n%s", diff)
	}
}

// TestIntradayReadsPagesUpToTheBatchSize: past one page of entries a run
// asks only for what is left of ingest.batch_size.
func TestIntradayReadsPagesUpToTheBatchSize(t *testing.T) {
	t.Parallel()
	set := testSettings()
	set.BatchSize = 4
	_, rdb := testinfra.Mini(t)
	f := setupOn(t, rdb, set)
	f.e.page = 3 // the batch is a full page and one entry
	ctx := context.Background()
	n := shardOf(f, "BTCUSD")
	for i := range 5 {
		f.trade(t, "1-"+strconv.Itoa(i+1), "BTCUSD", "50000", "1", mon(15, 0, i, 0))
	}
	now := mon(15, 0, 10, 0)
	for i, want := range []struct {
		read     int
		caughtUp bool
	}{{4, false}, {1, true}} {
		st, err := f.e.Intraday(ctx, n, now)
		if err != nil {
			t.Fatal(err)
		}
		if st.Read != want.read || st.CaughtUp != want.caughtUp {
			t.Fatalf("run %d: read %d, caught up %v; want %d, %v", i+1, st.Read, st.CaughtUp, want.read, want.caughtUp)
		}
	}
}

// TestIntradayCalendarPastCoverage: ticks of a market whose calendar ends
// before them count out of session, and the run logs one warning for that
// market only, carrying the calendar's error.
func TestIntradayCalendarPastCoverage(t *testing.T) {
	t.Parallel()
	_, rdb := testinfra.Mini(t)
	in, err := market.NewInstruments(nil, []market.Instrument{
		{Symbol: "SPY", Market: market.XNYS, Weight: 1},
		{Symbol: "600519", Market: market.XSHG, Weight: 1}, // built-in calendar through 2026-12-31
	})
	if err != nil {
		t.Fatal(err)
	}
	set := testSettings()
	set.Shards = 1
	var logs bytes.Buffer
	e, err := New(set, Deps{Redis: rdb, Instruments: in, Log: zerolog.New(&logs)})
	if err != nil {
		t.Fatal(err)
	}
	f := fixture{e: e, rdb: rdb}
	at := time.Date(2027, 1, 4, 15, 0, 0, 0, time.UTC) // XNYS open; XSHG unknown
	f.trade(t, "1-1", "SPY", "100", "1", at)
	f.trade(t, "1-2", "600519", "1500", "1", at)
	st, err := e.Intraday(context.Background(), 0, at.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if st.Accepted != 2 || st.OutOfSession != 1 || f.state(t, "600519").OutOfSession != 1 {
		t.Fatalf("accepted %d, out of session %d; want 2, 1 (the XSHG tick)", st.Accepted, st.OutOfSession)
	}
	type warning struct{ Level, Market, Message string }
	var got []warning
	sc := bufio.NewScanner(bytes.NewReader(logs.Bytes()))
	for sc.Scan() {
		var line struct{ Level, Market, Message, Error string }
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if line.Error == "" {
			t.Fatalf("log line %q carries no error", sc.Text())
		}
		got = append(got, warning{line.Level, line.Market, line.Message})
	}
	want := []warning{{"warn", "XSHG", "intraday: ticks outside the calendar's coverage counted out of session (logged once an hour)"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("log lines (-want +got):\n%s", diff)
	}
}

// TestIntradayMinuteBarsExpiry: an hour's minute-bar key expires
// minuteBarRetention after the hour ends, counted from the run's own time;
// a backfill of trades older than that keeps its bars for an hour.
func TestIntradayMinuteBarsExpiry(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	n := shardOf(f, "BTCUSD")
	old := mon(15, 0, 0, 0).AddDate(0, 0, -3)
	f.trade(t, "1-1", "BTCUSD", "50000", "1", old)
	f.trade(t, "1-2", "BTCUSD", "50000", "1", mon(15, 0, 10, 0)) // closes the old bar
	f.trade(t, "1-3", "BTCUSD", "50010", "1", mon(15, 1, 5, 0))  // closes 15:00
	now := mon(15, 1, 6, 0)
	f.intradayAll(t, now)
	for _, c := range []struct {
		bar  time.Time
		want time.Duration
	}{
		{mon(15, 0, 0, 0), mon(16, 0, 0, 0).Add(minuteBarRetention).Sub(now)},
		{old, time.Hour},
	} {
		key := keys.MinuteBars(n, "BTCUSD", c.bar.UnixMilli()/hourMS)
		if got := f.rdb.PTTL(ctx, key).Val(); got != c.want {
			t.Fatalf("%s expires in %s, want %s", key, got, c.want)
		}
	}
}

// TestIntradayDailyRetention: when a symbol's new session starts, its
// daily bars older than dailyRetentionDays before it are deleted.
func TestIntradayDailyRetention(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	dk := keys.DailyBars(shardOf(f, "SPY"), "SPY")
	monday := market.NewDate(2026, 11, 23)
	keep, drop := monday.AddDays(-dailyRetentionDays).String(), monday.AddDays(-dailyRetentionDays-1).String()
	if err := f.rdb.HSet(ctx, dk, keep, "{}", drop, "{}").Err(); err != nil {
		t.Fatal(err)
	}
	f.trade(t, "1-1", "SPY", "100", "1", mon(14, 30, 0, 0))
	f.intradayAll(t, mon(14, 30, 1, 0))
	if f.rdb.HExists(ctx, dk, drop).Val() || !f.rdb.HExists(ctx, dk, keep).Val() {
		t.Fatalf("daily bars %v: want %s kept and %s deleted", f.rdb.HKeys(ctx, dk).Val(), keep, drop)
	}
}
