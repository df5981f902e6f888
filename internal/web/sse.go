package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// sse writes one Server-Sent Events response: GET /api/v1/events and
// GET /api/v1/stream.
type sse struct {
	w   http.ResponseWriter
	rc  *http.ResponseController
	buf []byte // one event, reused
}

// startSSE sends the headers of an event stream.
func startSSE(w http.ResponseWriter) *sse {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	return &sse{w: w, rc: http.NewResponseController(w)}
}

// raw writes one event with data as its (single-line) data, in one
// write, without flushing; id is left out when empty.
func (s *sse) raw(id, name string, data []byte) error {
	s.buf = s.buf[:0]
	if id != "" {
		s.buf = append(append(append(s.buf, "id: "...), id...), '\n')
	}
	s.buf = append(append(append(s.buf, "event: "...), name...), "\ndata: "...)
	s.buf = append(append(s.buf, data...), "\n\n"...)
	_, err := s.w.Write(s.buf)
	return err
}

// send writes one event with v as JSON and flushes it.
func (s *sse) send(id, name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := s.raw(id, name, b); err != nil {
		return err
	}
	return s.flush()
}

// retry tells the client how long to wait before it reconnects.
func (s *sse) retry(d time.Duration) error {
	_, err := fmt.Fprintf(s.w, "retry: %d\n\n", d.Milliseconds())
	return err
}

// comment writes a comment line (a keep-alive) and flushes it.
func (s *sse) comment(text string) error {
	if _, err := fmt.Fprintf(s.w, ": %s\n\n", text); err != nil {
		return err
	}
	return s.flush()
}

func (s *sse) flush() error { return s.rc.Flush() }
