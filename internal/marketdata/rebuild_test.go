package marketdata

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"heartbeat/internal/bars"
	"heartbeat/internal/config"
	"heartbeat/internal/keys"
	"heartbeat/internal/market"
	"heartbeat/internal/testinfra"
)

// rebuildStores are the durable stores the rebuild test runs on; each call
// opens a new, empty one. The memory store tests this package's rebuild;
// files and PostgreSQL test the stores under it, so go test -short (what
// make mutation runs) skips them.
var rebuildStores = []struct {
	name string
	open func(t *testing.T) bars.Store
}{
	{"memory", func(*testing.T) bars.Store { return bars.NewMemory() }},
	{"files", func(t *testing.T) bars.Store {
		if testing.Short() {
			t.Skip("-short: the files store is the bars package's test")
		}
		return openStore(t, config.Store{Dir: t.TempDir()})
	}},
	{"postgres", func(t *testing.T) bars.Store {
		return openStore(t, config.Store{PostgresURL: testinfra.PostgresSchema(t)})
	}},
}

func openStore(t *testing.T, cfg config.Store) bars.Store {
	t.Helper()
	s, err := bars.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open store %+v: %v", cfg, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// nov26 returns an instant of November 2026 in UTC (New York is UTC-5, so
// NYSE trades 14:30-21:00 UTC; CME Globex 23:00 the evening before to 22:00).
func nov26(d, hh, mm, ss int) time.Time {
	return time.Date(2026, time.November, d, hh, mm, ss, 0, time.UTC)
}

// rebuildTrades are three sessions (Thursday, Friday, Monday) and
// Tuesday's first trades, which finish Monday's session. Monday morning
// sets SPY's and ES's 52-week highs and BTCUSD's low, so figures that
// forgot the morning are wrong.
func rebuildTrades() []fed {
	var out []fed
	for _, day := range []int{19, 20, 23} {
		for k := range 12 {
			at := nov26(day, 14, 35, 7).Add(time.Duration(k) * 30 * time.Minute)
			spy, btc, es := 100+day-19+k%4, 50000-k*10, 6000+k
			if day == 23 && k == 1 {
				spy, btc, es = 130, 40000, 6500
			}
			out = append(out,
				fed{"SPY", fmt.Sprint(spy), fmt.Sprint(1 + k), at},
				fed{"QQQ", fmt.Sprintf("%d.25", 400+k), "2", at.Add(3 * time.Second)},
				fed{"ES", fmt.Sprint(es), "1", at.Add(-10 * time.Hour)},
				fed{"ES", fmt.Sprint(es + 1), "2", at.Add(5 * time.Second)},
				fed{"BTCUSD", fmt.Sprint(btc), "0.5", at.Add(-10 * time.Hour)},
				fed{"BTCUSD", fmt.Sprint(btc + 5), "0.25", at.Add(9 * time.Second)},
			)
		}
	}
	tue := nov26(24, 14, 35, 7)
	for _, sym := range []string{"SPY", "QQQ", "ES", "BTCUSD"} {
		out = append(out, fed{sym, "100", "1", tue})
	}
	return out
}

// rebuildRun is one copy of the system: its Redis, durable store and the
// trades not fed yet.
type rebuildRun struct {
	f       fixture
	store   bars.Store
	pending []fed
}

// step feeds the trades before now and runs Intraday and the flush on
// every shard, as the scheduler would.
func (r *rebuildRun) step(t *testing.T, now time.Time) {
	t.Helper()
	ctx := context.Background()
	for len(r.pending) > 0 && r.pending[0].at.Before(now) {
		tr := r.pending[0]
		r.f.trade(t, "*", tr.sym, tr.price, tr.size, tr.at)
		r.pending = r.pending[1:]
	}
	r.f.intradayAll(t, now)
	for s := range r.f.e.set.Shards {
		if _, err := r.f.e.FlushClosedBars(ctx, s, now); err != nil {
			t.Fatalf("flush shard %d at %s: %v", s, now, err)
		}
	}
}

// figures are what the test compares between runs.
type figures struct {
	Week52  map[string]Extremes
	Rolling map[string]Rolling
	Daily   map[string][]Figures
}

func (r *rebuildRun) figures(t *testing.T, now time.Time) figures {
	t.Helper()
	ctx := context.Background()
	out := figures{Week52: map[string]Extremes{}, Rolling: map[string]Rolling{}, Daily: map[string][]Figures{}}
	for s := range r.f.e.set.Shards {
		w, err := r.f.e.Week52Extremes(ctx, s, now)
		if err != nil {
			t.Fatalf("week52 shard %d: %v", s, err)
		}
		for k, v := range w {
			out.Week52[k] = v
		}
		rs, err := r.f.e.TwentyFourHour(ctx, s, now)
		if err != nil {
			t.Fatalf("24h shard %d: %v", s, err)
		}
		for _, v := range rs {
			out.Rolling[v.Symbol] = v
		}
	}
	for _, in := range testInstruments {
		d, err := r.f.e.DailyFigures(ctx, in.Symbol)
		if err != nil {
			t.Fatal(err)
		}
		out.Daily[in.Symbol] = d
	}
	return out
}

// storedDaily returns every daily aggregate in a run's store.
func (r *rebuildRun) storedDaily(t *testing.T) []bars.Daily {
	t.Helper()
	var out []bars.Daily
	for _, in := range testInstruments {
		d, err := r.store.DailyRange(context.Background(), in.Symbol, market.NewDate(2026, 1, 1), market.NewDate(2027, 1, 1))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, d...)
	}
	return out
}

// Restored states know their trades' times only to the minute, so the
// comparison leaves those out; every figure is compared exactly.
var ignoreTradeTimes = cmp.Options{
	cmpopts.IgnoreFields(Figures{}, "FirstTS", "LastTS"),
	cmpopts.IgnoreFields(bars.Daily{}, "FirstTrade", "LastTrade"),
}

func TestRebuildAfterDataLoss(t *testing.T) {
	t.Parallel()
	lossAt := nov26(23, 17, 1, 15) // Monday, mid-session, after the jobs ran
	var instants []time.Time
	for at := nov26(18, 23, 1, 15); at.Before(nov26(24, 16, 0, 0)); at = at.Add(30 * time.Minute) {
		instants = append(instants, at)
	}
	for _, kind := range rebuildStores {
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			newRun := func() *rebuildRun {
				store := kind.open(t)
				return &rebuildRun{f: setup(t, withStoreOf(store)), store: store, pending: sortedFed(rebuildTrades())}
			}
			// ref never loses its data; lost loses it all at lossAt and is
			// rebuilt by a restarted worker; control loses it and is not.
			ref, lost, control := newRun(), newRun(), newRun()
			compared := 0
			for _, now := range instants {
				for _, r := range []*rebuildRun{ref, lost, control} {
					r.step(t, now)
				}
				if now.Equal(lossAt) {
					for _, r := range []*rebuildRun{lost, control} {
						testinfra.Must(t, r.f.rdb.FlushAll(ctx).Err(), "FLUSHALL")
						r.f = setupOn(t, r.f.rdb, testSettings(), withStoreOf(r.store))
					}
					stats, err := lost.f.e.Rebuild(ctx, now)
					testinfra.Must(t, err, "rebuild")
					// Four symbols; Thursday's and Friday's sessions of each;
					// every symbol's state.
					if stats.Symbols != 4 || stats.DailyRows != 8 || stats.States != 4 || stats.MinuteBars == 0 {
						t.Fatalf("rebuild stats %+v, want 4 symbols, 8 daily rows, 4 states and minute bars", stats)
					}
					checkRebuildIdempotent(t, lost.f, now)
					checkPartialRebuild(t, lost.f, now)
					// A Redis that kept its data gets nothing from the store.
					checkRebuildIdempotent(t, ref.f, now)
				}
				if now.Before(lossAt) {
					continue
				}
				want, got := ref.figures(t, now), lost.figures(t, now)
				if diff := cmp.Diff(want, got, ignoreTradeTimes); diff != "" {
					t.Fatalf("at %s, figures after rebuild differ from a run that kept its data (-want +got):\n%s", now, diff)
				}
				if len(want.Week52) != 4 || len(want.Rolling) != 4 {
					t.Fatalf("at %s: %d extremes and %d rolling figures, want 4 of each", now, len(want.Week52), len(want.Rolling))
				}
				if now.Equal(lossAt.Add(30 * time.Minute)) {
					// The test can fail: without the rebuild Monday morning is gone.
					if diff := cmp.Diff(want, control.figures(t, now), ignoreTradeTimes); diff == "" {
						t.Fatalf("at %s, a run that lost its data and was not rebuilt has the same figures", now)
					}
				}
				compared++
			}
			if compared < 40 {
				t.Fatalf("compared %d instants, want the rest of Monday and Tuesday's open", compared)
			}
			// Monday finished on Tuesday: its aggregate reached the store,
			// counting the morning the rebuilt run restored.
			want, got := ref.storedDaily(t), lost.storedDaily(t)
			if len(want) != 12 {
				t.Fatalf("ref stored %d daily aggregates, want 3 sessions of 4 symbols", len(want))
			}
			if diff := cmp.Diff(want, got, ignoreTradeTimes); diff != "" {
				t.Fatalf("stored daily aggregates (-want +got):\n%s", diff)
			}
		})
	}
}

// checkRebuildIdempotent runs Rebuild and checks it changes nothing.
func checkRebuildIdempotent(t *testing.T, f fixture, now time.Time) {
	t.Helper()
	ctx := context.Background()
	before := dump(t, f.rdb)
	stats, err := f.e.Rebuild(ctx, now)
	testinfra.Must(t, err, "rebuild again")
	if stats != (RebuildStats{}) {
		t.Fatalf("a rebuild over complete data restored %+v, want nothing", stats)
	}
	if diff := cmp.Diff(before, dump(t, f.rdb)); diff != "" {
		t.Fatalf("a rebuild over complete data changed Redis (-before +after):\n%s", diff)
	}
}

// checkPartialRebuild drops, from a Redis just rebuilt, a daily-bars hash,
// an hour of minute bars and a state, and checks Rebuild puts back exactly
// what was there.
func checkPartialRebuild(t *testing.T, f fixture, now time.Time) {
	t.Helper()
	ctx := context.Background()
	before := dump(t, f.rdb)

	spy, btc := shardOf(f, "SPY"), shardOf(f, "BTCUSD")
	hour := now.Add(-2*time.Hour).UnixMilli() / hourMS
	state := f.rdb.HGet(ctx, keys.Intraday(btc), "BTCUSD").Val()
	testinfra.Must(t, f.rdb.Del(ctx, keys.DailyBars(spy, "SPY"), keys.MinuteBars(btc, "BTCUSD", hour)).Err(), "drop keys")
	testinfra.Must(t, f.rdb.HDel(ctx, keys.Intraday(btc), "BTCUSD").Err(), "drop state")
	stats, err := f.e.Rebuild(ctx, now)
	testinfra.Must(t, err, "rebuild after a partial loss")
	if stats.Symbols != 2 || stats.DailyRows != 2 || stats.MinuteBars != 2 || stats.States != 1 {
		t.Fatalf("partial rebuild restored %+v, want SPY's 2 daily rows, BTCUSD's 2 minute bars and state", stats)
	}
	if got := f.rdb.HGet(ctx, keys.Intraday(btc), "BTCUSD").Val(); got != state {
		t.Fatalf("restored BTCUSD state\n%s\nwant\n%s", got, state)
	}
	// Only the Intraday checkpoint's revision moved (the state commit).
	after := dump(t, f.rdb)
	before[keys.Checkpoints(btc)], after[keys.Checkpoints(btc)] = "", ""
	if diff := cmp.Diff(before, after); diff != "" {
		t.Fatalf("a partial rebuild differs (-before +after):\n%s", diff)
	}
}

func sortedFed(trades []fed) []fed {
	out := append([]fed(nil), trades...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].at.Before(out[j-1].at); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
