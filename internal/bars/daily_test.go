package bars_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"heartbeat/internal/bars"
	"heartbeat/internal/decimal"
	"heartbeat/internal/market"
)

// mkDaily returns an aggregate whose values follow from trades, so two
// versions of a session differ.
func mkDaily(symbol string, mkt market.Code, session market.Date, trades int64) bars.Daily {
	p := decimal.FromInt(100) + decimal.Dec(trades)
	v := decimal.FromInt(trades)
	open := session.UTCMidnight().Add(14*time.Hour + 30*time.Minute + 123*time.Millisecond)
	return bars.Daily{
		Symbol: symbol, Market: string(mkt), Session: session,
		Open: p, High: p + 5, Low: p - 3, Close: p + 1, Volume: v, Trades: trades,
		Notional: decimal.Mul(p, v), FirstTrade: open, LastTrade: open.Add(6 * time.Hour),
	}
}

func date(y int, m time.Month, d int) market.Date { return market.NewDate(y, m, d) }

var (
	d1 = date(2026, 3, 9)
	d2 = date(2026, 3, 10)
	d3 = date(2026, 3, 11)
)

type dailyQuery struct {
	symbol   string
	from, to market.Date
	want     []bars.Daily
}

var dailyCases = []struct {
	name    string
	batches [][]bars.Daily
	wantErr error
	queries []dailyQuery
}{
	{
		name: "round trip is exact",
		batches: [][]bars.Daily{{{
			Symbol: `BRK "B", class`, Market: "XNYS", Session: d1,
			Open: decimal.MustParse("0.00000001"), High: decimal.Dec(math.MaxInt64), Low: decimal.MustParse("-37.63"),
			Close: decimal.MustParse("92233720367.5"), Volume: decimal.Dec(-math.MaxInt64), Trades: math.MaxInt64,
			Notional:   decimal.Notional{Hi: math.MaxUint64, Lo: math.MaxUint64},
			FirstTrade: time.UnixMilli(1773066600001).UTC(), LastTrade: time.UnixMilli(1773090000999).UTC(),
		}}},
		queries: []dailyQuery{{`BRK "B", class`, d1, d1, []bars.Daily{{
			Symbol: `BRK "B", class`, Market: "XNYS", Session: d1,
			Open: decimal.MustParse("0.00000001"), High: decimal.Dec(math.MaxInt64), Low: decimal.MustParse("-37.63"),
			Close: decimal.MustParse("92233720367.5"), Volume: decimal.Dec(-math.MaxInt64), Trades: math.MaxInt64,
			Notional:   decimal.Notional{Hi: math.MaxUint64, Lo: math.MaxUint64},
			FirstTrade: time.UnixMilli(1773066600001).UTC(), LastTrade: time.UnixMilli(1773090000999).UTC(),
		}}}},
	},
	{
		name: "fewer trades never replace more; equal and more do",
		batches: [][]bars.Daily{
			{mkDaily("A", market.XNYS, d1, 10), mkDaily("B", market.XNYS, d1, 10), mkDaily("C", market.XNYS, d1, 10)},
			{mkDaily("A", market.XNYS, d1, 9), withDailyClose(mkDaily("B", market.XNYS, d1, 10), "7"), mkDaily("C", market.XNYS, d1, 11)},
		},
		queries: []dailyQuery{
			{"A", d1, d1, []bars.Daily{mkDaily("A", market.XNYS, d1, 10)}},
			{"B", d1, d1, []bars.Daily{withDailyClose(mkDaily("B", market.XNYS, d1, 10), "7")}},
			{"C", d1, d1, []bars.Daily{mkDaily("C", market.XNYS, d1, 11)}},
		},
	},
	{
		name: "duplicates in one batch keep the most trades; repeats change nothing",
		batches: [][]bars.Daily{
			{mkDaily("A", market.XNYS, d1, 3), mkDaily("A", market.XNYS, d1, 5), mkDaily("A", market.XNYS, d1, 4)},
			{mkDaily("A", market.XNYS, d1, 5)},
		},
		queries: []dailyQuery{{"A", d1, d1, []bars.Daily{mkDaily("A", market.XNYS, d1, 5)}}},
	},
	{
		name: "range includes both ends, is ordered by session and spans years",
		batches: [][]bars.Daily{{
			mkDaily("A", market.XNYS, d3, 1), mkDaily("A", market.XNYS, d1, 1), mkDaily("A", market.XNYS, d2, 1),
			mkDaily("A", market.XNYS, date(2025, 12, 31), 1), mkDaily("B", market.XNYS, d2, 1),
		}},
		queries: []dailyQuery{
			{"A", d1, d2, []bars.Daily{mkDaily("A", market.XNYS, d1, 1), mkDaily("A", market.XNYS, d2, 1)}},
			{"A", date(2025, 1, 1), d1, []bars.Daily{mkDaily("A", market.XNYS, date(2025, 12, 31), 1), mkDaily("A", market.XNYS, d1, 1)}},
			{"A", d3, d1, nil},
			{"B", d3, d3, nil},
			{"NOPE", d1, d3, nil},
		},
	},
	{
		name:    "symbols of several markets stay apart",
		batches: [][]bars.Daily{{mkDaily("ES", market.CMES, d1, 2), mkDaily("7203.T", market.XTKS, d1, 3), mkDaily("BTCUSD", market.ALWAYS, d1, 4)}},
		queries: []dailyQuery{
			{"ES", d1, d1, []bars.Daily{mkDaily("ES", market.CMES, d1, 2)}},
			{"7203.T", d1, d1, []bars.Daily{mkDaily("7203.T", market.XTKS, d1, 3)}},
			{"BTCUSD", d1, d1, []bars.Daily{mkDaily("BTCUSD", market.ALWAYS, d1, 4)}},
		},
	},
	{
		name:    "an unknown market rejects the whole batch",
		batches: [][]bars.Daily{{mkDaily("A", market.XNYS, d1, 1), mkDaily("B", "XXXX", d1, 1)}},
		wantErr: bars.ErrInvalidBar,
		queries: []dailyQuery{{"A", d1, d3, nil}},
	},
	{
		name:    "a zero session is invalid",
		batches: [][]bars.Daily{{mkDaily("A", market.XNYS, market.Date{}, 1)}},
		wantErr: bars.ErrInvalidBar,
	},
	{
		name:    "an empty batch does nothing",
		batches: [][]bars.Daily{nil, {}},
		queries: []dailyQuery{{"A", d1, d3, nil}},
	},
}

func withDailyClose(d bars.Daily, close string) bars.Daily {
	d.Close = decimal.MustParse(close)
	return d
}

func TestDailyStores(t *testing.T) {
	t.Parallel()
	for _, kind := range storeKinds {
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range dailyCases {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					ctx := context.Background()
					s := kind.open(t)
					for i, batch := range tc.batches {
						err := s.UpsertDaily(ctx, batch)
						if i == len(tc.batches)-1 && tc.wantErr != nil {
							if !errors.Is(err, tc.wantErr) {
								t.Fatalf("upsert batch %d: err = %v, want %v", i, err, tc.wantErr)
							}
							continue
						}
						if err != nil {
							t.Fatalf("upsert batch %d: %v", i, err)
						}
					}
					for _, q := range tc.queries {
						got, err := s.DailyRange(ctx, q.symbol, q.from, q.to)
						if err != nil {
							t.Fatalf("DailyRange(%q, %s, %s): %v", q.symbol, q.from, q.to, err)
						}
						if diff := cmp.Diff(q.want, got, cmpopts.EquateEmpty()); diff != "" {
							t.Fatalf("DailyRange(%q, %s, %s) mismatch (-want +got):\n%s", q.symbol, q.from, q.to, diff)
						}
					}
				})
			}
		})
	}
}
