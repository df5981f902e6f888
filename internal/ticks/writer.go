package ticks

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"

	"heartbeat/internal/keys"
	"heartbeat/internal/replication"
)

// Writer appends ticks to the sharded streams and keeps the latest quote
// per symbol: what cmd/feed (and any other feed) does.
//
// Every entry gets an explicit stream ID derived from the trade, so that
// writing the same batch again — a retry after a reply was lost, or a
// replay started over — adds nothing (README, "Tick contract"):
//
//   - A tick's ID is its timestamp in milliseconds, sequence 0, or, when
//     that would not be above the last ID this Writer gave the stream, the
//     last ID with the sequence plus one. IDs so follow the order of the
//     writes and are a pure function of the ticks written to the stream
//     since the Writer was made. A raw entry (WriteRaw) takes its ts field
//     when that is integer milliseconds, else 0, by the same rule.
//   - The IDs of a batch are derived from the last IDs of the last batch
//     that succeeded, so a retry of a failed batch derives the same IDs.
//   - Redis refuses an ID not above the stream's top entry ("equal or
//     smaller"). The Writer then looks at the stream: an entry at that ID
//     with the same fields is the tick itself, already written (counted in
//     WriterStats.Duplicates); an ID older than the stream's first entry
//     cannot be checked, since Intraday trims what it consumed, so the
//     tick is not written again (WriterStats.Stale, logged by the feed);
//     any other refused tick is written by another writer's interleaving
//     (two feeds on one shard) and is appended with an ID Redis assigns
//     (WriterStats.Reassigned), which a retry cannot recognise.
//
// A Writer is safe for concurrent use; its writes are serialised.
type Writer struct {
	rdb    redis.UniversalClient
	shards int
	wait   *replication.Waiter

	mu    sync.Mutex
	last  []streamID // per shard: the last ID of the last batch that succeeded
	stats WriterStats
}

// WriterStats count the Writer's refused IDs (see Writer).
type WriterStats struct {
	// Duplicates are ticks found already written under their ID: a retry
	// or a replay of a write Redis had applied.
	Duplicates uint64
	// Stale are ticks whose ID was refused and is older than everything
	// the stream keeps: not written again, as they may have been written
	// and consumed.
	Stale uint64
	// Reassigned are ticks whose ID was refused because another writer's
	// entries are above it, appended with a Redis-assigned ID.
	Reassigned uint64
}

// WriterOption configures a Writer.
type WriterOption func(*Writer)

// WaitReplicas makes every write wait until n replicas acknowledged it
// (WAIT, config ingest.wait_replicas); a write fewer replicas acknowledged
// returns an error wrapping replication.ErrShort, and its retry adds
// nothing (the IDs are found already written) but waits again.
func WaitReplicas(n int) WriterOption {
	return func(w *Writer) { w.wait = replication.NewWaiter(w.rdb, n) }
}

// NewWriter returns a Writer for k shards.
func NewWriter(rdb redis.UniversalClient, shards int, opts ...WriterOption) *Writer {
	w := &Writer{rdb: rdb, shards: shards, last: make([]streamID, shards)}
	w.wait = replication.NewWaiter(rdb, 0)
	for _, o := range opts {
		o(w)
	}
	return w
}

// Stats returns the Writer's counters.
func (w *Writer) Stats() WriterStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}

// Write appends ticks in order: an XADD of the trade fields per tick to
// its symbol's shard stream, then one HSET per shard of the latest quote
// of each symbol in the batch (the last tick of a symbol wins, as it would
// with one HSET per tick). It is one pipeline, or, waiting for replicas on
// a cluster, one per master.
func (w *Writer) Write(ctx context.Context, batch []Tick) error {
	if len(batch) == 0 {
		return nil
	}
	quotes := make([]map[string]string, w.shards)
	entries := make([]entry, len(batch))
	for i, t := range batch {
		n := Shard(t.Symbol, w.shards)
		if quotes[n] == nil {
			quotes[n] = map[string]string{}
		}
		entries[i] = entry{shard: n, ms: t.Time.UnixMilli(), fields: t.TradeFields()}
		quotes[n][t.Symbol] = QuoteValue(t)
	}
	if err := w.write(ctx, entries, quotes); err != nil {
		return fmt.Errorf("write %d ticks: %w", len(batch), err)
	}
	return nil
}

// ErrBadEntry is returned by WriteRaw for an entry that is not field/value
// pairs (empty, or an odd number of strings): Redis cannot store it.
var ErrBadEntry = errors.New("stream entry must be non-empty field/value pairs")

// WriteRaw appends entries as they are, in order. Each entry is
// field/value pairs; it goes to the shard of its symbol field's value, or
// to shard 0 when it has none (or an empty one). It does not touch the
// latest quotes: raw entries are for rows that may not be valid ticks,
// which Intraday dead-letters and counts. Nothing is written when an entry
// is malformed.
func (w *Writer) WriteRaw(ctx context.Context, raw [][]string) error {
	if len(raw) == 0 {
		return nil
	}
	for i, e := range raw {
		if len(e) == 0 || len(e)%2 != 0 {
			return fmt.Errorf("raw entry %d has %d strings: %w", i, len(e), ErrBadEntry)
		}
	}
	entries := make([]entry, len(raw))
	for i, e := range raw {
		n, ms := 0, int64(0)
		for j := 0; j < len(e); j += 2 {
			switch e[j] {
			case FieldSymbol:
				if e[j+1] != "" && n == 0 {
					n = Shard(e[j+1], w.shards)
				}
			case FieldTS:
				if v, err := strconv.ParseInt(e[j+1], 10, 64); err == nil && v > 0 && ms == 0 {
					ms = v
				}
			}
		}
		entries[i] = entry{shard: n, ms: ms, fields: e}
	}
	if err := w.write(ctx, entries, nil); err != nil {
		return fmt.Errorf("write %d raw entries: %w", len(raw), err)
	}
	return nil
}

// entry is one stream entry to write.
type entry struct {
	shard  int
	ms     int64
	fields []string
	id     streamID
	added  *redis.StringCmd
}

// write derives the entries' IDs, appends them with their shards' quotes,
// resolves the IDs Redis refused, and waits for the replicas. The last IDs
// move only when everything succeeded, so a retry derives the same IDs.
func (w *Writer) write(ctx context.Context, entries []entry, quotes []map[string]string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	cursor := slices.Clone(w.last)
	for i := range entries {
		e := &entries[i]
		e.id = cursor[e.shard].next(e.ms)
		cursor[e.shard] = e.id
	}
	// One pipeline per route: one in all, except when waiting for
	// replicas on a cluster (one per master).
	routes := map[int]string{}
	var order []string
	byRoute := map[string][]int{}
	for i, e := range entries {
		r, ok := routes[e.shard]
		if !ok {
			var err error
			if r, err = w.wait.Route(ctx, keys.Ticks(e.shard)); err != nil {
				return err
			}
			routes[e.shard] = r
		}
		if _, seen := byRoute[r]; !seen {
			order = append(order, r)
		}
		byRoute[r] = append(byRoute[r], i)
	}
	var short error
	var refused []int
	for _, r := range order {
		idx := byRoute[r]
		pipe, err := w.wait.Pipeline(ctx, keys.Ticks(entries[idx[0]].shard))
		if err != nil {
			return err
		}
		inRoute := map[int]bool{}
		for _, i := range idx {
			e := &entries[i]
			e.added = pipe.XAdd(ctx, &redis.XAddArgs{Stream: keys.Ticks(e.shard), ID: e.id.String(), Values: e.fields})
			inRoute[e.shard] = true
		}
		for n, q := range quotes {
			if len(q) > 0 && inRoute[n] {
				pipe.HSet(ctx, keys.Quotes(n), q)
			}
		}
		_, err = w.wait.Exec(ctx, pipe)
		for _, i := range idx {
			if aerr := entries[i].added.Err(); aerr != nil {
				if !isIDRefused(aerr) {
					return aerr
				}
				refused = append(refused, i)
			}
		}
		switch {
		case errors.Is(err, replication.ErrShort):
			short = err
		case err != nil && !isIDRefused(err):
			return err
		}
	}
	if len(refused) > 0 {
		if err := w.resolve(ctx, entries, refused, cursor); err != nil {
			return err
		}
	}
	if short != nil {
		return short
	}
	w.last = cursor
	return nil
}

// resolve sorts the entries whose IDs Redis refused into duplicates,
// stale ticks and ticks to append with a Redis-assigned ID (see Writer),
// and appends those; cursor moves past the IDs they get.
func (w *Writer) resolve(ctx context.Context, entries []entry, refused []int, cursor []streamID) error {
	pipe := w.rdb.Pipeline()
	at := make([]*redis.XMessageSliceCmd, len(refused))
	first := map[int]*redis.XMessageSliceCmd{}
	for j, i := range refused {
		e := entries[i]
		at[j] = pipe.XRange(ctx, keys.Ticks(e.shard), e.id.String(), e.id.String())
		if first[e.shard] == nil {
			first[e.shard] = pipe.XRangeN(ctx, keys.Ticks(e.shard), "-", "+", 1)
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("check refused stream IDs: %w", err)
	}
	var again []int
	for j, i := range refused {
		e := entries[i]
		if msgs := at[j].Val(); len(msgs) == 1 && sameFields(msgs[0].Values, e.fields) {
			w.stats.Duplicates++
			continue
		}
		if f := first[e.shard].Val(); len(f) == 0 || e.id.less(parseStreamID(f[0].ID)) {
			w.stats.Stale++
			continue
		}
		again = append(again, i)
	}
	for _, i := range again {
		e := &entries[i]
		p, err := w.wait.Pipeline(ctx, keys.Ticks(e.shard))
		if err != nil {
			return err
		}
		id := p.XAdd(ctx, &redis.XAddArgs{Stream: keys.Ticks(e.shard), Values: e.fields})
		if _, err := w.wait.Exec(ctx, p); err != nil && !errors.Is(err, replication.ErrShort) {
			return fmt.Errorf("append a refused tick with a new ID: %w", err)
		}
		w.stats.Reassigned++
		if got := parseStreamID(id.Val()); cursor[e.shard].less(got) {
			cursor[e.shard] = got
		}
	}
	return nil
}

// isIDRefused reports whether err is Redis refusing an explicit XADD ID
// that is not above the stream's top entry. Redis gives this refusal no
// error code of its own (it is a plain ERR), so its text is the only way
// to tell it from the other errors.
func isIDRefused(err error) bool {
	var re redis.Error
	return errors.As(err, &re) && strings.Contains(re.Error(), "equal or smaller than the target stream top item")
}

// sameFields reports whether a stream entry's values are exactly the
// field/value pairs.
func sameFields(values map[string]any, pairs []string) bool {
	if len(values)*2 != len(pairs) {
		return false
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		if v, ok := values[pairs[i]].(string); !ok || v != pairs[i+1] {
			return false
		}
	}
	return true
}

// streamID is a stream entry ID, milliseconds and sequence.
type streamID struct{ ms, seq uint64 }

// next returns the ID of an entry at ms written after id: ms-0 when that
// is above id, else id with the next sequence.
func (id streamID) next(ms int64) streamID {
	if ms > 0 && uint64(ms) > id.ms {
		return streamID{ms: uint64(ms)}
	}
	return streamID{ms: id.ms, seq: id.seq + 1}
}

func (id streamID) less(o streamID) bool {
	return id.ms < o.ms || id.ms == o.ms && id.seq < o.seq
}

func (id streamID) String() string {
	return strconv.FormatUint(id.ms, 10) + "-" + strconv.FormatUint(id.seq, 10)
}

// parseStreamID parses "ms-seq"; a malformed ID is the zero ID.
func parseStreamID(s string) streamID {
	a, b, _ := strings.Cut(s, "-")
	ms, _ := strconv.ParseUint(a, 10, 64)
	seq, _ := strconv.ParseUint(b, 10, 64)
	return streamID{ms: ms, seq: seq}
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
