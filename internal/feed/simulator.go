package feed

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"heartbeat/internal/clock"
	"heartbeat/internal/config"
	"heartbeat/internal/decimal"
	"heartbeat/internal/market"
	"heartbeat/internal/ratelog"
	"heartbeat/internal/ticks"
)

// TickWriter is where a feed writes valid ticks; *ticks.Writer is one.
type TickWriter interface {
	// Write appends a batch of ticks and updates the latest quotes.
	Write(ctx context.Context, batch []ticks.Tick) error
}

// SimConfig configures a Simulator. Zero durations and counts take the
// documented defaults.
type SimConfig struct {
	// Instruments are the symbols to simulate; each one's market calendar
	// gates its ticks. Required.
	Instruments []*market.Instrument
	// Rate is the total ticks per second over all the instruments. Each
	// instrument gets an equal share; the share of an instrument whose
	// market is closed is not handed to the others. Required, > 0.
	Rate float64
	// AllHours simulates every instrument even while its market is
	// closed.
	AllHours bool
	// Seed seeds every random draw; 0 picks a random seed, which
	// Simulator.Seed reports so a run can be repeated.
	Seed int64
	// NoQuotes leaves out the bid and ask; by default every tick carries
	// the quote it traded against.
	NoQuotes bool
	// BatchInterval is the shortest time between two writes: the ticks
	// due within it go out in one pipeline. Default 10ms.
	BatchInterval time.Duration
	// MaxBatch is the most ticks in one pipeline. Default 5000.
	MaxBatch int
	// MaxLag is how far behind its schedule the simulator may fall (a slow
	// or unreachable Redis) before it skips ahead to the present; skipped
	// ticks are counted in SimStats.TicksSkipped. Default 2s.
	MaxLag time.Duration
	// MaxAttempts is how many times a batch is written before its ticks
	// are given up and counted in SimStats.TicksFailed. Default 4.
	MaxAttempts int
	// Backoff is the wait after the first failed write; it doubles with
	// each consecutive failure up to MaxBackoff. Defaults 50ms and 2s.
	Backoff    time.Duration
	MaxBackoff time.Duration
}

// The SimConfig defaults.
const (
	DefaultBatchInterval = 10 * time.Millisecond
	DefaultMaxBatch      = 5000
	DefaultMaxLag        = 2 * time.Second
	DefaultMaxAttempts   = 4
	DefaultBackoff       = 50 * time.Millisecond
	DefaultMaxBackoff    = 2 * time.Second
	// DefaultStopTimeout bounds Stop when its context has no deadline.
	DefaultStopTimeout = 5 * time.Second
)

// SimConfigFrom builds the simulator configuration of cfg.Feed: the
// configured symbols (every instrument when feed.symbols is empty), rate,
// all_hours and seed. cfg must be valid.
func SimConfigFrom(cfg config.Config) (SimConfig, error) {
	ins, err := cfg.MarketInstruments()
	if err != nil {
		return SimConfig{}, fmt.Errorf("%w: instruments: %w", config.ErrInvalid, err)
	}
	symbols := cfg.Feed.Symbols
	if len(symbols) == 0 {
		symbols = ins.Symbols()
	}
	sc := SimConfig{Rate: cfg.Feed.Rate, AllHours: cfg.Feed.AllHours, Seed: cfg.Feed.Seed}
	for _, s := range symbols {
		x, ok := ins.Get(s)
		if !ok {
			return SimConfig{}, fmt.Errorf("%w: feed.symbols: %q is not a configured instrument", config.ErrInvalid, s)
		}
		sc.Instruments = append(sc.Instruments, x)
	}
	return sc, nil
}

// SimDeps are the Simulator's collaborators.
type SimDeps struct {
	// Writer receives the ticks. Required.
	Writer TickWriter
	// Clock stamps and paces the ticks. Default clock.Real.
	Clock clock.Clock
	// Logger receives start, stop and error reports. Default: none.
	Logger zerolog.Logger
	// OnWritten, if set, is told how many ticks each successful write
	// carried (for a metrics counter).
	OnWritten func(n int)
}

// SimStats are the Simulator's counters, for metrics. Every tick the
// schedule calls for while its market is open ends up in exactly one of
// TicksWritten, TicksFailed and TicksSkipped.
type SimStats struct {
	// TicksWritten is how many ticks Redis accepted.
	TicksWritten uint64
	// Batches is how many pipelines were written.
	Batches uint64
	// Errors is how many write attempts failed.
	Errors uint64
	// TicksFailed is how many ticks were given up after MaxAttempts
	// failed writes, or were pending when the simulator stopped.
	TicksFailed uint64
	// TicksSkipped is how many scheduled tick slots were skipped because
	// the simulator fell more than MaxLag behind.
	TicksSkipped uint64
}

// ErrStarted is returned by Start on a Simulator that was started before.
var ErrStarted = errors.New("simulator already started")

// Simulator writes random-walk ticks for a set of instruments at a
// steady total rate. Tick slot k of a run is due at start + k/Rate; it
// goes to an instrument drawn from (Seed, k) and is dropped if that
// instrument's market is closed at its time. Each instrument's prices and
// sizes come from its own random stream, so for a given seed, start
// instant and configuration the ticks are the same however the clock is
// stepped, as long as no step leaves the simulator more than MaxLag
// behind.
type Simulator struct {
	cfg   SimConfig
	w     TickWriter
	clock clock.Clock
	log   zerolog.Logger
	seed  int64

	syms []symState
	gate gate

	written, batches, errs, failed, skipped atomic.Uint64
	onWritten                               func(n int)

	mu     sync.Mutex
	cancel context.CancelFunc // ends the loop after the write in flight
	abort  context.CancelFunc // abandons the write in flight too
	done   chan struct{}
}

// symState is one instrument's random walk.
type symState struct {
	symbol string
	market int // index into gate.cals
	prof   profile
	tick   float64 // prof.Tick as a float
	rng    *rand.Rand
	x, x0  float64   // log mid price, and the level it reverts to
	last   time.Time // time of its previous tick
}

// meanReversion is the pull of the log price back to its start, per day:
// a half-life of 30 days keeps long runs plausible without showing intraday.
var meanReversion = math.Ln2 / 30

// maxExcursion bounds the log price around its start (a factor of 50 either
// way), so no run can reach the limits of decimal.Dec.
var maxExcursion = math.Log(50)

// NewSimulator validates cfg and returns a Simulator ready to Start.
func NewSimulator(cfg SimConfig, deps SimDeps) (*Simulator, error) {
	bad := func(field, reason string) error {
		return fmt.Errorf("%w: %s: %s", config.ErrInvalid, field, reason)
	}
	switch {
	case len(cfg.Instruments) == 0:
		return nil, bad("feed.symbols", "no instrument to simulate")
	case !(cfg.Rate > 0) || math.IsInf(cfg.Rate, 0):
		return nil, bad("feed.rate", "must be > 0")
	case cfg.BatchInterval < 0 || cfg.MaxBatch < 0 || cfg.MaxLag < 0 || cfg.MaxAttempts < 0 || cfg.Backoff < 0 || cfg.MaxBackoff < 0:
		return nil, bad("feed", "batch and retry settings must be >= 0")
	case deps.Writer == nil:
		return nil, errors.New("feed: NewSimulator needs a Writer")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&cfg.BatchInterval, DefaultBatchInterval)
	def(&cfg.MaxLag, DefaultMaxLag)
	def(&cfg.Backoff, DefaultBackoff)
	def(&cfg.MaxBackoff, DefaultMaxBackoff)
	if cfg.MaxBatch == 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if deps.Clock == nil {
		deps.Clock = clock.Real{}
	}
	s := &Simulator{cfg: cfg, w: deps.Writer, clock: deps.Clock, log: deps.Logger, seed: cfg.Seed, onWritten: deps.OnWritten}
	if s.seed == 0 {
		s.seed = rand.Int64N(math.MaxInt64-1) + 1
	}
	// Instruments in symbol order, so the flag order does not matter.
	ins := slices.Clone(cfg.Instruments)
	for _, x := range ins {
		if x == nil || x.Calendar == nil {
			return nil, bad("instruments", "every instrument needs its market's calendar")
		}
	}
	slices.SortFunc(ins, func(a, b *market.Instrument) int { return strings.Compare(a.Symbol, b.Symbol) })
	marketIndex := map[*market.Calendar]int{}
	for i, x := range ins {
		if i > 0 && ins[i-1].Symbol == x.Symbol {
			return nil, bad("feed.symbols", fmt.Sprintf("%q listed twice", x.Symbol))
		}
		m, ok := marketIndex[x.Calendar]
		if !ok {
			m = len(s.gate.cals)
			marketIndex[x.Calendar] = m
			s.gate.cals = append(s.gate.cals, x.Calendar)
		}
		p := profileFor(x.Symbol, x.Market)
		x0 := math.Log(p.Start)
		s.syms = append(s.syms, symState{
			symbol: x.Symbol, market: m, prof: p, tick: p.Tick.Float64(),
			rng: rand.New(rand.NewPCG(uint64(s.seed), stringHash(x.Symbol))),
			x:   x0, x0: x0,
		})
	}
	s.gate.open = make([]bool, len(s.gate.cals))
	s.gate.warned = ratelog.New(s.log, 0)
	return s, nil
}

// Seed returns the seed in use (the one picked when SimConfig.Seed is 0).
func (s *Simulator) Seed() int64 { return s.seed }

// Stats returns the current counters.
func (s *Simulator) Stats() SimStats {
	return SimStats{
		TicksWritten: s.written.Load(), Batches: s.batches.Load(), Errors: s.errs.Load(),
		TicksFailed: s.failed.Load(), TicksSkipped: s.skipped.Load(),
	}
}

// Start begins writing ticks, from the clock's current instant, until Stop
// is called or ctx is cancelled (which ends the loop the same way as Stop,
// without waiting for it). It returns at once.
func (s *Simulator) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done != nil {
		return ErrStarted
	}
	runCtx, cancel := context.WithCancel(ctx)
	writeCtx, abort := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel, s.abort, s.done = cancel, abort, make(chan struct{})
	start := s.clock.Now()
	for i := range s.syms {
		s.syms[i].last = start
	}
	s.log.Info().Int("symbols", len(s.syms)).Float64("rate", s.cfg.Rate).Bool("all_hours", s.cfg.AllHours).
		Int64("seed", s.seed).Msg("simulator started")
	go s.run(runCtx, writeCtx, start)
	return nil
}

// Stop stops the simulator and waits for its loop to end. The write in
// flight may finish until ctx is done (DefaultStopTimeout when ctx has no
// deadline); then it is abandoned, its ticks are counted as failed, and
// Stop returns ctx's error without waiting further. Stop is safe to call
// twice, and before Start.
func (s *Simulator) Stop(ctx context.Context) error {
	s.mu.Lock()
	cancel, abort, done := s.cancel, s.abort, s.done
	s.mu.Unlock()
	if done == nil {
		return nil
	}
	cancel()
	if _, ok := ctx.Deadline(); !ok {
		var c context.CancelFunc
		ctx, c = context.WithTimeout(ctx, DefaultStopTimeout)
		defer c()
	}
	select {
	case <-done:
		abort()
		return nil
	case <-ctx.Done():
		abort()
		return fmt.Errorf("stop simulator: %w", ctx.Err())
	}
}

// slotTime returns when tick slot k is due.
func slotTime(start time.Time, rate float64, k uint64) time.Time {
	return start.Add(time.Duration(float64(k) * float64(time.Second) / rate))
}

// slotAtOrAfter returns the first slot from k on that is due at or after t.
func slotAtOrAfter(start time.Time, rate float64, k uint64, t time.Time) uint64 {
	if d := t.Sub(start); d > 0 {
		if guess := uint64(d.Seconds() * rate); guess > k {
			k = guess
		}
	}
	for k > 1 && !slotTime(start, rate, k-1).Before(t) {
		k--
	}
	for slotTime(start, rate, k).Before(t) {
		k++
	}
	return k
}

// run is the simulator's loop. It sleeps on ctx, and writes on writeCtx,
// which outlives ctx so that a stop lets the write in flight finish.
func (s *Simulator) run(ctx, writeCtx context.Context, start time.Time) {
	defer close(s.done)
	defer s.log.Info().Msg("simulator stopped")
	rate := s.cfg.Rate
	k := uint64(1) // the next slot; slot 0 would be the start instant itself
	lastWake := start
	behind := false
	buf := make([]ticks.Tick, 0, min(s.cfg.MaxBatch, 1024))
	r := &retrier{clock: s.clock, log: &s.log, maxAttempts: s.cfg.MaxAttempts,
		base: s.cfg.Backoff, limit: s.cfg.MaxBackoff, errors: &s.errs}
	for {
		wake := slotTime(start, rate, k)
		if earliest := lastWake.Add(s.cfg.BatchInterval); wake.Before(earliest) {
			wake = earliest
		}
		if err := s.clock.SleepUntil(ctx, wake); err != nil {
			return
		}
		now := s.clock.Now()
		lastWake = now
		if due := slotTime(start, rate, k); now.Sub(due) > s.cfg.MaxLag {
			nk := slotAtOrAfter(start, rate, k, now.Add(-s.cfg.BatchInterval))
			s.skipped.Add(nk - k)
			if !behind {
				s.log.Warn().Dur("behind_ms", now.Sub(due)).Uint64("skipped", nk-k).Msg("simulator fell behind; skipping ahead")
			}
			behind, k = true, nk
		} else {
			behind = false
		}
		for {
			t := slotTime(start, rate, k)
			if t.After(now) {
				break
			}
			if !s.cfg.AllHours {
				s.gate.at(t)
				if !s.gate.anyOpen {
					// Every market is closed: jump to the next change.
					k = slotAtOrAfter(start, rate, k, s.gate.until)
					continue
				}
			}
			if tk, ok := s.draw(k, t); ok {
				buf = append(buf, tk)
			}
			k++
			if len(buf) >= s.cfg.MaxBatch {
				s.write(ctx, writeCtx, r, buf)
				buf = buf[:0]
				if ctx.Err() != nil {
					return
				}
			}
		}
		if len(buf) > 0 {
			s.write(ctx, writeCtx, r, buf)
			buf = buf[:0]
		}
	}
}

// pick returns the index of the instrument slot k goes to: a pure function
// of the seed and k.
func (s *Simulator) pick(k uint64) int {
	h := splitmix64(splitmix64(uint64(s.seed)) + k*0x9E3779B97F4A7C15)
	return int((h >> 32) * uint64(len(s.syms)) >> 32)
}

// draw produces slot k's tick at t, or ok false when the instrument drawn
// for the slot is closed.
func (s *Simulator) draw(k uint64, t time.Time) (tk ticks.Tick, ok bool) {
	st := &s.syms[s.pick(k)]
	if !s.cfg.AllHours && !s.gate.open[st.market] {
		return tk, false
	}
	p := &st.prof
	dt := t.Sub(st.last).Hours() / 24
	st.last = t
	if dt > 0 {
		st.x += p.Vol*math.Sqrt(dt)*st.rng.NormFloat64() - meanReversion*dt*(st.x-st.x0)
		st.x = min(max(st.x, st.x0-maxExcursion), st.x0+maxExcursion)
	}
	mid := math.Exp(st.x) / st.tick // in ticks
	tk = ticks.Tick{Symbol: st.symbol, Time: time.UnixMilli(t.UnixMilli()).UTC(), Size: st.size()}
	if s.cfg.NoQuotes {
		tk.Price = p.Tick * decimal.Dec(max(1, int64(math.Round(mid))))
		return tk, true
	}
	bid := max(1, int64(math.Floor(mid)))
	ask := bid + 1 + int64(st.rng.IntN(p.MaxSpread))
	tk.Bid, tk.Ask = p.Tick*decimal.Dec(bid), p.Tick*decimal.Dec(ask)
	tk.BidSize, tk.AskSize = st.size(), st.size()
	if st.rng.IntN(2) == 0 {
		tk.Price = tk.Bid
	} else {
		tk.Price = tk.Ask
	}
	return tk, true
}

// size draws a trade size: a whole number of lots, mostly one or a few.
func (st *symState) size() decimal.Dec {
	u := st.rng.Float64()
	lots := 1 + int64(float64(st.prof.MaxLots)*u*u*u)
	return st.prof.Lot * decimal.Dec(min(lots, int64(st.prof.MaxLots)))
}

// write writes one batch through the retrier, counting its ticks as
// written or, once the retrier gives up or is stopped by ctx, as failed.
func (s *Simulator) write(ctx, writeCtx context.Context, r *retrier, batch []ticks.Tick) {
	n := uint64(len(batch))
	if err := r.do(ctx, "tick", len(batch), func() error { return s.w.Write(writeCtx, batch) }); err != nil {
		s.failed.Add(n)
		return
	}
	s.written.Add(n)
	if s.onWritten != nil {
		s.onWritten(int(n))
	}
	s.batches.Add(1)
}

// gate caches which markets are open, and until when that holds, so the
// calendars are asked only when a market's phase changes.
type gate struct {
	cals    []*market.Calendar
	open    []bool
	anyOpen bool
	until   time.Time       // the cached phases hold for instants before until
	warned  *ratelog.Logger // once per market: New(log, 0)
}

// at brings the cache up to date for t; slot times never go backwards.
func (g *gate) at(t time.Time) {
	if t.Before(g.until) {
		return
	}
	g.until, g.anyOpen = time.Time{}, false
	for i, c := range g.cals {
		open, err := c.IsOpen(t)
		next := t.AddDate(0, 0, 1)
		if err == nil {
			at, _, ok, nerr := c.NextChange(t)
			switch {
			case nerr != nil:
				err = nerr
			case ok:
				next = at
			}
		}
		if err != nil {
			// Outside the calendar's coverage: treat as closed, look again
			// in an hour, and say so once.
			open, next = false, t.Add(time.Hour)
			g.warned.Warn(string(c.Code()), t).Err(err).Str("market", string(c.Code())).Msg("calendar cannot answer; treating the market as closed")
		}
		g.open[i] = open
		g.anyOpen = g.anyOpen || open
		if g.until.IsZero() || next.Before(g.until) {
			g.until = next
		}
	}
}

func splitmix64(x uint64) uint64 {
	x += 0x9E3779B97F4A7C15
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9
	x = (x ^ (x >> 27)) * 0x94D049BB133111EB
	return x ^ (x >> 31)
}

// stringHash is FNV-1a of s, the second half of an instrument's PCG seed.
func stringHash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
