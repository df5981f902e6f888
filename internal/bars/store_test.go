package bars_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.uber.org/goleak"

	"heartbeat/internal/bars"
	"heartbeat/internal/config"
	"heartbeat/internal/decimal"
	"heartbeat/internal/market"
	"heartbeat/internal/testinfra"
)

// TestMain checks that closing a store stops every goroutine it started
// (the PostgreSQL pool's).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// storeKinds are the stores TestStores and BenchmarkUpsert run against,
// each opened the way the commands open it.
var storeKinds = []struct {
	name string
	open func(t testing.TB) bars.Store
}{
	{"memory", func(testing.TB) bars.Store { return bars.NewMemory() }},
	{"files", func(t testing.TB) bars.Store { return open(t, config.Store{Dir: t.TempDir()}) }},
	{"postgres", func(t testing.TB) bars.Store { return open(t, config.Store{PostgresURL: testinfra.PostgresSchema(t)}) }},
}

func open(t testing.TB, cfg config.Store) bars.Store {
	t.Helper()
	s, err := bars.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open %+v: %v", cfg, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

// utc returns a whole minute in UTC.
func utc(y int, mo time.Month, d, h, mi int) time.Time {
	return time.Date(y, mo, d, h, mi, 0, 0, time.UTC)
}

// t0 is a Monday, 10:30 in New York.
var t0 = utc(2026, time.March, 9, 14, 30)

// mkBar returns a bar whose values follow from rev, so two revisions of a
// bar differ.
func mkBar(symbol string, mkt market.Code, start time.Time, rev int) bars.Bar {
	p := decimal.FromInt(100) + decimal.Dec(rev)
	v := decimal.FromInt(int64(rev))
	return bars.Bar{
		Symbol: symbol, Market: string(mkt), Start: start,
		Open: p, High: p + 2, Low: p - 1, Close: p + 1, Volume: v,
		Trades: int64(rev), Notional: decimal.Mul(p, v), Revision: rev,
	}
}

// withClose returns b with another close, for same-revision amendments.
func withClose(b bars.Bar, close string) bars.Bar {
	b.Close = decimal.MustParse(close)
	return b
}

// withTrades returns b with another trade count and revision: a bar
// recomputed from another set of ticks.
func withTrades(b bars.Bar, trades int64, rev int) bars.Bar {
	b.Trades, b.Revision = trades, rev
	return b
}

// minutes returns n consecutive bars of symbol from start, revision 1.
func minutes(symbol string, mkt market.Code, start time.Time, n int) []bars.Bar {
	out := make([]bars.Bar, n)
	for i := range out {
		out[i] = mkBar(symbol, mkt, start.Add(time.Duration(i)*time.Minute), 1)
	}
	return out
}

type query struct {
	symbol   string
	from, to time.Time
	want     []bars.Bar
}

// extreme holds the values that must survive every store exactly.
var extreme = []bars.Bar{
	{
		Symbol: "SPY", Market: "XNYS", Start: t0,
		Open: decimal.MustParse("0.00000001"), High: decimal.MustParse("92233720367.5"),
		Low: decimal.MustParse("-37.63"), Close: decimal.Dec(math.MaxInt64), Volume: decimal.Dec(-math.MaxInt64),
		Trades: math.MaxInt64, Notional: decimal.Notional{Hi: 1, Lo: 5}, Revision: 1,
	},
	{
		Symbol: "SPY", Market: "XNYS", Start: t0.Add(time.Minute),
		Notional: decimal.Notional{Hi: math.MaxUint64, Lo: math.MaxUint64}, Revision: math.MaxInt32,
	},
	{
		Symbol: `BRK "B", class`, Market: "XNYS", Start: t0,
		Open: decimal.MustParse("0.1"), Notional: decimal.Notional{Lo: math.MaxUint64}, Revision: 0,
	},
}

// Tokyo midnight is 15:00 UTC; Chicago's on the Sunday DST starts is 05:00
// UTC, and CME Globex opens that Sunday at 17:00 CDT, 22:00 UTC.
var (
	tokyoMidnight   = utc(2026, time.March, 9, 15, 0)
	globexOpen      = utc(2026, time.March, 8, 22, 0)
	chicagoMidnight = utc(2026, time.March, 9, 5, 0)
)

var storeCases = []struct {
	name    string
	batches [][]bars.Bar // upserted in order
	wantErr error        // from the last batch; earlier ones must succeed
	queries []query
}{
	{
		name:    "round trip is exact",
		batches: [][]bars.Bar{extreme},
		queries: []query{
			{"SPY", t0, t0.Add(time.Hour), extreme[:2]},
			{extreme[2].Symbol, t0, t0.Add(time.Hour), extreme[2:]},
		},
	},
	{
		name: "revision guard: older ignored, equal and newer replace",
		batches: [][]bars.Bar{
			{mkBar("A", market.XNYS, t0, 2), mkBar("B", market.XNYS, t0, 2), mkBar("C", market.XNYS, t0, 1)},
			{mkBar("A", market.XNYS, t0, 1), withClose(mkBar("B", market.XNYS, t0, 2), "7"), mkBar("C", market.XNYS, t0, 3)},
		},
		queries: []query{
			{"A", t0, t0.Add(time.Minute), []bars.Bar{mkBar("A", market.XNYS, t0, 2)}},
			{"B", t0, t0.Add(time.Minute), []bars.Bar{withClose(mkBar("B", market.XNYS, t0, 2), "7")}},
			{"C", t0, t0.Add(time.Minute), []bars.Bar{mkBar("C", market.XNYS, t0, 3)}},
		},
	},
	{
		// After a failover rolled Redis back and lost some of a minute's
		// ticks, Intraday recomputes the minute from fewer ticks with the
		// same revision, or a higher one once a late tick amends it: the
		// more complete bar stored stays. More trades win even at a lower
		// revision (the minute's ticks written again, recomputed whole).
		name: "a bar recomputed from fewer ticks never replaces a more complete one",
		batches: [][]bars.Bar{
			{withTrades(mkBar("A", market.XNYS, t0, 1), 10, 1), withTrades(mkBar("B", market.XNYS, t0, 1), 10, 1),
				withTrades(mkBar("C", market.XNYS, t0, 2), 10, 2)},
			{withTrades(mkBar("A", market.XNYS, t0, 1), 7, 1), withTrades(mkBar("B", market.XNYS, t0, 2), 8, 2),
				withTrades(mkBar("C", market.XNYS, t0, 1), 11, 1)},
		},
		queries: []query{
			{"A", t0, t0.Add(time.Minute), []bars.Bar{withTrades(mkBar("A", market.XNYS, t0, 1), 10, 1)}},
			{"B", t0, t0.Add(time.Minute), []bars.Bar{withTrades(mkBar("B", market.XNYS, t0, 1), 10, 1)}},
			{"C", t0, t0.Add(time.Minute), []bars.Bar{withTrades(mkBar("C", market.XNYS, t0, 1), 11, 1)}},
		},
	},
	{
		name: "repeating flushes changes nothing",
		batches: [][]bars.Bar{
			{mkBar("A", market.XNYS, t0, 1), mkBar("A", market.XNYS, t0.Add(time.Minute), 1)},
			{mkBar("A", market.XNYS, t0, 2)},
			{mkBar("A", market.XNYS, t0, 1), mkBar("A", market.XNYS, t0.Add(time.Minute), 1)},
			{mkBar("A", market.XNYS, t0, 2)},
		},
		queries: []query{{"A", t0, t0.Add(time.Hour), []bars.Bar{
			mkBar("A", market.XNYS, t0, 2), mkBar("A", market.XNYS, t0.Add(time.Minute), 1),
		}}},
	},
	{
		name: "duplicate keys in one batch keep the highest revision, the later on a tie",
		batches: [][]bars.Bar{{
			mkBar("A", market.XNYS, t0, 1), mkBar("A", market.XNYS, t0, 3), mkBar("A", market.XNYS, t0, 2),
			withClose(mkBar("B", market.XNYS, t0, 2), "1"), withClose(mkBar("B", market.XNYS, t0, 2), "2"),
		}},
		queries: []query{
			{"A", t0, t0.Add(time.Minute), []bars.Bar{mkBar("A", market.XNYS, t0, 3)}},
			{"B", t0, t0.Add(time.Minute), []bars.Bar{withClose(mkBar("B", market.XNYS, t0, 2), "2")}},
		},
	},
	{
		name:    "range is half-open and ordered by start",
		batches: [][]bars.Bar{reversed(minutes("A", market.XNYS, t0, 5))},
		queries: []query{
			{"A", t0.Add(time.Minute), t0.Add(3 * time.Minute), minutes("A", market.XNYS, t0.Add(time.Minute), 2)},
			{"A", t0.Add(4 * time.Minute), t0.Add(4*time.Minute + time.Nanosecond), minutes("A", market.XNYS, t0.Add(4*time.Minute), 1)},
			{"A", t0.Add(-30 * time.Second), t0.Add(30 * time.Second), minutes("A", market.XNYS, t0, 1)},
			{"A", t0.Add(3*time.Minute + time.Nanosecond), t0.Add(time.Hour), minutes("A", market.XNYS, t0.Add(4*time.Minute), 1)},
			{"A", time.Time{}, t0.AddDate(100, 0, 0), minutes("A", market.XNYS, t0, 5)},
		},
	},
	{
		name:    "empty ranges",
		batches: [][]bars.Bar{minutes("A", market.XNYS, t0, 5)},
		queries: []query{
			{"A", t0, t0, nil},
			{"A", t0.Add(time.Minute), t0, nil},
			{"A", t0.AddDate(0, 0, -3), t0, nil},
			{"A", t0.Add(5 * time.Minute), t0.AddDate(0, 0, 3), nil},
			{"NOPE", t0, t0.Add(time.Hour), nil},
		},
	},
	{
		name: "symbols and markets stay apart",
		batches: [][]bars.Bar{slices.Concat(
			minutes("SPY", market.XNYS, t0, 3), minutes("VOD.L", market.XLON, t0, 3),
			minutes("7203.T", market.XTKS, t0, 3), minutes("ES", market.CMES, t0, 3),
			minutes("BTCUSD", market.ALWAYS, t0, 3), minutes("0700.HK", market.XHKG, t0, 3),
		)},
		queries: []query{
			{"SPY", t0, t0.Add(time.Hour), minutes("SPY", market.XNYS, t0, 3)},
			{"VOD.L", t0, t0.Add(time.Hour), minutes("VOD.L", market.XLON, t0, 3)},
			{"7203.T", t0, t0.Add(time.Hour), minutes("7203.T", market.XTKS, t0, 3)},
			{"ES", t0, t0.Add(time.Hour), minutes("ES", market.CMES, t0, 3)},
			{"BTCUSD", t0, t0.Add(time.Hour), minutes("BTCUSD", market.ALWAYS, t0, 3)},
			{"0700.HK", t0, t0.Add(time.Hour), minutes("0700.HK", market.XHKG, t0, 3)},
		},
	},
	{
		name:    "XTKS days end at Tokyo midnight",
		batches: [][]bars.Bar{minutes("7203.T", market.XTKS, tokyoMidnight.Add(-2*time.Minute), 4)},
		queries: []query{
			{"7203.T", tokyoMidnight.Add(-time.Hour), tokyoMidnight.Add(time.Hour), minutes("7203.T", market.XTKS, tokyoMidnight.Add(-2*time.Minute), 4)},
			{"7203.T", tokyoMidnight, tokyoMidnight.Add(time.Hour), minutes("7203.T", market.XTKS, tokyoMidnight, 2)},
			{"7203.T", tokyoMidnight.Add(-time.Hour), tokyoMidnight, minutes("7203.T", market.XTKS, tokyoMidnight.Add(-2*time.Minute), 2)},
			{"7203.T", tokyoMidnight.Add(-time.Minute), tokyoMidnight.Add(time.Minute), minutes("7203.T", market.XTKS, tokyoMidnight.Add(-time.Minute), 2)},
		},
	},
	{
		name: "CMES days are Chicago days, across the DST Sunday",
		batches: [][]bars.Bar{slices.Concat(
			minutes("ES", market.CMES, utc(2026, time.March, 1, 23, 0), 2), // 17:00 CST, a week earlier
			minutes("ES", market.CMES, globexOpen, 2),
			minutes("ES", market.CMES, chicagoMidnight.Add(-time.Minute), 2),
		)},
		queries: []query{
			{"ES", globexOpen, chicagoMidnight.Add(time.Hour), slices.Concat(
				minutes("ES", market.CMES, globexOpen, 2), minutes("ES", market.CMES, chicagoMidnight.Add(-time.Minute), 2))},
			{"ES", chicagoMidnight, chicagoMidnight.Add(time.Hour), minutes("ES", market.CMES, chicagoMidnight, 1)},
			{"ES", utc(2026, time.March, 1, 0, 0), globexOpen, minutes("ES", market.CMES, utc(2026, time.March, 1, 23, 0), 2)},
		},
	},
	{
		name:    "a batch larger than one statement",
		batches: [][]bars.Bar{minutes("BTCUSD", market.ALWAYS, t0, 12_345)},
		queries: []query{{"BTCUSD", t0, t0.AddDate(0, 0, 10), minutes("BTCUSD", market.ALWAYS, t0, 12_345)}},
	},
	{
		name:    "a market code that cannot name a file rejects the whole batch",
		batches: [][]bars.Bar{{mkBar("A", market.XNYS, t0, 1), mkBar("B", "../x", t0, 1)}},
		wantErr: bars.ErrInvalidBar,
		queries: []query{{"A", t0, t0.Add(time.Hour), nil}},
	},
	{
		name:    "a start off the minute is invalid",
		batches: [][]bars.Bar{{mkBar("A", market.XNYS, t0.Add(time.Second), 1)}},
		wantErr: bars.ErrInvalidBar,
	},
	{
		name:    "an empty symbol is invalid",
		batches: [][]bars.Bar{{mkBar("", market.XNYS, t0, 1)}},
		wantErr: bars.ErrInvalidBar,
	},
	{
		name:    "an empty batch does nothing",
		batches: [][]bars.Bar{nil, {}},
		queries: []query{{"A", time.Time{}, t0.AddDate(100, 0, 0), nil}},
	},
}

func reversed(b []bars.Bar) []bars.Bar {
	b = slices.Clone(b)
	slices.Reverse(b)
	return b
}

func TestStores(t *testing.T) {
	t.Parallel()
	for _, kind := range storeKinds {
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range storeCases {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					ctx := context.Background()
					s := kind.open(t)
					for i, batch := range tc.batches {
						err := s.Upsert(ctx, batch)
						if i == len(tc.batches)-1 && tc.wantErr != nil {
							if !errors.Is(err, tc.wantErr) {
								t.Fatalf("upsert batch %d: err = %v, want %v", i, err, tc.wantErr)
							}
							continue
						}
						if err != nil {
							t.Fatalf("upsert batch %d: %v", i, err)
						}
					}
					for _, q := range tc.queries {
						checkRange(t, s, q)
					}
				})
			}
			t.Run("concurrent upserts keep the highest revision", func(t *testing.T) {
				t.Parallel()
				testConcurrent(t, kind.open(t))
			})
		})
	}
}

// TestStoresKeepLowPricedVWAP stores bars of instruments trading far below
// 1 and checks the VWAP of each bar read back keeps its 10 significant
// digits: the stores hold the exact notional, so the VWAP read back is the
// VWAP written.
func TestStoresKeepLowPricedVWAP(t *testing.T) {
	t.Parallel()
	type lowPriced struct {
		bar  bars.Bar
		want string // its VWAP
	}
	bar := func(symbol string, trades [][2]string, want string) lowPriced {
		b := bars.Bar{Symbol: symbol, Market: string(market.ALWAYS), Start: t0, Revision: 1}
		for i, tr := range trades {
			p, q := decimal.MustParse(tr[0]), decimal.MustParse(tr[1])
			if i == 0 {
				b.Open, b.High, b.Low = p, p, p
			}
			b.High, b.Low, b.Close = max(b.High, p), min(b.Low, p), p
			b.Volume += q
			b.Notional = b.Notional.Add(decimal.Mul(p, q))
			b.Trades++
		}
		return lowPriced{b, want}
	}
	cases := []lowPriced{
		bar("SHIBUSD", [][2]string{{"0.00001234", "127"}, {"0.00001235", "1"}}, "0.00001234007812"),        // 0.000012340078125
		bar("ETHBTC", [][2]string{{"0.0014", "1"}, {"0.00140001", "2"}}, "0.001400006667"),                 // 0.00140000666...
		bar("TINY", [][2]string{{"0.00000001", "0.00000001"}, {"0.00000002", "3"}}, "0.00000001999999997"), // 0.0000000199999999666…: 17 places
	}
	for _, kind := range storeKinds {
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := kind.open(t)
			for _, c := range cases {
				if err := s.Upsert(ctx, []bars.Bar{c.bar}); err != nil {
					t.Fatal(err)
				}
				got, err := s.Range(ctx, c.bar.Symbol, t0, t0.Add(time.Minute))
				if err != nil || len(got) != 1 {
					t.Fatalf("Range(%s): %+v, %v", c.bar.Symbol, got, err)
				}
				if v := got[0].VWAP(); v != c.want || c.bar.VWAP() != c.want {
					t.Fatalf("%s: VWAP written %s, read back %s, want %s", c.bar.Symbol, c.bar.VWAP(), v, c.want)
				}
			}
		})
	}
}

func checkRange(t *testing.T, s bars.Store, q query) {
	t.Helper()
	got, err := s.Range(context.Background(), q.symbol, q.from, q.to)
	if err != nil {
		t.Fatalf("Range(%q, %s, %s): %v", q.symbol, q.from, q.to, err)
	}
	if diff := cmp.Diff(q.want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("Range(%q, %s, %s) mismatch (-want +got):\n%s", q.symbol, q.from, q.to, diff)
	}
	for _, b := range got {
		if b.Start.Location() != time.UTC {
			t.Fatalf("Range(%q): start %s is not in UTC", q.symbol, b.Start)
		}
	}
}

// testConcurrent has writers upsert revisions 1..writers of the same bars,
// each several times, while readers check every Range is ordered and
// duplicate-free; in the end every bar has the highest revision.
func testConcurrent(t *testing.T, s bars.Store) {
	const writers, rounds = 8, 3
	ctx := context.Background()
	symbols := []struct {
		symbol string
		market market.Code
	}{{"7203.T", market.XTKS}, {"6758.T", market.XTKS}, {"ES", market.CMES}, {"SPY", market.XNYS}}
	from := tokyoMidnight.Add(-10 * time.Minute)
	batch := func(rev int) []bars.Bar {
		var out []bars.Bar
		for _, sym := range symbols {
			for i := range 20 {
				out = append(out, mkBar(sym.symbol, sym.market, from.Add(time.Duration(i)*time.Minute), rev))
			}
		}
		return out
	}

	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for range rounds {
				if err := s.Upsert(ctx, batch(w+1)); err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
			}
		})
		wg.Go(func() {
			got, err := s.Range(ctx, symbols[w%len(symbols)].symbol, from, from.Add(time.Hour))
			if err != nil {
				t.Errorf("reader %d: %v", w, err)
				return
			}
			for i := 1; i < len(got); i++ {
				if !got[i-1].Start.Before(got[i].Start) {
					t.Errorf("reader %d: starts out of order or repeated: %s then %s", w, got[i-1].Start, got[i].Start)
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	want := batch(writers)
	for i, sym := range symbols {
		checkRange(t, s, query{sym.symbol, from, from.Add(time.Hour), want[i*20 : (i+1)*20]})
	}
}

func BenchmarkUpsert(b *testing.B) {
	const symbols, perSymbol = 10, 100
	for _, kind := range storeKinds {
		b.Run(kind.name, func(b *testing.B) {
			s := kind.open(b)
			ctx := context.Background()
			var batch []bars.Bar
			for i := range symbols {
				batch = append(batch, minutes(fmt.Sprintf("SYM%d", i), market.XNYS, t0, perSymbol)...)
			}
			b.ReportAllocs()
			rev := 0
			for b.Loop() {
				// A new revision each time, so every bar is really rewritten.
				rev++
				for i := range batch {
					batch[i].Revision = rev
				}
				if err := s.Upsert(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(batch)*b.N)/b.Elapsed().Seconds(), "bars/s")
		})
	}
}
