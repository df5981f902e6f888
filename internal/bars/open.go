package bars

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"heartbeat/internal/config"
	"heartbeat/internal/market"
)

// ErrInvalidBar is wrapped by Upsert errors about a bar no store accepts:
// an empty symbol or one with control characters, an unknown market, a
// start that is not on a whole minute, or a revision outside int32. Every
// store checks the whole batch before writing any of it.
var ErrInvalidBar = errors.New("invalid bar")

// Option configures Open and OpenFiles.
type Option func(*options)

type options struct {
	markets func(symbol string) (string, bool)
	book    *market.Book
}

// WithBook gives the file store the calendars of markets defined in
// config (their time zone names the day files); without it only the
// built-in markets are known.
func WithBook(b *market.Book) Option {
	return func(o *options) { o.book = b }
}

// WithMarkets gives the file store the market of each symbol (usually from
// the configured instruments), so Range reads only that market's day
// files. Without it, or for a symbol it does not know, Range falls back to
// the markets symbols were written under in this process, then to every
// market directory on disk. PostgreSQL ignores it.
func WithMarkets(resolve func(symbol string) (market string, ok bool)) Option {
	return func(o *options) { o.markets = resolve }
}

// Open opens the store cfg selects: PostgreSQL when cfg.PostgresURL is set,
// otherwise CSV files under cfg.Dir.
func Open(ctx context.Context, cfg config.Store, opts ...Option) (Store, error) {
	if cfg.PostgresURL != "" {
		dsn, err := cfg.PostgresDSN()
		if err != nil {
			return nil, err
		}
		p, err := OpenPostgres(ctx, dsn)
		if err != nil {
			return nil, err
		}
		return p, nil
	}
	f, err := OpenFiles(cfg.Dir, opts...)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// validate checks every bar of a batch and returns the first problem,
// wrapping ErrInvalidBar.
func validate(bars []Bar) error {
	for i, b := range bars {
		if err := validateBar(b); err != nil {
			return fmt.Errorf("bar %d (%q %s): %w: %w", i, b.Symbol, b.Start.UTC().Format(time.RFC3339), ErrInvalidBar, err)
		}
	}
	return nil
}

func validateBar(b Bar) error {
	if err := validateSymbol(b.Symbol); err != nil {
		return err
	}
	if err := market.CheckCodeSyntax(b.Market); err != nil {
		return err
	}
	if b.Start.IsZero() || !b.Start.Truncate(time.Minute).Equal(b.Start) {
		return errors.New("start is zero or not on a whole minute")
	}
	if b.Revision < math.MinInt32 || b.Revision > math.MaxInt32 {
		return errors.New("revision outside int32")
	}
	return nil
}

func validateSymbol(symbol string) error {
	if symbol == "" {
		return errors.New("empty symbol")
	}
	for _, r := range symbol {
		if r < 0x20 || r == 0x7f {
			return errors.New("control character in symbol")
		}
	}
	return nil
}

// key identifies a bar in a store.
type key struct {
	symbol string
	start  int64 // Unix seconds
}

func keyOf(b Bar) key { return key{b.Symbol, b.Start.Unix()} }

// wins reports whether incoming replaces stored: the Store rule. A bar
// only grows (an amendment adds ticks and bumps the revision), so more
// trades win; on equal trades, a revision at least the stored one's. A bar
// with fewer trades never wins, whatever its revision: after a failover
// that rolled Redis back and lost some of a minute's ticks, Intraday
// recomputes that minute from fewer ticks with the same (or, once amended,
// a higher) revision, and the more complete bar already stored stays.
func wins(incoming, stored Bar) bool {
	if incoming.Trades != stored.Trades {
		return incoming.Trades > stored.Trades
	}
	return incoming.Revision >= stored.Revision
}

// same reports whether two bars are identical, so replacing one with the
// other would change nothing.
func same(a, b Bar) bool {
	a.Start, b.Start = a.Start.UTC(), b.Start.UTC()
	return a == b
}

// normalize returns the batch with starts in UTC and at most one bar per
// (symbol, start): the one applying the batch in order would leave, i.e.
// the most trades, then the highest revision, the later one on a tie. The result is sorted by
// (symbol, start), so concurrent writers lock rows in the same order.
func normalize(bars []Bar) []Bar {
	out := make([]Bar, 0, len(bars))
	at := make(map[key]int, len(bars))
	for _, b := range bars {
		b.Start = b.Start.UTC()
		k := keyOf(b)
		if i, ok := at[k]; ok {
			if wins(b, out[i]) {
				out[i] = b
			}
			continue
		}
		at[k] = len(out)
		out = append(out, b)
	}
	slices.SortFunc(out, func(a, b Bar) int {
		return cmp.Or(cmp.Compare(a.Symbol, b.Symbol), a.Start.Compare(b.Start))
	})
	return out
}
