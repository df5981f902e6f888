package decimal

import (
	"math"
	"math/big"
	"regexp"
	"strings"
	"testing"
)

// The differential fuzz targets compare the package with exact rational
// arithmetic (math/big.Rat) and a parse of their own: nothing here calls
// the code under test to compute an expectation.

// decimalSyntax is the grammar Parse documents: [-+]digits[.digits], with
// either side of the point possibly empty but not both.
var decimalSyntax = regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$`)

// ratOf reads a string of decimalSyntax exactly.
func ratOf(s string) *big.Rat {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimLeft(s, "+-")
	intPart, frac, _ := strings.Cut(s, ".")
	digits := strings.TrimLeft(intPart+frac, "0")
	num := new(big.Int)
	if digits != "" {
		num.SetString(digits, 10)
	}
	if neg {
		num.Neg(num)
	}
	den := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(len(frac))), nil)
	return new(big.Rat).SetFrac(num, den)
}

// units returns r × 10^8 and whether it is an integer.
func units(r *big.Rat) (*big.Int, bool) {
	scaled := new(big.Rat).Mul(r, new(big.Rat).SetInt64(Scale))
	return new(big.Int).Set(scaled.Num()), scaled.IsInt()
}

// roundHalfEven rounds r to an integer, ties to the even neighbour.
func roundHalfEven(r *big.Rat) *big.Int {
	floor := new(big.Int).Div(r.Num(), r.Denom()) // Euclidean: floor for a positive denominator
	rest := new(big.Rat).Sub(r, new(big.Rat).SetInt(floor))
	switch rest.Cmp(big.NewRat(1, 2)) {
	case 1:
		return floor.Add(floor, big.NewInt(1))
	case 0:
		if floor.Bit(0) == 1 {
			return floor.Add(floor, big.NewInt(1))
		}
	}
	return floor
}

// shortest writes q × 10^-places without trailing zeros.
func shortest(q *big.Int, places int) string {
	neg := q.Sign() < 0
	s := new(big.Int).Abs(q).String()
	for len(s) <= places {
		s = "0" + s
	}
	out := s[:len(s)-places]
	if frac := strings.TrimRight(s[len(s)-places:], "0"); frac != "" {
		out += "." + frac
	}
	if neg && out != "0" {
		out = "-" + out
	}
	return out
}

// FuzzParseMatchesRat: Parse accepts exactly the strings of its grammar
// whose value is a whole number of 10^-8 within ±MaxInt64 units, and
// returns that value.
func FuzzParseMatchesRat(f *testing.F) {
	for _, s := range []string{"1", "101.25", "-0.5", ".1", "1.", "+7", "1.123456789", "1.123456780", "abc", ".", "-",
		"92233720368.54775807", "92233720368.54775808", "-92233720368.54775808", "00012.3400", "1e3", " 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Parse(s)
		if !decimalSyntax.MatchString(s) {
			if err == nil {
				t.Fatalf("Parse(%q) = %s, want an error: not the grammar", s, got)
			}
			return
		}
		want, whole := units(ratOf(s))
		inRange := want.CmpAbs(big.NewInt(math.MaxInt64)) <= 0
		switch {
		case whole && inRange:
			if err != nil || big.NewInt(int64(got)).Cmp(want) != 0 {
				t.Fatalf("Parse(%q) = %d, %v; want %s units", s, got, err, want)
			}
		case err == nil:
			t.Fatalf("Parse(%q) = %d, want an error (whole units %v, in range %v)", s, got, whole, inRange)
		}
	})
}

// FuzzMulDivMatchesRat: MulDiv(a, b, c) is a × b / c in units, rounded
// half to even, whenever that fits a Dec.
func FuzzMulDivMatchesRat(f *testing.F) {
	f.Add(int64(3), int64(1), int64(2))  // 1.5 units: a tie, up to 2
	f.Add(int64(5), int64(1), int64(2))  // 2.5: a tie, down to 2
	f.Add(int64(-5), int64(1), int64(2)) // -2.5: a tie, to -2
	f.Add(int64(-7), int64(1), int64(2)) // -3.5: a tie, to -4
	f.Add(int64(7), int64(3), int64(-2)) // -10.5: a tie, to -10
	f.Add(int64(10), int64(1), int64(3)) // 3.33…
	f.Add(int64(Scale), int64(Scale), int64(Scale))
	f.Add(int64(math.MaxInt64), int64(2), int64(4))
	f.Fuzz(func(t *testing.T, a, b, c int64) {
		if c == 0 {
			return
		}
		exact := new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(a), big.NewInt(b)), big.NewInt(c))
		want := roundHalfEven(exact)
		if !want.IsInt64() {
			return // outside a Dec: MulDiv's callers keep within range
		}
		if got := MulDiv(Dec(a), Dec(b), Dec(c)); int64(got) != want.Int64() {
			t.Fatalf("MulDiv(%d, %d, %d) = %d, want %s (exact %s)", a, b, c, got, want, exact.RatString())
		}
	})
}

// FuzzVWAPMatchesRat: VWAP(notional, volume) is notional / volume (16 and
// 8 places) rounded half to even at P places, P the larger of 10 and the
// places that keep 10 significant digits of the exact quotient, written
// in shortest form.
func FuzzVWAPMatchesRat(f *testing.F) {
	f.Add(uint64(0), uint64(15_000_000_000_000_000), int64(2*Scale))  // 1.5 / 2 = 0.75
	f.Add(uint64(0), uint64(1), int64(2*Scale))                       // 5e-17: rounded at 26 places, exact
	f.Add(uint64(0), uint64(90_050_000_000_000_000), int64(15*Scale)) // 9.005 / 15 = 0.6003333…
	f.Add(uint64(0), uint64(10_000_000_000_500_000), int64(Scale))    // 1.00000000005: a tie at 10 places, to 1
	f.Add(uint64(0), uint64(10_000_000_001_500_000), int64(Scale))    // 1.00000000015: a tie, to 1.0000000002
	f.Add(uint64(0), uint64(12_345_678_905), int64(100*Scale))        // 1.2345678905e-5: a tie at 10 digits (14 places)
	f.Add(uint64(0), uint64(12_345_678_915), int64(100*Scale))        // 1.2345678915e-5: a tie, up to …892
	f.Add(uint64(1), uint64(0), int64(3))                             // 2^64 / 3
	f.Add(uint64(math.MaxUint64), uint64(math.MaxUint64), int64(math.MaxInt64))
	f.Add(uint64(0), uint64(0), int64(5))
	f.Fuzz(func(t *testing.T, hi, lo uint64, volume int64) {
		got := VWAP(Notional{Hi: hi, Lo: lo}, Dec(volume))
		if volume <= 0 {
			if got != "" {
				t.Fatalf("VWAP with volume %d = %q, want \"\"", volume, got)
			}
			return
		}
		n := new(big.Int).Lsh(new(big.Int).SetUint64(hi), 64)
		n.Or(n, new(big.Int).SetUint64(lo))
		// notional / 10^16 over volume / 10^8
		x := new(big.Rat).SetFrac(n, new(big.Int).Mul(big.NewInt(volume), big.NewInt(Scale)))
		places := 10
		if x.Sign() > 0 {
			// e = floor(log10 x); 10 significant digits need 9 - e places.
			e := 0
			ten := big.NewRat(10, 1)
			pow := big.NewRat(1, 1) // 10^e
			for x.Cmp(pow) < 0 {
				pow.Quo(pow, ten)
				e--
			}
			for next := new(big.Rat).Mul(pow, ten); x.Cmp(next) >= 0; next.Mul(next, ten) {
				pow.Set(next)
				e++
			}
			places = max(10, 9-e)
		}
		scaled := new(big.Rat).Mul(x, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(places)), nil)))
		if want := shortest(roundHalfEven(scaled), places); got != want {
			t.Fatalf("VWAP(%d:%d, %d) = %s, want %s (%d places of %s)", hi, lo, volume, got, want, places, x.FloatString(places+4))
		}
	})
}

// FuzzPercentMatchesRat: Percent(num, den, places) is 100 × num / den
// rounded half to even at places, in shortest form.
func FuzzPercentMatchesRat(f *testing.F) {
	f.Add(int64(1), int64(3), uint8(6))
	f.Add(int64(1), int64(8), uint8(1))   // 12.5: a tie, to 12
	f.Add(int64(3), int64(8), uint8(1))   // 37.5: a tie, to 38
	f.Add(int64(-1), int64(8), uint8(1))  // -12.5: a tie, to -12
	f.Add(int64(1), int64(-16), uint8(2)) // -6.25: a tie, to -6.2
	f.Add(int64(0), int64(5), uint8(3))
	f.Add(int64(5), int64(0), uint8(3))
	f.Fuzz(func(t *testing.T, num, den int64, places uint8) {
		p := int(places % 20)
		got := Percent(Dec(num), Dec(den), p)
		if den == 0 {
			if got != "" {
				t.Fatalf("Percent(%d, 0) = %q, want \"\"", num, got)
			}
			return
		}
		x := new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(num), big.NewInt(100)), big.NewInt(den))
		scaled := new(big.Rat).Mul(x, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(p)), nil)))
		if want := shortest(roundHalfEven(scaled), p); got != want {
			t.Fatalf("Percent(%d, %d, %d) = %s, want %s", num, den, p, got, want)
		}
	})
}
