package web

import (
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Control requests (POST, DELETE) are limited per client address, before
// the token is checked, so a client can neither flood Redis with actions
// nor guess tokens quickly: ControlBurst at once, then ControlRate a
// second. Past it: 429 with Retry-After, and nothing changes.
const (
	ControlRate  = 1.0
	ControlBurst = 10
)

// clientLimits holds one token bucket per client address.
type clientLimits struct {
	mu   sync.Mutex
	byIP map[string]*clientLimit
}

type clientLimit struct {
	lim  *rate.Limiter
	seen time.Time
}

// forget drops a client's bucket this long after its last request (it is
// full again by then).
const forget = 10 * time.Minute

// allow reports whether the client of r may act at now, and if not how
// long it should wait.
func (c *clientLimits) allow(r *http.Request, now time.Time) (bool, time.Duration) {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byIP == nil {
		c.byIP = map[string]*clientLimit{}
	}
	for k, v := range c.byIP {
		if now.Sub(v.seen) > forget {
			delete(c.byIP, k)
		}
	}
	l, ok := c.byIP[ip]
	if !ok {
		l = &clientLimit{lim: rate.NewLimiter(rate.Limit(ControlRate), ControlBurst)}
		c.byIP[ip] = l
	}
	l.seen = now
	res := l.lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

// limitControl answers 429 when the client is over its control rate.
func (site *Site) limitControl(w http.ResponseWriter, r *http.Request) bool {
	ok, wait := site.limits.allow(r, site.d.Clock.Now())
	if ok {
		return true
	}
	secs := int(wait/time.Second) + 1
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	site.d.Log.Warn().Str("remote", r.RemoteAddr).Str("path", r.URL.Path).Msg("control refused: over the rate limit")
	writeError(w, http.StatusTooManyRequests, "too many control requests from this client: retry in "+strconv.Itoa(secs)+" s")
	return false
}
