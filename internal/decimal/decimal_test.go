package decimal

import (
	"errors"
	"math"
	"math/big"
	"strings"
	"testing"
)

func TestParseAndString(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want Dec
		out  string
		err  error
	}{
		{"101.25", 10125000000, "101.25", nil},
		{"3", 300000000, "3", nil},
		{"0", 0, "0", nil},
		{"-0.00", 0, "0", nil}, // zero has no sign
		{"0.00000001", 1, "0.00000001", nil},
		{".5", 50000000, "0.5", nil},
		{"7.", 700000000, "7", nil},
		{"-0.0001", -10000, "-0.0001", nil},
		{"+2.50", 250000000, "2.5", nil},
		{"1.1234567800", 112345678, "1.12345678", nil},
		{"1.123456789", 0, "", ErrPrecision},
		{"", 0, "", ErrSyntax},
		{".", 0, "", ErrSyntax},
		{"1e3", 0, "", ErrSyntax},
		{"NaN", 0, "", ErrSyntax},
		{"Inf", 0, "", ErrSyntax},
		{"1,5", 0, "", ErrSyntax},
		{"92233720369", 0, "", ErrRange},
		{"92233720367.5", 9223372036750000000, "92233720367.5", nil},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(tc.in)
			if !errors.Is(err, tc.err) {
				t.Fatalf("Parse(%q) error = %v, want %v", tc.in, err, tc.err)
			}
			if err != nil {
				return
			}
			if got != tc.want || got.String() != tc.out {
				t.Fatalf("Parse(%q) = %d (%s), want %d (%s)", tc.in, got, got, tc.want, tc.out)
			}
		})
	}
}

// ratVWAP computes, with big.Rat only, what VWAP must return for trades
// (price, size pairs): their exact volume-weighted average rounded half to
// even at max(10 decimal places, 10 significant digits), in shortest form.
func ratVWAP(t *testing.T, trades [][2]string) string {
	t.Helper()
	notional, volume := new(big.Rat), new(big.Rat)
	for _, tr := range trades {
		p, okP := new(big.Rat).SetString(tr[0])
		q, okQ := new(big.Rat).SetString(tr[1])
		if !okP || !okQ {
			t.Fatalf("bad trade %v", tr)
		}
		notional.Add(notional, new(big.Rat).Mul(p, q))
		volume.Add(volume, q)
	}
	if volume.Sign() == 0 {
		return ""
	}
	return ratRound(new(big.Rat).Quo(notional, volume))
}

// ratRound rounds a non-negative x half to even at max(10 decimal places,
// 10 significant digits) and writes it in shortest form.
func ratRound(x *big.Rat) string {
	ten := big.NewRat(10, 1)
	one := big.NewRat(1, 1)
	// zeros counts the zeros between the point and x's first digit:
	// x × 10^(zeros+1) is the first power-of-ten multiple that reaches 1.
	zeros := 0
	if x.Sign() > 0 {
		for y := new(big.Rat).Mul(x, ten); y.Cmp(one) < 0; y.Mul(y, ten) {
			zeros++
		}
	}
	places := max(10, zeros+10)
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(places)), nil)
	scaled := new(big.Rat).Mul(x, new(big.Rat).SetInt(scale))
	q, r := new(big.Int).QuoRem(scaled.Num(), scaled.Denom(), new(big.Int))
	if c := new(big.Int).Lsh(r, 1).Cmp(scaled.Denom()); c > 0 || (c == 0 && q.Bit(0) == 1) {
		q.Add(q, big.NewInt(1))
	}
	s := new(big.Rat).SetFrac(q, scale).FloatString(places)
	return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
}

func TestVWAPIsExactThenRoundedHalfEven(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		trades [][2]string // price, size
		want   string
	}{
		{"single", [][2]string{{"101.25", "3"}}, "101.25"},
		{"thirds", [][2]string{{"1", "1"}, {"2", "1"}, {"2", "1"}}, "1.6666666667"},
		{"no float drift", [][2]string{{"0.1", "1"}, {"0.2", "1"}}, "0.15"},
		{"one unit", [][2]string{{"0.00000001", "1"}, {"0", "0"}}, "0.00000001"},
		{"zero price", [][2]string{{"0", "5"}}, "0"},
		{"large", [][2]string{{"92000000000", "90000000000"}, {"91000000000", "1"}}, "91999999999.9888888889"},
		// Quotients of 0.1 and more: 10 decimal places.
		{"123456.78 thirds", [][2]string{{"123456.78", "1"}, {"123456.79", "2"}}, "123456.7866666667"},
		{"123456.78 tie to even down", [][2]string{{"123456.78", "3"}, {"123456.78000001", "5"}}, "123456.7800000062"}, // ...0062|5
		{"123456.78 tie to even up", [][2]string{{"123456.78", "1"}, {"123456.78000001", "7"}}, "123456.7800000088"},   // ...0087|5
		{"below one", [][2]string{{"0.5", "1"}, {"0.50000001", "2"}}, "0.5000000067"},
		// Quotients below 0.1: 10 significant digits.
		{"0.0014 thirds", [][2]string{{"0.0014", "1"}, {"0.00140001", "2"}}, "0.001400006667"},
		{"0.0014 tie to even down", [][2]string{{"0.0014", "31"}, {"0.00140001", "1"}}, "0.001400000312"}, // ...0312|5
		{"0.0014 tie to even up", [][2]string{{"0.0014", "1"}, {"0.00140001", "31"}}, "0.001400009688"},   // ...9687|5
		{"0.00001234 thirds", [][2]string{{"0.00001234", "1"}, {"0.00001235", "2"}}, "0.00001234666667"},
		{"0.00001234 tie to even down", [][2]string{{"0.00001234", "127"}, {"0.00001235", "1"}}, "0.00001234007812"}, // ...7812|5
		{"0.00001234 tie to even up", [][2]string{{"0.00001234", "125"}, {"0.00001235", "3"}}, "0.00001234023438"},   // ...3437|5
		{"rounds up to a power of ten", [][2]string{{"0.09999999", "1"}, {"0.1", "4000"}}, "0.1"},                    // 0.09999999999|75
		{"tiny", [][2]string{{"0.00000001", "0.00000001"}, {"0.00000002", "92233720367"}}, "0.00000002"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var n Notional
			var v Dec
			for _, tr := range tc.trades {
				p, q := MustParse(tr[0]), MustParse(tr[1])
				n = n.Add(Mul(p, q))
				v += q
			}
			want := ratVWAP(t, tc.trades)
			if want != tc.want {
				t.Fatalf("the table says %s, big.Rat says %s", tc.want, want)
			}
			if got := VWAP(n, v); got != want {
				t.Fatalf("VWAP = %s, want %s", got, want)
			}
		})
	}
	if got := VWAP(Notional{}, 0); got != "" {
		t.Fatalf("VWAP with no volume = %q, want empty", got)
	}
}

// TestVWAPKeepsTenSignificantDigits checks VWAP against ratRound on
// quotients from 10^-27 to 10^10, including the smallest one possible.
func TestVWAPKeepsTenSignificantDigits(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		notional Notional // count of 10^-16
		volume   Dec
		want     string
	}{
		{"smallest", Notional{Lo: 1}, Dec(math.MaxInt64), "0.000000000000000000000000001084202172"},
		{"1/3 at 10^-9", Notional{Lo: 1}, 3, "0.000000003333333333"},
		{"1/3 at 10^-1", Notional{Lo: 100_000_000}, 3, "0.3333333333"},
		{"2/3 at 10^-2", Notional{Lo: 20_000_000}, 3, "0.06666666667"},
		{"1/3 at 10^10", Mul(MustParse("10000000000"), 1), 3, "3333333333.3333333333"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			x := new(big.Rat).SetFrac(tc.notional.big(), new(big.Int).Mul(big.NewInt(int64(tc.volume)), big.NewInt(Scale)))
			want := ratRound(x)
			if want != tc.want {
				t.Fatalf("the table says %s, big.Rat says %s", tc.want, want)
			}
			if got := VWAP(tc.notional, tc.volume); got != want {
				t.Fatalf("VWAP = %s, want %s", got, want)
			}
		})
	}
}

func TestNotionalTextRoundTrip(t *testing.T) {
	t.Parallel()
	big := Mul(MustParse("92233720367"), MustParse("92233720367")).Add(Notional{Lo: 7})
	for _, n := range []Notional{{}, {Lo: 12345}, big} {
		b, _ := n.MarshalText()
		var back Notional
		if err := back.UnmarshalText(b); err != nil || back != n {
			t.Fatalf("round trip of %v: got %v, %v", n, back, err)
		}
	}
}

func TestMulIsExact(t *testing.T) {
	t.Parallel()
	p, q := MustParse("92233720367.12345678"), MustParse("12345678.87654321")
	want := new(big.Int).Mul(big.NewInt(int64(p)), big.NewInt(int64(q)))
	if got := Mul(p, q).big(); got.Cmp(want) != 0 {
		t.Fatalf("Mul = %s, want %s", got, want)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"1", "101.25", "-0.5", ".1", "1.123456789", "abc", "99999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		if err != nil {
			return
		}
		back, err := Parse(d.String())
		if err != nil || back != d {
			t.Fatalf("Parse(%q) = %v; reparse of %q = %v, %v", s, d, d.String(), back, err)
		}
	})
}

func TestPercent(t *testing.T) {
	t.Parallel()
	cases := []struct{ num, den, want string }{
		{"1", "3", "33.333333"},
		{"-1", "3", "-33.333333"},
		{"0", "5", "0"},
		{"0.00000001", "3", "0"},
		{"5", "2", "250"},
	}
	for _, tc := range cases {
		got := Percent(MustParse(tc.num), MustParse(tc.den), 6)
		if got != tc.want {
			t.Fatalf("Percent(%s, %s) = %s, want %s", tc.num, tc.den, got, tc.want)
		}
	}
	if Percent(1, 0, 6) != "" {
		t.Fatal("Percent with zero base is not empty")
	}
}

func TestNotionalSubLess(t *testing.T) {
	t.Parallel()
	a := Mul(MustParse("92233720367"), MustParse("92233720367"))
	b := Notional{Lo: 1}
	if got := a.Add(b).Sub(b); got != a {
		t.Fatalf("(a+b)-b = %v, want %v", got, a)
	}
}

// TestNotionalLess compares on the high word first and on the low word
// only when the high words are equal; nothing is less than itself.
func TestNotionalLess(t *testing.T) {
	t.Parallel()
	large := Mul(MustParse("92233720367"), MustParse("92233720367")) // Hi > 0
	cases := []struct {
		name string
		n, m Notional
		want bool
	}{
		{"lower high word, higher low word", Notional{Hi: 1, Lo: 9}, Notional{Hi: 2, Lo: 1}, true},
		{"higher high word, lower low word", Notional{Hi: 2, Lo: 1}, Notional{Hi: 1, Lo: 9}, false},
		{"same high word, lower low word", Notional{Hi: 1, Lo: 3}, Notional{Hi: 1, Lo: 5}, true},
		{"same high word, higher low word", Notional{Hi: 1, Lo: 5}, Notional{Hi: 1, Lo: 3}, false},
		{"equal", Notional{Hi: 1, Lo: 5}, Notional{Hi: 1, Lo: 5}, false},
		{"zero and zero", Notional{}, Notional{}, false},
		{"small and large", Notional{Lo: 1}, large, true},
		{"large and small", large, Notional{Lo: 1}, false},
	}
	for _, tc := range cases {
		if got := tc.n.Less(tc.m); got != tc.want {
			t.Fatalf("%s: %+v.Less(%+v) = %v, want %v", tc.name, tc.n, tc.m, got, tc.want)
		}
	}
}

func TestNotionalStringMatchesBig(t *testing.T) {
	t.Parallel()
	for _, n := range []Notional{{Hi: 1}, {Hi: 1, Lo: 1}, {Hi: 5, Lo: 12345678901234567890}, {Hi: ^uint64(0), Lo: ^uint64(0)}, {Hi: 542101086, Lo: 4477988020393345024}} {
		if got, want := n.String(), n.big().String(); got != want {
			t.Fatalf("String of %+v = %s, want %s", n, got, want)
		}
	}
	var n Notional
	if err := n.UnmarshalText([]byte("340282366920938463463374607431768211456")); !errors.Is(err, ErrRange) {
		t.Fatalf("2^128 parsed: %v", err)
	}
}

func TestMulDiv(t *testing.T) {
	t.Parallel()
	cases := []struct{ a, b, c, want string }{
		{"100", "1", "100", "1"},
		{"230.45", "0.5", "100", "1.15225"},
		{"0.00000003", "1", "2", "0.00000002"}, // 1.5e-8: half to even
		{"0.00000001", "1", "2", "0"},          // 0.5e-8: half to even
		{"92233720367", "2", "4", "46116860183.5"},
	}
	for _, tc := range cases {
		if got := MulDiv(MustParse(tc.a), MustParse(tc.b), MustParse(tc.c)); got != MustParse(tc.want) {
			t.Fatalf("MulDiv(%s, %s, %s) = %s, want %s", tc.a, tc.b, tc.c, got, tc.want)
		}
	}
}

// BenchmarkVWAP rounds a large and a small quotient (10 places and 14).
func BenchmarkVWAP(b *testing.B) {
	for _, bc := range []struct{ name, price string }{{"123456.78", "123456.78"}, {"0.00001234", "0.00001234"}} {
		n := Mul(MustParse(bc.price), MustParse("3")).Add(Mul(MustParse(bc.price)+1, MustParse("4")))
		v := MustParse("7")
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = VWAP(n, v)
			}
		})
	}
}

// TestDecAdd sums exactly and reports an overflow past either end of the
// int64 range.
func TestDecAdd(t *testing.T) {
	t.Parallel()
	cases := []struct {
		d, e   Dec
		want   Dec
		wantOK bool
	}{
		{FromInt(2), MustParse("0.5"), MustParse("2.5"), true},
		{FromInt(2), MustParse("-3"), FromInt(-1), true},
		{FromInt(2), 0, FromInt(2), true},
		{math.MaxInt64 - 1, 1, math.MaxInt64, true},
		{math.MaxInt64, 1, math.MinInt64, false},
		{math.MinInt64 + 1, -1, math.MinInt64, true},
		{math.MinInt64, -1, math.MaxInt64, false},
	}
	for _, tc := range cases {
		got, ok := tc.d.Add(tc.e)
		if got != tc.want || ok != tc.wantOK {
			t.Fatalf("%d.Add(%d) = %d, %v; want %d, %v", tc.d, tc.e, got, ok, tc.want, tc.wantOK)
		}
	}
}

// TestNotionalIsZero: only zero in both words is zero.
func TestNotionalIsZero(t *testing.T) {
	t.Parallel()
	cases := []struct {
		n    Notional
		want bool
	}{
		{Notional{}, true},
		{Notional{Lo: 1}, false},
		{Notional{Hi: 1}, false},
		{Notional{Hi: 1, Lo: 1}, false},
	}
	for _, tc := range cases {
		if got := tc.n.IsZero(); got != tc.want {
			t.Fatalf("%+v.IsZero() = %v, want %v", tc.n, got, tc.want)
		}
	}
}

// TestDecTextAndFloat: the text form round-trips through UnmarshalText,
// which refuses what Parse refuses; Float64 divides by the scale.
func TestDecTextAndFloat(t *testing.T) {
	t.Parallel()
	var d Dec
	if err := d.UnmarshalText([]byte("-12.5")); err != nil || d != MustParse("-12.5") {
		t.Fatalf("UnmarshalText(-12.5) = %s, %v", d, err)
	}
	if err := d.UnmarshalText([]byte("1e3")); !errors.Is(err, ErrSyntax) || d != MustParse("-12.5") {
		t.Fatalf("UnmarshalText(1e3) = %s, %v; want ErrSyntax and d unchanged", d, err)
	}
	if got := MustParse("-12.5").Float64(); got != -12.5 {
		t.Fatalf("Float64(-12.5) = %v", got)
	}
	if got := FromInt(-7); got != MustParse("-7") {
		t.Fatalf("FromInt(-7) = %s", got)
	}
}
