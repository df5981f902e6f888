package metrics

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"heartbeat/internal/market"
)

// gauge returns the value of the series of metric name labelled
// market=code, and whether it exists.
func gauge(t *testing.T, m *Metrics, name, code string) (float64, bool) {
	t.Helper()
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, series := range mf.GetMetric() {
			for _, l := range series.GetLabel() {
				if l.GetName() == "market" && l.GetValue() == code {
					return series.GetGauge().GetValue(), true
				}
			}
		}
	}
	return 0, false
}

// TestWatchCalendars checks the coverage gauges of a book: the built-in
// XSHG coverage ends on 2026-12-31, so the first instant not covered is
// midnight on 2027-01-01 in Shanghai; an overrides file's covered_through
// moves it, for a built-in market and for one defined in config; the
// assumed gauge follows calendars.on_coverage_end.
func TestWatchCalendars(t *testing.T) {
	t.Parallel()
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	extended, err := market.ParseOverrides("overrides.yaml", []byte("XSHG:\n  covered_through: 2027-12-31\nXNAS:\n  covered_through: 2036-06-30\n"))
	if err != nil {
		t.Fatal(err)
	}
	xnas := market.Definition{Code: "XNAS", Like: market.XNYS}
	tests := []struct {
		name        string
		cfg         market.BookConfig
		code        market.Code
		wantCovered time.Time
		wantAssumed float64
	}{
		{"built-in, closed past coverage", market.BookConfig{}, market.XSHG, time.Date(2027, time.January, 1, 0, 0, 0, 0, shanghai), 0},
		{"built-in, assumed weekdays", market.BookConfig{AssumeWeekdays: true}, market.XSHG, time.Date(2027, time.January, 1, 0, 0, 0, 0, shanghai), 1},
		{"extended by the overrides file", market.BookConfig{File: extended, Markets: []market.Definition{xnas}}, market.XSHG,
			time.Date(2028, time.January, 1, 0, 0, 0, 0, shanghai), 0},
		{"a market defined in config", market.BookConfig{File: extended, Markets: []market.Definition{xnas}}, "XNAS",
			time.Date(2036, time.July, 1, 4, 0, 0, 0, time.UTC), 0}, // midnight EDT
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			book, err := market.NewBook(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			m := New()
			m.WatchCalendars(book)
			m.WatchCalendars(book) // a second book in the same registry is not an error
			covered, ok := gauge(t, m, "heartbeat_calendar_covered_through_seconds", string(tt.code))
			if !ok || covered != float64(tt.wantCovered.Unix()) {
				t.Fatalf("covered_through %v (present %v), want %v (%s)", covered, ok, tt.wantCovered.Unix(), tt.wantCovered.UTC())
			}
			assumed, ok := gauge(t, m, "heartbeat_calendar_assumed", string(tt.code))
			if !ok || assumed != tt.wantAssumed {
				t.Fatalf("assumed %v (present %v), want %v", assumed, ok, tt.wantAssumed)
			}
			if _, ok := gauge(t, m, "heartbeat_calendar_covered_through_seconds", "NOPE"); ok {
				t.Fatal("a series for a market the book does not have")
			}
		})
	}
}

func TestWatchRedis(t *testing.T) {
	t.Parallel()
	m := New()
	var fail atomic.Bool
	ping := func(context.Context) error {
		if fail.Load() {
			return errors.New("connection refused")
		}
		return nil
	}
	m.WatchRedis(ping)
	m.WatchRedis(ping) // a second component on the same registry
	read := func() float64 {
		mfs, err := m.Registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "heartbeat_redis_up" {
				return mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		t.Fatal("no heartbeat_redis_up")
		return -1
	}
	if v := read(); v != 1 {
		t.Fatalf("up = %v, want 1", v)
	}
	fail.Store(true)
	if v := read(); v != 0 {
		t.Fatalf("up = %v, want 0 when the ping fails", v)
	}
}
