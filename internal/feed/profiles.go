package feed

import (
	"hash/fnv"
	"math"

	"heartbeat/internal/decimal"
	"heartbeat/internal/market"
)

// profile is how the simulator draws one instrument's trades: where its
// price starts, the increments its prices and sizes move in, and how much
// it moves.
type profile struct {
	// Start is the first mid price (> 0).
	Start float64
	// Tick is the price increment every price is a multiple of.
	Tick decimal.Dec
	// Lot is the size increment every size is a multiple of: a round lot
	// for most stocks, one contract for futures, a small coin fraction for
	// crypto.
	Lot decimal.Dec
	// MaxLots is the largest trade, in lots; sizes are skewed towards one
	// lot.
	MaxLots int
	// Vol is the daily volatility of the price, a fraction (0.01 is 1%).
	Vol float64
	// MaxSpread is the widest bid/ask spread, in ticks (>= 1).
	MaxSpread int
}

func dec(s string) decimal.Dec { return decimal.MustParse(s) }

// seedProfiles are plausible starting points for the default instruments:
// prices of the order they traded at in 2024-2025 and the exchanges'
// price increments and lot sizes.
var seedProfiles = map[string]profile{
	// CME futures: one-contract lots.
	"ES":  {Start: 5000, Tick: dec("0.25"), Lot: dec("1"), MaxLots: 20, Vol: 0.012, MaxSpread: 1},
	"NQ":  {Start: 18000, Tick: dec("0.25"), Lot: dec("1"), MaxLots: 15, Vol: 0.015, MaxSpread: 2},
	"YM":  {Start: 39000, Tick: dec("1"), Lot: dec("1"), MaxLots: 10, Vol: 0.011, MaxSpread: 1},
	"RTY": {Start: 2000, Tick: dec("0.1"), Lot: dec("1"), MaxLots: 10, Vol: 0.016, MaxSpread: 2},
	"CL":  {Start: 75, Tick: dec("0.01"), Lot: dec("1"), MaxLots: 20, Vol: 0.022, MaxSpread: 1},
	"GC":  {Start: 2300, Tick: dec("0.1"), Lot: dec("1"), MaxLots: 10, Vol: 0.010, MaxSpread: 2},
	"SI":  {Start: 28, Tick: dec("0.005"), Lot: dec("1"), MaxLots: 10, Vol: 0.020, MaxSpread: 2},
	"HG":  {Start: 4.5, Tick: dec("0.0005"), Lot: dec("1"), MaxLots: 10, Vol: 0.015, MaxSpread: 2},
	"ZB":  {Start: 118, Tick: dec("0.03125"), Lot: dec("1"), MaxLots: 20, Vol: 0.007, MaxSpread: 1},
	// Stocks: round lots where the exchange trades in them.
	"SPY":         {Start: 520, Tick: dec("0.01"), Lot: dec("100"), MaxLots: 10, Vol: 0.010, MaxSpread: 1},
	"RY.TO":       {Start: 140, Tick: dec("0.01"), Lot: dec("100"), MaxLots: 10, Vol: 0.010, MaxSpread: 2},
	"WALMEXV.MX":  {Start: 65, Tick: dec("0.01"), Lot: dec("100"), MaxLots: 20, Vol: 0.013, MaxSpread: 3},
	"VOD.L":       {Start: 70, Tick: dec("0.02"), Lot: dec("500"), MaxLots: 20, Vol: 0.013, MaxSpread: 2},
	"SAP.DE":      {Start: 180, Tick: dec("0.02"), Lot: dec("1"), MaxLots: 200, Vol: 0.013, MaxSpread: 2},
	"7203.T":      {Start: 3000, Tick: dec("0.5"), Lot: dec("100"), MaxLots: 30, Vol: 0.014, MaxSpread: 2},
	"600519.SS":   {Start: 1700, Tick: dec("0.01"), Lot: dec("100"), MaxLots: 5, Vol: 0.015, MaxSpread: 3},
	"0700.HK":     {Start: 380, Tick: dec("0.2"), Lot: dec("100"), MaxLots: 20, Vol: 0.018, MaxSpread: 1},
	"RELIANCE.BO": {Start: 2900, Tick: dec("0.05"), Lot: dec("1"), MaxLots: 100, Vol: 0.013, MaxSpread: 3},
	"BHP.AX":      {Start: 45, Tick: dec("0.01"), Lot: dec("1"), MaxLots: 1000, Vol: 0.012, MaxSpread: 1},
	// Crypto: fractional sizes.
	"BTCUSD": {Start: 65000, Tick: dec("0.01"), Lot: dec("0.0001"), MaxLots: 5000, Vol: 0.030, MaxSpread: 5},
	"ETHUSD": {Start: 3500, Tick: dec("0.01"), Lot: dec("0.001"), MaxLots: 5000, Vol: 0.040, MaxSpread: 3},
}

// roundLotMarkets trade stocks in lots of 100 shares.
var roundLotMarkets = map[market.Code]bool{
	market.XNYS: true, market.XTSE: true, market.XMEX: true,
	market.XTKS: true, market.XSHG: true, market.XHKG: true,
}

// profileFor returns the seed profile of a symbol, or one derived from its
// market for symbols the table does not know: a start price drawn from the
// symbol's hash (so it never depends on the seed), a tick that suits it,
// and the market's usual sizes.
func profileFor(symbol string, code market.Code) profile {
	if p, ok := seedProfiles[symbol]; ok {
		return p
	}
	h := fnv.New64a()
	h.Write([]byte(symbol))
	u := float64(h.Sum64()>>11) / (1 << 53) // [0, 1)
	// Log-uniform between lo and hi.
	logUniform := func(lo, hi float64) float64 { return lo * math.Exp(u*math.Log(hi/lo)) }
	switch code {
	case market.CMES:
		p := profile{Start: logUniform(50, 5000), Lot: dec("1"), MaxLots: 10, Vol: 0.015, MaxSpread: 1}
		p.Tick = dec("0.25")
		if p.Start < 500 {
			p.Tick = dec("0.01")
		}
		return p
	case market.ALWAYS:
		return profile{Start: logUniform(1, 1000), Tick: dec("0.0001"), Lot: dec("0.01"), MaxLots: 5000, Vol: 0.05, MaxSpread: 5}
	}
	p := profile{Start: logUniform(10, 500), Tick: dec("0.01"), Lot: dec("1"), MaxLots: 500, Vol: 0.015, MaxSpread: 3}
	if roundLotMarkets[code] {
		p.Lot, p.MaxLots = dec("100"), 10
	}
	return p
}
