package marketdata

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"heartbeat/internal/keys"
	"heartbeat/internal/market"
)

// metricsStored reads a market's metrics hash back into a Composite.
func metricsStored(t *testing.T, f fixture, code market.Code) Composite {
	t.Helper()
	h := f.rdb.HGetAll(context.Background(), keys.MarketMetrics(string(code))).Val()
	num := func(field string) float64 {
		v, err := strconv.ParseFloat(h[field], 64)
		if err != nil {
			t.Fatalf("metrics %s field %s = %q: %v", code, field, h[field], err)
		}
		return v
	}
	at, err := time.Parse(time.RFC3339Nano, h["as_of"])
	if err != nil {
		t.Fatalf("metrics %s as_of = %q: %v", code, h["as_of"], err)
	}
	return Composite{Market: string(code), Session: h["session"],
		FromOpen: num("change_from_open_pct"), FromPrev: num("change_from_prev_pct"), HasPrev: h["has_prev"] == "1",
		Up: int(num("up")), Down: int(num("down")), Unchanged: int(num("unchanged")), Traded: int(num("traded")),
		OpenHigh: num("from_open_high_pct"), OpenLow: num("from_open_low_pct"),
		PrevHigh: num("from_prev_high_pct"), PrevLow: num("from_prev_low_pct"), AsOf: at}
}

// chg is the percent change from ref to last, computed independently of
// the engine.
func chg(last, ref float64) float64 { return (last - ref) / ref * 100 }

func TestMarketMetrics(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	tue := func(hh, mm, ss int) time.Time { return mon(hh, mm, ss, 0).AddDate(0, 0, 1) }
	type trade struct {
		sym, price string
		at         time.Time
	}
	// SPY has weight 1 and QQQ weight 3 in the XNYS composite. Monday is
	// the first session the state knows: no previous close, so the change
	// from the previous close is undefined and Up/Down compare with the
	// open. Tuesday compares with Monday's last prices (SPY 100, QQQ 400).
	steps := []struct {
		name string
		feed []trade
		now  time.Time
		want Composite
	}{
		{
			name: "the open, before any trade: nothing traded",
			now:  mon(14, 30, 0, 0),
			want: Composite{Session: "2026-11-23"},
		},
		{
			name: "SPY up 1%, QQQ down 1%",
			feed: []trade{{"SPY", "100", mon(14, 30, 10, 0)}, {"QQQ", "400", mon(14, 30, 11, 0)},
				{"SPY", "101", mon(14, 31, 0, 0)}, {"QQQ", "396", mon(14, 31, 1, 0)}},
			now: mon(14, 31, 30, 0),
			want: Composite{Session: "2026-11-23", FromOpen: (1*chg(101, 100) + 3*chg(396, 400)) / 4,
				Up: 1, Down: 1, Traded: 2,
				OpenHigh: (1*chg(101, 100) + 3*chg(396, 400)) / 4, OpenLow: (1*chg(101, 100) + 3*chg(396, 400)) / 4},
		},
		{
			name: "both up: a new session high",
			feed: []trade{{"SPY", "102", mon(14, 32, 0, 0)}, {"QQQ", "404", mon(14, 32, 1, 0)}},
			now:  mon(14, 32, 30, 0),
			want: Composite{Session: "2026-11-23", FromOpen: (1*chg(102, 100) + 3*chg(404, 400)) / 4,
				Up: 2, Traded: 2,
				OpenHigh: (1*chg(102, 100) + 3*chg(404, 400)) / 4, OpenLow: (1*chg(101, 100) + 3*chg(396, 400)) / 4},
		},
		{
			name: "back to the open: unchanged, the high and low stay",
			feed: []trade{{"SPY", "100", mon(14, 33, 0, 0)}, {"QQQ", "400", mon(14, 33, 1, 0)}},
			now:  mon(14, 33, 30, 0),
			want: Composite{Session: "2026-11-23", Unchanged: 2, Traded: 2,
				OpenHigh: (1*chg(102, 100) + 3*chg(404, 400)) / 4, OpenLow: (1*chg(101, 100) + 3*chg(396, 400)) / 4},
		},
		{
			name: "after the close: the session's figures stay",
			now:  mon(22, 0, 0, 0),
			want: Composite{Session: "2026-11-23", Unchanged: 2, Traded: 2,
				OpenHigh: (1*chg(102, 100) + 3*chg(404, 400)) / 4, OpenLow: (1*chg(101, 100) + 3*chg(396, 400)) / 4},
		},
		{
			name: "the next open, before any trade: the high and low restart",
			now:  tue(14, 30, 0),
			want: Composite{Session: "2026-11-24"},
		},
		{
			name: "SPY opens 101 and falls to 99, QQQ opens at its previous close",
			feed: []trade{{"SPY", "101", tue(14, 30, 5)}, {"QQQ", "400", tue(14, 30, 6)}, {"SPY", "99", tue(14, 31, 0)}},
			now:  tue(14, 31, 30),
			want: Composite{Session: "2026-11-24",
				FromOpen: (1*chg(99, 101) + 3*chg(400, 400)) / 4, FromPrev: (1*chg(99, 100) + 3*chg(400, 400)) / 4, HasPrev: true,
				Down: 1, Unchanged: 1, Traded: 2,
				OpenHigh: (1 * chg(99, 101)) / 4, OpenLow: (1 * chg(99, 101)) / 4,
				PrevHigh: (1 * chg(99, 100)) / 4, PrevLow: (1 * chg(99, 100)) / 4},
		},
		{
			name: "SPY rallies to 102",
			feed: []trade{{"SPY", "102", tue(14, 32, 0)}},
			now:  tue(14, 32, 30),
			want: Composite{Session: "2026-11-24",
				FromOpen: (1 * chg(102, 101)) / 4, FromPrev: (1 * chg(102, 100)) / 4, HasPrev: true,
				Up: 1, Unchanged: 1, Traded: 2,
				OpenHigh: (1 * chg(102, 101)) / 4, OpenLow: (1 * chg(99, 101)) / 4,
				PrevHigh: (1 * chg(102, 100)) / 4, PrevLow: (1 * chg(99, 100)) / 4},
		},
	}
	// Stored figures have six decimal places.
	approx := cmpopts.EquateApprox(0, 1e-6)
	for _, s := range steps {
		for _, tr := range s.feed {
			f.trade(t, "*", tr.sym, tr.price, "1", tr.at)
		}
		f.intradayAll(t, s.now)
		want := s.want
		want.Market, want.AsOf = string(market.XNYS), s.now
		for run := 1; run <= 2; run++ {
			got, err := f.e.MarketMetrics(ctx, s.now)
			if err != nil {
				t.Fatalf("%s: run %d: %v", s.name, run, err)
			}
			if diff := cmp.Diff(want, got[market.XNYS], approx); diff != "" {
				t.Fatalf("%s: run %d: composite (-want +got):\n%s", s.name, run, diff)
			}
			if diff := cmp.Diff(want, metricsStored(t, f, market.XNYS), approx); diff != "" {
				t.Fatalf("%s: run %d: stored composite (-want +got):\n%s", s.name, run, diff)
			}
		}
	}
}
