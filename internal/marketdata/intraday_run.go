package marketdata

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"heartbeat/internal/keys"
	"heartbeat/internal/market"
	"heartbeat/internal/ticks"
)

// Checkpoint names in a shard's checkpoints hash.
const (
	ckptIntraday = "intraday"
	ckptVwap     = "vwap_minute_capture"
)

// IntradayStats says what one Intraday run did.
type IntradayStats struct {
	Read         int // stream entries read
	Accepted     int
	OutOfSession int
	Rejected     map[ticks.Reason]int
	BarsClosed   int
	BarsAmended  int
	// SessionsFinished counts daily aggregates written (a session that
	// finished, or a finished one a late tick amended), each also queued
	// for the flush.
	SessionsFinished int
	CaughtUp         bool // the run read everything the stream had
}

// hourMS is an hour in milliseconds: minute bars are kept in one sorted
// set per UTC hour.
const hourMS = int64(time.Hour / time.Millisecond)

// minuteBarRetention is how long an hour's minute bars stay in Redis after
// the hour ends: the rolling 24 h window plus slack for late runs.
const minuteBarRetention = 25 * time.Hour

// dailyRetentionDays is how many days of daily bars stay in Redis: the 52
// weeks Week52Extremes looks at, plus a week.
const dailyRetentionDays = 53 * 7

// amendedEarliest is the field of keys.Amended with the start of the
// earliest minute a late tick amended: Intraday publishes it (the lowest
// wins until a reader takes it), VwapMinuteCapture reads it and captures
// those minutes again if it had captured them already.
const amendedEarliest = "earliest"

// intradayPage is how many stream entries Intraday reads at a time
// (Engine.page).
const intradayPage = 4096

// ckptIntradayAt is the checkpoint field with the instant (Unix ms) of the
// last Intraday run that read everything its stream had: minutes before it
// minus the late window are final.
const ckptIntradayAt = "intraday_at"

// Intraday consumes a shard's new ticks from its committed checkpoint and
// commits the symbols' session figures, 1-minute bars, closed bars for the
// flush, dead letters and the new checkpoint in one atomic script.
func (e *Engine) Intraday(ctx context.Context, shard int, now time.Time) (IntradayStats, error) {
	st := IntradayStats{Rejected: map[ticks.Reason]int{}}
	if err := e.checkShard(shard); err != nil {
		return st, err
	}
	pipe := e.rdb.Pipeline()
	ckptCmd := pipe.HGet(ctx, keys.Checkpoints(shard), ckptIntraday)
	dueCmd := pipe.ZRangeByScore(ctx, keys.OpenBars(shard), &redis.ZRangeBy{Min: "-inf", Max: strconv.FormatInt(now.UnixMilli(), 10)})
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		return st, fmt.Errorf("intraday shard %d: read checkpoint: %w", shard, err)
	}
	old := ckptCmd.Val() // "" when absent
	rev, lastID, err := parseIntradayCheckpoint(old)
	if err != nil {
		return st, fmt.Errorf("intraday shard %d: %w", shard, err)
	}
	due := dueCmd.Val()
	if err := e.step("read_checkpoint"); err != nil {
		return st, err
	}

	cursor := "-"
	if lastID != "" {
		cursor = "(" + lastID
	}
	newID := lastID
	updates := map[string]*symbolUpdate{}
	// The states this worker committed at this very checkpoint, if it was
	// the last to run the shard: they are what Redis holds.
	cached := e.states.take(shard, old)
	if err := e.loadStates(ctx, shard, updates, due, cached); err != nil {
		return st, fmt.Errorf("intraday shard %d: read state: %w", shard, err)
	}
	var dead []deadLetter
	finders := map[market.Code]*sessionFinder{}
	// Read the stream a page at a time, so a run's memory stays bounded
	// whatever its backlog; everything is still committed at once.
	for st.Read < e.set.BatchSize {
		want := min(e.page, e.set.BatchSize-st.Read)
		msgs, err := xrange(ctx, e.rdb, keys.Ticks(shard), cursor, want)
		if err != nil {
			return st, fmt.Errorf("intraday shard %d: read ticks: %w", shard, err)
		}
		st.Read += len(msgs)
		if err := e.step("read_ticks"); err != nil {
			return st, err
		}
		good := make([]ticks.Tick, 0, len(msgs))
		goodMsgs := make([]streamEntry, 0, len(msgs))
		var missing []string
		for _, m := range msgs {
			t, reason, detail := e.validate.ParsePairs(m.pairs, now)
			if reason != "" {
				dead = append(dead, e.reject(m, reason, detail, shard, now))
				continue
			}
			good = append(good, t)
			goodMsgs = append(goodMsgs, m)
			if _, ok := updates[t.Symbol]; !ok {
				updates[t.Symbol] = nil
				missing = append(missing, t.Symbol)
			}
		}
		if err := e.loadStates(ctx, shard, updates, missing, cached); err != nil {
			return st, fmt.Errorf("intraday shard %d: read state: %w", shard, err)
		}
		if err := e.step("read_state"); err != nil {
			return st, err
		}
		for i, t := range good {
			u := updates[t.Symbol]
			in, _ := e.instr.Get(t.Symbol)
			f := finders[in.Market]
			if f == nil {
				f = &sessionFinder{cal: in.Calendar}
				finders[in.Market] = f
			}
			session := f.at(t.Time)
			if !u.applyTick(t, session, e.set.LateWindow) {
				dead = append(dead, e.reject(goodMsgs[i], ticks.ReasonLate,
					"its minute closed more than ingest.late_window before the symbol's newest tick", shard, now))
				continue
			}
			st.Accepted++
			if session == "" {
				st.OutOfSession++
			}
		}
		if len(msgs) > 0 {
			newID = msgs[len(msgs)-1].id
			cursor = "(" + newID
		}
		if len(msgs) < want {
			st.CaughtUp = true
			break
		}
	}
	for _, u := range updates {
		u.finish(now, st.CaughtUp, e.set.LateWindow)
	}
	for code, f := range finders {
		if f.err != nil {
			e.calendarWarn(code, f.err, now, "intraday: ticks outside the calendar's coverage counted out of session")
		}
	}
	for _, d := range dead {
		st.Rejected[d.reason]++
	}
	if err := e.step("compute"); err != nil {
		return st, err
	}

	// A run that changed nothing keeps the checkpoint as it is (and only
	// records how far Intraday has caught up), so that repeating a run, or
	// an idle shard, makes no new revision.
	changed := st.Read > 0 || len(dead) > 0
	for _, u := range updates {
		changed = changed || u.dirty
	}
	newCkpt := old
	if changed {
		newCkpt = intradayCheckpoint(rev+1, newID)
	}
	c, err := e.intradayCommit(shard, old, newCkpt, newID, updates, dead, now, &st)
	if err != nil {
		return st, fmt.Errorf("intraday shard %d: %w", shard, err)
	}
	reopened := int64(-1)
	for _, u := range updates {
		if u.reopened >= 0 && (reopened < 0 || u.reopened < reopened) {
			reopened = u.reopened
		}
	}
	if reopened >= 0 {
		c.op("HMIN", keys.Amended(shard), amendedEarliest, reopened)
	}
	res, err := c.run(ctx, e, "intraday", now)
	if err != nil {
		return st, fmt.Errorf("intraday shard %d: commit: %w", shard, err)
	}
	if err := e.step("commit"); err != nil {
		return st, err
	}
	if res == 0 {
		return st, fmt.Errorf("intraday shard %d: %w", shard, ErrConflict)
	}
	e.states.put(shard, newCkpt, cached, updates)
	return st, nil
}

// The Intraday checkpoint is "REV|ID": the last stream entry consumed, and
// a revision that every commit increments. The commit is guarded by the
// whole value, so a run that read nothing new still cannot overwrite a
// commit made meanwhile (the ID alone would not change), and the worker's
// state cache knows exactly which commit its states belong to.

func parseIntradayCheckpoint(v string) (rev int64, id string, err error) {
	if v == "" {
		return 0, "", nil
	}
	r, id, ok := strings.Cut(v, "|")
	if !ok {
		return 0, v, nil // a bare stream ID (written before revisions): revision 0
	}
	if rev, err = strconv.ParseInt(r, 10, 64); err != nil {
		return 0, "", fmt.Errorf("bad checkpoint %q: %w", v, err)
	}
	return rev, id, nil
}

func intradayCheckpoint(rev int64, id string) string {
	return strconv.FormatInt(rev, 10) + "|" + id
}

// streamEntry is one stream entry as XRANGE returns it: its ID and its
// flat field, value list. Intraday reads entries this way rather than as
// go-redis XMessages, which build a map per entry: at 100,000 ticks a
// second the maps were most of a run's garbage.
type streamEntry struct {
	id    string
	pairs []any
}

// fields returns the entry's fields as a map (for dead letters).
func (m streamEntry) fields() map[string]any {
	out := make(map[string]any, len(m.pairs)/2)
	for i := 0; i+1 < len(m.pairs); i += 2 {
		if k, ok := m.pairs[i].(string); ok {
			out[k] = m.pairs[i+1]
		}
	}
	return out
}

// entryOf converts a go-redis stream message.
func entryOf(m redis.XMessage) streamEntry {
	pairs := make([]any, 0, 2*len(m.Values))
	for _, k := range sortedKeys(m.Values) {
		pairs = append(pairs, k, m.Values[k])
	}
	return streamEntry{id: m.ID, pairs: pairs}
}

// xrange reads up to count entries of a stream from start on.
func xrange(ctx context.Context, rdb redis.UniversalClient, key, start string, count int) ([]streamEntry, error) {
	cmd := redis.NewSliceCmd(ctx, "XRANGE", key, start, "+", "COUNT", count)
	if err := rdb.Process(ctx, cmd); err != nil {
		return nil, err
	}
	out := make([]streamEntry, 0, len(cmd.Val()))
	for _, v := range cmd.Val() {
		e, ok := v.([]any)
		if !ok || len(e) != 2 {
			return nil, fmt.Errorf("XRANGE %s: unexpected entry %v", key, v)
		}
		id, _ := e[0].(string)
		pairs, _ := e[1].([]any)
		out = append(out, streamEntry{id: id, pairs: pairs})
	}
	return out, nil
}

// loadStates puts the states of syms into updates: from cached when it
// has them, else read from Redis.
func (e *Engine) loadStates(ctx context.Context, shard int, updates map[string]*symbolUpdate, syms []string, cached map[string]*SymbolState) error {
	need := syms[:0:0]
	for _, sym := range syms {
		if st, ok := cached[sym]; ok {
			updates[sym] = newUpdate(st, true)
			continue
		}
		need = append(need, sym)
	}
	if len(need) == 0 {
		return nil
	}
	vals, err := hmgetStrings(ctx, e.rdb, keys.Intraday(shard), need)
	if err != nil {
		return err
	}
	for i, sym := range need {
		st := &SymbolState{Symbol: sym}
		loaded := vals[i] != ""
		if loaded {
			if err := json.Unmarshal([]byte(vals[i]), st); err != nil {
				return fmt.Errorf("decode state of %s: %w", sym, err)
			}
		} else if in, ok := e.instr.Get(sym); ok {
			st.Market = string(in.Market)
		}
		updates[sym] = newUpdate(st, loaded)
	}
	return nil
}

// intradayCommit builds the commit of one run.
func (e *Engine) intradayCommit(shard int, old, newCkpt, newID string, updates map[string]*symbolUpdate, dead []deadLetter, now time.Time, st *IntradayStats) (*commit, error) {
	c := newCommit(keys.Checkpoints(shard), ckptIntraday, old, newCkpt)
	syms := make([]string, 0, len(updates))
	for s := range updates {
		syms = append(syms, s)
	}
	sort.Strings(syms)
	var changed []string
	for _, sym := range syms {
		u := updates[sym]
		s := u.state
		if !u.dirty {
			continue
		}
		changed = append(changed, sym)
		js, err := json.Marshal(s)
		if err != nil {
			return nil, fmt.Errorf("encode state of %s: %w", sym, err)
		}
		c.op("HSET", keys.Intraday(shard), sym, js)
		if u.openChanged() {
			if s.Bar != nil {
				c.op("ZADD", keys.OpenBars(shard), s.Bar.End(), sym)
			} else {
				c.op("ZREM", keys.OpenBars(shard), sym)
			}
		}
		for _, start := range sortedStarts(u.flush) {
			b := u.bar(start)
			if b == nil {
				continue
			}
			bj, _ := json.Marshal(b)
			c.op("XADD", keys.ClosedBars(shard), "*", "symbol", sym, "market", s.Market, "bar", bj)
			if b.Revision == 1 {
				st.BarsClosed++
			} else {
				st.BarsAmended++
			}
		}
		expiring := map[string]bool{}
		for _, start := range sortedStarts(u.minute) {
			b := u.bar(start)
			if b == nil {
				continue
			}
			bj, _ := json.Marshal(b)
			hour := start / hourMS
			mk := keys.MinuteBars(shard, sym, hour)
			if u.flush[start] && b.Revision == 1 {
				c.op("ZADD", mk, start, bj) // closed for the first time: nothing to replace
			} else {
				c.op("ZREP", mk, start, bj)
			}
			if !expiring[mk] {
				// Relative to the run's own time, so a backfill of old
				// trades keeps its bars as a live run does.
				ttl := (hour+1)*hourMS + minuteBarRetention.Milliseconds() - now.UnixMilli()
				c.op("PEXPIRE", mk, max(ttl, hourMS))
				expiring[mk] = true
			}
		}
		dk := keys.DailyBars(shard, sym)
		for _, label := range sortedKeys(u.daily) {
			if f := s.figures(label); f != nil {
				fj, _ := json.Marshal(f)
				c.op("HSET", dk, label, fj)
				// The flush makes the finished session durable too.
				c.op("XADD", keys.ClosedBars(shard), "*", "symbol", sym, "market", s.Market, closedSessionField, fj)
				st.SessionsFinished++
			}
		}
		if u.rolled {
			if d, err := market.ParseDate(s.Cur.Session); err == nil {
				c.op("HDELBEFORE", dk, d.AddDays(-dailyRetentionDays).String())
			}
		}
	}
	if err := announceUpdate(c, shard, changed); err != nil {
		return nil, err
	}
	e.writeDeadLetters(commitDeadLetters{c}, shard, dead, now)
	if newID != "" && st.Read > 0 {
		c.op("XTRIMMINID", keys.Ticks(shard), newID)
	}
	if st.CaughtUp {
		c.op("HSET", keys.Checkpoints(shard), ckptIntradayAt, now.UnixMilli())
	}
	return c, nil
}

func sortedStarts(m map[int64]bool) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
