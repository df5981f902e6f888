package marketdata

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"heartbeat/internal/bars"
	"heartbeat/internal/keys"
	"heartbeat/internal/ticks"
)

// FlushStats says what one ClosedBarsFlush run did.
type FlushStats struct {
	Redriven int // entries claimed by an earlier run that died, written now
	Written  int // bars upserted into the store
	Sessions int // finished sessions' daily aggregates upserted into the store
	Corrupt  int // entries that could not be decoded (dead-lettered)
}

// closedSessionField is the field of a ClosedBars entry that carries a
// finished session's figures (JSON) instead of a bar: Intraday queues one
// whenever it writes a daily bar, and the flush upserts it into the store's
// daily aggregates, through the same consumer group, so exactly once.
const closedSessionField = "session"

// flushConsumer is the one consumer name of a shard's flush group: a task
// never runs concurrently with its own previous slot, so the pending
// entries of this name are exactly those of a run that died between
// claiming and acknowledging, and the next run writes them first.
const flushConsumer = "flusher"

// flushBatch is how many bars one read claims.
const flushBatch = 2000

// flushMaxPerRun bounds one run's work so a backlog drains over several.
const flushMaxPerRun = 200_000

// FlushClosedBars moves a shard's closed bars and finished sessions from
// Redis into the durable store: claim (read into the flush group), write (upsert; a bar replaces a
// stored one only with a revision at least as high), acknowledge and
// delete. Bars claimed by a run that died are re-driven first. Repeating a
// flush changes nothing in the store.
func (e *Engine) FlushClosedBars(ctx context.Context, shard int, now time.Time) (FlushStats, error) {
	var st FlushStats
	if err := e.checkShard(shard); err != nil {
		return st, err
	}
	if e.store == nil {
		return st, errors.New("flush: no durable store configured")
	}
	key := keys.ClosedBars(shard)
	for _, pending := range []bool{true, false} {
		for st.Written+st.Sessions+st.Corrupt < flushMaxPerRun {
			id := ">"
			if pending {
				id = "0"
			}
			args := &redis.XReadGroupArgs{Group: keys.FlushGroup, Consumer: flushConsumer,
				Streams: []string{key, id}, Count: flushBatch, Block: -1}
			res, err := e.rdb.XReadGroup(ctx, args).Result()
			if redis.HasErrorPrefix(err, "NOGROUP") {
				// First flush of this shard, or Redis lost its data.
				if err := e.rdb.XGroupCreateMkStream(ctx, key, keys.FlushGroup, "0").Err(); err != nil && !redis.HasErrorPrefix(err, "BUSYGROUP") {
					return st, fmt.Errorf("flush shard %d: create group: %w", shard, err)
				}
				res, err = e.rdb.XReadGroup(ctx, args).Result()
			}
			if err == redis.Nil {
				break
			}
			if err != nil {
				return st, fmt.Errorf("flush shard %d: claim: %w", shard, err)
			}
			msgs := res[0].Messages
			if len(msgs) == 0 {
				break
			}
			if err := e.step("claim"); err != nil {
				return st, err
			}
			if err := e.flushBatch(ctx, shard, key, msgs, now, &st); err != nil {
				return st, err
			}
			if pending {
				st.Redriven += len(msgs)
			}
		}
	}
	return st, nil
}

func (e *Engine) flushBatch(ctx context.Context, shard int, key string, msgs []redis.XMessage, now time.Time, st *FlushStats) error {
	var (
		out     = make([]bars.Bar, 0, len(msgs))
		outMsgs = make([]redis.XMessage, 0, len(msgs))
		days    []bars.Daily
		dayMsgs []redis.XMessage
		ids     = make([]string, 0, len(msgs))
		corrupt []deadLetter
	)
	for _, m := range msgs {
		ids = append(ids, m.ID)
		sym, _ := m.Values["symbol"].(string)
		mkt, _ := m.Values["market"].(string)
		if raw, ok := m.Values[closedSessionField].(string); ok {
			var f Figures
			d, err := bars.Daily{}, json.Unmarshal([]byte(raw), &f)
			if err == nil {
				d, err = f.Durable(sym, mkt)
			}
			if err != nil || sym == "" {
				corrupt = append(corrupt, e.reject(entryOf(m), ticks.ReasonCorruptBar, "finished-session entry could not be decoded", shard, now))
				continue
			}
			days, dayMsgs = append(days, d), append(dayMsgs, m)
			continue
		}
		raw, _ := m.Values["bar"].(string)
		var b Bar
		if err := json.Unmarshal([]byte(raw), &b); err != nil || sym == "" {
			corrupt = append(corrupt, e.reject(entryOf(m), ticks.ReasonCorruptBar, "closed-bar entry could not be decoded", shard, now))
			continue
		}
		out = append(out, b.Durable(sym, mkt))
		outMsgs = append(outMsgs, m)
	}
	written, refused, err := upsertOrReject(ctx, e, shard, now, e.store.Upsert, out, outMsgs, "closed-bar")
	if err != nil {
		return fmt.Errorf("flush shard %d: %w", shard, err)
	}
	corrupt = append(corrupt, refused...)
	sessions, refused, err := upsertOrReject(ctx, e, shard, now, e.store.UpsertDaily, days, dayMsgs, "finished-session")
	if err != nil {
		return fmt.Errorf("flush shard %d: %w", shard, err)
	}
	corrupt = append(corrupt, refused...)
	if err := e.step("write"); err != nil {
		return err
	}
	pipe := e.rdb.TxPipeline()
	e.writeDeadLetters(pipelineDeadLetters{ctx: ctx, pipe: pipe}, shard, corrupt, now)
	pipe.XAck(ctx, key, keys.FlushGroup, ids...)
	pipe.XDel(ctx, key, ids...)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("flush shard %d: acknowledge: %w", shard, err)
	}
	if err := e.step("ack"); err != nil {
		return err
	}
	st.Written += written
	st.Sessions += sessions
	st.Corrupt += len(corrupt)
	return nil
}

// upsertOrReject writes items (decoded from msgs, one each) with upsert.
// An item no store accepts must not block the rest of the stream: when the
// store refuses the batch as invalid, the items are written one by one and
// the refused ones returned as dead letters.
func upsertOrReject[T any](ctx context.Context, e *Engine, shard int, now time.Time, upsert func(context.Context, []T) error,
	items []T, msgs []redis.XMessage, what string) (written int, refused []deadLetter, err error) {
	if len(items) == 0 {
		return 0, nil, nil
	}
	err = upsert(ctx, items)
	if err == nil {
		return len(items), nil, nil
	}
	if !errors.Is(err, bars.ErrInvalidBar) {
		return 0, nil, fmt.Errorf("write %d %s entries: %w", len(items), what, err)
	}
	for i, item := range items {
		if err := upsert(ctx, []T{item}); err != nil {
			if !errors.Is(err, bars.ErrInvalidBar) {
				return 0, nil, fmt.Errorf("write %s entry %s: %w", what, msgs[i].ID, err)
			}
			refused = append(refused, e.reject(entryOf(msgs[i]), ticks.ReasonCorruptBar, what+" entry refused by the store: "+err.Error(), shard, now))
			continue
		}
		written++
	}
	return written, refused, nil
}
