package marketdata

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"heartbeat/internal/keys"
	"heartbeat/internal/ticks"
)

// State returns a symbol's raw intraday state; ok is false before its first
// tick. A symbol that is not configured is ErrUnknownSymbol.
func (e *Engine) State(ctx context.Context, symbol string) (SymbolState, bool, error) {
	var st SymbolState
	n, err := e.shardOf(symbol)
	if err != nil {
		return st, false, err
	}
	ok, err := e.readJSON(ctx, keys.Intraday(n), symbol, &st)
	return st, ok, err
}

// shardStates returns every stored state of a shard, by symbol.
func (e *Engine) shardStates(ctx context.Context, shard int) (map[string]*SymbolState, error) {
	raw, err := e.rdb.HGetAll(ctx, keys.Intraday(shard)).Result()
	if err != nil {
		return nil, fmt.Errorf("read intraday states of shard %d: %w", shard, err)
	}
	out := make(map[string]*SymbolState, len(raw))
	for sym, js := range raw {
		st := &SymbolState{}
		if err := json.Unmarshal([]byte(js), st); err != nil {
			return nil, fmt.Errorf("decode state of %s: %w", sym, err)
		}
		out[sym] = st
	}
	return out, nil
}

// DailyFigures returns a symbol's session aggregates, oldest first: the
// finished sessions of the last 53 weeks Intraday keeps as daily bars, and
// the current session from its intraday state.
func (e *Engine) DailyFigures(ctx context.Context, symbol string) ([]Figures, error) {
	n := ticks.Shard(symbol, e.set.Shards)
	pipe := e.rdb.Pipeline()
	daily := pipe.HGetAll(ctx, keys.DailyBars(n, symbol))
	state := pipe.HGet(ctx, keys.Intraday(n), symbol)
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		return nil, fmt.Errorf("read daily bars of %s: %w", symbol, err)
	}
	var st *SymbolState
	if raw := state.Val(); raw != "" {
		st = &SymbolState{}
		if err := json.Unmarshal([]byte(raw), st); err != nil {
			return nil, fmt.Errorf("decode state of %s: %w", symbol, err)
		}
	}
	return sessionsOf(symbol, daily.Val(), st)
}

// sessionsOf merges a symbol's daily bars with the sessions its intraday
// state holds (the current one, and the previous one, whose daily bar may
// lag a late amendment), oldest first.
func sessionsOf(symbol string, daily map[string]string, st *SymbolState) ([]Figures, error) {
	byLabel := make(map[string]Figures, len(daily)+2)
	for label, raw := range daily {
		var f Figures
		if err := json.Unmarshal([]byte(raw), &f); err != nil {
			return nil, fmt.Errorf("decode daily bar %s of %s: %w", label, symbol, err)
		}
		byLabel[label] = f
	}
	if st != nil {
		for _, f := range []*Figures{st.Prev, &st.Cur} {
			if f != nil && f.Session != "" && f.Trades > 0 {
				byLabel[f.Session] = *f
			}
		}
	}
	out := make([]Figures, 0, len(byLabel))
	for _, label := range sortedKeys(byLabel) {
		out = append(out, byLabel[label])
	}
	return out, nil
}

// MinuteBars returns a symbol's closed 1-minute bars still in Redis (the
// last day or so) with start in [from, to), by start.
func (e *Engine) MinuteBars(ctx context.Context, symbol string, from, to time.Time) ([]Bar, error) {
	pipe := e.rdb.Pipeline()
	read := queueMinuteBars(ctx, pipe, ticks.Shard(symbol, e.set.Shards), symbol, from.UnixMilli(), to.UnixMilli())
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		return nil, fmt.Errorf("read minute bars of %s: %w", symbol, err)
	}
	return read()
}

// maxBarHours bounds how many hourly sets one read spans.
const maxBarHours = 26

// queueMinuteBars queues on pipe the reads of a symbol's bars with start
// in [from, to) (at most the last maxBarHours hours of it) and returns the
// function that decodes them once the pipeline ran.
func queueMinuteBars(ctx context.Context, pipe redis.Pipeliner, shard int, symbol string, from, to int64) func() ([]Bar, error) {
	if to <= from {
		return func() ([]Bar, error) { return nil, nil }
	}
	first, last := from/hourMS, (to-1)/hourMS
	first = max(first, last-maxBarHours+1)
	cmds := make([]*redis.StringSliceCmd, 0, last-first+1)
	for h := first; h <= last; h++ {
		cmds = append(cmds, pipe.ZRangeByScore(ctx, keys.MinuteBars(shard, symbol, h), &redis.ZRangeBy{
			Min: strconv.FormatInt(from, 10), Max: "(" + strconv.FormatInt(to, 10)}))
	}
	return func() ([]Bar, error) {
		var out []Bar
		for _, c := range cmds {
			for _, raw := range c.Val() {
				var b Bar
				if err := json.Unmarshal([]byte(raw), &b); err != nil {
					return nil, fmt.Errorf("decode bar of %s: %w", symbol, err)
				}
				out = append(out, b)
			}
		}
		return out, nil
	}
}
