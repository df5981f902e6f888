package market

import (
	"fmt"
	"time"
)

// View is what an operator wants to know about a market at an instant: its
// phase, the session it is in or will open next, and when the phase next
// changes. The markets command and the status page both show it.
type View struct {
	Market     Code
	Name       string
	Local      time.Time // t in the market's zone
	Phase      Phase
	Session    Session   // the session containing t, or the next one
	NextChange time.Time // zero when the phase does not change within 14 days
	NextPhase  Phase
	Err        error // set when t or the next session is outside coverage
}

// Describe returns the View of c at t.
func Describe(c *Calendar, t time.Time) View {
	v := View{Market: c.Code(), Name: c.Name(), Local: t.In(c.Location())}
	if v.Phase, v.Err = c.Phase(t); v.Err != nil {
		return v
	}
	if v.Session, v.Err = c.SessionAt(t); v.Err != nil {
		return v
	}
	at, to, ok, err := c.NextChange(t)
	if v.Err = err; err == nil && ok {
		v.NextChange, v.NextPhase = at, to
	}
	return v
}

// Verb says what a market does when it enters phase p: "opens",
// "breaks", "halts" or "closes".
func (p Phase) Verb() string {
	switch p {
	case Open:
		return "opens"
	case Break:
		return "breaks"
	case Halted:
		return "halts"
	}
	return "closes"
}

// Countdown says what the market does next and when, for an operator:
// "opens in 2d 10h 00m", "closes in 4h 00m", "breaks in 30m 05s"; "" when
// the phase does not change within 14 days (or Err is set).
func (v View) Countdown() string {
	if v.Err != nil || v.NextChange.IsZero() {
		return ""
	}
	return v.NextPhase.Verb() + " in " + HumanDuration(v.NextChange.Sub(v.Local))
}

// HumanDuration writes an elapsed time for an operator: "2d 10h 00m",
// "4h 00m", "30m 05s" or "45s" (a day is 24 hours of elapsed time).
func HumanDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d / time.Second)
	days, hours, minutes, secs := s/86400, s/3600%24, s/60%60, s%60
	switch {
	case days > 0:
		return fmt.Sprintf("%dd %dh %02dm", days, hours, minutes)
	case hours > 0:
		return fmt.Sprintf("%dh %02dm", hours, minutes)
	case minutes > 0:
		return fmt.Sprintf("%dm %02ds", minutes, secs)
	}
	return fmt.Sprintf("%ds", secs)
}
