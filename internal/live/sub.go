package live

import (
	"sort"
	"sync"
	"time"
)

// Figure is one symbol's rendered figure.
type Figure struct {
	Symbol string
	JSON   []byte
	// Committed is when Intraday committed the change this figure shows
	// (the updates entry's time; for a deferred figure the earliest of the
	// changes it folds in); zero in the first Take's current figures.
	Committed time.Time
}

// Sub is one subscription: a mailbox of the newest figure per symbol.
type Sub struct {
	hub   *Hub
	ready chan struct{}

	mu      sync.Mutex
	byShard map[int][]string // the shards it is registered with, and its symbols there
	box     map[string]Figure
	pushed  map[string]bool // the reader delivered the symbol: the snapshot's older figure is not wanted
	closed  bool
}

func newSub(h *Hub) *Sub {
	return &Sub{hub: h, byShard: map[int][]string{}, ready: make(chan struct{}, 1), box: map[string]Figure{}, pushed: map[string]bool{}}
}

// registered records that the subscription is registered with shard n
// for syms, so Close removes it from there (and only there).
func (s *Sub) registered(n int, syms []string) {
	s.mu.Lock()
	s.byShard[n] = syms
	s.mu.Unlock()
}

// Ready receives when Take has something.
func (s *Sub) Ready() <-chan struct{} { return s.ready }

// Take empties the mailbox: the newest figure of each symbol that changed
// since the last Take, by symbol.
func (s *Sub) Take() []Figure {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Figure, 0, len(s.box))
	for _, f := range s.box {
		out = append(out, f)
	}
	clear(s.box)
	sort.Slice(out, func(i, j int) bool { return out[i].Symbol < out[j].Symbol })
	return out
}

// put leaves f in the mailbox, replacing an older figure of its symbol
// (keeping the earlier commit time, so lag counts from the oldest change
// the client waited for). snapshot: the current figure read at Subscribe,
// dropped when the reader already delivered a newer one.
func (s *Sub) put(f Figure, snapshot bool) {
	s.mu.Lock()
	if s.closed || (snapshot && s.pushed[f.Symbol]) {
		s.mu.Unlock()
		return
	}
	if !snapshot {
		s.pushed[f.Symbol] = true
	}
	if old, ok := s.box[f.Symbol]; ok && !old.Committed.IsZero() && (f.Committed.IsZero() || old.Committed.Before(f.Committed)) {
		f.Committed = old.Committed
	}
	s.box[f.Symbol] = f
	s.mu.Unlock()
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

// Close ends the subscription. Safe to call twice.
func (s *Sub) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	byShard := s.byShard
	s.byShard = nil
	s.mu.Unlock()
	for n, syms := range byShard {
		s.hub.shards[n].remove(s, syms)
	}
}
