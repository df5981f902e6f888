package marketdata

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"heartbeat/internal/keys"
	"heartbeat/internal/ticks"
)

// Read views of the figures the jobs publish, for the status page and the
// API. Each returns ok false when the figure has not been computed yet.

// ErrUnknownSymbol is returned for a symbol that is not a configured
// instrument.
var ErrUnknownSymbol = errors.New("unknown symbol")

func (e *Engine) shardOf(symbol string) (int, error) {
	if !e.instr.Known(symbol) {
		return 0, fmt.Errorf("%w %q", ErrUnknownSymbol, symbol)
	}
	return ticks.Shard(symbol, e.set.Shards), nil
}

// readJSON decodes one field of a JSON hash.
func (e *Engine) readJSON(ctx context.Context, key, field string, v any) (bool, error) {
	raw, err := e.rdb.HGet(ctx, key, field).Result()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read %s of %s: %w", key, field, err)
	}
	if err := json.Unmarshal([]byte(raw), v); err != nil {
		return false, fmt.Errorf("decode %s of %s: %w", key, field, err)
	}
	return true, nil
}

// Week52Of returns a symbol's 52-week extremes as Week52Extremes last
// published them.
func (e *Engine) Week52Of(ctx context.Context, symbol string) (Extremes, bool, error) {
	var x Extremes
	n, err := e.shardOf(symbol)
	if err != nil {
		return x, false, err
	}
	ok, err := e.readJSON(ctx, keys.Week52(n), symbol, &x)
	return x, ok, err
}

// RollingOf returns a symbol's rolling 24 h figures as TwentyFourHour last
// published them.
func (e *Engine) RollingOf(ctx context.Context, symbol string) (Rolling, bool, error) {
	var r Rolling
	n, err := e.shardOf(symbol)
	if err != nil {
		return r, false, err
	}
	ok, err := e.readJSON(ctx, keys.Rolling24h(n), symbol, &r)
	return r, ok, err
}

// SessionVolumeOf returns a symbol's session volume and trades as
// SessionVolume last published them.
func (e *Engine) SessionVolumeOf(ctx context.Context, symbol string) (SessionVolumeFigures, bool, error) {
	var v SessionVolumeFigures
	n, err := e.shardOf(symbol)
	if err != nil {
		return v, false, err
	}
	ok, err := e.readJSON(ctx, keys.SessionVolume(n), symbol, &v)
	return v, ok, err
}

// VwapSeries returns a symbol's captured minute VWAP points with minute in
// [from, to), oldest first, at most limit of them (the oldest; limit <= 0
// means no limit).
func (e *Engine) VwapSeries(ctx context.Context, symbol string, from, to time.Time, limit int) ([]VwapPoint, error) {
	n, err := e.shardOf(symbol)
	if err != nil {
		return nil, err
	}
	if !to.After(from) {
		return nil, nil
	}
	by := &redis.ZRangeBy{Min: strconv.FormatInt(from.UnixMilli(), 10), Max: "(" + strconv.FormatInt(to.UnixMilli(), 10)}
	if limit > 0 {
		by.Count = int64(limit)
	}
	raw, err := e.rdb.ZRangeByScore(ctx, keys.VwapSeries(n, symbol), by).Result()
	if err != nil {
		return nil, fmt.Errorf("read vwap series of %s: %w", symbol, err)
	}
	out := make([]VwapPoint, 0, len(raw))
	for _, s := range raw {
		var p VwapPoint
		if err := json.Unmarshal([]byte(s), &p); err != nil {
			return nil, fmt.Errorf("decode vwap point of %s: %w", symbol, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// MarketFigures returns a market's composite as MarketMetrics last wrote
// it: the fields of its metrics hash (session, change_from_open_pct, ...).
func (e *Engine) MarketFigures(ctx context.Context, code string) (map[string]string, error) {
	m, err := e.rdb.HGetAll(ctx, keys.MarketMetrics(code)).Result()
	if err != nil {
		return nil, fmt.Errorf("read market metrics of %s: %w", code, err)
	}
	return m, nil
}

// DeadLetterCounts returns how many ticks were dead-lettered, by reason,
// summed over the shards.
func (e *Engine) DeadLetterCounts(ctx context.Context) (map[string]int64, error) {
	pipe := e.rdb.Pipeline()
	cmds := make([]*redis.MapStringStringCmd, e.set.Shards)
	for n := range cmds {
		cmds[n] = pipe.HGetAll(ctx, keys.DeadLetterCounts(n))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("read dead-letter counts: %w", err)
	}
	out := map[string]int64{}
	for _, c := range cmds {
		for reason, v := range c.Val() {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("dead-letter count %s: %w", reason, err)
			}
			out[reason] += n
		}
	}
	return out, nil
}
