package live

import (
	"context"
	"sync"
	"time"
)

// shard is one shard's subscriptions and its reader's position.
type shard struct {
	n    int
	wake chan struct{} // a subscription arrived on an idle shard

	mu     sync.Mutex
	subs   map[string]map[*Sub]struct{} // symbol -> subscriptions
	count  int                          // subscriptions on the shard
	cursor string                       // the updates entry read up to; "" while idle
	// The reader's own, only it touches them.
	sentIn   map[string]time.Time // symbol -> the period it was last published in
	deferred map[string]time.Time // symbol -> earliest commit not yet published
}

func newShard(n int) *shard {
	return &shard{n: n, wake: make(chan struct{}, 1), subs: map[string]map[*Sub]struct{}{},
		sentIn: map[string]time.Time{}, deferred: map[string]time.Time{}}
}

// add registers sub for syms. On an idle shard it first takes the
// newest entry ID as the reader's position and wakes the reader. The ID
// is read outside the lock (a slow Redis must not hold up the shard's
// reader and other subscriptions), again if the shard went idle
// meanwhile.
func (sh *shard) add(ctx context.Context, src Source, sub *Sub, syms []string) error {
	end := ""
	for {
		sh.mu.Lock()
		if sh.cursor != "" || end != "" {
			break // with the lock held
		}
		sh.mu.Unlock()
		var err error
		if end, err = src.UpdatesEnd(ctx, sh.n); err != nil {
			return err
		}
	}
	defer sh.mu.Unlock()
	if sh.cursor == "" {
		sh.cursor = end
	}
	for _, s := range syms {
		m := sh.subs[s]
		if m == nil {
			m = map[*Sub]struct{}{}
			sh.subs[s] = m
		}
		m[sub] = struct{}{}
	}
	sh.count++
	select {
	case sh.wake <- struct{}{}:
	default:
	}
	return nil
}

func (sh *shard) remove(sub *Sub, syms []string) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for _, s := range syms {
		delete(sh.subs[s], sub)
		if len(sh.subs[s]) == 0 {
			delete(sh.subs, s)
		}
	}
	sh.count--
}

func (sh *shard) subscribers() int {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.count
}

// position returns the reader's position, or "" when the shard has no
// subscription (the reader then idles, and forgets what it deferred).
func (sh *shard) position() string {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.count == 0 {
		sh.cursor = ""
	}
	return sh.cursor
}

// advance moves the reader's position to id, unless the shard went idle
// and a new subscription set it meanwhile.
func (sh *shard) advance(from, id string) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.cursor == from {
		sh.cursor = id
	}
}

// followed returns the symbols among syms somebody follows.
func (sh *shard) followed(syms []string) []string {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	var out []string
	for _, s := range syms {
		if len(sh.subs[s]) > 0 {
			out = append(out, s)
		}
	}
	return out
}

// deliver puts f in the mailbox of every subscription following its
// symbol.
func (sh *shard) deliver(f Figure) {
	sh.mu.Lock()
	subs := make([]*Sub, 0, len(sh.subs[f.Symbol]))
	for s := range sh.subs[f.Symbol] {
		subs = append(subs, s)
	}
	sh.mu.Unlock()
	for _, s := range subs {
		s.put(f, false)
	}
}
