package marketdata

import "sync"

// stateCache keeps, per shard, the symbol states as of the checkpoint this
// worker last committed, so the shard's next run on this worker need not
// read and decode them again. Every commit moves a shard's checkpoint and
// its states together, so the cached states are exactly what Redis holds
// as long as the checkpoint still has the cached value; a run checks that
// before using them. A run takes the cache out while it works (a run that
// fails leaves none behind) and puts back the states it committed.
type stateCache struct {
	mu     sync.Mutex
	shards map[int]cachedShard
}

type cachedShard struct {
	ckpt   string
	states map[string]*SymbolState
}

// take removes and returns the shard's cached states if they are those of
// checkpoint ckpt; otherwise it drops them and returns nil.
func (c *stateCache) take(shard int, ckpt string) map[string]*SymbolState {
	c.mu.Lock()
	defer c.mu.Unlock()
	cs, ok := c.shards[shard]
	delete(c.shards, shard)
	if !ok || cs.ckpt != ckpt || ckpt == "" {
		return nil
	}
	return cs.states
}

// put records the states a run committed at checkpoint ckpt: those it
// took from the cache, updated by its own.
func (c *stateCache) put(shard int, ckpt string, cached map[string]*SymbolState, updates map[string]*symbolUpdate) {
	if ckpt == "" {
		return
	}
	states := cached
	if states == nil {
		states = make(map[string]*SymbolState, len(updates))
	}
	for sym, u := range updates {
		if u.loaded || u.dirty {
			states[sym] = u.state
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.shards == nil {
		c.shards = map[int]cachedShard{}
	}
	c.shards[shard] = cachedShard{ckpt: ckpt, states: states}
}
