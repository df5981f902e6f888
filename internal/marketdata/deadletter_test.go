package marketdata

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"heartbeat/internal/keys"
	"heartbeat/internal/ticks"
)

// TestDeadLettersSameThroughBothSinks writes the same dead letters once
// through the Intraday commit's script and once through a MULTI: the
// streams and the counts by reason must be the same, field by field.
func TestDeadLettersSameThroughBothSinks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 15, 0, 1, 0, time.UTC)
	const shard = 1
	dead := []deadLetter{
		{reason: ticks.ReasonLate, id: "1-0", detail: "late", fields: `{"symbol":"SPY"}`},
		{reason: ticks.ReasonBadPrice, id: "2-0", detail: "price 0", fields: `{"price":"0"}`},
		{reason: ticks.ReasonLate, id: "3-0", detail: "late", fields: `{"symbol":"QQQ"}`},
		{reason: ticks.ReasonCorruptBar, id: "4-0", detail: "undecodable", fields: `{}`},
	}
	type written struct {
		Entries []map[string]any
		Counts  map[string]string
	}
	read := func(t *testing.T, f fixture) written {
		t.Helper()
		msgs, err := f.rdb.XRange(ctx, keys.DeadLetter(shard), "-", "+").Result()
		if err != nil {
			t.Fatal(err)
		}
		var w written
		for _, m := range msgs {
			w.Entries = append(w.Entries, m.Values)
		}
		if w.Counts, err = f.rdb.HGetAll(ctx, keys.DeadLetterCounts(shard)).Result(); err != nil {
			t.Fatal(err)
		}
		return w
	}

	viaCommit := setup(t)
	c := newCommit(keys.Checkpoints(shard), "test", "", "1")
	viaCommit.e.writeDeadLetters(commitDeadLetters{c}, shard, dead, now)
	if n, err := c.run(ctx, viaCommit.e, "test", now); err != nil || n != 1 {
		t.Fatalf("commit: %d, %v", n, err)
	}
	viaMulti := setup(t)
	pipe := viaMulti.rdb.TxPipeline()
	viaMulti.e.writeDeadLetters(pipelineDeadLetters{ctx: ctx, pipe: pipe}, shard, dead, now)
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}

	got := read(t, viaCommit)
	if diff := cmp.Diff(got, read(t, viaMulti)); diff != "" {
		t.Fatalf("commit and MULTI wrote differently (-commit +multi):\n%s", diff)
	}
	want := written{Counts: map[string]string{"late": "2", "bad_price": "1", "corrupt_bar": "1"}}
	for _, d := range dead {
		want.Entries = append(want.Entries, map[string]any{"reason": string(d.reason), "id": d.id, "detail": d.detail,
			"shard": "1", "at": "2026-11-23T15:00:01Z", "fields": d.fields})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("dead letters (-want +got):\n%s", diff)
	}
}
