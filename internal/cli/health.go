package cli

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"heartbeat/internal/buildinfo"
	"heartbeat/internal/config"
)

// IsVersion reports whether args ask for the version (--version, -version
// or version as the only argument), and prints it to w if so.
func IsVersion(args []string, w io.Writer) bool {
	if len(args) != 1 || (args[0] != "--version" && args[0] != "-version" && args[0] != "version") {
		return false
	}
	fmt.Fprintln(w, buildinfo.Get().String())
	return true
}

// RunHealthcheck is the `healthcheck` subcommand of a program: flags
// --config, --addr (default addrOf(config)) and --timeout, then
// Healthcheck.
func RunHealthcheck(ctx context.Context, name string, args []string, stderr io.Writer, addrOf func(config.Config) string) error {
	fs := NewFlags(name+" healthcheck", stderr)
	common := AddCommon(fs)
	addr := fs.String("addr", "", "host:port of the process's HTTP endpoint (default from the config)")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if err := Parse(fs, args); err != nil {
		return err
	}
	cfg, err := common.Load(fs)
	if err != nil {
		return err
	}
	if *addr == "" {
		*addr = addrOf(cfg)
	}
	return Healthcheck(ctx, *addr, cfg.HTTP.TLS(), *timeout)
}

// Healthcheck asks the process serving addr (host:port or :port, as in
// scheduler.http and worker.http) whether it is ready: GET /readyz must
// answer 200 within timeout. It is what a container's HEALTHCHECK runs, so
// it needs no shell or curl in the image. With useTLS it asks over HTTPS
// without verifying the certificate: it only talks to its own host, whose
// certificate names the service, not the loopback address.
func Healthcheck(ctx context.Context, addr string, useTLS bool, timeout time.Duration) error {
	if addr == "" {
		return Usagef("healthcheck: the HTTP endpoint is disabled (empty address): nothing to ask")
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return Usagef("healthcheck: address %q: %w", addr, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	scheme, client := "http", http.DefaultClient
	if useTLS {
		scheme = "https"
		client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // see above
	}
	url := scheme + "://" + net.JoinHostPort(host, port) + "/readyz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %s: %w", url, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s: %d %s", url, res.StatusCode, body)
	}
	return nil
}
