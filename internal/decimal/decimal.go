// Package decimal holds the exact numbers prices and sizes travel in: a
// fixed-point Dec with eight decimal places, and the 128-bit Notional that
// sums of price × size accumulate in, so OHLC, volume and VWAP inputs never
// drift the way float64 sums do.
package decimal

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"strconv"
	"strings"
)

// Places is how many decimal places a Dec keeps.
const Places = 8

// Scale is 10^Places: Dec(Scale) is 1.
const Scale = 100_000_000

// Dec is a fixed-point decimal: Dec(1) is 0.00000001. Its range is about
// ±92,233,720,368.
type Dec int64

// Errors returned by Parse, for callers that classify bad input.
var (
	ErrSyntax    = errors.New("not a decimal number")
	ErrPrecision = errors.New("more than 8 decimal places")
	ErrRange     = errors.New("out of range")
)

// Parse reads a decimal written as [-]digits[.digits] (also "1e3"-free,
// no exponent, no spaces). Trailing zeros beyond eight places are allowed;
// other digits there are an error, never a silent rounding.
func Parse(s string) (Dec, error) {
	if s == "" {
		return 0, ErrSyntax
	}
	neg := false
	switch s[0] {
	case '-':
		neg, s = true, s[1:]
	case '+':
		s = s[1:]
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" && (!hasDot || frac == "") {
		return 0, ErrSyntax
	}
	var v uint64
	for i := 0; i < len(intPart); i++ {
		c := intPart[i]
		if c < '0' || c > '9' {
			return 0, ErrSyntax
		}
		v = v*10 + uint64(c-'0')
		if v > math.MaxInt64/Scale {
			return 0, ErrRange
		}
	}
	v *= Scale
	mul := uint64(Scale / 10)
	for i := 0; i < len(frac); i++ {
		c := frac[i]
		if c < '0' || c > '9' {
			return 0, ErrSyntax
		}
		if i >= Places {
			if c != '0' {
				return 0, ErrPrecision
			}
			continue
		}
		v += uint64(c-'0') * mul
		mul /= 10
	}
	if v > math.MaxInt64 {
		return 0, ErrRange
	}
	if neg {
		return -Dec(v), nil
	}
	return Dec(v), nil
}

// MustParse is Parse for constants in tests and tables; it panics on error.
func MustParse(s string) Dec {
	d, err := Parse(s)
	if err != nil {
		panic(fmt.Sprintf("decimal.MustParse(%q): %v", s, err))
	}
	return d
}

// FromInt returns the Dec equal to the integer i.
func FromInt(i int64) Dec { return Dec(i * Scale) }

// String writes d in the shortest exact form: "101.25", "3", "-0.0001".
func (d Dec) String() string {
	var buf [24]byte
	return string(d.Append(buf[:0]))
}

// Append appends d's String form to b.
func (d Dec) Append(b []byte) []byte {
	u := uint64(d)
	if d < 0 {
		b = append(b, '-')
		u = uint64(-d)
	}
	b = strconv.AppendUint(b, u/Scale, 10)
	frac := u % Scale
	if frac == 0 {
		return b
	}
	var digits [Places]byte
	for i := Places - 1; i >= 0; i-- {
		digits[i] = byte('0' + frac%10)
		frac /= 10
	}
	n := Places
	for n > 0 && digits[n-1] == '0' {
		n--
	}
	b = append(b, '.')
	return append(b, digits[:n]...)
}

// Float64 returns the nearest float64, for display and ratios only.
func (d Dec) Float64() float64 { return float64(d) / Scale }

// MarshalText writes d as its String form (JSON string, CSV cell).
func (d Dec) MarshalText() ([]byte, error) { return d.Append(nil), nil }

// UnmarshalText parses d with Parse.
func (d *Dec) UnmarshalText(b []byte) error {
	v, err := Parse(string(b))
	if err != nil {
		return fmt.Errorf("decimal %q: %w", b, err)
	}
	*d = v
	return nil
}

// Add returns d+e, reporting overflow.
func (d Dec) Add(e Dec) (Dec, bool) {
	s := d + e
	if (s > d) != (e > 0) {
		return s, false
	}
	return s, true
}

// Notional is an exact non-negative 128-bit sum of price × size products,
// with 16 decimal places (Dec × Dec).
type Notional struct{ Hi, Lo uint64 }

// Mul returns the exact product p × q of two non-negative Decs.
func Mul(p, q Dec) Notional {
	if p < 0 || q < 0 {
		panic("decimal.Mul: negative operand")
	}
	hi, lo := bits.Mul64(uint64(p), uint64(q))
	return Notional{Hi: hi, Lo: lo}
}

// Add returns n + m.
func (n Notional) Add(m Notional) Notional {
	lo, carry := bits.Add64(n.Lo, m.Lo, 0)
	hi, _ := bits.Add64(n.Hi, m.Hi, carry)
	return Notional{Hi: hi, Lo: lo}
}

// IsZero reports whether n is zero.
func (n Notional) IsZero() bool { return n.Hi == 0 && n.Lo == 0 }

func (n Notional) big() *big.Int {
	b := new(big.Int).SetUint64(n.Hi)
	b.Lsh(b, 64)
	return b.Or(b, new(big.Int).SetUint64(n.Lo))
}

// String writes n as a decimal integer count of 10^-16 units.
func (n Notional) String() string {
	var buf [40]byte
	return string(n.append(buf[:0]))
}

// append writes n in decimal, 19 digits at a time (10^19 fits a uint64).
func (n Notional) append(b []byte) []byte {
	if n.Hi == 0 {
		return strconv.AppendUint(b, n.Lo, 10)
	}
	const e19 = 10_000_000_000_000_000_000
	var chunks [3]uint64
	k := 0
	hi, lo := n.Hi, n.Lo
	for hi != 0 {
		qhi := hi / e19
		var r uint64
		lo, r = bits.Div64(hi%e19, lo, e19)
		hi = qhi
		chunks[k] = r
		k++
	}
	b = strconv.AppendUint(b, lo, 10)
	for k--; k >= 0; k-- {
		s := strconv.FormatUint(chunks[k], 10)
		for i := len(s); i < 19; i++ {
			b = append(b, '0')
		}
		b = append(b, s...)
	}
	return b
}

// MarshalText writes n as its String form.
func (n Notional) MarshalText() ([]byte, error) { return n.append(nil), nil }

// UnmarshalText reads the String form: up to 39 decimal digits.
func (n *Notional) UnmarshalText(b []byte) error {
	if len(b) == 0 || len(b) > 39 {
		return fmt.Errorf("notional %q: %w", b, ErrSyntax)
	}
	var v Notional
	for _, c := range b {
		if c < '0' || c > '9' {
			return fmt.Errorf("notional %q: %w", b, ErrSyntax)
		}
		// v = v*10 + digit, checking for overflow past 128 bits.
		hh, hl := bits.Mul64(v.Hi, 10)
		lh, ll := bits.Mul64(v.Lo, 10)
		hi, carry := bits.Add64(hl, lh, 0)
		if hh != 0 || carry != 0 {
			return fmt.Errorf("notional %q: %w", b, ErrRange)
		}
		lo, c2 := bits.Add64(ll, uint64(c-'0'), 0)
		hi, carry = bits.Add64(hi, 0, c2)
		if carry != 0 {
			return fmt.Errorf("notional %q: %w", b, ErrRange)
		}
		v = Notional{Hi: hi, Lo: lo}
	}
	*n = v
	return nil
}

// VWAPPlaces is the fewest decimal places a VWAP is rounded to.
const VWAPPlaces = 10

// VWAPDigits is the fewest significant digits a VWAP keeps: a VWAP below
// 0.1 is rounded at more than VWAPPlaces places.
const VWAPDigits = 10

// VWAP returns notional / volume rounded half to even at max(VWAPPlaces
// decimal places, VWAPDigits significant digits), written in shortest
// form; "" when volume is zero. The significant digits count from the
// exact quotient's first nonzero digit, so 0.00001234... is rounded at 14
// places. Both inputs are exact, so the only rounding is this last one.
func VWAP(notional Notional, volume Dec) string {
	if volume <= 0 {
		return ""
	}
	num := notional.big()
	places := vwapPlaces(num, volume)
	// notional has 16 places and volume 8, so the quotient has 8: scale
	// the numerator up to get places.
	num.Mul(num, pow10(places-Places))
	return ratio(num, big.NewInt(int64(volume)), places)
}

// vwapPlaces returns the decimal places that round notional / volume (a
// quotient with Places places) to max(VWAPPlaces places, VWAPDigits
// significant digits) of the exact quotient x. At P places x keeps at
// least VWAPDigits significant digits when x >= 10^(VWAPDigits-1-P), so P
// starts at VWAPPlaces and grows until that holds.
func vwapPlaces(notional *big.Int, volume Dec) int {
	if notional.Sign() <= 0 {
		return VWAPPlaces // zero has no significant digits to keep
	}
	// x >= 10^(VWAPDigits-1-P) with x = notional / (volume × 10^Places)
	// is lhs >= rhs for lhs = notional × 10^(P+1-VWAPDigits) and
	// rhs = volume × 10^Places, moving a negative power to the right.
	places := VWAPPlaces
	lhs := new(big.Int).Set(notional)
	rhs := new(big.Int).Mul(big.NewInt(int64(volume)), pow10(Places))
	if e := places + 1 - VWAPDigits; e >= 0 {
		lhs.Mul(lhs, pow10(e))
	} else {
		rhs.Mul(rhs, pow10(-e))
	}
	ten := big.NewInt(10)
	for lhs.Cmp(rhs) < 0 {
		lhs.Mul(lhs, ten)
		places++
	}
	return places
}

// powers10 holds 10^0 … 10^47, enough for every VWAP: the smallest
// positive quotient, 10^-16 / 92233720368.54775807, is rounded at 36
// places (TestVWAPKeepsTenSignificantDigits).
var powers10 = func() [48]*big.Int {
	var p [48]*big.Int
	p[0] = big.NewInt(1)
	for i := 1; i < len(p); i++ {
		p[i] = new(big.Int).Mul(p[i-1], big.NewInt(10))
	}
	return p
}()

// pow10 returns 10^n for n >= 0; the caller must not modify it.
func pow10(n int) *big.Int {
	if n < len(powers10) {
		return powers10[n]
	}
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
}

// Sub returns n - m; m must not exceed n.
func (n Notional) Sub(m Notional) Notional {
	lo, borrow := bits.Sub64(n.Lo, m.Lo, 0)
	hi, _ := bits.Sub64(n.Hi, m.Hi, borrow)
	return Notional{Hi: hi, Lo: lo}
}

// Less reports whether n < m.
func (n Notional) Less(m Notional) bool {
	return n.Hi < m.Hi || (n.Hi == m.Hi && n.Lo < m.Lo)
}

// MulDiv returns a × b / c rounded half to even, exactly (c must not be
// zero).
func MulDiv(a, b, c Dec) Dec {
	num := new(big.Int).Mul(big.NewInt(int64(a)), big.NewInt(int64(b)))
	den := big.NewInt(int64(c)) // a×b has 16 places; over c (8) leaves 8
	q, r := new(big.Int).QuoRem(num, den, new(big.Int))
	r2 := new(big.Int).Abs(new(big.Int).Lsh(r, 1))
	if c := r2.Cmp(new(big.Int).Abs(den)); c > 0 || (c == 0 && q.Bit(0) == 1) {
		if (num.Sign() < 0) != (den.Sign() < 0) {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return Dec(q.Int64())
}

// Percent returns 100 × num / den rounded half to even at places decimal
// places, in shortest form; "" when den is zero.
func Percent(num, den Dec, places int) string {
	if den == 0 {
		return ""
	}
	n := new(big.Int).Mul(big.NewInt(int64(num)), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(places)+2), nil))
	return ratio(n, big.NewInt(int64(den)), places)
}

// ratio returns num / den rounded half to even, with the quotient read as
// having places decimal places.
func ratio(num, den *big.Int, places int) string {
	if den.Sign() < 0 {
		num, den = new(big.Int).Neg(num), new(big.Int).Neg(den)
	}
	neg := num.Sign() < 0
	q, r := new(big.Int).QuoRem(new(big.Int).Abs(num), den, new(big.Int))
	r2 := new(big.Int).Lsh(r, 1)
	if c := r2.Cmp(den); c > 0 || (c == 0 && q.Bit(0) == 1) {
		q.Add(q, big.NewInt(1))
	}
	s := q.String()
	if len(s) <= places {
		s = strings.Repeat("0", places-len(s)+1) + s
	}
	intPart, frac := s[:len(s)-places], strings.TrimRight(s[len(s)-places:], "0")
	out := intPart
	if frac != "" {
		out += "." + frac
	}
	if neg && strings.Trim(out, "0.") != "" {
		out = "-" + out
	}
	return out
}
