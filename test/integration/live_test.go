package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// checkLiveFigures follows symbols on a scheduler replica's
// GET /api/v1/stream and waits until every symbol has had two figures,
// the second showing more ticks than the first: Intraday's commits on
// every shard (on whichever node holds it) reached the replica's hub and
// the client.
func checkLiveFigures(t *testing.T, addr string, symbols []string, bound time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/api/v1/stream?symbols="+strings.Join(symbols, ","), nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /api/v1/stream on %s: %v", addr, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET /api/v1/stream on %s: %d %s", addr, res.StatusCode, res.Header.Get("Content-Type"))
	}
	first := map[string]int64{}
	done := map[string]bool{}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for len(done) < len(symbols) && sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var f struct {
			Symbol string `json:"symbol"`
			Ticks  int64  `json:"ticks"`
			VWAP   string `json:"vwap"`
		}
		if err := json.Unmarshal([]byte(data), &f); err != nil {
			t.Fatalf("figure %q: %v", data, err)
		}
		n, seen := first[f.Symbol]
		switch {
		case !seen:
			first[f.Symbol] = f.Ticks
		case f.Ticks > n:
			done[f.Symbol] = true
		}
	}
	if len(done) < len(symbols) {
		t.Fatalf("within %s the stream on %s updated %d of %d symbols (first figures %v): %v", bound, addr, len(done), len(symbols), first, sc.Err())
	}
}
