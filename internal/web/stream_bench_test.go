package web

import (
	"encoding/json"
	"testing"

	"heartbeat/internal/decimal"
	"heartbeat/internal/marketdata"
)

// BenchmarkFigure is the live hub's work per figure: decode a stored
// intraday state (as States reads it) and render it (as RenderFigure).
//
//	go test -run '^$' -bench Figure -benchmem ./internal/web/
func BenchmarkFigure(b *testing.B) {
	d := decimal.MustParse
	st := marketdata.SymbolState{Symbol: "SYM0001USD", Market: "ALWAYS", PrevClose: d("99.5"), LastPrice: d("101.25"), LastTS: 1764000000123, Ticks: 123456,
		Cur: marketdata.Figures{Session: "2026-12-03", Open: d("100"), High: d("102"), Low: d("99"), Last: d("101.25"), FirstTS: 1763990000000,
			LastTS: 1764000000123, Volume: d("123456.5"), Trades: 98765, Notional: decimal.Mul(d("100.5"), d("123456.5"))},
		Bar:    &marketdata.Bar{Start: 1764000000000, Open: d("101"), High: d("101.5"), Low: d("100.9"), Close: d("101.25"), Volume: d("1234"), Trades: 20, Revision: 1, Session: "2026-12-03"},
		Recent: []marketdata.Bar{{Start: 1763999940000, Open: d("101"), High: d("101.5"), Low: d("100.9"), Close: d("101.1"), Volume: d("1200"), Trades: 19, Revision: 1, Session: "2026-12-03"}},
	}
	js, err := json.Marshal(st)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(js)))
	for b.Loop() {
		var s marketdata.SymbolState
		if err := json.Unmarshal(js, &s); err != nil {
			b.Fatal(err)
		}
		if _, err := RenderFigure(&s); err != nil {
			b.Fatal(err)
		}
	}
}
