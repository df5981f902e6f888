package marketdata

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"heartbeat/internal/decimal"
	"heartbeat/internal/market"
	"heartbeat/internal/testinfra"
	"heartbeat/internal/ticks"
)

// BenchmarkIntradayRun measures one Intraday run on a real redis-server:
// a shard of 625 symbols (5,000 symbols over 8 shards) with 12,500 new
// ticks, the load of 100,000 ticks/s. Each op is one run; ticks/s is the
// rate one shard's runs sustain.
func BenchmarkIntradayRun(b *testing.B) {
	srv := testinfra.StartRedis(b)
	rdb := srv.Client()
	const symbols, perRun = 625, 12_500
	var list []market.Instrument
	for i := 0; i < symbols; i++ {
		list = append(list, market.Instrument{Symbol: fmt.Sprintf("S%04dUSD", i), Market: market.ALWAYS, Weight: 1})
	}
	in, err := market.NewInstruments(nil, list)
	if err != nil {
		b.Fatal(err)
	}
	set := testSettings()
	set.Shards, set.BatchSize = 1, 1_000_000
	e, err := New(set, Deps{Redis: rdb, Instruments: in, Log: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	w := ticks.NewWriter(rdb, 1)
	ctx := context.Background()
	start := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	batch := make([]ticks.Tick, perRun)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		now := start.Add(time.Duration(i) * time.Second)
		for k := range batch {
			batch[k] = ticks.Tick{Symbol: list[k%symbols].Symbol, Price: decimal.FromInt(100) + decimal.Dec(k%977),
				Size: decimal.FromInt(int64(1 + k%9)), Time: now.Add(time.Duration(k) * time.Second / perRun)}
		}
		if err := w.Write(ctx, batch); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		st, err := e.Intraday(ctx, 0, now.Add(time.Second))
		if err != nil {
			b.Fatal(err)
		}
		if st.Accepted != perRun {
			b.Fatalf("accepted %d of %d", st.Accepted, perRun)
		}
	}
	b.ReportMetric(float64(perRun*b.N)/b.Elapsed().Seconds(), "ticks/s")
}
