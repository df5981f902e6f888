package web

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/hibiken/asynq"

	"heartbeat/internal/jobs"
	"heartbeat/internal/keys"
	"heartbeat/internal/scheduler"
	"heartbeat/internal/settings"
	"heartbeat/internal/testinfra"
)

// state is what a control may change: the pauses and the audit stream's
// length.
func (f *siteFixture) state(t *testing.T) (map[jobs.Name]string, int64) {
	t.Helper()
	ctx := context.Background()
	paused, err := scheduler.Paused(ctx, f.rdb)
	testinfra.Must(t, err, "paused")
	n, err := f.rdb.XLen(ctx, keys.Audit).Result()
	testinfra.Must(t, err, "audit length")
	return paused, n
}

func TestControlsRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		configured string // the replica's http.token
		sent       string // Authorization header
		msg        string
	}{
		{"no token configured, none sent", "", "", "read-only: no http.token is configured"},
		{"no token configured, one sent", "", "Bearer s3cret", "read-only: no http.token is configured"},
		{"token missing", "s3cret", "", "missing bearer token"},
		{"wrong scheme", "s3cret", "Basic czNjcmV0", "missing bearer token"},
		{"empty bearer", "s3cret", "Bearer ", "missing bearer token"},
		{"wrong token", "s3cret", "Bearer s3cre", "wrong bearer token"},
		{"token as a prefix", "s3cret", "Bearer s3cret2", "wrong bearer token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := setupSite(t, tc.configured, at(t, monday))
			f.pause(t, "session_volume", "before")
			paused0, audit0 := f.state(t)
			for _, action := range []string{"pause", "resume", "trigger"} {
				for _, job := range []string{"intraday", "session_volume", "nope"} {
					req, err := http.NewRequest(http.MethodPost, f.url+"/api/v1/jobs/"+job+"/"+action, strings.NewReader(`{"note":"x"}`))
					testinfra.Must(t, err, "request")
					if tc.sent != "" {
						req.Header.Set("Authorization", tc.sent)
					}
					res, err := http.DefaultClient.Do(req)
					testinfra.Must(t, err, "POST")
					var body errorBody
					decodeBody(t, res, &body)
					if res.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") ||
						body.Status != 401 || !strings.Contains(body.Error, tc.msg) {
						t.Fatalf("%s %s: %d %+v, want 401 with WWW-Authenticate and %q", action, job, res.StatusCode, body, tc.msg)
					}
				}
			}
			paused1, audit1 := f.state(t)
			if len(paused1) != len(paused0) || paused1["session_volume"] != "before" || audit1 != audit0 {
				t.Fatalf("a refused POST changed something: paused %v -> %v, audit %d -> %d", paused0, paused1, audit0, audit1)
			}
			info, err := f.site.inspector.Queues()
			testinfra.Must(t, err, "queues")
			if len(info) != 0 {
				t.Fatalf("a refused trigger enqueued: queues %v", info)
			}
		})
	}
}

func TestControlsApplied(t *testing.T) {
	t.Parallel()
	f := setupSite(t, "s3cret", at(t, monday))
	var res ControlResponse
	status, _, body := f.call(t, "POST", "/api/v1/jobs/intraday/pause", "s3cret", map[string]string{"note": "feed migration"}, &res)
	if status != 200 || !res.OK || res.Audit.Action != scheduler.ActionPause || res.Audit.Result != "paused" ||
		!strings.HasPrefix(res.Audit.Actor, "http:127.0.0.1:") || res.Audit.Note != "feed migration" || res.Audit.ID == "" {
		t.Fatalf("pause: %d %s", status, body)
	}
	if paused, _ := f.state(t); paused["intraday"] != "feed migration" {
		t.Fatalf("paused %v", paused)
	}
	var jv JobView
	if f.call(t, "GET", "/api/v1/jobs/intraday", "", nil, &jv); !jv.Paused || jv.PauseNote != "feed migration" {
		t.Fatalf("job after pause %+v", jv)
	}

	status, _, body = f.call(t, "POST", "/api/v1/jobs/intraday/resume", "s3cret", nil, &res)
	if status != 200 || res.Audit.Result != "resumed" {
		t.Fatalf("resume: %d %s", status, body)
	}
	status, _, body = f.call(t, "POST", "/api/v1/jobs/session_volume/trigger", "s3cret", nil, &res)
	if status != 200 || res.Audit.Result != "1 enqueued, 0 already enqueued" || len(res.Audit.Tasks) != 1 {
		t.Fatalf("trigger: %d %s", status, body)
	}
	if _, err := f.site.inspector.GetTaskInfo("default", res.Audit.Tasks[0]); err != nil {
		t.Fatalf("triggered task %s: %v", res.Audit.Tasks[0], err)
	}
	// The same slot again: refused by its task ID, not run twice.
	status, _, body = f.call(t, "POST", "/api/v1/jobs/session_volume/trigger", "s3cret", nil, &res)
	if status != 200 || res.Audit.Result != "0 enqueued, 1 already enqueued" {
		t.Fatalf("second trigger: %d %s", status, body)
	}

	var audit struct {
		Audit []scheduler.AuditEntry `json:"audit"`
	}
	f.call(t, "GET", "/api/v1/audit?limit=10", "", nil, &audit)
	var got []string
	for _, e := range audit.Audit {
		got = append(got, string(e.Action)+" "+string(e.Job))
	}
	if strings.Join(got, ",") != "trigger session_volume,trigger session_volume,resume intraday,pause intraday" {
		t.Fatalf("audit %v", got)
	}
	status, _, _ = f.call(t, "GET", "/", "", nil, nil)
	if status != 200 {
		t.Fatalf("page: %d", status)
	}
}

func TestControlsBadRequests(t *testing.T) {
	t.Parallel()
	f := setupSite(t, "s3cret", at(t, "2026-03-02T12:00:00Z"))
	for _, tc := range []struct {
		path   string
		body   string
		status int
		msg    string
	}{
		{"/api/v1/jobs/nope/pause", "", 404, `unknown job "nope"`},
		{"/api/v1/jobs/intraday/pause", "{", 400, "body: want"},
		{"/api/v1/jobs/intraday/pause", `{"reason":"x"}`, 400, "unknown field"},
		{"/api/v1/jobs/intraday/pause", `{"note":"` + strings.Repeat("x", 1100) + `"}`, 400, "note: longer than 1024 bytes"},
		{"/api/v1/jobs/pre_open_backtest/trigger", "", 409, "nothing to trigger"},
	} {
		req, _ := http.NewRequest(http.MethodPost, f.url+tc.path, strings.NewReader(tc.body))
		req.Header.Set("Authorization", "Bearer s3cret")
		res, err := http.DefaultClient.Do(req)
		testinfra.Must(t, err, "POST")
		var body errorBody
		decodeBody(t, res, &body)
		if res.StatusCode != tc.status || !strings.Contains(body.Error, tc.msg) {
			t.Fatalf("%s %q: %d %+v, want %d %q", tc.path, tc.body, res.StatusCode, body, tc.status, tc.msg)
		}
	}
	if paused, n := f.state(t); len(paused) != 0 || n != 0 {
		t.Fatalf("bad requests changed: paused %v, %d audit entries", paused, n)
	}
	insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: f.mr.Addr()})
	defer insp.Close()
	if qs, _ := insp.Queues(); len(qs) != 0 {
		t.Fatalf("queues %v", qs)
	}
}

// TestControlsSetReset: set stores a job's runtime settings (merged with
// earlier ones) and audits them; a bad value is a 400 naming the field
// and changes nothing; reset removes them.
func TestControlsSetReset(t *testing.T) {
	t.Parallel()
	f := setupSite(t, "s3cret", at(t, monday))
	ctx := context.Background()
	var res ControlResponse
	status, _, body := f.call(t, "POST", "/api/v1/jobs/intraday/set", "s3cret",
		map[string]any{"settings": map[string]string{"interval": "2s"}, "note": "calmer"}, &res)
	if status != 200 || res.Audit.Action != scheduler.ActionSet || !strings.Contains(res.Audit.Result, "interval=2s") {
		t.Fatalf("set: %d %s", status, body)
	}
	status, _, body = f.call(t, "POST", "/api/v1/jobs/intraday/set", "s3cret",
		map[string]any{"settings": map[string]string{"overlap": "allow"}}, &res)
	if status != 200 || !strings.Contains(res.Audit.Result, "runtime settings now interval=2s overlap=allow") {
		t.Fatalf("second set: %d %s", status, body)
	}
	for _, tc := range []struct {
		body map[string]any
		msg  string
	}{
		{map[string]any{"settings": map[string]string{"interval": "soon"}}, "interval: want a duration"},
		{map[string]any{"settings": map[string]string{"queue": "default"}}, "queue: fixed at start"},
		{map[string]any{"settings": map[string]string{"at": "XPAR.close"}}, "at: unknown market"},
		{map[string]any{"settings": map[string]string{}}, "no FIELD=VALUE given"},
	} {
		var e errorBody
		status, _, body = f.call(t, "POST", "/api/v1/jobs/intraday/set", "s3cret", tc.body, &e)
		if status != 400 || !strings.Contains(e.Error, tc.msg) {
			t.Fatalf("set %v: %d %s, want 400 %q", tc.body, status, body, tc.msg)
		}
	}
	all, _, err := scheduler.ReadJobSettings(ctx, settings.New(f.rdb))
	testinfra.Must(t, err, "read settings")
	if rs := all[jobs.Intraday]; rs == nil || rs.Settings["interval"] != "2s" || rs.Settings["overlap"] != "allow" || len(rs.Settings) != 2 ||
		!strings.HasPrefix(rs.Actor, "http:127.0.0.1:") || rs.Note != "" {
		t.Fatalf("stored settings %+v", rs)
	}
	status, _, body = f.call(t, "POST", "/api/v1/jobs/intraday/reset", "s3cret", nil, &res)
	if status != 200 || res.Audit.Result != "reset to the config; applied at the next slot boundary" {
		t.Fatalf("reset: %d %s", status, body)
	}
	if all, _, _ := scheduler.ReadJobSettings(ctx, settings.New(f.rdb)); len(all) != 0 {
		t.Fatalf("settings after reset %+v", all)
	}
	if status, _, _ = f.call(t, "POST", "/api/v1/jobs/intraday/set", "", map[string]any{"settings": map[string]string{"interval": "5s"}}, nil); status != 401 {
		t.Fatalf("set without a token: %d", status)
	}
}

// pause pauses a job as the controls do.
func (f *siteFixture) pause(t *testing.T, job jobs.Name, note string) {
	t.Helper()
	_, err := f.site.d.Controls.Pause(context.Background(), job, note, "test")
	testinfra.Must(t, err, "pause")
}
