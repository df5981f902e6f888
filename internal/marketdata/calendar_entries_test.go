package marketdata

import (
	"testing"

	"heartbeat/internal/market"
)

// withBook maps the test instruments on a book of the test's own, so the
// runtime entries it makes reach no other test.
func withBook(t testing.TB, b *market.Book) option {
	in, err := market.NewInstruments(b, testInstruments)
	if err != nil {
		t.Fatal(err)
	}
	return func(d *Deps) { d.Instruments = in }
}

// TestRuntimeClosureAppliesForward: a closure entered during a session
// leaves the ticks already committed in the session, and the ticks that
// arrive after it are out of session.
func TestRuntimeClosureAppliesForward(t *testing.T) {
	t.Parallel()
	book, err := market.NewBook(market.BookConfig{})
	if err != nil {
		t.Fatal(err)
	}
	f := setup(t, withBook(t, book))
	f.trade(t, "1-1", "SPY", "100", "10", mon(14, 31, 0, 0))
	f.intradayAll(t, mon(14, 31, 1, 0))
	before := f.state(t, "SPY")
	if fig := before.figures("2026-11-23"); fig == nil || fig.Trades != 1 {
		t.Fatalf("before the closure: figures %+v", fig)
	}

	book.SetRuntime([]market.Override{{Market: market.XNYS, Kind: market.KindHoliday, Date: market.NewDate(2026, 11, 23), Name: "closed",
		Source: market.Source{Origin: market.OriginRuntime, Ref: "t"}}})
	f.trade(t, "1-2", "SPY", "101", "5", mon(14, 32, 0, 0))
	f.trade(t, "1-3", "SPY", "102", "5", mon(14, 33, 0, 0))
	f.intradayAll(t, mon(14, 33, 1, 0))
	after := f.state(t, "SPY")
	if after.OutOfSession != before.OutOfSession+2 {
		t.Fatalf("out of session %d, want %d: ticks after the closure must be out of session", after.OutOfSession, before.OutOfSession+2)
	}
	if fig := after.figures("2026-11-23"); fig == nil || fig.Trades != 1 {
		t.Fatalf("after the closure: the committed tick's session figures changed: %+v", fig)
	}
}
