package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"heartbeat/internal/bars"
	"heartbeat/internal/decimal"
	"heartbeat/internal/jobs"
	"heartbeat/internal/keys"
	"heartbeat/internal/marketdata"
	"heartbeat/internal/runlog"
	"heartbeat/internal/testinfra"
	"heartbeat/internal/ticks"
)

// monday is 14:30:00.2 UTC on Monday 2 March 2026: New York has just
// opened.
const monday = "2026-03-02T14:30:00.2Z"

func TestAPIErrors(t *testing.T) {
	t.Parallel()
	f := setupSite(t, "", at(t, monday))
	for _, tc := range []struct {
		method, path string
		status       int
		msg          string
	}{
		{"GET", "/api/v1/nope", 404, "no endpoint GET /api/v1/nope"},
		{"GET", "/api/v1/jobs/nope", 404, `unknown job "nope"`},
		{"GET", "/api/v1/jobs/nope/preview", 404, `unknown job "nope"`},
		{"GET", "/api/v1/jobs/intraday/preview?n=0", 400, "n: want an integer 1-1000"},
		{"GET", "/api/v1/jobs/intraday/preview?after=soon", 400, "after: want RFC 3339"},
		{"GET", "/api/v1/runs?job=nope", 400, `job: unknown job "nope"`},
		{"GET", "/api/v1/runs?limit=5000", 400, "limit: want an integer 1-1000"},
		{"GET", "/api/v1/markets/NOPE", 404, "NOPE"},
		{"GET", "/api/v1/symbols/NOPE", 404, `unknown symbol "NOPE"`},
		{"GET", "/api/v1/symbols/NOPE/bars", 404, `unknown symbol "NOPE"`},
		{"GET", "/api/v1/symbols/SPY/week52", 404, "no 52-week figures for SPY yet"},
		{"GET", "/api/v1/symbols/SPY/24h", 404, "no 24-hour figures for SPY yet"},
		{"GET", "/api/v1/symbols/SPY/session_volume", 404, "no session volume for SPY yet"},
		{"GET", "/api/v1/symbols/SPY/intraday", 404, "no intraday state for SPY yet"},
		{"GET", "/api/v1/symbols/SPY/bars?from=yesterday", 400, "from: want RFC 3339"},
		{"GET", "/api/v1/symbols/SPY/bars?from=2026-03-02T15:00:00Z&to=2026-03-02T14:00:00Z", 400, "must be before"},
		{"GET", "/api/v1/symbols/SPY/bars?from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z", 400, "exceeds 168h0m0s"},
		{"GET", "/api/v1/symbols/SPY/bars?source=disk", 400, "source: want all, redis or store"},
		{"GET", "/api/v1/symbols/SPY/vwap?limit=-1", 400, "limit: want an integer"},
		{"GET", "/api/v1/jobs/intraday/pause", 405, "pause needs POST"},
		{"POST", "/api/v1/jobs/intraday/explode", 404, "actions are pause, resume, trigger, set and reset"},
		{"POST", "/api/v1/markets", 404, "no endpoint POST /api/v1/markets"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			t.Parallel()
			var body errorBody
			status, h, _ := f.call(t, tc.method, tc.path, "", nil, &body)
			if status != tc.status || body.Status != tc.status || !strings.Contains(body.Error, tc.msg) {
				t.Fatalf("got %d %+v, want %d with %q", status, body, tc.status, tc.msg)
			}
			if ct := h.Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Fatalf("content type %q", ct)
			}
		})
	}
}

func TestAPIMarketsAndSymbols(t *testing.T) {
	t.Parallel()
	f := setupSite(t, "", at(t, monday))
	var ms struct {
		Markets []MarketView `json:"markets"`
	}
	f.call(t, "GET", "/api/v1/markets", "", nil, &ms)
	if len(ms.Markets) != 12 {
		t.Fatalf("%d markets, want 12", len(ms.Markets))
	}
	nyse := ms.Markets[0]
	close := at(t, "2026-03-02T21:00:00Z")
	if nyse.Market != "XNYS" || nyse.Phase != "open" || nyse.Session != "2026-03-02" || nyse.NextChange == nil ||
		!nyse.NextChange.Equal(close) || nyse.Countdown != "closes in 6h 29m" || nyse.LocalTime.Format("15:04") != "09:30" || nyse.Zone != "America/New_York" {
		t.Fatalf("XNYS %+v", nyse)
	}

	var md MarketDetail
	f.rdb.HSet(context.Background(), keys.MarketMetrics("XNYS"), "session", "2026-03-02", "up", "1")
	if status, _, body := f.call(t, "GET", "/api/v1/markets/XNYS", "", nil, &md); status != 200 ||
		!cmp.Equal(md.Instruments, []string{"SPY"}) || md.Composite["up"] != "1" {
		t.Fatalf("XNYS detail: %d %s", status, body)
	}

	var syms struct {
		Symbols []SymbolView `json:"symbols"`
	}
	f.call(t, "GET", "/api/v1/symbols", "", nil, &syms)
	if len(syms.Symbols) != 21 {
		t.Fatalf("%d symbols, want the 21 configured", len(syms.Symbols))
	}
}

// seedFigures writes what the jobs publish for SPY.
func seedFigures(t *testing.T, f *siteFixture) {
	t.Helper()
	ctx := context.Background()
	n := ticks.Shard("SPY", f.engine.Settings().Shards)
	put := func(key string, v any) {
		b, err := json.Marshal(v)
		testinfra.Must(t, err, "encode")
		testinfra.Must(t, f.rdb.HSet(ctx, key, "SPY", b).Err(), "write "+key)
	}
	put(keys.Week52(n), marketdata.Extremes{Symbol: "SPY", High: decimal.MustParse("612.5"), HighDate: "2026-01-15", Low: decimal.MustParse("480"), LowDate: "2025-04-08", Sessions: 250})
	put(keys.Rolling24h(n), marketdata.Rolling{Symbol: "SPY", Last: decimal.MustParse("600.25"), Trades: 12})
	put(keys.SessionVolume(n), marketdata.SessionVolumeFigures{Symbol: "SPY", Market: "XNYS", Session: "2026-03-02", Volume: decimal.MustParse("1500"), Trades: 40})
	put(keys.Intraday(n), marketdata.SymbolState{Symbol: "SPY", Market: "XNYS", Cur: marketdata.Figures{Session: "2026-03-02",
		Open: decimal.MustParse("600"), High: decimal.MustParse("601"), Low: decimal.MustParse("599"), Last: decimal.MustParse("600.5"),
		Volume: decimal.MustParse("10"), Trades: 2, Notional: decimal.Mul(decimal.MustParse("600.25"), decimal.MustParse("10"))}, Ticks: 2})
	for i, m := range []string{"14:30", "14:31", "14:32"} {
		minute := at(t, "2026-03-02T"+m+":00Z")
		b, _ := json.Marshal(marketdata.VwapPoint{Symbol: "SPY", Minute: minute, Session: "2026-03-02", VWAP: fmt.Sprintf("600.%d", i)})
		testinfra.Must(t, f.rdb.ZAdd(ctx, keys.VwapSeries(n, "SPY"), redis.Z{Score: float64(minute.UnixMilli()), Member: b}).Err(), "vwap")
	}
}

func TestAPISymbolFigures(t *testing.T) {
	t.Parallel()
	f := setupSite(t, "", at(t, "2026-03-02T14:33:10Z"))
	seedFigures(t, f)
	var x marketdata.Extremes
	if status, _, body := f.call(t, "GET", "/api/v1/symbols/SPY/week52", "", nil, &x); status != 200 || x.High != decimal.MustParse("612.5") {
		t.Fatalf("week52: %d %s", status, body)
	}
	var r marketdata.Rolling
	if status, _, body := f.call(t, "GET", "/api/v1/symbols/SPY/24h", "", nil, &r); status != 200 || r.Trades != 12 {
		t.Fatalf("24h: %d %s", status, body)
	}
	var sv marketdata.SessionVolumeFigures
	if status, _, body := f.call(t, "GET", "/api/v1/symbols/SPY/session_volume", "", nil, &sv); status != 200 || sv.Trades != 40 {
		t.Fatalf("session volume: %d %s", status, body)
	}
	var iv IntradayView
	if status, _, body := f.call(t, "GET", "/api/v1/symbols/SPY/intraday", "", nil, &iv); status != 200 || iv.VWAP != "600.25" || iv.Last != decimal.MustParse("600.5") {
		t.Fatalf("intraday: %d %s", status, body)
	}
	var vw struct {
		Points []marketdata.VwapPoint `json:"points"`
	}
	if status, _, body := f.call(t, "GET", "/api/v1/symbols/SPY/vwap?from=2026-03-02T14:31:00Z&to=2026-03-02T14:33:00Z", "", nil, &vw); status != 200 ||
		len(vw.Points) != 2 || vw.Points[0].VWAP != "600.1" || vw.Points[1].VWAP != "600.2" {
		t.Fatalf("vwap: %d %s", status, body)
	}
	var d SymbolDetail
	if status, _, body := f.call(t, "GET", "/api/v1/symbols/SPY", "", nil, &d); status != 200 || d.Market != "XNYS" ||
		d.Week52 == nil || d.Rolling24h == nil || d.SessionVolume == nil || d.Intraday == nil || d.LastVwap == nil || d.LastVwap.VWAP != "600.2" {
		t.Fatalf("symbol: %d %s", status, body)
	}
	// A symbol without any figure yet: every figure null, still 200.
	var empty SymbolDetail
	if status, _, body := f.call(t, "GET", "/api/v1/symbols/BTCUSD", "", nil, &empty); status != 200 || empty.Week52 != nil || empty.Intraday != nil {
		t.Fatalf("symbol without figures: %d %s", status, body)
	}
}

func TestAPIBarsMergeRedisAndStore(t *testing.T) {
	t.Parallel()
	f := setupSite(t, "", at(t, "2026-03-02T15:00:00Z"))
	ctx := context.Background()
	n := ticks.Shard("SPY", f.engine.Settings().Shards)
	redisBar := func(minute string, rev int, close string) {
		start := at(t, "2026-03-02T"+minute+":00Z").UnixMilli()
		b, _ := json.Marshal(marketdata.Bar{Start: start, Open: decimal.MustParse("600"), High: decimal.MustParse("601"), Low: decimal.MustParse("599"),
			Close: decimal.MustParse(close), Volume: decimal.MustParse("1"), Trades: 1, Revision: rev})
		testinfra.Must(t, f.rdb.ZAdd(ctx, keys.MinuteBars(n, "SPY", start/3_600_000), redis.Z{Score: float64(start), Member: b}).Err(), "bar")
	}
	storeBar := func(minute string, rev int, close string) bars.Bar {
		return bars.Bar{Symbol: "SPY", Market: "XNYS", Start: at(t, "2026-03-02T"+minute+":00Z"), Open: decimal.MustParse("600"),
			High: decimal.MustParse("601"), Low: decimal.MustParse("599"), Close: decimal.MustParse(close), Volume: decimal.MustParse("1"), Trades: 1, Revision: rev}
	}
	redisBar("14:30", 2, "600.2") // amended in Redis, not flushed yet: Redis wins
	redisBar("14:31", 1, "600.3") // amended later, flushed: the store wins
	redisBar("14:33", 1, "600.5") // not flushed
	testinfra.Must(t, f.store.Upsert(ctx, []bars.Bar{
		storeBar("14:29", 1, "600.1"), storeBar("14:30", 1, "600.0"), storeBar("14:31", 3, "600.4"),
	}), "store")

	type row struct {
		Minute, Close, Source string
		Rev                   int
	}
	rows := func(q string) []row {
		var out struct {
			Bars    []BarView `json:"bars"`
			Sources []string  `json:"sources"`
		}
		status, _, body := f.call(t, "GET", "/api/v1/symbols/SPY/bars"+q, "", nil, &out)
		if status != 200 {
			t.Fatalf("bars%s: %d %s", q, status, body)
		}
		var rs []row
		for _, b := range out.Bars {
			rs = append(rs, row{b.Start.Format("15:04"), b.Close.String(), b.Source, b.Revision})
		}
		return rs
	}
	all := []row{{"14:29", "600.1", "store", 1}, {"14:30", "600.2", "redis", 2}, {"14:31", "600.4", "store", 3}, {"14:33", "600.5", "redis", 1}}
	if diff := cmp.Diff(all, rows("?from=2026-03-02T14:00:00Z&to=2026-03-02T15:00:00Z")); diff != "" {
		t.Fatalf("merged bars (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(all[1:3], rows("?from=1772461800000&to=1772461920000")); diff != "" {
		t.Fatalf("bars by Unix ms (-want +got):\n%s", diff)
	}
	redisOnly := []row{{"14:30", "600.2", "redis", 2}, {"14:31", "600.3", "redis", 1}, {"14:33", "600.5", "redis", 1}}
	if diff := cmp.Diff(redisOnly, rows("?from=2026-03-02T14:00:00Z&source=redis")); diff != "" {
		t.Fatalf("redis bars (-want +got):\n%s", diff)
	}
	if got := rows("?from=2026-03-02T14:00:00Z&source=store"); len(got) != 3 || got[0].Source != "store" {
		t.Fatalf("store bars %+v", got)
	}
}

// TestAPILowPricedVWAP checks the API shows VWAPs of an instrument
// trading far below 1 with their 10 significant digits (12 or 14 places),
// whether it computes them (session, open bar, bars from Redis and the
// store) or passes on what the jobs stored (minute points, 24 h).
func TestAPILowPricedVWAP(t *testing.T) {
	t.Parallel()
	f := setupSite(t, "", at(t, "2026-03-02T15:00:00Z"))
	ctx := context.Background()
	n := ticks.Shard("BTCUSD", f.engine.Settings().Shards)
	// sum returns the volume and notional of (price, size) trades.
	sum := func(trades ...[2]string) (decimal.Dec, decimal.Notional) {
		var v decimal.Dec
		var notional decimal.Notional
		for _, tr := range trades {
			p, q := decimal.MustParse(tr[0]), decimal.MustParse(tr[1])
			v += q
			notional = notional.Add(decimal.Mul(p, q))
		}
		return v, notional
	}
	// Each an exact tie at its last place: 0.000012340078125,
	// 0.0014000096875 and 0.0014000003125.
	const shib, up, down = "0.00001234007812", "0.001400009688", "0.001400000312"
	sessionVol, sessionNotional := sum([2]string{"0.00001234", "127"}, [2]string{"0.00001235", "1"})
	price := decimal.MustParse("0.00001235")
	b, err := json.Marshal(marketdata.SymbolState{Symbol: "BTCUSD", Market: "ALWAYS",
		Cur: marketdata.Figures{Session: "2026-03-02", Open: price, High: price, Low: price, Last: price, Volume: sessionVol, Trades: 2, Notional: sessionNotional},
		Bar: &marketdata.Bar{Start: at(t, "2026-03-02T14:59:00Z").UnixMilli(), Open: price, High: price, Low: price, Close: price,
			Volume: sessionVol, Trades: 2, Notional: sessionNotional, Revision: 1}, Ticks: 2})
	testinfra.Must(t, err, "encode state")
	testinfra.Must(t, f.rdb.HSet(ctx, keys.Intraday(n), "BTCUSD", b).Err(), "state")

	redisVol, redisNotional := sum([2]string{"0.0014", "1"}, [2]string{"0.00140001", "31"})
	start := at(t, "2026-03-02T14:30:00Z")
	b, _ = json.Marshal(marketdata.Bar{Start: start.UnixMilli(), Open: price, High: price, Low: price, Close: price,
		Volume: redisVol, Trades: 2, Notional: redisNotional, Revision: 1})
	testinfra.Must(t, f.rdb.ZAdd(ctx, keys.MinuteBars(n, "BTCUSD", start.UnixMilli()/3_600_000), redis.Z{Score: float64(start.UnixMilli()), Member: b}).Err(), "bar")
	storeVol, storeNotional := sum([2]string{"0.0014", "31"}, [2]string{"0.00140001", "1"})
	testinfra.Must(t, f.store.Upsert(ctx, []bars.Bar{{Symbol: "BTCUSD", Market: "ALWAYS", Start: start.Add(time.Minute),
		Open: price, High: price, Low: price, Close: price, Volume: storeVol, Trades: 2, Notional: storeNotional, Revision: 1}}), "store")

	b, _ = json.Marshal(marketdata.Rolling{Symbol: "BTCUSD", Last: price, Trades: 2, VWAP: shib})
	testinfra.Must(t, f.rdb.HSet(ctx, keys.Rolling24h(n), "BTCUSD", b).Err(), "24h")
	b, _ = json.Marshal(marketdata.VwapPoint{Symbol: "BTCUSD", Minute: start, Session: "2026-03-02", VWAP: shib})
	testinfra.Must(t, f.rdb.ZAdd(ctx, keys.VwapSeries(n, "BTCUSD"), redis.Z{Score: float64(start.UnixMilli()), Member: b}).Err(), "vwap")

	var iv IntradayView
	if status, _, body := f.call(t, "GET", "/api/v1/symbols/BTCUSD/intraday", "", nil, &iv); status != 200 ||
		iv.VWAP != shib || iv.OpenBar == nil || iv.OpenBar.VWAP != shib {
		t.Fatalf("intraday: %d %s", status, body)
	}
	var bs struct {
		Bars []BarView `json:"bars"`
	}
	if status, _, body := f.call(t, "GET", "/api/v1/symbols/BTCUSD/bars?from=2026-03-02T14:00:00Z&to=2026-03-02T14:59:00Z", "", nil, &bs); status != 200 ||
		len(bs.Bars) != 2 || bs.Bars[0].Source != "redis" || bs.Bars[0].VWAP != up || bs.Bars[1].Source != "store" || bs.Bars[1].VWAP != down {
		t.Fatalf("bars: %d %s", status, body)
	}
	var r marketdata.Rolling
	if status, _, body := f.call(t, "GET", "/api/v1/symbols/BTCUSD/24h", "", nil, &r); status != 200 || r.VWAP != shib {
		t.Fatalf("24h: %d %s", status, body)
	}
	var vw struct {
		Points []marketdata.VwapPoint `json:"points"`
	}
	if status, _, body := f.call(t, "GET", "/api/v1/symbols/BTCUSD/vwap", "", nil, &vw); status != 200 || len(vw.Points) != 1 || vw.Points[0].VWAP != shib {
		t.Fatalf("vwap: %d %s", status, body)
	}
}

func TestAPIJobsAndRuns(t *testing.T) {
	t.Parallel()
	now := at(t, monday)
	f := setupSite(t, "", now)
	ctx := context.Background()
	log := runlog.New(f.rdb, 0)
	slot := at(t, "2026-03-02T14:28:20Z")
	// 100 intraday runs with start lags 1..100 ms, each taking 3 ms; the
	// newest took 7 ms.
	for i := 1; i <= 100; i++ {
		s := slot.Add(time.Duration(i) * time.Second)
		started := s.Add(time.Duration(i) * time.Millisecond)
		took := 3 * time.Millisecond
		if i == 100 {
			took = 7 * time.Millisecond
		}
		testinfra.Must(t, log.Append(ctx, runlog.Run{Job: "intraday", Slot: s, Part: strconv.Itoa(i % 4), TaskID: fmt.Sprintf("intraday:%d:%d", i%4, s.UnixMilli()),
			Term: 3, StartedAt: started, FinishedAt: started.Add(took), Outcome: runlog.OK, Worker: "w1"}), "append")
	}
	testinfra.Must(t, log.Append(ctx, runlog.Run{Job: "session_volume", Slot: slot, Outcome: runlog.Expired, StartedAt: slot.Add(11 * time.Second), FinishedAt: slot.Add(11 * time.Second)}), "append")
	f.pause(t, "session_volume", "maintenance")
	f.rdb.HSet(ctx, keys.LastSlots(), "intraday", at(t, "2026-03-02T14:30:00Z").UnixMilli())
	f.metrics.Slots.WithLabelValues("intraday", "enqueued").Add(5)

	var js struct {
		Replica string    `json:"replica"`
		Leader  bool      `json:"leader"`
		Jobs    []JobView `json:"jobs"`
	}
	if status, _, body := f.call(t, "GET", "/api/v1/jobs", "", nil, &js); status != 200 || len(js.Jobs) != 8 || js.Replica != "replica-a" || js.Leader {
		t.Fatalf("jobs: %d %s", status, body)
	}
	byName := map[jobs.Name]JobView{}
	for _, j := range js.Jobs {
		byName[j.Job] = j
	}
	in := byName[jobs.Intraday]
	switch {
	case !in.Enabled || in.Paused || in.IntervalSeconds != 1 || in.CadenceSeconds != 1 || !in.MarketsOpen:
		t.Fatalf("intraday %+v", in)
	case in.LastSlot == nil || !in.LastSlot.Equal(at(t, "2026-03-02T14:30:00Z")) || in.NextSlot == nil || !in.NextSlot.Equal(at(t, "2026-03-02T14:30:01Z")):
		t.Fatalf("intraday slots %v %v", in.LastSlot, in.NextSlot)
	case *in.StartLagP50MS != 50 || *in.StartLagP99MS != 99 || *in.LastDurationMS != 7 || in.Runs != 100 || in.RunOutcomes["ok"] != 100:
		t.Fatalf("intraday stats p50 %v p99 %v last %v runs %d", *in.StartLagP50MS, *in.StartLagP99MS, *in.LastDurationMS, in.Runs)
	case in.SlotOutcomes["enqueued"] != 5 || !strings.HasPrefix(in.NextDecision, "enqueue: open: XNYS"):
		t.Fatalf("intraday %+v", in)
	}
	sv := byName[jobs.SessionVolume]
	if !sv.Paused || sv.PauseNote != "maintenance" || sv.RunOutcomes["expired"] != 1 || sv.StartLagP50MS != nil {
		t.Fatalf("session_volume %+v", sv)
	}
	if fl := byName[jobs.ClosedBarsFlush]; fl.Enabled || fl.NextSlot != nil {
		t.Fatalf("disabled closed_bars_flush %+v", fl)
	}

	var one JobView
	if status, _, _ := f.call(t, "GET", "/api/v1/jobs/session_volume", "", nil, &one); status != 200 || !one.Paused {
		t.Fatalf("one job: %d %+v", status, one)
	}
	var runs struct {
		Runs []RunView `json:"runs"`
	}
	f.call(t, "GET", "/api/v1/runs?job=intraday&limit=3", "", nil, &runs)
	if len(runs.Runs) != 3 || runs.Runs[0].StartLagMS != 100 || runs.Runs[0].DurationMS != 7 || runs.Runs[2].StartLagMS != 98 {
		t.Fatalf("runs %+v", runs.Runs)
	}
	f.call(t, "GET", "/api/v1/runs", "", nil, &runs)
	if len(runs.Runs) != defaultRunsLimit || runs.Runs[0].Job != "session_volume" {
		t.Fatalf("%d runs, first %+v", len(runs.Runs), runs.Runs[0])
	}
	var pv struct {
		Slots []PreviewSlot `json:"slots"`
	}
	f.call(t, "GET", "/api/v1/jobs/intraday/preview?n=2&after=2026-03-02T14:29:58Z", "", nil, &pv)
	if len(pv.Slots) != 2 || pv.Slots[0].Slot.Format("15:04:05") != "14:29:59" || len(pv.Slots[0].Parts) != 4 {
		t.Fatalf("preview %+v", pv.Slots)
	}
}

func TestStatusPage(t *testing.T) {
	t.Parallel()
	f := setupSite(t, "", at(t, monday))
	f.pause(t, "session_volume", "maintenance <b>")
	status, h, body := f.call(t, "GET", "/", "", nil, nil)
	if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/html") || !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Fatalf("status page: %d %v", status, h)
	}
	for what, want := range map[string]int{`<tr data-job="`: 8, `<tr data-market="`: 12, `class="badge paused"`: 1, `class="badge off">disabled`: 1, "maintenance &lt;b&gt;": 3} { // the note: twice in the jobs table, once in the audit
		if n := strings.Count(body, what); n != want {
			t.Fatalf("%d × %s, want %d", n, what, want)
		}
	}
	if !strings.Contains(body, "read-only") || !strings.Contains(body, `data-refresh="5"`) {
		t.Fatal("page does not say it is read-only, or refresh is not 5 s")
	}
	if status, _, _ := f.call(t, "GET", "/?refresh=0", "", nil, nil); status != http.StatusBadRequest {
		t.Fatalf("refresh=0: %d", status)
	}
	if status, _, body := f.call(t, "GET", "/static/status.js", "", nil, nil); status != 200 || !strings.Contains(body, "data-refresh") {
		t.Fatalf("status.js: %d", status)
	}
	if status, _, _ := f.call(t, "GET", "/nope", "", nil, nil); status != 404 {
		t.Fatalf("/nope: %d", status)
	}
}

func TestRedisDown(t *testing.T) {
	t.Parallel()
	f := setupSite(t, "token", at(t, monday))
	downRedis(t, f)
	var body errorBody
	if status, _, _ := f.call(t, "GET", "/api/v1/jobs", "", nil, &body); status != http.StatusServiceUnavailable {
		t.Fatalf("jobs with Redis down: %d %+v", status, body)
	}
	if status, _, _ := f.call(t, "POST", "/api/v1/jobs/intraday/pause", "token", nil, &body); status != http.StatusServiceUnavailable {
		t.Fatalf("pause with Redis down: %d %+v", status, body)
	}
	// The page still renders, naming what it could not read.
	status, _, page := f.call(t, "GET", "/", "", nil, nil)
	if status != 200 || !strings.Contains(page, "Unavailable") || strings.Count(page, `<tr data-market="`) != 12 ||
		strings.Count(page, `<tr data-job="`) != 8 || strings.Count(page, `title="Redis did not answer">unknown`) != 7 {
		t.Fatalf("page with Redis down: %d", status)
	}
}

// downRedis stops the fixture's Redis and keeps its address refusing
// service: a listener there resets every connection, so no other test's
// server started on the freed port can answer for it (the OS may hand the
// port out again at once).
func downRedis(t *testing.T, f *siteFixture) {
	t.Helper()
	addr := f.mr.Addr()
	f.mr.Close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("hold %s after closing Redis: %v", addr, err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // close with a reset: the client sees a network error
			}
			c.Close()
		}
	}()
}
