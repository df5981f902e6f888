package events

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"heartbeat/internal/keys"
	"heartbeat/internal/market"
)

// DefaultRetention is how long events are kept when none is configured.
const DefaultRetention = 7 * 24 * time.Hour

// TimeLayout is the layout of the stream's instants: RFC 3339, UTC,
// milliseconds.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// Outcome is what Emit did with a transition.
type Outcome int

// The outcomes of Emit.
const (
	// Duplicate: the transition's identity was already emitted; nothing
	// was appended.
	Duplicate Outcome = iota
	// Emitted: the transition was appended.
	Emitted
	// Moved: the transition's session already had one of its kind at
	// another instant (a calendar change moved it after its emission):
	// a changed event was appended instead.
	Moved
)

// Event is one entry of the stream.
type Event struct {
	ID string // stream entry ID
	Transition
	Term int64 // the leader's fencing term when it was emitted
	// Of and Was, for a changed event: the kind of the transition that
	// moved and the instant it had been emitted at; At is the new one.
	Of  Kind
	Was time.Time
}

// emitScript appends a transition to the stream unless its identity was
// emitted before, atomically with the dedup sets.
//
// KEYS[1] keys.MarketEvents(), KEYS[2] keys.EventsSeen(),
// KEYS[3] keys.EventSlots() (one hash tag).
// ARGV[1] identity (MARKET:KIND:UNIXMS), ARGV[2] slot (MARKET:KIND:SESSION,
// "" for halts), ARGV[3] instant (Unix ms), ARGV[4] dedup cutoff (Unix ms:
// identities and slots scored below it are dropped), ARGV[5] stream
// retention (ms, against the server's TIME, as the entry IDs are),
// ARGV[6] market, ARGV[7] kind, ARGV[8] instant (RFC 3339), ARGV[9]
// session, ARGV[10] term.
// Returns {0, ""} for a duplicate, {1, entry ID} when appended, {2, entry
// ID} when the slot had another instant and a changed event was appended.
var emitScript = redis.NewScript(`
if redis.call('ZSCORE', KEYS[2], ARGV[1]) then
  return {0, ''}
end
local result, kind = 1, ARGV[7]
local fields = {'market', ARGV[6], 'kind', kind, 'at', ARGV[8], 'session', ARGV[9], 'term', ARGV[10]}
if ARGV[2] ~= '' then
  local prev = redis.call('ZSCORE', KEYS[3], ARGV[2])
  if prev and tonumber(prev) ~= tonumber(ARGV[3]) then
    result = 2
    fields[4] = 'changed'
    table.insert(fields, 'of')
    table.insert(fields, kind)
    table.insert(fields, 'was_ms')
    table.insert(fields, string.format('%d', tonumber(prev)))
  end
  redis.call('ZADD', KEYS[3], ARGV[3], ARGV[2])
end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[4])
local now = redis.call('TIME')
local minid = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - tonumber(ARGV[5])
local id = redis.call('XADD', KEYS[1], 'MINID', '~', string.format('%d', minid), '*', unpack(fields))
return {result, id}
`)

// advanceScript moves the cursor forward, never back.
//
// KEYS[1] keys.EventsCursor(). ARGV[1] instant (Unix ms).
// Returns the cursor after the call.
var advanceScript = redis.NewScript(`
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local at = tonumber(ARGV[1])
if at > cur then
  redis.call('SET', KEYS[1], ARGV[1])
  return at
end
return cur
`)

// Stream appends transitions to the market events stream exactly once
// and reads them back. It is safe for concurrent use.
type Stream struct {
	rdb       redis.UniversalClient
	retention time.Duration
}

// NewStream returns the stream on rdb keeping events for retention
// (DefaultRetention if <= 0). Identities are remembered as long, so
// retention must exceed the longest time a transition can be emitted
// after its instant (scheduler.look_back).
func NewStream(rdb redis.UniversalClient, retention time.Duration) *Stream {
	if retention <= 0 {
		retention = DefaultRetention
	}
	return &Stream{rdb: rdb, retention: retention}
}

// Emit appends t with term unless its identity was emitted before; a
// session transition emitted before at another instant gives a changed
// event instead. It returns what it did and the entry ID.
func (s *Stream) Emit(ctx context.Context, t Transition, term int64) (Outcome, string, error) {
	at := t.At.UTC()
	res, err := emitScript.Run(ctx, s.rdb, []string{keys.MarketEvents(), keys.EventsSeen(), keys.EventSlots()},
		t.ID(), t.Slot(), at.UnixMilli(), at.Add(-s.retention).UnixMilli(), s.retention.Milliseconds(),
		string(t.Market), string(t.Kind), at.Format(TimeLayout), t.Session.String(), term).Slice()
	if err != nil {
		return Duplicate, "", fmt.Errorf("emit %s: %w", t.ID(), err)
	}
	if len(res) != 2 {
		return Duplicate, "", fmt.Errorf("emit %s: unexpected reply %v", t.ID(), res)
	}
	code, _ := res[0].(int64)
	id, _ := res[1].(string)
	return Outcome(code), id, nil
}

// startScript starts the stream at an instant unless it has started:
// sets the cursor and the origin if there is no origin yet.
//
// KEYS[1] keys.EventsCursor(), KEYS[2] keys.EventsOrigin() (one hash
// tag). ARGV[1] instant (Unix ms).
// Returns {cursor, origin} (Unix ms).
var startScript = redis.NewScript(`
if redis.call('SET', KEYS[2], ARGV[1], 'NX') then
  redis.call('SET', KEYS[1], ARGV[1])
end
local cur = redis.call('GET', KEYS[1]) or redis.call('GET', KEYS[2])
return {tonumber(cur), tonumber(redis.call('GET', KEYS[2]))}
`)

// Start returns the cursor, the instant up to which every transition was
// emitted or counted missed, and the origin, the instant the stream
// started at: a stream never written starts at now, owing nothing from
// before.
func (s *Stream) Start(ctx context.Context, now time.Time) (cursor, origin time.Time, err error) {
	res, err := startScript.Run(ctx, s.rdb, []string{keys.EventsCursor(), keys.EventsOrigin()}, now.UnixMilli()).Int64Slice()
	if err != nil || len(res) != 2 {
		return time.Time{}, time.Time{}, fmt.Errorf("start events stream: %w (reply %v)", err, res)
	}
	return time.UnixMilli(res[0]).UTC(), time.UnixMilli(res[1]).UTC(), nil
}

// Advance moves the cursor to at, unless it is already later.
func (s *Stream) Advance(ctx context.Context, at time.Time) error {
	if err := advanceScript.Run(ctx, s.rdb, []string{keys.EventsCursor()}, at.UnixMilli()).Err(); err != nil {
		return fmt.Errorf("advance events cursor: %w", err)
	}
	return nil
}

// Read returns up to count events after stream ID since ("" or "0": from
// the oldest), oldest first. With block > 0 it waits up to block for one
// when there is none yet, and returns none when it times out.
func (s *Stream) Read(ctx context.Context, since string, count int64, block time.Duration) ([]Event, error) {
	if since == "" {
		since = "0"
	}
	var msgs []redis.XMessage
	if block > 0 {
		streams, err := s.rdb.XRead(ctx, &redis.XReadArgs{Streams: []string{keys.MarketEvents(), since}, Count: count, Block: block}).Result()
		if errors.Is(err, redis.Nil) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read events after %s: %w", since, err)
		}
		for _, st := range streams {
			msgs = append(msgs, st.Messages...)
		}
	} else {
		var err error
		msgs, err = s.rdb.XRangeN(ctx, keys.MarketEvents(), "("+since, "+", count).Result()
		if err != nil {
			return nil, fmt.Errorf("read events after %s: %w", since, err)
		}
	}
	out := make([]Event, 0, len(msgs))
	for _, m := range msgs {
		e, err := parse(m)
		if err != nil {
			return out, err
		}
		out = append(out, e)
	}
	return out, nil
}

// parse reads one stream entry.
func parse(m redis.XMessage) (Event, error) {
	str := func(k string) string { v, _ := m.Values[k].(string); return v }
	e := Event{ID: m.ID, Transition: Transition{Market: market.Code(str("market")), Kind: Kind(str("kind"))}, Of: Kind(str("of"))}
	var err error
	if e.At, err = time.Parse(TimeLayout, str("at")); err != nil {
		return e, fmt.Errorf("event %s: at: %w", m.ID, err)
	}
	if e.Session, err = market.ParseDate(str("session")); err != nil {
		return e, fmt.Errorf("event %s: session: %w", m.ID, err)
	}
	if e.Term, err = strconv.ParseInt(str("term"), 10, 64); err != nil {
		return e, fmt.Errorf("event %s: term: %w", m.ID, err)
	}
	if w := str("was_ms"); w != "" {
		ms, err := strconv.ParseInt(w, 10, 64)
		if err != nil {
			return e, fmt.Errorf("event %s: was_ms: %w", m.ID, err)
		}
		e.Was = time.UnixMilli(ms).UTC()
	}
	return e, nil
}
