package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzAPIQuery: whatever the path under /api/v1 and its query, the API
// answers JSON and never a server error.
func FuzzAPIQuery(f *testing.F) {
	for _, seed := range [][2]string{
		{"runs", "job=intraday&limit=5&before=1764000000000-0"},
		{"runs", "outcome=weird&from=yesterday"},
		{"runs", "limit=-1&before=abc-"},
		{"audit", "before=99999999999999999999-1&limit=0"},
		{"markets/XNYS", ""},
		{"markets/xnys", "at=2026-13-01"},
		{"jobs/intraday/preview", "n=100000&after=1e99"},
		{"symbols/SPY/bars", "from=0&to=-1&limit=1000000"},
		{"symbols/%00/vwap", ""},
		{"calendar/entries", "x=%zz"},
	} {
		f.Add(seed[0], seed[1])
	}
	fx := setupSite(f, "s3cret", at(f, monday))
	handler := fx.handler
	f.Fuzz(func(t *testing.T, path, query string) {
		u := &url.URL{Path: "/api/v1/" + path, RawQuery: query}
		req := httptest.NewRequest(http.MethodGet, "http://heartbeat/", nil)
		req.URL, req.RequestURI = u, "" // any path and query, even ones a client could not send verbatim
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("GET %s: %d %s", u.RequestURI(), rec.Code, rec.Body)
		}
		ct := rec.Header().Get("Content-Type")
		if !strings.HasPrefix(ct, "application/json") && !strings.HasPrefix(ct, "application/yaml") &&
			rec.Code != http.StatusMovedPermanently && rec.Code != http.StatusTemporaryRedirect {
			t.Fatalf("GET %s: %d with Content-Type %q, want JSON", u.RequestURI(), rec.Code, ct)
		}
	})
}

// FuzzControlBody: whatever the body of a control, the answer is a 2xx or
// a 4xx JSON error, never a server error.
func FuzzControlBody(f *testing.F) {
	for _, seed := range []string{
		`{"market":"XNYS","kind":"holiday","date":"2027-01-11"}`,
		`{"market":"XNYS","kind":"halt","date":"2027-03-11","from":"10:00","to":"09:00"}`,
		`{"market":"XNYS","kind":"extra_session","date":"2027-03-13","open":"23:59","close":"00:01","break_start":"24:00"}`,
		`{"note":"` + strings.Repeat("n", 2000) + `"}`,
		`{"market":"ZZ","kind":"early_close","date":"9999-12-31","close":"13:00"}`,
		`[]`, `null`, `{"note":1}`, "\x00", `{"market":"XNYS","kind":"holiday","date":"2027-01-11"}{}`,
	} {
		f.Add("calendar/entries", seed)
		f.Add("jobs/intraday/pause", seed)
	}
	fx := setupSite(f, "s3cret", at(f, monday))
	handler := fx.handler
	f.Fuzz(func(t *testing.T, path, body string) {
		fx.clock.Advance(time.Second) // stay under the control rate limit
		u := &url.URL{Path: "/api/v1/" + path}
		req := httptest.NewRequest(http.MethodPost, "http://heartbeat/", strings.NewReader(body))
		req.URL, req.RequestURI = u, ""
		req.Header.Set("Authorization", "Bearer s3cret")
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("POST %s %q: %d %s", path, body, rec.Code, rec.Body)
		}
		if rec.Code >= 400 && !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
			t.Fatalf("POST %s %q: %d with Content-Type %q, want a JSON error", path, body, rec.Code, rec.Header().Get("Content-Type"))
		}
	})
}
