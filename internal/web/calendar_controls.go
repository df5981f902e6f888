package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"heartbeat/internal/calendars"
	"heartbeat/internal/market"
	"heartbeat/internal/scheduler"
	"heartbeat/internal/settings"
)

// The runtime calendar entries over HTTP (the same actions as `scheduler
// calendar ...`):
//
//	GET    /api/v1/calendar/entries        the runtime entries, with who and when
//	POST   /api/v1/calendar/entries        enter one (token)
//	DELETE /api/v1/calendar/entries/{id}   remove one (token)
//	GET    /api/v1/calendar/export         file and runtime entries as an overrides file (YAML)
//
// The POST body is {"market": "XNYS", "kind": "holiday", "date":
// "2027-01-11", "name": "...", "note": "..."} with, by kind, "open",
// "close", "break_start", "break_end", "from", "to" as HH:MM local. An
// entry that does not fit the effective calendar is refused with 400 and
// the reason (audited too); the same entry twice is 409.

// maxCalendarBody bounds a calendar entry's JSON body, in bytes.
const maxCalendarBody = 4096

// CalendarEntryView is a runtime entry in the API: the entry, its ID,
// who made it and when.
type CalendarEntryView struct {
	ID string `json:"id"`
	calendars.Entry
	Actor   string    `json:"actor"`
	At      time.Time `json:"at"`
	Summary string    `json:"summary"`
}

func calendarEntryView(o market.Override) CalendarEntryView {
	return CalendarEntryView{ID: o.Source.Ref, Entry: calendars.Encode(o), Actor: o.Source.Actor, At: o.Source.At, Summary: scheduler.Describe(o)}
}

func (site *Site) mountCalendarControls(s *Server) {
	s.Handle("GET "+APIPrefix+"/calendar/entries", site.api(site.apiCalendarEntries))
	s.Handle("GET "+APIPrefix+"/calendar/export", http.HandlerFunc(site.serveCalendarExport))
	s.Handle("POST "+APIPrefix+"/calendar/entries", http.HandlerFunc(site.serveCalendarAdd))
	s.Handle("DELETE "+APIPrefix+"/calendar/entries/{id}", http.HandlerFunc(site.serveCalendarRemove))
}

func (site *Site) apiCalendarEntries(r *http.Request) (any, error) {
	list, err := site.d.Controls.CalendarEntries(r.Context())
	if err != nil {
		return nil, err
	}
	out := make([]CalendarEntryView, 0, len(list))
	for _, o := range list {
		out = append(out, calendarEntryView(o))
	}
	return map[string]any{"entries": out}, nil
}

func (site *Site) serveCalendarExport(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
	w.Header().Set("Content-Disposition", `inline; filename="calendar-overrides.yaml"`)
	_, _ = w.Write(site.d.Engine.Instruments().Book().Export().Marshal())
}

// calendarRequest is the POST body: an entry and the audit's note.
type calendarRequest struct {
	calendars.Entry
	Note string `json:"note"`
}

// guard refuses a control over the client's rate (429) or without the
// bearer token (401), and logs it; it returns the actor to audit.
func (site *Site) guard(w http.ResponseWriter, r *http.Request, action string) (string, bool) {
	if !site.limitControl(w, r) {
		return "", false
	}
	actor, err := site.authorize(r)
	if err != nil {
		site.d.Log.Warn().Str("action", action).Str("remote", r.RemoteAddr).Str("reason", err.Error()).Msg("control refused")
		w.Header().Set("WWW-Authenticate", `Bearer realm="heartbeat"`)
		writeError(w, http.StatusUnauthorized, err.Error())
		return "", false
	}
	return actor, true
}

func (site *Site) serveCalendarAdd(w http.ResponseWriter, r *http.Request) {
	actor, ok := site.guard(w, r, string(scheduler.ActionCalendarAdd))
	if !ok {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxCalendarBody+1))
	if err != nil || len(body) > maxCalendarBody {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("body: unreadable or longer than %d bytes", maxCalendarBody))
		return
	}
	var req calendarRequest
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "body: "+err.Error())
		return
	}
	if len(req.Note) > maxNote || len(req.Name) > maxNote {
		writeError(w, http.StatusBadRequest, "note, name: longer than 1024 bytes")
		return
	}
	o, err := req.Override()
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	e, err := site.d.Controls.CalendarAdd(ctx, o, req.Note, actor)
	site.answerCalendar(w, e, err)
}

func (site *Site) serveCalendarRemove(w http.ResponseWriter, r *http.Request) {
	actor, ok := site.guard(w, r, string(scheduler.ActionCalendarRemove))
	if !ok {
		return
	}
	body, err := readControlBody(r, false)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	note := body.Note
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	e, err := site.d.Controls.CalendarRemove(ctx, r.PathValue("id"), note, actor)
	site.answerCalendar(w, e, err)
}

func (site *Site) answerCalendar(w http.ResponseWriter, e scheduler.AuditEntry, err error) {
	var oe *market.OverrideError
	switch {
	case err == nil:
		site.d.Log.Info().Str("action", string(e.Action)).Str("entry", e.Entry).Str("actor", e.Actor).Msg("control applied")
		writeJSON(w, http.StatusOK, ControlResponse{OK: true, Audit: e})
	case errors.Is(err, settings.ErrExists):
		writeError(w, http.StatusConflict, err.Error())
	case calendars.IsNotFound(err):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.As(err, &oe), errors.Is(err, market.ErrOutOfCoverage):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, market.ErrUnknownMarket):
		writeError(w, http.StatusNotFound, err.Error())
	default:
		status := statusOf(err)
		site.d.Log.Warn().Err(err).Int("status", status).Msg("calendar control failed")
		writeError(w, status, err.Error())
	}
}
