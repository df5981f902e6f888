package marketdata

import (
	"context"
	"encoding/json"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"heartbeat/internal/keys"
	"heartbeat/internal/market"
)

// sessionVolumeStored reads the per-symbol hashes of every shard and the
// per-market hashes (market -> label -> figures).
func sessionVolumeStored(t *testing.T, f fixture) (map[string]SessionVolumeFigures, map[market.Code]map[string]SessionVolumeFigures) {
	t.Helper()
	ctx := context.Background()
	syms := map[string]SessionVolumeFigures{}
	for s := 0; s < f.e.set.Shards; s++ {
		for sym, js := range f.rdb.HGetAll(ctx, keys.SessionVolume(s)).Val() {
			var v SessionVolumeFigures
			if err := json.Unmarshal([]byte(js), &v); err != nil {
				t.Fatalf("decode session volume of %s: %v", sym, err)
			}
			syms[sym] = v
		}
	}
	mkts := map[market.Code]map[string]SessionVolumeFigures{}
	for _, code := range f.e.instr.Markets() {
		h := f.rdb.HGetAll(ctx, keys.MarketSessionVolume(string(code))).Val()
		if len(h) == 0 {
			continue
		}
		mkts[code] = map[string]SessionVolumeFigures{}
		for label, js := range h {
			var v SessionVolumeFigures
			if err := json.Unmarshal([]byte(js), &v); err != nil {
				t.Fatalf("decode session volume of %s %s: %v", code, label, err)
			}
			mkts[code][label] = v
		}
	}
	return syms, mkts
}

func TestSessionVolume(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	sun := func(hh, mm int) time.Time { return utc(2026, 11, 22, hh, mm) }
	tue := func(hh, mm int) time.Time { return utc(2026, 11, 24, hh, mm) }
	sym := func(s string, code market.Code, label, vol string, trades int64, at time.Time) SessionVolumeFigures {
		return SessionVolumeFigures{Symbol: s, Market: string(code), Session: label, Volume: dec(vol), Trades: trades, AsOf: at}
	}
	tot := func(code market.Code, label, vol string, trades int64, n int, at time.Time) SessionVolumeFigures {
		return SessionVolumeFigures{Market: string(code), Session: label, Volume: dec(vol), Trades: trades, Symbols: n, AsOf: at}
	}
	type trade struct {
		sym, price, size string
		at               time.Time
	}
	// Each step feeds trades, runs Intraday and SessionVolume at now (twice:
	// the second run must change nothing), and checks what was returned
	// and everything stored. Stored market entries of earlier labels keep
	// the as-of of the last run that wrote them.
	steps := []struct {
		name       string
		feed       []trade
		now        time.Time
		wantSym    map[string]SessionVolumeFigures
		wantMarket map[market.Code]map[string]SessionVolumeFigures
	}{
		{
			name: "Sunday evening: CME's trade counts towards Monday; NYSE still shows Friday",
			feed: []trade{{"ES", "6000", "3", sun(23, 5)}},
			now:  sun(23, 10),
			wantSym: map[string]SessionVolumeFigures{
				"SPY":    sym("SPY", market.XNYS, "2026-11-20", "0", 0, sun(23, 10)),
				"QQQ":    sym("QQQ", market.XNYS, "2026-11-20", "0", 0, sun(23, 10)),
				"ES":     sym("ES", market.CMES, "2026-11-23", "3", 1, sun(23, 10)),
				"BTCUSD": sym("BTCUSD", market.ALWAYS, "2026-11-22", "0", 0, sun(23, 10)),
			},
			wantMarket: map[market.Code]map[string]SessionVolumeFigures{
				market.XNYS:   {"2026-11-20": tot(market.XNYS, "2026-11-20", "0", 0, 2, sun(23, 10))},
				market.CMES:   {"2026-11-23": tot(market.CMES, "2026-11-23", "3", 1, 1, sun(23, 10))},
				market.ALWAYS: {"2026-11-22": tot(market.ALWAYS, "2026-11-22", "0", 0, 1, sun(23, 10))},
			},
		},
		{
			name: "Monday in session: pre-market prints do not count",
			feed: []trade{
				{"SPY", "99", "100", mon(14, 0, 0, 0)}, // pre-market
				{"SPY", "100", "10", mon(14, 30, 0, 0)},
				{"SPY", "101", "20", mon(15, 0, 0, 0)},
				{"QQQ", "400", "5", mon(15, 0, 1, 0)},
				{"ES", "6001", "2", mon(15, 0, 2, 0)},
				{"BTCUSD", "50000", "0.5", mon(15, 0, 3, 0)},
			},
			now: mon(16, 0, 0, 0),
			wantSym: map[string]SessionVolumeFigures{
				"SPY":    sym("SPY", market.XNYS, "2026-11-23", "30", 2, mon(16, 0, 0, 0)),
				"QQQ":    sym("QQQ", market.XNYS, "2026-11-23", "5", 1, mon(16, 0, 0, 0)),
				"ES":     sym("ES", market.CMES, "2026-11-23", "5", 2, mon(16, 0, 0, 0)),
				"BTCUSD": sym("BTCUSD", market.ALWAYS, "2026-11-23", "0.5", 1, mon(16, 0, 0, 0)),
			},
			wantMarket: map[market.Code]map[string]SessionVolumeFigures{
				market.XNYS: {
					"2026-11-20": tot(market.XNYS, "2026-11-20", "0", 0, 2, sun(23, 10)),
					"2026-11-23": tot(market.XNYS, "2026-11-23", "35", 3, 2, mon(16, 0, 0, 0)),
				},
				market.CMES: {"2026-11-23": tot(market.CMES, "2026-11-23", "5", 2, 1, mon(16, 0, 0, 0))},
				market.ALWAYS: {
					"2026-11-22": tot(market.ALWAYS, "2026-11-22", "0", 0, 1, sun(23, 10)),
					"2026-11-23": tot(market.ALWAYS, "2026-11-23", "0.5", 1, 1, mon(16, 0, 0, 0)),
				},
			},
		},
		{
			name: "after the close the session's figures stay; after-hours prints do not count",
			feed: []trade{{"SPY", "102", "50", mon(21, 30, 0, 0)}},
			now:  mon(22, 30, 0, 0),
			wantSym: map[string]SessionVolumeFigures{
				"SPY":    sym("SPY", market.XNYS, "2026-11-23", "30", 2, mon(22, 30, 0, 0)),
				"QQQ":    sym("QQQ", market.XNYS, "2026-11-23", "5", 1, mon(22, 30, 0, 0)),
				"ES":     sym("ES", market.CMES, "2026-11-23", "5", 2, mon(22, 30, 0, 0)),
				"BTCUSD": sym("BTCUSD", market.ALWAYS, "2026-11-23", "0.5", 1, mon(22, 30, 0, 0)),
			},
			wantMarket: map[market.Code]map[string]SessionVolumeFigures{
				market.XNYS: {
					"2026-11-20": tot(market.XNYS, "2026-11-20", "0", 0, 2, sun(23, 10)),
					"2026-11-23": tot(market.XNYS, "2026-11-23", "35", 3, 2, mon(22, 30, 0, 0)),
				},
				market.CMES: {"2026-11-23": tot(market.CMES, "2026-11-23", "5", 2, 1, mon(22, 30, 0, 0))},
				market.ALWAYS: {
					"2026-11-22": tot(market.ALWAYS, "2026-11-22", "0", 0, 1, sun(23, 10)),
					"2026-11-23": tot(market.ALWAYS, "2026-11-23", "0.5", 1, 1, mon(22, 30, 0, 0)),
				},
			},
		},
		{
			name: "at the next open the figures restart at zero under the new label; the old label stays",
			now:  tue(14, 30),
			wantSym: map[string]SessionVolumeFigures{
				"SPY":    sym("SPY", market.XNYS, "2026-11-24", "0", 0, tue(14, 30)),
				"QQQ":    sym("QQQ", market.XNYS, "2026-11-24", "0", 0, tue(14, 30)),
				"ES":     sym("ES", market.CMES, "2026-11-24", "0", 0, tue(14, 30)),
				"BTCUSD": sym("BTCUSD", market.ALWAYS, "2026-11-24", "0", 0, tue(14, 30)),
			},
			wantMarket: map[market.Code]map[string]SessionVolumeFigures{
				market.XNYS: {
					"2026-11-20": tot(market.XNYS, "2026-11-20", "0", 0, 2, sun(23, 10)),
					"2026-11-23": tot(market.XNYS, "2026-11-23", "35", 3, 2, mon(22, 30, 0, 0)),
					"2026-11-24": tot(market.XNYS, "2026-11-24", "0", 0, 2, tue(14, 30)),
				},
				market.CMES: {
					"2026-11-23": tot(market.CMES, "2026-11-23", "5", 2, 1, mon(22, 30, 0, 0)),
					"2026-11-24": tot(market.CMES, "2026-11-24", "0", 0, 1, tue(14, 30)),
				},
				market.ALWAYS: {
					"2026-11-22": tot(market.ALWAYS, "2026-11-22", "0", 0, 1, sun(23, 10)),
					"2026-11-23": tot(market.ALWAYS, "2026-11-23", "0.5", 1, 1, mon(22, 30, 0, 0)),
					"2026-11-24": tot(market.ALWAYS, "2026-11-24", "0", 0, 1, tue(14, 30)),
				},
			},
		},
		{
			name: "the new session's first trades count from zero",
			feed: []trade{{"SPY", "103", "7", tue(14, 31)}},
			now:  tue(14, 32),
			wantSym: map[string]SessionVolumeFigures{
				"SPY":    sym("SPY", market.XNYS, "2026-11-24", "7", 1, tue(14, 32)),
				"QQQ":    sym("QQQ", market.XNYS, "2026-11-24", "0", 0, tue(14, 32)),
				"ES":     sym("ES", market.CMES, "2026-11-24", "0", 0, tue(14, 32)),
				"BTCUSD": sym("BTCUSD", market.ALWAYS, "2026-11-24", "0", 0, tue(14, 32)),
			},
			wantMarket: map[market.Code]map[string]SessionVolumeFigures{
				market.XNYS: {
					"2026-11-20": tot(market.XNYS, "2026-11-20", "0", 0, 2, sun(23, 10)),
					"2026-11-23": tot(market.XNYS, "2026-11-23", "35", 3, 2, mon(22, 30, 0, 0)),
					"2026-11-24": tot(market.XNYS, "2026-11-24", "7", 1, 2, tue(14, 32)),
				},
				market.CMES: {
					"2026-11-23": tot(market.CMES, "2026-11-23", "5", 2, 1, mon(22, 30, 0, 0)),
					"2026-11-24": tot(market.CMES, "2026-11-24", "0", 0, 1, tue(14, 32)),
				},
				market.ALWAYS: {
					"2026-11-22": tot(market.ALWAYS, "2026-11-22", "0", 0, 1, sun(23, 10)),
					"2026-11-23": tot(market.ALWAYS, "2026-11-23", "0.5", 1, 1, mon(22, 30, 0, 0)),
					"2026-11-24": tot(market.ALWAYS, "2026-11-24", "0", 0, 1, tue(14, 32)),
				},
			},
		},
	}
	for _, s := range steps {
		for _, tr := range s.feed {
			f.trade(t, "*", tr.sym, tr.price, tr.size, tr.at)
		}
		f.intradayAll(t, s.now)
		wantTotals := map[market.Code]SessionVolumeFigures{}
		for code, byLabel := range s.wantMarket {
			for _, v := range byLabel {
				if v.AsOf.Equal(s.now) {
					wantTotals[code] = v
				}
			}
		}
		for run := 1; run <= 2; run++ {
			gotSym, gotMarket, err := f.e.SessionVolume(ctx, s.now)
			if err != nil {
				t.Fatalf("%s: run %d: %v", s.name, run, err)
			}
			if diff := cmp.Diff(s.wantSym, gotSym); diff != "" {
				t.Fatalf("%s: run %d: per-symbol figures (-want +got):\n%s", s.name, run, diff)
			}
			if diff := cmp.Diff(wantTotals, gotMarket); diff != "" {
				t.Fatalf("%s: run %d: market totals (-want +got):\n%s", s.name, run, diff)
			}
			storedSym, storedMarket := sessionVolumeStored(t, f)
			if diff := cmp.Diff(s.wantSym, storedSym); diff != "" {
				t.Fatalf("%s: run %d: stored per-symbol figures (-want +got):\n%s", s.name, run, diff)
			}
			if diff := cmp.Diff(s.wantMarket, storedMarket); diff != "" {
				t.Fatalf("%s: run %d: stored market figures (-want +got):\n%s", s.name, run, diff)
			}
		}
	}
}

// TestSessionVolumeKeepsTheNewestLabels runs SessionVolume in 13
// consecutive NYSE sessions, twice in each: the market hash holds the
// newest sessionVolumeKeep labels, and a repeated run drops none.
func TestSessionVolumeKeepsTheNewestLabels(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	cal, err := market.Lookup(market.XNYS)
	if err != nil {
		t.Fatal(err)
	}
	sessions, err := cal.Sessions(market.NewDate(2026, 11, 2), market.NewDate(2026, 11, 19))
	if err != nil {
		t.Fatal(err)
	}
	if len(sessions) != 14 {
		t.Fatalf("%d sessions between 2026-11-02 and 2026-11-19, want 14", len(sessions))
	}
	var labels []string
	for _, s := range sessions {
		labels = append(labels, s.Date.String())
		for run := 1; run <= 2; run++ {
			if _, _, err := f.e.SessionVolume(ctx, s.Open.Add(time.Minute)); err != nil {
				t.Fatalf("SessionVolume in %s, run %d: %v", s.Date, run, err)
			}
			got := f.rdb.HKeys(ctx, keys.MarketSessionVolume(string(market.XNYS))).Val()
			sort.Strings(got)
			want := labels[max(0, len(labels)-sessionVolumeKeep):]
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("labels kept after run %d in %s (-want +got):\n%s", run, s.Date, diff)
			}
		}
	}
}
