package ticks

import (
	"math"
	"math/big"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The tick contract (README "The tick contract"), written out here a
// second time so the oracle shares nothing with validate.go: the wire
// names, the number grammar, the timestamp rule and the order in which
// the checks report.

// oracleNumber is a decimal of the contract: [-+]digits[.digits], either
// side of the point possibly empty but not both.
var oracleNumber = regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$`)

// oracleInteger is a base-10 integer as the contract's ts.
var oracleInteger = regexp.MustCompile(`^[+-]?[0-9]+$`)

// oracleUnits returns s in units of 10^-8, and false when s is not a
// number of the contract with at most 8 significant decimal places within
// ±(2^63-1) units.
func oracleUnits(s string) (int64, bool) {
	if !oracleNumber.MatchString(s) {
		return 0, false
	}
	neg := strings.HasPrefix(s, "-")
	intPart, frac, _ := strings.Cut(strings.TrimLeft(s, "+-"), ".")
	frac = strings.TrimRight(frac, "0") // zeros past the 8th place are allowed
	if len(frac) > 8 {
		return 0, false
	}
	frac = (frac + "00000000")[:8]
	n, ok := new(big.Int).SetString("0"+intPart+frac, 10)
	if !ok || n.Cmp(big.NewInt(math.MaxInt64)) > 0 {
		return 0, false
	}
	if neg {
		n.Neg(n)
	}
	return n.Int64(), true
}

// oracleTick is what the contract says of one entry: the reason it is
// refused ("" when accepted) and, when accepted, its fields.
func oracleTick(pairs []string, now time.Time, maxFuture time.Duration, known func(string) bool) (reason Reason, units map[string]int64, ms int64) {
	get := func(name string) (string, bool) {
		for i := 0; i+1 < len(pairs); i += 2 {
			if pairs[i] == name {
				return pairs[i+1], pairs[i+1] != ""
			}
		}
		return "", false
	}
	sym, ok := get("symbol")
	if !ok {
		return "missing_field", nil, 0
	}
	units = map[string]int64{}
	for _, f := range []struct {
		name     string
		required bool
	}{{"price", true}, {"size", true}, {"bid", false}, {"ask", false}, {"bid_size", false}, {"ask_size", false}} {
		s, ok := get(f.name)
		if !ok {
			if f.required {
				return "missing_field", nil, 0
			}
			continue
		}
		u, ok := oracleUnits(s)
		if !ok {
			return "bad_number", nil, 0
		}
		units[f.name] = u
	}
	ts, ok := get("ts")
	if !ok {
		return "missing_field", nil, 0
	}
	if !oracleInteger.MatchString(ts) {
		return "bad_timestamp", nil, 0
	}
	n, _ := new(big.Int).SetString(strings.TrimPrefix(ts, "+"), 10)
	first := big.NewInt(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli())
	last := big.NewInt(math.MaxInt64 / 1_000_000) // the last millisecond a time.Duration since 1970 holds
	if n.Cmp(first) < 0 || n.Cmp(last) > 0 {
		return "bad_timestamp", nil, 0
	}
	ms = n.Int64()
	switch {
	case units["price"] <= 0:
		return "bad_price", nil, 0
	case units["size"] < 0:
		return "bad_size", nil, 0
	case units["bid"] < 0 || units["ask"] < 0 || units["bid_size"] < 0 || units["ask_size"] < 0:
		return "bad_number", nil, 0
	case ms > now.UnixMilli()+maxFuture.Milliseconds():
		return "future", nil, 0
	case !known(sym):
		return "unknown_symbol", nil, 0
	}
	return "", units, ms
}

// FuzzParsePairsMatchesContract compares the validator with the
// contract's oracle above on arbitrary entries of up to six fields.
func FuzzParsePairsMatchesContract(f *testing.F) {
	f.Add("symbol", "SPY", "price", "101.25", "size", "3", "ts", "1795444200000", "bid", "101.2", "ask", "101.3")
	f.Add("symbol", "SPY", "price", "101.123456789", "size", "3", "ts", "1795444200000", "", "", "", "")
	f.Add("symbol", "SPY", "price", "101.123456780", "size", "3", "ts", "+1795444200000", "", "", "", "")
	f.Add("symbol", "SPY", "price", "1", "size", "-0", "ts", "946684799999", "", "", "", "")
	f.Add("symbol", "SPY", "price", "1", "size", "1", "ts", "1795444205000", "bid_size", "-1", "", "")
	f.Add("symbol", "SPY", "price", "1", "size", "1", "ts", "1795444205001", "", "", "", "")
	f.Add("symbol", "DOGE", "price", "92233720368.54775807", "size", "0", "ts", "9223372036854", "", "", "", "")
	f.Add("symbol", "SPY", "price", "92233720368.54775808", "size", "0", "ts", "9223372036855", "", "", "", "")
	f.Add("ts", "1795444200000", "price", ".5", "size", "5.", "symbol", "BTCUSD", "symbol", "x", "price", "-1")
	now := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	known := func(s string) bool { return s == "SPY" || s == "BTCUSD" }
	v := Validator{Known: known, MaxFuture: 5 * time.Second}
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, k3, v3, k4, v4, k5, v5, k6, v6 string) {
		pairs := []string{k1, v1, k2, v2, k3, v3, k4, v4, k5, v5, k6, v6}
		anyPairs := make([]any, len(pairs))
		for i, p := range pairs {
			anyPairs[i] = p
		}
		tick, reason, _ := v.ParsePairs(anyPairs, now)
		wantReason, units, ms := oracleTick(pairs, now, v.MaxFuture, known)
		if reason != wantReason {
			t.Fatalf("ParsePairs(%q) refused with %q, the contract says %q", pairs, reason, wantReason)
		}
		if reason != "" {
			return
		}
		got := map[string]int64{"price": int64(tick.Price), "size": int64(tick.Size), "bid": int64(tick.Bid),
			"ask": int64(tick.Ask), "bid_size": int64(tick.BidSize), "ask_size": int64(tick.AskSize)}
		for name, g := range got {
			if g != units[name] { // a field not sent is 0
				t.Fatalf("ParsePairs(%q): %s = %d units, the contract says %d", pairs, name, g, units[name])
			}
		}
		if tick.Symbol != pairs[slicesIndex(pairs, "symbol")+1] {
			t.Fatalf("ParsePairs(%q): symbol %q", pairs, tick.Symbol)
		}
		if tick.Time.UnixMilli() != ms || tick.Time.Location() != time.UTC {
			t.Fatalf("ParsePairs(%q): time %s, the contract says %d ms UTC", pairs, tick.Time, ms)
		}
	})
}

// slicesIndex returns the index of the first key name among pairs' keys.
func slicesIndex(pairs []string, name string) int {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i] == name {
			return i
		}
	}
	return -1
}
