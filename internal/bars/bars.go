// Package bars owns the 1-minute bar and the daily session aggregate: their
// types, and the durable store they are flushed to (PostgreSQL, or CSV files
// on local disk for the embedded default).
package bars

import (
	"context"
	"time"

	"heartbeat/internal/decimal"
	"heartbeat/internal/market"
)

// Bar is one symbol's OHLCV over the minute [Start, Start+1m).
type Bar struct {
	Symbol   string
	Market   string    // market code, e.g. XNYS
	Start    time.Time // UTC, on a whole minute
	Open     decimal.Dec
	High     decimal.Dec
	Low      decimal.Dec
	Close    decimal.Dec
	Volume   decimal.Dec
	Trades   int64
	Notional decimal.Notional // exact sum of price × size, for VWAP
	// Revision is 1 when the bar first closes and grows by one each time a
	// late tick amends it; a store keeps the bar with the most trades,
	// then the highest revision (see Store.Upsert).
	Revision int
}

// VWAP returns the bar's volume-weighted average price, rounded half to
// even at max(10 decimal places, 10 significant digits) (see
// decimal.VWAP), or "" for a bar with no volume. Stores keep the exact
// Notional and Volume, not the VWAP, so a bar read back has the VWAP it
// was written with, whatever its number of places.
func (b Bar) VWAP() string { return decimal.VWAP(b.Notional, b.Volume) }

// End returns the end of the bar's minute.
func (b Bar) End() time.Time { return b.Start.Add(time.Minute) }

// Store is the durable home of closed bars and finished sessions' daily
// aggregates.
type Store interface {
	// Upsert stores bars keyed by (symbol, start). A bar replaces a stored
	// one only if it counts more trades, or as many with a Revision at
	// least the stored one's: replaying an older flush never undoes an
	// amendment, a bar recomputed from fewer ticks (Redis rolled back by a
	// failover) never replaces a more complete one, and repeating a flush
	// changes nothing.
	Upsert(ctx context.Context, bars []Bar) error
	// Range returns a symbol's bars with Start in [from, to), by Start.
	Range(ctx context.Context, symbol string, from, to time.Time) ([]Bar, error)
	// UpsertDaily stores daily aggregates keyed by (symbol, session). One
	// replaces a stored one only if it counts at least as many trades (see
	// Daily), so an aggregate computed from fewer ticks never replaces a
	// more complete one, and repeating a flush changes nothing.
	UpsertDaily(ctx context.Context, days []Daily) error
	// DailyRange returns a symbol's aggregates of the sessions labelled
	// from through to (both included), by session.
	DailyRange(ctx context.Context, symbol string, from, to market.Date) ([]Daily, error)
	// Close releases the store's resources.
	Close() error
}
