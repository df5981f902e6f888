package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"heartbeat/internal/bars"
	"heartbeat/internal/decimal"
	"heartbeat/internal/jobs"
	"heartbeat/internal/market"
	"heartbeat/internal/marketdata"
	"heartbeat/internal/runlog"
	"heartbeat/internal/schedule"
	"heartbeat/internal/scheduler"
	"heartbeat/internal/ticks"
)

// The JSON API: read-only GETs under /api/v1/. Times are RFC 3339 in UTC;
// durations are in seconds (_s) or milliseconds (_ms); prices and volumes
// are exact decimals in strings. Errors are
//
//	{"error": "message", "status": 404}
//
// with the same status code on the response.

// APIPrefix starts every API path.
const APIPrefix = "/api/v1"

// Limits of the API's query parameters.
const (
	defaultRunsLimit = 50
	maxRunsLimit     = 1000
	maxBarsRange     = 7 * 24 * time.Hour
	maxVwapPoints    = 10_000
	maxPreview       = 1000
)

// apiError is an error with its HTTP status.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &apiError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) error {
	return &apiError{http.StatusNotFound, fmt.Sprintf(format, args...)}
}

// statusOf maps an error to its HTTP status: an apiError's own, 404 for
// unknown jobs and symbols, 503 when a backing store did not answer, 500
// otherwise.
func statusOf(err error) int {
	var ae *apiError
	var ne net.Error
	switch {
	case errors.As(err, &ae):
		return ae.status
	case errors.Is(err, scheduler.ErrUnknownJob), errors.Is(err, marketdata.ErrUnknownSymbol), errors.Is(err, market.ErrUnknownMarket):
		return http.StatusNotFound
	case errors.Is(err, scheduler.ErrNothingToTrigger):
		return http.StatusConflict
	case errors.Is(err, scheduler.ErrInvalidSetting):
		return http.StatusBadRequest
	case errors.Is(err, scheduler.ErrNoEnqueuer):
		return http.StatusServiceUnavailable
	case errors.As(err, &ne), errors.Is(err, context.DeadlineExceeded), errors.Is(err, redis.ErrClosed),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF): // Redis closed the connection
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// errorBody is every API error's body.
type errorBody struct {
	Error  string `json:"error"`
	Status int    `json:"status"`
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: msg, Status: status})
}

// apiHandler is an API endpoint: it returns the body or an error.
type apiHandler func(r *http.Request) (any, error)

func (site *Site) api(h apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		v, err := h(r.WithContext(ctx))
		if err != nil {
			status := statusOf(err)
			if status >= 500 {
				site.d.Log.Warn().Err(err).Str("path", r.URL.Path).Int("status", status).Msg("api request failed")
			}
			writeError(w, status, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, v)
	})
}

func (site *Site) mountAPI(s *Server) {
	get := func(path string, h apiHandler) { s.Handle("GET "+APIPrefix+path, site.api(h)) }
	get("/{$}", site.apiIndex)
	get("/status", func(r *http.Request) (any, error) { return site.snapshot(r.Context()), nil })
	get("/markets", site.apiMarkets)
	get("/markets/{market}", site.apiMarket)
	get("/jobs", site.apiJobs)
	get("/jobs/{job}", site.apiJob)
	get("/jobs/{job}/preview", site.apiPreview)
	get("/runs", site.apiRuns)
	get("/replicas", func(r *http.Request) (any, error) {
		v, err := site.replicas(r.Context(), site.d.Clock.Now())
		return map[string]any{"replicas": v}, err
	})
	get("/workers", func(r *http.Request) (any, error) {
		v, err := site.workers()
		return map[string]any{"workers": v}, err
	})
	get("/deadletters", func(r *http.Request) (any, error) {
		v, err := site.deadLetters(r.Context())
		return map[string]any{"dead_letters": v}, err
	})
	get("/audit", site.apiAudit)
	s.Handle("GET "+APIPrefix+"/events", http.HandlerFunc(site.serveEvents))
	s.Handle("GET "+APIPrefix+"/stream", http.HandlerFunc(site.serveStream))
	get("/symbols", site.apiSymbols)
	get("/symbols/{symbol}", site.apiSymbol)
	get("/symbols/{symbol}/intraday", func(r *http.Request) (any, error) { return site.intraday(r.Context(), r.PathValue("symbol")) })
	get("/symbols/{symbol}/week52", func(r *http.Request) (any, error) {
		return found(site.d.Engine.Week52Of(r.Context(), r.PathValue("symbol")))("52-week figures", r.PathValue("symbol"))
	})
	get("/symbols/{symbol}/24h", func(r *http.Request) (any, error) {
		return found(site.d.Engine.RollingOf(r.Context(), r.PathValue("symbol")))("24-hour figures", r.PathValue("symbol"))
	})
	get("/symbols/{symbol}/session_volume", func(r *http.Request) (any, error) {
		return found(site.d.Engine.SessionVolumeOf(r.Context(), r.PathValue("symbol")))("session volume", r.PathValue("symbol"))
	})
	get("/symbols/{symbol}/vwap", site.apiVwap)
	get("/symbols/{symbol}/bars", site.apiBars)
	s.Handle(APIPrefix+"/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no endpoint %s %s; see GET %s/", r.Method, r.URL.Path, APIPrefix))
	}))
}

// found turns a (value, ok, err) read into the endpoint's answer: 404 when
// the figure has not been computed yet.
func found[T any](v T, ok bool, err error) func(what, symbol string) (any, error) {
	return func(what, symbol string) (any, error) {
		switch {
		case err != nil:
			return nil, err
		case !ok:
			return nil, notFound("no %s for %s yet", what, symbol)
		}
		return v, nil
	}
}

func (site *Site) apiIndex(*http.Request) (any, error) {
	return map[string]any{"endpoints": []string{
		"GET " + APIPrefix + "/status",
		"GET " + APIPrefix + "/markets",
		"GET " + APIPrefix + "/markets/{market}",
		"GET " + APIPrefix + "/jobs",
		"GET " + APIPrefix + "/jobs/{job}",
		"GET " + APIPrefix + "/jobs/{job}/preview?n=10&after=RFC3339",
		"GET " + APIPrefix + "/runs?job=JOB&limit=50",
		"GET " + APIPrefix + "/replicas",
		"GET " + APIPrefix + "/workers",
		"GET " + APIPrefix + "/deadletters",
		"GET " + APIPrefix + "/audit?limit=50",
		"GET " + APIPrefix + "/events  (Server-Sent Events: a snapshot per market, then every market event; resume with Last-Event-ID)",
		"GET " + APIPrefix + "/stream?symbols=A,B  (Server-Sent Events: each symbol's intraday figures, then at most once a second as Intraday commits)",
		"GET " + APIPrefix + "/symbols",
		"GET " + APIPrefix + "/symbols/{symbol}",
		"GET " + APIPrefix + "/symbols/{symbol}/intraday",
		"GET " + APIPrefix + "/symbols/{symbol}/week52",
		"GET " + APIPrefix + "/symbols/{symbol}/24h",
		"GET " + APIPrefix + "/symbols/{symbol}/session_volume",
		"GET " + APIPrefix + "/symbols/{symbol}/vwap?from=&to=&limit=",
		"GET " + APIPrefix + "/symbols/{symbol}/bars?from=&to=&source=all|redis|store",
		"POST " + APIPrefix + "/jobs/{job}/pause   (Authorization: Bearer TOKEN; body {\"note\": \"...\"})",
		"POST " + APIPrefix + "/jobs/{job}/resume  (Authorization: Bearer TOKEN)",
		"POST " + APIPrefix + "/jobs/{job}/trigger (Authorization: Bearer TOKEN)",
		"POST " + APIPrefix + "/jobs/{job}/set     (Authorization: Bearer TOKEN; body {\"settings\": {\"interval\": \"2s\"}, \"note\": \"...\"})",
		"POST " + APIPrefix + "/jobs/{job}/reset   (Authorization: Bearer TOKEN)",
	}}, nil
}

func (site *Site) apiMarkets(*http.Request) (any, error) {
	now := site.d.Clock.Now()
	board, warnings := marketBoard(site.book(), now)
	return map[string]any{"now": now.UTC(), "markets": board, "warnings": warnings}, nil
}

// MarketDetail is one market with its instruments, its composite and
// every override entry in force.
type MarketDetail struct {
	MarketView
	// OverridesInForce are all the entries applied to the market's
	// calendar, the file's then the runtime ones (Overrides keeps only
	// those from today to 7 days ahead).
	OverridesInForce []OverrideView    `json:"overrides_in_force"`
	Instruments      []string          `json:"instruments"`
	Composite        map[string]string `json:"composite,omitempty"` // as MarketMetrics last wrote it
}

func (site *Site) apiMarket(r *http.Request) (any, error) {
	book := site.book()
	code, err := book.ParseCode(r.PathValue("market"))
	if err != nil {
		return nil, notFound("%v", err)
	}
	cal, err := book.Lookup(code)
	if err != nil {
		return nil, notFound("%v", err)
	}
	d := MarketDetail{MarketView: marketView(cal, site.d.Clock.Now()), OverridesInForce: overrideViews(cal, market.Date{}, market.Date{}),
		Instruments: []string{}}
	for _, in := range site.d.Engine.Instruments().OfMarket(code) {
		d.Instruments = append(d.Instruments, in.Symbol)
	}
	if d.Composite, err = site.d.Engine.MarketFigures(r.Context(), string(code)); err != nil {
		return nil, err
	}
	return d, nil
}

func (site *Site) apiJobs(r *http.Request) (any, error) {
	now := site.d.Clock.Now()
	recent, err := runlog.New(site.d.Redis, 0).Recent(r.Context(), "", statsWindow)
	if err != nil {
		return nil, err
	}
	leader, term, js, err := site.jobs(r.Context(), now, recent, true)
	if err != nil {
		return nil, err
	}
	return map[string]any{"now": now.UTC(), "replica": site.cfg.Replica, "leader": leader, "term": term, "jobs": js}, nil
}

// jobName checks a job path segment against the jobs the controls know.
func (site *Site) jobName(s string) (jobs.Name, error) {
	if _, err := site.d.Controls.Plan(jobs.Name(s)); err != nil {
		return "", err
	}
	return jobs.Name(s), nil
}

func (site *Site) apiJob(r *http.Request) (any, error) {
	name, err := site.jobName(r.PathValue("job"))
	if err != nil {
		return nil, err
	}
	recent, err := runlog.New(site.d.Redis, 0).Recent(r.Context(), "", statsWindow)
	if err != nil {
		return nil, err
	}
	_, _, js, err := site.jobs(r.Context(), site.d.Clock.Now(), recent, true)
	if err != nil {
		return nil, err
	}
	for _, j := range js {
		if j.Job == name {
			return j, nil
		}
	}
	return nil, notFound("job %s not found", name)
}

// PreviewSlot is one slot of a job's preview.
type PreviewSlot struct {
	Slot        time.Time `json:"slot"`
	Enqueue     bool      `json:"enqueue"`
	MarketsOpen bool      `json:"markets_open"`
	Parts       []string  `json:"parts"`
	Decision    string    `json:"decision"`
}

// PreviewSlots returns a plan's next n slots after an instant with their
// gate decisions: what `scheduler preview` prints and
// GET /api/v1/jobs/{job}/preview returns.
func PreviewSlots(p schedule.Plan, after time.Time, n int) []PreviewSlot {
	ds := scheduler.Preview(p, after, n)
	out := make([]PreviewSlot, 0, len(ds))
	for _, d := range ds {
		ps := PreviewSlot{Slot: d.Slot.UTC(), Enqueue: d.Enqueue, MarketsOpen: d.Active, Parts: []string{}, Decision: d.Why}
		for _, part := range d.Parts {
			name := part.Name
			if name == "" {
				name = "all"
			}
			ps.Parts = append(ps.Parts, name)
		}
		out = append(out, ps)
	}
	return out
}

func (site *Site) apiPreview(r *http.Request) (any, error) {
	name, err := site.jobName(r.PathValue("job"))
	if err != nil {
		return nil, err
	}
	p, err := site.d.Controls.Plan(name)
	if err != nil {
		return nil, err
	}
	n, err := intParam(r, "n", 10, 1, maxPreview)
	if err != nil {
		return nil, err
	}
	after, err := timeParam(r, "after", site.d.Clock.Now())
	if err != nil {
		return nil, err
	}
	return map[string]any{"job": name, "after": after.UTC(), "slots": PreviewSlots(p, after, n)}, nil
}

// apiRuns pages the run history, newest first: ?job=&part=&outcome=
// &from=&to= (RFC 3339) filter, ?before=ID continues from a page's
// next_before, ?limit=N. A request reads at most runlog.MaxScan entries;
// when it stops short, next_before says where to continue.
func (site *Site) apiRuns(r *http.Request) (any, error) {
	q := r.URL.Query()
	query := runlog.Query{Job: q.Get("job"), Part: q.Get("part"), Outcome: runlog.Outcome(q.Get("outcome"))}
	if query.Job != "" {
		if _, err := site.jobName(query.Job); err != nil {
			return nil, badRequest("job: %v", err)
		}
	}
	if query.Outcome != "" && !query.Outcome.Recorded() {
		return nil, badRequest("outcome: must be ok, error, expired or skipped_overlap, got %q", query.Outcome)
	}
	if len(query.Part) > 64 {
		return nil, badRequest("part: longer than 64 characters")
	}
	var err error
	if query.Limit, err = intParam(r, "limit", defaultRunsLimit, 1, maxRunsLimit); err != nil {
		return nil, err
	}
	if query.From, err = timeParam(r, "from", time.Time{}); err != nil {
		return nil, err
	}
	if query.To, err = timeParam(r, "to", time.Time{}); err != nil {
		return nil, err
	}
	if query.Before, err = streamIDParam(r, "before"); err != nil {
		return nil, err
	}
	page, err := runlog.New(site.d.Redis, 0).Page(r.Context(), query)
	if err != nil {
		return nil, err
	}
	out := make([]RunView, 0, len(page.Runs))
	for _, run := range page.Runs {
		out = append(out, runView(run))
	}
	return map[string]any{"job": query.Job, "limit": query.Limit, "runs": out, "next_before": page.Next, "scanned": page.Scanned}, nil
}

// streamIDParam reads a Redis stream entry ID (MS-SEQ) from the query.
func streamIDParam(r *http.Request, name string) (string, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return "", nil
	}
	ms, seq, ok := strings.Cut(v, "-")
	if _, err := strconv.ParseUint(ms, 10, 64); err != nil || !ok {
		return "", badRequest("%s: want a stream entry ID such as 1764000000000-0, got %q", name, v)
	}
	if _, err := strconv.ParseUint(seq, 10, 64); err != nil {
		return "", badRequest("%s: want a stream entry ID such as 1764000000000-0, got %q", name, v)
	}
	return v, nil
}

func (site *Site) apiAudit(r *http.Request) (any, error) {
	limit, err := intParam(r, "limit", 50, 1, scheduler.AuditMaxLen)
	if err != nil {
		return nil, err
	}
	before, err := streamIDParam(r, "before")
	if err != nil {
		return nil, err
	}
	entries, next, err := scheduler.AuditPage(r.Context(), site.d.Redis, before, limit)
	if err != nil {
		return nil, err
	}
	return map[string]any{"audit": entries, "next_before": next}, nil
}

// SymbolView is one configured instrument.
type SymbolView struct {
	Symbol string  `json:"symbol"`
	Market string  `json:"market"`
	Shard  int     `json:"shard"`
	Weight float64 `json:"weight"`
}

func (site *Site) symbolView(sym string) (SymbolView, error) {
	in, ok := site.d.Engine.Instruments().Get(sym)
	if !ok {
		return SymbolView{}, fmt.Errorf("%w %q", marketdata.ErrUnknownSymbol, sym)
	}
	return SymbolView{Symbol: in.Symbol, Market: string(in.Market), Shard: ticks.Shard(in.Symbol, site.d.Engine.Settings().Shards), Weight: in.Weight}, nil
}

func (site *Site) apiSymbols(*http.Request) (any, error) {
	syms := site.d.Engine.Instruments().Symbols()
	out := make([]SymbolView, 0, len(syms))
	for _, s := range syms {
		v, err := site.symbolView(s)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return map[string]any{"symbols": out}, nil
}

// SymbolDetail is every figure of one symbol; a figure not computed yet
// is null.
type SymbolDetail struct {
	SymbolView
	Intraday      *IntradayView                    `json:"intraday"`
	Week52        *marketdata.Extremes             `json:"week52"`
	Rolling24h    *marketdata.Rolling              `json:"rolling_24h"`
	SessionVolume *marketdata.SessionVolumeFigures `json:"session_volume"`
	LastVwap      *marketdata.VwapPoint            `json:"last_vwap"`
}

func (site *Site) apiSymbol(r *http.Request) (any, error) {
	ctx, sym := r.Context(), r.PathValue("symbol")
	sv, err := site.symbolView(sym)
	if err != nil {
		return nil, err
	}
	d := SymbolDetail{SymbolView: sv}
	if iv, err := site.intraday(ctx, sym); err == nil {
		d.Intraday = iv
	} else if statusOf(err) != http.StatusNotFound {
		return nil, err
	}
	e := site.d.Engine
	if x, ok, err := e.Week52Of(ctx, sym); err != nil {
		return nil, err
	} else if ok {
		d.Week52 = &x
	}
	if x, ok, err := e.RollingOf(ctx, sym); err != nil {
		return nil, err
	} else if ok {
		d.Rolling24h = &x
	}
	if x, ok, err := e.SessionVolumeOf(ctx, sym); err != nil {
		return nil, err
	} else if ok {
		d.SessionVolume = &x
	}
	now := site.d.Clock.Now()
	if pts, err := e.VwapSeries(ctx, sym, now.Add(-24*time.Hour), now.Add(time.Minute), 0); err != nil {
		return nil, err
	} else if len(pts) > 0 {
		d.LastVwap = &pts[len(pts)-1]
	}
	return d, nil
}

// IntradayView is a symbol's intraday state: its current session's
// figures, the open 1-minute bar and the tick counters.
type IntradayView struct {
	Symbol  string      `json:"symbol"`
	Market  string      `json:"market"`
	Session string      `json:"session"`
	Open    decimal.Dec `json:"open"`
	High    decimal.Dec `json:"high"`
	Low     decimal.Dec `json:"low"`
	Last    decimal.Dec `json:"last"`
	Volume  decimal.Dec `json:"volume"`
	Trades  int64       `json:"trades"`
	VWAP    string      `json:"vwap"`
	// Change is Last minus PrevClose, when the session has a trade and
	// the session before it a close.
	Change       *decimal.Dec `json:"change,omitempty"`
	PrevClose    decimal.Dec  `json:"prev_close"`
	LastPrice    decimal.Dec  `json:"last_price"` // latest tick, in session or not
	LastTick     time.Time    `json:"last_tick,omitzero"`
	Ticks        int64        `json:"ticks"`
	OutOfSession int64        `json:"out_of_session"`
	OpenBar      *BarView     `json:"open_bar,omitempty"`
}

func (site *Site) intraday(ctx context.Context, sym string) (*IntradayView, error) {
	st, ok, err := site.d.Engine.State(ctx, sym)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound("no intraday state for %s yet (no tick)", sym)
	}
	return intradayView(&st), nil
}

// intradayView is a symbol's intraday figures as the API and the live
// stream show them.
func intradayView(st *marketdata.SymbolState) *IntradayView {
	c := st.Cur
	v := &IntradayView{Symbol: st.Symbol, Market: st.Market, Session: c.Session, Open: c.Open, High: c.High, Low: c.Low, Last: c.Last,
		Volume: c.Volume, Trades: c.Trades, VWAP: decimal.VWAP(c.Notional, c.Volume), PrevClose: st.PrevClose, LastPrice: st.LastPrice,
		Ticks: st.Ticks, OutOfSession: st.OutOfSession}
	if c.Trades > 0 && st.PrevClose != 0 {
		if ch, ok := c.Last.Add(-st.PrevClose); ok {
			v.Change = &ch
		}
	}
	if st.LastTS != 0 {
		v.LastTick = time.UnixMilli(st.LastTS).UTC()
	}
	if st.Bar != nil {
		b := redisBar(*st.Bar)
		b.Source = "open"
		v.OpenBar = &b
	}
	return v
}

// RenderFigure encodes a symbol's state as GET /api/v1/stream sends it:
// the IntradayView of GET /api/v1/symbols/{symbol}/intraday.
func RenderFigure(st *marketdata.SymbolState) ([]byte, error) {
	return json.Marshal(intradayView(st))
}

func (site *Site) apiVwap(r *http.Request) (any, error) {
	sym := r.PathValue("symbol")
	if _, err := site.symbolView(sym); err != nil {
		return nil, err
	}
	now := site.d.Clock.Now()
	to, err := timeParam(r, "to", now.Add(time.Minute))
	if err != nil {
		return nil, err
	}
	from, err := timeParam(r, "from", to.Add(-24*time.Hour).Add(-time.Minute))
	if err != nil {
		return nil, err
	}
	if !from.Before(to) {
		return nil, badRequest("from %s must be before to %s", from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
	}
	limit, err := intParam(r, "limit", maxVwapPoints, 1, maxVwapPoints)
	if err != nil {
		return nil, err
	}
	pts, err := site.d.Engine.VwapSeries(r.Context(), sym, from, to, limit)
	if err != nil {
		return nil, err
	}
	if pts == nil {
		pts = []marketdata.VwapPoint{}
	}
	return map[string]any{"symbol": sym, "from": from.UTC(), "to": to.UTC(), "points": pts}, nil
}

// BarView is a closed (or open) 1-minute bar as the API shows it.
type BarView struct {
	Start    time.Time   `json:"start"`
	Open     decimal.Dec `json:"open"`
	High     decimal.Dec `json:"high"`
	Low      decimal.Dec `json:"low"`
	Close    decimal.Dec `json:"close"`
	Volume   decimal.Dec `json:"volume"`
	Trades   int64       `json:"trades"`
	VWAP     string      `json:"vwap"`
	Revision int         `json:"revision"`
	// Source is where the bar was read: redis (the last day or so,
	// including bars not flushed yet), store (the durable store) or open
	// (the bar in progress).
	Source string `json:"source"`
}

func redisBar(b marketdata.Bar) BarView {
	return BarView{Start: time.UnixMilli(b.Start).UTC(), Open: b.Open, High: b.High, Low: b.Low, Close: b.Close, Volume: b.Volume,
		Trades: b.Trades, VWAP: decimal.VWAP(b.Notional, b.Volume), Revision: b.Revision, Source: "redis"}
}

// storedBar is the view of a closed bar read from source.
func storedBar(b bars.Bar, source string) BarView {
	return BarView{Start: b.Start.UTC(), Open: b.Open, High: b.High, Low: b.Low, Close: b.Close, Volume: b.Volume,
		Trades: b.Trades, VWAP: b.VWAP(), Revision: b.Revision, Source: source}
}

// apiBars returns a symbol's closed 1-minute bars with start in [from, to)
// from Redis and the durable store, merged by marketdata.MergeBars.
func (site *Site) apiBars(r *http.Request) (any, error) {
	sym := r.PathValue("symbol")
	if _, err := site.symbolView(sym); err != nil {
		return nil, err
	}
	now := site.d.Clock.Now()
	to, err := timeParam(r, "to", now)
	if err != nil {
		return nil, err
	}
	from, err := timeParam(r, "from", to.Add(-time.Hour))
	if err != nil {
		return nil, err
	}
	switch {
	case !from.Before(to):
		return nil, badRequest("from %s must be before to %s", from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
	case to.Sub(from) > maxBarsRange:
		return nil, badRequest("range %s exceeds %s", to.Sub(from), maxBarsRange)
	}
	source := r.URL.Query().Get("source")
	switch source {
	case "":
		source = "all"
	case "all", "redis", "store":
	default:
		return nil, badRequest("source: want all, redis or store, got %q", source)
	}
	if source == "store" && site.d.Store == nil {
		return nil, &apiError{http.StatusServiceUnavailable, "no durable store on this replica"}
	}
	var recent []marketdata.Bar
	var stored []bars.Bar
	stores := []string{}
	if source != "store" {
		if recent, err = site.d.Engine.MinuteBars(r.Context(), sym, from, to); err != nil {
			return nil, err
		}
		stores = append(stores, marketdata.SourceRedis)
	}
	if source != "redis" && site.d.Store != nil {
		if stored, err = site.d.Store.Range(r.Context(), sym, from, to); err != nil {
			return nil, fmt.Errorf("durable store: %w", err)
		}
		stores = append(stores, marketdata.SourceStore)
	}
	in, _ := site.d.Engine.Instruments().Get(sym)
	merged := marketdata.MergeBars(sym, string(in.Market), recent, stored)
	out := make([]BarView, len(merged))
	for i, b := range merged {
		out[i] = storedBar(b.Bar, b.Source)
	}
	return map[string]any{"symbol": sym, "from": from.UTC(), "to": to.UTC(), "sources": stores, "bars": out}, nil
}

// intParam reads an integer query parameter in [lo, hi], def when absent.
func intParam(r *http.Request, name string, def, lo, hi int) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, badRequest("%s: want an integer %d-%d, got %q", name, lo, hi, s)
	}
	return n, nil
}

// timeParam reads an instant: RFC 3339, or Unix milliseconds; def when
// absent.
func timeParam(r *http.Request, name string, def time.Time) (time.Time, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms), nil
	}
	return time.Time{}, badRequest("%s: want RFC 3339 (2026-03-02T14:30:00Z) or Unix milliseconds, got %q", name, s)
}
