package marketdata

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"heartbeat/internal/decimal"
	"heartbeat/internal/keys"
)

// VwapPoint is a symbol's session VWAP, cumulative volume and last price as
// of the end of one minute of its session.
type VwapPoint struct {
	Symbol  string      `json:"symbol"`
	Minute  time.Time   `json:"minute"` // start of the minute
	Session string      `json:"session"`
	VWAP    string      `json:"vwap"`
	Volume  decimal.Dec `json:"volume"`
	Last    decimal.Dec `json:"last"`
}

// vwapMaxCatchUp bounds how many minutes one run captures after a gap.
const vwapMaxCatchUp = 24 * 60

// VwapMinuteCapture records, for each minute that is final and not yet
// captured, each in-session symbol's session VWAP, cumulative volume and
// last price at the minute's end, from the session totals the 1-minute
// bars carry. A minute is final once it ended at least ingest.late_window
// before both now and the last Intraday run that caught up with its
// stream. A minute without a trade repeats the symbol's last point of the
// same session; a symbol appears from its session's first trade on. The
// points and the captured-through checkpoint are committed together, so a
// repeated run captures nothing twice.
func (e *Engine) VwapMinuteCapture(ctx context.Context, shard int, now time.Time) ([]VwapPoint, error) {
	if err := e.checkShard(shard); err != nil {
		return nil, err
	}
	pipe := e.rdb.Pipeline()
	ckptCmd := pipe.HMGet(ctx, keys.Checkpoints(shard), ckptVwap, ckptIntradayAt)
	amendedCmd := pipe.HGet(ctx, keys.Amended(shard), amendedEarliest)
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		return nil, fmt.Errorf("vwap shard %d: read checkpoint: %w", shard, err)
	}
	ck := ckptCmd.Val()
	old, _ := ck[0].(string)
	intradayAt, _ := ck[1].(string)
	recapture := amendedCmd.Val() // "" when Intraday amended nothing since the last capture
	caught, err := strconv.ParseInt(intradayAt, 10, 64)
	if err != nil {
		return nil, nil // Intraday has not caught up with this shard yet
	}
	final := floorMinute(min(now.UnixMilli(), caught)-e.set.LateWindow.Milliseconds()) - minuteMS
	floor := final - (vwapMaxCatchUp-1)*minuteMS
	from, last := final, int64(-1)
	if old != "" {
		if last, err = strconv.ParseInt(old, 10, 64); err != nil {
			return nil, fmt.Errorf("vwap shard %d: bad checkpoint %q: %w", shard, old, err)
		}
		from = max(last+minuteMS, floor)
		// A late tick amended minutes already captured: capture them again.
		if r, err := strconv.ParseInt(recapture, 10, 64); err == nil && r <= last {
			from = max(min(from, r), floor)
		}
		final = max(final, last)
	}
	if from > final {
		return nil, nil
	}
	if err := e.step("read_checkpoint"); err != nil {
		return nil, err
	}
	syms := e.byShard[shard]
	pipe = e.rdb.Pipeline()
	reads := make([]func() ([]Bar, error), len(syms))
	for i, sym := range syms {
		reads[i] = queueMinuteBars(ctx, pipe, shard, sym, from, final+minuteMS)
	}
	lastCmd := pipe.HMGet(ctx, keys.VwapLast(shard), syms...)
	// When capturing again, each symbol's point before the first minute
	// is the one to carry, not the newest.
	before := make([]*redis.StringSliceCmd, len(syms))
	if from <= last {
		for i, sym := range syms {
			before[i] = pipe.ZRevRangeByScore(ctx, keys.VwapSeries(shard, sym), &redis.ZRangeBy{
				Max: "(" + strconv.FormatInt(from, 10), Min: "-inf", Count: 1})
		}
	}
	if len(syms) > 0 {
		if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
			return nil, fmt.Errorf("vwap shard %d: read bars: %w", shard, err)
		}
	}
	if err := e.step("read_bars"); err != nil {
		return nil, err
	}

	c := newCommit(keys.Checkpoints(shard), ckptVwap, old, strconv.FormatInt(final, 10))
	if recapture != "" {
		// Taken: cleared unless Intraday lowered it since it was read.
		c.op("HDELIFEQ", keys.Amended(shard), amendedEarliest, recapture)
	}
	trim := from/hourMS != final/hourMS || from%hourMS == 0 // about once an hour
	var points []VwapPoint
	lasts := lastCmd.Val()
	for i, sym := range syms {
		in, _ := e.instr.Get(sym)
		bs, err := reads[i]()
		if err != nil {
			return nil, fmt.Errorf("vwap shard %d: %w", shard, err)
		}
		var cur *VwapPoint // the newest point, carried over minutes without a trade
		raw, ok := lasts[i].(string)
		if before[i] != nil {
			raw, ok = "", false
			if v := before[i].Val(); len(v) > 0 {
				raw, ok = v[0], true
			}
		}
		if ok {
			cur = &VwapPoint{}
			if err := json.Unmarshal([]byte(raw), cur); err != nil {
				return nil, fmt.Errorf("vwap shard %d: decode last point of %s: %w", shard, sym, err)
			}
		}
		finder := sessionFinder{cal: in.Calendar}
		key := keys.VwapSeries(shard, sym)
		wrote := false
		j := 0
		for m := from; m <= final; m += minuteMS {
			for ; j < len(bs) && bs[j].Start <= m; j++ {
				if b := bs[j]; b.Session != "" {
					cur = &VwapPoint{Session: b.Session, VWAP: decimal.VWAP(b.CumNotional, b.CumVolume), Volume: b.CumVolume, Last: b.Close}
				}
			}
			label := finder.at(time.UnixMilli(m))
			if label == "" || cur == nil || cur.Session != label {
				continue
			}
			p := *cur
			p.Symbol, p.Minute = sym, time.UnixMilli(m).UTC()
			js, _ := json.Marshal(p)
			if m <= last {
				c.op("ZREP", key, m, js) // captured before a late tick amended it
			} else {
				c.op("ZADD", key, m, js) // a new minute: the checkpoint says it was never captured
			}
			points = append(points, p)
			cur, wrote = &p, true
		}
		if wrote {
			js, _ := json.Marshal(cur)
			c.op("HSET", keys.VwapLast(shard), sym, js)
			if trim {
				c.op("ZTRIM", key, e.vwapKeepFrom(finder, final))
			}
		}
	}
	if err := e.step("compute"); err != nil {
		return nil, err
	}
	res, err := c.run(ctx, e, "vwap", now)
	if err != nil {
		return nil, fmt.Errorf("vwap shard %d: commit: %w", shard, err)
	}
	if err := e.step("commit"); err != nil {
		return nil, err
	}
	if res == 0 {
		return nil, fmt.Errorf("vwap shard %d: %w", shard, ErrConflict)
	}
	return points, nil
}

// vwapKeepFrom is the oldest minute a VWAP series keeps: the open of the
// session in progress at the newest minute, minus analytics.vwap_keep_days
// calendar days.
func (e *Engine) vwapKeepFrom(f sessionFinder, newest int64) int64 {
	t := time.UnixMilli(newest)
	s, err := f.cal.SessionAt(t)
	if err != nil || s.Open.After(t) {
		if prev, perr := f.cal.PreviousSession(t); perr == nil {
			s = prev
		}
	}
	open := s.Open
	if open.IsZero() {
		open = t
	}
	return open.In(f.cal.Location()).AddDate(0, 0, -e.set.VwapKeepDays).UnixMilli()
}
