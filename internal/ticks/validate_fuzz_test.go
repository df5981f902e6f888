package ticks

import (
	"testing"
	"time"
)

// FuzzParsePairs feeds arbitrary field lists to the validator Intraday
// runs on every stream entry: it must never panic, a tick it accepts must
// be well formed, and it must agree with Parse on the same fields.
func FuzzParsePairs(f *testing.F) {
	f.Add("symbol", "SPY", "price", "101.25", "size", "3", "ts", "1795444200000")
	f.Add("symbol", "SPY", "price", "NaN", "size", "-1", "ts", "x")
	f.Add("price", "1", "symbol", "", "ts", "99999999999999999999", "size", "0")
	f.Add("symbol", "BTCUSD", "price", "0.00000001", "size", "1e3", "bid", "-2")
	now := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	v := Validator{Known: func(s string) bool { return s == "SPY" || s == "BTCUSD" }, MaxFuture: 5 * time.Second}
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, k3, v3, k4, v4 string) {
		pairs := []any{k1, v1, k2, v2, k3, v3, k4, v4}
		tick, reason, _ := v.ParsePairs(pairs, now)
		m := map[string]any{}
		for i := len(pairs) - 2; i >= 0; i -= 2 { // the first occurrence wins, as in ParsePairs
			m[pairs[i].(string)] = pairs[i+1]
		}
		tick2, reason2, _ := v.Parse(m, now)
		if reason != reason2 || (reason == "" && tick != tick2) {
			t.Fatalf("ParsePairs = %+v %q, Parse = %+v %q", tick, reason, tick2, reason2)
		}
		if reason != "" {
			return
		}
		if tick.Symbol == "" || tick.Price <= 0 || tick.Size < 0 || tick.Time.After(now.Add(v.MaxFuture)) || !v.Known(tick.Symbol) {
			t.Fatalf("accepted a malformed tick %+v from %q", tick, pairs)
		}
	})
}
