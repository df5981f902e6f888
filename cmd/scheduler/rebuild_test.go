package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"heartbeat/internal/bars"
	"heartbeat/internal/cli"
	"heartbeat/internal/clock"
	"heartbeat/internal/config"
	"heartbeat/internal/decimal"
	"heartbeat/internal/keys"
	"heartbeat/internal/market"
	"heartbeat/internal/testinfra"
	"heartbeat/internal/ticks"
)

// TestRebuildCommand seeds a CSV bar store with a finished SPY session and
// three minute bars of the current one, and runs the command twice on an
// empty Redis with a fake clock: the first run restores them, the second
// finds nothing to do.
func TestRebuildCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m, rdb := testinfra.Mini(t)
	dir := t.TempDir()
	store, err := bars.OpenFiles(dir)
	testinfra.Must(t, err, "open store")
	friday := time.Date(2026, 11, 20, 14, 30, 0, 0, time.UTC)
	testinfra.Must(t, store.UpsertDaily(ctx, []bars.Daily{{
		Symbol: "SPY", Market: "XNYS", Session: market.NewDate(2026, 11, 20),
		Open: decimal.MustParse("100"), High: decimal.MustParse("101"), Low: decimal.MustParse("99"), Close: decimal.MustParse("100.5"),
		Volume: decimal.MustParse("10"), Trades: 4, Notional: decimal.Mul(decimal.MustParse("100"), decimal.MustParse("10")),
		FirstTrade: friday, LastTrade: friday.Add(6 * time.Hour),
	}}), "seed daily")
	monday := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	var minutes []bars.Bar
	for i := range 3 {
		p := decimal.FromInt(int64(102 + i))
		minutes = append(minutes, bars.Bar{Symbol: "SPY", Market: "XNYS", Start: monday.Add(time.Duration(i) * time.Minute),
			Open: p, High: p, Low: p, Close: p, Volume: decimal.FromInt(1), Trades: 1, Notional: decimal.Mul(p, decimal.FromInt(1)), Revision: 1})
	}
	testinfra.Must(t, store.Upsert(ctx, minutes), "seed bars")

	args := []string{"--redis", "redis://" + m.Addr() + "/0", "--store-dir", dir}
	clk := clock.NewFake(monday.Add(time.Hour))
	for _, tc := range []struct {
		name string
		want string
	}{
		{"restores", "rebuild at 2026-11-23T16:00:00Z: 1 symbols, 1 daily rows, 3 minute bars, 1 intraday states restored\n"},
		{"twice is once", "rebuild at 2026-11-23T16:00:00Z: 0 symbols, 0 daily rows, 0 minute bars, 0 intraday states restored\n"},
	} {
		var stdout, stderr bytes.Buffer
		if err := rebuild(ctx, args, &stdout, &stderr, clk); err != nil {
			t.Fatalf("%s: %v\nstderr %s", tc.name, err, stderr.String())
		}
		if stdout.String() != tc.want {
			t.Fatalf("%s: stdout %q, want %q", tc.name, stdout.String(), tc.want)
		}
	}
	shard := ticks.Shard("SPY", config.Default().Ingest.Shards)
	if got := rdb.HLen(ctx, keys.DailyBars(shard, "SPY")).Val(); got != 1 {
		t.Fatalf("SPY daily bars in Redis: %d, want 1", got)
	}
	if got := rdb.ZCard(ctx, keys.MinuteBars(shard, "SPY", monday.UnixMilli()/time.Hour.Milliseconds())).Val(); got != 3 {
		t.Fatalf("SPY minute bars in Redis: %d, want 3", got)
	}
}

func TestRebuildCommandErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"bad flag", []string{"rebuild", "--bogus"}, cli.ExitUsage},
		{"extra argument", []string{"rebuild", "now"}, cli.ExitUsage},
		{"bad store url", []string{"rebuild", "--postgres-url", "mysql://x"}, cli.ExitUsage},
		{"redis down", []string{"rebuild", "--redis", "redis://127.0.0.1:1/0", "--store-dir", t.TempDir()}, cli.ExitError},
	} {
		if r := runCLI(t, tc.args...); r.code != tc.code {
			t.Fatalf("%s: exit code %d, want %d\nstderr %s", tc.name, r.code, tc.code, r.stderr)
		}
	}
}
