package scheduler

import (
	"testing"
	"time"

	"heartbeat/internal/jobs"
	"heartbeat/internal/market"
	"heartbeat/internal/runlog"
)

// privateBook gives the fixture its own calendars, so runtime entries a
// test makes do not reach the other tests' (shared built-in) calendars.
func privateBook(t *testing.T, f *fixture) *market.Book {
	t.Helper()
	book, err := market.NewBook(market.BookConfig{})
	if err != nil {
		t.Fatal(err)
	}
	in, err := market.NewInstruments(book, []market.Instrument{{Symbol: "SPY", Market: market.XNYS, Weight: 1}})
	if err != nil {
		t.Fatal(err)
	}
	f.in = in
	return book
}

func rtEntry(kind market.OverrideKind, d market.Date, from, to market.TimeOfDay) market.Override {
	return market.Override{Market: market.XNYS, Kind: kind, Date: d, From: from, To: to,
		Source: market.Source{Origin: market.OriginRuntime, Ref: "test", Actor: "test"}}
}

func hhmm(h, m int) market.TimeOfDay { return market.TimeOfDay(h*60 + m) }

// TestRuntimeClosureClosesTheDay: a closure entered for a day that would
// trade gives no open-gated slot and no pre-open task that day; removing it
// restores both from the next slot.
func TestRuntimeClosureClosesTheDay(t *testing.T) {
	t.Parallel()
	// Tuesday 2026-11-24: XNYS opens 14:30Z.
	f := setup(t, time.Date(2026, 11, 24, 14, 28, 20, 0, time.UTC))
	book := privateBook(t, f)
	book.SetRuntime([]market.Override{rtEntry(market.KindHoliday, market.NewDate(2026, 11, 24), 0, 0)})
	intraday, preOpen := job(t, jobs.Intraday), job(t, jobs.PreOpenBacktest)
	r := f.start(t, testConfig("a", intraday, preOpen))
	f.runUntil(t, time.Date(2026, 11, 24, 14, 35, 0, 0, time.UTC))
	for _, e := range r.rec.enqueued() {
		t.Errorf("enqueued %s on a closed day", e.ID)
	}
	if got := r.counts(jobs.Intraday)[string(runlog.Enqueued)]; got != 0 {
		t.Fatalf("intraday enqueued %v slots", got)
	}

	// The desk removes the closure at 14:35: Intraday runs from the
	// next slot on, within a fast tick.
	book.SetRuntime(nil)
	f.runUntil(t, time.Date(2026, 11, 24, 14, 35, 3, 0, time.UTC))
	got := r.rec.enqueued()
	if len(got) == 0 {
		t.Fatal("nothing enqueued after the closure was removed")
	}
	first := got[0].Payload.Slot
	if first.After(time.Date(2026, 11, 24, 14, 35, 2, 0, time.UTC)) {
		t.Fatalf("first slot after the change %s: later than a fast tick", first)
	}
}

// TestRuntimeHaltClosesTheGateForItsSpan: a halt entered while the market
// trades shuts the open gate at its start (no close grace) and opens it at
// its end.
func TestRuntimeHaltClosesTheGateForItsSpan(t *testing.T) {
	t.Parallel()
	// Wednesday 2026-11-25, 14:35Z is 09:35 in New York.
	f := setup(t, time.Date(2026, 11, 25, 14, 34, 50, 0, time.UTC))
	book := privateBook(t, f)
	intraday := job(t, jobs.Intraday)
	r := f.start(t, testConfig("a", intraday))
	f.runUntil(t, time.Date(2026, 11, 25, 14, 36, 0, 0, time.UTC))
	// A halt 09:37-09:38 New York time is entered at 09:36.
	book.SetRuntime([]market.Override{rtEntry(market.KindHalt, market.NewDate(2026, 11, 25), hhmm(9, 37), hhmm(9, 38))})
	f.runUntil(t, time.Date(2026, 11, 25, 14, 39, 0, 0, time.UTC))
	haltFrom, haltTo := time.Date(2026, 11, 25, 14, 37, 0, 0, time.UTC), time.Date(2026, 11, 25, 14, 38, 0, 0, time.UTC)
	seen := map[time.Time]bool{}
	for _, e := range r.rec.enqueued() {
		seen[e.Payload.Slot] = true
		if !e.Payload.Slot.Before(haltFrom) && e.Payload.Slot.Before(haltTo) {
			t.Errorf("slot %s enqueued during the halt", e.Payload.Slot)
		}
	}
	for _, want := range []time.Time{haltFrom.Add(-time.Second), haltTo, haltTo.Add(30 * time.Second)} {
		if !seen[want] {
			t.Errorf("slot %s (outside the halt) was not enqueued", want)
		}
	}
}
