package marketdata

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"heartbeat/internal/keys"
	"heartbeat/internal/market"
)

// Composite is a market's weighted composite of its instruments' changes.
type Composite struct {
	Market    string    `json:"market"`
	Session   string    `json:"session"`
	FromOpen  float64   `json:"change_from_open_pct"` // weighted % change from each session open
	FromPrev  float64   `json:"change_from_prev_pct"` // weighted % change from each previous close
	HasPrev   bool      `json:"has_prev"`             // at least one instrument has a previous close
	Up        int       `json:"up"`                   // instruments above their previous close (or open)
	Down      int       `json:"down"`
	Unchanged int       `json:"unchanged"`
	Traded    int       `json:"traded"`             // instruments with a trade this session
	OpenHigh  float64   `json:"from_open_high_pct"` // session high of FromOpen
	OpenLow   float64   `json:"from_open_low_pct"`
	PrevHigh  float64   `json:"from_prev_high_pct"`
	PrevLow   float64   `json:"from_prev_low_pct"`
	AsOf      time.Time `json:"as_of"`
}

// metricsScript writes a market's composite and keeps its session high and
// low: they restart when the session label changes. A composite with no
// traded instrument (or no previous close, for the change from the
// previous close) is undefined and does not enter the high and low.
//
// KEYS[1]: the market's metrics hash.
// ARGV: session, from_open, from_prev, has_prev (1/0), up, down,
// unchanged, traded, as_of.
// Result: {open_high, open_low, prev_high, prev_low} as strings.
var metricsScript = redis.NewScript(`
local k = KEYS[1]
local same = redis.call('HGET', k, 'session') == ARGV[1]
local o, p = tonumber(ARGV[2]), tonumber(ARGV[3])
local oh, ol, ph, pl = o, o, p, p
if same then
  if ARGV[8] ~= '0' and redis.call('HGET', k, 'traded') ~= '0' then
    oh = math.max(o, tonumber(redis.call('HGET', k, 'from_open_high_pct') or o))
    ol = math.min(o, tonumber(redis.call('HGET', k, 'from_open_low_pct') or o))
  end
  if ARGV[4] == '1' and redis.call('HGET', k, 'has_prev') == '1' then
    ph = math.max(p, tonumber(redis.call('HGET', k, 'from_prev_high_pct') or p))
    pl = math.min(p, tonumber(redis.call('HGET', k, 'from_prev_low_pct') or p))
  end
end
redis.call('HSET', k, 'session', ARGV[1], 'change_from_open_pct', ARGV[2], 'change_from_prev_pct', ARGV[3],
  'has_prev', ARGV[4], 'up', ARGV[5], 'down', ARGV[6], 'unchanged', ARGV[7], 'traded', ARGV[8], 'as_of', ARGV[9],
  'from_open_high_pct', tostring(oh), 'from_open_low_pct', tostring(ol),
  'from_prev_high_pct', tostring(ph), 'from_prev_low_pct', tostring(pl))
return {tostring(oh), tostring(ol), tostring(ph), tostring(pl)}
`)

// MarketMetrics computes, per market, the weighted composite of its
// instruments' change from the session open and from the previous close,
// how many are up and down, and the composite's session high and low.
// Weights come from config; an instrument without a trade this session is
// left out of the composite.
func (e *Engine) MarketMetrics(ctx context.Context, now time.Time) (map[market.Code]Composite, error) {
	states, err := e.allStates(ctx)
	if err != nil {
		return nil, fmt.Errorf("market metrics: %w", err)
	}
	out := map[market.Code]Composite{}
	for _, code := range e.instr.Markets() {
		cal, _ := e.instr.Book().Lookup(code)
		label, err := currentLabel(cal, now)
		if err != nil {
			e.calendarWarn(code, err, now, "market metrics: market skipped")
			continue
		}
		c := Composite{Market: string(code), Session: label, AsOf: now.UTC()}
		var wOpen, wPrev float64
		for _, in := range e.instr.OfMarket(code) {
			st := states[in.Symbol]
			f := figuresFor(st, label)
			if f == nil || f.Trades == 0 {
				continue
			}
			c.Traded++
			last, open := f.Last.Float64(), f.Open.Float64()
			c.FromOpen += in.Weight * (last - open) / open * 100
			wOpen += in.Weight
			ref := open
			if f == &st.Cur && st.PrevClose > 0 {
				prev := st.PrevClose.Float64()
				c.FromPrev += in.Weight * (last - prev) / prev * 100
				wPrev += in.Weight
				ref = prev
			}
			switch {
			case last > ref:
				c.Up++
			case last < ref:
				c.Down++
			default:
				c.Unchanged++
			}
		}
		if wOpen > 0 {
			c.FromOpen /= wOpen
		}
		if wPrev > 0 {
			c.FromPrev /= wPrev
			c.HasPrev = true
		}
		hasPrev := "0"
		if c.HasPrev {
			hasPrev = "1"
		}
		res, err := metricsScript.Run(ctx, e.rdb, []string{keys.MarketMetrics(string(code))},
			label, fmtPct(c.FromOpen), fmtPct(c.FromPrev), hasPrev, c.Up, c.Down, c.Unchanged, c.Traded,
			now.UTC().Format(time.RFC3339Nano)).StringSlice()
		if err != nil {
			return nil, fmt.Errorf("market metrics %s: %w", code, err)
		}
		c.OpenHigh, _ = strconv.ParseFloat(res[0], 64)
		c.OpenLow, _ = strconv.ParseFloat(res[1], 64)
		c.PrevHigh, _ = strconv.ParseFloat(res[2], 64)
		c.PrevLow, _ = strconv.ParseFloat(res[3], 64)
		out[code] = c
	}
	return out, nil
}

func fmtPct(v float64) string { return strconv.FormatFloat(v, 'f', 6, 64) }
