package decimal

import (
	"errors"
	"math/big"
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
		{"half even down", [][2]string{{"0.00000001", "1"}, {"0", "0"}}, "0.00000001"},
		{"large", [][2]string{{"92000000000", "90000000000"}, {"91000000000", "1"}}, "91999999999.9888888889"},
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
			if got := VWAP(n, v); got != tc.want {
				t.Fatalf("VWAP = %s, want %s", got, tc.want)
			}
		})
	}
	if got := VWAP(Notional{}, 0); got != "" {
		t.Fatalf("VWAP with no volume = %q, want empty", got)
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
	if !b.Less(a) || a.Less(b) {
		t.Fatal("Less is wrong")
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
