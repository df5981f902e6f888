package marketdata

import (
	"sort"
	"time"

	"heartbeat/internal/market"
	"heartbeat/internal/ticks"
)

const minuteMS = int64(time.Minute / time.Millisecond)

// floorMinute returns the start of the minute containing ms.
func floorMinute(ms int64) int64 {
	m := ms - ms%minuteMS
	if ms < 0 && ms%minuteMS != 0 {
		m -= minuteMS
	}
	return m
}

// sessionFinder answers "which session, if any, is this instant in" for
// one market, remembering the last session found: ticks arrive in time
// order, so most lookups hit it.
type sessionFinder struct {
	cal   *market.Calendar
	last  market.Session
	label string // last.Date as a string
	err   error  // the last calendar error (an instant beyond its coverage)
}

// at returns the label of the session containing t (excluding its break),
// or "" when the market is closed at t or its calendar does not cover t.
func (f *sessionFinder) at(t time.Time) string {
	if !f.last.Open.IsZero() && !t.Before(f.last.Open) && t.Before(f.last.Close) {
		if f.last.Contains(t) {
			return f.label
		}
		return ""
	}
	s, err := f.cal.SessionAt(t)
	if err != nil {
		f.err = err
		return ""
	}
	f.last, f.label = s, s.Date.String()
	if s.Contains(t) {
		return f.label
	}
	return ""
}

// symbolUpdate is what one Intraday run changed for one symbol, and so
// what its commit must write.
type symbolUpdate struct {
	state     *SymbolState
	loaded    bool            // the state existed in Redis before this run
	openStart int64           // the open bar's start before this run (0: none)
	flush     map[int64]bool  // bars closed or amended: queue for the flush
	minute    map[int64]bool  // bars whose minute-bar entry must be (re)written
	daily     map[string]bool // finished sessions whose daily entry changed
	dirty     bool            // the state must be written back
	dropped   map[int64]Bar   // bars closed or amended this run, then dropped from Recent
	rolled    bool            // a new session started this run
	reopened  int64           // earliest in-session bar a late tick amended this run; -1: none
}

func newUpdate(s *SymbolState, loaded bool) *symbolUpdate {
	u := &symbolUpdate{state: s, loaded: loaded, flush: map[int64]bool{}, minute: map[int64]bool{}, daily: map[string]bool{}, reopened: -1}
	if s.Bar != nil {
		u.openStart = s.Bar.Start
	}
	return u
}

func (u *symbolUpdate) openChanged() bool {
	cur := int64(0)
	if u.state.Bar != nil {
		cur = u.state.Bar.Start
	}
	return cur != u.openStart
}

// applyTick folds one valid tick into a symbol's state. session is the
// label of the session containing the tick ("" outside every session). It
// returns false when the tick is too late to apply: its minute ended more
// than lateWindow before the newest tick seen for the symbol, or its
// session is older than the two the state keeps.
func (u *symbolUpdate) applyTick(t ticks.Tick, session string, lateWindow time.Duration) bool {
	s := u.state
	ts := t.Time.UnixMilli()
	m := floorMinute(ts)
	watermark := max(s.LastTS, ts)

	// Decide first, mutate after: a rejected tick must change nothing.
	latest := int64(-1 << 62)
	if s.Bar != nil {
		latest = s.Bar.Start
	} else if n := len(s.Recent); n > 0 {
		latest = s.Recent[n-1].Start
	}
	if m < latest && m+minuteMS+lateWindow.Milliseconds() < watermark {
		return false
	}
	var fig *Figures
	if session != "" {
		fig = s.figures(session)
		if fig == nil && session < s.Cur.Session {
			return false
		}
	}

	switch {
	case s.Bar != nil && m == s.Bar.Start:
		s.Bar.add(t.Price, t.Size, ts)
	case m > latest:
		u.closeOpenBar()
		s.Bar = &Bar{Start: m, Session: session}
		s.Bar.add(t.Price, t.Size, ts)
	default:
		b := s.recent(m)
		if b == nil {
			s.Recent = append(s.Recent, Bar{Start: m, Session: session})
			sort.Slice(s.Recent, func(i, j int) bool { return s.Recent[i].Start < s.Recent[j].Start })
			b = s.recent(m)
		}
		b.add(t.Price, t.Size, ts)
		b.Revision++
		u.flush[m], u.minute[m] = true, true
		if session != "" && (u.reopened < 0 || m < u.reopened) {
			u.reopened = m
		}
	}

	if session != "" {
		if fig == nil { // a newer session: roll
			if s.Cur.Trades > 0 {
				prev := s.Cur
				s.Prev, s.PrevClose = &prev, prev.Last
				u.daily[prev.Session] = true // a finished session joins the daily bars
			}
			s.Cur = Figures{Session: session}
			fig = &s.Cur
			u.rolled = true
		}
		fig.add(t.Price, t.Size, ts)
		if fig != &s.Cur {
			u.daily[session] = true // a late tick amended a finished session
		}
	} else {
		s.OutOfSession++
	}
	if ts >= s.LastTS {
		s.LastPrice, s.LastTS = t.Price, ts
	}
	s.Ticks++
	u.dirty = true
	return true
}

// recent returns the closed bar starting at m, if kept.
func (s *SymbolState) recent(m int64) *Bar {
	for i := range s.Recent {
		if s.Recent[i].Start == m {
			return &s.Recent[i]
		}
	}
	return nil
}

// bar returns the closed bar starting at m that this run wrote, whether
// still kept or already dropped.
func (u *symbolUpdate) bar(m int64) *Bar {
	if b := u.state.recent(m); b != nil {
		return b
	}
	if b, ok := u.dropped[m]; ok {
		return &b
	}
	return nil
}

// closeOpenBar moves the open bar, if any, to the closed bars.
func (u *symbolUpdate) closeOpenBar() {
	s := u.state
	if s.Bar == nil {
		return
	}
	b := *s.Bar
	b.Revision = 1
	s.Recent = append(s.Recent, b)
	s.Bar = nil
	u.flush[b.Start], u.minute[b.Start] = true, true
	u.dirty = true
}

// finish closes the open bar if its minute has ended by now (only when the
// run has caught up with the stream, so no tick of that minute is still
// unread), drops closed bars no tick can amend any more, and recomputes the
// session totals each kept bar carries.
func (u *symbolUpdate) finish(now time.Time, caughtUp bool, lateWindow time.Duration) {
	s := u.state
	if caughtUp && s.Bar != nil && s.Bar.End() <= now.UnixMilli() {
		u.closeOpenBar()
	}
	u.recomputeCum()
	keep := s.Recent[:0]
	for _, b := range s.Recent {
		if b.End()+lateWindow.Milliseconds() >= s.LastTS {
			keep = append(keep, b)
			continue
		}
		if u.minute[b.Start] {
			if u.dropped == nil {
				u.dropped = map[int64]Bar{}
			}
			u.dropped[b.Start] = b
		}
	}
	if len(keep) != len(s.Recent) {
		u.dirty = true
	}
	s.Recent = keep
	if len(s.Recent) == 0 {
		s.Recent = nil
	}
}

// recomputeCum sets each kept bar's session totals by walking back from
// the session's figures, so that an amended bar updates the totals of every
// bar after it.
func (u *symbolUpdate) recomputeCum() {
	s := u.state
	all := make([]*Bar, 0, len(s.Recent)+1)
	for i := range s.Recent {
		all = append(all, &s.Recent[i])
	}
	if s.Bar != nil {
		all = append(all, s.Bar)
	}
	for _, fig := range []*Figures{&s.Cur, s.Prev} {
		if fig == nil || fig.Session == "" {
			continue
		}
		vol, trades, notional := fig.Volume, fig.Trades, fig.Notional
		for i := len(all) - 1; i >= 0; i-- {
			b := all[i]
			if b.Session != fig.Session {
				continue
			}
			if b.CumVolume != vol || b.CumTrades != trades || b.CumNotional != notional {
				b.CumVolume, b.CumTrades, b.CumNotional = vol, trades, notional
				if b.Revision > 0 {
					u.minute[b.Start] = true
				}
				u.dirty = true
			}
			if notional.Less(b.Notional) {
				break // cannot happen while sessions start on whole minutes
			}
			vol -= b.Volume
			trades -= b.Trades
			notional = notional.Sub(b.Notional)
		}
	}
}
