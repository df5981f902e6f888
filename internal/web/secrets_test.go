package web

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"heartbeat/internal/config"
	"heartbeat/internal/testinfra"
)

// TestNoSecretLeaks: with the control tokens and the store password given
// from files, no secret value appears in any page or API answer, in the
// metrics, or in what the site logged — also after refused and accepted
// controls. A named token's holder is named in the audit.
func TestNoSecretLeaks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	secrets := map[string]string{
		"token":  "tok-UNNAMED-7f3a9c",
		"alice":  "tok-ALICE-51e0d2",
		"pgpass": "pg-PASSWORD-c0ffee",
	}
	files := map[string]string{}
	for name, v := range secrets {
		files[name] = filepath.Join(dir, name)
		testinfra.Must(t, os.WriteFile(files[name], []byte(v+"\n"), 0o600), "write secret")
	}
	f := setupSite(t, "", at(t, monday), func(c *config.Config) {
		c.HTTP.TokenFile = files["token"]
		c.HTTP.Tokens = map[string]string{"alice": files["alice"]}
		c.Store.PostgresPasswordFile = files["pgpass"]
	})

	// A wrong token, a right unnamed one, alice's.
	if code, _, body := f.call(t, http.MethodPost, "/api/v1/jobs/intraday/pause", "tok-WRONG", map[string]string{"note": "x"}, nil); code != http.StatusUnauthorized {
		t.Fatalf("wrong token: %d %s", code, body)
	}
	var ok ControlResponse
	if code, _, body := f.call(t, http.MethodPost, "/api/v1/jobs/intraday/pause", secrets["token"], map[string]string{"note": "x"}, &ok); code != http.StatusOK {
		t.Fatalf("token from http.token_file: %d %s", code, body)
	}
	if code, _, body := f.call(t, http.MethodPost, "/api/v1/jobs/intraday/resume", secrets["alice"], nil, &ok); code != http.StatusOK ||
		!strings.HasPrefix(ok.Audit.Actor, "http:alice@") {
		t.Fatalf("alice's token: %d %s (actor %q)", code, body, ok.Audit.Actor)
	}

	var seen strings.Builder
	for _, path := range []string{"/", "/api/v1", "/api/v1/jobs", "/api/v1/jobs/intraday", "/api/v1/markets", "/api/v1/markets/XNYS",
		"/api/v1/runs", "/api/v1/audit", "/api/v1/replicas", "/api/v1/workers", "/api/v1/deadletters", "/api/v1/symbols",
		"/api/v1/calendar/entries", "/api/v1/calendar/export", "/metrics", "/api/v1/nope"} {
		code, _, body := f.call(t, http.MethodGet, path, "", nil, nil)
		if code >= 500 {
			t.Fatalf("GET %s: %d %s", path, code, body)
		}
		seen.WriteString(body)
	}
	seen.WriteString(f.logs.String())
	all := seen.String()
	if !strings.Contains(all, "http:alice@") {
		t.Fatal("the audit shown does not name alice: the check below would prove nothing")
	}
	for name, v := range secrets {
		if strings.Contains(all, v) {
			t.Errorf("secret %s appears in a page, an API answer, the metrics or the logs", name)
		}
	}
}
