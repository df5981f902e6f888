package marketdata

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/redis/go-redis/v9"

	"heartbeat/internal/decimal"
	"heartbeat/internal/keys"
	"heartbeat/internal/testinfra"
	"heartbeat/internal/ticks"
)

// TestViewsReadWhatTheJobsPublish runs the jobs on two SPY trades and
// checks that each view returns exactly what its job computed (the job's
// own return value), and the figures a hand computation gives: volume
// 10 + 5, two trades, last 600.50, high 600.50, low 600.25.
func TestViewsReadWhatTheJobsPublish(t *testing.T) {
	t.Parallel()
	f := setup(t, withStore())
	ctx := context.Background()
	n := ticks.Shard("SPY", f.e.set.Shards)

	// Before the jobs ran: not found, no error.
	if _, ok, err := f.e.Week52Of(ctx, "SPY"); ok || err != nil {
		t.Fatalf("week52 before: ok %v err %v", ok, err)
	}
	if _, ok, err := f.e.RollingOf(ctx, "SPY"); ok || err != nil {
		t.Fatalf("24h before: ok %v err %v", ok, err)
	}
	if _, ok, err := f.e.SessionVolumeOf(ctx, "SPY"); ok || err != nil {
		t.Fatalf("session volume before: ok %v err %v", ok, err)
	}

	f.trade(t, "1000-1", "SPY", "600.25", "10", mon(14, 31, 0, 0))
	f.trade(t, "2000-1", "SPY", "600.50", "5", mon(14, 32, 0, 0))
	now := mon(14, 33, 0, 0)
	f.intradayAll(t, now)

	perSymbol, _, err := f.e.SessionVolume(ctx, now)
	testinfra.Must(t, err, "SessionVolume")
	rolling, err := f.e.TwentyFourHour(ctx, n, now)
	testinfra.Must(t, err, "TwentyFourHour")
	extremes, err := f.e.Week52Extremes(ctx, n, now)
	testinfra.Must(t, err, "Week52Extremes")

	wantV := SessionVolumeFigures{Symbol: "SPY", Market: "XNYS", Session: "2026-11-23", Volume: decimal.MustParse("15"), Trades: 2, AsOf: now}
	if diff := cmp.Diff(wantV, perSymbol["SPY"]); diff != "" {
		t.Fatalf("SessionVolume's SPY (-want +got):\n%s", diff)
	}
	gotV, ok, err := f.e.SessionVolumeOf(ctx, "SPY")
	if err != nil || !ok {
		t.Fatalf("session volume view: ok %v err %v", ok, err)
	}
	if diff := cmp.Diff(perSymbol["SPY"], gotV); diff != "" {
		t.Fatalf("session volume view vs the job (-job +view):\n%s", diff)
	}

	var jobR *Rolling
	for i := range rolling {
		if rolling[i].Symbol == "SPY" {
			jobR = &rolling[i]
		}
	}
	if jobR == nil {
		t.Fatalf("TwentyFourHour published no SPY figures: %+v", rolling)
	}
	if jobR.Last != decimal.MustParse("600.50") || jobR.Trades != 2 || jobR.Volume != decimal.MustParse("15") {
		t.Fatalf("TwentyFourHour's SPY: last %s trades %d volume %s, want 600.50, 2, 15", jobR.Last, jobR.Trades, jobR.Volume)
	}
	gotR, ok, err := f.e.RollingOf(ctx, "SPY")
	if err != nil || !ok {
		t.Fatalf("24h view: ok %v err %v", ok, err)
	}
	// Notional is not published (json:"-").
	if diff := cmp.Diff(*jobR, gotR, cmpopts.IgnoreFields(Rolling{}, "Notional")); diff != "" {
		t.Fatalf("24h view vs the job (-job +view):\n%s", diff)
	}

	jobX, ok := extremes["SPY"]
	if !ok {
		t.Fatalf("Week52Extremes published no SPY figures: %+v", extremes)
	}
	if jobX.High != decimal.MustParse("600.50") || jobX.Low != decimal.MustParse("600.25") {
		t.Fatalf("Week52Extremes's SPY: high %s low %s, want 600.50 and 600.25", jobX.High, jobX.Low)
	}
	gotX, ok, err := f.e.Week52Of(ctx, "SPY")
	if err != nil || !ok {
		t.Fatalf("week52 view: ok %v err %v", ok, err)
	}
	if diff := cmp.Diff(jobX, gotX); diff != "" {
		t.Fatalf("week52 view vs the job (-job +view):\n%s", diff)
	}

	if _, ok, err := f.e.State(ctx, "QQQ"); ok || err != nil {
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
