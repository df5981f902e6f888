package marketdata

import (
	"math/big"
	"strings"
	"testing"

	"heartbeat/internal/decimal"
)

// The expectations of the computations' tests are exact rationals
// (math/big): neither internal/decimal's arithmetic nor its rounding
// computes what the code under test is compared with.

// bigUnits returns a Dec's units (10^-8) as a big.Int.
func bigUnits(d decimal.Dec) *big.Int { return big.NewInt(int64(d)) }

// bigNotional returns a Notional's units (10^-16) as a big.Int.
func bigNotional(n decimal.Notional) *big.Int {
	v := new(big.Int).Lsh(new(big.Int).SetUint64(n.Hi), 64)
	return v.Or(v, new(big.Int).SetUint64(n.Lo))
}

// notionalFromBig returns the Notional of units (10^-16), which must be
// within [0, 2^128): the tests' trades are far from either end.
func notionalFromBig(units *big.Int) decimal.Notional {
	if units.Sign() < 0 || units.BitLen() > 128 {
		panic("notional out of range: " + units.String())
	}
	lo := new(big.Int).And(units, new(big.Int).SetUint64(^uint64(0)))
	return decimal.Notional{Hi: new(big.Int).Rsh(units, 64).Uint64(), Lo: lo.Uint64()}
}

// plusTrade returns n + price × size, exactly: units of 10^-8 times units
// of 10^-8 are units of 10^-16.
func plusTrade(n decimal.Notional, price, size decimal.Dec) decimal.Notional {
	sum := new(big.Int).Mul(bigUnits(price), bigUnits(size))
	return notionalFromBig(sum.Add(sum, bigNotional(n)))
}

// notionalOf returns the Notional of an exact decimal written out by
// hand, such as "6546.25".
func notionalOf(t testing.TB, s string) decimal.Notional {
	t.Helper()
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		t.Fatalf("not a number: %q", s)
	}
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(16), nil)))
	if !r.IsInt() {
		t.Fatalf("%s has more than 16 decimal places", s)
	}
	return notionalFromBig(r.Num())
}

// ratHalfEven writes x rounded half to even at places decimal places, in
// shortest form ("-0" is "0").
func ratHalfEven(x *big.Rat, places int) string {
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(places)), nil)
	scaled := new(big.Rat).Mul(x, new(big.Rat).SetInt(scale))
	q, r := new(big.Int).QuoRem(scaled.Num(), scaled.Denom(), new(big.Int)) // truncated towards zero
	switch new(big.Int).Lsh(new(big.Int).Abs(r), 1).Cmp(scaled.Denom()) {
	case 1:
		q.Add(q, big.NewInt(int64(r.Sign())))
	case 0:
		if q.Bit(0) == 1 {
			q.Add(q, big.NewInt(int64(r.Sign())))
		}
	}
	neg := q.Sign() < 0
	digits := new(big.Int).Abs(q).String()
	for len(digits) <= places {
		digits = "0" + digits
	}
	out := digits[:len(digits)-places]
	if frac := strings.TrimRight(digits[len(digits)-places:], "0"); frac != "" {
		out += "." + frac
	}
	if neg {
		out = "-" + out
	}
	return out
}

// TestRatHalfEven checks the oracle's own rounding on exact ties of both
// signs, and on values just off a tie.
func TestRatHalfEven(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		x      string
		places int
		want   string
	}{
		{"2.5", 0, "2"}, {"3.5", 0, "4"}, {"-2.5", 0, "-2"}, {"-3.5", 0, "-4"},
		{"0.125", 2, "0.12"}, {"0.375", 2, "0.38"}, {"-0.125", 2, "-0.12"},
		{"0.1250000001", 2, "0.13"}, {"0.1249999999", 2, "0.12"}, {"-0.004", 2, "0"}, {"1.10", 3, "1.1"},
	} {
		x, _ := new(big.Rat).SetString(tc.x)
		if got := ratHalfEven(x, tc.places); got != tc.want {
			t.Fatalf("ratHalfEven(%s, %d) = %s, want %s", tc.x, tc.places, got, tc.want)
		}
	}
}
