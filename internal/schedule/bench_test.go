package schedule

import (
	"testing"
	"time"

	"heartbeat/internal/market"
)

// benchPlan builds a plan on the markets of the built-in jobs' usual
// instruments, split by 4 shards where the kind allows.
func benchPlan(b *testing.B, s Spec) Plan {
	b.Helper()
	e := env(b, market.XNYS, market.XLON, market.XETR, market.XHKG, market.CMES)
	e.Split, e.Shards, e.CloseGrace = SplitShard, 4, 15*time.Second
	if s.At != "" || s.Within != "" {
		e.Split = SplitMarket
	}
	return mustNew(b, s, e)
}

// walk calls Next from each slot, starting over at from after a week, so
// the figures average across opens, closes and a weekend.
func walk(b *testing.B, p Plan) {
	b.Helper()
	from := utc(b, "2026-11-20T00:00:00Z")
	end := from.AddDate(0, 0, 7)
	prev := from
	b.ReportAllocs()
	for b.Loop() {
		d := p.Next(prev)
		if prev = d.Slot; prev.After(end) {
			prev = from
		}
	}
}

// BenchmarkNextInterval is Intraday's plan: 1 s slots, gate open, the
// slow cadence while closed.
func BenchmarkNextInterval(b *testing.B) { walk(b, benchPlan(b, Spec{Every: time.Second})) }

// BenchmarkNextCron is a 5-minute cron in New York.
func BenchmarkNextCron(b *testing.B) {
	walk(b, benchPlan(b, Spec{Cron: "0 */5 * * * *", TZ: "America/New_York"}))
}

// BenchmarkNextAt is an end-of-session job, two minutes after XNYS's close.
func BenchmarkNextAt(b *testing.B) { walk(b, benchPlan(b, Spec{At: "XNYS.close+2m"})) }

// BenchmarkNextWithin is the pre-open backtest's window on five markets.
func BenchmarkNextWithin(b *testing.B) {
	walk(b, benchPlan(b, Spec{Within: "open-60s..open-1s", Every: 30 * time.Second}))
}
