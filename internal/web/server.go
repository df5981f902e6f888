// Package web serves Heartbeat's HTTP endpoints: Prometheus metrics,
// health and readiness, and (on schedulers) the status page, the JSON API,
// the operator controls and asynqmon.
package web

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	stdlog "log"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	"heartbeat/internal/metrics"
)

// Server is an HTTP server with the operational endpoints; more routes can
// be added with Handle before Start.
//
// Hardening, for every route: a request's headers must arrive within
// ReadHeaderTimeout and fit MaxHeaderBytes, its body within ReadTimeout
// and MaxBodyBytes; an idle keep-alive connection is closed after
// IdleTimeout; each write of an answer must finish within WriteTimeout
// (a deadline set per write, not per answer, so a long-lived stream keeps
// working while it writes); security headers on every answer (a strict
// Content-Security-Policy with no inline script, no framing) except under
// asynqmon's path, which needs inline scripts and sets its own.
type Server struct {
	addr  string
	mux   *http.ServeMux
	srv   *http.Server
	ln    net.Listener
	log   zerolog.Logger
	ready func(ctx context.Context) error
	tls   *TLSFiles
	lim   limits
	// stopping is canceled when Stop begins: every request's context
	// derives from it, so long-lived streams end and Shutdown can finish.
	stopping context.Context
	stop     context.CancelFunc
}

// limits are the server's timeouts; the constants below, except in tests.
type limits struct {
	readHeader, read, idle, write time.Duration
}

var defaultLimits = limits{readHeader: ReadHeaderTimeout, read: ReadTimeout, idle: IdleTimeout, write: WriteTimeout}

// Limits of the HTTP server.
const (
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 15 * time.Second
	IdleTimeout       = 60 * time.Second
	WriteTimeout      = 15 * time.Second // per write
	MaxHeaderBytes    = 16 << 10
	MaxBodyBytes      = 64 << 10
)

// TLSFiles are the certificate and key the server serves HTTPS with
// (http.tls_cert_file, http.tls_key_file).
type TLSFiles struct{ CertFile, KeyFile string }

// ServeTLS makes Start serve HTTPS with files; call it before Start.
func (s *Server) ServeTLS(files TLSFiles) { s.tls = &files }

// securityHeaders are set on every answer outside asynqmon.
var securityHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
		"frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
	"X-Content-Type-Options": "nosniff",
	"X-Frame-Options":        "DENY",
	"Referrer-Policy":        "no-referrer",
}

// harden wraps every request: body size limit, per-write deadlines and
// the security headers.
func (s *Server) harden(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		}
		if !strings.HasPrefix(r.URL.Path, MonitoringPath+"/") {
			for k, v := range securityHeaders {
				w.Header().Set(k, v)
			}
		}
		next.ServeHTTP(&deadlineWriter{ResponseWriter: w, rc: http.NewResponseController(w), timeout: s.lim.write}, r)
	})
}

// deadlineWriter gives each write its own deadline.
type deadlineWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
}

func (d *deadlineWriter) extend() { _ = d.rc.SetWriteDeadline(time.Now().Add(d.timeout)) }

func (d *deadlineWriter) WriteHeader(code int) { d.extend(); d.ResponseWriter.WriteHeader(code) }

func (d *deadlineWriter) Write(b []byte) (int, error) { d.extend(); return d.ResponseWriter.Write(b) }

// Flush lets streaming handlers flush through the wrapper.
func (d *deadlineWriter) Flush() { _ = d.FlushError() }

// FlushError flushes and reports a failed write (a client gone), which
// http.ResponseController.Flush returns to streaming handlers.
func (d *deadlineWriter) FlushError() error { d.extend(); return d.rc.Flush() }

// Unwrap lets http.ResponseController reach the connection.
func (d *deadlineWriter) Unwrap() http.ResponseWriter { return d.ResponseWriter }

// New returns a server for addr with /metrics, /healthz and /readyz.
// ready decides readiness; nil means always ready.
func New(addr string, m *metrics.Metrics, ready func(ctx context.Context) error, log zerolog.Logger) *Server {
	s := &Server{addr: addr, mux: http.NewServeMux(), log: log, ready: ready, lim: defaultLimits}
	s.stopping, s.stop = context.WithCancel(context.Background())
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry}))
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	s.mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if s.ready != nil {
			ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
			defer cancel()
			if err := s.ready(ctx); err != nil {
				w.WriteHeader(http.StatusServiceUnavailable)
				fmt.Fprintln(w, "not ready:", err)
				return
			}
		}
		fmt.Fprintln(w, "ready")
	})
	return s
}

// Handler returns what Start serves: the routes behind the hardening.
func (s *Server) Handler() http.Handler { return s.harden(s.mux) }

// Handle adds a route (Go 1.22 pattern syntax).
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// Start listens and serves in the background.
func (s *Server) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("http: listen on %s: %w", s.addr, err)
	}
	s.ln = ln
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: s.lim.readHeader, ReadTimeout: s.lim.read,
		IdleTimeout: s.lim.idle, MaxHeaderBytes: MaxHeaderBytes, BaseContext: func(net.Listener) context.Context { return s.stopping }, ErrorLog: stdlog.New(zerologWriter{s.log}, "", 0)}
	serve := func() error { return s.srv.Serve(ln) }
	if s.tls != nil {
		if _, err := tls.LoadX509KeyPair(s.tls.CertFile, s.tls.KeyFile); err != nil {
			ln.Close()
			return fmt.Errorf("http: TLS certificate %s and key %s: %w", s.tls.CertFile, s.tls.KeyFile, err)
		}
		s.srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		serve = func() error { return s.srv.ServeTLS(ln, s.tls.CertFile, s.tls.KeyFile) }
	}
	go func() {
		if err := serve(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error().Err(err).Msg("http server stopped")
		}
	}()
	s.log.Info().Str("addr", ln.Addr().String()).Msg("http listening")
	return nil
}

// zerologWriter sends net/http's own errors (TLS handshakes, oversized
// headers) to the logger at debug level.
type zerologWriter struct{ l zerolog.Logger }

func (z zerologWriter) Write(p []byte) (int, error) {
	z.l.Debug().Str("component", "net/http").Msg(strings.TrimSpace(string(p)))
	return len(p), nil
}

// Addr returns the address listened on (after Start).
func (s *Server) Addr() string {
	if s.ln == nil {
		return s.addr
	}
	return s.ln.Addr().String()
}

// Stop shuts the server down gracefully within ctx. Safe to call twice.
func (s *Server) Stop(ctx context.Context) error {
	if s.srv == nil {
		return nil
	}
	s.stop() // streams see their request's context end
	if err := s.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http: shutdown: %w", err)
	}
	return nil
}
