package marketdata

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"heartbeat/internal/keys"
	"heartbeat/internal/ticks"
)

// Each Intraday commit that changes symbols' states also appends one entry
// to its shard's updates stream (keys.Updates), in the same script, with
// the changed symbols as a JSON array: an announcement is there exactly
// when its figures are. A capped stream rather than pub/sub: a reader
// that lost its connection, or was busy, resumes from its last entry ID
// and misses nothing still in the stream; each shard's stream is one key
// on its shard's slot, so a Redis Cluster reads it from one node (pub/sub
// there reaches every node); and the entry ID is Redis's time of the
// commit, from which a reader measures its lag.

// updatesMaxLen caps each shard's updates stream (about MAXLEN; at one
// commit a second, ten minutes).
const updatesMaxLen = 600

// updatesField holds an entry's changed symbols.
const updatesField = "symbols"

// Update is one entry of a shard's updates stream.
type Update struct {
	ID      string    // stream entry ID
	At      time.Time // when Redis appended it (the ID's milliseconds)
	Symbols []string  // the symbols whose states the commit changed
	// Err is why an entry could not be read (one no commit wrote): a
	// reader skips it, and reads on after its ID.
	Err error
}

// announceUpdate adds the updates entry to an Intraday commit.
func announceUpdate(c *commit, shard int, changed []string) error {
	if len(changed) == 0 {
		return nil
	}
	js, err := json.Marshal(changed)
	if err != nil {
		return fmt.Errorf("encode updated symbols: %w", err)
	}
	c.op("XADDCAP", keys.Updates(shard), updatesMaxLen, updatesField, js)
	return nil
}

// ShardOf returns the shard a configured symbol's ticks and state are on.
func (e *Engine) ShardOf(symbol string) (int, error) { return e.shardOf(symbol) }

// UpdatesEnd returns the ID of a shard's newest update ("0-0" for none):
// reading after it returns only what is committed from now on.
func (e *Engine) UpdatesEnd(ctx context.Context, shard int) (string, error) {
	if err := e.checkShard(shard); err != nil {
		return "", err
	}
	msgs, err := e.rdb.XRevRangeN(ctx, keys.Updates(shard), "+", "-", 1).Result()
	if err != nil {
		return "", fmt.Errorf("updates of shard %d: %w", shard, err)
	}
	if len(msgs) == 0 {
		return "0-0", nil
	}
	return msgs[0].ID, nil
}

// ReadUpdates returns up to count of a shard's updates after the entry ID
// after (an entry that cannot be read comes with its Err set), waiting up to block for the first (none when it passes; no wait
// when block is not positive). An ID the capped stream no longer holds
// reads from its oldest entry.
func (e *Engine) ReadUpdates(ctx context.Context, shard int, after string, count int64, block time.Duration) ([]Update, error) {
	if err := e.checkShard(shard); err != nil {
		return nil, err
	}
	if block <= 0 {
		block = -1 // go-redis sends no BLOCK (BLOCK 0 would wait forever)
	} else {
		block = max(block, time.Millisecond)
	}
	res, err := e.rdb.XRead(ctx, &redis.XReadArgs{Streams: []string{keys.Updates(shard), after}, Count: count, Block: block}).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read updates of shard %d: %w", shard, err)
	}
	var out []Update
	for _, s := range res {
		for _, m := range s.Messages {
			u, err := updateOf(m)
			if err != nil {
				u.Err = fmt.Errorf("updates of shard %d: entry %s: %w", shard, m.ID, err)
			}
			out = append(out, u)
		}
	}
	return out, nil
}

func updateOf(m redis.XMessage) (Update, error) {
	u := Update{ID: m.ID}
	ms, _, ok := strings.Cut(m.ID, "-")
	n, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil {
		return u, fmt.Errorf("entry ID %q is not MS-SEQ", m.ID)
	}
	u.At = time.UnixMilli(n)
	raw, _ := m.Values[updatesField].(string)
	if err := json.Unmarshal([]byte(raw), &u.Symbols); err != nil {
		return u, fmt.Errorf("field %s: %w", updatesField, err)
	}
	return u, nil
}

// States returns the intraday states of symbols of one shard, in order;
// nil for a symbol without a tick yet.
func (e *Engine) States(ctx context.Context, shard int, symbols []string) ([]*SymbolState, error) {
	if err := e.checkShard(shard); err != nil {
		return nil, err
	}
	if len(symbols) == 0 {
		return nil, nil
	}
	for _, s := range symbols {
		if n := ticks.Shard(s, e.set.Shards); n != shard {
			return nil, fmt.Errorf("states of shard %d: %s is on shard %d", shard, s, n)
		}
	}
	raw, err := e.rdb.HMGet(ctx, keys.Intraday(shard), symbols...).Result()
	if err != nil {
		return nil, fmt.Errorf("read intraday states of shard %d: %w", shard, err)
	}
	out := make([]*SymbolState, len(symbols))
	for i, v := range raw {
		js, ok := v.(string)
		if !ok {
			continue
		}
		st := &SymbolState{}
		if err := json.Unmarshal([]byte(js), st); err != nil {
			return nil, fmt.Errorf("decode state of %s: %w", symbols[i], err)
		}
		out[i] = st
	}
	return out, nil
}
