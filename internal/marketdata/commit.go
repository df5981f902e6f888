package marketdata

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/redis/go-redis/v9"

	"heartbeat/internal/keys"
	"heartbeat/internal/replication"
)

// commitScript applies a list of writes if, and only if, a checkpoint still
// holds the value the run started from, and moves the checkpoint, all in
// one atomic step. Every computation that consumes input commits through
// it, so a run repeated or cut short never applies its effects twice.
//
// KEYS[1]: the checkpoints hash; KEYS[2..]: the keys the writes touch (all
// with the same hash tag as KEYS[1]).
// ARGV[1]: checkpoint field; ARGV[2]: expected value ("" = absent);
// ARGV[3]: new value; ARGV[4..]: writes, each as opcode, key index into
// KEYS, argument count, arguments.
// Opcodes: HSET, HDEL, HINCRBY, ZADD, ZREM, XADD, PEXPIRE (plain
// commands on the key); ZREP score member (replace the member at that
// score); ZTRIM score (drop members scored below it); HDELBEFORE field
// (drop hash fields that sort before it); HMIN field n (set a hash field
// to n unless it holds a smaller number); HDELIFEQ field value (delete a
// hash field if it still holds value); XADDCAP maxlen fields... (XADD
// with MAXLEN ~); XTRIMMINID id (drop stream entries before id).
// Result: 1 when applied, 0 when the checkpoint had moved (nothing done).
var commitScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then cur = '' end
if cur ~= ARGV[2] then return 0 end
if ARGV[3] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
end
local plain = {HSET=true, HDEL=true, HINCRBY=true, ZADD=true, ZREM=true, XADD=true, PEXPIRE=true}
local i = 4
while i <= #ARGV do
  local op, key, n = ARGV[i], KEYS[tonumber(ARGV[i+1])], tonumber(ARGV[i+2])
  local a = {}
  for j = 1, n do a[j] = ARGV[i+2+j] end
  if op == 'ZREP' then
    redis.call('ZREMRANGEBYSCORE', key, a[1], a[1])
    redis.call('ZADD', key, a[1], a[2])
  elseif op == 'ZTRIM' then
    redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. a[1])
  elseif op == 'HDELBEFORE' then
    for _, f in ipairs(redis.call('HKEYS', key)) do
      if f < a[1] then redis.call('HDEL', key, f) end
    end
  elseif op == 'HMIN' then
    local cur = tonumber(redis.call('HGET', key, a[1]))
    if not cur or tonumber(a[2]) < cur then redis.call('HSET', key, a[1], a[2]) end
  elseif op == 'HDELIFEQ' then
    if redis.call('HGET', key, a[1]) == a[2] then redis.call('HDEL', key, a[1]) end
  elseif op == 'XADDCAP' then
    redis.call('XADD', key, 'MAXLEN', '~', a[1], '*', unpack(a, 2))
  elseif op == 'XTRIMMINID' then
    redis.call('XTRIM', key, 'MINID', a[1])
  elseif plain[op] then
    redis.call(op, key, unpack(a))
  else
    return redis.error_reply('commit: unknown opcode ' .. op)
  end
  i = i + 3 + n
end
return 1
`)

// commit collects the writes of one run for commitScript.
type commit struct {
	keys []string
	idx  map[string]int
	args []any
	// hset gathers the HSET field-value pairs of each key, sent as one
	// HSET per key: one Redis call instead of one per field.
	hset map[int][]any
}

// newCommit starts a commit guarded by checkpoint field of the hash
// ckptKey moving from old to new.
func newCommit(ckptKey, field, old, new string) *commit {
	return &commit{keys: []string{ckptKey}, idx: map[string]int{ckptKey: 1}, args: []any{field, old, new}}
}

// op appends one write. HSETs are gathered per key and sent after the
// other writes: a commit must not make another write to a hash it HSETs
// depend on coming after the HSET (today the only other writes to such a
// hash are HDELBEFORE of older daily bars and the checkpoint itself).
func (c *commit) op(code, key string, args ...any) {
	i, ok := c.idx[key]
	if !ok {
		c.keys = append(c.keys, key)
		i = len(c.keys)
		c.idx[key] = i
	}
	if code == "HSET" {
		if c.hset == nil {
			c.hset = map[int][]any{}
		}
		c.hset[i] = append(c.hset[i], args...)
		return
	}
	c.args = append(c.args, code, i, len(args))
	c.args = append(c.args, args...)
}

// maxPairs bounds one HSET's field-value pairs (Lua's unpack has a limit).
const maxPairs = 1000

// run executes the commit: 1 when applied, 0 when the checkpoint had
// moved. With ingest.wait_replicas > 0 the script is pipelined with WAIT
// on the connection of the master serving its keys (WAIT is refused
// inside a script). A commit fewer replicas acknowledged is applied all
// the same — its checkpoint moved, so running it again would change
// nothing — and counted under component (heartbeat_wait_short_total),
// logged once a minute of run time now: a failover before the replicas
// catch up may roll the commit back, and the next run then recomputes it
// from the ticks the promoted replica holds.
func (c *commit) run(ctx context.Context, e *Engine, component string, now time.Time) (int, error) {
	// A commit is one script: on a Redis Cluster its keys must share a
	// slot. Checked here, on every commit, so any test of any computation
	// fails on a key built without the shard's hash tag.
	if err := keys.SameSlot(c.keys); err != nil {
		return 0, fmt.Errorf("commit: %w", err)
	}
	idx := make([]int, 0, len(c.hset))
	for i := range c.hset {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	args := c.args
	for _, i := range idx {
		pairs := c.hset[i]
		for len(pairs) > 0 {
			n := min(len(pairs), 2*maxPairs)
			args = append(args, "HSET", i, n)
			args = append(args, pairs[:n]...)
			pairs = pairs[n:]
		}
	}
	if e.wait.Replicas() == 0 {
		return commitScript.Run(ctx, e.rdb, c.keys, args...).Int()
	}
	res, err := c.runWaiting(ctx, e, args)
	var short *replication.ShortError
	if errors.As(err, &short) {
		if e.onWaitShort != nil {
			e.onWaitShort(component)
		}
		e.waitLog.Warn(component, now).Str("component", component).Int("acked", short.Acked).Int("want", short.Want).
			Msg("commit applied but fewer replicas acknowledged it than ingest.wait_replicas; a failover now may roll it back (counted in heartbeat_wait_short_total, logged once a minute)")
		err = nil
	}
	return res, err
}

// runWaiting runs the script by its SHA, then WAIT, in one pipeline; a
// master that does not know the script (a promoted replica: the script
// cache is not replicated) gets it whole in a second pipeline. The error
// wraps a *replication.ShortError only when the script succeeded.
func (c *commit) runWaiting(ctx context.Context, e *Engine, args []any) (int, error) {
	for _, whole := range []bool{false, true} {
		pipe, err := e.wait.Pipeline(ctx, c.keys[0])
		if err != nil {
			return 0, err
		}
		var cmd *redis.Cmd
		if whole {
			cmd = commitScript.Eval(ctx, pipe, c.keys, args...)
		} else {
			cmd = commitScript.EvalSha(ctx, pipe, c.keys, args...)
		}
		_, err = e.wait.Exec(ctx, pipe)
		if !whole && redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
			continue
		}
		if cmd.Err() != nil {
			return 0, cmd.Err()
		}
		res, ierr := cmd.Int()
		if ierr != nil {
			return 0, ierr
		}
		return res, err
	}
	return 0, errors.New("commit: unreachable")
}
