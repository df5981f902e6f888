package bars

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"heartbeat/internal/decimal"
	"heartbeat/internal/market"
)

// Daily is one symbol's aggregate of one trading session, from its
// in-session trades only: what the 52-week extremes and the pre-open
// backtest read, and what Redis keeps as a daily bar for 53 weeks.
//
// An aggregate only grows: every amendment (a late tick for a finished
// session) folds one more trade into it. So of two aggregates of the same
// session the one with more trades is the more complete, and a store keeps
// the one with the most trades (the later one on a tie, like a bar's
// revision). That is also what protects the store after Redis lost its
// data: a session whose figures restarted from zero is written with fewer
// trades than the store already has, and is ignored.
type Daily struct {
	Symbol   string
	Market   string      // market code, e.g. XNYS
	Session  market.Date // the session's label
	Open     decimal.Dec
	High     decimal.Dec
	Low      decimal.Dec
	Close    decimal.Dec // the session's last trade
	Volume   decimal.Dec
	Trades   int64
	Notional decimal.Notional // exact sum of price × size, for VWAP
	// FirstTrade and LastTrade are the exchange times (UTC, whole
	// milliseconds) of the trades that set Open and Close, so a restored
	// aggregate orders a later amendment as the original would have.
	FirstTrade time.Time
	LastTrade  time.Time
}

// validateDaily checks every aggregate of a batch and returns the first
// problem, wrapping ErrInvalidBar.
func validateDaily(days []Daily) error {
	for i, d := range days {
		if err := validateOneDaily(d); err != nil {
			return fmt.Errorf("daily %d (%q %s): %w: %w", i, d.Symbol, d.Session, ErrInvalidBar, err)
		}
	}
	return nil
}

func validateOneDaily(d Daily) error {
	if err := validateSymbol(d.Symbol); err != nil {
		return err
	}
	if _, err := market.ParseCode(d.Market); err != nil {
		return err
	}
	if d.Session.IsZero() || d.Session.Year < 1 || d.Session.Year > 9999 {
		return errors.New("session label is zero or outside years 1-9999")
	}
	for _, t := range []time.Time{d.FirstTrade, d.LastTrade} {
		if !t.Truncate(time.Millisecond).Equal(t) {
			return errors.New("trade time not on a whole millisecond")
		}
	}
	return nil
}

// dailyKey identifies a daily aggregate in a store.
type dailyKey struct {
	symbol  string
	session market.Date
}

func dailyKeyOf(d Daily) dailyKey { return dailyKey{d.Symbol, d.Session} }

// winsDaily reports whether incoming replaces stored: the Store rule, at
// least as many trades.
func winsDaily(incoming, stored Daily) bool { return incoming.Trades >= stored.Trades }

// sameDaily reports whether two aggregates are identical.
func sameDaily(a, b Daily) bool {
	a.FirstTrade, a.LastTrade = a.FirstTrade.UTC(), a.LastTrade.UTC()
	b.FirstTrade, b.LastTrade = b.FirstTrade.UTC(), b.LastTrade.UTC()
	return a == b
}

// normalizeDaily returns the batch with times in UTC and at most one
// aggregate per (symbol, session), the one applying the batch in order
// would leave, sorted by (symbol, session).
func normalizeDaily(days []Daily) []Daily {
	out := make([]Daily, 0, len(days))
	at := make(map[dailyKey]int, len(days))
	for _, d := range days {
		d.FirstTrade, d.LastTrade = d.FirstTrade.UTC(), d.LastTrade.UTC()
		k := dailyKeyOf(d)
		if i, ok := at[k]; ok {
			if winsDaily(d, out[i]) {
				out[i] = d
			}
			continue
		}
		at[k] = len(out)
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b Daily) int {
		return cmp.Or(cmp.Compare(a.Symbol, b.Symbol), a.Session.Compare(b.Session))
	})
	return out
}

// inDates reports whether d lies in [from, to].
func inDates(d, from, to market.Date) bool { return !d.Before(from) && !d.After(to) }
