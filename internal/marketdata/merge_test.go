package marketdata

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"heartbeat/internal/bars"
	"heartbeat/internal/decimal"
)

func TestMergeBars(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 23, 14, 30, 0, 0, time.UTC)
	minute := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	recent := func(m, rev int, close string) Bar {
		return Bar{Start: minute(m).UnixMilli(), Close: decimal.MustParse(close), Revision: rev}
	}
	stored := func(m, rev int, close string) bars.Bar {
		return bars.Bar{Symbol: "SPY", Market: "XNYS", Start: minute(m), Close: decimal.MustParse(close), Revision: rev}
	}
	want := func(m, rev int, close, source string) SourcedBar {
		return SourcedBar{Bar: stored(m, rev, close), Source: source}
	}
	for _, tc := range []struct {
		name   string
		recent []Bar
		stored []bars.Bar
		want   []SourcedBar
	}{
		{"nothing", nil, nil, []SourcedBar{}},
		{"redis only, sorted", []Bar{recent(2, 1, "3"), recent(1, 1, "2")}, nil,
			[]SourcedBar{want(1, 1, "2", SourceRedis), want(2, 1, "3", SourceRedis)}},
		{"store only", nil, []bars.Bar{stored(0, 1, "1")}, []SourcedBar{want(0, 1, "1", SourceStore)}},
		{"higher revision wins, redis on a tie",
			[]Bar{recent(0, 2, "1.2"), recent(1, 1, "2.1"), recent(2, 1, "3.1"), recent(4, 1, "5")},
			[]bars.Bar{stored(0, 1, "1.1"), stored(1, 3, "2.3"), stored(2, 1, "3.0"), stored(3, 1, "4")},
			[]SourcedBar{want(0, 2, "1.2", SourceRedis), want(1, 3, "2.3", SourceStore), want(2, 1, "3.1", SourceRedis),
				want(3, 1, "4", SourceStore), want(4, 1, "5", SourceRedis)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := MergeBars("SPY", "XNYS", tc.recent, tc.stored)
			if diff := cmp.Diff(tc.want, got, cmp.Comparer(func(a, b decimal.Dec) bool { return a.String() == b.String() })); diff != "" {
				t.Fatalf("MergeBars (-want +got):\n%s", diff)
			}
		})
	}
}
