package events_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"heartbeat/internal/events"
	"heartbeat/internal/market"
	"heartbeat/internal/testinfra"
)

// onBothRedis runs check on a miniredis and, when redis-server is there
// (always in CI), on a real one.
func onBothRedis(t *testing.T, check func(t *testing.T, rdb redis.UniversalClient)) {
	t.Run("miniredis", func(t *testing.T) {
		t.Parallel()
		_, rdb := testinfra.Mini(t)
		check(t, rdb)
	})
	t.Run("redis-server", func(t *testing.T) {
		t.Parallel()
		check(t, testinfra.StartRedis(t).Client())
	})
}

func TestEmitOncePerIdentity(t *testing.T) {
	t.Parallel()
	onBothRedis(t, func(t *testing.T, rdb redis.UniversalClient) {
		ctx := context.Background()
		s := events.NewStream(rdb, 0)
		day := market.NewDate(2026, 12, 2)
		open := events.Transition{Market: market.XNYS, Kind: events.Open, At: time.Date(2026, 12, 2, 14, 30, 0, 0, time.UTC), Session: day}
		halt := events.Transition{Market: market.XNYS, Kind: events.HaltStart, At: time.Date(2026, 12, 2, 16, 0, 0, 0, time.UTC), Session: day}
		late := open
		late.At = open.At.Add(30 * time.Minute) // a late open entered after the open was emitted
		steps := []struct {
			tr   events.Transition
			term int64
			want events.Outcome
		}{
			{open, 1, events.Emitted},
			{open, 2, events.Duplicate}, // another replica, a later term: same identity
			{halt, 2, events.Emitted},
			{halt, 2, events.Duplicate},
			{late, 2, events.Moved},
			{late, 3, events.Duplicate},
		}
		for i, st := range steps {
			got, _, err := s.Emit(ctx, st.tr, st.term)
			if err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
			if got != st.want {
				t.Fatalf("step %d (%s term %d): outcome %d, want %d", i, st.tr.ID(), st.term, got, st.want)
			}
		}
		evs, err := s.Read(ctx, "", 100, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 3 {
			t.Fatalf("read %d events, want 3: %+v", len(evs), evs)
		}
		if e := evs[0]; e.Kind != events.Open || !e.At.Equal(open.At) || e.Term != 1 || e.Session != day || e.Market != market.XNYS {
			t.Fatalf("first event %+v, want the open of term 1", e)
		}
		if e := evs[2]; e.Kind != events.Changed || e.Of != events.Open || !e.Was.Equal(open.At) || !e.At.Equal(late.At) {
			t.Fatalf("third event %+v, want changed of open from %s to %s", e, open.At, late.At)
		}
		after, err := s.Read(ctx, evs[0].ID, 100, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(after) != 2 || after[0].ID != evs[1].ID {
			t.Fatalf("read after %s: %+v, want the last two", evs[0].ID, after)
		}
	})
}

func TestStartThenCursorOnlyMovesForward(t *testing.T) {
	t.Parallel()
	onBothRedis(t, func(t *testing.T, rdb redis.UniversalClient) {
		ctx := context.Background()
		s := events.NewStream(rdb, time.Hour)
		t0 := time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC)
		if c, o, err := s.Start(ctx, t0); err != nil || !c.Equal(t0) || !o.Equal(t0) {
			t.Fatalf("fresh Start = %v, %v, %v; want %v twice", c, o, err, t0)
		}
		t1 := t0.Add(30 * time.Minute)
		for _, at := range []time.Time{t1, t1.Add(-time.Minute)} {
			if err := s.Advance(ctx, at); err != nil {
				t.Fatal(err)
			}
		}
		if c, o, err := s.Start(ctx, t1.Add(time.Hour)); err != nil || !c.Equal(t1) || !o.Equal(t0) {
			t.Fatalf("Start = %v, %v, %v; want cursor %v, origin %v", c, o, err, t1, t0)
		}
	})
}

func TestDedupForgetsOnlyPastRetention(t *testing.T) {
	t.Parallel()
	onBothRedis(t, func(t *testing.T, rdb redis.UniversalClient) {
		ctx := context.Background()
		s := events.NewStream(rdb, time.Hour)
		at := time.Date(2026, 12, 2, 14, 30, 0, 0, time.UTC)
		old := events.Transition{Market: market.XNYS, Kind: events.HaltStart, At: at, Session: market.NewDate(2026, 12, 2)}
		if out, _, err := s.Emit(ctx, old, 1); err != nil || out != events.Emitted {
			t.Fatalf("emit: %v %v", out, err)
		}
		newer := old
		newer.At = at.Add(30 * time.Minute)
		if out, _, err := s.Emit(ctx, newer, 1); err != nil || out != events.Emitted {
			t.Fatalf("emit: %v %v", out, err)
		}
		if out, _, _ := s.Emit(ctx, old, 1); out != events.Duplicate {
			t.Fatalf("within retention: outcome %d, want duplicate", out)
		}
		later := old
		later.At = at.Add(2 * time.Hour)
		if out, _, err := s.Emit(ctx, later, 1); err != nil || out != events.Emitted {
			t.Fatalf("emit: %v %v", out, err)
		}
		if n := rdb.ZCard(ctx, "hb:{events}:seen").Val(); n != 1 {
			t.Fatalf("seen set holds %d identities after 2h with 1h retention, want 1", n)
		}
	})
}
