package marketdata

import (
	"context"
	"encoding/json"
	"time"

	"github.com/redis/go-redis/v9"

	"heartbeat/internal/keys"
	"heartbeat/internal/ticks"
)

// deadLetter is a rejected stream entry (a tick Intraday refused, a
// closed bar the flush could not write) on its way to the shard's
// dead-letter stream.
type deadLetter struct {
	reason ticks.Reason
	id     string
	detail string
	fields string // the entry's fields, as JSON
}

// reject turns a stream entry into a dead letter, logging the reason at
// most once a minute.
func (e *Engine) reject(m streamEntry, reason ticks.Reason, detail string, shard int, now time.Time) deadLetter {
	raw, _ := json.Marshal(m.fields())
	e.dlLog.Warn(string(reason), now).Str("reason", string(reason)).Str("detail", detail).Int("shard", shard).
		Str("entry", m.id).RawJSON("fields", raw).Msg("entry rejected to the dead-letter stream (logged at most once a minute per reason)")
	return deadLetter{reason: reason, id: m.id, detail: detail, fields: string(raw)}
}

// deadLetterSink is where writeDeadLetters sends its writes: the
// Intraday commit's script (commitDeadLetters), so the dead letters are
// applied with the checkpoint that consumed their ticks, or the flush's
// MULTI (pipelineDeadLetters), with the acknowledgement of their entries.
type deadLetterSink interface {
	// appendCapped appends an entry to a stream capped at about maxLen.
	appendCapped(stream string, maxLen int64, values []any)
	// incrBy adds n to a hash field.
	incrBy(key, field string, n int64)
}

// writeDeadLetters is the one dead-letter writer: each dead letter is an
// entry of keys.DeadLetter(shard) (capped at ingest.dead_letter_max_len,
// approximately) with its reason, the rejected entry's ID, a detail, the
// shard, the instant and the entry's fields as JSON; and the counts by
// reason in keys.DeadLetterCounts(shard) grow by as many, one HINCRBY per
// reason in reason order.
func (e *Engine) writeDeadLetters(sink deadLetterSink, shard int, dead []deadLetter, now time.Time) {
	if len(dead) == 0 {
		return
	}
	at := now.UTC().Format(time.RFC3339Nano)
	counts := map[string]int64{}
	for _, d := range dead {
		sink.appendCapped(keys.DeadLetter(shard), e.set.DeadLetterMaxLen,
			[]any{"reason", string(d.reason), "id", d.id, "detail", d.detail, "shard", shard, "at", at, "fields", d.fields})
		counts[string(d.reason)]++
	}
	for _, reason := range sortedKeys(counts) {
		sink.incrBy(keys.DeadLetterCounts(shard), reason, counts[reason])
	}
}

// commitDeadLetters writes dead letters as commit ops.
type commitDeadLetters struct{ c *commit }

func (s commitDeadLetters) appendCapped(stream string, maxLen int64, values []any) {
	s.c.op("XADDCAP", stream, append([]any{maxLen}, values...)...)
}

func (s commitDeadLetters) incrBy(key, field string, n int64) { s.c.op("HINCRBY", key, field, n) }

// pipelineDeadLetters queues dead letters on a pipeline (the caller's
// MULTI).
type pipelineDeadLetters struct {
	ctx  context.Context
	pipe redis.Pipeliner
}

func (s pipelineDeadLetters) appendCapped(stream string, maxLen int64, values []any) {
	s.pipe.XAdd(s.ctx, &redis.XAddArgs{Stream: stream, MaxLen: maxLen, Approx: true, Values: values})
}

func (s pipelineDeadLetters) incrBy(key, field string, n int64) { s.pipe.HIncrBy(s.ctx, key, field, n) }
