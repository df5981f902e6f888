package web

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"heartbeat/internal/events"
	"heartbeat/internal/keys"
)

// GET /api/v1/events is a Server-Sent Events stream of the market events
// the leader emits (hb:{events}:market). On a fresh connection it first
// sends one "snapshot" event per market (the market board's entry: phase,
// session, next change), without an id, then every event emitted after
// the stream position read before the snapshot, so nothing emitted during
// the snapshot is lost. Each event has its stream entry ID as its id and
// its kind as its event name; a client that reconnects with
// Last-Event-ID (or ?last_event_id=) gets every event after that ID, with
// no snapshot, no gap and no repeat. A comment line is sent when no event
// came for eventsKeepAlive, so proxies keep the connection open.
//
// Each connected client holds one Redis connection while it waits (a
// blocking XREAD): fine for the tens of operators and services that
// follow transitions, not a fan-out for thousands.

const (
	// eventsBlock is how long one wait for new events lasts: also how long
	// a stream takes to end after its client left or the server stops.
	eventsBlock = time.Second
	// eventsRetry is how long a client waits before it reconnects after
	// the stream ended (a Redis error, a replica stopping).
	eventsRetry = time.Second
	// eventsKeepAlive is the longest a connection stays silent.
	eventsKeepAlive = 15 * time.Second
)

// streamID is a Redis stream entry ID.
var streamID = regexp.MustCompile(`^[0-9]{1,20}-[0-9]{1,20}$`)

// EventView is one market event as the SSE stream and `scheduler events`
// show it.
type EventView struct {
	ID      string    `json:"id"`
	Market  string    `json:"market"`
	Kind    string    `json:"kind"`
	At      time.Time `json:"at"`
	Session string    `json:"session"`
	Term    int64     `json:"term"`
	Of      string    `json:"of,omitempty"` // changed: the kind that moved
	Was     time.Time `json:"was,omitzero"` // changed: the instant it had been emitted at
}

func eventView(e events.Event) EventView {
	return EventView{ID: e.ID, Market: string(e.Market), Kind: string(e.Kind), At: e.At.UTC(), Session: e.Session.String(),
		Term: e.Term, Of: string(e.Of), Was: e.Was.UTC()}
}

func (site *Site) serveEvents(w http.ResponseWriter, r *http.Request) {
	last := r.Header.Get("Last-Event-ID")
	if q := r.URL.Query().Get("last_event_id"); q != "" {
		last = q
	}
	if last != "" && !streamID.MatchString(last) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("Last-Event-ID: want a stream entry ID such as 1764000000000-0, got %q", last))
		return
	}
	stream := events.NewStream(site.d.Redis, 0)
	ctx := r.Context()
	cursor := last
	if cursor == "" {
		var err error
		if cursor, err = site.eventsEnd(ctx); err != nil {
			writeError(w, statusOf(err), err.Error())
			return
		}
	}
	clients := site.d.Metrics.SSEClients.WithLabelValues("events")
	clients.Inc()
	defer clients.Dec()
	out := startSSE(w)
	send := out.send
	// Flushed at once: a resumed stream has no snapshot to send, and the
	// client counts as connected only once the headers arrive.
	if out.retry(eventsRetry) != nil || out.flush() != nil {
		return
	}
	if last == "" {
		board, _ := marketBoard(site.book(), site.d.Clock.Now())
		for _, mv := range board {
			if send("", "snapshot", mv) != nil {
				return
			}
		}
	}
	quiet := site.d.Clock.Now()
	for ctx.Err() == nil {
		evs, err := stream.Read(ctx, cursor, 100, eventsBlock)
		if err != nil {
			if ctx.Err() == nil {
				site.d.Log.Warn().Err(err).Msg("events stream: read failed; the client may reconnect with Last-Event-ID")
				_ = send("", "error", map[string]string{"error": err.Error()})
			}
			return
		}
		for _, e := range evs {
			if send(e.ID, string(e.Kind), eventView(e)) != nil {
				return
			}
			cursor, quiet = e.ID, site.d.Clock.Now()
		}
		if site.d.Clock.Now().Sub(quiet) >= eventsKeepAlive {
			if out.comment("keep-alive") != nil {
				return
			}
			quiet = site.d.Clock.Now()
		}
	}
}

// eventsEnd returns the ID of the newest event ("0-0" for none).
func (site *Site) eventsEnd(ctx context.Context) (string, error) {
	msgs, err := site.d.Redis.XRevRangeN(ctx, keys.MarketEvents(), "+", "-", 1).Result()
	if err != nil {
		return "", fmt.Errorf("events: %w", err)
	}
	if len(msgs) == 0 {
		return "0-0", nil
	}
	return msgs[0].ID, nil
}
