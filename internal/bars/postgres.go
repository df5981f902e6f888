package bars

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"heartbeat/internal/decimal"
	"heartbeat/internal/market"
)

// pgBatchRows is the most bars one INSERT statement carries; larger
// batches are split, and applied in one transaction.
const pgBatchRows = 5000

// createTableSQL creates bars_1m in the connection's search_path. Prices
// and volume are Dec values (8 places) and notional is the exact sum of
// price × size with 16 places, so NUMERIC keeps every value exact; a
// 128-bit Notional has at most 39 digits.
const createTableSQL = `
CREATE TABLE IF NOT EXISTS bars_1m (
	symbol     text           NOT NULL,
	market     text           NOT NULL,
	start      timestamptz    NOT NULL,
	open       numeric(38,8)  NOT NULL,
	high       numeric(38,8)  NOT NULL,
	low        numeric(38,8)  NOT NULL,
	close      numeric(38,8)  NOT NULL,
	volume     numeric(38,8)  NOT NULL,
	trades     bigint         NOT NULL,
	notional   numeric(39,16) NOT NULL,
	revision   integer        NOT NULL,
	updated_at timestamptz    NOT NULL DEFAULT now(),
	PRIMARY KEY (symbol, start)
)`

// upsertSQL writes one batch in one statement. Dec values travel as their
// int64 count of 1e-8 and Notional as the decimal string of its count of
// 1e-16; multiplying by the unit is exact in NUMERIC. The batch must hold
// each (symbol, start) once (ON CONFLICT cannot touch a row twice). A row
// is replaced only by a bar with more trades, or as many and a revision at
// least its own (the Store rule, bars.wins), and only if something
// differs, so a replayed flush writes nothing.
const upsertSQL = `
INSERT INTO bars_1m AS b (symbol, market, start, open, high, low, close, volume, trades, notional, revision, updated_at)
SELECT u.symbol, u.market, u.start,
	u.open * 0.00000001, u.high * 0.00000001, u.low * 0.00000001, u.close * 0.00000001, u.volume * 0.00000001,
	u.trades, u.notional::numeric * 0.0000000000000001, u.revision, now()
FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::int8[], $5::int8[], $6::int8[], $7::int8[], $8::int8[],
	$9::int8[], $10::text[], $11::int4[])
	AS u(symbol, market, start, open, high, low, close, volume, trades, notional, revision)
ON CONFLICT (symbol, start) DO UPDATE SET
	market = EXCLUDED.market, open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low,
	close = EXCLUDED.close, volume = EXCLUDED.volume, trades = EXCLUDED.trades,
	notional = EXCLUDED.notional, revision = EXCLUDED.revision, updated_at = EXCLUDED.updated_at
WHERE (b.trades < EXCLUDED.trades OR (b.trades = EXCLUDED.trades AND b.revision <= EXCLUDED.revision))
	AND (b.market, b.open, b.high, b.low, b.close, b.volume, b.trades, b.notional, b.revision)
	IS DISTINCT FROM (EXCLUDED.market, EXCLUDED.open, EXCLUDED.high, EXCLUDED.low, EXCLUDED.close,
		EXCLUDED.volume, EXCLUDED.trades, EXCLUDED.notional, EXCLUDED.revision)`

// rangeSQL reads bars back in the units upsertSQL wrote them in; the
// products are whole numbers, so the casts are exact.
const rangeSQL = `
SELECT market, start,
	(open * 100000000)::int8, (high * 100000000)::int8, (low * 100000000)::int8,
	(close * 100000000)::int8, (volume * 100000000)::int8,
	trades, (notional * 10000000000000000)::numeric(39,0)::text, revision
FROM bars_1m
WHERE symbol = $1 AND start >= $2 AND start < $3
ORDER BY start`

// createDailySQL creates daily_bars, the finished sessions' aggregates,
// with the same exact column types as bars_1m.
const createDailySQL = `
CREATE TABLE IF NOT EXISTS daily_bars (
	symbol      text           NOT NULL,
	market      text           NOT NULL,
	session     date           NOT NULL,
	open        numeric(38,8)  NOT NULL,
	high        numeric(38,8)  NOT NULL,
	low         numeric(38,8)  NOT NULL,
	close       numeric(38,8)  NOT NULL,
	volume      numeric(38,8)  NOT NULL,
	trades      bigint         NOT NULL,
	notional    numeric(39,16) NOT NULL,
	first_trade timestamptz    NOT NULL,
	last_trade  timestamptz    NOT NULL,
	updated_at  timestamptz    NOT NULL DEFAULT now(),
	PRIMARY KEY (symbol, session)
)`

// upsertDailySQL writes a batch of aggregates like upsertSQL writes bars;
// a row is replaced only by an aggregate with at least as many trades, and
// only if something differs.
const upsertDailySQL = `
INSERT INTO daily_bars AS d (symbol, market, session, open, high, low, close, volume, trades, notional,
	first_trade, last_trade, updated_at)
SELECT u.symbol, u.market, u.session::date,
	u.open * 0.00000001, u.high * 0.00000001, u.low * 0.00000001, u.close * 0.00000001, u.volume * 0.00000001,
	u.trades, u.notional::numeric * 0.0000000000000001, u.first_trade, u.last_trade, now()
FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::int8[], $6::int8[], $7::int8[], $8::int8[],
	$9::int8[], $10::text[], $11::timestamptz[], $12::timestamptz[])
	AS u(symbol, market, session, open, high, low, close, volume, trades, notional, first_trade, last_trade)
ON CONFLICT (symbol, session) DO UPDATE SET
	market = EXCLUDED.market, open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low,
	close = EXCLUDED.close, volume = EXCLUDED.volume, trades = EXCLUDED.trades, notional = EXCLUDED.notional,
	first_trade = EXCLUDED.first_trade, last_trade = EXCLUDED.last_trade, updated_at = EXCLUDED.updated_at
WHERE d.trades <= EXCLUDED.trades
	AND (d.market, d.open, d.high, d.low, d.close, d.volume, d.trades, d.notional, d.first_trade, d.last_trade)
	IS DISTINCT FROM (EXCLUDED.market, EXCLUDED.open, EXCLUDED.high, EXCLUDED.low, EXCLUDED.close,
		EXCLUDED.volume, EXCLUDED.trades, EXCLUDED.notional, EXCLUDED.first_trade, EXCLUDED.last_trade)`

// dailyRangeSQL reads aggregates back in the units upsertDailySQL wrote.
const dailyRangeSQL = `
SELECT market, to_char(session, 'YYYY-MM-DD'),
	(open * 100000000)::int8, (high * 100000000)::int8, (low * 100000000)::int8,
	(close * 100000000)::int8, (volume * 100000000)::int8,
	trades, (notional * 10000000000000000)::numeric(39,0)::text, first_trade, last_trade
FROM daily_bars
WHERE symbol = $1 AND session >= $2::date AND session <= $3::date
ORDER BY session`

// Postgres is a Store in the PostgreSQL tables bars_1m and daily_bars. It is safe for
// concurrent use, also by several processes.
type Postgres struct {
	pool *pgxpool.Pool
}

var _ Store = (*Postgres)(nil)

// OpenPostgres connects to url (postgres://...; a search_path parameter
// picks the schema) and creates bars_1m and daily_bars if they are missing.
func OpenPostgres(ctx context.Context, url string) (*Postgres, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("bars: open postgres: %w", err)
	}
	// The advisory lock stops processes starting together from racing in
	// CREATE TABLE IF NOT EXISTS, which can fail on the catalog's unique
	// index.
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('heartbeat.bars_1m'))`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, createTableSQL); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, createDailySQL)
		return err
	})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("bars: create tables bars_1m, daily_bars: %w", err)
	}
	return &Postgres{pool: pool}, nil
}

// Upsert stores bars, one statement per pgBatchRows; a larger batch is
// applied in one transaction. Of several bars with the same (symbol,
// start) the highest revision is kept.
func (p *Postgres) Upsert(ctx context.Context, bars []Bar) error {
	if err := validate(bars); err != nil {
		return err
	}
	bars = normalize(bars)
	switch {
	case len(bars) == 0:
		return nil
	case len(bars) <= pgBatchRows:
		if _, err := p.pool.Exec(ctx, upsertSQL, columns(bars)...); err != nil {
			return fmt.Errorf("bars: upsert %d bars: %w", len(bars), err)
		}
		return nil
	}
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		for i := 0; i < len(bars); i += pgBatchRows {
			chunk := bars[i:min(i+pgBatchRows, len(bars))]
			if _, err := tx.Exec(ctx, upsertSQL, columns(chunk)...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("bars: upsert %d bars: %w", len(bars), err)
	}
	return nil
}

// columns returns upsertSQL's arguments: one array per column.
func columns(bars []Bar) []any {
	n := len(bars)
	var (
		symbols   = make([]string, n)
		markets   = make([]string, n)
		starts    = make([]time.Time, n)
		open      = make([]int64, n)
		high      = make([]int64, n)
		low       = make([]int64, n)
		cls       = make([]int64, n)
		volume    = make([]int64, n)
		trades    = make([]int64, n)
		notionals = make([]string, n)
		revisions = make([]int32, n)
	)
	for i, b := range bars {
		symbols[i], markets[i], starts[i] = b.Symbol, b.Market, b.Start
		open[i], high[i], low[i], cls[i], volume[i] = int64(b.Open), int64(b.High), int64(b.Low), int64(b.Close), int64(b.Volume)
		trades[i] = b.Trades
		notionals[i] = b.Notional.String()
		revisions[i] = int32(b.Revision) // validate checked the range
	}
	return []any{symbols, markets, starts, open, high, low, cls, volume, trades, notionals, revisions}
}

// Range returns symbol's bars with Start in [from, to), by Start.
func (p *Postgres) Range(ctx context.Context, symbol string, from, to time.Time) ([]Bar, error) {
	rows, err := p.pool.Query(ctx, rangeSQL, symbol, ceilMicro(from), ceilMicro(to))
	if err != nil {
		return nil, fmt.Errorf("bars: range %s: %w", symbol, err)
	}
	var (
		out      []Bar
		b        = Bar{Symbol: symbol}
		o, h, l  int64
		c, v     int64
		notional string
		revision int32
	)
	_, err = pgx.ForEachRow(rows, []any{&b.Market, &b.Start, &o, &h, &l, &c, &v, &b.Trades, &notional, &revision}, func() error {
		b.Start = b.Start.UTC()
		b.Open, b.High, b.Low, b.Close, b.Volume = decimal.Dec(o), decimal.Dec(h), decimal.Dec(l), decimal.Dec(c), decimal.Dec(v)
		b.Revision = int(revision)
		if err := b.Notional.UnmarshalText([]byte(notional)); err != nil {
			return err
		}
		out = append(out, b)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bars: range %s: %w", symbol, err)
	}
	return out, nil
}

// UpsertDaily stores aggregates in one statement per pgBatchRows, in one
// transaction when there are more. Of several aggregates of the same
// (symbol, session) the one with the most trades is kept.
func (p *Postgres) UpsertDaily(ctx context.Context, days []Daily) error {
	if err := validateDaily(days); err != nil {
		return err
	}
	days = normalizeDaily(days)
	if len(days) == 0 {
		return nil
	}
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		for i := 0; i < len(days); i += pgBatchRows {
			if _, err := tx.Exec(ctx, upsertDailySQL, dailyColumns(days[i:min(i+pgBatchRows, len(days))])...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("bars: upsert %d daily aggregates: %w", len(days), err)
	}
	return nil
}

// dailyColumns returns upsertDailySQL's arguments: one array per column.
func dailyColumns(days []Daily) []any {
	n := len(days)
	var (
		symbols, markets, sessions, notionals = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		open, high, low, cls, volume, trades  = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		first, last                           = make([]time.Time, n), make([]time.Time, n)
	)
	for i, d := range days {
		symbols[i], markets[i], sessions[i] = d.Symbol, d.Market, d.Session.String()
		open[i], high[i], low[i], cls[i], volume[i] = int64(d.Open), int64(d.High), int64(d.Low), int64(d.Close), int64(d.Volume)
		trades[i], notionals[i] = d.Trades, d.Notional.String()
		first[i], last[i] = d.FirstTrade, d.LastTrade
	}
	return []any{symbols, markets, sessions, open, high, low, cls, volume, trades, notionals, first, last}
}

// DailyRange returns symbol's aggregates of the sessions from through to,
// by session.
func (p *Postgres) DailyRange(ctx context.Context, symbol string, from, to market.Date) ([]Daily, error) {
	rows, err := p.pool.Query(ctx, dailyRangeSQL, symbol, from.String(), to.String())
	if err != nil {
		return nil, fmt.Errorf("bars: daily range %s: %w", symbol, err)
	}
	var (
		out              []Daily
		d                = Daily{Symbol: symbol}
		label            string
		o, h, l, c, v    int64
		notional         string
		first, lastTrade time.Time
	)
	_, err = pgx.ForEachRow(rows, []any{&d.Market, &label, &o, &h, &l, &c, &v, &d.Trades, &notional, &first, &lastTrade}, func() error {
		var err error
		if d.Session, err = market.ParseDate(label); err != nil {
			return err
		}
		d.Open, d.High, d.Low, d.Close, d.Volume = decimal.Dec(o), decimal.Dec(h), decimal.Dec(l), decimal.Dec(c), decimal.Dec(v)
		d.FirstTrade, d.LastTrade = first.UTC(), lastTrade.UTC()
		if err := d.Notional.UnmarshalText([]byte(notional)); err != nil {
			return err
		}
		out = append(out, d)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bars: daily range %s: %w", symbol, err)
	}
	return out, nil
}

// ceilMicro rounds t up to PostgreSQL's precision, the microsecond (pgx
// would truncate it), so that for the stored whole-minute starts
// start >= from and start < to mean the same before and after.
func ceilMicro(t time.Time) time.Time {
	if c := t.Truncate(time.Microsecond); c.Before(t) {
		return c.Add(time.Microsecond)
	}
	return t
}

// Close closes the connection pool; calling it again does nothing.
func (p *Postgres) Close() error {
	p.pool.Close()
	return nil
}
