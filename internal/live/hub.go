// Package live pushes symbols' intraday figures to subscribers as Intraday
// commits them: the hub behind GET /api/v1/stream.
//
// Each Intraday commit that changes states announces the changed symbols
// on its shard's updates stream (marketdata.Engine.ReadUpdates). A
// replica's Hub follows those streams, one reader per shard, only while it
// has subscribers on the shard; for the announced symbols somebody follows
// it reads their states once, renders each figure once, and puts it in
// every interested subscriber's mailbox. A mailbox keeps only the newest
// figure per symbol, so a slow client never holds the hub up, and its
// memory is bounded by its symbols. A symbol is published at most once in
// each Period of the clock (one second, aligned to the epoch as the slots
// are): a second announcement within the same period is deferred to the
// start of the next, when the newest state is read, so nothing is lost,
// only coalesced. Periods of the clock rather than a period after each
// figure: Intraday commits a shard once a slot, a run's length varies, and
// a spacing measured from the previous figure would carry each late run's
// delay into every later figure.
package live

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"heartbeat/internal/clock"
	"heartbeat/internal/marketdata"
	"heartbeat/internal/ratelog"
)

// Source is what the hub reads: a marketdata.Engine.
type Source interface {
	Settings() marketdata.Settings
	ShardOf(symbol string) (int, error)
	UpdatesEnd(ctx context.Context, shard int) (string, error)
	ReadUpdates(ctx context.Context, shard int, after string, count int64, block time.Duration) ([]marketdata.Update, error)
	States(ctx context.Context, shard int, symbols []string) ([]*marketdata.SymbolState, error)
}

// Render encodes one symbol's state as the figure subscribers receive.
type Render func(st *marketdata.SymbolState) ([]byte, error)

// Config is the hub's settings; zero fields take the defaults.
type Config struct {
	// Period: at most one figure of a symbol in each period of the clock
	// (default 1 s).
	Period time.Duration
	// Block is how long one read of an updates stream waits (default 1 s):
	// also how long a reader takes to notice its last subscriber left.
	Block time.Duration
	// MaxSymbols is the most symbols one subscription follows (default 100).
	MaxSymbols int
}

// Defaults of Config.
const (
	DefaultPeriod     = time.Second
	DefaultBlock      = time.Second
	DefaultMaxSymbols = 100
)

// Deps are the hub's collaborators. Lag is optional (the histogram's
// "read" stage is observed when set).
type Deps struct {
	Source Source
	Render Render
	Clock  clock.Clock
	Log    zerolog.Logger
	Lag    prometheus.Observer
}

// ErrTooManySymbols is a subscription over Config.MaxSymbols.
var ErrTooManySymbols = errors.New("live: too many symbols")

// Hub fans the live figures out to subscribers.
type Hub struct {
	cfg    Config
	d      Deps
	warn   *ratelog.Logger
	shards []*shard
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New returns a hub; Start starts its readers.
func New(cfg Config, d Deps) (*Hub, error) {
	if d.Source == nil || d.Render == nil || d.Clock == nil {
		return nil, errors.New("live: Source, Render and Clock are required")
	}
	if cfg.Period <= 0 {
		cfg.Period = DefaultPeriod
	}
	if cfg.Block <= 0 {
		cfg.Block = DefaultBlock
	}
	if cfg.MaxSymbols <= 0 {
		cfg.MaxSymbols = DefaultMaxSymbols
	}
	h := &Hub{cfg: cfg, d: d, warn: ratelog.New(d.Log, time.Minute)}
	for n := range d.Source.Settings().Shards {
		h.shards = append(h.shards, newShard(n))
	}
	return h, nil
}

// Start starts one reader per shard; each idles until a subscription
// needs it.
func (h *Hub) Start(ctx context.Context) error {
	ctx, h.cancel = context.WithCancel(context.WithoutCancel(ctx))
	for _, sh := range h.shards {
		h.wg.Add(1)
		go h.read(ctx, sh)
	}
	return nil
}

// Stop stops the readers, waiting for them until ctx ends. Subscriptions
// receive nothing more.
func (h *Hub) Stop(ctx context.Context) error {
	if h.cancel == nil {
		return nil
	}
	h.cancel()
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("live: stop: %w", ctx.Err())
	}
}

// Subscribe follows symbols (configured ones, at most Config.MaxSymbols,
// duplicates ignored). The subscription's first Take returns each
// symbol's current figure (none for a symbol without a tick yet); every
// later one what Intraday committed since. Close it when done.
func (h *Hub) Subscribe(ctx context.Context, symbols []string) (*Sub, error) {
	syms := dedupe(symbols)
	if len(syms) == 0 {
		return nil, errors.New("live: no symbol to follow")
	}
	if len(syms) > h.cfg.MaxSymbols {
		return nil, fmt.Errorf("%w: %d, at most %d", ErrTooManySymbols, len(syms), h.cfg.MaxSymbols)
	}
	byShard := map[int][]string{}
	for _, s := range syms {
		n, err := h.d.Source.ShardOf(s)
		if err != nil {
			return nil, err
		}
		byShard[n] = append(byShard[n], s)
	}
	sub := newSub(h)
	// Register first, with each shard's reader reading from an entry ID
	// taken now, then read the current figures: a commit after the ID
	// reaches the mailbox through the reader, one before it through the
	// snapshot.
	for n, ss := range byShard {
		if err := h.shards[n].add(ctx, h.d.Source, sub, ss); err != nil {
			sub.Close()
			return nil, err
		}
		sub.registered(n, ss)
	}
	for n, ss := range byShard {
		sts, err := h.d.Source.States(ctx, n, ss)
		if err != nil {
			sub.Close()
			return nil, err
		}
		for i, st := range sts {
			if st == nil {
				continue
			}
			js, err := h.d.Render(st)
			if err != nil {
				sub.Close()
				return nil, fmt.Errorf("live: render %s: %w", ss[i], err)
			}
			sub.put(Figure{Symbol: ss[i], JSON: js}, true)
		}
	}
	return sub, nil
}

// Subscribers returns the number of open subscriptions per shard (the
// tests read it; nothing else does yet).
func (h *Hub) Subscribers() []int {
	out := make([]int, len(h.shards))
	for i, sh := range h.shards {
		out[i] = sh.subscribers()
	}
	return out
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}
