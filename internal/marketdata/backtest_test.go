package marketdata

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"heartbeat/internal/bars"
	"heartbeat/internal/config"
	"heartbeat/internal/keys"
	"heartbeat/internal/market"
	"heartbeat/internal/testinfra"
)

// nov is an instant in November 2026, UTC (NYSE: 14:30-21:00).
func nov(d, hh, mm int) time.Time { return time.Date(2026, 11, d, hh, mm, 0, 0, time.UTC) }

// spyBar is a stored SPY bar.
func spyBar(start time.Time, o, h, l, c string) bars.Bar {
	return bars.Bar{Symbol: "SPY", Market: string(market.XNYS), Start: start, Open: dec(o), High: dec(h), Low: dec(l), Close: dec(c),
		Volume: dec("1"), Trades: 1, Revision: 1}
}

// backtestStored reads the stored results for a market's session.
func backtestStored(t *testing.T, f fixture, code market.Code, label string) map[string]Backtest {
	t.Helper()
	ctx := context.Background()
	key := keys.Backtest(string(code), label)
	out := map[string]Backtest{}
	for sym, js := range f.rdb.HGetAll(ctx, key).Val() {
		var r Backtest
		if err := json.Unmarshal([]byte(js), &r); err != nil {
			t.Fatalf("decode backtest of %s: %v", sym, err)
		}
		out[sym] = r
	}
	if ttl := f.rdb.TTL(ctx, key).Val(); ttl <= 0 || ttl > backtestTTL {
		t.Fatalf("%s has TTL %s, want (0, %s]", key, ttl, backtestTTL)
	}
	return out
}

// TestPreOpenBacktestOutcomes runs the backtest for Monday 2026-11-23 over
// the five sessions before it (Nov 16-20; Nov 13 gives the first previous
// close), from bars put straight into the store.
func TestPreOpenBacktestOutcomes(t *testing.T) {
	t.Parallel()
	// The previous close (Nov 13, 20:59) is 100 unless a case says
	// otherwise; each case's session is Monday Nov 16.
	prevClose := spyBar(nov(13, 20, 59), "100", "100", "100", "100")
	cases := []struct {
		name         string
		target, stop string
		bars         []bars.Bar
		want         Backtest // counts only
	}{
		{
			name: "buy (pre-open above the previous close), target first: worked",
			bars: []bars.Bar{prevClose,
				spyBar(nov(16, 14, 0), "101", "101", "101", "101"), // pre-open 101 > 100
				spyBar(nov(16, 14, 30), "100", "100.4", "99.6", "100.2"),
				spyBar(nov(16, 14, 31), "100.2", "101", "100", "100.9"), // target 100 + 1%
				spyBar(nov(16, 14, 32), "100.9", "100.9", "99", "99"),   // stop afterwards: too late
			},
			want: Backtest{Evaluated: 1, Worked: 1, WorkedPct: 100},
		},
		{
			name: "buy, stop first: failed (no pre-open trade: the opening trade decides)",
			bars: []bars.Bar{prevClose,
				spyBar(nov(16, 14, 30), "101", "101.5", "100.6", "101"),   // opening 101 > 100: buy
				spyBar(nov(16, 14, 31), "101", "101", "100.495", "100.8"), // stop 101 - 0.5%
				spyBar(nov(16, 14, 32), "100.8", "102.01", "100.8", "102"),
			},
			want: Backtest{Evaluated: 1, Failed: 1, FailedPct: 100},
		},
		{
			name: "buy, target and stop in the same bar: failed",
			bars: []bars.Bar{prevClose,
				spyBar(nov(16, 14, 5), "100.5", "100.5", "100.5", "100.5"),
				spyBar(nov(16, 14, 30), "100", "101", "99.5", "100"),
			},
			want: Backtest{Evaluated: 1, Failed: 1, FailedPct: 100},
		},
		{
			name: "buy, neither before the close",
			bars: []bars.Bar{prevClose,
				spyBar(nov(16, 14, 5), "100.5", "100.5", "100.5", "100.5"),
				spyBar(nov(16, 14, 30), "100", "100.99", "99.51", "100"),
				spyBar(nov(16, 20, 59), "100", "100.99", "99.51", "100.5"),
				spyBar(nov(16, 21, 0), "100.5", "105", "90", "90"), // after the close
			},
			want: Backtest{Evaluated: 1, Neither: 1, NeitherPct: 100},
		},
		{
			name: "sell (pre-open below the previous close), target first: worked",
			bars: []bars.Bar{prevClose,
				spyBar(nov(16, 14, 0), "99", "99", "99", "99"),
				spyBar(nov(16, 14, 30), "99.5", "99.99", "99", "99.2"),    // stop would be 99.5 + 0.5% = 99.9975
				spyBar(nov(16, 14, 31), "99.2", "99.3", "98.505", "98.6"), // target 99.5 - 1%
			},
			want: Backtest{Evaluated: 1, Worked: 1, WorkedPct: 100},
		},
		{
			name: "sell, stop first: failed",
			bars: []bars.Bar{prevClose,
				spyBar(nov(16, 14, 0), "99", "99", "99", "99"),
				spyBar(nov(16, 14, 30), "99.5", "99.9975", "99.4", "99.9"),
				spyBar(nov(16, 14, 31), "99.9", "99.9", "98", "98"),
			},
			want: Backtest{Evaluated: 1, Failed: 1, FailedPct: 100},
		},
		{
			name: "pre-open equal to the previous close: sell",
			bars: []bars.Bar{prevClose,
				spyBar(nov(16, 14, 0), "100", "100", "100", "100"),
				spyBar(nov(16, 14, 30), "101", "101", "99", "99"), // buy's target and stop; sell's target 99.99 only
			},
			want: Backtest{Evaluated: 1, Worked: 1, WorkedPct: 100},
		},
		{
			name:   "distances in points",
			target: "2", stop: "1",
			bars: []bars.Bar{prevClose,
				spyBar(nov(16, 14, 0), "101", "101", "101", "101"),
				spyBar(nov(16, 14, 30), "100", "101.99", "99.01", "100"), // 1% would have hit
				spyBar(nov(16, 14, 31), "100", "102", "99.5", "101"),
			},
			want: Backtest{Evaluated: 1, Worked: 1, WorkedPct: 100},
		},
		{
			name:   "distances in points: stop",
			target: "2", stop: "1",
			bars: []bars.Bar{prevClose,
				spyBar(nov(16, 14, 0), "101", "101", "101", "101"),
				spyBar(nov(16, 14, 30), "100", "101.5", "99", "100"),
			},
			want: Backtest{Evaluated: 1, Failed: 1, FailedPct: 100},
		},
		{
			name: "a session without a previous close is skipped",
			bars: []bars.Bar{
				spyBar(nov(16, 14, 30), "100", "105", "100", "105"),
			},
			want: Backtest{},
		},
		{
			name: "five sessions: worked, failed, failed in one bar, neither, and one without bars",
			bars: []bars.Bar{prevClose,
				// Nov 16: buy at 100, target 101 first.
				spyBar(nov(16, 14, 0), "101", "101", "101", "101"),
				spyBar(nov(16, 14, 30), "100", "101", "99.9", "100"),
				// Nov 17: previous close 100, pre-open 99: sell at 100,
				// stop 100.5 first.
				spyBar(nov(17, 14, 0), "99", "99", "99", "99"),
				spyBar(nov(17, 14, 30), "100", "100.5", "99.5", "100"),
				// Nov 18: previous close 100, buy at 102 (opening trade),
				// target 103.02 and stop 101.49 in one bar.
				spyBar(nov(18, 14, 30), "102", "103.02", "101.49", "102"),
				// Nov 19: previous close 102, sell at 101, neither.
				spyBar(nov(19, 14, 30), "101", "101.5", "100", "101"),
				// Nov 20: no bars.
			},
			want: Backtest{Evaluated: 4, Worked: 1, Failed: 2, Neither: 1, WorkedPct: 25, FailedPct: 50, NeitherPct: 25},
		},
	}
	monday := nyseSession(t, market.NewDate(2026, 11, 23))
	now := nov(23, 13, 0)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, rdb := testinfra.Mini(t)
			set := testSettings()
			target, stop := "1%", "0.5%"
			if c.target != "" {
				target, stop = c.target, c.stop
			}
			var err error
			if set.BacktestTarget, err = config.ParseDistance(target); err != nil {
				t.Fatal(err)
			}
			if set.BacktestStop, err = config.ParseDistance(stop); err != nil {
				t.Fatal(err)
			}
			f := setupOn(t, rdb, set, withStore())
			if err := f.store.Upsert(context.Background(), c.bars); err != nil {
				t.Fatal(err)
			}
			got, err := f.e.PreOpenBacktest(context.Background(), market.XNYS, monday, now)
			if err != nil {
				t.Fatal(err)
			}
			describe := map[string]string{"1%": "1%", "0.5%": "0.5%", "2": "2 points", "1": "1 points"}
			base := Backtest{Market: "XNYS", Session: "2026-11-23", Lookback: 5,
				Target: describe[target], Stop: describe[stop], AsOf: now}
			want := c.want
			want.Symbol, want.Market, want.Session, want.Lookback, want.Target, want.Stop, want.AsOf =
				"SPY", base.Market, base.Session, base.Lookback, base.Target, base.Stop, base.AsOf
			qqq := base
			qqq.Symbol = "QQQ"
			if diff := cmp.Diff([]Backtest{qqq, want}, got); diff != "" {
				t.Fatalf("results (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(map[string]Backtest{"QQQ": qqq, "SPY": want}, backtestStored(t, f, market.XNYS, "2026-11-23")); diff != "" {
				t.Fatalf("stored results (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPreOpenBacktestFromIntraday drives Friday's session through
// Intraday: its bars reach the backtest through the flush to the store, or,
// not flushed yet, from Redis; Thursday's close is in the store; today's
// signal comes from the intraday state.
func TestPreOpenBacktestFromIntraday(t *testing.T) {
	t.Parallel()
	monday := nyseSession(t, market.NewDate(2026, 11, 23))
	// Thursday's close (99) is in the store. Friday opens at 100 without a
	// pre-open trade (buy: 100 > 99) and reaches the 101 target.
	friday := []fed{
		{"SPY", "100", "5", nov(20, 14, 30)},
		{"SPY", "100.6", "5", nov(20, 15, 0)},
		{"SPY", "101", "5", nov(20, 16, 0)},
		{"SPY", "100.5", "5", nov(20, 20, 59)}, // Friday's close
	}
	cases := []struct {
		name      string
		after     []fed     // trades after Friday's close
		run       time.Time // when Intraday consumes them
		flush     bool      // flush the closed bars after each Intraday run
		signal    string
		preOpen   string
		prevClose string
	}{
		{"a pre-market trade above Friday's close: buy", []fed{{"SPY", "101", "1", nov(23, 12, 0)}}, nov(23, 12, 30), true,
			"buy", "101", "100.5"},
		{"a pre-market trade below Friday's close: sell", []fed{{"SPY", "100", "1", nov(23, 12, 0)}}, nov(23, 12, 30), true,
			"sell", "100", "100.5"},
		{"an after-hours trade counts as pre-open",
			[]fed{{"SPY", "100.75", "1", nov(20, 21, 30)}}, nov(20, 21, 31), true, "buy", "100.75", "100.5"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, withStore())
			ctx := context.Background()
			if err := f.store.Upsert(ctx, []bars.Bar{spyBar(nov(19, 20, 59), "99", "99", "99", "99")}); err != nil {
				t.Fatal(err)
			}
			for _, step := range []struct {
				trades []fed
				at     time.Time
			}{{friday, nov(20, 21, 1)}, {c.after, c.run}} {
				feedAll(t, f, step.trades)
				f.intradayAll(t, step.at)
				if c.flush {
					flushAll(t, f, step.at)
				}
			}
			if stored := len(f.storedBars(t)); (stored > 1) != c.flush {
				t.Fatalf("%d bars in the store; flushed: %v", stored, c.flush)
			}
			now := nov(23, 13, 0)
			got, err := f.e.PreOpenBacktest(ctx, market.XNYS, monday, now)
			if err != nil {
				t.Fatal(err)
			}
			want := Backtest{Symbol: "SPY", Market: "XNYS", Session: "2026-11-23", Lookback: 5,
				Evaluated: 1, Worked: 1, WorkedPct: 100, Target: "1%", Stop: "0.5%",
				Signal: c.signal, PreOpen: dec(c.preOpen), PrevClose: dec(c.prevClose), AsOf: now}
			if len(got) != 2 || got[1].Symbol != "SPY" {
				t.Fatalf("results = %+v, want QQQ's and SPY's", got)
			}
			if diff := cmp.Diff(want, got[1]); diff != "" {
				t.Fatalf("SPY (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want, backtestStored(t, f, market.XNYS, "2026-11-23")["SPY"]); diff != "" {
				t.Fatalf("stored SPY (-want +got):\n%s", diff)
			}
			// QQQ never traded: no previous close, no signal.
			if got[0].Signal != "" || got[0].Evaluated != 0 {
				t.Fatalf("QQQ = %+v, want no signal and nothing evaluated", got[0])
			}
		})
	}
}
