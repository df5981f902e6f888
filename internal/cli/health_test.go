package cli

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestHealthcheck(t *testing.T) {
	t.Parallel()
	var ready atomic.Bool
	ready.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
			return
		}
		if !ready.Load() {
			http.Error(w, "not leading yet", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	port := addr[strings.LastIndex(addr, ":"):]
	ctx := context.Background()
	if err := Healthcheck(ctx, addr, false, time.Second); err != nil {
		t.Fatalf("ready: %v", err)
	}
	// ":port" and "0.0.0.0:port" (how scheduler.http is written) ask the loopback.
	for _, a := range []string{port, "0.0.0.0" + port} {
		if err := Healthcheck(ctx, a, false, time.Second); err != nil {
			t.Fatalf("%s: %v", a, err)
		}
	}
	ready.Store(false)
	if err := Healthcheck(ctx, addr, false, time.Second); err == nil || !strings.Contains(err.Error(), "503 not leading yet") {
		t.Fatalf("not ready: %v", err)
	}
	var ue UsageError
	if err := Healthcheck(ctx, "", false, time.Second); !errors.As(err, &ue) {
		t.Fatalf("empty address: %v, want a usage error", err)
	}
	if err := Healthcheck(ctx, "127.0.0.1:1", false, time.Second); err == nil {
		t.Fatal("nothing listening: no error")
	}
}

func TestIsVersion(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if !IsVersion([]string{"--version"}, &out) || !strings.HasPrefix(out.String(), "heartbeat ") {
		t.Fatalf("--version printed %q", out.String())
	}
	if IsVersion([]string{"--version", "x"}, &out) || IsVersion(nil, &out) || IsVersion([]string{"--redis"}, &out) {
		t.Fatal("not a version request")
	}
}
