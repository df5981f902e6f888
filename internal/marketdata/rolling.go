package marketdata

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
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
	ChangePct string           `json:"change_pct"` // 100 × Change / Open, ChangePctPlaces places
	Bars      int              `json:"bars"`
}

// ChangePctPlaces is how many decimal places ChangePct is rounded to (half
// to even).
const ChangePctPlaces = 6

const dayMS = 24 * 60 * minuteMS

// window is one symbol's bars inside its rolling 24 h window, kept in the
// worker between runs so a run reads only the bars that are new or may
// have been amended since. It is a cache: a worker that has none, or one
// from too long ago, reads the whole window from Redis.
type window struct {
	bars []Bar // by start
	at   int64 // the At of the run that built it
}

// rollingCache holds the windows of the symbols this worker computed.
type rollingCache struct {
	mu sync.Mutex
	w  map[string]*window
}

func (c *rollingCache) get(sym string) *window {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.w[sym]
}

func (c *rollingCache) put(sym string, w *window) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.w == nil {
		c.w = map[string]*window{}
	}
	c.w[sym] = w
}

// TwentyFourHour computes each of a shard's symbols' true rolling 24 h
// window at At, the last whole minute at or before now: the 1-minute bars
// starting in [At-24h, At). A symbol without a bar in the window has no
// figures.
func (e *Engine) TwentyFourHour(ctx context.Context, shard int, now time.Time) ([]Rolling, error) {
	if err := e.checkShard(shard); err != nil {
		return nil, err
	}
	syms := e.byShard[shard]
	if len(syms) == 0 {
		return nil, nil
	}
	at := floorMinute(now.UnixMilli())
	from := at - dayMS
	// Bars older than the newest cached bar minus the late window cannot
	// have changed: read only from there.
	slack := e.set.LateWindow.Milliseconds() + minuteMS
	pipe := e.rdb.Pipeline()
	reads := make([]func() ([]Bar, error), len(syms))
	cached := make([]*window, len(syms))
	for i, sym := range syms {
		readFrom := from
		if w := e.rolling.get(sym); w != nil && w.at <= at && w.at > from {
			cached[i] = w
			if n := len(w.bars); n > 0 {
				readFrom = max(from, w.bars[n-1].Start-slack)
			} else {
				readFrom = max(from, w.at-slack)
			}
		}
		reads[i] = queueMinuteBars(ctx, pipe, shard, sym, readFrom, at)
	}
	stateCmd := pipe.HMGet(ctx, keys.Intraday(shard), syms...)
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		return nil, fmt.Errorf("24h shard %d: read bars: %w", shard, err)
	}
	states := stateCmd.Val()
	var out []Rolling
	write := e.rdb.Pipeline()
	for i, sym := range syms {
		w := &window{at: at}
		if cached[i] != nil {
			w.bars = append(w.bars, cached[i].bars...)
		}
		fresh, err := reads[i]()
		if err != nil {
			return nil, fmt.Errorf("24h shard %d: %w", shard, err)
		}
		for _, b := range fresh {
			w.upsert(b)
		}
		w.evict(from)
		e.rolling.put(sym, w)

		bs := w.bars
		// The open bar counts once its minute is over, even if Intraday
		// has not closed it yet.
		if s, ok := states[i].(string); ok {
			var st SymbolState
			if err := json.Unmarshal([]byte(s), &st); err == nil && st.Bar != nil && st.Bar.Start >= from && st.Bar.Start < at &&
				(len(bs) == 0 || st.Bar.Start > bs[len(bs)-1].Start) {
				bs = append(bs[:len(bs):len(bs)], *st.Bar)
			}
		}
		r, ok := aggregate(sym, at, bs)
		if !ok {
			write.HDel(ctx, keys.Rolling24h(shard), sym)
			continue
		}
		js, _ := json.Marshal(r)
		write.HSet(ctx, keys.Rolling24h(shard), sym, js)
		out = append(out, r)
	}
	if _, err := write.Exec(ctx); err != nil {
		return nil, fmt.Errorf("24h shard %d: write: %w", shard, err)
	}
	return out, nil
}

// upsert adds a bar, replacing a kept one with the same start.
func (w *window) upsert(b Bar) {
	i := sort.Search(len(w.bars), func(i int) bool { return w.bars[i].Start >= b.Start })
	if i < len(w.bars) && w.bars[i].Start == b.Start {
		w.bars[i] = b
		return
	}
	w.bars = append(w.bars, Bar{})
	copy(w.bars[i+1:], w.bars[i:])
	w.bars[i] = b
}

// evict drops the bars that start before from.
func (w *window) evict(from int64) {
	i := sort.Search(len(w.bars), func(i int) bool { return w.bars[i].Start >= from })
	w.bars = append(w.bars[:0:0], w.bars[i:]...)
}

// aggregate sums a window's bars.
func aggregate(sym string, at int64, bs []Bar) (Rolling, bool) {
	r := Rolling{Symbol: sym, At: time.UnixMilli(at).UTC()}
	for i := range bs {
		b := &bs[i]
		if r.Bars == 0 {
			r.Open, r.High, r.Low = b.Open, b.High, b.Low
		}
		r.High, r.Low, r.Last = max(r.High, b.High), min(r.Low, b.Low), b.Close
		r.Volume += b.Volume
		r.Notional = r.Notional.Add(b.Notional)
		r.Trades += b.Trades
		r.Bars++
	}
	if r.Bars == 0 {
		return r, false
	}
	r.VWAP = decimal.VWAP(r.Notional, r.Volume)
	r.Change = r.Last - r.Open
	r.ChangePct = decimal.Percent(r.Change, r.Open, ChangePctPlaces)
	return r, true
}
