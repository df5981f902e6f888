package marketdata

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"heartbeat/internal/keys"
	"heartbeat/internal/market"
	"heartbeat/internal/testinfra"
)

// TestCalendarPastCoverage runs SessionVolume and MarketMetrics, as a
// worker does every few seconds, with one market (XSHG, built-in calendar
// through 2026-12-31) past its coverage and one (XNYS) within it, on
// Monday 2027-01-04 at 02:00Z (XSHG's morning session, were it known). At
// each run it checks what the jobs published (XNYS's figures of its last
// session, 2026-12-31 — 2027-01-01 is a holiday — and nothing of XSHG)
// and how many warnings the run logged: one per job and market when the
// run is the first, or at least an hour after the last one logged, none
// in between.
func TestCalendarPastCoverage(t *testing.T) {
	t.Parallel()
	_, rdb := testinfra.Mini(t)
	in, err := market.NewInstruments(nil, []market.Instrument{
		{Symbol: "SPY", Market: market.XNYS, Weight: 1},
		{Symbol: "600519", Market: market.XSHG, Weight: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	e, err := New(testSettings(), Deps{Redis: rdb, Instruments: in, Log: zerolog.New(&logs)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	t0 := time.Date(2027, 1, 4, 2, 0, 0, 0, time.UTC)
	type warning struct{ Market, Message string }
	both := []warning{
		{"XSHG", "session volume: market skipped (logged once an hour)"},
		{"XSHG", "market metrics: market skipped (logged once an hour)"},
	}
	runs := []struct {
		at   time.Duration // after t0
		want []warning
	}{
		{0, both},
		{10 * time.Second, nil},
		{time.Hour - time.Millisecond, nil},
		{time.Hour, both},
		{time.Hour + time.Second, nil},
		{2*time.Hour - time.Millisecond, nil},
		{2 * time.Hour, both},
	}
	for _, run := range runs {
		now := t0.Add(run.at)
		logs.Reset()
		perSymbol, perMarket, err := e.SessionVolume(ctx, now)
		if err != nil {
			t.Fatalf("SessionVolume at %s: %v", now, err)
		}
		composites, err := e.MarketMetrics(ctx, now)
		if err != nil {
			t.Fatalf("MarketMetrics at %s: %v", now, err)
		}
		if _, ok := perSymbol["600519"]; ok {
			t.Fatalf("SessionVolume at %s published XSHG's 600519: %+v", now, perSymbol["600519"])
		}
		if got := perSymbol["SPY"].Session; got != "2026-12-31" {
			t.Fatalf("SessionVolume at %s: SPY's session %q, want 2026-12-31", now, got)
		}
		if _, ok := perMarket[market.XSHG]; ok {
			t.Fatalf("SessionVolume at %s published XSHG: %+v", now, perMarket[market.XSHG])
		}
		if _, ok := composites[market.XSHG]; ok {
			t.Fatalf("MarketMetrics at %s published XSHG: %+v", now, composites[market.XSHG])
		}
		if got := composites[market.XNYS].Session; got != "2026-12-31" {
			t.Fatalf("MarketMetrics at %s: XNYS's session %q, want 2026-12-31", now, got)
		}
		if n, err := rdb.Exists(ctx, keys.MarketSessionVolume("XSHG")).Result(); err != nil || n != 0 {
			t.Fatalf("at %s: XSHG's session volume key exists=%d (err %v), want absent", now, n, err)
		}
		var got []warning
		sc := bufio.NewScanner(bytes.NewReader(logs.Bytes()))
		for sc.Scan() {
			var line struct {
				Level, Market, Message, Error string
			}
			if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
				t.Fatalf("log line %q: %v", sc.Text(), err)
			}
			if line.Level != "warn" || line.Error == "" {
				t.Fatalf("at %s: log line %q, want warnings carrying the calendar's error", now, sc.Text())
			}
			got = append(got, warning{line.Market, line.Message})
		}
		if diff := cmp.Diff(run.want, got); diff != "" {
			t.Fatalf("warnings of the runs at t0+%s (-want +got):\n%s", run.at, diff)
		}
	}
}
