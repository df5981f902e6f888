package metrics

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// backlogDesc is heartbeat_tick_backlog_age_seconds.
var backlogDesc = prometheus.NewDesc("heartbeat_tick_backlog_age_seconds",
	"Age of the oldest tick of the shard's stream that Intraday has not consumed (0: none), read at scrape time.",
	[]string{"shard"}, nil)

// backlogCollector asks for each shard's backlog age at scrape time.
type backlogCollector struct {
	shards int
	age    func(ctx context.Context, shard int) (time.Duration, error)
}

func (c backlogCollector) Describe(ch chan<- *prometheus.Desc) { ch <- backlogDesc }

func (c backlogCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), redisPingTimeout)
	defer cancel()
	for n := range c.shards {
		age, err := c.age(ctx, n)
		if err != nil {
			continue // heartbeat_redis_up says why; no value rather than a wrong one
		}
		ch <- prometheus.MustNewConstMetric(backlogDesc, prometheus.GaugeValue, age.Seconds(), strconv.Itoa(n))
	}
}

// WatchTickBacklog registers heartbeat_tick_backlog_age_seconds{shard}:
// age(shard) at each scrape (the alert HeartbeatDataStale reads it). A
// process with several workers on one registry registers it once.
func (m *Metrics) WatchTickBacklog(shards int, age func(ctx context.Context, shard int) (time.Duration, error)) {
	err := m.Registry.Register(backlogCollector{shards: shards, age: age})
	if are := (prometheus.AlreadyRegisteredError{}); err != nil && !errors.As(err, &are) {
		panic(err)
	}
}
