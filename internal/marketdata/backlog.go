package marketdata

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"heartbeat/internal/keys"
)

// TickBacklogAge returns how old the oldest tick of a shard's stream that
// Intraday has not consumed is, at now: now minus the trade time in its
// stream ID (the writers derive IDs from the trades' timestamps), or zero
// when Intraday has consumed everything. It grows while ticks arrive and
// nothing consumes them: the data going stale.
func (e *Engine) TickBacklogAge(ctx context.Context, shard int, now time.Time) (time.Duration, error) {
	if err := e.checkShard(shard); err != nil {
		return 0, err
	}
	v, err := e.rdb.HGet(ctx, keys.Checkpoints(shard), ckptIntraday).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return 0, fmt.Errorf("backlog shard %d: checkpoint: %w", shard, err)
	}
	_, id, err := parseIntradayCheckpoint(v)
	if err != nil {
		return 0, fmt.Errorf("backlog shard %d: %w", shard, err)
	}
	start := "-"
	if id != "" {
		start = "(" + id
	}
	msgs, err := e.rdb.XRangeN(ctx, keys.Ticks(shard), start, "+", 1).Result()
	if err != nil {
		return 0, fmt.Errorf("backlog shard %d: %w", shard, err)
	}
	if len(msgs) == 0 {
		return 0, nil
	}
	ms, err := strconv.ParseInt(strings.SplitN(msgs[0].ID, "-", 2)[0], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("backlog shard %d: entry %s: %w", shard, msgs[0].ID, err)
	}
	return max(now.Sub(time.UnixMilli(ms)), 0), nil
}
