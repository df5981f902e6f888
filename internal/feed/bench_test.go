package feed

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"heartbeat/internal/clock"
	"heartbeat/internal/testinfra"
	"heartbeat/internal/ticks"
)

// benchSimulator runs a 100,000 ticks/s simulator over every default
// instrument on a fake clock, in 10ms steps, until it has written b.N
// ticks; one op is one tick.
func benchSimulator(b *testing.B, w TickWriter) {
	ctx := context.Background()
	clk := clock.NewFake(tuesday)
	sim, err := NewSimulator(SimConfig{Instruments: instruments(b), Rate: 100_000, AllHours: true, Seed: 1},
		SimDeps{Writer: w, Clock: clk})
	if err != nil {
		b.Fatal(err)
	}
	if err := sim.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer sim.Stop(ctx)
	if err := clk.WaitForSleepers(ctx, 1); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for sim.Stats().TicksWritten < uint64(b.N) {
		clk.Advance(10 * time.Millisecond)
		if err := clk.WaitForSleepers(ctx, 1); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	st := sim.Stats()
	if st.Errors != 0 {
		b.Fatalf("stats %+v", st)
	}
	b.ReportMetric(float64(st.TicksWritten)/b.Elapsed().Seconds(), "ticks/s")
}

// discard is a TickWriter that drops everything.
type discard struct{}

func (discard) Write(context.Context, []ticks.Tick) error  { return nil }
func (discard) WriteRaw(context.Context, [][]string) error { return nil }

// BenchmarkSimulatorDraw measures generating ticks alone.
func BenchmarkSimulatorDraw(b *testing.B) { benchSimulator(b, discard{}) }

// BenchmarkSimulatorWrite measures ticks/s into miniredis through
// ticks.Writer (XADD + HSET per tick, one pipeline per 10ms batch).
func BenchmarkSimulatorWrite(b *testing.B) {
	_, rdb := testinfra.Mini(b)
	benchSimulator(b, ticks.NewWriter(rdb, 4))
}

// BenchmarkSimulatorWriteRedis is BenchmarkSimulatorWrite against a real
// redis-server.
func BenchmarkSimulatorWriteRedis(b *testing.B) {
	srv := testinfra.StartRedis(b)
	benchSimulator(b, ticks.NewWriter(srv.Client(), 4))
}

// benchReplay replays b.N generated rows with --max; one op is one row.
func benchReplay(b *testing.B, w RawWriter) {
	tr, err := NewTradeReader(&generatedCSV{n: b.N})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	st, err := Replay(context.Background(), tr, ReplayConfig{Max: true, Validator: defaultValidator(b)},
		ReplayDeps{Writer: w, Clock: clock.NewFake(time.UnixMilli(t0ms).Add(time.Hour))})
	b.StopTimer()
	if err != nil || st.Ticks != uint64(b.N) {
		b.Fatalf("stats %+v, err %v", st, err)
	}
	b.ReportMetric(float64(st.Rows)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkReplayParse measures reading and validating rows alone.
func BenchmarkReplayParse(b *testing.B) { benchReplay(b, discard{}) }

// BenchmarkReplayMax measures replay --max into miniredis.
func BenchmarkReplayMax(b *testing.B) {
	_, rdb := testinfra.Mini(b)
	benchReplay(b, ticks.NewWriter(rdb, 4))
}

// BenchmarkReplayMaxRedis measures replay --max into a real redis-server.
func BenchmarkReplayMaxRedis(b *testing.B) {
	srv := testinfra.StartRedis(b)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer c.Close()
	benchReplay(b, ticks.NewWriter(c, 4))
}
