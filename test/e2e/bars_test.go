package e2e

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"heartbeat/internal/decimal"
	"heartbeat/internal/jobs"
	"heartbeat/internal/runlog"
	"heartbeat/test/procs"
)

// barRow is one 1-minute bar, from bars_1m or from the API.
type barRow struct {
	Start    time.Time   `json:"start"`
	Open     decimal.Dec `json:"open"`
	High     decimal.Dec `json:"high"`
	Low      decimal.Dec `json:"low"`
	Close    decimal.Dec `json:"close"`
	Volume   decimal.Dec `json:"volume"`
	Trades   int64       `json:"trades"`
	VWAP     string      `json:"vwap"`
	Revision int         `json:"revision"`
	Source   string      `json:"source"`
}

// same reports whether two bars have the same figures (VWAP only when
// both carry it: bars_1m stores the notional, not the VWAP).
func (b barRow) same(o barRow) bool {
	return b.Start.Equal(o.Start) && b.Open == o.Open && b.High == o.High && b.Low == o.Low && b.Close == o.Close &&
		b.Volume == o.Volume && b.Trades == o.Trades && b.Revision == o.Revision && (b.VWAP == "" || o.VWAP == "" || b.VWAP == o.VWAP)
}

func (b barRow) String() string {
	return fmt.Sprintf("%s O %s H %s L %s C %s V %s trades %d vwap %q rev %d", b.Start.UTC().Format("15:04"), b.Open, b.High, b.Low, b.Close,
		b.Volume, b.Trades, b.VWAP, b.Revision)
}

// checkBars checks that the ALWAYS symbol's closed bars reached
// PostgreSQL. A bar closes when its minute has ended (at the next
// Intraday run) and the next closed_bars_flush slot writes it, so the bar
// of minute m is in bars_1m once the flush of slot m+2min has run on
// every shard. The test waits for such a flush after the window's first
// minute, then compares the minutes settled by then: [first minute,
// flush slot - 1 min).
func (tp *topology) checkBars(windowFrom time.Time) {
	t := tp.t
	t.Helper()
	first := windowFrom.UTC().Truncate(time.Minute)
	var flush time.Time
	wait := time.Until(first.Add(2*time.Minute)) + 30*time.Second
	err := procs.WaitFor(wait, func() (bool, error) {
		runs, err := tp.runs()
		if err != nil {
			return false, err
		}
		ok := map[time.Time]map[string]bool{}
		for _, r := range runs {
			if r.Job == string(jobs.ClosedBarsFlush) && r.Outcome == runlog.OK && !r.Slot.Before(first.Add(2*time.Minute)) {
				if ok[r.Slot] == nil {
					ok[r.Slot] = map[string]bool{}
				}
				ok[r.Slot][r.Part] = true
			}
		}
		for s, parts := range ok {
			if len(parts) == shards && s.After(flush) {
				flush = s
			}
		}
		return !flush.IsZero(), nil
	})
	if err != nil {
		t.Fatalf("no closed_bars_flush run on all %d shards with slot >= %s: %v", shards, first.Add(2*time.Minute).Format("15:04:05"), err)
	}
	settled := flush.Add(-time.Minute) // bars starting before this were flushed by the flush's slot

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stored, err := queryBars(ctx, tp.pgURL, alwaysSymbol, first, settled)
	if err != nil {
		t.Fatal(err)
	}
	byStart := map[int64]barRow{} // by Unix ms of the start
	for _, b := range stored {
		byStart[b.Start.UnixMilli()] = b
	}
	var missing []string
	for m := first; m.Before(settled); m = m.Add(time.Minute) {
		if _, ok := byStart[m.UnixMilli()]; !ok {
			missing = append(missing, m.Format("15:04"))
		}
	}
	if len(missing) > 0 {
		t.Errorf("bars_1m has no %s bar for the minutes %v (flush of %s ran on every shard)", alwaysSymbol, missing, flush.Format("15:04:05"))
	}
	t.Logf("bars_1m: %d %s bars for the minutes %s .. %s, flushed by the closed_bars_flush slot %s", len(stored), alwaysSymbol,
		first.Format("15:04"), settled.Add(-time.Minute).Format("15:04"), flush.Format("15:04:05"))

	for _, source := range []string{"store", "redis"} {
		api, err := apiBars(tp.schedulers[0].http, alwaysSymbol, first, settled, source)
		if err != nil {
			t.Fatalf("bars from the API (source=%s): %v", source, err)
		}
		if len(api) != len(stored) {
			t.Errorf("API source=%s: %d bars, bars_1m has %d", source, len(api), len(stored))
		}
		for _, b := range api {
			s, ok := byStart[b.Start.UnixMilli()]
			switch {
			case b.Source != source:
				t.Errorf("API source=%s: bar %s says source %q", source, b.Start.Format("15:04"), b.Source)
			case !ok:
				t.Errorf("API source=%s: bar %s is not in bars_1m", source, b)
			case !b.same(s):
				t.Errorf("API source=%s: bar %s\n  bars_1m has %s", source, b, s)
			}
			// bars_1m keeps no VWAP; Redis and the store must agree on it.
			if source == "store" {
				s.VWAP = b.VWAP
				byStart[b.Start.UnixMilli()] = s
			}
		}
	}
}

// queryBars reads a symbol's bars with start in [from, to) straight from
// bars_1m, in the schema the URL's search_path names.
func queryBars(ctx context.Context, pgURL, symbol string, from, to time.Time) ([]barRow, error) {
	conn, err := pgx.Connect(ctx, pgURL)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, `SELECT market, start, open::text, high::text, low::text, close::text, volume::text, trades, revision
		FROM bars_1m WHERE symbol = $1 AND start >= $2 AND start < $3 ORDER BY start`, symbol, from, to)
	if err != nil {
		return nil, fmt.Errorf("query bars_1m: %w", err)
	}
	var (
		out           []barRow
		b             barRow
		market        string
		o, h, l, c, v string
		revision      int32
	)
	_, err = pgx.ForEachRow(rows, []any{&market, &b.Start, &o, &h, &l, &c, &v, &b.Trades, &revision}, func() error {
		if market != "ALWAYS" {
			return fmt.Errorf("bar %s of %s: market %q, want ALWAYS", b.Start, symbol, market)
		}
		b.Start = b.Start.UTC()
		b.Revision = int(revision)
		for _, f := range []struct {
			s string
			d *decimal.Dec
		}{{o, &b.Open}, {h, &b.High}, {l, &b.Low}, {c, &b.Close}, {v, &b.Volume}} {
			d, err := decimal.Parse(f.s)
			if err != nil {
				return fmt.Errorf("bar %s: %q: %w", b.Start, f.s, err)
			}
			*f.d = d
		}
		out = append(out, b)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read bars_1m: %w", err)
	}
	return out, nil
}

// apiBars reads a symbol's bars from the first replica's API.
func apiBars(addr, symbol string, from, to time.Time, source string) ([]barRow, error) {
	q := url.Values{}
	q.Set("from", strconv.FormatInt(from.UnixMilli(), 10))
	q.Set("to", strconv.FormatInt(to.UnixMilli(), 10))
	q.Set("source", source)
	var doc struct {
		Bars []barRow `json:"bars"`
	}
	if err := procs.GetJSON(addr, "/api/v1/symbols/"+url.PathEscape(symbol)+"/bars?"+q.Encode(), &doc); err != nil {
		return nil, err
	}
	return doc.Bars, nil
}
