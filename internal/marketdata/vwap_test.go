package marketdata

import (
	"context"
	"encoding/json"
	"math/big"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"heartbeat/internal/keys"
	"heartbeat/internal/market"
)

// vwapSeries reads a symbol's stored VWAP series, checking each point is
// scored by its minute.
func vwapSeries(t *testing.T, f fixture, sym string) []VwapPoint {
	t.Helper()
	z := f.rdb.ZRangeWithScores(context.Background(), keys.VwapSeries(shardOf(f, sym), sym), 0, -1).Val()
	out := make([]VwapPoint, 0, len(z))
	for _, m := range z {
		var p VwapPoint
		if err := json.Unmarshal([]byte(m.Member.(string)), &p); err != nil {
			t.Fatalf("decode VWAP point of %s: %v", sym, err)
		}
		if int64(m.Score) != p.Minute.UnixMilli() {
			t.Fatalf("VWAP point %+v scored %v", p, m.Score)
		}
		out = append(out, p)
	}
	return out
}

// wantVwapPoints computes, straight from the trades, sym's point for each
// minute of [from, to] inside session s: the session's cumulative volume,
// VWAP and last price at the minute's end, once the session has traded.
func wantVwapPoints(t *testing.T, sym string, trades []fed, s market.Session, from, to time.Time) []VwapPoint {
	t.Helper()
	var out []VwapPoint
	for m := from; !m.After(to); m = m.Add(time.Minute) {
		if !s.Contains(m) {
			continue
		}
		end := m.Add(time.Minute)
		p := VwapPoint{Symbol: sym, Minute: m, Session: s.Date.String()}
		num, vol := new(big.Rat), new(big.Rat)
		var lastAt time.Time
		n := 0
		for _, tr := range trades {
			if tr.sym != sym || !s.Contains(tr.at) || !tr.at.Before(end) {
				continue
			}
			num.Add(num, new(big.Rat).Mul(rat(t, tr.price), rat(t, tr.size)))
			vol.Add(vol, rat(t, tr.size))
			p.Volume += dec(tr.size)
			if n == 0 || !tr.at.Before(lastAt) {
				p.Last, lastAt = dec(tr.price), tr.at
			}
			n++
		}
		if n == 0 {
			continue
		}
		p.VWAP = ratVWAP(num.Quo(num, vol)) // exact, half to even
		out = append(out, p)
	}
	return out
}

func nyseSession(t *testing.T, d market.Date) market.Session {
	t.Helper()
	cal, err := market.Lookup(market.XNYS)
	if err != nil {
		t.Fatal(err)
	}
	s, ok, err := cal.Session(d)
	if err != nil || !ok {
		t.Fatalf("NYSE session %s: ok=%v err=%v", d, ok, err)
	}
	return s
}

func TestVwapMinuteCapture(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	n := shardOf(f, "SPY")
	monday := nyseSession(t, market.NewDate(2026, 11, 23))
	trades := []fed{
		{"SPY", "99", "100", mon(13, 0, 0, 0)}, // pre-market: never in the series
		{"SPY", "100", "10", mon(14, 31, 20, 0)},
		{"SPY", "101", "30", mon(14, 31, 40, 0)},
		// no trade in 14:32: its point carries the 14:31 figures
		{"SPY", "102", "5", mon(14, 33, 5, 0)},
		{"SPY", "99.5", "15", mon(14, 34, 10, 0)},
		{"SPY", "99.75", "3", mon(14, 34, 50, 0)},
	}
	// Each step feeds trades, runs Intraday then VwapMinuteCapture at now
	// (late window 10 s): the points it must return cover the minutes
	// [from, to]; the stored series holds every point so far.
	steps := []struct {
		name     string
		fed      int // trades fed so far
		now      time.Time
		from, to time.Time // zero: no point
	}{
		{"the first run starts at the last final minute: pre-market, nothing", 1, mon(14, 30, 20, 0), time.Time{}, time.Time{}},
		{"14:30 is in session but SPY has not traded in it yet", 3, mon(14, 32, 9, 0), time.Time{}, time.Time{}},
		{"14:31 is final 10 s after its end", 3, mon(14, 32, 10, 0), mon(14, 31, 0, 0), mon(14, 31, 0, 0)},
		{"run again: nothing new", 3, mon(14, 32, 10, 0), time.Time{}, time.Time{}},
		{"a run after a 5-minute gap catches up 5 minutes", 6, mon(14, 37, 10, 0), mon(14, 32, 0, 0), mon(14, 36, 0, 0)},
		{"and run again: nothing new", 6, mon(14, 37, 15, 0), time.Time{}, time.Time{}},
	}
	var series []VwapPoint
	fedSoFar := 0
	for _, s := range steps {
		feedAll(t, f, trades[fedSoFar:s.fed])
		fedSoFar = s.fed
		f.intradayAll(t, s.now)
		before := dump(t, f.rdb)
		var got []VwapPoint
		for shard := 0; shard < f.e.set.Shards; shard++ {
			ps, err := f.e.VwapMinuteCapture(ctx, shard, s.now)
			if err != nil {
				t.Fatalf("%s: VwapMinuteCapture shard %d: %v", s.name, shard, err)
			}
			got = append(got, ps...)
		}
		var want []VwapPoint
		if !s.from.IsZero() {
			want = wantVwapPoints(t, "SPY", trades[:s.fed], monday, s.from, s.to)
			if len(want) != int(s.to.Sub(s.from)/time.Minute)+1 {
				t.Fatalf("%s: test expects %d points, computed %d", s.name, int(s.to.Sub(s.from)/time.Minute)+1, len(want))
			}
		}
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("%s: points (-want +got):\n%s", s.name, diff)
		}
		series = append(series, want...)
		if diff := cmp.Diff(series, vwapSeries(t, f, "SPY"), cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("%s: stored series (-want +got):\n%s", s.name, diff)
		}
		for _, sym := range []string{"QQQ", "ES", "BTCUSD"} {
			if ps := vwapSeries(t, f, sym); len(ps) != 0 {
				t.Fatalf("%s: %s never traded but has points %+v", s.name, sym, ps)
			}
		}
		final := s.now.Add(-f.e.set.LateWindow).Truncate(time.Minute).Add(-time.Minute)
		if got, want := f.rdb.HGet(ctx, keys.Checkpoints(n), ckptVwap).Val(), final.UnixMilli(); got != strconv.FormatInt(want, 10) {
			t.Fatalf("%s: checkpoint %s, want %d (%s)", s.name, got, want, final)
		}
		if len(want) == 0 {
			// Nothing captured: the checkpoint may move (it did, above),
			// nothing else.
			after := dump(t, f.rdb)
			delete(before, keys.Checkpoints(0))
			delete(before, keys.Checkpoints(1))
			delete(after, keys.Checkpoints(0))
			delete(after, keys.Checkpoints(1))
			if diff := cmp.Diff(before, after); diff != "" {
				t.Fatalf("%s: a run capturing nothing changed Redis (-before +after):\n%s", s.name, diff)
			}
		}
	}
}

// TestVwapSeriesTrim captures minutes on Monday, Wednesday and Friday: the
// series keeps the current session plus VwapKeepDays (2) calendar days.
func TestVwapSeriesTrim(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	day := func(d, hh, mm, ss int) time.Time { return time.Date(2026, 11, d, hh, mm, ss, 0, time.UTC) }
	steps := []struct {
		name   string
		trades []fed
		now    time.Time
		want   []string // sessions in the series, oldest first, one entry per point
	}{
		// 14:31 to 14:33: the first run could not capture 14:31, Intraday
		// had not run past it.
		{"Monday", []fed{{"SPY", "100", "1", day(23, 14, 31, 0)}}, day(23, 14, 34, 10),
			[]string{"2026-11-23", "2026-11-23", "2026-11-23"}},
		{"Wednesday: Monday is within two days of Wednesday's open", []fed{{"SPY", "101", "1", day(25, 14, 30, 30)}}, day(25, 14, 33, 10),
			[]string{"2026-11-23", "2026-11-23", "2026-11-23", "2026-11-25", "2026-11-25", "2026-11-25"}},
		{"Friday: Monday is more than two days before Friday's open", []fed{{"SPY", "102", "1", day(27, 14, 31, 0)}}, day(27, 14, 33, 10),
			[]string{"2026-11-25", "2026-11-25", "2026-11-25", "2026-11-27", "2026-11-27"}},
	}
	// The first run only sets the checkpoint.
	f.intradayAll(t, day(23, 14, 31, 0).Add(-time.Minute))
	if _, err := f.e.VwapMinuteCapture(ctx, shardOf(f, "SPY"), day(23, 14, 32, 10)); err != nil {
		t.Fatal(err)
	}
	for _, s := range steps {
		feedAll(t, f, s.trades)
		f.intradayAll(t, s.now)
		if _, err := f.e.VwapMinuteCapture(ctx, shardOf(f, "SPY"), s.now); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		var got []string
		for _, p := range vwapSeries(t, f, "SPY") {
			got = append(got, p.Session)
		}
		if diff := cmp.Diff(s.want, got); diff != "" {
			t.Fatalf("%s: sessions of the stored points (-want +got):\n%s", s.name, diff)
		}
	}
}

// TestVwapRecapturesMinutesAmendedLate: a tick delayed past the capture of
// its minute (the symbol traded nothing newer, so it is not late for its
// bar) amends the bar; the capture then writes that minute, and those
// after it, again.
func TestVwapRecapturesMinutesAmendedLate(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	n := shardOf(f, "SPY")
	f.intradayAll(t, mon(15, 0, 0, 0))
	if _, err := f.e.VwapMinuteCapture(ctx, n, mon(15, 0, 0, 0)); err != nil { // sets the checkpoint
		t.Fatal(err)
	}
	f.trade(t, "1-1", "SPY", "100", "10", mon(15, 0, 10, 0))
	f.trade(t, "1-2", "SPY", "101", "10", mon(15, 1, 5, 0))
	f.intradayAll(t, mon(15, 2, 20, 0))
	if _, err := f.e.VwapMinuteCapture(ctx, n, mon(15, 2, 20, 0)); err != nil {
		t.Fatal(err)
	}
	points := vwapSeries(t, f, "SPY")
	if len(points) != 2 || points[1].Volume != dec("20") {
		t.Fatalf("before the delayed tick: %+v, want 15:00 and 15:01 with volume 20", points)
	}
	// Stamped 15:01:30, delivered at 15:02:30.
	f.trade(t, "1-3", "SPY", "102", "5", mon(15, 1, 30, 0))
	captured := f.rdb.HGetAll(ctx, keys.Checkpoints(n)).Val()[ckptVwap]
	f.intradayAll(t, mon(15, 2, 30, 0))
	// Intraday publishes the amended minute and leaves the capture's
	// checkpoint to the capture.
	if got := f.rdb.HGetAll(ctx, keys.Checkpoints(n)).Val()[ckptVwap]; got != captured {
		t.Fatalf("Intraday moved the capture's checkpoint from %q to %q", captured, got)
	}
	if got, want := f.rdb.HGet(ctx, keys.Amended(n), amendedEarliest).Val(), strconv.FormatInt(mon(15, 1, 0, 0).UnixMilli(), 10); got != want {
		t.Fatalf("published amended minute %q, want %q (15:01)", got, want)
	}
	f.intradayAll(t, mon(15, 3, 20, 0))
	if _, err := f.e.VwapMinuteCapture(ctx, n, mon(15, 3, 20, 0)); err != nil {
		t.Fatal(err)
	}
	points = vwapSeries(t, f, "SPY")
	want := []string{"10", "25", "25"} // 15:00, 15:01 (amended), 15:02 (carried)
	if len(points) != len(want) {
		t.Fatalf("points = %+v, want %d", points, len(want))
	}
	for i, w := range want {
		if points[i].Volume != dec(w) {
			t.Fatalf("point %s volume %s, want %s", points[i].Minute.Format("15:04"), points[i].Volume, w)
		}
	}
	// (100 × 10 + 101 × 10 + 102 × 5) / 25 = 2520 / 25
	if got, want := points[1].VWAP, "100.8"; got != want {
		t.Fatalf("15:01 VWAP %s, want %s", got, want)
	}
	if v := f.rdb.HGet(ctx, keys.Amended(n), amendedEarliest).Val(); v != "" {
		t.Fatalf("recapture mark left behind: %q", v)
	}
}
