package web_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"heartbeat/internal/clock"
	"heartbeat/internal/config"
	"heartbeat/internal/embedded"
	"heartbeat/internal/events"
	"heartbeat/internal/keys"
	"heartbeat/internal/market"
	"heartbeat/internal/metrics"
	"heartbeat/internal/node"
	"heartbeat/internal/redisconn"
	"heartbeat/internal/scheduler"
	"heartbeat/internal/testinfra"
	"heartbeat/internal/web"
)

// docsScreenshot makes TestStatusPageInChromium also write
// docs/status.png, the README's picture of the page:
//
//	go test ./internal/web/ -run Chromium -docs-screenshot
var docsScreenshot = flag.Bool("docs-screenshot", false, "write the status page screenshot to docs/status.png")

// outDir is where the browser tests leave their screenshots: testdata/out
// (ignored by git).
const outDir = "testdata/out"

// poll calls f every 50 ms until it returns nil or the deadline passes,
// then fails with f's last error.
func poll(t *testing.T, within time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %v", what, within, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// getJSON GETs url and decodes the JSON answer into out.
func getJSON(url string, out any) error {
	res, err := http.Get(url)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", url, res.StatusCode, b)
	}
	return json.Unmarshal(b, out)
}

// post sends a control and returns the status and the body.
func post(t *testing.T, url, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	testinfra.Must(t, err, "request")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	testinfra.Must(t, err, "POST "+url)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func testLog(t *testing.T) zerolog.Logger {
	return zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
}

// replica is one scheduler replica process's parts, in this process.
type replica struct {
	n       *node.Scheduler
	metrics *metrics.Metrics
	url     string
}

func startReplica(t *testing.T, redisURL, name, token string) *replica {
	t.Helper()
	cfg := config.Default()
	cfg.Redis.URL = redisURL
	cfg.Scheduler.Replica = name
	cfg.Scheduler.HTTP = "127.0.0.1:0"
	cfg.HTTP.Token = token
	cfg.Store.Dir = t.TempDir()
	testinfra.Must(t, cfg.Validate(), "config")
	ctx := context.Background()
	rdb, conn, err := redisconn.Redis(ctx, cfg.Redis)
	testinfra.Must(t, err, "redis")
	m := metrics.New()
	n, err := node.NewScheduler(cfg, node.SchedulerDeps{Redis: rdb, ConnOpt: conn, Clock: clock.Real{}, Log: testLog(t), Metrics: m})
	testinfra.Must(t, err, "replica "+name)
	testinfra.Must(t, n.Start(ctx), "start "+name)
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 9*time.Second)
		defer cancel()
		if err := n.Stop(sctx); err != nil {
			t.Errorf("stop %s: %v", name, err)
		}
		rdb.Close()
	})
	return &replica{n: n, metrics: m, url: "http://" + n.Web.Addr()}
}

// jobState reads one job's row from a replica's API.
func (r *replica) job(name string) (web.JobView, error) {
	var jv web.JobView
	err := getJSON(r.url+"/api/v1/jobs/"+name, &jv)
	return jv, err
}

// TestControlsAcrossReplicas pauses a job through a standby and watches the
// leader obey; a replica without a token, and a request without one,
// change nothing.
func TestControlsAcrossReplicas(t *testing.T) {
	t.Parallel()
	m, mc := testinfra.Mini(t)
	targets := []struct {
		name string
		url  string
		rdb  *redis.Client
	}{{"miniredis", "redis://" + m.Addr() + "/0", mc}}
	rs := testinfra.StartRedis(t)
	targets = append(targets, struct {
		name string
		url  string
		rdb  *redis.Client
	}{"redis", rs.URL(), rs.Client()})
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			ctx := context.Background()
			// A leads, read-only (no token); B stands by with a token.
			a := startReplica(t, tg.url, "replica-a", "")
			poll(t, 10*time.Second, "replica-a leads", func() error {
				if lead, _, _ := a.n.Sched.Status(time.Now()); !lead {
					return fmt.Errorf("not leader")
				}
				return nil
			})
			b := startReplica(t, tg.url, "replica-b", "s3cret")
			poll(t, 10*time.Second, "both replicas on B's page", func() error {
				var rs struct {
					Replicas []web.ReplicaView `json:"replicas"`
				}
				if err := getJSON(b.url+"/api/v1/replicas", &rs); err != nil {
					return err
				}
				if len(rs.Replicas) != 2 || !rs.Replicas[0].Leader || rs.Replicas[0].Replica != "replica-a" {
					return fmt.Errorf("replicas %+v", rs.Replicas)
				}
				return nil
			})
			poll(t, 10*time.Second, "A enqueues intraday", func() error {
				if jv, err := a.job("intraday"); err != nil || jv.SlotOutcomes["enqueued"] == 0 {
					return fmt.Errorf("%+v %v", jv.SlotOutcomes, err)
				}
				return nil
			})

			// Pause through the standby.
			code, body := post(t, b.url+"/api/v1/jobs/intraday/pause", "s3cret", `{"note":"feed migration"}`)
			if code != http.StatusOK {
				t.Fatalf("pause on B: %d %s", code, body)
			}
			var firstSkip float64
			poll(t, 10*time.Second, "the leader counts skipped_paused", func() error {
				jv, err := a.job("intraday")
				if err != nil {
					return err
				}
				if !jv.Paused || jv.PauseNote != "feed migration" || jv.SlotOutcomes["skipped_paused"] == 0 {
					return fmt.Errorf("paused %v note %q outcomes %v", jv.Paused, jv.PauseNote, jv.SlotOutcomes)
				}
				firstSkip = jv.SlotOutcomes["skipped_paused"]
				return nil
			})
			before, err := a.job("intraday")
			testinfra.Must(t, err, "intraday on A")
			poll(t, 10*time.Second, "two more paused slots", func() error {
				jv, err := a.job("intraday")
				if err != nil {
					return err
				}
				if jv.SlotOutcomes["skipped_paused"] < firstSkip+2 {
					return fmt.Errorf("skipped_paused %v", jv.SlotOutcomes["skipped_paused"])
				}
				if jv.SlotOutcomes["enqueued"] != before.SlotOutcomes["enqueued"] {
					return fmt.Errorf("the leader enqueued a paused job: %v -> %v", before.SlotOutcomes["enqueued"], jv.SlotOutcomes["enqueued"])
				}
				return nil
			})
			if jv, _ := b.job("intraday"); jv.SlotOutcomes["skipped_paused"] != 0 {
				t.Fatalf("the standby counted %v paused slots: only the leader decides slots", jv.SlotOutcomes["skipped_paused"])
			}

			// Refused: A has no token at all; B without the header.
			auditLen := tg.rdb.XLen(ctx, keys.Audit).Val()
			for _, c := range []struct{ url, token string }{
				{a.url + "/api/v1/jobs/intraday/resume", "s3cret"},
				{a.url + "/api/v1/jobs/session_volume/pause", ""},
				{b.url + "/api/v1/jobs/intraday/resume", ""},
				{b.url + "/api/v1/jobs/intraday/resume", "S3CRET"},
			} {
				if code, body := post(t, c.url, c.token, ""); code != http.StatusUnauthorized {
					t.Fatalf("%s with token %q: %d %s, want 401", c.url, c.token, code, body)
				}
			}
			if p, _ := scheduler.Paused(ctx, tg.rdb); len(p) != 1 || p["intraday"] != "feed migration" {
				t.Fatalf("refused POSTs changed the pauses: %v", p)
			}
			if n := tg.rdb.XLen(ctx, keys.Audit).Val(); n != auditLen {
				t.Fatalf("refused POSTs were audited: %d -> %d", auditLen, n)
			}

			// Resume through B: the leader enqueues again.
			if code, body := post(t, b.url+"/api/v1/jobs/intraday/resume", "s3cret", ""); code != http.StatusOK {
				t.Fatalf("resume on B: %d %s", code, body)
			}
			poll(t, 10*time.Second, "the leader enqueues again", func() error {
				jv, err := a.job("intraday")
				if err != nil {
					return err
				}
				if jv.Paused || jv.SlotOutcomes["enqueued"] <= before.SlotOutcomes["enqueued"] {
					return fmt.Errorf("paused %v enqueued %v", jv.Paused, jv.SlotOutcomes["enqueued"])
				}
				return nil
			})
			audit, err := scheduler.Audit(ctx, tg.rdb, 10)
			testinfra.Must(t, err, "audit")
			if len(audit) != 2 || audit[0].Action != scheduler.ActionResume || audit[1].Action != scheduler.ActionPause ||
				!strings.HasPrefix(audit[1].Actor, "http:127.0.0.1:") || audit[1].Note != "feed migration" {
				t.Fatalf("audit %+v", audit)
			}
		})
	}
}

// browser is a headless Chromium with the console errors of its page.
type browser struct {
	ctx      context.Context
	mu       sync.Mutex
	problems []string
}

// newBrowser starts Chromium; without it the test is skipped, or fails
// under CI=true.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := os.Getenv("HEARTBEAT_CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := exec.LookPath(path); err != nil {
		if testinfra.InCI() {
			t.Fatalf("CI=true and Chromium is not installed at %s (apt-get install -y chromium): %v", path, err)
		}
		t.Skipf("Chromium is not installed at %s (apt-get install -y chromium): %v", path, err)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1600, 1000),
	)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		_ = chromedp.Cancel(ctx)
		cancel()
		cancelAlloc()
	})
	b := &browser{ctx: ctx}
	messages := chromedp.Console(ctx) // starts the browser
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				b.mu.Lock()
				b.problems = append(b.problems, fmt.Sprintf("%s (%s:%d)", m, m.URL, m.Line))
				b.mu.Unlock()
			}
		}
	}()
	return b
}

// errors returns the console errors and exceptions so far.
func (b *browser) errors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.problems...)
}

// eval evaluates a JavaScript expression, within 10 s.
func eval[T any](t *testing.T, b *browser, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	testinfra.Must(t, err, "evaluate "+expr)
	return v
}

func (b *browser) navigate(t *testing.T, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	testinfra.Must(t, chromedp.Do(ctx, chromedp.Navigate(url)), "navigate to "+url)
}

// screenshot writes a PNG of the whole page under outDir, and to the extra
// paths.
func (b *browser) screenshot(t *testing.T, name string, also ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	testinfra.Must(t, err, "screenshot")
	testinfra.Must(t, os.MkdirAll(outDir, 0o755), "out dir")
	for _, p := range append([]string{filepath.Join(outDir, name)}, also...) {
		testinfra.Must(t, os.WriteFile(p, png, 0o644), "write "+p)
		t.Logf("screenshot: %s (%d bytes)", p, len(png))
	}
}

// startEmbedded runs the whole system (scheduler with the site, two
// workers, the feed) on miniredis, as `scheduler --embedded` does.
func startEmbedded(t *testing.T) (*embedded.System, string) {
	t.Helper()
	cfg := config.Default()
	cfg.Scheduler.HTTP = "127.0.0.1:0"
	cfg.Store.Dir = t.TempDir()
	sys := embedded.New(cfg, testLog(t))
	testinfra.Must(t, sys.Start(context.Background()), "start embedded")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 9*time.Second)
		defer cancel()
		if err := sys.Stop(ctx); err != nil {
			t.Errorf("stop embedded: %v", err)
		}
	})
	url := "http://" + sys.Scheduler().Web.Addr()
	poll(t, 15*time.Second, "runs in the history", func() error {
		var rs struct {
			Runs []web.RunView `json:"runs"`
		}
		if err := getJSON(url+"/api/v1/runs?limit=20", &rs); err != nil {
			return err
		}
		if len(rs.Runs) < 20 {
			return fmt.Errorf("%d runs", len(rs.Runs))
		}
		return nil
	})
	return sys, url
}

func TestStatusPageInChromium(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	sys, url := startEmbedded(t)
	b.navigate(t, url+"/?refresh=1")
	if n := eval[int](t, b, `document.querySelectorAll("#jobs tbody tr[data-job]").length`); n != 8 {
		t.Fatalf("%d jobs on the page, want 8", n)
	}
	if n := eval[int](t, b, `document.querySelectorAll("#markets tbody tr[data-market]").length`); n != 12 {
		t.Fatalf("%d markets on the page, want 12", n)
	}
	first := eval[string](t, b, `document.getElementById("generated").getAttribute("datetime")`)
	poll(t, 15*time.Second, "two refreshes", func() error {
		n := eval[string](t, b, `document.body.dataset.refreshes`)
		generated := eval[string](t, b, `document.getElementById("generated").getAttribute("datetime")`)
		if n < "2" || generated == first {
			return fmt.Errorf("refreshes %s, generated %s (first %s)", n, generated, first)
		}
		return nil
	})
	// After the refreshes: still every row, the workers and the runs.
	for sel, want := range map[string]int{"#jobs tbody tr[data-job]": 8, "#markets tbody tr[data-market]": 12, "#workers tbody tr[data-worker]": 2} {
		if n := eval[int](t, b, fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)); n != want {
			t.Fatalf("%d × %s after refresh, want %d", n, sel, want)
		}
	}
	if n := eval[int](t, b, `document.querySelectorAll("#runs tbody tr.run-ok").length`); n == 0 {
		t.Fatal("no ok run in the latest runs")
	}
	if text := eval[string](t, b, `document.querySelector("#markets [data-until]").textContent`); !strings.Contains(text, " in ") {
		t.Fatalf("countdown %q", text)
	}
	// The strips: every job that has run shows its last 60 slots and a
	// start-lag sparkline, each with a text alternative; every market in
	// a session its bar.
	poll(t, 15*time.Second, "intraday's strip", func() error {
		if n := eval[int](t, b, `document.querySelectorAll('#jobs tr[data-job="intraday"] svg.slots rect').length`); n != 60 {
			return fmt.Errorf("%d cells", n)
		}
		return nil
	})
	if label := eval[string](t, b, `document.querySelector('#jobs tr[data-job="intraday"] svg.slots').getAttribute("aria-label")`); !strings.HasPrefix(label, "last 60 slots: ") || !strings.Contains(label, " ok") {
		t.Fatalf("strip label %q", label)
	}
	if n := eval[int](t, b, `document.querySelectorAll('#jobs svg.lag[aria-label] polyline').length`); n == 0 {
		t.Fatal("no start-lag sparkline")
	}
	if n := eval[int](t, b, `document.querySelectorAll('#markets svg.session[aria-label] rect.sess').length`); n < 10 {
		t.Fatalf("%d session bars, want one per market with a session", n)
	}
	// The jobs table fits a 1280-px-wide window without scrolling.
	if w := eval[int](t, b, `(() => { document.body.style.width = "1280px"; const w = document.getElementById("jobs").scrollWidth; document.body.style.width = ""; return w; })()`); w > 1280 {
		cols := eval[string](t, b, `(() => { document.body.style.width = "1280px"; const r = [...document.querySelectorAll("#jobs thead th")].map(th => th.textContent + "=" + th.getBoundingClientRect().width.toFixed(0)).join(", "); document.body.style.width = ""; return r; })()`)
		t.Fatalf("the jobs table is %d px wide in a 1280-px page: %s", w, cols)
	}
	// A market event reaches the page through /api/v1/events at once.
	rdb := redis.NewClient(&redis.Options{Addr: sys.RedisAddr()})
	defer rdb.Close()
	before := eval[string](t, b, `document.body.dataset.events`)
	at := time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC)
	if _, _, err := events.NewStream(rdb, events.DefaultRetention).Emit(context.Background(),
		events.Transition{Market: market.XNYS, Kind: events.Open, At: at, Session: market.NewDate(2026, 3, 2)}, 99); err != nil {
		t.Fatal(err)
	}
	poll(t, 15*time.Second, "the event on the page", func() error {
		text := eval[string](t, b, `document.getElementById("last-event").textContent`)
		if n := eval[string](t, b, `document.body.dataset.events`); n == before || text != "XNYS open at 14:30:00 UTC (session 2026-03-02)" {
			return fmt.Errorf("events %s (before %s), last event %q", n, before, text)
		}
		return nil
	})
	if errs := b.errors(); len(errs) > 0 {
		t.Fatalf("console errors:\n%s", strings.Join(errs, "\n"))
	}
	// Redis fails for a moment: the stream ends, the browser reconnects
	// with Last-Event-ID, and the event emitted while it was away arrives
	// once, after the one before it, which does not come again.
	poll(t, 15*time.Second, "the events stream open", func() error {
		if s := eval[string](t, b, `document.body.dataset.eventsState || ""`); s != "open" {
			return fmt.Errorf("events state %q", s)
		}
		return nil
	})
	if n := eval[string](t, b, `document.body.dataset.snapshots`); n != "12" {
		t.Fatalf("the page's stream began with %s snapshots, want one per market (12)", n)
	}
	count := eval[string](t, b, `document.body.dataset.events`)
	sys.Redis().SetError("LOADING the test made Redis fail")
	poll(t, 15*time.Second, "the page reconnecting", func() error {
		if s := eval[string](t, b, `document.body.dataset.eventsState`); s != "reconnecting" {
			return fmt.Errorf("events state %q", s)
		}
		return nil
	})
	sys.Redis().SetError("")
	if _, _, err := events.NewStream(rdb, events.DefaultRetention).Emit(context.Background(),
		events.Transition{Market: market.XNYS, Kind: events.Close, At: at.Add(390 * time.Minute), Session: market.NewDate(2026, 3, 2)}, 99); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprint(atoi(t, count) + 1)
	poll(t, 15*time.Second, "the missed event after the reconnection", func() error {
		text := eval[string](t, b, `document.getElementById("last-event").textContent`)
		n := eval[string](t, b, `document.body.dataset.events`)
		if s := eval[string](t, b, `document.body.dataset.eventsState`); s != "open" || n != want || text != "XNYS close at 21:00:00 UTC (session 2026-03-02)" {
			return fmt.Errorf("state %s, events %s (want %s), last event %q", s, n, want, text)
		}
		return nil
	})
	time.Sleep(1500 * time.Millisecond) // a repeat would come with the reconnection's first read
	if n := eval[string](t, b, `document.body.dataset.events`); n != want {
		t.Fatalf("after the reconnection the page counted %s events, want %s: an event came twice", n, want)
	}
	if n := eval[string](t, b, `document.body.dataset.snapshots`); n != "12" {
		t.Fatalf("after the reconnection the page counted %s snapshots, want still 12 (a resumed stream sends none)", n)
	}
	if errs := b.errors(); len(errs) > 0 {
		t.Fatalf("console errors after the Redis failure:\n%s", strings.Join(errs, "\n"))
	}
	var extra []string
	if *docsScreenshot {
		extra = append(extra, filepath.Join("..", "..", "docs", "status.png"))
	}
	b.screenshot(t, "status.png", extra...)
}

func TestAsynqmonQueuePageInChromium(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	sys, url := startEmbedded(t)
	// An ID without its task hash in the queue the page shows: without
	// the MEMORY USAGE work-around the page cannot load the queue.
	rdb := redis.NewClient(&redis.Options{Addr: sys.RedisAddr()})
	defer rdb.Close()
	testinfra.Must(t, rdb.ZAdd(context.Background(), "asynq:{critical}:completed",
		redis.Z{Score: float64(time.Now().Add(30 * time.Minute).Unix()), Member: "orphan"}).Err(), "orphan ID")

	b.navigate(t, url+"/monitoring/queues/critical")
	poll(t, 20*time.Second, "the queue page", func() error {
		text := eval[string](t, b, `document.body.innerText`)
		switch {
		case strings.Contains(text, "Could not"), strings.Contains(text, "eval error"):
			return fmt.Errorf("asynqmon shows an error:\n%s", text)
		case !strings.Contains(text, "critical") || !strings.Contains(text, "Memory usage") || !strings.Contains(text, "Completed"):
			return fmt.Errorf("not loaded yet:\n%s", text)
		}
		return nil
	})
	if errs := b.errors(); len(errs) > 0 {
		t.Fatalf("console errors:\n%s", strings.Join(errs, "\n"))
	}
	b.screenshot(t, "asynqmon-queue.png")

	// The control: asynqmon as its README mounts it fails on this queue.
	raw := asynqmon.New(asynqmon.Options{RootPath: web.MonitoringPath, RedisConnOpt: asynq.RedisClientOpt{Addr: sys.RedisAddr()}, ReadOnly: true})
	defer raw.Close()
	srv := httptest.NewServer(raw)
	defer srv.Close()
	b.navigate(t, srv.URL+"/monitoring/queues/critical")
	poll(t, 20*time.Second, "the unpatched queue page fails", func() error {
		text := eval[string](t, b, `document.body.innerText`)
		if !strings.Contains(text, "redis eval error") {
			return fmt.Errorf("no error shown:\n%s", text)
		}
		return nil
	})
	if len(b.errors()) == 0 {
		t.Fatal("the unpatched queue page logged no console error")
	}
	t.Logf("without the work-around: %s", strings.Join(b.errors(), "; "))
	b.screenshot(t, "asynqmon-queue-unpatched.png")
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return n
}
