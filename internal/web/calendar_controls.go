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

// CalendarEntryView is a runtime entry in the API.
type CalendarEntryView struct {
	ID         string    `json:"id"`
	Market     string    `json:"market"`
	Kind       string    `json:"kind"`
	Date       string    `json:"date"`
	Name       string    `json:"name,omitempty"`
	Open       string    `json:"open,omitempty"`
	Close      string    `json:"close,omitempty"`
	BreakStart string    `json:"break_start,omitempty"`
	BreakEnd   string    `json:"break_end,omitempty"`
	From       string    `json:"from,omitempty"`
	To         string    `json:"to,omitempty"`
	Actor      string    `json:"actor"`
	At         time.Time `json:"at"`
	Summary    string    `json:"summary"`
}

func calendarEntryView(o market.Override) CalendarEntryView {
	v := CalendarEntryView{ID: o.Source.Ref, Market: string(o.Market), Kind: string(o.Kind), Date: o.Date.String(), Name: o.Name,
		Actor: o.Source.Actor, At: o.Source.At, Summary: scheduler.Describe(o)}
	switch o.Kind {
	case market.KindExtraSession:
		v.Open, v.Close = o.Open.String(), o.Close.String()
		if o.BreakStart != 0 || o.BreakEnd != 0 {
			v.BreakStart, v.BreakEnd = o.BreakStart.String(), o.BreakEnd.String()
		}
	case market.KindLateOpen:
		v.Open = o.Open.String()
	case market.KindEarlyClose:
		v.Close = o.Close.String()
	case market.KindHalt:
		v.From, v.To = o.From.String(), o.To.String()
	}
	return v
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

// calendarRequest is the POST body.
type calendarRequest struct {
	Market     string `json:"market"`
	Kind       string `json:"kind"`
	Date       string `json:"date"`
	Name       string `json:"name"`
	Open       string `json:"open"`
	Close      string `json:"close"`
	BreakStart string `json:"break_start"`
	BreakEnd   string `json:"break_end"`
	From       string `json:"from"`
	To         string `json:"to"`
	Note       string `json:"note"`
}

func (req calendarRequest) override() (market.Override, error) {
	kind, err := market.ParseKind(req.Kind)
	if err != nil {
		return market.Override{}, fmt.Errorf("kind: %w", err)
	}
	date, err := market.ParseDate(req.Date)
	if err != nil {
		return market.Override{}, fmt.Errorf("date: %w", err)
	}
	o := market.Override{Market: market.Code(req.Market), Kind: kind, Date: date, Name: req.Name}
	for _, f := range []struct {
		name, s string
		to      *market.TimeOfDay
	}{{"open", req.Open, &o.Open}, {"close", req.Close, &o.Close}, {"break_start", req.BreakStart, &o.BreakStart},
		{"break_end", req.BreakEnd, &o.BreakEnd}, {"from", req.From, &o.From}, {"to", req.To, &o.To}} {
		if f.s == "" {
			continue
		}
		if *f.to, err = market.ParseTimeOfDay(f.s); err != nil {
			return o, fmt.Errorf("%s: %w", f.name, err)
		}
	}
	return o, o.Check()
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
	o, err := req.override()
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
	note, err := readNote(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
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
