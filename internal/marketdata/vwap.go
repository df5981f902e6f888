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

// VwapMinuteCapture records, for each minute that is final (ended at least
// ingest.late_window ago) and not yet captured, each in-session symbol's
// session VWAP, cumulative volume and last price at the minute's end, from
// the 1-minute bars' session totals. The points and the captured-through
// checkpoint are committed together, so a repeated run captures nothing
// twice. A symbol appears from its session's first trade on.
func (e *Engine) VwapMinuteCapture(ctx context.Context, shard int, now time.Time) ([]VwapPoint, error) {
	if err := e.checkShard(shard); err != nil {
		return nil, err
	}
	final := floorMinute(now.Add(-e.set.LateWindow).UnixMilli()) - minuteMS
	old, err := e.rdb.HGet(ctx, keys.Checkpoints(shard), ckptVwap).Result()
	if err != nil && err != redis.Nil {
		return nil, fmt.Errorf("vwap shard %d: read checkpoint: %w", shard, err)
	}
	from := final
	if old != "" {
		last, err := strconv.ParseInt(old, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("vwap shard %d: bad checkpoint %q: %w", shard, old, err)
		}
		from = max(last+minuteMS, final-(vwapMaxCatchUp-1)*minuteMS)
	}
	if from > final {
		return nil, nil
	}
	if err := e.step("read_checkpoint"); err != nil {
		return nil, err
	}
	minutes := int((final-from)/minuteMS) + 1
	syms := e.byShard[shard]
	pipe := e.rdb.Pipeline()
	cmds := make([]*redis.StringSliceCmd, len(syms))
	for i, sym := range syms {
		cmds[i] = pipe.ZRevRangeByScore(ctx, keys.MinuteBars(shard, sym), &redis.ZRangeBy{
			Max: strconv.FormatInt(final, 10), Min: "-inf", Count: int64(minutes + 1)})
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
	var points []VwapPoint
	for i, sym := range syms {
		in, _ := e.instr.Get(sym)
		raw := cmds[i].Val() // newest first
		bs := make([]Bar, len(raw))
		for j, r := range raw {
			if err := json.Unmarshal([]byte(r), &bs[len(raw)-1-j]); err != nil {
				return nil, fmt.Errorf("vwap shard %d: decode bar of %s: %w", shard, sym, err)
			}
		}
		finder := sessionFinder{cal: in.Calendar}
		key := keys.VwapSeries(shard, sym)
		wrote := false
		j := -1 // index of the latest bar starting at or before m
		for m := from; m <= final; m += minuteMS {
			for j+1 < len(bs) && bs[j+1].Start <= m {
				j++
			}
			label := finder.at(time.UnixMilli(m))
			if label == "" || j < 0 || bs[j].Session != label {
				continue
			}
			b := bs[j]
			p := VwapPoint{Symbol: sym, Minute: time.UnixMilli(m).UTC(), Session: label,
				VWAP: decimal.VWAP(b.CumNotional, b.CumVolume), Volume: b.CumVolume, Last: b.Close}
			js, _ := json.Marshal(p)
			c.op("ZREP", key, m, js)
			points = append(points, p)
			wrote = true
		}
		if wrote {
			c.op("ZTRIM", key, e.vwapKeepFrom(finder, final))
		}
	}
	if err := e.step("compute"); err != nil {
		return nil, err
	}
	res, err := commitScript.Run(ctx, e.rdb, c.keys, c.args...).Int()
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
