package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"heartbeat/internal/bars"
	"heartbeat/internal/calendars"
	"heartbeat/internal/clock"
	"heartbeat/internal/config"
	"heartbeat/internal/jobs"
	"heartbeat/internal/live"
	"heartbeat/internal/marketdata"
	"heartbeat/internal/metrics"
	"heartbeat/internal/scheduler"
	"heartbeat/internal/testinfra"
)

// siteFixture is a Site over miniredis with a fake clock, a scheduler
// replica that is built but not started, and an in-memory bar store.
type siteFixture struct {
	mr      *miniredis.Miniredis
	rdb     *redis.Client
	clock   *clock.Fake
	metrics *metrics.Metrics
	engine  *marketdata.Engine
	store   *bars.Memory
	site    *Site
	live    *live.Hub
	url     string
	logs    *syncBuffer  // everything the site and the server logged
	handler http.Handler // what the server serves: the routes behind the hardening
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// setupSite starts the site's routes on an httptest server at now; edits
// change the default config first (an overrides file, say).
func setupSite(t testing.TB, token string, now time.Time, edits ...func(*config.Config)) *siteFixture {
	t.Helper()
	mr, rdb := testinfra.Mini(t)
	cfg := config.Default()
	for _, edit := range edits {
		edit(&cfg)
	}
	instruments, err := cfg.MarketInstruments()
	testinfra.Must(t, err, "instruments")
	conn := asynq.RedisClientOpt{Addr: mr.Addr()}
	client := asynq.NewClient(conn)
	t.Cleanup(func() { client.Close() })
	fc := clock.NewFake(now)
	m := metrics.New()
	sc := scheduler.Config{Replica: "replica-a", Lock: true, LeaseTTL: 2 * time.Second, RenewEvery: 500 * time.Millisecond,
		FastTick: time.Second, SlowTick: time.Minute, Retention: time.Hour, Shards: cfg.Ingest.Shards}
	for _, name := range jobs.Names() {
		spec, j := cfg.Job(name)
		sc.Jobs = append(sc.Jobs, scheduler.JobConfig{Spec: spec, Enabled: j.Enabled && name != jobs.ClosedBarsFlush})
	}
	sched, err := scheduler.New(sc, scheduler.Deps{Redis: rdb, Enqueuer: client, Instruments: instruments, Clock: fc, Log: zerolog.Nop(), Metrics: m})
	testinfra.Must(t, err, "scheduler")
	controls, err := scheduler.NewControls(sc, scheduler.ControlDeps{Redis: rdb, Enqueuer: client, Instruments: instruments, Clock: fc,
		Calendars: calendars.New(rdb, instruments.Book())})
	testinfra.Must(t, err, "controls")
	set, err := marketdata.SettingsFrom(cfg)
	testinfra.Must(t, err, "settings")
	store := bars.NewMemory()
	eng, err := marketdata.New(set, marketdata.Deps{Redis: rdb, Instruments: instruments, Store: store, Log: zerolog.Nop()})
	testinfra.Must(t, err, "engine")
	// Tokens from the config (http.token_file, http.tokens), the token
	// argument over the unnamed one.
	tokens, err := cfg.OperatorTokens()
	testinfra.Must(t, err, "tokens")
	if token == "" {
		token = tokens[""]
	}
	delete(tokens, "")
	logs := &syncBuffer{}
	log := zerolog.New(logs)
	// The live hub on the same fake clock; its reads wait 50 ms of real
	// time before they look at the clock again.
	hub, err := live.New(live.Config{Block: 50 * time.Millisecond}, live.Deps{Source: eng, Render: RenderFigure, Clock: fc, Log: log,
		Lag: m.LiveLag.WithLabelValues("read")})
	testinfra.Must(t, err, "live hub")
	testinfra.Must(t, hub.Start(context.Background()), "live hub")
	t.Cleanup(func() { _ = hub.Stop(context.Background()) })
	site, err := NewSite(SiteConfig{Replica: "replica-a", Token: token, Tokens: tokens}, SiteDeps{Redis: rdb, ConnOpt: conn, Scheduler: sched,
		Controls: controls, Engine: eng, Store: store, Metrics: m, Live: hub, Clock: fc, Log: log})
	testinfra.Must(t, err, "site")
	t.Cleanup(func() { site.Close() })
	srv := New("127.0.0.1:0", m, nil, log)
	site.Mount(srv)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &siteFixture{mr: mr, rdb: rdb, clock: fc, metrics: m, engine: eng, store: store, site: site, live: hub, url: hs.URL, logs: logs, handler: srv.Handler()}
}

// call sends a request and decodes a JSON answer into out (when not nil).
func (f *siteFixture) call(t *testing.T, method, path, token string, body any, out any) (int, http.Header, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		testinfra.Must(t, err, "encode body")
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, f.url+path, rd)
	testinfra.Must(t, err, "request")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	testinfra.Must(t, err, method+" "+path)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	testinfra.Must(t, err, "read body")
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %d %s: not JSON: %v", method, path, res.StatusCode, raw, err)
		}
	}
	return res.StatusCode, res.Header, string(raw)
}

func at(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func decodeBody(t *testing.T, res *http.Response, out any) {
	t.Helper()
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		t.Fatalf("%s: not JSON: %v", res.Request.URL, err)
	}
}
