package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"heartbeat/internal/clock"
	"heartbeat/internal/keys"
	"heartbeat/internal/market"
	"heartbeat/internal/marketdata"
	"heartbeat/internal/testinfra"
	"heartbeat/internal/ticks"
)

// fixture: a market-data engine on miniredis (the hub's real source), a
// hub on a fake clock, and a way to commit trades through Intraday.
type fixture struct {
	t     *testing.T
	mini  *miniredis.Miniredis
	rdb   redis.UniversalClient
	eng   *marketdata.Engine
	clk   *clock.Fake
	hub   *Hub
	seq   int
	start time.Time
}

// tue is a Tuesday 15:00 UTC: XNYS is open.
var tue = time.Date(2026, 11, 24, 15, 0, 0, 0, time.UTC)

func newFixture(t *testing.T, cfg Config) *fixture {
	t.Helper()
	mini, rdb := testinfra.Mini(t)
	in, err := market.NewInstruments(nil, []market.Instrument{
		{Symbol: "SPY", Market: market.XNYS, Weight: 1}, {Symbol: "QQQ", Market: market.XNYS, Weight: 1},
		{Symbol: "AAPL", Market: market.XNYS, Weight: 1}, {Symbol: "MSFT", Market: market.XNYS, Weight: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := marketdata.New(marketdata.Settings{Shards: 2, LateWindow: 10 * time.Second, MaxFuture: 5 * time.Second,
		BatchSize: 1000, DeadLetterMaxLen: 100}, marketdata.Deps{Redis: rdb, Instruments: in, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(tue)
	if cfg.Block == 0 {
		cfg.Block = 20 * time.Millisecond // real time: how often an idle read looks at the fake clock again
	}
	hub, err := New(cfg, Deps{Source: eng, Clock: clk, Log: zerolog.Nop(), Render: func(st *marketdata.SymbolState) ([]byte, error) {
		return json.Marshal(map[string]any{"symbol": st.Symbol, "last": st.LastPrice, "ticks": st.Ticks})
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := hub.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := hub.Stop(ctx); err != nil {
			t.Error(err)
		}
	})
	return &fixture{t: t, mini: mini, rdb: rdb, eng: eng, clk: clk, hub: hub, start: tue}
}

// subscribe follows symbols on the fixture's hub; an error fails the test.
func (f *fixture) subscribe(t *testing.T, ctx context.Context, symbols ...string) *Sub {
	t.Helper()
	s, err := f.hub.Subscribe(ctx, symbols)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// commit writes a trade of sym at price and runs Intraday on its shard.
func (f *fixture) commit(sym, price string) {
	f.t.Helper()
	f.seq++
	n := ticks.Shard(sym, 2)
	now := f.clk.Now()
	if err := f.rdb.XAdd(context.Background(), &redis.XAddArgs{Stream: keys.Ticks(n), Values: []string{
		ticks.FieldSymbol, sym, ticks.FieldPrice, price, ticks.FieldSize, "1", ticks.FieldTS, fmt.Sprint(now.UnixMilli())}}).Err(); err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.eng.Intraday(context.Background(), n, now); err != nil {
		f.t.Fatal(err)
	}
}

type fig struct {
	Symbol string `json:"symbol"`
	Last   string `json:"last"`
	Ticks  int64  `json:"ticks"`
}

func decode(t *testing.T, fs []Figure) map[string]fig {
	t.Helper()
	out := map[string]fig{}
	for _, f := range fs {
		var v fig
		if err := json.Unmarshal(f.JSON, &v); err != nil {
			t.Fatal(err)
		}
		if v.Symbol != f.Symbol {
			t.Fatalf("figure of %s carries %s", f.Symbol, v.Symbol)
		}
		out[f.Symbol] = v
	}
	return out
}

// next waits (real time, generously) for the subscription's next figures.
func next(t *testing.T, s *Sub) []Figure {
	t.Helper()
	select {
	case <-s.Ready():
		return s.Take()
	case <-time.After(10 * time.Second):
		t.Fatal("no figure within 10 s")
		return nil
	}
}

// none checks that nothing arrives for a while (it cannot prove that
// nothing ever would, but a figure that should not exist shows up here).
func none(t *testing.T, s *Sub, what string) {
	t.Helper()
	select {
	case <-s.Ready():
		if fs := s.Take(); len(fs) > 0 {
			t.Fatalf("%s: got %+v", what, decode(t, fs))
		}
	case <-time.After(200 * time.Millisecond):
	}
}

func TestSubscribeGetsCurrentThenCommitted(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	f.commit("SPY", "100")
	ctx := context.Background()

	a := f.subscribe(t, ctx, "SPY", "QQQ", "SPY")
	defer a.Close()
	b := f.subscribe(t, ctx, "AAPL")
	defer b.Close()

	// The current figures: SPY's, none for QQQ (no tick yet).
	got := decode(t, next(t, a))
	if len(got) != 1 || got["SPY"].Last != "100" {
		t.Fatalf("first Take = %+v, want SPY at 100 only", got)
	}
	none(t, b, "AAPL has no tick")

	f.clk.Advance(2 * time.Second)
	f.commit("QQQ", "400")
	f.commit("AAPL", "200")
	fs := next(t, a)
	got = decode(t, fs)
	if len(got) != 1 || got["QQQ"].Last != "400" {
		t.Fatalf("after QQQ's commit a got %+v, want QQQ at 400 only", got)
	}
	if fs[0].Committed.IsZero() {
		t.Fatal("a committed figure has no commit time")
	}
	if got := decode(t, next(t, b)); len(got) != 1 || got["AAPL"].Last != "200" {
		t.Fatalf("b got %+v, want AAPL at 200 only", got)
	}
	f.commit("MSFT", "300")
	none(t, a, "nobody follows MSFT")
	none(t, b, "nobody follows MSFT")
}

// A symbol is published at most once per period of the clock; changes
// inside one are folded into one figure at the start of the next, with the
// newest state and the earliest commit time; a change in a later period
// goes out at once, however soon after the last figure.
func TestAtMostOncePerPeriod(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{Period: time.Second})
	s := f.subscribe(t, context.Background(), "SPY")
	defer s.Close()
	none(t, s, "SPY has no tick")
	f.commit("SPY", "100")
	first := next(t, s)
	if got := decode(t, first); got["SPY"].Last != "100" {
		t.Fatalf("first figure %+v", got)
	}

	f.clk.Advance(300 * time.Millisecond)
	f.commit("SPY", "101")
	f.clk.Advance(300 * time.Millisecond)
	f.commit("SPY", "102")
	none(t, s, "two commits 0.3 and 0.6 s after a figure, in its period")

	f.clk.Advance(400 * time.Millisecond) // the next period
	fs := next(t, s)
	got := decode(t, fs)
	if len(fs) != 1 || got["SPY"].Last != "102" || got["SPY"].Ticks != 3 {
		t.Fatalf("the deferred figure = %+v, want one SPY figure at 102 after 3 ticks", got)
	}
	if want := tue.Add(300 * time.Millisecond); fs[0].Committed.Before(want.Add(-time.Second)) {
		t.Fatalf("deferred figure's commit time %s; want the first folded commit's (Redis time)", fs[0].Committed)
	}
	none(t, s, "nothing changed since")

	// 15:00:02.900: a change late in a period goes out at once; one at
	// 15:00:03.050, in the next period, too (150 ms after the figure).
	f.clk.Advance(1900 * time.Millisecond)
	f.commit("SPY", "103")
	if got := decode(t, next(t, s)); got["SPY"].Last != "103" {
		t.Fatalf("a change in a new period: %+v", got)
	}
	f.clk.Advance(150 * time.Millisecond)
	f.commit("SPY", "104")
	if got := decode(t, next(t, s)); got["SPY"].Last != "104" {
		t.Fatalf("a change in the period after: %+v", got)
	}
}

func TestCloseIdlesTheShard(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	ctx := context.Background()
	s := f.subscribe(t, ctx, "SPY", "QQQ")
	if got := f.hub.Subscribers(); got[0]+got[1] != 2 {
		t.Fatalf("subscribers %v, want one on each of SPY's and QQQ's shards", got)
	}
	s.Close()
	s.Close()
	if got := f.hub.Subscribers(); got[0]+got[1] != 0 {
		t.Fatalf("subscribers after Close %v, want none", got)
	}
	// A new subscription gets a commit made while nobody followed as the
	// current figure. A reader that had not yet gone idle may deliver the
	// same commit's figure again: never an older one.
	f.commit("SPY", "100")
	s2 := f.subscribe(t, ctx, "SPY")
	defer s2.Close()
	if got := decode(t, next(t, s2)); got["SPY"].Last != "100" {
		t.Fatalf("current figure %+v", got)
	}
	select {
	case <-s2.Ready():
		if got := decode(t, s2.Take()); len(got) > 0 && (got["SPY"].Last != "100" || got["SPY"].Ticks != 1) {
			t.Fatalf("after the current figure: %+v, want at most the same figure again", got)
		}
	case <-time.After(200 * time.Millisecond):
	}
}

func TestSubscribeRefuses(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{MaxSymbols: 2})
	ctx := context.Background()
	if _, err := f.hub.Subscribe(ctx, []string{"SPY", "QQQ", "AAPL"}); !errors.Is(err, ErrTooManySymbols) {
		t.Fatalf("three symbols with MaxSymbols 2: %v", err)
	}
	if _, err := f.hub.Subscribe(ctx, []string{"SPY", "NOPE"}); !errors.Is(err, marketdata.ErrUnknownSymbol) {
		t.Fatalf("unknown symbol: %v", err)
	}
	if _, err := f.hub.Subscribe(ctx, nil); err == nil {
		t.Fatal("no symbol accepted")
	}
	if got := f.hub.Subscribers(); got[0]+got[1] != 0 {
		t.Fatalf("a refused subscription stayed registered: %v", got)
	}
}

// A Redis that stops answering is retried after Config.Block; the
// subscription gets the figures once it answers again.
func TestReadFailureRetries(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{Block: time.Second})
	s := f.subscribe(t, context.Background(), "SPY")
	defer s.Close()
	f.mini.SetError("LOADING Redis is loading the dataset in memory")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.clk.WaitForSleepers(ctx, 1); err != nil {
		t.Fatalf("the reader did not back off after a failed read: %v", err)
	}
	f.mini.SetError("")
	f.commit("SPY", "100")
	none(t, s, "while the reader backs off")
	f.clk.Advance(time.Second)
	if got := decode(t, next(t, s)); got["SPY"].Last != "100" {
		t.Fatalf("figure after the retry %+v", got)
	}
}

// A subscription whose registration fails leaves nothing registered: the
// shards stay idle, and the next subscription gets its figures.
func TestSubscribeFailureLeavesNoRegistration(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	ctx := context.Background()
	f.mini.SetError("LOADING Redis is loading the dataset in memory")
	if _, err := f.hub.Subscribe(ctx, []string{"SPY", "QQQ"}); err == nil {
		t.Fatal("Subscribe succeeded with Redis failing")
	}
	f.mini.SetError("")
	if got := f.hub.Subscribers(); got[0] != 0 || got[1] != 0 {
		t.Fatalf("after a failed Subscribe the shards count %v subscriptions, want none", got)
	}
	s := f.subscribe(t, ctx, "SPY")
	defer s.Close()
	f.commit("SPY", "100")
	if got := decode(t, next(t, s)); got["SPY"].Last != "100" {
		t.Fatalf("figure after a failed Subscribe: %+v", got)
	}
}

// An updates entry no commit wrote is skipped, and the figures after it
// still come.
func TestMalformedUpdateIsSkipped(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	s := f.subscribe(t, context.Background(), "SPY")
	defer s.Close()
	n := ticks.Shard("SPY", 2)
	if err := f.rdb.XAdd(context.Background(), &redis.XAddArgs{Stream: keys.Updates(n), Values: []string{"symbols", "not json"}}).Err(); err != nil {
		t.Fatal(err)
	}
	f.commit("SPY", "100")
	if got := decode(t, next(t, s)); got["SPY"].Last != "100" {
		t.Fatalf("figure after a malformed entry: %+v", got)
	}
}

// A replica nobody follows sends Redis nothing for the live figures.
func TestIdleHubSendsNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	s := f.subscribe(t, context.Background(), "SPY")
	s.Close()
	// The read in flight (Block 20 ms) ends; then a reader that kept
	// reading would send a command every 20 ms. Wait (on a loaded machine,
	// up to 10 s) for 300 ms without any.
	deadline := time.Now().Add(10 * time.Second)
	for before := f.mini.CommandCount(); ; {
		time.Sleep(300 * time.Millisecond)
		after := f.mini.CommandCount()
		if after == before {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("with no subscription the hub still sends commands (%d in the last 300 ms)", after-before)
		}
		before = after
	}
}
