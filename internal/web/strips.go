package web

import (
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"

	"heartbeat/internal/market"
	"heartbeat/internal/runlog"
)

// The status page shows, not only tells: per job, its last StripSlots
// slots as a strip of cells coloured by outcome and a start-lag
// sparkline; per market, today's session as a bar with its break, halts
// and the current time. All are SVG rendered here (no front-end code),
// styled by class from status.css (the CSP allows no inline style), each
// with a text alternative (role="img", aria-label, a <title> per cell).

// StripSlots is how many slots a job's strip shows.
const StripSlots = 60

// SlotCell is one slot of a job's strip.
type SlotCell struct {
	Slot time.Time `json:"slot"`
	// Outcome is the worst of the slot's runs: error, expired,
	// skipped_overlap, late (ok, started more than a quarter interval
	// after the slot), ok; "none" when no run was recorded (a slot the
	// gate or a pause skipped, or one missed).
	Outcome string `json:"outcome"`
}

var outcomeRank = map[string]int{"none": 0, "ok": 1, "late": 2, "skipped_overlap": 3, "expired": 4, "error": 5}

// jobStrip returns the last n slots up to last (the job's last slot),
// oldest first, with the outcome of their runs.
func jobStrip(runs []runlog.Run, interval time.Duration, last time.Time, n int) []SlotCell {
	if interval <= 0 || last.IsZero() {
		return nil
	}
	bySlot := map[int64]string{}
	for _, r := range runs {
		o := string(r.Outcome)
		if r.Outcome == runlog.OK && r.StartLag() > interval/4 {
			o = "late"
		}
		k := r.Slot.UnixMilli()
		if _, seen := outcomeRank[o]; !seen {
			continue
		}
		if outcomeRank[o] > outcomeRank[bySlot[k]] {
			bySlot[k] = o
		}
	}
	out := make([]SlotCell, n)
	for i := range out {
		slot := last.Add(-time.Duration(n-1-i) * interval).UTC()
		o := bySlot[slot.UnixMilli()]
		if o == "" {
			o = "none"
		}
		out[i] = SlotCell{Slot: slot, Outcome: o}
	}
	return out
}

// stripSVG draws a job's strip.
func stripSVG(cells []SlotCell) template.HTML {
	if len(cells) == 0 {
		return ""
	}
	const w, h = 3, 14
	counts := map[string]int{}
	var b strings.Builder
	for i, c := range cells {
		counts[c.Outcome]++
		fmt.Fprintf(&b, `<rect class="cell cell-%s" x="%d" y="0" width="%.1f" height="%d"><title>%s %s</title></rect>`,
			c.Outcome, i*w, w-0.6, h, c.Slot.Format("15:04:05Z"), c.Outcome)
	}
	var summary []string
	for _, o := range []string{"ok", "late", "error", "expired", "skipped_overlap", "none"} {
		if counts[o] > 0 {
			summary = append(summary, fmt.Sprintf("%d %s", counts[o], strings.ReplaceAll(o, "none", "no run")))
		}
	}
	label := fmt.Sprintf("last %d slots: %s", len(cells), strings.Join(summary, ", "))
	return template.HTML(fmt.Sprintf(`<svg class="slots" role="img" aria-label="%s" width="%d" height="%d" viewBox="0 0 %d %d">%s</svg>`,
		template.HTMLEscapeString(label), len(cells)*w, h, len(cells)*w, h, b.String()))
}

// lagSVG draws the start lags of runs (oldest first) as a sparkline.
func lagSVG(runs []runlog.Run) template.HTML {
	var lags []float64
	for i := len(runs) - 1; i >= 0; i-- { // runs are newest first
		r := runs[i]
		if !r.StartedAt.IsZero() && (r.Outcome == runlog.OK || r.Outcome == runlog.Error) {
			lags = append(lags, ms(r.StartLag()))
		}
	}
	if len(lags) > StripSlots {
		lags = lags[len(lags)-StripSlots:]
	}
	if len(lags) < 2 {
		return ""
	}
	const w, h = 180, 14
	top := slices.Max(lags)
	if top <= 0 {
		top = 1
	}
	var pts []string
	for i, v := range lags {
		x := float64(i) * w / float64(len(lags)-1)
		y := h - 1 - max(v, 0)/top*(h-2)
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, y))
	}
	sorted := slices.Clone(lags)
	slices.Sort(sorted)
	label := fmt.Sprintf("start lag of the last %d runs: median %.1f ms, max %.1f ms", len(lags), percentile(sorted, 0.5), top)
	return template.HTML(fmt.Sprintf(`<svg class="lag" role="img" aria-label="%s" width="%d" height="%d" viewBox="0 0 %d %d"><polyline points="%s"/></svg>`,
		template.HTMLEscapeString(label), w, h, w, h, strings.Join(pts, " ")))
}

// sessionSVG draws the session s of a market as a bar from its open to
// its close, with its break and halts, and now when inside it.
func sessionSVG(s market.Session, loc *time.Location, now time.Time) template.HTML {
	if s.Open.IsZero() || !s.Close.After(s.Open) {
		return ""
	}
	const w, h = 160, 12
	span := s.Close.Sub(s.Open).Seconds()
	x := func(t time.Time) float64 { return min(max(t.Sub(s.Open).Seconds()/span, 0), 1) * w }
	local := func(t time.Time) string { return t.In(loc).Format("15:04") }
	var b strings.Builder
	fmt.Fprintf(&b, `<rect class="sess" x="0" y="2" width="%d" height="%d"/>`, w, h-4)
	parts := []string{fmt.Sprintf("session %s, %s to %s local", s.Date, local(s.Open), local(s.Close))}
	if s.HasBreak() {
		fmt.Fprintf(&b, `<rect class="sess-break" x="%.1f" y="2" width="%.1f" height="%d"/>`, x(s.BreakStart), x(s.BreakEnd)-x(s.BreakStart), h-4)
		parts = append(parts, fmt.Sprintf("break %s to %s", local(s.BreakStart), local(s.BreakEnd)))
	}
	for _, hl := range s.Halts {
		fmt.Fprintf(&b, `<rect class="sess-halt" x="%.1f" y="2" width="%.1f" height="%d"/>`, x(hl.From), max(x(hl.To)-x(hl.From), 1), h-4)
		parts = append(parts, fmt.Sprintf("halted %s to %s", local(hl.From), local(hl.To)))
	}
	if !now.Before(s.Open) && now.Before(s.Close) {
		fmt.Fprintf(&b, `<line class="sess-now" x1="%.1f" x2="%.1f" y1="0" y2="%d"/>`, x(now), x(now), h)
		parts = append(parts, "now "+local(now))
	}
	return template.HTML(fmt.Sprintf(`<svg class="session" role="img" aria-label="%s" width="%d" height="%d" viewBox="0 0 %d %d">%s</svg>`,
		template.HTMLEscapeString(strings.Join(parts, "; ")), w, h, w, h, b.String()))
}
