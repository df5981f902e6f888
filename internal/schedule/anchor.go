package schedule

import (
	"fmt"
	"strings"
	"time"

	"heartbeat/internal/market"
)

// Event is an instant of a session a schedule is anchored to.
type Event string

// The session events.
const (
	EventOpen       Event = "open"
	EventClose      Event = "close"
	EventBreakStart Event = "break_start"
	EventBreakEnd   Event = "break_end"
)

// events lists the events in the order they occur in a session.
var events = []Event{EventOpen, EventBreakStart, EventBreakEnd, EventClose}

func (e Event) rank() int {
	for i, x := range events {
		if x == e {
			return i
		}
	}
	return len(events)
}

// maxOffset bounds an offset from a session event.
const maxOffset = 24 * time.Hour

// Point is an instant relative to a session event: the event plus an
// offset.
type Point struct {
	Event  Event
	Offset time.Duration
}

// parsePoint parses "open", "close+2m", "open-60s", "break_end+1m30s".
func parsePoint(s string) (Point, error) {
	name, offset := s, ""
	if i := strings.IndexAny(s, "+-"); i >= 0 {
		name, offset = s[:i], s[i:]
	}
	p := Point{Event: Event(name)}
	if p.Event.rank() == len(events) {
		return Point{}, fmt.Errorf("unknown event %q in %q (want open, close, break_start or break_end, then an optional +/- offset)", name, s)
	}
	if offset != "" {
		d, err := time.ParseDuration(offset)
		if err != nil {
			return Point{}, fmt.Errorf("offset %q in %q: want a signed duration such as +2m or -60s", offset, s)
		}
		if d < -maxOffset || d > maxOffset {
			return Point{}, fmt.Errorf("offset %q in %q: must be within ±24h", offset, s)
		}
		p.Offset = d
	}
	return p, nil
}

// String returns the canonical text: "open", "close+2m", "open-1m30s".
func (p Point) String() string {
	switch {
	case p.Offset > 0:
		return string(p.Event) + "+" + formatDuration(p.Offset)
	case p.Offset < 0:
		return string(p.Event) + "-" + formatDuration(-p.Offset)
	}
	return string(p.Event)
}

// in returns the point's instant in session s of cal; false when the
// session has no such event: no break for break_start and break_end, and
// no open or close for a market that trades on across it (ALWAYS's days
// follow one another, so it never opens or closes).
func (p Point) in(cal *market.Calendar, s market.Session) (time.Time, bool) {
	var at time.Time
	switch p.Event {
	case EventOpen:
		if before, err := cal.IsOpen(s.Open.Add(-time.Nanosecond)); err == nil && before {
			return time.Time{}, false
		}
		at = s.Open
	case EventClose:
		if after, err := cal.IsOpen(s.Close); err == nil && after {
			return time.Time{}, false
		}
		at = s.Close
	case EventBreakStart, EventBreakEnd:
		if !s.HasBreak() {
			return time.Time{}, false
		}
		at = s.BreakStart
		if p.Event == EventBreakEnd {
			at = s.BreakEnd
		}
	}
	return at.Add(p.Offset), true
}

// Anchor is a session anchor: one slot per session of a market at an
// event plus an offset.
type Anchor struct {
	Market market.Code
	Point
}

// ParseAnchor parses "MARKET.EVENT[+-OFFSET]": "XNYS.close+2m",
// "XHKG.open-5m", "CMES.break_start". The event is open, close,
// break_start or break_end; the offset a Go duration within ±24h. It
// checks the market code's syntax, not that a calendar has it
// (Spec.Validate does).
func ParseAnchor(s string) (Anchor, error) {
	code, point, ok := strings.Cut(s, ".")
	if !ok {
		return Anchor{}, fmt.Errorf("anchor %q: want MARKET.EVENT[+-OFFSET], such as XNYS.close+2m", s)
	}
	if err := market.CheckCodeSyntax(code); err != nil {
		return Anchor{}, fmt.Errorf("anchor %q: %w", s, err)
	}
	p, err := parsePoint(point)
	if err != nil {
		return Anchor{}, fmt.Errorf("anchor %q: %w", s, err)
	}
	return Anchor{Market: market.Code(code), Point: p}, nil
}

// String returns the canonical text: "XNYS.close+2m".
func (a Anchor) String() string { return string(a.Market) + "." + a.Point.String() }

// Window is a span of each session, from one point to another, both
// included.
type Window struct {
	From, To Point
}

// ParseWindow parses "FROM..TO", each an event with an optional offset:
// "open-60s..open-1s", "close-5m..close", "break_start..break_end". TO
// must not come before FROM in a session's order (open, break_start,
// break_end, close); a session where the instants still fall the wrong
// way round (a late open, an early close) has no slot.
func ParseWindow(s string) (Window, error) {
	from, to, ok := strings.Cut(s, "..")
	if !ok {
		return Window{}, fmt.Errorf("window %q: want FROM..TO, such as open-60s..open-1s", s)
	}
	var (
		w   Window
		err error
	)
	if w.From, err = parsePoint(from); err != nil {
		return Window{}, fmt.Errorf("window %q: %w", s, err)
	}
	if w.To, err = parsePoint(to); err != nil {
		return Window{}, fmt.Errorf("window %q: %w", s, err)
	}
	if r, q := w.From.Event.rank(), w.To.Event.rank(); r > q || (r == q && w.From.Offset > w.To.Offset) {
		return Window{}, fmt.Errorf("window %q: ends before it starts", s)
	}
	return w, nil
}

// String returns the canonical text: "open-1m..open-1s".
func (w Window) String() string { return w.From.String() + ".." + w.To.String() }

// formatDuration writes a positive duration as Go parses it, without zero
// units: "2m", "1m30s", "1h5s", "1s500ms".
func formatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	for _, u := range []struct {
		unit time.Duration
		name string
	}{{time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}, {time.Millisecond, "ms"}, {time.Microsecond, "us"}, {time.Nanosecond, "ns"}} {
		if n := d / u.unit; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.name)
			d -= n * u.unit
		}
	}
	return b.String()
}
