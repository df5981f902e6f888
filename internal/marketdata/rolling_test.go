package marketdata

import (
	"context"
	"encoding/json"
	"math/big"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"heartbeat/internal/keys"
	"heartbeat/internal/ticks"
)

// fed is one trade a test feeds, kept so the test can compute what the
// engine should have made of it.
type fed struct {
	sym, price, size string
	at               time.Time
}

func feedAll(t *testing.T, f fixture, trades []fed) {
	t.Helper()
	for _, tr := range trades {
		f.trade(t, "*", tr.sym, tr.price, tr.size, tr.at)
	}
}

// rat returns a decimal string as an exact rational.
func rat(t *testing.T, s string) *big.Rat {
	t.Helper()
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		t.Fatalf("not a number: %q", s)
	}
	return r
}

// wantRolling computes a symbol's rolling figures at `at` straight from
// the trades: those whose minute starts in [at-24h, at). ok is false when
// there are none.
func wantRolling(t *testing.T, sym string, trades []fed, at time.Time) (r Rolling, vwap *big.Rat, ok bool) {
	t.Helper()
	from := at.Add(-24 * time.Hour)
	r = Rolling{Symbol: sym, At: at}
	var first, last time.Time
	minutes := map[time.Time]bool{}
	for _, tr := range trades {
		m := tr.at.Truncate(time.Minute)
		if tr.sym != sym || m.Before(from) || !m.Before(at) {
			continue
		}
		p, s := dec(tr.price), dec(tr.size)
		if r.Trades == 0 || tr.at.Before(first) {
			r.Open, first = p, tr.at
		}
		if r.Trades == 0 || !tr.at.Before(last) {
			r.Last, last = p, tr.at
		}
		if r.Trades == 0 || p > r.High {
			r.High = p
		}
		if r.Trades == 0 || p < r.Low {
			r.Low = p
		}
		r.Volume += s
		r.Notional = plusTrade(r.Notional, p, s)
		r.Trades++
		minutes[m] = true
	}
	if r.Trades == 0 {
		return r, nil, false
	}
	r.Bars = len(minutes)
	r.Change = r.Last - r.Open
	// 100 × change / open at six places, half to even.
	pct := new(big.Rat).Mul(rat(t, r.Change.String()), big.NewRat(100, 1))
	pct.Quo(pct, rat(t, r.Open.String()))
	r.ChangePct = ratHalfEven(pct, ChangePctPlaces)
	num := new(big.Rat)
	for _, tr := range trades {
		m := tr.at.Truncate(time.Minute)
		if tr.sym == sym && !m.Before(from) && m.Before(at) {
			num.Add(num, new(big.Rat).Mul(rat(t, tr.price), rat(t, tr.size)))
		}
	}
	return r, num.Quo(num, rat(t, r.Volume.String())), true
}

func rollingStored(t *testing.T, f fixture) map[string]Rolling {
	t.Helper()
	out := map[string]Rolling{}
	for s := 0; s < f.e.set.Shards; s++ {
		for sym, js := range f.rdb.HGetAll(context.Background(), keys.Rolling24h(s)).Val() {
			var r Rolling
			if err := json.Unmarshal([]byte(js), &r); err != nil {
				t.Fatalf("decode rolling figures of %s: %v", sym, err)
			}
			out[sym] = r
		}
	}
	return out
}

func TestTwentyFourHour(t *testing.T) {
	t.Parallel()
	sun := func(hh, mm, ss, ms int) time.Time { return mon(hh, mm, ss, ms).AddDate(0, 0, -1) }
	tue := func(hh, mm, ss, ms int) time.Time { return mon(hh, mm, ss, ms).AddDate(0, 0, 1) }
	trades := []fed{
		{"BTCUSD", "49000", "1", sun(14, 59, 30, 0)},         // bar at-24h-1m: out
		{"BTCUSD", "50000", "0.5", sun(15, 0, 0, 0)},         // bar at-24h: in
		{"BTCUSD", "50100", "0.25", sun(15, 0, 40, 0)},       //
		{"BTCUSD", "51000.5", "0.1", sun(20, 0, 0, 0)},       // the high
		{"BTCUSD", "49500.25", "2", mon(3, 0, 0, 0)},         // the low
		{"BTCUSD", "50150", "0.2", mon(14, 59, 10, 0)},       //
		{"BTCUSD", "50200.125", "0.3", mon(14, 59, 59, 999)}, // bar at-1m: in, the last
		{"BTCUSD", "60000", "9", mon(15, 0, 0, 0)},           // bar at: out
		{"BTCUSD", "61000", "1", mon(15, 1, 0, 500)},         // after at: out
	}
	cases := []struct {
		name     string
		fed      int       // how many of the trades are fed
		intraday time.Time // when Intraday consumes them
		nows     []time.Time
	}{
		{"the bar starting at at-24h is in, the one starting at at is out (still open)",
			8, mon(15, 0, 30, 0), []time.Time{mon(15, 0, 30, 0)}},
		{"a late run: closed bars starting at or after at are out",
			9, mon(15, 1, 10, 0), []time.Time{mon(15, 0, 30, 0)}},
		{"now on a whole minute",
			8, mon(15, 0, 30, 0), []time.Time{mon(15, 0, 0, 0)}},
		{"the open bar counts once its minute is over",
			7, mon(14, 59, 59, 999), []time.Time{mon(15, 0, 0, 500)}},
		{"the open bar does not count before its minute is over",
			7, mon(14, 59, 59, 999), []time.Time{mon(14, 59, 59, 999)}},
		{"a symbol whose bars have all left the window loses its entry",
			8, mon(15, 0, 30, 0), []time.Time{mon(15, 0, 30, 0), tue(15, 1, 0, 0)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			feedAll(t, f, trades[:c.fed])
			f.intradayAll(t, c.intraday)
			for _, now := range c.nows {
				var got []Rolling
				for s := 0; s < f.e.set.Shards; s++ {
					rs, err := f.e.TwentyFourHour(context.Background(), s, now)
					if err != nil {
						t.Fatalf("TwentyFourHour shard %d at %s: %v", s, now, err)
					}
					got = append(got, rs...)
				}
				at := now.Truncate(time.Minute)
				want := map[string]Rolling{}
				wantVWAP := map[string]string{}
				for _, sym := range []string{"SPY", "QQQ", "ES", "BTCUSD"} {
					if r, vwap, ok := wantRolling(t, sym, trades[:c.fed], at); ok {
						want[sym], wantVWAP[sym] = r, ratVWAP(vwap)
					}
				}
				gotBySym := map[string]Rolling{}
				for _, r := range got {
					gotBySym[r.Symbol] = r
				}
				noVWAP := cmpopts.IgnoreFields(Rolling{}, "VWAP")
				if diff := cmp.Diff(want, gotBySym, noVWAP); diff != "" {
					t.Fatalf("at %s: rolling figures (-want +got):\n%s", now, diff)
				}
				stored := rollingStored(t, f)
				if diff := cmp.Diff(want, stored, noVWAP, cmpopts.IgnoreFields(Rolling{}, "Notional")); diff != "" {
					t.Fatalf("at %s: stored rolling figures (-want +got):\n%s", now, diff)
				}
				for sym, w := range wantVWAP {
					if g := gotBySym[sym].VWAP; g != w {
						t.Fatalf("at %s: %s VWAP = %s, want %s (big.Rat, half to even)", now, sym, g, w)
					}
					if stored[sym].VWAP != gotBySym[sym].VWAP {
						t.Fatalf("at %s: %s stored VWAP %s, returned %s", now, sym, stored[sym].VWAP, gotBySym[sym].VWAP)
					}
				}
			}
		})
	}
}

// TestTwentyFourHourChangePctTies makes the 24-hour change percentage an
// exact tie at its sixth place, both ways and of both signs: it must be
// rounded half to even (a half-away-from-zero rounding gives 0.000001
// where the answer is 0).
func TestTwentyFourHourChangePctTies(t *testing.T) {
	t.Parallel()
	sun := func(hh, mm, ss, ms int) time.Time { return mon(hh, mm, ss, ms).AddDate(0, 0, -1) }
	for _, tc := range []struct {
		last, want string // the first trade is at 100
	}{
		{"100.0000005", "0"},         // +0.0000005 %: down to the even 0
		{"100.0000015", "0.000002"},  // +0.0000015 %: up to the even 2
		{"99.9999995", "0"},          // -0.0000005 %
		{"99.9999985", "-0.000002"},  // -0.0000015 %
		{"100.0000025", "0.000002"},  // +0.0000025 %: down to the even 2
		{"100.00000251", "0.000003"}, // just above the tie
	} {
		t.Run(tc.last, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			feedAll(t, f, []fed{{"BTCUSD", "100", "1", sun(16, 0, 0, 0)}, {"BTCUSD", tc.last, "1", mon(14, 0, 0, 0)}})
			f.intradayAll(t, mon(15, 0, 0, 0))
			rs, err := f.e.TwentyFourHour(context.Background(), ticks.Shard("BTCUSD", f.e.set.Shards), mon(15, 0, 0, 0))
			if err != nil || len(rs) != 1 {
				t.Fatalf("TwentyFourHour: %+v, %v", rs, err)
			}
			if rs[0].ChangePct != tc.want {
				t.Fatalf("change %% of 100 -> %s = %s, want %s", tc.last, rs[0].ChangePct, tc.want)
			}
		})
	}
}
