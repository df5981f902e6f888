package web

import (
	"strings"
	"testing"
	"time"

	"heartbeat/internal/market"
	"heartbeat/internal/runlog"
)

func TestJobStrip(t *testing.T) {
	t.Parallel()
	last := time.Date(2026, 12, 2, 15, 0, 10, 0, time.UTC)
	iv := time.Second
	r := func(slot time.Time, part string, o runlog.Outcome, lag time.Duration) runlog.Run {
		return runlog.Run{Job: "intraday", Part: part, Slot: slot, StartedAt: slot.Add(lag), FinishedAt: slot.Add(lag + time.Millisecond), Outcome: o}
	}
	s := func(i int) time.Time { return last.Add(-time.Duration(i) * iv) }
	runs := []runlog.Run{
		r(s(0), "0", runlog.OK, time.Millisecond), r(s(0), "1", runlog.OK, time.Millisecond),
		r(s(1), "0", runlog.OK, time.Millisecond), r(s(1), "1", runlog.Error, time.Millisecond), // one shard failed: the slot is an error
		r(s(2), "0", runlog.OK, 400*time.Millisecond), // over a quarter interval: late
		r(s(3), "0", runlog.Expired, 0),
		r(s(4), "0", runlog.SkippedOverlap, 0), r(s(4), "1", runlog.OK, time.Millisecond),
		r(last.Add(-500*time.Millisecond), "0", runlog.OK, 0), // not a slot of the strip
	}
	cells := jobStrip(runs, iv, last, 6)
	want := []string{"none", "skipped_overlap", "expired", "late", "error", "ok"}
	if len(cells) != len(want) {
		t.Fatalf("%d cells", len(cells))
	}
	for i, c := range cells {
		if c.Outcome != want[i] || !c.Slot.Equal(s(len(want)-1-i)) {
			t.Fatalf("cell %d = %+v, want %s at %s", i, c, want[i], s(len(want)-1-i))
		}
	}
	svg := string(stripSVG(cells))
	if strings.Count(svg, "<rect") != 6 || !strings.Contains(svg, `role="img"`) ||
		!strings.Contains(svg, `aria-label="last 6 slots: 1 ok, 1 late, 1 error, 1 expired, 1 skipped_overlap, 1 no run"`) || strings.Contains(svg, "style=") {
		t.Fatalf("strip SVG %s", svg)
	}
	if lag := string(lagSVG(runs)); !strings.Contains(lag, "<polyline") || !strings.Contains(lag, "max 400.0 ms") {
		t.Fatalf("lag SVG %s", lag)
	}
}

func TestSessionSVG(t *testing.T) {
	t.Parallel()
	b, err := market.NewBook(market.BookConfig{})
	if err != nil {
		t.Fatal(err)
	}
	b.SetRuntime([]market.Override{{Market: market.XHKG, Kind: market.KindHalt, Date: market.NewDate(2026, 12, 2), From: 14 * 60, To: 14*60 + 30,
		Source: market.Source{Origin: market.OriginRuntime, Ref: "t"}}})
	cal, _ := b.Lookup(market.XHKG)
	s, ok, err := cal.Session(market.NewDate(2026, 12, 2))
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	now := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC) // 11:00 in Hong Kong
	svg := string(sessionSVG(s, cal.Location(), now))
	for _, want := range []string{`class="sess-break"`, `class="sess-halt"`, `class="sess-now"`,
		`aria-label="session 2026-12-02, 09:30 to 16:00 local; break 12:00 to 13:00; halted 14:00 to 14:30; now 11:00"`} {
		if !strings.Contains(svg, want) {
			t.Fatalf("session SVG lacks %s:\n%s", want, svg)
		}
	}
	if strings.Contains(string(sessionSVG(s, cal.Location(), now.Add(24*time.Hour))), "sess-now") {
		t.Fatal("a now marker outside the session")
	}
}
