package web

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"heartbeat/internal/keys"
)

// TestCalendarControls: entries over HTTP need the token, are checked
// against the calendar, listed with who and when, exported, and removed;
// each action is audited.
func TestCalendarControls(t *testing.T) {
	t.Parallel()
	f := setupSite(t, "s3cret", at(t, monday))
	closure := map[string]string{"market": "XNYS", "kind": "holiday", "date": "2027-01-11", "name": "national day of mourning", "note": "desk"}

	// No token, wrong token: 401 and nothing stored.
	for _, token := range []string{"", "wrong"} {
		if code, _, body := f.call(t, http.MethodPost, "/api/v1/calendar/entries", token, closure, nil); code != http.StatusUnauthorized {
			t.Fatalf("token %q: %d %s", token, code, body)
		}
	}
	if n := f.rdb.HLen(t.Context(), keys.Settings()).Val(); n != 0 {
		t.Fatalf("%d entries stored by refused requests", n)
	}

	var ok ControlResponse
	if code, _, body := f.call(t, http.MethodPost, "/api/v1/calendar/entries", "s3cret", closure, &ok); code != http.StatusOK || !ok.OK ||
		ok.Audit.Entry != "calendar:XNYS:2027-01-11:holiday" || !strings.HasPrefix(ok.Audit.Actor, "http:") {
		t.Fatalf("POST: %d %s", code, body)
	}
	for _, tc := range []struct {
		body map[string]string
		code int
		msg  string
	}{
		{map[string]string{"market": "XNYS", "kind": "early_close", "date": "2027-01-11", "close": "13:00"}, http.StatusBadRequest, "both a holiday"},
		{map[string]string{"market": "XNYS", "kind": "halt", "date": "2027-03-11", "from": "08:00", "to": "09:00"}, http.StatusBadRequest, "inside the session"},
		{map[string]string{"market": "XNYS", "kind": "recess", "date": "2027-03-11"}, http.StatusBadRequest, "unknown override kind"},
		{map[string]string{"market": "XNYS", "kind": "halt", "date": "2027-03-11", "from": "25:00", "to": "26:00"}, http.StatusBadRequest, "from:"},
		{map[string]string{"market": "XNYS", "kind": "holiday", "date": "2027-01-12", "color": "red"}, http.StatusBadRequest, "unknown field"},
		{map[string]string{"market": "XXXX", "kind": "holiday", "date": "2027-01-12"}, http.StatusBadRequest, "unknown market"},
	} {
		var e errorBody
		if code, _, body := f.call(t, http.MethodPost, "/api/v1/calendar/entries", "s3cret", tc.body, &e); code != tc.code || !strings.Contains(body, tc.msg) {
			t.Fatalf("POST %v: %d %s, want %d %q", tc.body, code, body, tc.code, tc.msg)
		}
	}

	// Ten control requests so far: let this client's rate limit refill.
	f.clock.Advance(10 * time.Second)
	var list struct {
		Entries []CalendarEntryView `json:"entries"`
	}
	if code, _, body := f.call(t, http.MethodGet, "/api/v1/calendar/entries", "", nil, &list); code != http.StatusOK || len(list.Entries) != 1 ||
		list.Entries[0].ID != "calendar:XNYS:2027-01-11:holiday" || list.Entries[0].Name != "national day of mourning" || list.Entries[0].Actor == "" {
		t.Fatalf("GET entries: %d %s", code, body)
	}
	// The export comes from this replica's book, which its watcher syncs;
	// the test site has none running, so it shows the file's entries only.
	if code, h, _ := f.call(t, http.MethodGet, "/api/v1/calendar/export", "", nil, nil); code != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "application/yaml") {
		t.Fatalf("export: %d %v", code, h)
	}

	if code, _, body := f.call(t, http.MethodDelete, "/api/v1/calendar/entries/calendar:XNYS:2027-01-11:holiday", "", nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("DELETE without token: %d %s", code, body)
	}
	if code, _, body := f.call(t, http.MethodDelete, "/api/v1/calendar/entries/calendar:XNYS:2027-01-11:holiday", "s3cret", nil, &ok); code != http.StatusOK ||
		!strings.Contains(ok.Audit.Result, "removed XNYS 2027-01-11 holiday") {
		t.Fatalf("DELETE: %d %s", code, body)
	}
	if code, _, body := f.call(t, http.MethodDelete, "/api/v1/calendar/entries/calendar:XNYS:2027-01-11:holiday", "s3cret", nil, nil); code != http.StatusNotFound {
		t.Fatalf("DELETE twice: %d %s", code, body)
	}
	audit := f.rdb.XRange(t.Context(), keys.Audit, "-", "+").Val()
	var actions []string
	for _, m := range audit {
		actions = append(actions, m.Values["action"].(string))
	}
	// One add, the refused adds that reached the calendar check (audited
	// with why), and one remove.
	if got := strings.Join(actions, " "); got != "calendar_add calendar_add calendar_add calendar_add calendar_remove" {
		t.Fatalf("audit actions %q", got)
	}
}

// TestControlRateLimit: a client gets ControlBurst control requests at
// once, then 429 with Retry-After (before its token is even looked at,
// so guessing is slow too), then one a second; another client is not
// affected.
func TestControlRateLimit(t *testing.T) {
	t.Parallel()
	f := setupSite(t, "s3cret", at(t, monday))
	post := func(token string) int {
		code, _, _ := f.call(t, http.MethodPost, "/api/v1/jobs/session_volume/pause", token, nil, nil)
		return code
	}
	for i := range ControlBurst {
		token := "s3cret"
		if i%2 == 1 {
			token = "guess"
		}
		if code := post(token); code != http.StatusOK && code != http.StatusUnauthorized {
			t.Fatalf("request %d: %d", i, code)
		}
	}
	code, h, body := f.call(t, http.MethodPost, "/api/v1/jobs/session_volume/pause", "s3cret", nil, nil)
	if code != http.StatusTooManyRequests || h.Get("Retry-After") == "" || !strings.Contains(body, "too many control requests") {
		t.Fatalf("over the burst: %d %v %s", code, h, body)
	}
	if code := post("guess"); code != http.StatusTooManyRequests {
		t.Fatalf("a wrong token over the burst: %d, want 429 before the token is checked", code)
	}
	// Reads are not limited.
	if code, _, _ := f.call(t, http.MethodGet, "/api/v1/jobs", "", nil, nil); code != http.StatusOK {
		t.Fatalf("GET after the limit: %d", code)
	}
	f.clock.Advance(time.Second)
	if code := post("s3cret"); code != http.StatusOK {
		t.Fatalf("a second later: %d", code)
	}
	if code := post("s3cret"); code != http.StatusTooManyRequests {
		t.Fatalf("twice within the second: %d", code)
	}
}

// TestSecurityHeaders: the status page, the API and the controls carry a
// strict CSP (no inline script) and refuse framing; asynqmon, which needs
// inline scripts, sets its own. An oversized body is refused.
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	f := setupSite(t, "s3cret", at(t, monday))
	for _, path := range []string{"/", "/api/v1/jobs", "/static/status.css", "/metrics", "/api/v1/nope"} {
		_, h, _ := f.call(t, http.MethodGet, path, "", nil, nil)
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") ||
			h.Get("X-Frame-Options") != "DENY" || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("GET %s: headers %v", path, h)
		}
	}
	_, h, _ := f.call(t, http.MethodGet, "/monitoring/", "", nil, nil)
	if strings.Contains(h.Get("Content-Security-Policy"), "script-src 'self';") {
		t.Fatalf("asynqmon got the strict CSP, which blocks its inline scripts: %v", h)
	}
	big := map[string]string{"note": strings.Repeat("x", 2*MaxBodyBytes)}
	if code, _, body := f.call(t, http.MethodPost, "/api/v1/calendar/entries", "s3cret", big, nil); code != http.StatusBadRequest {
		t.Fatalf("oversized body: %d %s", code, body)
	}
}
