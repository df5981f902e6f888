package marketdata

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"time"

	"heartbeat/internal/decimal"
	"heartbeat/internal/keys"
	"heartbeat/internal/market"
	"heartbeat/internal/ticks"
)

// SessionVolumeFigures are a symbol's (or a market's) volume and trade
// count in one session.
type SessionVolumeFigures struct {
	Symbol  string      `json:"symbol,omitempty"`
	Market  string      `json:"market"`
	Session string      `json:"session"`
	Volume  decimal.Dec `json:"volume"`
	Trades  int64       `json:"trades"`
	Symbols int         `json:"symbols,omitempty"` // market totals: instruments summed
	AsOf    time.Time   `json:"as_of"`
}

// sessionVolumeKeep is how many session labels a market's volume hash
// keeps.
const sessionVolumeKeep = 10

// SessionVolume publishes, per symbol and per market, the volume and trade
// count of the market's current session (the last one while closed), keyed
// by session label: a session's figures start from zero at its open, and
// CME's Sunday evening counts towards Monday. Each trade is counted once,
// by Intraday; this job only reads.
func (e *Engine) SessionVolume(ctx context.Context, now time.Time) (map[string]SessionVolumeFigures, map[market.Code]SessionVolumeFigures, error) {
	states, err := e.allStates(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("session volume: %w", err)
	}
	perSymbol := map[string]SessionVolumeFigures{}
	perMarket := map[market.Code]SessionVolumeFigures{}
	pipe := e.rdb.Pipeline()
	for _, code := range e.instr.Markets() {
		cal, _ := e.instr.Book().Lookup(code)
		label, err := currentLabel(cal, now)
		if err != nil {
			e.calendarWarn(code, err, now, "session volume: market skipped")
			continue
		}
		total := SessionVolumeFigures{Market: string(code), Session: label, AsOf: now.UTC()}
		for _, in := range e.instr.OfMarket(code) {
			v := SessionVolumeFigures{Symbol: in.Symbol, Market: string(code), Session: label, AsOf: now.UTC()}
			if f := figuresFor(states[in.Symbol], label); f != nil {
				v.Volume, v.Trades = f.Volume, f.Trades
			}
			perSymbol[in.Symbol] = v
			js, _ := json.Marshal(v)
			pipe.HSet(ctx, keys.SessionVolume(ticks.Shard(in.Symbol, e.set.Shards)), in.Symbol, js)
			total.Volume += v.Volume
			total.Trades += v.Trades
			total.Symbols++
		}
		perMarket[code] = total
		js, _ := json.Marshal(total)
		mk := keys.MarketSessionVolume(string(code))
		pipe.HSet(ctx, mk, label, js)
		e.trimLabels(ctx, mk, label)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, nil, fmt.Errorf("session volume: write: %w", err)
	}
	return perSymbol, perMarket, nil
}

// trimLabels keeps the newest sessionVolumeKeep labels of a per-label hash.
func (e *Engine) trimLabels(ctx context.Context, key, current string) {
	labels, err := e.rdb.HKeys(ctx, key).Result()
	if err != nil {
		return
	}
	// The current label may not be written yet (the caller's pipeline
	// writes it) or may be there already (a repeated run): count it once.
	if !slices.Contains(labels, current) {
		labels = append(labels, current)
	}
	if len(labels) <= sessionVolumeKeep {
		return
	}
	sort.Strings(labels)
	old := []string{}
	for _, l := range labels[:len(labels)-sessionVolumeKeep] {
		if l != current {
			old = append(old, l)
		}
	}
	if len(old) > 0 {
		e.rdb.HDel(ctx, key, old...)
	}
}

// allStates reads every shard's intraday states, by symbol.
func (e *Engine) allStates(ctx context.Context) (map[string]*SymbolState, error) {
	out := map[string]*SymbolState{}
	for s := 0; s < e.set.Shards; s++ {
		st, err := e.shardStates(ctx, s)
		if err != nil {
			return nil, err
		}
		for k, v := range st {
			out[k] = v
		}
	}
	return out, nil
}
