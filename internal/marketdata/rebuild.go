package marketdata

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/redis/go-redis/v9"

	"heartbeat/internal/bars"
	"heartbeat/internal/keys"
	"heartbeat/internal/market"
)

// RebuildStats says what Rebuild restored.
type RebuildStats struct {
	Symbols    int // symbols that had anything restored
	DailyRows  int // daily bars written to Redis
	MinuteBars int // minute bars written to Redis
	States     int // intraday states restored
}

// rebuildLookback bounds how far back Rebuild reads minute bars to find a
// symbol's current session (one after its last stored finished session).
const rebuildLookback = 14

// rebuildAttempts is how often Rebuild retries a shard's state restore that
// raced with an Intraday run.
const rebuildAttempts = 5

// restoreScript writes a symbol's daily bars and minute bars from the
// store into Redis without ever replacing newer Redis data: a daily bar
// only where Redis has none for that session or one with fewer trades, a
// minute bar only where Redis has none at that start or a lower revision.
// A minute set it writes to, or that has no expiry, gets the jobs' expiry.
//
// KEYS[1]: the symbol's daily-bars hash; KEYS[2..]: its minute-bar sets
// (all with the shard's hash tag).
// ARGV: the number of daily bars, then per daily bar: label, JSON,
// trades; then per minute set (in KEYS order): bar count, expiry in ms,
// then per bar: start, JSON, revision.
// Result: {daily bars written, minute bars written}.
var restoreScript = redis.NewScript(`
local i, days, mins = 1, 0, 0
local nd = tonumber(ARGV[i]); i = i + 1
for _ = 1, nd do
  local label, js, trades = ARGV[i], ARGV[i+1], tonumber(ARGV[i+2]); i = i + 3
  local cur = redis.call('HGET', KEYS[1], label)
  if not cur or tonumber(cjson.decode(cur).trades) < trades then
    redis.call('HSET', KEYS[1], label, js); days = days + 1
  end
end
for k = 2, #KEYS do
  local nb, ttl = tonumber(ARGV[i]), ARGV[i+1]; i = i + 2
  local wrote = false
  for _ = 1, nb do
    local start, js, rev = ARGV[i], ARGV[i+1], tonumber(ARGV[i+2]); i = i + 3
    local cur = redis.call('ZRANGEBYSCORE', KEYS[k], start, start)
    if #cur == 0 or tonumber(cjson.decode(cur[1]).rev) < rev then
      redis.call('ZREMRANGEBYSCORE', KEYS[k], start, start)
      redis.call('ZADD', KEYS[k], start, js); mins = mins + 1; wrote = true
    end
  end
  if wrote or redis.call('PTTL', KEYS[k]) == -1 then redis.call('PEXPIRE', KEYS[k], ttl) end
end
return {days, mins}
`)

// Rebuild restores from the durable store what the computations keep only
// in Redis, after Redis lost some or all of its data: each configured
// symbol's daily bars of the last 53 weeks, its minute bars of the last
// 25 hours (with the expiry Intraday gives them), and, for a symbol with no
// intraday state, the state Intraday continues from (see restoreState).
//
// It never replaces newer Redis data: a daily bar only where Redis has none
// or one with fewer trades, a minute bar only where Redis has none or a
// lower revision, a state only where Redis has none (committed against the
// Intraday checkpoint like a run, so it cannot overwrite a run's state). So
// running it twice, or on a Redis that still has its data, changes
// nothing.
//
// What is not in the store cannot come back: ticks and closed bars not yet
// consumed or flushed when Redis lost them, checkpoints, the dead-letter
// stream, run history, and the derived figures, which the jobs recompute.
func (e *Engine) Rebuild(ctx context.Context, now time.Time) (RebuildStats, error) {
	var stats RebuildStats
	if e.store == nil {
		return stats, errors.New("rebuild: no durable store configured")
	}
	for shard := range e.set.Shards {
		if err := e.rebuildShard(ctx, shard, now, &stats); err != nil {
			return stats, fmt.Errorf("rebuild shard %d: %w", shard, err)
		}
	}
	return stats, nil
}

// restored is what the store holds for one symbol, shaped for Redis.
type restored struct {
	daily  []bars.Daily // finished sessions of the last 53 weeks
	window []Bar        // minute bars of the last 25 hours, by start
	state  *SymbolState // nil when the store has nothing to start from
}

func (e *Engine) rebuildShard(ctx context.Context, shard int, now time.Time, stats *RebuildStats) error {
	syms := e.byShard[shard]
	if len(syms) == 0 {
		return nil
	}
	touched := map[string]bool{}
	states := map[string]*SymbolState{}
	for _, sym := range syms {
		r, err := e.readRestore(ctx, sym, now)
		if err != nil {
			return err
		}
		days, mins, err := e.restoreBars(ctx, shard, sym, r, now)
		if err != nil {
			return err
		}
		stats.DailyRows += days
		stats.MinuteBars += mins
		if days+mins > 0 {
			touched[sym] = true
		}
		if r.state != nil {
			states[sym] = r.state
		}
	}
	restoredStates, err := e.restoreStates(ctx, shard, states, now)
	if err != nil {
		return err
	}
	for _, sym := range restoredStates {
		touched[sym] = true
	}
	stats.States += len(restoredStates)
	stats.Symbols += len(touched)
	return nil
}

// readRestore reads what the store holds for a symbol as of now.
func (e *Engine) readRestore(ctx context.Context, sym string, now time.Time) (restored, error) {
	var r restored
	in, _ := e.instr.Get(sym)
	cal := in.Calendar
	label, err := currentLabel(cal, now)
	if err != nil {
		return r, fmt.Errorf("%s: %w", sym, err)
	}
	to, _ := market.ParseDate(label)
	if r.daily, err = e.store.DailyRange(ctx, sym, to.AddDays(-dailyRetentionDays), to); err != nil {
		return r, err
	}

	// Read minute bars far enough back that every session with a bar in the
	// 25 h window is whole (its bars carry the session's running totals),
	// and that the current session is found even if it has not traded
	// for a while.
	windowFrom := now.Add(-minuteBarRetention)
	readFrom := windowFrom
	if s, err := cal.SessionAt(windowFrom); err == nil && s.Open.Before(readFrom) {
		readFrom = s.Open
	}
	lastDaily := ""
	if n := len(r.daily); n > 0 {
		lastDaily = r.daily[n-1].Session.String()
		if s, ok, err := cal.Session(r.daily[n-1].Session); err == nil && ok {
			if next, err := cal.SessionAt(s.Close); err == nil && next.Open.Before(readFrom) {
				readFrom = next.Open
			}
		}
	}
	readFrom = later(readFrom, now.AddDate(0, 0, -rebuildLookback))
	stored, err := e.store.Range(ctx, sym, readFrom, now)
	if err != nil {
		return r, err
	}

	finder := &sessionFinder{cal: cal}
	all := make([]Bar, len(stored))
	totals := map[string]*Bar{} // session -> running totals
	for i, b := range stored {
		session := finder.at(b.Start)
		all[i] = restoredBar(b, session)
		if session == "" {
			continue
		}
		t := totals[session]
		if t == nil {
			t = &Bar{}
			totals[session] = t
		}
		t.CumVolume += b.Volume
		t.CumTrades += b.Trades
		t.CumNotional = t.CumNotional.Add(b.Notional)
		all[i].CumVolume, all[i].CumTrades, all[i].CumNotional = t.CumVolume, t.CumTrades, t.CumNotional
	}
	for _, b := range all {
		if b.Start >= windowFrom.UnixMilli() {
			r.window = append(r.window, b)
		}
	}
	r.state = restoreState(sym, string(in.Market), r.daily, all, lastDaily, e.set.LateWindow)
	return r, nil
}

// restoreState rebuilds the intraday state Intraday would hold, from the
// stored finished sessions and the minute bars since the last of them
// (all by start, with session labels). The sessions are the stored ones,
// then those after the last of them summed from their in-session bars:
// Cur is the latest, Prev the one before and PrevClose its last price.
// LastPrice is the newest bar's close, and Recent the bars a late tick may
// still amend (as Intraday keeps them), with their stored revisions.
//
// Bars do not keep their trades' exact times, so the restored times are
// bounds: a bar's first trade at its start, its last trade at the end of
// its minute. Ticks, out-of-session counts and the open bar are not in the
// store and restart from zero.
func restoreState(sym, mkt string, daily []bars.Daily, all []Bar, lastDaily string, lateWindow time.Duration) *SymbolState {
	sessions := make([]Figures, 0, len(daily)+1)
	for _, d := range daily {
		sessions = append(sessions, figuresOf(d))
	}
	for _, b := range all {
		if b.Session <= lastDaily { // out of session, or already stored
			continue
		}
		n := len(sessions)
		if n == 0 || sessions[n-1].Session != b.Session {
			sessions = append(sessions, Figures{Session: b.Session, Open: b.Open, FirstTS: b.OpenTS, High: b.High, Low: b.Low})
			n++
		}
		f := &sessions[n-1]
		f.High, f.Low = max(f.High, b.High), min(f.Low, b.Low)
		f.Last, f.LastTS = b.Close, b.CloseTS
		f.Volume += b.Volume
		f.Trades += b.Trades
		f.Notional = f.Notional.Add(b.Notional)
	}
	if len(sessions) == 0 {
		return nil
	}
	st := &SymbolState{Symbol: sym, Market: mkt, Cur: sessions[len(sessions)-1]}
	if n := len(sessions); n > 1 {
		prev := sessions[n-2]
		st.Prev, st.PrevClose = &prev, prev.Last
	}
	st.LastPrice, st.LastTS = st.Cur.Last, st.Cur.LastTS
	if n := len(all); n > 0 {
		newest := all[n-1]
		st.LastPrice, st.LastTS = newest.Close, newest.CloseTS
		for _, b := range all {
			if b.End()+lateWindow.Milliseconds() >= st.LastTS {
				st.Recent = append(st.Recent, b)
			}
		}
	}
	return st
}

// restoredBar returns a stored bar as Intraday keeps it; its trades' times
// are the bounds of its minute.
func restoredBar(b bars.Bar, session string) Bar {
	start := b.Start.UnixMilli()
	return Bar{
		Start: start, Session: session, Open: b.Open, High: b.High, Low: b.Low, Close: b.Close,
		OpenTS: start, CloseTS: start + minuteMS - 1,
		Volume: b.Volume, Trades: b.Trades, Notional: b.Notional, Revision: b.Revision,
	}
}

// restoreBars writes a symbol's daily and minute bars with restoreScript.
func (e *Engine) restoreBars(ctx context.Context, shard int, sym string, r restored, now time.Time) (days, mins int, err error) {
	if len(r.daily) == 0 && len(r.window) == 0 {
		return 0, 0, nil
	}
	keyList := []string{keys.DailyBars(shard, sym)}
	args := []any{len(r.daily)}
	for _, d := range r.daily {
		f := figuresOf(d)
		js, _ := json.Marshal(&f)
		args = append(args, f.Session, js, f.Trades)
	}
	byHour := map[int64][]Bar{}
	var hours []int64
	for _, b := range r.window {
		h := b.Start / hourMS
		if _, ok := byHour[h]; !ok {
			hours = append(hours, h)
		}
		byHour[h] = append(byHour[h], b)
	}
	sort.Slice(hours, func(i, j int) bool { return hours[i] < hours[j] })
	for _, h := range hours {
		keyList = append(keyList, keys.MinuteBars(shard, sym, h))
		// Intraday's rule: 25 hours after the hour ends, at least an hour.
		ttl := (h+1)*hourMS + minuteBarRetention.Milliseconds() - now.UnixMilli()
		args = append(args, len(byHour[h]), max(ttl, hourMS))
		for _, b := range byHour[h] {
			js, _ := json.Marshal(&b)
			args = append(args, b.Start, js, b.Revision)
		}
	}
	res, err := restoreScript.Run(ctx, e.rdb, keyList, args...).Int64Slice()
	if err != nil {
		return 0, 0, fmt.Errorf("restore bars of %s: %w", sym, err)
	}
	return int(res[0]), int(res[1]), nil
}

// restoreStates writes the states of the symbols that have none in Redis,
// in one commit against the Intraday checkpoint (moving its revision, so a
// run that read the states before cannot commit over them, and no worker's
// state cache stays in use); on a conflict it reads again. It returns the
// symbols restored.
func (e *Engine) restoreStates(ctx context.Context, shard int, states map[string]*SymbolState, now time.Time) ([]string, error) {
	if len(states) == 0 {
		return nil, nil
	}
	syms := sortedKeys(states)
	for range rebuildAttempts {
		old, err := e.rdb.HGet(ctx, keys.Checkpoints(shard), ckptIntraday).Result()
		if err != nil && err != redis.Nil {
			return nil, fmt.Errorf("read checkpoint: %w", err)
		}
		rev, id, err := parseIntradayCheckpoint(old)
		if err != nil {
			return nil, err
		}
		have, err := hmgetStrings(ctx, e.rdb, keys.Intraday(shard), syms)
		if err != nil {
			return nil, fmt.Errorf("read states: %w", err)
		}
		c := newCommit(keys.Checkpoints(shard), ckptIntraday, old, intradayCheckpoint(rev+1, id))
		var missing []string
		for i, sym := range syms {
			if have[i] != "" {
				continue
			}
			js, err := json.Marshal(states[sym])
			if err != nil {
				return nil, fmt.Errorf("encode state of %s: %w", sym, err)
			}
			c.op("HSET", keys.Intraday(shard), sym, js)
			missing = append(missing, sym)
		}
		if len(missing) == 0 {
			return nil, nil
		}
		applied, err := c.run(ctx, e, "rebuild", now)
		if err != nil {
			return nil, fmt.Errorf("commit states: %w", err)
		}
		if applied == 1 {
			return missing, nil
		}
	}
	return nil, fmt.Errorf("restore states: %w", ErrConflict)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
