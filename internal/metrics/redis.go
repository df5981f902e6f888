package metrics

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// redisPingTimeout bounds the ping behind heartbeat_redis_up, so a scrape
// of a process cut off from Redis still answers in time.
const redisPingTimeout = time.Second

// WatchRedis registers heartbeat_redis_up: 1 when ping succeeds at scrape
// time, 0 when it fails (an alert on it tells "Redis unreachable" from "the
// process is down", which `up` says). A process with several components
// on one registry (embedded mode) registers it once.
func (m *Metrics) WatchRedis(ping func(context.Context) error) {
	g := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "heartbeat_redis_up",
		Help: "1 when this process reaches Redis (a PING at scrape time), else 0."}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), redisPingTimeout)
		defer cancel()
		if ping(ctx) != nil {
			return 0
		}
		return 1
	})
	err := m.Registry.Register(g)
	if are := (prometheus.AlreadyRegisteredError{}); err != nil && !errors.As(err, &are) {
		panic(err)
	}
}
