package market

import (
	"encoding/csv"
	"fmt"
	"io"
	"time"
)

// SessionsHeader is the header row of the sessions CSV format shared with
// the exchange_calendars answer files.
var SessionsHeader = []string{"", "open", "close", "break_start", "break_end"}

// WriteSessionsCSV writes sessions in the answer-file format: the label as
// midnight UTC of the session date, then open, close, break start and break
// end as RFC 3339 UTC instants (the break columns empty when there is none).
func WriteSessionsCSV(w io.Writer, sessions []Session) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(SessionsHeader); err != nil {
		return fmt.Errorf("write sessions header: %w", err)
	}
	for _, s := range sessions {
		row := []string{stamp(s.Date.UTCMidnight()), stamp(s.Open), stamp(s.Close), stamp(s.BreakStart), stamp(s.BreakEnd)}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("write session %s: %w", s.Date, err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write sessions: %w", err)
	}
	return nil
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// ReadSessionsCSV reads sessions written in the answer-file format.
func ReadSessionsCSV(r io.Reader, market Code) ([]Session, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = len(SessionsHeader)
	rows, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("read sessions csv: %w", err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("read sessions csv: empty")
	}
	out := make([]Session, 0, len(rows)-1)
	for n, row := range rows[1:] {
		var ts [5]time.Time
		for i, f := range row {
			if f == "" {
				continue
			}
			t, err := time.Parse(time.RFC3339, f)
			if err != nil {
				return nil, fmt.Errorf("read sessions csv: row %d column %d: %w", n+2, i, err)
			}
			ts[i] = t.UTC()
		}
		out = append(out, Session{Market: market, Date: DateOf(ts[0]), Open: ts[1], Close: ts[2], BreakStart: ts[3], BreakEnd: ts[4]})
	}
	return out, nil
}
