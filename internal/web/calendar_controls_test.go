package web

import (
	"net/http"
	"strings"
	"testing"

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
