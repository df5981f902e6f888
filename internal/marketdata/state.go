package marketdata

import (
	"fmt"
	"time"

	"heartbeat/internal/bars"
	"heartbeat/internal/decimal"
	"heartbeat/internal/market"
)

// Figures are one session's running figures for a symbol, from in-session
// ticks only.
type Figures struct {
	Session  string           `json:"session"` // session label, YYYY-MM-DD
	Open     decimal.Dec      `json:"open"`
	High     decimal.Dec      `json:"high"`
	Low      decimal.Dec      `json:"low"`
	Last     decimal.Dec      `json:"last"`
	FirstTS  int64            `json:"first_ts"` // ms of the tick that set Open
	LastTS   int64            `json:"last_ts"`  // ms of the tick that set Last
	Volume   decimal.Dec      `json:"volume"`
	Trades   int64            `json:"trades"`
	Notional decimal.Notional `json:"notional"`
}

// add folds one in-session trade into the figures. Ticks may arrive out of
// order: Open and Last follow the timestamps (ties keep arrival order).
func (f *Figures) add(price, size decimal.Dec, ts int64) {
	if f.Trades == 0 {
		f.Open, f.High, f.Low, f.Last, f.FirstTS, f.LastTS = price, price, price, price, ts, ts
	} else {
		if ts < f.FirstTS {
			f.Open, f.FirstTS = price, ts
		}
		if ts >= f.LastTS {
			f.Last, f.LastTS = price, ts
		}
		f.High, f.Low = max(f.High, price), min(f.Low, price)
	}
	f.Volume += size
	f.Trades++
	f.Notional = f.Notional.Add(decimal.Mul(price, size))
}

// Durable returns the figures as the store keeps a finished session.
func (f *Figures) Durable(symbol, mkt string) (bars.Daily, error) {
	label, err := market.ParseDate(f.Session)
	if err != nil {
		return bars.Daily{}, fmt.Errorf("session of %s: %w", symbol, err)
	}
	return bars.Daily{
		Symbol: symbol, Market: mkt, Session: label,
		Open: f.Open, High: f.High, Low: f.Low, Close: f.Last, Volume: f.Volume, Trades: f.Trades, Notional: f.Notional,
		FirstTrade: time.UnixMilli(f.FirstTS).UTC(), LastTrade: time.UnixMilli(f.LastTS).UTC(),
	}, nil
}

// figuresOf returns a stored session's figures.
func figuresOf(d bars.Daily) Figures {
	return Figures{
		Session: d.Session.String(), Open: d.Open, High: d.High, Low: d.Low, Last: d.Close,
		FirstTS: d.FirstTrade.UnixMilli(), LastTS: d.LastTrade.UnixMilli(),
		Volume: d.Volume, Trades: d.Trades, Notional: d.Notional,
	}
}

// Bar is a 1-minute bar in the making or recently closed.
type Bar struct {
	Start    int64            `json:"start"` // Unix ms of the minute's start
	Session  string           `json:"session,omitempty"`
	Open     decimal.Dec      `json:"open"`
	High     decimal.Dec      `json:"high"`
	Low      decimal.Dec      `json:"low"`
	Close    decimal.Dec      `json:"close"`
	OpenTS   int64            `json:"open_ts"`
	CloseTS  int64            `json:"close_ts"`
	Volume   decimal.Dec      `json:"volume"`
	Trades   int64            `json:"trades"`
	Notional decimal.Notional `json:"notional"`
	Revision int              `json:"rev"` // 0 while open; 1 when closed; +1 per amendment
	// Cum* are the session's totals through the end of this bar (in-session
	// bars only): what the minute VWAP series records.
	CumVolume   decimal.Dec      `json:"cum_volume"`
	CumTrades   int64            `json:"cum_trades"`
	CumNotional decimal.Notional `json:"cum_notional"`
}

func (b *Bar) add(price, size decimal.Dec, ts int64) {
	if b.Trades == 0 {
		b.Open, b.High, b.Low, b.Close, b.OpenTS, b.CloseTS = price, price, price, price, ts, ts
	} else {
		if ts < b.OpenTS {
			b.Open, b.OpenTS = price, ts
		}
		if ts >= b.CloseTS {
			b.Close, b.CloseTS = price, ts
		}
		b.High, b.Low = max(b.High, price), min(b.Low, price)
	}
	b.Volume += size
	b.Trades++
	b.Notional = b.Notional.Add(decimal.Mul(price, size))
}

// End returns the end of the bar's minute in Unix ms.
func (b *Bar) End() int64 { return b.Start + time.Minute.Milliseconds() }

// Durable returns the bar as the store keeps it.
func (b *Bar) Durable(symbol, market string) bars.Bar {
	return bars.Bar{
		Symbol: symbol, Market: market, Start: time.UnixMilli(b.Start).UTC(),
		Open: b.Open, High: b.High, Low: b.Low, Close: b.Close,
		Volume: b.Volume, Trades: b.Trades, Notional: b.Notional, Revision: b.Revision,
	}
}

// SymbolState is everything Intraday keeps for one symbol, stored as JSON
// in the shard's intraday hash.
type SymbolState struct {
	Symbol string `json:"symbol"`
	Market string `json:"market"`
	// Cur is the current (latest) session's figures; Prev the session
	// before, kept so a late tick can still amend it.
	Cur  Figures  `json:"cur"`
	Prev *Figures `json:"prev,omitempty"`
	// PrevClose is the last price of the session before Cur.
	PrevClose decimal.Dec `json:"prev_close"`
	// Bar is the open 1-minute bar, if any; Recent the closed bars a late
	// tick may still amend, oldest first.
	Bar    *Bar  `json:"bar,omitempty"`
	Recent []Bar `json:"recent,omitempty"`
	// LastPrice and LastTS are the latest tick of any kind, in or out of
	// session.
	LastPrice decimal.Dec `json:"last_price"`
	LastTS    int64       `json:"last_ts"`
	// OutOfSession counts ticks outside every session of the market.
	OutOfSession int64 `json:"out_of_session"`
	// Ticks counts every accepted tick.
	Ticks int64 `json:"ticks"`
}

// figures returns the session figures with the given label, if kept.
func (s *SymbolState) figures(label string) *Figures {
	if s.Cur.Session == label {
		return &s.Cur
	}
	if s.Prev != nil && s.Prev.Session == label {
		return s.Prev
	}
	return nil
}
