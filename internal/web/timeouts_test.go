package web

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"heartbeat/internal/metrics"
)

// startLimited starts a Server with short limits and a streaming route
// that writes a line every step, n times.
func startLimited(t *testing.T, lim limits, step time.Duration, n int) *Server {
	t.Helper()
	s := New("127.0.0.1:0", metrics.New(), nil, zerolog.Nop())
	s.lim = lim
	s.Handle("GET /stream", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := range n {
			fmt.Fprintf(w, "line %d\n", i)
			http.NewResponseController(w).Flush()
			select {
			case <-time.After(step):
			case <-r.Context().Done():
				return
			}
		}
	}))
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	return s
}

// TestServerTimeouts: a client that does not finish its headers, or an
// idle keep-alive connection, is closed by the server; a long-lived
// stream that writes more often than the write timeout keeps working
// long past it (the deadline is per write, not per answer).
func TestServerTimeouts(t *testing.T) {
	t.Parallel()
	lim := limits{readHeader: 300 * time.Millisecond, read: time.Second, idle: 300 * time.Millisecond, write: 300 * time.Millisecond}
	s := startLimited(t, lim, 100*time.Millisecond, 15) // 1.5 s of stream, 5 × the write timeout

	// Headers never finished: closed (EOF) after the read-header timeout.
	closedAfter := func(t *testing.T, c net.Conn) {
		t.Helper()
		_ = c.SetReadDeadline(time.Now().Add(20 * lim.readHeader)) // a bound far past the limit, not a measurement
		_, err := io.ReadAll(c)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("the server kept the connection open past 20 × its limit")
		}
	}
	slow, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	fmt.Fprint(slow, "GET /healthz HTTP/1.1\r\nHost: x\r\n") // no blank line: headers unfinished
	closedAfter(t, slow)

	// Idle keep-alive: one answered request, then nothing.
	idle, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	fmt.Fprint(idle, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	res, err := http.ReadResponse(bufio.NewReader(idle), nil)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", res, err)
	}
	res.Body.Close()
	closedAfter(t, idle)

	// The stream: every line arrives although the answer lasts 5 × the
	// write timeout.
	resp, err := http.Get("http://" + s.Addr() + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("stream cut: %v after %q", err, body)
	}
	if n := strings.Count(string(body), "line "); n != 15 {
		t.Fatalf("stream delivered %d lines, want 15: %q", n, body)
	}
}
