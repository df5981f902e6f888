package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"heartbeat/internal/live"
)

// GET /api/v1/stream?symbols=A,B is a Server-Sent Events stream of the
// symbols' intraday figures: first each symbol's current figures (none for
// a symbol without a tick yet), then, as Intraday commits changes, the
// changed symbols' figures, at most one per symbol in each second of the
// clock (a second change within a second is folded into a figure at the
// start of the next). Each is a
// "figure" event whose data is the IntradayView of
// GET /api/v1/symbols/{symbol}/intraday (session VWAP, volume, last,
// change, the open bar). Figures have no id: a client that reconnects
// gets the current figures again, which is all it missed. A comment
// line is sent when nothing came for streamKeepAlive.
//
// The replica's live hub (internal/live) reads each shard's updates once
// for every client and renders each figure once; a client's mailbox holds
// only the newest figure of each of its symbols, so a slow client is sent
// fewer figures and never holds the others up.

// streamKeepAlive is the longest a figures stream stays silent.
const streamKeepAlive = 15 * time.Second

func (site *Site) serveStream(w http.ResponseWriter, r *http.Request) {
	if site.d.Live == nil {
		writeError(w, http.StatusServiceUnavailable, "live figures are not served by this process")
		return
	}
	var syms []string
	for _, s := range strings.Split(r.URL.Query().Get("symbols"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			syms = append(syms, s)
		}
	}
	if len(syms) == 0 {
		writeError(w, http.StatusBadRequest, "symbols: want a comma-separated list of configured symbols, such as ?symbols=SPY,QQQ")
		return
	}
	ctx := r.Context()
	sub, err := site.d.Live.Subscribe(ctx, syms)
	if err != nil {
		status := statusOf(err)
		if errors.Is(err, live.ErrTooManySymbols) {
			status = http.StatusBadRequest
		}
		writeError(w, status, fmt.Sprintf("symbols: %v", err))
		return
	}
	defer sub.Close()
	clients := site.d.Metrics.SSEClients.WithLabelValues("figures")
	clients.Inc()
	defer clients.Dec()
	lag := site.d.Metrics.LiveLag.WithLabelValues("sent")

	out := startSSE(w)
	if out.comment("following "+strings.Join(syms, ",")) != nil {
		return
	}
	quiet := make(chan struct{}, 1)
	keepAlive := func() {
		for site.d.Clock.SleepUntil(ctx, site.d.Clock.Now().Add(streamKeepAlive)) == nil {
			select {
			case quiet <- struct{}{}:
			default:
			}
		}
	}
	go keepAlive()
	sent := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-quiet:
			if !sent && out.comment("keep-alive") != nil {
				return
			}
			sent = false
		case <-sub.Ready():
			figs := sub.Take()
			for _, f := range figs {
				if out.raw("", "figure", f.JSON) != nil {
					return
				}
			}
			if out.flush() != nil {
				return
			}
			now := site.d.Clock.Now()
			for _, f := range figs {
				if !f.Committed.IsZero() {
					lag.Observe(max(0, now.Sub(f.Committed)).Seconds())
				}
			}
			sent = true
		}
	}
}
