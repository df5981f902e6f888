package ticks

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"heartbeat/internal/keys"
)

// Writer appends ticks to the sharded streams and keeps the latest quote
// per symbol: what cmd/feed (and any other feed) does.
type Writer struct {
	rdb    redis.UniversalClient
	shards int
}

// NewWriter returns a Writer for k shards.
func NewWriter(rdb redis.UniversalClient, shards int) *Writer {
	return &Writer{rdb: rdb, shards: shards}
}

// Write appends ticks in one pipeline, in order: an XADD of the trade
// fields per tick to its symbol's shard stream, then one HSET per shard of
// the latest quote of each symbol in the batch (the last tick of a symbol
// wins, as it would with one HSET per tick).
func (w *Writer) Write(ctx context.Context, batch []Tick) error {
	if len(batch) == 0 {
		return nil
	}
	pipe := w.rdb.Pipeline()
	quotes := make([]map[string]string, w.shards)
	streams := make([]string, w.shards)
	for _, t := range batch {
		n := Shard(t.Symbol, w.shards)
		if quotes[n] == nil {
			quotes[n], streams[n] = map[string]string{}, keys.Ticks(n)
		}
		pipe.XAdd(ctx, &redis.XAddArgs{Stream: streams[n], Values: t.TradeFields()})
		quotes[n][t.Symbol] = QuoteValue(t)
	}
	for n, q := range quotes {
		if len(q) > 0 {
			pipe.HSet(ctx, keys.Quotes(n), q)
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("write %d ticks: %w", len(batch), err)
	}
	return nil
}

// ErrBadEntry is returned by WriteRaw for an entry that is not field/value
// pairs (empty, or an odd number of strings): Redis cannot store it.
var ErrBadEntry = errors.New("stream entry must be non-empty field/value pairs")

// WriteRaw appends entries as they are, in one pipeline, in order. Each
// entry is field/value pairs; it goes to the shard of its symbol field's
// value, or to shard 0 when it has none (or an empty one). It does not
// touch the latest quotes: raw entries are for rows that may not be valid
// ticks, which Intraday dead-letters and counts. Nothing is written when
// an entry is malformed.
func (w *Writer) WriteRaw(ctx context.Context, entries [][]string) error {
	if len(entries) == 0 {
		return nil
	}
	for i, e := range entries {
		if len(e) == 0 || len(e)%2 != 0 {
			return fmt.Errorf("raw entry %d has %d strings: %w", i, len(e), ErrBadEntry)
		}
	}
	pipe := w.rdb.Pipeline()
	for _, e := range entries {
		n := 0
		for i := 0; i < len(e); i += 2 {
			if e[i] == FieldSymbol {
				if e[i+1] != "" {
					n = Shard(e[i+1], w.shards)
				}
				break
			}
		}
		pipe.XAdd(ctx, &redis.XAddArgs{Stream: keys.Ticks(n), Values: e})
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("write %d raw entries: %w", len(entries), err)
	}
	return nil
}

// QuoteValue is the latest-quote hash value of a tick:
// "price|size|ts|bid|ask|bid_size|ask_size" (quote fields empty if absent).
func QuoteValue(t Tick) string {
	b := make([]byte, 0, 64)
	b = t.Price.Append(b)
	b = append(b, '|')
	b = t.Size.Append(b)
	b = append(b, '|')
	b = fmt.Appendf(b, "%d", t.Time.UnixMilli())
	b = append(b, '|')
	if t.Bid != 0 || t.Ask != 0 {
		b = t.Bid.Append(b)
		b = append(b, '|')
		b = t.Ask.Append(b)
		b = append(b, '|')
		b = t.BidSize.Append(b)
		b = append(b, '|')
		b = t.AskSize.Append(b)
	} else {
		b = append(b, "|||"...)
	}
	return string(b)
}
