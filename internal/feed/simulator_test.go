package feed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"heartbeat/internal/clock"
	"heartbeat/internal/config"
	"heartbeat/internal/decimal"
	"heartbeat/internal/keys"
	"heartbeat/internal/market"
	"heartbeat/internal/testinfra"
	"heartbeat/internal/ticks"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Instants the tests start at. 2026-03-07 is a Saturday; US DST starts on
// Sunday 2026-03-08, so Monday's XNYS open is 13:30 UTC.
var (
	saturday = time.Date(2026, 3, 7, 15, 0, 0, 0, time.UTC)
	tuesday  = time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC) // 11:00 in New York
)

// recorder is a TickWriter that keeps what it is given; fail, when set,
// decides whether each call fails.
type recorder struct {
	mu    sync.Mutex
	ticks []ticks.Tick
	calls int
	fail  func(call int) error
}

func (r *recorder) Write(_ context.Context, batch []ticks.Tick) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.fail != nil {
		if err := r.fail(r.calls); err != nil {
			return err
		}
	}
	r.ticks = append(r.ticks, batch...)
	return nil
}

func (r *recorder) got() []ticks.Tick {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]ticks.Tick(nil), r.ticks...)
}

// instruments returns the default instruments named (all when none).
func instruments(t testing.TB, symbols ...string) []*market.Instrument {
	t.Helper()
	ins, err := config.Default().MarketInstruments()
	if err != nil {
		t.Fatal(err)
	}
	if len(symbols) == 0 {
		symbols = ins.Symbols()
	}
	var out []*market.Instrument
	for _, s := range symbols {
		x, ok := ins.Get(s)
		if !ok {
			t.Fatalf("no instrument %q", s)
		}
		out = append(out, x)
	}
	return out
}

// simBundle is a simulator on a fake clock writing to a recorder.
type simBundle struct {
	sim   *Simulator
	clock *clock.Fake
	rec   *recorder
	logs  *syncWriter
}

func setupSim(t *testing.T, cfg SimConfig, start time.Time) *simBundle {
	t.Helper()
	b := &simBundle{clock: clock.NewFake(start), rec: &recorder{}, logs: &syncWriter{}}
	log := zerolog.New(b.logs)
	sim, err := NewSimulator(cfg, SimDeps{Writer: b.rec, Clock: b.clock, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	b.sim = sim
	if err := sim.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sim.Stop(context.Background()); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	b.waitIdle(t)
	return b
}

// waitIdle waits until the simulator sleeps on the clock again: it has
// written everything due.
func (b *simBundle) waitIdle(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.clock.WaitForSleepers(ctx, 1); err != nil {
		t.Fatalf("simulator never went back to sleep: %v", err)
	}
}

// run advances the clock by total in steps, waiting for the simulator
// after each.
func (b *simBundle) run(t *testing.T, total, step time.Duration) {
	t.Helper()
	for d := time.Duration(0); d < total; d += step {
		b.clock.Advance(min(step, total-d))
		b.waitIdle(t)
	}
}

// syncWriter is a log buffer safe to read while the simulator writes.
type syncWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

func TestSimulatorIsDeterministic(t *testing.T) {
	t.Parallel()
	cfg := SimConfig{Instruments: instruments(t), Rate: 500, AllHours: true, Seed: 42}
	// ticksUntil2s runs a simulator to 2s in steps of step, then one
	// batch interval more (a wake may have been put off by up to that),
	// and returns the ticks of the first 2s.
	ticksUntil2s := func(cfg SimConfig, step time.Duration) []ticks.Tick {
		b := setupSim(t, cfg, tuesday)
		b.run(t, 2*time.Second, step)
		b.run(t, DefaultBatchInterval, DefaultBatchInterval)
		var out []ticks.Tick
		for _, tk := range b.rec.got() {
			if !tk.Time.After(tuesday.Add(2 * time.Second)) {
				out = append(out, tk)
			}
		}
		return out
	}
	// The same seed stepped differently writes the same ticks.
	want := ticksUntil2s(cfg, 2*time.Second)
	if len(want) != 1000 {
		t.Fatalf("wrote %d ticks, want 1000", len(want))
	}
	for _, step := range []time.Duration{10 * time.Millisecond, 37 * time.Millisecond, 250 * time.Millisecond} {
		if diff := cmp.Diff(want, ticksUntil2s(cfg, step)); diff != "" {
			t.Fatalf("%s steps differ from one 2s step (-2s +%s):\n%s", step, step, diff)
		}
	}
	// Another seed writes other ticks.
	cfg.Seed = 43
	if cmp.Equal(want, ticksUntil2s(cfg, 2*time.Second)) {
		t.Fatal("seeds 42 and 43 wrote the same ticks")
	}
}

func TestSimulatorRate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		rate        float64
		run, step   time.Duration
		wantTicks   uint64
		wantBatches uint64
	}{
		// One tick per wake: each tick is written when due.
		{rate: 50, run: time.Second, step: 20 * time.Millisecond, wantTicks: 50, wantBatches: 50},
		// 10ms batches.
		{rate: 1000, run: time.Second, step: 10 * time.Millisecond, wantTicks: 1000, wantBatches: 100},
		// 100 ms steps at 100k/s: 10,000 ticks per wake, in two pipelines.
		{rate: 100_000, run: time.Second, step: 100 * time.Millisecond, wantTicks: 100_000, wantBatches: 20},
		// Fractional rate: one tick every 4 s.
		{rate: 0.25, run: 10 * time.Second, step: time.Second, wantTicks: 2, wantBatches: 2},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.rate), func(t *testing.T) {
			t.Parallel()
			b := setupSim(t, SimConfig{Instruments: instruments(t), Rate: c.rate, AllHours: true, Seed: 1}, tuesday)
			b.run(t, c.run, c.step)
			want := SimStats{TicksWritten: c.wantTicks, Batches: c.wantBatches}
			if diff := cmp.Diff(want, b.sim.Stats()); diff != "" {
				t.Fatalf("stats (-want +got):\n%s", diff)
			}
			got := b.rec.got()
			end := tuesday.Add(c.run)
			for i, tk := range got {
				if tk.Time.After(end) || tk.Time.Before(tuesday) {
					t.Fatalf("tick %d at %s, outside [%s, %s]", i, tk.Time, tuesday, end)
				}
				if i > 0 && tk.Time.Before(got[i-1].Time) {
					t.Fatalf("tick %d at %s is before tick %d at %s", i, tk.Time, i-1, got[i-1].Time)
				}
			}
		})
	}
}

func TestSimulatorOnlyOpenMarkets(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		start    time.Time
		allHours bool
		want     []string // symbols that must appear; others must not
	}{
		{"saturday: only crypto", saturday, false, []string{"BTCUSD"}},
		{"saturday all hours", saturday, true, []string{"BTCUSD", "SPY"}},
		{"tuesday in session", tuesday, false, []string{"BTCUSD", "SPY"}},
		{"tuesday before the open", time.Date(2026, 3, 10, 13, 29, 49, 0, time.UTC), false, []string{"BTCUSD"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := setupSim(t, SimConfig{Instruments: instruments(t, "SPY", "BTCUSD"), Rate: 100, AllHours: c.allHours, Seed: 7}, c.start)
			b.run(t, 10*time.Second, time.Second)
			seen := map[string]int{}
			for _, tk := range b.rec.got() {
				seen[tk.Symbol]++
			}
			var got []string
			for _, s := range []string{"BTCUSD", "SPY"} {
				if seen[s] > 0 {
					got = append(got, s)
				}
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Fatalf("symbols written (-want +got):\n%s\ncounts %v", diff, seen)
			}
		})
	}
}

func TestSimulatorSleepsThroughTheWeekend(t *testing.T) {
	t.Parallel()
	b := setupSim(t, SimConfig{Instruments: instruments(t, "SPY"), Rate: 10, Seed: 3}, saturday)
	monday := time.Date(2026, 3, 9, 13, 30, 0, 0, time.UTC)
	// At its first slot the simulator finds XNYS closed and sleeps until
	// Monday's first slot.
	b.clock.Advance(100 * time.Millisecond)
	b.waitIdle(t)
	next := b.clock.Sleepers()
	if len(next) != 1 || next[0].Before(monday) || next[0].After(monday.Add(100*time.Millisecond)) {
		t.Fatalf("simulator sleeps until %v, want Monday's open %s", next, monday)
	}
	b.clock.Set(monday.Add(time.Second))
	b.waitIdle(t)
	got := b.rec.got()
	// Slots fall every 100ms from Saturday 15:00, so one is at the open:
	// 13:30:00.0 through 13:30:01.0.
	if len(got) != 11 {
		t.Fatalf("wrote %d ticks in the first second of the session, want 11", len(got))
	}
	for _, tk := range got {
		if tk.Time.Before(monday) {
			t.Fatalf("tick at %s, before the open %s", tk.Time, monday)
		}
	}
}

func TestSimulatorPricesAndSizes(t *testing.T) {
	t.Parallel()
	for _, noQuotes := range []bool{false, true} {
		t.Run(fmt.Sprintf("noQuotes=%v", noQuotes), func(t *testing.T) {
			t.Parallel()
			// A year at one tick per minute, so every walk wanders.
			cfg := SimConfig{Instruments: instruments(t), Rate: 1.0 / 60, AllHours: true, Seed: 99, NoQuotes: noQuotes, MaxLag: 48 * time.Hour}
			b := setupSim(t, cfg, tuesday)
			b.run(t, 365*24*time.Hour, 24*time.Hour)
			got := b.rec.got()
			if len(got) < 500_000 {
				t.Fatalf("only %d ticks", len(got))
			}
			profiles := map[string]profile{}
			for _, x := range cfg.Instruments {
				profiles[x.Symbol] = profileFor(x.Symbol, x.Market)
			}
			fractional := map[string]bool{}
			for _, tk := range got {
				p := profiles[tk.Symbol]
				switch {
				case tk.Price <= 0 || tk.Price%p.Tick != 0:
					t.Fatalf("%s price %s: not a positive multiple of %s", tk.Symbol, tk.Price, p.Tick)
				case tk.Size <= 0 || tk.Size%p.Lot != 0:
					t.Fatalf("%s size %s: not a positive multiple of %s", tk.Symbol, tk.Size, p.Lot)
				case tk.Price.Float64() > p.Start*60 || tk.Price.Float64() < p.Start/60-p.Tick.Float64():
					t.Fatalf("%s price %s strayed too far from %g", tk.Symbol, tk.Price, p.Start)
				}
				if tk.Size%decimal.FromInt(1) != 0 {
					fractional[tk.Symbol] = true
				}
				if noQuotes {
					if tk.Bid != 0 || tk.Ask != 0 {
						t.Fatalf("%s has a quote with NoQuotes", tk.Symbol)
					}
					continue
				}
				switch {
				case tk.Bid <= 0 || tk.Bid >= tk.Ask || tk.Bid%p.Tick != 0 || tk.Ask%p.Tick != 0:
					t.Fatalf("%s quote %s/%s is not two increasing multiples of %s", tk.Symbol, tk.Bid, tk.Ask, p.Tick)
				case tk.Price != tk.Bid && tk.Price != tk.Ask:
					t.Fatalf("%s traded at %s, neither bid %s nor ask %s", tk.Symbol, tk.Price, tk.Bid, tk.Ask)
				case tk.BidSize <= 0 || tk.AskSize <= 0:
					t.Fatalf("%s quote sizes %s/%s", tk.Symbol, tk.BidSize, tk.AskSize)
				}
			}
			// Crypto trades in coin fractions; futures and stocks do not.
			if diff := cmp.Diff(map[string]bool{"BTCUSD": true, "ETHUSD": true}, fractional); diff != "" {
				t.Fatalf("symbols with fractional sizes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestProfileForUnknownSymbols(t *testing.T) {
	t.Parallel()
	for _, code := range market.Codes() {
		p := profileFor("NEW"+string(code), code)
		if !(p.Start > 0) || p.Tick <= 0 || p.Lot <= 0 || p.MaxLots < 1 || p.MaxSpread < 1 || !(p.Vol > 0) {
			t.Fatalf("%s: implausible profile %+v", code, p)
		}
		if again := profileFor("NEW"+string(code), code); again != p {
			t.Fatalf("%s: profile is not a function of the symbol", code)
		}
	}
}

func TestSimulatorStop(t *testing.T) {
	t.Parallel()
	sim, err := NewSimulator(SimConfig{Instruments: instruments(t, "ES"), Rate: 10, Seed: 1},
		SimDeps{Writer: &recorder{}, Clock: clock.NewFake(tuesday)})
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Stop(context.Background()); err != nil {
		t.Fatalf("Stop before Start: %v", err)
	}
	if err := sim.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := sim.Start(context.Background()); !errors.Is(err, ErrStarted) {
		t.Fatalf("second Start = %v, want ErrStarted", err)
	}
	for i := range 2 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := sim.Stop(ctx)
		cancel()
		if err != nil {
			t.Fatalf("Stop #%d: %v", i+1, err)
		}
	}
}

// blockingWriter blocks every write until release is closed or its
// context is done.
type blockingWriter struct {
	entered chan struct{}
	release chan struct{}
}

func (w blockingWriter) Write(ctx context.Context, _ []ticks.Tick) error {
	select {
	case w.entered <- struct{}{}:
	default:
	}
	select {
	case <-w.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// startBlocked starts a simulator whose first write (100 ticks) blocks.
func startBlocked(t *testing.T) (*Simulator, blockingWriter) {
	t.Helper()
	clk := clock.NewFake(tuesday)
	w := blockingWriter{entered: make(chan struct{}, 1), release: make(chan struct{})}
	sim, err := NewSimulator(SimConfig{Instruments: instruments(t, "BTCUSD"), Rate: 100, Seed: 1}, SimDeps{Writer: w, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	<-w.entered
	return sim, w
}

func TestSimulatorStopLetsTheWriteInFlightFinish(t *testing.T) {
	t.Parallel()
	sim, w := startBlocked(t)
	stopped := make(chan error, 1)
	go func() { stopped <- sim.Stop(context.Background()) }()
	close(w.release)
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if st := sim.Stats(); st.TicksWritten != 100 || st.TicksFailed != 0 {
		t.Fatalf("stats %+v, want the 100 ticks in flight written", st)
	}
}

func TestSimulatorStopIsBounded(t *testing.T) {
	t.Parallel()
	sim, _ := startBlocked(t) // never released
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := sim.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop = %v, want DeadlineExceeded", err)
	}
	// The abandoned write ends; a second Stop sees the loop gone.
	if err := sim.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := sim.Stats(); st.TicksFailed != 100 || st.TicksWritten != 0 {
		t.Fatalf("stats %+v, want the 100 abandoned ticks failed", st)
	}
}

func TestSimulatorRetriesAndCounts(t *testing.T) {
	t.Parallel()
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	// Each case fails some of the first batch's attempts; later writes
	// succeed.
	cases := []struct {
		name        string
		fail        func(call int) error
		errors      uint64
		failed      uint64
		failureLogs int
	}{
		{"recovers on the third attempt", func(call int) error {
			if call <= 2 {
				return refused
			}
			return nil
		}, 2, 0, 1},
		{"gives up after four attempts", func(call int) error {
			if call <= 4 {
				return refused
			}
			return nil
		}, 4, 100, 1},
		{"logs each kind once", func(call int) error {
			switch {
			case call > 4:
				return nil
			case call%2 == 0:
				return refused
			}
			return context.DeadlineExceeded
		}, 4, 100, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := setupSim(t, SimConfig{Instruments: instruments(t, "BTCUSD"), Rate: 100, Seed: 1}, tuesday)
			b.rec.fail = c.fail
			b.clock.Advance(time.Second) // the first batch: 100 ticks
			b.waitIdle(t)
			// Walk the backoff sleeps (50, 100, 200ms) and a few batches after.
			for range 8 {
				b.clock.AdvanceToNextSleeper()
				b.waitIdle(t)
			}
			st := b.sim.Stats()
			if st.Errors != c.errors || st.TicksFailed != c.failed || st.TicksSkipped != 0 {
				t.Fatalf("stats %+v, want %d errors and %d failed", st, c.errors, c.failed)
			}
			// Every slot due so far is accounted for.
			due := uint64(b.clock.Now().Sub(tuesday) / (10 * time.Millisecond))
			if st.TicksWritten+st.TicksFailed != due {
				t.Fatalf("stats %+v: written + failed != %d slots due", st, due)
			}
			logs := b.logs.String()
			if n := strings.Count(logs, "tick write failed"); n != c.failureLogs {
				t.Fatalf("logged %d write failures, want %d:\n%s", n, c.failureLogs, logs)
			}
			if n := strings.Count(logs, "tick writes recovered"); n != 1 {
				t.Fatalf("logged the recovery %d times, want once:\n%s", n, logs)
			}
		})
	}
}

func TestSimulatorSkipsAheadWhenBehind(t *testing.T) {
	t.Parallel()
	b := setupSim(t, SimConfig{Instruments: instruments(t, "BTCUSD"), Rate: 100, Seed: 1}, tuesday)
	b.clock.Advance(10 * time.Second) // five times MaxLag
	b.waitIdle(t)
	st := b.sim.Stats()
	if st.TicksSkipped == 0 || st.TicksSkipped+st.TicksWritten != 1000 {
		t.Fatalf("stats %+v: want 1000 slots written or skipped, some skipped", st)
	}
}

func TestNewSimulatorRejectsBadConfig(t *testing.T) {
	t.Parallel()
	ok := SimConfig{Instruments: instruments(t, "ES"), Rate: 1}
	cases := []struct {
		name  string
		edit  func(*SimConfig)
		field string
	}{
		{"no instruments", func(c *SimConfig) { c.Instruments = nil }, "feed.symbols"},
		{"zero rate", func(c *SimConfig) { c.Rate = 0 }, "feed.rate"},
		{"negative batch", func(c *SimConfig) { c.MaxBatch = -1 }, "feed"},
		{"duplicate", func(c *SimConfig) { c.Instruments = append(c.Instruments, c.Instruments[0]) }, "feed.symbols"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg := ok
			c.edit(&cfg)
			_, err := NewSimulator(cfg, SimDeps{Writer: &recorder{}})
			if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), c.field+":") {
				t.Fatalf("err = %v, want config.ErrInvalid naming %s", err, c.field)
			}
		})
	}
}

func TestSimConfigFrom(t *testing.T) {
	t.Parallel()
	cfg := config.Default()
	sc, err := SimConfigFrom(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Instruments) != len(cfg.Instruments) || sc.Rate != 50 {
		t.Fatalf("got %d instruments at %g/s", len(sc.Instruments), sc.Rate)
	}
	cfg.Feed.Symbols = []string{"SPY", "ES"}
	cfg.Feed.Seed = 5
	if sc, err = SimConfigFrom(cfg); err != nil {
		t.Fatal(err)
	}
	if len(sc.Instruments) != 2 || sc.Instruments[0].Symbol != "SPY" || sc.Seed != 5 {
		t.Fatalf("got %+v", sc)
	}
	cfg.Feed.Symbols = []string{"NOPE"}
	if _, err := SimConfigFrom(cfg); !errors.Is(err, config.ErrInvalid) {
		t.Fatalf("unknown symbol: err = %v", err)
	}
}

func TestSimulatorWritesTheContract(t *testing.T) {
	t.Parallel()
	_, rdb := testinfra.Mini(t)
	const shards = 4
	clk := clock.NewFake(tuesday)
	sim, err := NewSimulator(SimConfig{Instruments: instruments(t), Rate: 200, AllHours: true, Seed: 11},
		SimDeps{Writer: ticks.NewWriter(rdb, shards), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := sim.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer sim.Stop(ctx)
	for range 10 {
		clk.Advance(100 * time.Millisecond)
		if err := clk.WaitForSleepers(ctx, 1); err != nil {
			t.Fatal(err)
		}
	}
	ins, _ := config.Default().MarketInstruments()
	v := ticks.Validator{Known: ins.Known, MaxFuture: 5 * time.Second}
	total := 0
	for n := range shards {
		entries, err := rdb.XRange(ctx, keys.Ticks(n), "-", "+").Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			tk, reason, detail := v.Parse(e.Values, clk.Now())
			if reason != "" {
				t.Fatalf("entry %v rejected: %s %s", e.Values, reason, detail)
			}
			if ticks.Shard(tk.Symbol, shards) != n {
				t.Fatalf("%s written to shard %d", tk.Symbol, n)
			}
		}
		total += len(entries)
	}
	if total != 200 || sim.Stats().TicksWritten != 200 {
		t.Fatalf("%d entries in the streams, stats %+v; want 200", total, sim.Stats())
	}
}
