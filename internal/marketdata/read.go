package marketdata

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/redis/go-redis/v9"

	"heartbeat/internal/keys"
	"heartbeat/internal/ticks"
)

// State returns a symbol's raw intraday state; ok is false before its first
// tick.
func (e *Engine) State(ctx context.Context, symbol string) (SymbolState, bool, error) {
	var st SymbolState
	raw, err := e.rdb.HGet(ctx, keys.Intraday(ticks.Shard(symbol, e.set.Shards)), symbol).Result()
	if err == redis.Nil {
		return st, false, nil
	}
	if err != nil {
		return st, false, fmt.Errorf("read state of %s: %w", symbol, err)
	}
	if err := json.Unmarshal([]byte(raw), &st); err != nil {
		return st, false, fmt.Errorf("decode state of %s: %w", symbol, err)
	}
	return st, true, nil
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

// DailyFigures returns a symbol's kept session aggregates (up to 53 weeks),
// oldest first: the daily bars Week52Extremes reads.
func (e *Engine) DailyFigures(ctx context.Context, symbol string) ([]Figures, error) {
	raw, err := e.rdb.ZRange(ctx, keys.DailyBars(ticks.Shard(symbol, e.set.Shards), symbol), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("read daily bars of %s: %w", symbol, err)
	}
	out := make([]Figures, 0, len(raw))
	for _, r := range raw {
		var f Figures
		if err := json.Unmarshal([]byte(r), &f); err != nil {
			return nil, fmt.Errorf("decode daily bar of %s: %w", symbol, err)
		}
		out = append(out, f)
	}
	return out, nil
}
