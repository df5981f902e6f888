package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"

	"heartbeat/internal/decimal"
	"heartbeat/internal/keys"
	"heartbeat/internal/marketdata"
	"heartbeat/internal/testinfra"
	"heartbeat/internal/ticks"
)

// trade writes one trade of sym at the fake clock's time and commits it
// through Intraday, as a worker would.
func (f *siteFixture) trade(t *testing.T, sym, price, size string) {
	t.Helper()
	ctx := context.Background()
	n, err := f.engine.ShardOf(sym)
	testinfra.Must(t, err, "shard")
	now := f.clock.Now()
	testinfra.Must(t, f.rdb.XAdd(ctx, &redis.XAddArgs{Stream: keys.Ticks(n), Values: []string{ticks.FieldSymbol, sym,
		ticks.FieldPrice, price, ticks.FieldSize, size, ticks.FieldTS, fmt.Sprint(now.UnixMilli())}}).Err(), "XADD")
	_, err = f.engine.Intraday(ctx, n, now)
	testinfra.Must(t, err, "Intraday")
}

func figureOf(t *testing.T, e sseEvent) IntradayView {
	t.Helper()
	if e.name != "figure" || e.id != "" {
		t.Fatalf("event %+v, want a figure without an id", e)
	}
	var v IntradayView
	testinfra.Must(t, json.Unmarshal([]byte(e.data), &v), "figure")
	return v
}

// TestStreamSSE: the client gets the current figures of its symbols that
// have any, then each committed change of its symbols (not of others),
// the figures of GET /symbols/{symbol}/intraday; bad symbol lists are
// refused naming the problem; leaving frees the subscription.
func TestStreamSSE(t *testing.T) {
	t.Parallel()
	f := setupSite(t, "", at(t, monday))
	f.trade(t, "SPY", "100.00", "10")
	f.trade(t, "SPY", "101.00", "30")

	c := openSSE(t, f.url+"/api/v1/stream?symbols=SPY,%20RY.TO", "")
	v := figureOf(t, c.next(t))
	if v.Symbol != "SPY" || v.Last.String() != "101" || v.Volume.String() != "40" || v.Trades != 2 || v.VWAP != "100.75" || v.Session != "2026-03-02" {
		t.Fatalf("current figure %+v, want SPY last 101, volume 40, VWAP 100.75", v)
	}
	var want IntradayView
	if code, _, body := f.call(t, http.MethodGet, "/api/v1/symbols/SPY/intraday", "", nil, &want); code != 200 {
		t.Fatalf("intraday: %d %s", code, body)
	}
	if got, _ := json.Marshal(v); !strings.Contains(string(got), `"vwap":"100.75"`) || v.LastTick != want.LastTick || v.OpenBar == nil {
		t.Fatalf("stream figure %s differs from GET /symbols/SPY/intraday %+v", got, want)
	}
	if n := testutil.ToFloat64(f.metrics.SSEClients.WithLabelValues("figures")); n != 1 {
		t.Fatalf("heartbeat_sse_clients{stream=figures} = %v with one client", n)
	}

	f.trade(t, "BTCUSD", "90000", "1") // nobody follows it
	f.clock.Advance(2 * time.Second)
	f.trade(t, "RY.TO", "500.00", "5")
	if v := figureOf(t, c.next(t)); v.Symbol != "RY.TO" || v.Last.String() != "500" {
		t.Fatalf("after RY.TO's commit: %+v", v)
	}
	f.trade(t, "SPY", "102.00", "60")
	if v := figureOf(t, c.next(t)); v.Symbol != "SPY" || v.Last.String() != "102" || v.Volume.String() != "100" || v.VWAP != "101.5" {
		t.Fatalf("after SPY's commit: %+v, want last 102, volume 100, VWAP 101.5", v)
	}
	if n := testutil.CollectAndCount(f.metrics.LiveLag); n != 2 {
		t.Fatalf("heartbeat_live_lag_seconds has %d series, want read and sent", n)
	}

	for _, tc := range []struct {
		query string
		code  int
		says  string
	}{
		{"", 400, "symbols"},
		{"?symbols=,", 400, "symbols"},
		{"?symbols=SPY,NOPE", 404, "NOPE"},
		{"?symbols=" + manySymbols(101), 400, "at most 100"},
	} {
		code, _, body := f.call(t, http.MethodGet, "/api/v1/stream"+tc.query, "", nil, nil)
		if code != tc.code || !strings.Contains(body, tc.says) {
			t.Errorf("GET /api/v1/stream%s: %d %s; want %d naming %q", tc.query, code, body, tc.code, tc.says)
		}
	}

	c.res.Body.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		subs := f.live.Subscribers()
		total := 0
		for _, n := range subs {
			total += n
		}
		if total == 0 && testutil.ToFloat64(f.metrics.SSEClients.WithLabelValues("figures")) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("10 s after the client left: subscriptions %v, clients gauge %v", subs, testutil.ToFloat64(f.metrics.SSEClients.WithLabelValues("figures")))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// manySymbols lists n distinct symbols.
func manySymbols(n int) string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("S%d", i)
	}
	return strings.Join(out, ",")
}

// The change is the session's last minus the previous close, when the
// session has a trade and there is a previous close.
func TestIntradayViewChange(t *testing.T) {
	t.Parallel()
	d := decimal.MustParse
	for _, tc := range []struct {
		name      string
		trades    int64
		last      string
		prevClose string
		want      string // "" = no change field
	}{
		{"up", 3, "101.25", "99.5", "1.75"},
		{"down", 3, "98", "99.5", "-1.5"},
		{"unchanged", 1, "99.5", "99.5", "0"},
		{"no trade yet in the session", 0, "0", "99.5", ""},
		{"no previous close", 3, "101.25", "0", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := marketdata.SymbolState{Symbol: "SPY", PrevClose: d(tc.prevClose), Cur: marketdata.Figures{Trades: tc.trades, Last: d(tc.last)}}
			js, err := RenderFigure(&st)
			testinfra.Must(t, err, "render")
			var v struct {
				Change *string `json:"change"`
			}
			testinfra.Must(t, json.Unmarshal(js, &v), "decode")
			got := ""
			if v.Change != nil {
				got = *v.Change
			}
			if got != tc.want {
				t.Fatalf("change = %q, want %q (%s)", got, tc.want, js)
			}
		})
	}
}
