package web

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"heartbeat/internal/events"
	"heartbeat/internal/market"
	"heartbeat/internal/testinfra"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// sseEvent is one Server-Sent Event as a client parses it.
type sseEvent struct{ id, name, data string }

// sseClient reads events from a GET of path (with Last-Event-ID when
// last is set) on a goroutine.
type sseClient struct {
	res    *http.Response
	events chan sseEvent
}

func openEvents(t *testing.T, url, last string) *sseClient {
	t.Helper()
	return openSSE(t, url+"/api/v1/events", last)
}

// openSSE opens any of the site's event streams.
func openSSE(t *testing.T, url, last string) *sseClient {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	testinfra.Must(t, err, "request")
	if last != "" {
		req.Header.Set("Last-Event-ID", last)
	}
	res, err := http.DefaultClient.Do(req)
	testinfra.Must(t, err, "GET "+url)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET %s: %d %s", url, res.StatusCode, res.Header.Get("Content-Type"))
	}
	c := &sseClient{res: res, events: make(chan sseEvent, 100)}
	go func() {
		defer close(c.events)
		sc := bufio.NewScanner(res.Body)
		var e sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if e.name != "" {
					c.events <- e
				}
				e = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				e.id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "event: "):
				e.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				e.data = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	t.Cleanup(func() { res.Body.Close() })
	return c
}

// next returns the next event, failing after a generous bound.
func (c *sseClient) next(t *testing.T) sseEvent {
	t.Helper()
	select {
	case e, ok := <-c.events:
		if !ok {
			t.Fatal("the stream ended")
		}
		return e
	case <-time.After(20 * time.Second):
		t.Fatal("no event within 20 s")
	}
	return sseEvent{}
}

// TestEventsSSE: a new client gets one snapshot per market, then the
// events emitted after it connected (not those before: the snapshot says
// the state); a client reconnecting with Last-Event-ID gets exactly the
// events it missed, no snapshot, no repeat; a bad Last-Event-ID is a 400.
func TestEventsSSE(t *testing.T) {
	t.Parallel()
	f := setupSite(t, "", at(t, monday))
	ctx := context.Background()
	stream := events.NewStream(f.rdb, events.DefaultRetention)
	open := at(t, "2026-03-02T14:30:00Z")
	emit := func(kind events.Kind, at time.Time) string {
		t.Helper()
		out, id, err := stream.Emit(ctx, events.Transition{Market: market.XNYS, Kind: kind, At: at, Session: market.NewDate(2026, 3, 2)}, 1)
		if err != nil || out != events.Emitted {
			t.Fatalf("emit %s: %v %v", kind, out, err)
		}
		return id
	}
	emit(events.PreOpen, open.Add(-time.Minute)) // before the client: in no stream it sees

	c := openEvents(t, f.url, "")
	for i := range 12 {
		if e := c.next(t); e.name != "snapshot" || e.id != "" || !strings.Contains(e.data, `"market":`) {
			t.Fatalf("event %d: %+v, want a snapshot", i, e)
		}
	}
	if n := testutil.ToFloat64(f.metrics.SSEClients.WithLabelValues("events")); n != 1 {
		t.Fatalf("heartbeat_sse_clients{stream=events} = %v with one client", n)
	}
	openID := emit(events.Open, open)
	e := c.next(t)
	var v EventView
	if err := json.Unmarshal([]byte(e.data), &v); err != nil {
		t.Fatal(err)
	}
	if e.name != "open" || e.id != openID || v.Market != "XNYS" || !v.At.Equal(open) || v.Session != "2026-03-02" || v.Term != 1 {
		t.Fatalf("after the snapshot: %+v %+v", e, v)
	}
	c.res.Body.Close()

	closeID := emit(events.Close, open.Add(390*time.Minute))
	again := openEvents(t, f.url, openID)
	if e := again.next(t); e.name != "close" || e.id != closeID {
		t.Fatalf("resumed: %+v, want the close (%s) and nothing before it", e, closeID)
	}
	res, err := http.Get(f.url + "/api/v1/events?last_event_id=yesterday")
	testinfra.Must(t, err, "GET")
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad Last-Event-ID: %d", res.StatusCode)
	}
}
