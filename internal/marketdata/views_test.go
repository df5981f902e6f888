package marketdata

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"heartbeat/internal/decimal"
	"heartbeat/internal/keys"
	"heartbeat/internal/testinfra"
	"heartbeat/internal/ticks"
)

func TestViewsReadWhatTheJobsPublish(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	n := ticks.Shard("SPY", f.e.set.Shards)
	put := func(key string, v any) {
		b, err := json.Marshal(v)
		testinfra.Must(t, err, "encode")
		testinfra.Must(t, f.rdb.HSet(ctx, key, "SPY", b).Err(), "write")
	}
	x := Extremes{Symbol: "SPY", High: decimal.MustParse("612.5"), HighDate: "2026-01-15", Low: decimal.MustParse("480"), LowDate: "2025-04-08", Sessions: 250,
		AsOf: time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC)}
	r := Rolling{Symbol: "SPY", At: time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC), Last: decimal.MustParse("600.25"), Trades: 12, VWAP: "600.1"}
	v := SessionVolumeFigures{Symbol: "SPY", Market: "XNYS", Session: "2026-03-02", Volume: decimal.MustParse("1500"), Trades: 40,
		AsOf: time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC)}

	// Before the jobs ran: not found, no error.
	if _, ok, err := f.e.Week52Of(ctx, "SPY"); ok || err != nil {
		t.Fatalf("week52 before: ok %v err %v", ok, err)
	}
	put(keys.Week52(n), x)
	put(keys.Rolling24h(n), r)
	put(keys.SessionVolume(n), v)

	gotX, ok, err := f.e.Week52Of(ctx, "SPY")
	if err != nil || !ok || !cmp.Equal(x, gotX) {
		t.Fatalf("week52: %+v %v %v", gotX, ok, err)
	}
	gotR, ok, err := f.e.RollingOf(ctx, "SPY")
	if err != nil || !ok || gotR.Last != r.Last || gotR.Trades != 12 || gotR.VWAP != "600.1" {
		t.Fatalf("24h: %+v %v %v", gotR, ok, err)
	}
	gotV, ok, err := f.e.SessionVolumeOf(ctx, "SPY")
	if err != nil || !ok || !cmp.Equal(v, gotV) {
		t.Fatalf("session volume: %+v %v %v", gotV, ok, err)
	}
	if _, ok, err := f.e.State(ctx, "SPY"); ok || err != nil {
		t.Fatalf("state without ticks: ok %v err %v", ok, err)
	}
	testinfra.Must(t, f.rdb.HSet(ctx, keys.Rolling24h(n), "SPY", "{not json").Err(), "corrupt")
	if _, _, err := f.e.RollingOf(ctx, "SPY"); err == nil {
		t.Fatal("corrupt figures decoded")
	}
}

func TestViewsUnknownSymbol(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	for name, read := range map[string]func() error{
		"week52":  func() error { _, _, err := f.e.Week52Of(ctx, "NOPE"); return err },
		"24h":     func() error { _, _, err := f.e.RollingOf(ctx, "NOPE"); return err },
		"volume":  func() error { _, _, err := f.e.SessionVolumeOf(ctx, "NOPE"); return err },
		"state":   func() error { _, _, err := f.e.State(ctx, "NOPE"); return err },
		"vwap":    func() error { _, err := f.e.VwapSeries(ctx, "NOPE", time.Time{}, time.Now(), 0); return err },
		"unknown": func() error { _, err := f.e.shardOf("spy"); return err },
	} {
		if err := read(); !errors.Is(err, ErrUnknownSymbol) {
			t.Fatalf("%s: err %v, want ErrUnknownSymbol", name, err)
		}
	}
}

func TestVwapSeriesRange(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	key := keys.VwapSeries(ticks.Shard("BTCUSD", f.e.set.Shards), "BTCUSD")
	base := time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC)
	for i := range 5 {
		m := base.Add(time.Duration(i) * time.Minute)
		b, _ := json.Marshal(VwapPoint{Symbol: "BTCUSD", Minute: m, VWAP: decimal.FromInt(int64(100 + i)).String()})
		testinfra.Must(t, f.rdb.ZAdd(ctx, key, redis.Z{Score: float64(m.UnixMilli()), Member: b}).Err(), "zadd")
	}
	minutes := func(ps []VwapPoint) []string {
		out := []string{}
		for _, p := range ps {
			out = append(out, p.Minute.Format("15:04"))
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		from, to time.Time
		limit    int
		want     []string
	}{
		{"half-open range", base.Add(time.Minute), base.Add(3 * time.Minute), 0, []string{"14:31", "14:32"}},
		{"everything", base, base.Add(time.Hour), 0, []string{"14:30", "14:31", "14:32", "14:33", "14:34"}},
		{"limit keeps the oldest", base, base.Add(time.Hour), 2, []string{"14:30", "14:31"}},
		{"empty range", base.Add(time.Minute), base.Add(time.Minute), 0, []string{}},
	} {
		got, err := f.e.VwapSeries(ctx, "BTCUSD", tc.from, tc.to, tc.limit)
		testinfra.Must(t, err, tc.name)
		if diff := cmp.Diff(tc.want, minutes(got)); diff != "" {
			t.Fatalf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}

func TestDeadLetterCountsAndMarketFigures(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	if got, err := f.e.DeadLetterCounts(ctx); err != nil || len(got) != 0 {
		t.Fatalf("no dead letters: %v %v", got, err)
	}
	f.rdb.HSet(ctx, keys.DeadLetterCounts(0), "late", 3, "unknown_symbol", 1)
	f.rdb.HSet(ctx, keys.DeadLetterCounts(1), "late", 2)
	got, err := f.e.DeadLetterCounts(ctx)
	testinfra.Must(t, err, "counts")
	if diff := cmp.Diff(map[string]int64{"late": 5, "unknown_symbol": 1}, got); diff != "" {
		t.Fatalf("counts (-want +got):\n%s", diff)
	}
	f.rdb.HSet(ctx, keys.DeadLetterCounts(1), "late", "x")
	if _, err := f.e.DeadLetterCounts(ctx); err == nil {
		t.Fatal("a bad count was summed")
	}
	f.rdb.HSet(ctx, keys.MarketMetrics("XNYS"), "session", "2026-03-02", "up", "2")
	m, err := f.e.MarketFigures(ctx, "XNYS")
	if err != nil || m["up"] != "2" || m["session"] != "2026-03-02" {
		t.Fatalf("market figures %v %v", m, err)
	}
}
