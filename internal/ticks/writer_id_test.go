package ticks

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"heartbeat/internal/decimal"
	"heartbeat/internal/keys"
	"heartbeat/internal/replication"
	"heartbeat/internal/testinfra"
)

// idTicks are trades of one symbol: two at the same millisecond and one
// out of order, so the derived IDs use the sequence.
func idTicks(t *testing.T) []Tick {
	t.Helper()
	base := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	mk := func(ms int, price string) Tick {
		p, err := decimal.Parse(price)
		if err != nil {
			t.Fatal(err)
		}
		return Tick{Symbol: "ES", Price: p, Size: decimal.Dec(1e8), Time: base.Add(time.Duration(ms) * time.Millisecond)}
	}
	return []Tick{mk(0, "100"), mk(5, "100.25"), mk(5, "100.5"), mk(3, "99.75"), mk(9, "101")}
}

func streamIDs(t *testing.T, rdb redis.UniversalClient, shard int) []string {
	t.Helper()
	xs, err := rdb.XRange(context.Background(), keys.Ticks(shard), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(xs))
	for i, x := range xs {
		ids[i] = x.ID
	}
	return ids
}

func TestWriterDerivesIDsAndRetriesAddNothing(t *testing.T) {
	t.Parallel()
	_, rdb := testinfra.Mini(t)
	ctx := context.Background()
	batch := idTicks(t)
	ms := batch[0].Time.UnixMilli()
	w := NewWriter(rdb, 1)
	if err := w.Write(ctx, batch); err != nil {
		t.Fatal(err)
	}
	id := func(off, seq int) string { return strconv.FormatInt(ms+int64(off), 10) + "-" + strconv.Itoa(seq) }
	want := []string{id(0, 0), id(5, 0), id(5, 1), id(5, 2), id(9, 0)} // the out-of-order tick follows the last ID
	if got := streamIDs(t, rdb, 0); len(got) != len(want) || got[0] != want[0] || got[3] != want[3] || got[4] != want[4] {
		t.Fatalf("IDs %v, want %v", got, want)
	}
	// A retry of the same batch by a Writer whose last write failed (or
	// a replay started over) derives the same IDs and adds nothing.
	again := NewWriter(rdb, 1)
	if err := again.Write(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if got := streamIDs(t, rdb, 0); len(got) != len(want) {
		t.Fatalf("after the retry the stream holds %d entries, want %d", len(got), len(want))
	}
	if st := again.Stats(); st != (WriterStats{Duplicates: uint64(len(batch))}) {
		t.Fatalf("stats %+v, want %d duplicates", st, len(batch))
	}
	// The next batch follows on.
	next := []Tick{batch[4]}
	next[0].Time = next[0].Time.Add(time.Millisecond)
	if err := again.Write(ctx, next); err != nil {
		t.Fatal(err)
	}
	if got := streamIDs(t, rdb, 0); len(got) != len(want)+1 || got[len(want)] != id(10, 0) {
		t.Fatalf("IDs after the next batch %v", got)
	}
}

func TestWriterRefusedIDsAreCountedNotDropped(t *testing.T) {
	t.Parallel()
	_, rdb := testinfra.Mini(t)
	ctx := context.Background()
	batch := idTicks(t)
	w := NewWriter(rdb, 1)
	if err := w.Write(ctx, batch); err != nil {
		t.Fatal(err)
	}
	// Another feed's tick, later than all of batch, on the same shard.
	other := NewWriter(rdb, 1)
	late := batch[4]
	late.Time = late.Time.Add(time.Minute)
	if err := other.Write(ctx, []Tick{late}); err != nil {
		t.Fatal(err)
	}
	// A third writer sends two new ticks timed inside batch's span: one
	// whose ID is held by a different tick (reassigned), and, after the
	// stream is trimmed past it, one older than everything kept (stale).
	third := NewWriter(rdb, 1)
	fresh := batch[1]
	fresh.Price = decimal.Dec(123 * 1e8)
	if err := third.Write(ctx, []Tick{fresh}); err != nil {
		t.Fatal(err)
	}
	if st := third.Stats(); st != (WriterStats{Reassigned: 1}) {
		t.Fatalf("stats %+v, want 1 reassigned", st)
	}
	if n := len(streamIDs(t, rdb, 0)); n != len(batch)+2 {
		t.Fatalf("stream holds %d entries, want %d: the reassigned tick must be appended", n, len(batch)+2)
	}
	if err := rdb.XTrimMinID(ctx, keys.Ticks(0), streamIDs(t, rdb, 0)[len(batch)]).Err(); err != nil {
		t.Fatal(err)
	}
	fourth := NewWriter(rdb, 1)
	if err := fourth.Write(ctx, []Tick{batch[0]}); err != nil {
		t.Fatal(err)
	}
	if st := fourth.Stats(); st != (WriterStats{Stale: 1}) {
		t.Fatalf("stats %+v, want 1 stale", st)
	}
}

func TestWriterWaitsForReplicas(t *testing.T) {
	t.Parallel()
	master := testinfra.StartRedis(t)
	replica := testinfra.StartRedis(t, testinfra.WithArgs("--replicaof", "127.0.0.1", strconv.Itoa(master.Port)))
	rdb := master.Client()
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := rdb.Do(ctx, "wait", 1, 100).Int()
		if err == nil && n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica %s did not connect: %v", replica.Addr(), err)
		}
	}
	batch := idTicks(t)
	if err := NewWriter(rdb, 2, WaitReplicas(1)).Write(ctx, batch); err != nil {
		t.Fatalf("WAIT 1 with one replica: %v", err)
	}
	// Two replicas asked, one there: the ticks are written, the write
	// reports the shortfall, and its retry adds nothing.
	w := NewWriter(rdb, 2, WaitReplicas(2))
	more := []Tick{batch[4]}
	more[0].Time = more[0].Time.Add(time.Second)
	for attempt := range 2 {
		err := w.Write(ctx, more)
		var short *replication.ShortError
		if !errors.As(err, &short) || short.Acked != 1 || short.Want != 2 {
			t.Fatalf("attempt %d: WAIT 2 with one replica = %v, want a ShortError 1 of 2", attempt, err)
		}
	}
	total := 0
	for n := range 2 {
		total += len(streamIDs(t, replica.Client(), n))
	}
	if total != len(batch)+1 {
		t.Fatalf("the replica holds %d entries, want %d", total, len(batch)+1)
	}
}
