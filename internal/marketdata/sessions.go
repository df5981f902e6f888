package marketdata

import (
	"time"

	"heartbeat/internal/market"
)

// currentLabel returns the label of the session a market's figures belong
// to at now: the session in progress (a lunch break included), else the
// last one that closed. Figures reset when the next session opens.
func currentLabel(cal *market.Calendar, now time.Time) (string, error) {
	s, err := cal.SessionAt(now)
	if err == nil && !now.Before(s.Open) {
		return s.Date.String(), nil
	}
	prev, perr := cal.PreviousSession(now)
	if perr != nil {
		if err != nil {
			return "", err
		}
		return "", perr
	}
	return prev.Date.String(), nil
}

// figuresFor returns a state's figures of session label, if it has them.
func figuresFor(st *SymbolState, label string) *Figures {
	if st == nil {
		return nil
	}
	return st.figures(label)
}
