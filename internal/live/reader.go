package live

import (
	"context"
	"sort"
	"strconv"
	"time"
)

// readCount is the most updates one read returns.
const readCount = 100

// read is one shard's reader loop. While the shard has subscriptions it
// waits for the shard's updates (up to Config.Block, or until a deferred
// figure is due), marks the followed symbols they name, and publishes
// those not yet published in the current period; with none it idles
// until one arrives.
func (h *Hub) read(ctx context.Context, sh *shard) {
	defer h.wg.Done()
	key := "shard:" + strconv.Itoa(sh.n)
	for ctx.Err() == nil {
		cursor := sh.position()
		if cursor == "" {
			clear(sh.deferred)
			clear(sh.sentIn)
			select {
			case <-ctx.Done():
				return
			case <-sh.wake:
			}
			continue
		}
		now := h.d.Clock.Now()
		block := h.cfg.Block
		if due, ok := h.nextDue(sh); ok {
			block = min(block, due.Sub(now))
		}
		ups, err := h.d.Source.ReadUpdates(ctx, sh.n, cursor, readCount, block)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			h.warn.Warn(key, now).Err(err).Int("shard", sh.n).Msg("live figures: reading the updates stream failed; retrying (logged once a minute)")
			_ = h.d.Clock.SleepUntil(ctx, now.Add(h.cfg.Block))
			continue
		}
		now = h.d.Clock.Now()
		for _, u := range ups {
			if u.Err != nil {
				h.warn.Warn(key+":entry", now).Err(u.Err).Int("shard", sh.n).Msg("live figures: skipped an updates entry no commit wrote (logged once a minute)")
				continue
			}
			if h.d.Lag != nil {
				h.d.Lag.Observe(max(0, now.Sub(u.At)).Seconds())
			}
			for _, s := range sh.followed(u.Symbols) {
				if at, ok := sh.deferred[s]; !ok || u.At.Before(at) {
					sh.deferred[s] = u.At
				}
			}
		}
		if len(ups) > 0 {
			sh.advance(cursor, ups[len(ups)-1].ID)
		}
		if !h.publish(ctx, sh, now, key) {
			_ = h.d.Clock.SleepUntil(ctx, now.Add(h.cfg.Block))
		}
	}
}

// nextDue returns when the first deferred figure may be published.
func (h *Hub) nextDue(sh *shard) (time.Time, bool) {
	var due time.Time
	for s := range sh.deferred {
		at := sh.sentIn[s].Add(h.cfg.Period)
		if due.IsZero() || at.Before(due) {
			due = at
		}
	}
	return due, !due.IsZero()
}

// publish reads, renders and delivers the deferred symbols not yet
// published in now's period; the others wait for the next. It reports false when the
// states could not be read (all stay deferred).
func (h *Hub) publish(ctx context.Context, sh *shard, now time.Time, key string) bool {
	period := now.Truncate(h.cfg.Period)
	var ready []string
	for s := range sh.deferred {
		if sent, ok := sh.sentIn[s]; !ok || period.After(sent) {
			ready = append(ready, s)
		}
	}
	if len(ready) == 0 {
		return true
	}
	sort.Strings(ready)
	sts, err := h.d.Source.States(ctx, sh.n, ready)
	if err != nil {
		if ctx.Err() == nil {
			h.warn.Warn(key, now).Err(err).Int("shard", sh.n).Msg("live figures: reading states failed; retrying (logged once a minute)")
		}
		return false
	}
	for i, s := range ready {
		committed := sh.deferred[s]
		delete(sh.deferred, s)
		sh.sentIn[s] = period
		if sts[i] == nil {
			continue
		}
		js, err := h.d.Render(sts[i])
		if err != nil {
			h.warn.Warn(key+":render", now).Err(err).Str("symbol", s).Msg("live figures: rendering a figure failed (logged once a minute)")
			continue
		}
		sh.deliver(Figure{Symbol: s, JSON: js, Committed: committed})
	}
	return true
}
