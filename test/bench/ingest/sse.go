package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// liveClients are the live figure clients of the -sse-clients phase: each
// follows its symbols with GET /api/v1/stream on the scheduler replica and
// records, for each figure, how old its newest tick is (now − last_tick)
// and how old the oldest tick it may be the first to show is (now − the
// symbol's previous figure's last_tick: a bound on every tick's
// tick-to-client latency).
type liveClients struct {
	mu      sync.Mutex
	newest  []time.Duration
	oldest  []time.Duration
	figures atomic.Int64
	errs    atomic.Int64
	opened  atomic.Int64
	record  atomic.Bool
}

// startSSEClients connects n clients, each following follow symbols drawn
// (seeded) from symbols, to base; they run until ctx ends.
func startSSEClients(ctx context.Context, base string, n, follow int, symbols []string) *liveClients {
	c := &liveClients{}
	rng := rand.New(rand.NewPCG(7, 13))
	tr := &http.Transport{MaxIdleConnsPerHost: n, DisableCompression: true}
	hc := &http.Client{Transport: tr}
	for range n {
		pick := map[string]bool{}
		for len(pick) < follow {
			pick[symbols[rng.IntN(len(symbols))]] = true
		}
		var syms []string
		for s := range pick {
			syms = append(syms, s)
		}
		go c.follow(ctx, hc, base+"/api/v1/stream?symbols="+strings.Join(syms, ","))
	}
	return c
}

var (
	symbolField   = []byte(`"symbol":"`)
	lastTickField = []byte(`"last_tick":"`)
)

func (c *liveClients) follow(ctx context.Context, hc *http.Client, url string) {
	// Connect, and reconnect after the stream ends, until ctx ends (the
	// first client may come before the replica's HTTP server is up).
	prev := map[string]time.Time{}
	for connected := false; ctx.Err() == nil; {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		res, err := hc.Do(req)
		if err != nil || res.StatusCode != 200 {
			if res != nil {
				res.Body.Close()
			}
			if connected && ctx.Err() == nil {
				c.errs.Add(1)
			}
			time.Sleep(200 * time.Millisecond)
			continue
		}
		if !connected {
			c.opened.Add(1)
			connected = true
		}
		c.read(res, prev)
		res.Body.Close()
		if ctx.Err() == nil {
			c.errs.Add(1) // the stream ended while the benchmark ran
		}
	}
}

func (c *liveClients) read(res *http.Response, prev map[string]time.Time) {
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.HasPrefix(line, []byte("data: ")) {
			continue
		}
		now := time.Now()
		sym, last, ok := figureTimes(line)
		if !ok {
			c.errs.Add(1)
			continue
		}
		c.figures.Add(1)
		if p, seen := prev[sym]; seen && c.record.Load() {
			c.mu.Lock()
			c.newest = append(c.newest, now.Sub(last))
			c.oldest = append(c.oldest, now.Sub(p))
			c.mu.Unlock()
		}
		prev[sym] = last
	}
}

// figureTimes reads a figure's symbol and last_tick without decoding the
// whole of it (the clients share the machine with what they measure).
func figureTimes(line []byte) (string, time.Time, bool) {
	field := func(name []byte) (string, bool) {
		i := bytes.Index(line, name)
		if i < 0 {
			return "", false
		}
		rest := line[i+len(name):]
		j := bytes.IndexByte(rest, '"')
		if j < 0 {
			return "", false
		}
		return string(rest[:j]), true
	}
	sym, ok1 := field(symbolField)
	ts, ok2 := field(lastTickField)
	if !ok1 || !ok2 {
		return "", time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	return sym, t, err == nil
}

// start begins recording; report prints the figures.
func (c *liveClients) start() { c.record.Store(true) }

func (c *liveClients) report(window time.Duration) string {
	c.record.Store(false)
	c.mu.Lock()
	defer c.mu.Unlock()
	sort.Slice(c.newest, func(i, j int) bool { return c.newest[i] < c.newest[j] })
	sort.Slice(c.oldest, func(i, j int) bool { return c.oldest[i] < c.oldest[j] })
	return fmt.Sprintf("%d clients connected, %d errors; %d figures measured (%.0f/s)\n"+
		"tick to client, newest tick of each figure: p50 %s, p99 %s, max %s\n"+
		"tick to client, bound for every tick (now − the symbol's previous figure's newest tick): p50 %s, p99 %s, max %s",
		c.opened.Load(), c.errs.Load(), len(c.newest), float64(len(c.newest))/window.Seconds(),
		pct(c.newest, 0.5), pct(c.newest, 0.99), pct(c.newest, 1), pct(c.oldest, 0.5), pct(c.oldest, 0.99), pct(c.oldest, 1))
}

// lagHistogram reads the replica's heartbeat_live_lag_seconds buckets of
// one stage: upper bound → cumulative count.
func lagHistogram(addr, stage string) (map[float64]float64, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, fmt.Errorf("scheduler metrics: %w", err)
	}
	defer resp.Body.Close()
	out := map[float64]float64{}
	prefix := `heartbeat_live_lag_seconds_bucket{stage="` + stage + `",le="`
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), prefix)
		if !ok {
			continue
		}
		le, count, _ := strings.Cut(rest, `"} `)
		bound, err1 := strconv.ParseFloat(le, 64)
		n, err2 := strconv.ParseFloat(count, 64)
		if err1 != nil || err2 != nil {
			continue // +Inf
		}
		out[bound] = n
	}
	return out, sc.Err()
}

// lagQuantiles returns the bucket bounds at which the window's (after −
// before) observations reach the 50th and 99th percentiles.
func lagQuantiles(before, after map[float64]float64) string {
	var bounds []float64
	for b := range after {
		bounds = append(bounds, b)
	}
	sort.Float64s(bounds)
	if len(bounds) == 0 {
		return "no observation"
	}
	total := after[bounds[len(bounds)-1]] - before[bounds[len(bounds)-1]]
	at := func(q float64) string {
		for _, b := range bounds {
			if after[b]-before[b] >= q*total {
				return fmt.Sprintf("≤ %gs", b)
			}
		}
		return fmt.Sprintf("> %gs", bounds[len(bounds)-1])
	}
	return fmt.Sprintf("p50 %s, p99 %s (%.0f observations, histogram buckets)", at(0.5), at(0.99), total)
}
