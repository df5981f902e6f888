package bars

import (
	"context"
	"slices"
	"sync"
	"time"

	"heartbeat/internal/market"
)

// Memory is a Store held in maps, with the same revision rule as the
// durable stores. The backfill command collects its output in one; it is
// safe for concurrent use.
type Memory struct {
	mu       sync.Mutex
	bySymbol map[string]map[int64]Bar // symbol -> Unix start -> bar
	daily    map[dailyKey]Daily
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory {
	return &Memory{bySymbol: map[string]map[int64]Bar{}, daily: map[dailyKey]Daily{}}
}

// Upsert stores bars, keeping the highest revision of each (symbol, start).
func (m *Memory) Upsert(_ context.Context, bars []Bar) error {
	if err := validate(bars); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, b := range bars {
		b.Start = b.Start.UTC()
		byStart := m.bySymbol[b.Symbol]
		if byStart == nil {
			byStart = map[int64]Bar{}
			m.bySymbol[b.Symbol] = byStart
		}
		if old, ok := byStart[b.Start.Unix()]; !ok || wins(b, old) {
			byStart[b.Start.Unix()] = b
		}
	}
	return nil
}

// Range returns symbol's bars with Start in [from, to), by Start.
func (m *Memory) Range(_ context.Context, symbol string, from, to time.Time) ([]Bar, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Bar
	for _, b := range m.bySymbol[symbol] {
		if !b.Start.Before(from) && b.Start.Before(to) {
			out = append(out, b)
		}
	}
	slices.SortFunc(out, func(a, b Bar) int { return a.Start.Compare(b.Start) })
	return out, nil
}

// UpsertDaily stores aggregates, keeping the one with the most trades of
// each (symbol, session).
func (m *Memory) UpsertDaily(_ context.Context, days []Daily) error {
	if err := validateDaily(days); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, d := range normalizeDaily(days) {
		if old, ok := m.daily[dailyKeyOf(d)]; !ok || winsDaily(d, old) {
			m.daily[dailyKeyOf(d)] = d
		}
	}
	return nil
}

// DailyRange returns symbol's aggregates of the sessions from through to,
// by session.
func (m *Memory) DailyRange(_ context.Context, symbol string, from, to market.Date) ([]Daily, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Daily
	for k, d := range m.daily {
		if k.symbol == symbol && inDates(k.session, from, to) {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b Daily) int { return a.Session.Compare(b.Session) })
	return out, nil
}

// Close does nothing; a Memory store stays usable.
func (m *Memory) Close() error { return nil }

// All returns every stored bar, in no particular order.
func (m *Memory) All() []Bar {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Bar
	for _, bs := range m.bySymbol {
		for _, b := range bs {
			out = append(out, b)
		}
	}
	return out
}
