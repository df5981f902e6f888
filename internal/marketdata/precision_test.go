package marketdata

import (
	"context"
	"math/big"
	"strings"
	"testing"
	"time"

	"heartbeat/internal/decimal"
	"heartbeat/internal/market"
)

// ratVWAP rounds a non-negative exact VWAP half to even at max(10 decimal
// places, 10 significant digits), in shortest form, with big.Rat only.
func ratVWAP(x *big.Rat) string {
	ten, one := big.NewRat(10, 1), big.NewRat(1, 1)
	places := 10 // at p places x keeps 10 significant digits once x × 10^(p-9) >= 1
	if x.Sign() > 0 {
		for y := new(big.Rat).Mul(x, ten); y.Cmp(one) < 0; y.Mul(y, ten) {
			places++
		}
	}
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(places)), nil)
	scaled := new(big.Rat).Mul(x, new(big.Rat).SetInt(scale))
	q, r := new(big.Int).QuoRem(scaled.Num(), scaled.Denom(), new(big.Int))
	if c := new(big.Int).Lsh(r, 1).Cmp(scaled.Denom()); c > 0 || (c == 0 && q.Bit(0) == 1) {
		q.Add(q, big.NewInt(1))
	}
	s := new(big.Rat).SetFrac(q, scale).FloatString(places)
	return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
}

// wantVWAP is ratVWAP of the trades of sym at or after from and before to.
func wantVWAP(t *testing.T, trades []fed, sym string, from, to time.Time) string {
	t.Helper()
	num, vol := new(big.Rat), new(big.Rat)
	for _, tr := range trades {
		if tr.sym == sym && !tr.at.Before(from) && tr.at.Before(to) {
			num.Add(num, new(big.Rat).Mul(rat(t, tr.price), rat(t, tr.size)))
			vol.Add(vol, rat(t, tr.size))
		}
	}
	if vol.Sign() == 0 {
		t.Fatalf("no trade of %s in [%s, %s)", sym, from, to)
	}
	return ratVWAP(num.Quo(num, vol))
}

// TestLowPricedVWAPsKeepTenSignificantDigits feeds instruments trading far
// below 1 and checks every VWAP the engine produces from them — the
// 1-minute bar's (in Redis and after the flush), the session's, the
// captured minute points and the rolling 24 h window's — against big.Rat:
// rounded half to even at max(10 decimal places, 10 significant digits).
// The first minute's trades make each VWAP an exact tie at its last place.
func TestLowPricedVWAPsKeepTenSignificantDigits(t *testing.T) {
	t.Parallel()
	in, err := market.NewInstruments(nil, []market.Instrument{
		{Symbol: "ETHBTC", Market: market.ALWAYS, Weight: 1},
		{Symbol: "SHIBUSD", Market: market.ALWAYS, Weight: 1},
		{Symbol: "PNNY", Market: market.XNYS, Weight: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	f := setup(t, withStore(), func(d *Deps) { d.Instruments = in })
	ctx := context.Background()
	trades := []fed{
		// 14:31: ties at the 14th (SHIBUSD) and 12th (ETHBTC, PNNY) place.
		{"SHIBUSD", "0.00001234", "127", mon(14, 31, 1, 0)},
		{"SHIBUSD", "0.00001235", "1", mon(14, 31, 2, 0)}, // 0.000012340078125
		{"ETHBTC", "0.0014", "1", mon(14, 31, 3, 0)},
		{"ETHBTC", "0.00140001", "31", mon(14, 31, 4, 0)}, // 0.0014000096875
		{"PNNY", "0.0014", "31", mon(14, 31, 5, 0)},
		{"PNNY", "0.00140001", "1", mon(14, 31, 6, 0)}, // 0.0014000003125
		// 14:32: thirds.
		{"SHIBUSD", "0.00001235", "2", mon(14, 32, 1, 0)},
		{"SHIBUSD", "0.00001233", "1", mon(14, 32, 2, 0)},
		{"ETHBTC", "0.00140001", "2", mon(14, 32, 3, 0)},
		{"ETHBTC", "0.00139999", "1", mon(14, 32, 4, 0)},
		{"PNNY", "0.0014", "2", mon(14, 32, 5, 0)},
		{"PNNY", "0.00140002", "1", mon(14, 32, 6, 0)},
	}
	m31, m32, m33 := mon(14, 31, 0, 0), mon(14, 32, 0, 0), mon(14, 33, 0, 0)
	// The 14:31 figures, worked out by hand: the ties go to the even digit.
	ties := map[string]string{"SHIBUSD": "0.00001234007812", "ETHBTC": "0.001400009688", "PNNY": "0.001400000312"}

	// The first capture only sets its checkpoint (the last final minute).
	f.intradayAll(t, mon(14, 30, 0, 0))
	for s := 0; s < f.e.set.Shards; s++ {
		if _, err := f.e.VwapMinuteCapture(ctx, s, mon(14, 30, 0, 0)); err != nil {
			t.Fatal(err)
		}
	}
	feedAll(t, f, trades)
	now := mon(14, 33, 15, 0) // 14:32 is closed and final (late window 10 s)
	f.intradayAll(t, now)
	for s := 0; s < f.e.set.Shards; s++ {
		if _, err := f.e.VwapMinuteCapture(ctx, s, now); err != nil {
			t.Fatal(err)
		}
		if _, err := f.e.TwentyFourHour(ctx, s, now); err != nil {
			t.Fatal(err)
		}
		if _, err := f.e.FlushClosedBars(ctx, s, now); err != nil {
			t.Fatal(err)
		}
	}

	for _, sym := range in.Symbols() {
		t.Run(sym, func(t *testing.T) {
			t.Parallel()
			if got := wantVWAP(t, trades, sym, m31, m32); got != ties[sym] {
				t.Fatalf("big.Rat says %s, the hand-worked tie %s", got, ties[sym])
			}
			type check struct{ name, got, want string }
			checks := []check{
				{"session", sessionVWAP(t, f, sym), wantVWAP(t, trades, sym, m31, m33)},
			}
			bs, err := f.e.MinuteBars(ctx, sym, m31, m33)
			if err != nil || len(bs) != 2 {
				t.Fatalf("bars in Redis: %+v, %v", bs, err)
			}
			stored, err := f.store.Range(ctx, sym, m31, m33)
			if err != nil || len(stored) != 2 {
				t.Fatalf("bars in the store: %+v, %v", stored, err)
			}
			points, err := f.e.VwapSeries(ctx, sym, m31, m33, 0)
			if err != nil || len(points) != 2 {
				t.Fatalf("captured points: %+v, %v", points, err)
			}
			for i, m := range []time.Time{m31, m32} {
				bar := wantVWAP(t, trades, sym, m, m.Add(time.Minute))
				checks = append(checks,
					check{"Redis bar " + m.Format("15:04"), decimal.VWAP(bs[i].Notional, bs[i].Volume), bar},
					check{"stored bar " + m.Format("15:04"), stored[i].VWAP(), bar},
					check{"minute point " + m.Format("15:04"), points[i].VWAP, wantVWAP(t, trades, sym, m31, m.Add(time.Minute))},
				)
			}
			r, ok, err := f.e.RollingOf(ctx, sym)
			if err != nil || !ok {
				t.Fatalf("rolling 24 h: ok=%v err=%v", ok, err)
			}
			checks = append(checks, check{"rolling 24 h", r.VWAP, wantVWAP(t, trades, sym, m31, m33)})
			for _, c := range checks {
				if c.got != c.want {
					t.Fatalf("%s: VWAP = %s, want %s", c.name, c.got, c.want)
				}
			}
		})
	}
}

// sessionVWAP is the VWAP of a symbol's current session, as the API shows
// it.
func sessionVWAP(t *testing.T, f fixture, sym string) string {
	t.Helper()
	cur := f.state(t, sym).Cur
	return decimal.VWAP(cur.Notional, cur.Volume)
}
