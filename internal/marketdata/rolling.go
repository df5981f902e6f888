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

// Rolling are a symbol's figures over the 24 hours of 1-minute bars that
// start in [At-24h, At), At being a whole minute.
type Rolling struct {
	Symbol    string           `json:"symbol"`
	At        time.Time        `json:"at"`
	Open      decimal.Dec      `json:"open"`
	High      decimal.Dec      `json:"high"`
	Low       decimal.Dec      `json:"low"`
	Last      decimal.Dec      `json:"last"`
	Volume    decimal.Dec      `json:"volume"`
	Notional  decimal.Notional `json:"-"`
	VWAP      string           `json:"vwap"`
	Trades    int64            `json:"trades"`
	Change    decimal.Dec      `json:"change"`     // Last - Open
	ChangePct string           `json:"change_pct"` // 100 × Change / Open, 6 places
	Bars      int              `json:"bars"`
}

// ChangePctPlaces is how many decimal places ChangePct is rounded to (half
// to even).
const ChangePctPlaces = 6

// TwentyFourHour recomputes each of a shard's symbols' true rolling 24 h
// window at the last whole minute before now, from its 1-minute bars. A
// symbol without a bar in the window has no figures.
func (e *Engine) TwentyFourHour(ctx context.Context, shard int, now time.Time) ([]Rolling, error) {
	if err := e.checkShard(shard); err != nil {
		return nil, err
	}
	at := floorMinute(now.UnixMilli())
	from := at - 24*60*minuteMS
	syms := e.byShard[shard]
	pipe := e.rdb.Pipeline()
	cmds := make([]*redis.StringSliceCmd, len(syms))
	for i, sym := range syms {
		cmds[i] = pipe.ZRangeByScore(ctx, keys.MinuteBars(shard, sym), &redis.ZRangeBy{
			Min: strconv.FormatInt(from, 10), Max: "(" + strconv.FormatInt(at, 10)})
	}
	stateCmd := pipe.HMGet(ctx, keys.Intraday(shard), syms...)
	if len(syms) == 0 {
		return nil, nil
	}
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		return nil, fmt.Errorf("24h shard %d: read bars: %w", shard, err)
	}
	states := stateCmd.Val()
	var out []Rolling
	write := e.rdb.Pipeline()
	for i, sym := range syms {
		r := Rolling{Symbol: sym, At: time.UnixMilli(at).UTC()}
		add := func(b *Bar) {
			if r.Bars == 0 {
				r.Open, r.High, r.Low = b.Open, b.High, b.Low
			}
			r.High, r.Low, r.Last = max(r.High, b.High), min(r.Low, b.Low), b.Close
			r.Volume += b.Volume
			r.Notional = r.Notional.Add(b.Notional)
			r.Trades += b.Trades
			r.Bars++
		}
		lastStart := int64(-1)
		for _, raw := range cmds[i].Val() {
			var b Bar
			if err := json.Unmarshal([]byte(raw), &b); err != nil {
				return nil, fmt.Errorf("24h shard %d: decode bar of %s: %w", shard, sym, err)
			}
			add(&b)
			lastStart = b.Start
		}
		// The open bar counts once its minute is over, even if Intraday
		// has not closed it yet.
		if s, ok := states[i].(string); ok {
			var st SymbolState
			if err := json.Unmarshal([]byte(s), &st); err == nil && st.Bar != nil &&
				st.Bar.Start >= from && st.Bar.Start < at && st.Bar.Start > lastStart {
				add(st.Bar)
			}
		}
		if r.Bars == 0 {
			write.HDel(ctx, keys.Rolling24h(shard), sym)
			continue
		}
		r.VWAP = decimal.VWAP(r.Notional, r.Volume)
		r.Change = r.Last - r.Open
		r.ChangePct = decimal.Percent(r.Change, r.Open, ChangePctPlaces)
		js, _ := json.Marshal(r)
		write.HSet(ctx, keys.Rolling24h(shard), sym, js)
		out = append(out, r)
	}
	if _, err := write.Exec(ctx); err != nil {
		return nil, fmt.Errorf("24h shard %d: write: %w", shard, err)
	}
	return out, nil
}
