package backfill

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"heartbeat/internal/config"
	"heartbeat/internal/market"
	"heartbeat/internal/marketdata"
)

// trade is one generated row.
type trade struct {
	ts    time.Time
	sym   string
	price string // as written
	size  string
	bad   bool // not a valid tick: must be dead-lettered, not counted
}

// generate writes a time-ordered trades file: SPY (NYSE, with pre-market
// prints), ES (CME, across its daily halt and the Sunday-evening open) and
// BTCUSD (24/7), from start for the given duration, plus a few bad rows.
func generate(t testing.TB, seed uint64, start time.Time, dur time.Duration, meanGap time.Duration) ([]trade, []byte) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	price := map[string]int64{"SPY": 500_00, "ES": 6000_00, "BTCUSD": 90000_00} // cents
	var out []trade
	for ts := start; ts.Before(start.Add(dur)); ts = ts.Add(time.Duration(1+rng.Int64N(int64(2*meanGap/time.Millisecond))) * time.Millisecond) {
		sym := []string{"SPY", "ES", "BTCUSD"}[rng.IntN(3)]
		price[sym] += rng.Int64N(41) - 20
		p := fmt.Sprintf("%d.%02d", price[sym]/100, price[sym]%100)
		size := fmt.Sprint(1 + rng.IntN(500))
		if sym == "BTCUSD" {
			size = fmt.Sprintf("0.%08d", 1+rng.IntN(99999999))
			p += fmt.Sprint(rng.IntN(10)) // a third decimal
		}
		tr := trade{ts: ts, sym: sym, price: p, size: size}
		switch rng.IntN(500) {
		case 0:
			tr.price, tr.bad = "-"+tr.price, true
		case 1:
			tr.sym, tr.bad = "NOPE", true
		case 2:
			tr.size, tr.bad = "1.123456789", true
		}
		out = append(out, tr)
	}
	return out, tradesFile(out)
}

// generateLowPriced writes a time-ordered trades file of instruments that
// trade far below 1 (see lowPricedInstruments): ETHBTC around 0.0014 and
// SHIBUSD around 0.00001234 (24/7), and PNNY around 0.0014 (NYSE), prices
// in units of 10^-8, the tick contract's last place.
func generateLowPriced(t testing.TB, seed uint64, start time.Time, dur time.Duration, meanGap time.Duration) ([]trade, []byte) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 2))
	type walk struct {
		price, step, lo, hi int64 // in 10^-8
	}
	walks := map[string]*walk{
		"ETHBTC":  {price: 140000, step: 20, lo: 130000, hi: 150000},
		"SHIBUSD": {price: 1234, step: 1, lo: 1200, hi: 1270},
		"PNNY":    {price: 140000, step: 3, lo: 139000, hi: 141000},
	}
	var out []trade
	for ts := start; ts.Before(start.Add(dur)); ts = ts.Add(time.Duration(1+rng.Int64N(int64(2*meanGap/time.Millisecond))) * time.Millisecond) {
		sym := []string{"ETHBTC", "SHIBUSD", "PNNY"}[rng.IntN(3)]
		w := walks[sym]
		w.price = min(w.hi, max(w.lo, w.price+rng.Int64N(2*w.step+1)-w.step))
		var size string
		switch sym {
		case "ETHBTC":
			size = fmt.Sprintf("%d.%08d", rng.IntN(50), 1+rng.IntN(99999999))
		case "SHIBUSD":
			size = fmt.Sprint(1 + rng.IntN(1_000_000))
		default:
			size = fmt.Sprint(100 * (1 + rng.IntN(500)))
		}
		out = append(out, trade{ts: ts, sym: sym, price: fmt.Sprintf("0.%08d", w.price), size: size})
	}
	return out, tradesFile(out)
}

// tradesFile writes trades as a trades CSV, timestamps alternately in
// Unix milliseconds and RFC 3339.
func tradesFile(trades []trade) []byte {
	var b bytes.Buffer
	b.WriteString("ts,symbol,price,size\n")
	for i, tr := range trades {
		ts := fmt.Sprint(tr.ts.UnixMilli())
		if i%2 == 1 {
			ts = tr.ts.Format("2006-01-02T15:04:05.000Z07:00")
		}
		fmt.Fprintf(&b, "%s,%s,%s,%s\n", ts, tr.sym, tr.price, tr.size)
	}
	return b.Bytes()
}

func instruments(t testing.TB) *market.Instruments {
	t.Helper()
	return newInstruments(t, []market.Instrument{
		{Symbol: "SPY", Market: market.XNYS, Weight: 1},
		{Symbol: "ES", Market: market.CMES, Weight: 1},
		{Symbol: "BTCUSD", Market: market.ALWAYS, Weight: 1},
	})
}

// lowPricedInstruments are generateLowPriced's symbols.
func lowPricedInstruments(t testing.TB) *market.Instruments {
	t.Helper()
	return newInstruments(t, []market.Instrument{
		{Symbol: "ETHBTC", Market: market.ALWAYS, Weight: 1},
		{Symbol: "SHIBUSD", Market: market.ALWAYS, Weight: 1},
		{Symbol: "PNNY", Market: market.XNYS, Weight: 1},
	})
}

func newInstruments(t testing.TB, list []market.Instrument) *market.Instruments {
	t.Helper()
	in, err := market.NewInstruments(nil, list)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func settings(t testing.TB) marketdata.Settings {
	t.Helper()
	set, err := marketdata.SettingsFrom(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func rat(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic("bad number " + s)
	}
	return r
}

// agg is an independent aggregate of trades.
type agg struct {
	open, high, low, last *big.Rat
	volume, notional      *big.Rat
	trades                int
}

func (a *agg) add(p, q *big.Rat) {
	if a.trades == 0 {
		a.open, a.high, a.low, a.volume, a.notional = p, p, p, new(big.Rat), new(big.Rat)
	}
	if p.Cmp(a.high) > 0 {
		a.high = p
	}
	if p.Cmp(a.low) < 0 {
		a.low = p
	}
	a.last = p
	a.volume = new(big.Rat).Add(a.volume, q)
	a.notional = new(big.Rat).Add(a.notional, new(big.Rat).Mul(p, q))
	a.trades++
}

func (a *agg) merge(b *agg) {
	if b.trades == 0 {
		return
	}
	if a.trades == 0 {
		*a = agg{open: b.open, high: b.high, low: b.low, last: b.last, volume: b.volume, notional: b.notional, trades: b.trades}
		return
	}
	if b.high.Cmp(a.high) > 0 {
		a.high = b.high
	}
	if b.low.Cmp(a.low) < 0 {
		a.low = b.low
	}
	a.last = b.last
	a.volume = new(big.Rat).Add(a.volume, b.volume)
	a.notional = new(big.Rat).Add(a.notional, b.notional)
	a.trades += b.trades
}

func (a *agg) vwap() *big.Rat { return new(big.Rat).Quo(a.notional, a.volume) }

// num prints an exact decimal the way the backfill does (shortest form).
func num(r *big.Rat) string {
	s := r.FloatString(8)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" {
		s = "0"
	}
	return s
}

// roundHalfEven writes r rounded half to even at places decimal places,
// in shortest form: how the backfill documents its change_pct (6 places)
// rounding, and its VWAP rounding with roundVWAP's places.
func roundHalfEven(r *big.Rat, places int) string {
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(places)), nil)
	num := new(big.Int).Mul(new(big.Int).Abs(r.Num()), scale)
	q, rem := new(big.Int).QuoRem(num, r.Denom(), new(big.Int))
	switch c := new(big.Int).Lsh(rem, 1).Cmp(r.Denom()); {
	case c > 0, c == 0 && q.Bit(0) == 1:
		q.Add(q, big.NewInt(1))
	}
	out := new(big.Rat).SetFrac(q, scale)
	if r.Sign() < 0 {
		out.Neg(out)
	}
	return num8(out, places)
}

// roundVWAP writes a non-negative r rounded half to even at max(10
// decimal places, 10 significant digits), in shortest form: how the
// backfill documents its VWAP rounding. At p places r keeps 10
// significant digits once r × 10^(p-9) >= 1.
func roundVWAP(r *big.Rat) string {
	places := 10
	if r.Sign() > 0 {
		ten := big.NewRat(10, 1)
		for y := new(big.Rat).Mul(r, ten); y.Cmp(big.NewRat(1, 1)) < 0; y.Mul(y, ten) {
			places++
		}
	}
	return roundHalfEven(r, places)
}

// num8 prints r (exact at places decimals) in shortest form.
func num8(r *big.Rat, places int) string {
	s := strings.TrimRight(strings.TrimRight(r.FloatString(places), "0"), ".")
	if s == "-0" || s == "" {
		s = "0"
	}
	return s
}

// expected computes the four outputs independently of marketdata, from
// the generated trades.
func expected(t testing.TB, trades []trade, in *market.Instruments) (barsRows, vwapRows, sessionRows, rollingRows [][]string) {
	type key struct {
		sym   string
		start int64
	}
	bars := map[key]*agg{}
	type sk struct{ sym, session string }
	sessions := map[sk]*agg{}
	// Per symbol, per in-session minute: the session totals after it.
	type point struct {
		minute  int64
		session string
		cum     agg
	}
	points := map[string][]point{}
	var lastTrade time.Time
	for _, tr := range trades {
		if tr.bad {
			continue
		}
		inst, _ := in.Get(tr.sym)
		p, q := rat(tr.price), rat(tr.size)
		m := tr.ts.Truncate(time.Minute).UnixMilli()
		k := key{tr.sym, m}
		if bars[k] == nil {
			bars[k] = &agg{}
		}
		bars[k].add(p, q)
		lastTrade = tr.ts
		label, ok := sessionOf(t, inst.Market, tr.ts)
		if !ok {
			continue
		}
		if sessions[sk{tr.sym, label}] == nil {
			sessions[sk{tr.sym, label}] = &agg{}
		}
		sessions[sk{tr.sym, label}].add(p, q)
		pts := points[tr.sym]
		if n := len(pts); n > 0 && pts[n-1].minute == m {
			pts[n-1].cum = *sessions[sk{tr.sym, label}]
		} else {
			pts = append(pts, point{m, label, *sessions[sk{tr.sym, label}]})
		}
		points[tr.sym] = pts
	}
	keys := make([]key, 0, len(bars))
	for k := range bars {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].sym != keys[j].sym {
			return keys[i].sym < keys[j].sym
		}
		return keys[i].start < keys[j].start
	})
	for _, k := range keys {
		a := bars[k]
		barsRows = append(barsRows, []string{k.sym, time.UnixMilli(k.start).UTC().Format(time.RFC3339), num(a.open), num(a.high),
			num(a.low), num(a.last), num(a.volume), fmt.Sprint(a.trades), roundVWAP(a.vwap())})
	}
	sks := make([]sk, 0, len(sessions))
	for k := range sessions {
		sks = append(sks, k)
	}
	sort.Slice(sks, func(i, j int) bool {
		if sks[i].sym != sks[j].sym {
			return sks[i].sym < sks[j].sym
		}
		return sks[i].session < sks[j].session
	})
	for _, k := range sks {
		a := sessions[k]
		sessionRows = append(sessionRows, []string{k.sym, k.session, num(a.volume), fmt.Sprint(a.trades)})
	}
	// Minute VWAP: every in-session minute from the session's first trade
	// to the last minute with any trade, carrying the totals forward.
	end := lastTrade.Truncate(time.Minute).UnixMilli()
	for _, sym := range in.Symbols() {
		inst, _ := in.Get(sym)
		pts := points[sym]
		for i, p := range pts {
			stop := end
			if i+1 < len(pts) {
				stop = pts[i+1].minute - time.Minute.Milliseconds()
			}
			for m := p.minute; m <= stop; m += time.Minute.Milliseconds() {
				at := time.UnixMilli(m)
				if label, ok := sessionOf(t, inst.Market, at); !ok || label != p.session {
					continue
				}
				vwapRows = append(vwapRows, []string{sym, at.UTC().Format(time.RFC3339), p.session, roundVWAP(p.cum.vwap()),
					num(p.cum.volume), num(p.cum.last)})
			}
		}
	}
	// Rolling 24 h: at every minute end from the first bar's end through
	// the last bar's end, each symbol with bars starting in [at-24h, at).
	first := keys[0].start
	for _, k := range keys {
		first = min(first, k.start)
	}
	type series struct {
		starts    []int64
		bars      []*agg
		vol, notl []*big.Rat // prefix sums
		trades    []int
	}
	bySym := map[string]*series{}
	for _, k := range keys { // sorted by symbol, then start
		s := bySym[k.sym]
		if s == nil {
			s = &series{vol: []*big.Rat{new(big.Rat)}, notl: []*big.Rat{new(big.Rat)}, trades: []int{0}}
			bySym[k.sym] = s
		}
		b := bars[k]
		s.starts = append(s.starts, k.start)
		s.bars = append(s.bars, b)
		n := len(s.vol) - 1
		s.vol = append(s.vol, new(big.Rat).Add(s.vol[n], b.volume))
		s.notl = append(s.notl, new(big.Rat).Add(s.notl[n], b.notional))
		s.trades = append(s.trades, s.trades[n]+b.trades)
	}
	minute := time.Minute.Milliseconds()
	for at := first + minute; at <= end+minute; at += minute {
		for _, sym := range in.Symbols() {
			s := bySym[sym]
			if s == nil {
				continue
			}
			lo := sort.Search(len(s.starts), func(i int) bool { return s.starts[i] >= at-24*time.Hour.Milliseconds() })
			hi := sort.Search(len(s.starts), func(i int) bool { return s.starts[i] >= at })
			if lo >= hi {
				continue
			}
			high, low := s.bars[lo].high, s.bars[lo].low
			for _, b := range s.bars[lo:hi] {
				if b.high.Cmp(high) > 0 {
					high = b.high
				}
				if b.low.Cmp(low) < 0 {
					low = b.low
				}
			}
			open, last := s.bars[lo].open, s.bars[hi-1].last
			vol := new(big.Rat).Sub(s.vol[hi], s.vol[lo])
			notl := new(big.Rat).Sub(s.notl[hi], s.notl[lo])
			chg := new(big.Rat).Quo(new(big.Rat).Mul(new(big.Rat).Sub(last, open), big.NewRat(100, 1)), open)
			rollingRows = append(rollingRows, []string{sym, time.UnixMilli(at).UTC().Format(time.RFC3339), num(open), num(high),
				num(low), num(last), num(vol), roundVWAP(new(big.Rat).Quo(notl, vol)), fmt.Sprint(s.trades[hi] - s.trades[lo]),
				roundHalfEven(chg, 6)})
		}
	}
	return
}

func readCSV(t testing.TB, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows[1:]
}

// sorted returns rows in a stable order for comparison.
func sorted(rows [][]string) [][]string {
	out := append([][]string(nil), rows...)
	sort.Slice(out, func(i, j int) bool { return strings.Join(out[i], ",") < strings.Join(out[j], ",") })
	return out
}

// checkOutputs compares every row of the four output files in dir with
// expected's computation from trades, and returns the files' rows.
func checkOutputs(t *testing.T, dir string, trades []trade, in *market.Instruments) map[string][][]string {
	t.Helper()
	wantBars, wantVwap, wantSessions, wantRolling := expected(t, trades, in)
	out := map[string][][]string{}
	for _, c := range []struct {
		file string
		want [][]string
	}{
		{"bars_1m.csv", wantBars},
		{"session_volume.csv", wantSessions},
		{"vwap_1m.csv", wantVwap},
		{"rolling_24h.csv", wantRolling},
	} {
		got := sorted(readCSV(t, filepath.Join(dir, c.file)))
		want := sorted(c.want)
		if len(want) == 0 {
			t.Fatalf("%s: the independent computation produced no rows", c.file)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("%s differs from the independent computation (-want +got):\n%s", c.file, diff)
		}
		out[c.file] = got
	}
	return out
}

// TestBackfillMatchesIndependentComputation backfills three days of three
// markets' trades and compares every output row with a computation done
// here from the trades with big.Rat: OHLC and volume exactly, VWAP rounded
// half to even at max(10 decimal places, 10 significant digits).
func TestBackfillMatchesIndependentComputation(t *testing.T) {
	t.Parallel()
	// Sunday 2016-11-20 20:00 UTC (CME opens at 23:00) to Wednesday,
	// within every answer file (see sessions_test.go).
	start := time.Date(2016, 11, 20, 20, 0, 0, 0, time.UTC)
	trades, file := generate(t, 7, start, 75*time.Hour, 15*time.Second)
	in := instruments(t)
	dir := t.TempDir()
	began := time.Now()
	sum, err := Run(context.Background(), Config{Trades: bytes.NewReader(file), OutDir: dir, Instruments: in, Settings: settings(t)}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("backfill of %d rows over %d minutes took %s", sum.Rows, sum.Minutes, time.Since(began))
	bad := 0
	for _, tr := range trades {
		if tr.bad {
			bad++
		}
	}
	dead := 0
	for _, n := range sum.DeadLetters {
		dead += n
	}
	if sum.Rows != len(trades) || dead != bad || sum.Accepted != len(trades)-bad {
		t.Fatalf("rows %d accepted %d dead %d (%v); want %d, %d, %d", sum.Rows, sum.Accepted, dead, sum.DeadLetters, len(trades), len(trades)-bad, bad)
	}
	checkOutputs(t, dir, trades, in)
	// The generated days include CME's Sunday evening (Monday's session)
	// and its daily halt (out of session).
	if sum.OutOfSession == 0 {
		t.Fatal("no out-of-session trade: the generator should cover closed hours")
	}
}

// TestBackfillLowPricesKeepTenSignificantDigits backfills 30 hours of
// instruments trading far below 1 (a crypto cross at 0.0014, a token at
// 0.00001234, a penny stock on NYSE) and compares every output row with
// the big.Rat computation: a VWAP of 0.00001234 needs 14 decimal places
// for its 10 significant digits, and one of 0.0014 needs 12.
func TestBackfillLowPricesKeepTenSignificantDigits(t *testing.T) {
	t.Parallel()
	// Tuesday 2016-11-22 00:00 UTC to Wednesday 06:00: one NYSE session.
	start := time.Date(2016, 11, 22, 0, 0, 0, 0, time.UTC)
	trades, file := generateLowPriced(t, 3, start, 30*time.Hour, 10*time.Second)
	in := lowPricedInstruments(t)
	dir := t.TempDir()
	sum, err := Run(context.Background(), Config{Trades: bytes.NewReader(file), OutDir: dir, Instruments: in, Settings: settings(t)}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Accepted != len(trades) {
		t.Fatalf("accepted %d of %d trades (dead letters %v)", sum.Accepted, len(trades), sum.DeadLetters)
	}
	out := checkOutputs(t, dir, trades, in)
	// The rows above match the computation; check they reach the places
	// that 10 significant digits need, so the test covers them.
	vwapColumn := map[string]int{"bars_1m.csv": 8, "vwap_1m.csv": 3, "rolling_24h.csv": 7}
	for file, col := range vwapColumn {
		most := map[string]int{} // symbol -> most decimal places of a VWAP
		for _, row := range out[file] {
			_, frac, _ := strings.Cut(row[col], ".")
			most[row[0]] = max(most[row[0]], len(frac))
		}
		for sym, want := range map[string]int{"SHIBUSD": 14, "ETHBTC": 12, "PNNY": 12} {
			if most[sym] != want {
				t.Fatalf("%s: %s VWAPs have at most %d decimal places, want %d", file, sym, most[sym], want)
			}
		}
	}
}
