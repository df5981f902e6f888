package marketdata

import (
	"sort"

	"heartbeat/internal/bars"
)

// Where a merged bar was read.
const (
	SourceRedis = "redis"
	SourceStore = "store"
)

// SourcedBar is a closed 1-minute bar and where it was read (SourceRedis
// or SourceStore).
type SourcedBar struct {
	bars.Bar
	Source string
}

// MergeBars is the one merge of a symbol's closed 1-minute bars read from
// Redis (recent, as MinuteBars returns them) and from the durable store
// (stored): by start, the higher revision wins and Redis wins a tie (it
// is where amendments land first, before the flush copies them). The
// result is sorted by start; Redis bars are converted with Bar.Durable
// for symbol on market. The status API and the pre-open backtest read
// bars through it.
func MergeBars(symbol, market string, recent []Bar, stored []bars.Bar) []SourcedBar {
	byStart := make(map[int64]SourcedBar, len(recent)+len(stored))
	for _, b := range stored {
		byStart[b.Start.UnixMilli()] = SourcedBar{Bar: b, Source: SourceStore}
	}
	for _, b := range recent {
		if have, ok := byStart[b.Start]; !ok || have.Revision <= b.Revision {
			byStart[b.Start] = SourcedBar{Bar: b.Durable(symbol, market), Source: SourceRedis}
		}
	}
	out := make([]SourcedBar, 0, len(byStart))
	for _, b := range byStart {
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}
