package calendars

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"heartbeat/internal/clock"
	"heartbeat/internal/market"
	"heartbeat/internal/testinfra"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newBook(t *testing.T) *market.Book {
	t.Helper()
	b, err := market.NewBook(market.BookConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func trading(t *testing.T, b *market.Book, d market.Date) bool {
	t.Helper()
	cal, err := b.Lookup(market.XNYS)
	if err != nil {
		t.Fatal(err)
	}
	_, ok, err := cal.Session(d)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// TestEntriesReachEveryProcessWithinAFastTick: two scheduler replicas and
// a worker each keep their own book; an entry made through one is in force
// in all three after one fast tick, and in a process started afterwards
// from its first sync (a restart keeps it).
func TestEntriesReachEveryProcessWithinAFastTick(t *testing.T) {
	t.Parallel()
	for _, backend := range []struct {
		name  string
		redis func(t *testing.T) redis.UniversalClient
	}{
		{"miniredis", func(t *testing.T) redis.UniversalClient { _, rdb := testinfra.Mini(t); return rdb }},
		{"redis-server", func(t *testing.T) redis.UniversalClient { return testinfra.StartRedis(t).Client() }},
	} {
		t.Run(backend.name, func(t *testing.T) {
			t.Parallel()
			entriesReachEveryProcess(t, backend.redis(t))
		})
	}
}

// entriesReachEveryProcess: three processes' watchers (two replicas and a
// worker) on rdb apply an entry within a fast tick, a restarted one has
// it from Start, and its removal reaches all of them at the next tick.
func entriesReachEveryProcess(t *testing.T, rdb redis.UniversalClient) {
	clk := clock.NewFake(time.Date(2027, 1, 10, 12, 0, 0, 0, time.UTC))
	ctx := context.Background()
	const tick = time.Second
	var books []*market.Book
	var watchers []*Watcher
	for range 3 { // replica a, replica b, a worker
		b := newBook(t)
		w := NewWatcher(New(rdb, b), clk, tick, zerolog.Nop())
		if err := w.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = w.Stop(ctx) })
		books, watchers = append(books, b), append(watchers, w)
	}
	if err := clk.WaitForSleepers(ctx, 3); err != nil {
		t.Fatal(err)
	}
	day := market.NewDate(2027, 1, 11)
	stored, err := New(rdb, books[0]).Add(ctx, market.Override{Market: market.XNYS, Kind: market.KindHoliday, Date: day, Name: "hurricane"}, "cli:desk", clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	if stored.Source.Ref != "calendar:XNYS:2027-01-11:holiday" || stored.Source.Actor != "cli:desk" || !stored.Source.At.Equal(clk.Now()) {
		t.Fatalf("stored source %+v", stored.Source)
	}
	for i, b := range books {
		if !trading(t, b, day) {
			t.Fatalf("process %d applied the entry before its tick", i)
		}
	}
	clk.Advance(tick)
	if err := clk.WaitForSleepers(ctx, 3); err != nil {
		t.Fatal(err)
	}
	for i, b := range books {
		if trading(t, b, day) {
			t.Fatalf("process %d did not apply the closure within a fast tick", i)
		}
	}
	// A process started now (a restart) has it from Start.
	b := newBook(t)
	w := NewWatcher(New(rdb, b), clk, tick, zerolog.Nop())
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer w.Stop(ctx)
	if trading(t, b, day) {
		t.Fatal("a restarted process does not have the entry")
	}
	// Removing it reopens the day everywhere at the next tick.
	if _, err := New(rdb, books[1]).Remove(ctx, stored.Source.Ref); err != nil {
		t.Fatal(err)
	}
	if err := clk.WaitForSleepers(ctx, 4); err != nil {
		t.Fatal(err)
	}
	clk.Advance(tick)
	if err := clk.WaitForSleepers(ctx, 4); err != nil {
		t.Fatal(err)
	}
	for i, b := range append(books, b) {
		if !trading(t, b, day) {
			t.Fatalf("process %d still closed after the removal", i)
		}
	}
	if watchers[0].Revision() != 2 {
		t.Fatalf("revision %d, want 2 (one add, one remove)", watchers[0].Revision())
	}
}

func TestAddRefusesWhatDoesNotFit(t *testing.T) {
	t.Parallel()
	_, rdb := testinfra.Mini(t)
	ctx := context.Background()
	rt := New(rdb, newBook(t))
	at := time.Date(2027, 1, 10, 12, 0, 0, 0, time.UTC)
	early := market.Override{Market: market.XNYS, Kind: market.KindEarlyClose, Date: market.NewDate(2027, 1, 12), Close: 13 * 60}
	if _, err := rt.Add(ctx, early, "t", at); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		o    market.Override
		want string
		is   error
	}{
		{early, "two early_close", nil},
		{market.Override{Market: market.XNYS, Kind: market.KindHoliday, Date: market.NewDate(2027, 1, 12)}, "both a holiday", nil},
		{market.Override{Market: market.XNYS, Kind: market.KindLateOpen, Date: market.NewDate(2027, 1, 16), Open: 10 * 60}, "not a trading day", nil},
		{market.Override{Market: market.XSHG, Kind: market.KindHoliday, Date: market.NewDate(2027, 2, 8)}, "coverage", nil},
	}
	for _, tc := range cases {
		_, err := rt.Add(ctx, tc.o, "t", at)
		if err == nil || !strings.Contains(err.Error(), tc.want) || (tc.is != nil && !errors.Is(err, tc.is)) {
			t.Fatalf("Add(%+v) = %v, want %q", tc.o, err, tc.want)
		}
	}
	list, _, err := rt.Entries(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("entries %v %v: refused entries were stored", list, err)
	}
	if _, err := rt.Remove(ctx, "calendar:XNYS:2027-01-13:holiday"); !IsNotFound(err) {
		t.Fatalf("Remove of a missing entry: %v", err)
	}
}
