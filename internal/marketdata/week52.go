package marketdata

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"heartbeat/internal/decimal"
	"heartbeat/internal/keys"
	"heartbeat/internal/market"
)

// Extremes are a symbol's 52-week high and low and the sessions that set
// them.
type Extremes struct {
	Symbol   string      `json:"symbol"`
	High     decimal.Dec `json:"high"`
	HighDate string      `json:"high_date"`
	Low      decimal.Dec `json:"low"`
	LowDate  string      `json:"low_date"`
	From     string      `json:"from"` // first session date of the window
	To       string      `json:"to"`   // the reference session date
	Sessions int         `json:"sessions"`
	AsOf     time.Time   `json:"as_of"`
}

// weekWindowDays is the trailing window: 52 weeks.
const weekWindowDays = 52 * 7

// Week52Extremes recomputes the 52-week extremes of a shard's symbols from
// their daily bars (the session aggregates Intraday keeps, today's session
// included) over the 52 weeks ending with the market's current or last
// session. A session that leaves the window no longer counts.
func (e *Engine) Week52Extremes(ctx context.Context, shard int, now time.Time) (map[string]Extremes, error) {
	if err := e.checkShard(shard); err != nil {
		return nil, err
	}
	syms := e.byShard[shard]
	type query struct {
		sym      string
		from, to market.Date
		cmd      *redis.MapStringStringCmd
	}
	if len(syms) == 0 {
		return nil, nil
	}
	pipe := e.rdb.Pipeline()
	stateCmd := pipe.HMGet(ctx, keys.Intraday(shard), syms...)
	var qs []query
	for _, sym := range syms {
		in, _ := e.instr.Get(sym)
		label, err := currentLabel(in.Calendar, now)
		if err != nil {
			e.calendarWarn(in.Market, err, now, "week52: no session to anchor the window; symbols skipped")
			continue
		}
		to, _ := market.ParseDate(label)
		from := to.AddDays(-(weekWindowDays - 1))
		qs = append(qs, query{sym, from, to, pipe.HGetAll(ctx, keys.DailyBars(shard, sym))})
	}
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		return nil, fmt.Errorf("week52 shard %d: read daily bars: %w", shard, err)
	}
	if err := stateCmd.Err(); err != nil && err != redis.Nil {
		return nil, fmt.Errorf("week52 shard %d: read states: %w", shard, err)
	}
	states := map[string]*SymbolState{}
	for i, v := range stateCmd.Val() {
		if raw, ok := v.(string); ok {
			st := &SymbolState{}
			if err := json.Unmarshal([]byte(raw), st); err != nil {
				return nil, fmt.Errorf("week52 shard %d: decode state of %s: %w", shard, syms[i], err)
			}
			states[syms[i]] = st
		}
	}
	out := map[string]Extremes{}
	write := e.rdb.Pipeline()
	for _, q := range qs {
		x := Extremes{Symbol: q.sym, From: q.from.String(), To: q.to.String(), AsOf: now.UTC()}
		days, err := sessionsOf(q.sym, q.cmd.Val(), states[q.sym])
		if err != nil {
			return nil, fmt.Errorf("week52 shard %d: %w", shard, err)
		}
		from, to := q.from.String(), q.to.String()
		for _, f := range days {
			if f.Trades == 0 || f.Session < from || f.Session > to {
				continue
			}
			// Ascending dates: ">" keeps the first session that set an
			// extreme when it is equalled later.
			if x.Sessions == 0 || f.High > x.High {
				x.High, x.HighDate = f.High, f.Session
			}
			if x.Sessions == 0 || f.Low < x.Low {
				x.Low, x.LowDate = f.Low, f.Session
			}
			x.Sessions++
		}
		if x.Sessions == 0 {
			write.HDel(ctx, keys.Week52(shard), q.sym)
			continue
		}
		js, _ := json.Marshal(x)
		write.HSet(ctx, keys.Week52(shard), q.sym, js)
		out[q.sym] = x
	}
	if _, err := write.Exec(ctx); err != nil {
		return nil, fmt.Errorf("week52 shard %d: write: %w", shard, err)
	}
	return out, nil
}
