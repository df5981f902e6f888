package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"heartbeat/internal/scheduler"
)

// The operator controls over HTTP:
//
//	POST /api/v1/jobs/{job}/pause    body {"note": "..."} (optional)
//	POST /api/v1/jobs/{job}/resume
//	POST /api/v1/jobs/{job}/trigger
//	POST /api/v1/jobs/{job}/set      body {"settings": {"interval": "2s"}, "note": "..."}
//	POST /api/v1/jobs/{job}/reset
//
// Each needs "Authorization: Bearer <http.token>". With no token
// configured the API is read-only: every POST is refused with 401 and
// changes nothing. A missing or wrong token is 401 as well; the check comes
// before anything else is looked at. Browsers never send the header on
// their own, so a page elsewhere cannot forge a control (no CSRF).
//
// The answer is the audit entry the action appended to heartbeat:audit,
// whose actor is "http:" and the client's address.

// maxNote bounds a control's note, in bytes.
const maxNote = 1024

// ControlResponse is a successful control's answer.
type ControlResponse struct {
	OK    bool                 `json:"ok"`
	Audit scheduler.AuditEntry `json:"audit"`
}

func (site *Site) mountControls(s *Server) {
	// Any method, so that a GET gets a JSON 405 rather than the API's 404.
	s.Handle(APIPrefix+"/jobs/{job}/{action}", http.HandlerFunc(site.serveControl))
	site.mountCalendarControls(s)
}

// unauthorizedError is a refused control.
type unauthorizedError struct{ reason string }

func (e unauthorizedError) Error() string { return e.reason }

// authorize checks the bearer token in constant time against every
// configured token and returns the actor to audit: http:ADDR for
// http.token, http:NAME@ADDR for a named token of http.tokens.
func (site *Site) authorize(r *http.Request) (actor string, err error) {
	if site.cfg.readOnly() {
		return "", unauthorizedError{"read-only: no http.token is configured on this replica, so controls are refused"}
	}
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", unauthorizedError{"missing bearer token: send Authorization: Bearer <http.token>"}
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(token)))
	match, name := 0, ""
	check := func(n, want string) {
		if want == "" {
			return
		}
		w := sha256.Sum256([]byte(want))
		if subtle.ConstantTimeCompare(got[:], w[:]) == 1 {
			match, name = 1, n
		}
	}
	check("", site.cfg.Token)
	for n, tok := range site.cfg.Tokens {
		check(n, tok)
	}
	if match != 1 {
		return "", unauthorizedError{"wrong bearer token"}
	}
	if name == "" {
		return "http:" + r.RemoteAddr, nil
	}
	return "http:" + name + "@" + r.RemoteAddr, nil
}

func (site *Site) serveControl(w http.ResponseWriter, r *http.Request) {
	action := scheduler.Action(r.PathValue("action"))
	switch action {
	case scheduler.ActionPause, scheduler.ActionResume, scheduler.ActionTrigger, scheduler.ActionSet, scheduler.ActionReset:
	default:
		writeError(w, http.StatusNotFound, fmt.Sprintf("no endpoint %s %s; actions are pause, resume, trigger, set and reset", r.Method, r.URL.Path))
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s needs POST", action))
		return
	}
	log := site.d.Log.With().Str("action", string(action)).Str("job", r.PathValue("job")).Str("remote", r.RemoteAddr).Logger()
	actor, ok := site.guard(w, r, string(action))
	if !ok {
		return
	}
	job, err := site.jobName(r.PathValue("job"))
	if err != nil {
		writeError(w, http.StatusNotFound, err.Error())
		return
	}
	body, err := readControlBody(r, action == scheduler.ActionSet)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	note := body.Note
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	e, err := site.d.Controls.Do(ctx, scheduler.Request{Action: action, Job: job, Note: note, Actor: actor, Settings: body.Settings})
	if err != nil && e.Action == "" {
		status := statusOf(err)
		log.Warn().Err(err).Int("status", status).Msg("control failed")
		writeError(w, status, err.Error())
		return
	}
	if err != nil {
		// Done, but part of it failed (a trigger's task, or the audit).
		log.Error().Err(err).Msg("control partly failed")
		writeJSON(w, http.StatusInternalServerError, map[string]any{"ok": false, "error": err.Error(), "status": 500, "audit": e})
		return
	}
	log.Info().Str("note", note).Str("result", e.Result).Msg("control applied")
	writeJSON(w, http.StatusOK, ControlResponse{OK: true, Audit: e})
}

// controlBody is a control's optional JSON body.
type controlBody struct {
	Note     string            `json:"note"`
	Settings map[string]string `json:"settings"` // set only
}

// readControlBody reads the optional JSON body {"note": "..."}, with
// "settings" for set.
func readControlBody(r *http.Request, withSettings bool) (controlBody, error) {
	var b controlBody
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxNote+4096))
	if err != nil {
		return b, fmt.Errorf("read body: %w", err)
	}
	if len(strings.TrimSpace(string(raw))) == 0 {
		return b, nil
	}
	want := `{"note": "..."}`
	if withSettings {
		want = `{"settings": {"FIELD": "VALUE"}, "note": "..."}`
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return b, fmt.Errorf("body: want %s: %w", want, err)
	}
	if len(b.Note) > maxNote {
		return b, errors.New("note: longer than 1024 bytes")
	}
	if b.Settings != nil && !withSettings {
		return b, fmt.Errorf("body: want %s: settings are for set only", want)
	}
	return b, nil
}
