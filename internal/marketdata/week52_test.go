package marketdata

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"heartbeat/internal/keys"
)

// utc is a shorthand for an instant in UTC.
func utc(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, time.UTC)
}

// week52Stored reads every shard's 52-week hash.
func week52Stored(t *testing.T, f fixture) map[string]Extremes {
	t.Helper()
	out := map[string]Extremes{}
	for s := 0; s < f.e.set.Shards; s++ {
		for sym, js := range f.rdb.HGetAll(context.Background(), keys.Week52(s)).Val() {
			var x Extremes
			if err := json.Unmarshal([]byte(js), &x); err != nil {
				t.Fatalf("decode week52 of %s: %v", sym, err)
			}
			if want := shardOf(f, sym); want != s {
				t.Fatalf("week52 of %s written to shard %d, want %d", sym, s, want)
			}
			out[sym] = x
		}
	}
	return out
}

func TestWeek52Extremes(t *testing.T) {
	t.Parallel()
	f := setup(t)
	// Four SPY sessions, each fed and consumed by Intraday after its close.
	// The 2026-01-05 high (120) is the peak; the 2026-06-01 low (90) is
	// equalled on 2026-11-23; the 2026-01-07 high (115) is equalled on
	// 2026-11-23. A pre-market print of 200 is out of session and must
	// never count. BTCUSD trades once, on 2026-01-05.
	days := []struct {
		trades [][3]any // symbol, price, at
		run    time.Time
	}{
		{[][3]any{
			{"SPY", "200", utc(2026, 1, 5, 13, 0)},
			{"SPY", "110", utc(2026, 1, 5, 14, 30)},
			{"SPY", "120", utc(2026, 1, 5, 15, 0)},
			{"SPY", "112", utc(2026, 1, 5, 20, 0)},
			{"BTCUSD", "50000", utc(2026, 1, 5, 20, 30)},
		}, utc(2026, 1, 5, 21, 30)},
		{[][3]any{
			{"SPY", "112", utc(2026, 1, 7, 14, 30)},
			{"SPY", "115", utc(2026, 1, 7, 15, 0)},
			{"SPY", "113", utc(2026, 1, 7, 20, 0)},
		}, utc(2026, 1, 7, 21, 30)},
		{[][3]any{ // summer time: 13:30-20:00 UTC
			{"SPY", "95", utc(2026, 6, 1, 13, 30)},
			{"SPY", "100", utc(2026, 6, 1, 14, 0)},
			{"SPY", "90", utc(2026, 6, 1, 19, 0)},
		}, utc(2026, 6, 1, 20, 30)},
		{[][3]any{
			{"SPY", "100", utc(2026, 11, 23, 14, 30)},
			{"SPY", "115", utc(2026, 11, 23, 15, 0)},
			{"SPY", "90", utc(2026, 11, 23, 16, 0)},
			{"SPY", "101", utc(2026, 11, 23, 19, 59)},
		}, utc(2026, 11, 23, 20, 0)},
	}
	for _, d := range days {
		for _, tr := range d.trades {
			f.trade(t, "*", tr[0].(string), tr[1].(string), "1", tr[2].(time.Time))
		}
		f.intradayAll(t, d.run)
	}

	cases := []struct {
		name string
		now  time.Time
		want map[string]Extremes
	}{
		{
			name: "all four sessions in the window; the first session of an equalled low keeps it",
			now:  utc(2026, 11, 23, 20, 0),
			want: map[string]Extremes{
				"SPY": {Symbol: "SPY", High: dec("120"), HighDate: "2026-01-05", Low: dec("90"), LowDate: "2026-06-01",
					From: "2025-11-25", To: "2026-11-23", Sessions: 4},
				"BTCUSD": {Symbol: "BTCUSD", High: dec("50000"), HighDate: "2026-01-05", Low: dec("50000"), LowDate: "2026-01-05",
					From: "2025-11-25", To: "2026-11-23", Sessions: 1},
			},
		},
		{
			name: "January 5 has left the window; the first of the equalled highs keeps it; BTCUSD has nothing left",
			now:  utc(2027, 1, 5, 20, 0),
			want: map[string]Extremes{
				"SPY": {Symbol: "SPY", High: dec("115"), HighDate: "2026-01-07", Low: dec("90"), LowDate: "2026-06-01",
					From: "2026-01-07", To: "2027-01-05", Sessions: 3},
			},
		},
		{
			name: "before the open the window ends with the last session, so January 7 is still in",
			now:  utc(2027, 1, 6, 14, 29),
			want: map[string]Extremes{
				"SPY": {Symbol: "SPY", High: dec("115"), HighDate: "2026-01-07", Low: dec("90"), LowDate: "2026-06-01",
					From: "2026-01-07", To: "2027-01-05", Sessions: 3},
			},
		},
		{
			name: "from the open the window ends with the new session and January 7 leaves it",
			now:  utc(2027, 1, 6, 14, 30),
			want: map[string]Extremes{
				"SPY": {Symbol: "SPY", High: dec("115"), HighDate: "2026-11-23", Low: dec("90"), LowDate: "2026-06-01",
					From: "2026-01-08", To: "2027-01-06", Sessions: 2},
			},
		},
	}
	for _, c := range cases {
		got := map[string]Extremes{}
		for s := 0; s < f.e.set.Shards; s++ {
			res, err := f.e.Week52Extremes(context.Background(), s, c.now)
			if err != nil {
				t.Fatalf("%s: Week52Extremes shard %d: %v", c.name, s, err)
			}
			for k, v := range res {
				got[k] = v
			}
		}
		for sym, x := range c.want {
			x.AsOf = c.now
			c.want[sym] = x
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Fatalf("%s: returned extremes (-want +got):\n%s", c.name, diff)
		}
		if diff := cmp.Diff(c.want, week52Stored(t, f)); diff != "" {
			t.Fatalf("%s: stored extremes (-want +got):\n%s", c.name, diff)
		}
	}
}
