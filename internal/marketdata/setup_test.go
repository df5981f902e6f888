package marketdata

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"heartbeat/internal/bars"
	"heartbeat/internal/config"
	"heartbeat/internal/keys"
	"heartbeat/internal/market"
	"heartbeat/internal/testinfra"
	"heartbeat/internal/ticks"
)

// fixture is what most tests need: an engine on its own Redis, and the
// in-memory durable store when the test asked for one (withStore).
type fixture struct {
	e     *Engine
	rdb   redis.UniversalClient
	store *bars.Memory
}

// option changes how setup builds a fixture.
type option func(*Deps)

// withStore gives the engine an empty in-memory durable bar store (the
// fixture's store), for the flush and the backtest.
func withStore() option {
	return func(d *Deps) { d.Store = bars.NewMemory() }
}

// withStoreOf gives the engine the given durable store.
func withStoreOf(s bars.Store) option {
	return func(d *Deps) { d.Store = s }
}

var testInstruments = []market.Instrument{
	{Symbol: "SPY", Market: market.XNYS, Weight: 1},
	{Symbol: "QQQ", Market: market.XNYS, Weight: 3},
	{Symbol: "ES", Market: market.CMES, Weight: 1},
	{Symbol: "BTCUSD", Market: market.ALWAYS, Weight: 1},
}

func testSettings() Settings {
	target, _ := config.ParseDistance("1%")
	stop, _ := config.ParseDistance("0.5%")
	return Settings{Shards: 2, LateWindow: 10 * time.Second, MaxFuture: 5 * time.Second, BatchSize: 1000,
		DeadLetterMaxLen: 1000, VwapKeepDays: 2, BacktestSessions: 5, BacktestTarget: target, BacktestStop: stop}
}

// setup returns an engine on a fresh miniredis.
func setup(t testing.TB, opts ...option) fixture {
	t.Helper()
	_, rdb := testinfra.Mini(t)
	return setupOn(t, rdb, testSettings(), opts...)
}

func setupOn(t testing.TB, rdb redis.UniversalClient, set Settings, opts ...option) fixture {
	t.Helper()
	in, err := market.NewInstruments(nil, testInstruments)
	if err != nil {
		t.Fatal(err)
	}
	deps := Deps{Redis: rdb, Instruments: in, Log: zerolog.Nop()}
	for _, o := range opts {
		o(&deps)
	}
	e, err := New(set, deps)
	if err != nil {
		t.Fatal(err)
	}
	f := fixture{e: e, rdb: rdb}
	if m, ok := deps.Store.(*bars.Memory); ok {
		f.store = m
	}
	return f
}

// add writes one raw stream entry (field, value pairs) with an explicit ID
// to the shard of its symbol, so two fixtures fed the same entries have the
// same stream IDs.
func (f fixture) add(t testing.TB, id string, fields ...string) {
	t.Helper()
	sym := ""
	for i := 0; i+1 < len(fields); i += 2 {
		if fields[i] == ticks.FieldSymbol {
			sym = fields[i+1]
		}
	}
	n := ticks.Shard(sym, f.e.set.Shards)
	if err := f.rdb.XAdd(context.Background(), &redis.XAddArgs{Stream: keys.Ticks(n), ID: id, Values: fields}).Err(); err != nil {
		t.Fatalf("XADD %s: %v", id, err)
	}
}

// trade writes a well-formed trade.
func (f fixture) trade(t testing.TB, id, sym, price, size string, at time.Time) {
	t.Helper()
	f.add(t, id, ticks.FieldSymbol, sym, ticks.FieldPrice, price, ticks.FieldSize, size,
		ticks.FieldTS, fmt.Sprint(at.UnixMilli()))
}

// intradayAll runs Intraday on every shard at now.
func (f fixture) intradayAll(t testing.TB, now time.Time) {
	t.Helper()
	for s := 0; s < f.e.set.Shards; s++ {
		if _, err := f.e.Intraday(context.Background(), s, now); err != nil {
			t.Fatalf("Intraday shard %d at %s: %v", s, now, err)
		}
	}
}

// state returns a symbol's intraday state.
func (f fixture) state(t testing.TB, sym string) SymbolState {
	t.Helper()
	st, ok, err := f.e.State(context.Background(), sym)
	if err != nil || !ok {
		t.Fatalf("state of %s: ok=%v err=%v", sym, ok, err)
	}
	return st
}

// dump returns every key's content in a comparable form. Stream entry IDs
// the server generated are left out (two runs never share them); the
// entries' fields and order are kept.
func dump(t testing.TB, rdb redis.UniversalClient) map[string]string {
	t.Helper()
	ctx := context.Background()
	all, err := rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, k := range all {
		typ := rdb.Type(ctx, k).Val()
		var v string
		switch typ {
		case "string":
			v = rdb.Get(ctx, k).Val()
		case "hash":
			h := rdb.HGetAll(ctx, k).Val()
			v = sortedPairs(h)
		case "zset":
			z := rdb.ZRangeWithScores(ctx, k, 0, -1).Val()
			var b strings.Builder
			for _, m := range z {
				fmt.Fprintf(&b, "%v=%v;", m.Score, m.Member)
			}
			v = b.String()
		case "stream":
			msgs := rdb.XRange(ctx, k, "-", "+").Val()
			var b strings.Builder
			for _, m := range msgs {
				h := map[string]string{}
				for fk, fv := range m.Values {
					h[fk] = fmt.Sprint(fv)
				}
				if strings.HasSuffix(k, ":ticks") {
					b.WriteString(m.ID + ":")
				}
				b.WriteString(sortedPairs(h) + "\n")
			}
			v = b.String()
		default:
			v = "type " + typ
		}
		out[k] = v
	}
	return out
}

// storedBars returns every bar of the test instruments in the fixture's
// store, by symbol then start.
func (f fixture) storedBars(t testing.TB) []bars.Bar {
	t.Helper()
	var out []bars.Bar
	for _, in := range testInstruments {
		bs, err := f.store.Range(context.Background(), in.Symbol, time.Time{}, time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatalf("store range %s: %v", in.Symbol, err)
		}
		out = append(out, bs...)
	}
	return out
}

// dumpAll is dump plus, under "store:SYMBOL" keys, the bars in the
// fixture's store.
func dumpAll(t testing.TB, f fixture) map[string]string {
	t.Helper()
	out := dump(t, f.rdb)
	if f.store == nil {
		return out
	}
	for _, b := range f.storedBars(t) {
		out["store:"+b.Symbol] += fmt.Sprintf("%s %s o=%s h=%s l=%s c=%s v=%s n=%s t=%d rev=%d\n",
			b.Market, b.Start.UTC().Format(time.RFC3339), b.Open, b.High, b.Low, b.Close, b.Volume, b.Notional, b.Trades, b.Revision)
	}
	for _, in := range testInstruments {
		days, err := f.store.DailyRange(context.Background(), in.Symbol, market.NewDate(2000, 1, 1), market.NewDate(2100, 1, 1))
		if err != nil {
			t.Fatalf("store daily range %s: %v", in.Symbol, err)
		}
		for _, d := range days {
			out["store_daily:"+d.Symbol] += fmt.Sprintf("%+v\n", d)
		}
	}
	return out
}

func sortedPairs(h map[string]string) string {
	ks := make([]string, 0, len(h))
	for k := range h {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	var b strings.Builder
	for _, k := range ks {
		b.WriteString(k + "=" + h[k] + ";")
	}
	return b.String()
}

// mon is Monday 2026-11-23, a regular NYSE day (14:30-21:00 UTC).
func mon(hh, mm, ss, ms int) time.Time {
	return time.Date(2026, 11, 23, hh, mm, ss, ms*int(time.Millisecond), time.UTC)
}
