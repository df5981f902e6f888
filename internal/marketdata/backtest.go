package marketdata

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"heartbeat/internal/bars"
	"heartbeat/internal/decimal"
	"heartbeat/internal/keys"
	"heartbeat/internal/market"
)

// Backtest is how often the open signal worked for one instrument over its
// last N sessions, stored for the coming session.
//
// The signal: buy at the session's opening price if the pre-open price (the
// last trade before the open, after the previous session's close; without
// one, the opening trade itself) is above the previous session's close,
// else sell. A trade worked if the target was reached before the stop,
// failed if the stop was reached first (or both within the same minute:
// the order inside a bar is unknown, so the stop is assumed first), and
// neither if the session closed first.
type Backtest struct {
	Symbol     string  `json:"symbol"`
	Market     string  `json:"market"`
	Session    string  `json:"session"` // the coming session
	Lookback   int     `json:"lookback"`
	Evaluated  int     `json:"evaluated"` // sessions with enough bars
	Worked     int     `json:"worked"`
	Failed     int     `json:"failed"`
	Neither    int     `json:"neither"`
	WorkedPct  float64 `json:"worked_pct"`
	FailedPct  float64 `json:"failed_pct"`
	NeitherPct float64 `json:"neither_pct"`
	Target     string  `json:"target"`
	Stop       string  `json:"stop"`
	// Signal is today's signal for the coming session: buy, sell, or ""
	// when there is no previous close yet.
	Signal    string      `json:"signal"`
	PreOpen   decimal.Dec `json:"pre_open"`
	PrevClose decimal.Dec `json:"prev_close"`
	AsOf      time.Time   `json:"as_of"`
}

// backtestTTL is how long a stored result is kept.
const backtestTTL = 7 * 24 * time.Hour

// PreOpenBacktest runs the open-signal backtest for every instrument of a
// market ahead of its coming session, from the 1-minute bars in the durable
// store plus those still in Redis, and stores the results for that session.
func (e *Engine) PreOpenBacktest(ctx context.Context, code market.Code, coming market.Session, now time.Time) ([]Backtest, error) {
	cal, err := e.instr.Book().Lookup(code)
	if err != nil {
		return nil, err
	}
	n := e.set.BacktestSessions
	// N sessions to evaluate, and the one before the first for its close.
	past := make([]market.Session, 0, n+1)
	t := coming.Open.Add(-time.Nanosecond)
	for len(past) < n+1 {
		s, err := cal.PreviousSession(t)
		if err != nil {
			break // the calendar's coverage starts here
		}
		past = append(past, s)
		t = s.Open.Add(-time.Nanosecond)
	}
	sort.Slice(past, func(i, j int) bool { return past[i].Open.Before(past[j].Open) })

	var out []Backtest
	pipe := e.rdb.Pipeline()
	key := keys.Backtest(string(code), coming.Date.String())
	for _, in := range e.instr.OfMarket(code) {
		r := Backtest{Symbol: in.Symbol, Market: string(code), Session: coming.Date.String(), Lookback: n,
			Target: e.set.BacktestTarget.String(), Stop: e.set.BacktestStop.String(), AsOf: now.UTC()}
		if len(past) > 1 {
			bs, err := e.barsBetween(ctx, in.Symbol, past[0].Open, coming.Open)
			if err != nil {
				return nil, fmt.Errorf("backtest %s: %w", in.Symbol, err)
			}
			for i := 1; i < len(past); i++ {
				switch e.evaluate(bs, past[i-1], past[i]) {
				case outcomeWorked:
					r.Worked++
				case outcomeFailed:
					r.Failed++
				case outcomeNeither:
					r.Neither++
				default:
					continue
				}
				r.Evaluated++
			}
		}
		if r.Evaluated > 0 {
			r.WorkedPct = pct(r.Worked, r.Evaluated)
			r.FailedPct = pct(r.Failed, r.Evaluated)
			r.NeitherPct = pct(r.Neither, r.Evaluated)
		}
		st, ok, err := e.State(ctx, in.Symbol)
		if err != nil {
			return nil, err
		}
		if ok {
			r.PrevClose = st.PrevClose
			if st.Cur.Session != "" && st.Cur.Session < r.Session && st.Cur.Trades > 0 {
				r.PrevClose = st.Cur.Last
			}
			r.PreOpen = st.LastPrice
			if r.PrevClose > 0 && r.PreOpen > 0 {
				r.Signal = "sell"
				if r.PreOpen > r.PrevClose {
					r.Signal = "buy"
				}
			}
		}
		js, _ := json.Marshal(r)
		pipe.HSet(ctx, key, in.Symbol, js)
		out = append(out, r)
	}
	pipe.Expire(ctx, key, backtestTTL)
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("backtest %s: write: %w", code, err)
	}
	return out, nil
}

type outcome int

const (
	outcomeNoData outcome = iota
	outcomeWorked
	outcomeFailed
	outcomeNeither
)

// evaluate plays the open signal of session s, whose previous session is
// prev, over the bars (sorted by start).
func (e *Engine) evaluate(bs []bars.Bar, prev, s market.Session) outcome {
	var prevClose, preOpen decimal.Dec
	var session []bars.Bar
	for _, b := range bs {
		switch {
		case !b.Start.Before(prev.Open) && b.Start.Before(prev.Close):
			prevClose = b.Close
		case !b.Start.Before(prev.Close) && b.Start.Before(s.Open):
			preOpen = b.Close
		case !b.Start.Before(s.Open) && b.Start.Before(s.Close) && s.Contains(b.Start):
			session = append(session, b)
		}
	}
	if prevClose == 0 || len(session) == 0 {
		return outcomeNoData
	}
	entry := session[0].Open
	if preOpen == 0 {
		preOpen = entry
	}
	buy := preOpen > prevClose
	target := e.set.BacktestTarget.From(entry)
	stop := e.set.BacktestStop.From(entry)
	for _, b := range session {
		var hitTarget, hitStop bool
		if buy {
			hitTarget, hitStop = b.High >= entry+target, b.Low <= entry-stop
		} else {
			hitTarget, hitStop = b.Low <= entry-target, b.High >= entry+stop
		}
		switch {
		case hitStop:
			return outcomeFailed
		case hitTarget:
			return outcomeWorked
		}
	}
	return outcomeNeither
}

func pct(k, n int) float64 { return float64(k) * 100 / float64(n) }

// barsBetween returns a symbol's bars with start in [from, to): the durable
// store's merged with those still in Redis (MergeBars).
func (e *Engine) barsBetween(ctx context.Context, symbol string, from, to time.Time) ([]bars.Bar, error) {
	var stored []bars.Bar
	if e.store != nil {
		var err error
		if stored, err = e.store.Range(ctx, symbol, from, to); err != nil {
			return nil, err
		}
	}
	recent, err := e.MinuteBars(ctx, symbol, from, to)
	if err != nil {
		return nil, err
	}
	in, _ := e.instr.Get(symbol)
	merged := MergeBars(symbol, string(in.Market), recent, stored)
	out := make([]bars.Bar, len(merged))
	for i, b := range merged {
		out[i] = b.Bar
	}
	return out, nil
}
