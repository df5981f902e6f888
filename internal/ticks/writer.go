package ticks

import (
	"context"
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

// Write appends ticks in one pipeline, in order: XADD to the symbol's shard
// stream, and HSET of the symbol's latest quote.
func (w *Writer) Write(ctx context.Context, batch []Tick) error {
	if len(batch) == 0 {
		return nil
	}
	pipe := w.rdb.Pipeline()
	for _, t := range batch {
		n := Shard(t.Symbol, w.shards)
		pipe.XAdd(ctx, &redis.XAddArgs{Stream: keys.Ticks(n), Values: t.Fields()})
		pipe.HSet(ctx, keys.Quotes(n), t.Symbol, QuoteValue(t))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("write %d ticks: %w", len(batch), err)
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
