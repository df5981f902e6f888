package marketdata

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"heartbeat/internal/keys"
	"heartbeat/internal/testinfra"
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

// TestRejectLogsOncePerReasonAndMinute: a run that rejects several ticks
// for one reason logs one line for it; the next run within the minute
// none; a run a minute later one again.
func TestRejectLogsOncePerReasonAndMinute(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	_, rdb := testinfra.Mini(t)
	f := setupOn(t, rdb, testSettings(), func(d *Deps) { d.Log = zerolog.New(&logs) })
	now := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	ms := strconv.FormatInt(now.UnixMilli(), 10)
	lines := func() int { return strings.Count(logs.String(), "rejected to the dead-letter stream") }
	for i, run := range []struct {
		at   time.Duration
		bad  int
		want int // lines logged so far
	}{
		{0, 3, 1}, {30 * time.Second, 2, 1}, {time.Minute, 1, 2},
	} {
		for j := range run.bad {
			f.add(t, fmt.Sprintf("%d-%d", i+1, j), ticks.FieldSymbol, "SPY", ticks.FieldPrice, "0", ticks.FieldSize, "1", ticks.FieldTS, ms)
		}
		f.intradayAll(t, now.Add(run.at))
		if got := lines(); got != run.want {
			t.Fatalf("run %d: %d lines logged, want %d:\n%s", i, got, run.want, logs.String())
		}
	}
}
