package scheduler

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"heartbeat/internal/clock"
	"heartbeat/internal/keys"
	"heartbeat/internal/market"
	"heartbeat/internal/metrics"
	"heartbeat/internal/testinfra"
)

// noEnqueue is the Enqueuer of a replica without jobs.
type noEnqueue struct{}

func (noEnqueue) EnqueueContext(context.Context, *asynq.Task, ...asynq.Option) (*asynq.TaskInfo, error) {
	return &asynq.TaskInfo{}, nil
}

// entryTime is the Redis time of a stream entry: its ID's milliseconds.
func entryTime(b *testing.B, id string) time.Time {
	ms, _, _ := strings.Cut(id, "-")
	n, err := strconv.ParseInt(ms, 10, 64)
	if err != nil {
		b.Fatalf("entry ID %q: %v", id, err)
	}
	return time.UnixMilli(n)
}

// BenchmarkEventLatency measures, on the wall clock and a redis-server of
// its own, how long after a transition's instant its event is in the
// stream: each iteration starts a replica on a clock shifted so that
// XNYS's open of 2026-11-23 is 1.5 s ahead (more than a fast tick, so
// the replica leads and has started the stream before it), and reads the open's entry ID
// (Redis's time of the append). The baseline, in the same run: a timer to
// a whole millisecond 1.5 s ahead and one XADD, the floor any emitter has.
// Both in whole milliseconds (stream IDs are).
//
//	go test -run '^$' -bench EventLatency -benchtime 40x ./internal/scheduler/
func BenchmarkEventLatency(b *testing.B) {
	rdb := testinfra.StartRedis(b).Client()
	in, err := market.NewInstruments(nil, []market.Instrument{{Symbol: "SPY", Market: market.XNYS, Weight: 1}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	open := time.Date(2026, 11, 23, 14, 30, 0, 0, time.UTC)
	// More than a fast tick: the replica's events loop wakes once (and
	// starts the stream) before the open.
	const ahead = 1500 * time.Millisecond
	var lat, floor []time.Duration
	for b.Loop() {
		if err := rdb.FlushAll(ctx).Err(); err != nil {
			b.Fatal(err)
		}
		// A shift of whole milliseconds: the open is then a whole
		// millisecond of the wall clock too, as the stream IDs count.
		clk := clock.Shifted{Shift: open.Add(-ahead).Sub(time.Now()).Truncate(time.Millisecond)}
		s, err := New(testConfig("bench"), Deps{Redis: rdb, Enqueuer: noEnqueue{}, Instruments: in, Clock: clk, Log: zerolog.Nop(), Metrics: metrics.New()})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Start(ctx); err != nil {
			b.Fatal(err)
		}
		id := waitEntry(b, rdb, keys.MarketEvents(), 5*time.Second)
		lat = append(lat, entryTime(b, id).Add(clk.Shift).Sub(open))
		stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		if err := s.Stop(stopCtx); err != nil {
			b.Fatal(err)
		}
		cancel()

		// A whole millisecond, as the open is: stream IDs count whole
		// milliseconds, so both figures round the same way.
		target := time.Now().Add(ahead).Truncate(time.Millisecond)
		if err := (clock.Real{}).SleepUntil(ctx, target); err != nil {
			b.Fatal(err)
		}
		fid, err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: "bench:floor", Values: []string{"at", target.String()}}).Result()
		if err != nil {
			b.Fatal(err)
		}
		floor = append(floor, entryTime(b, fid).Sub(target))
	}
	q := func(d []time.Duration, p float64) float64 {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return float64(d[min(len(d)-1, int(p*float64(len(d))))].Milliseconds())
	}
	// With tens of samples a 99th percentile is the maximum: p50, p90 and
	// the maximum are reported.
	b.ReportMetric(q(lat, 0.5), "event-p50-ms")
	b.ReportMetric(q(lat, 0.9), "event-p90-ms")
	b.ReportMetric(q(lat, 1), "event-max-ms")
	b.ReportMetric(q(floor, 0.5), "floor-p50-ms")
	b.ReportMetric(q(floor, 0.9), "floor-p90-ms")
	b.ReportMetric(q(floor, 1), "floor-max-ms")
}

// waitEntry waits for the first entry of a stream and returns its ID.
func waitEntry(b *testing.B, rdb redis.UniversalClient, key string, bound time.Duration) string {
	deadline := time.Now().Add(bound)
	for time.Now().Before(deadline) {
		msgs, err := rdb.XRangeN(context.Background(), key, "-", "+", 1).Result()
		if err != nil {
			b.Fatal(err)
		}
		if len(msgs) > 0 {
			return msgs[0].ID
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.Fatalf("no entry in %s within %s", key, bound)
	return ""
}
