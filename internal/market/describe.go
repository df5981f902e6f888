package market

import "time"

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
