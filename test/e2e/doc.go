// Package e2e runs the topology of docker-compose.yml as processes on
// loopback for about a minute and checks it end to end: a redis-server
// of its own with the append-only file, a private schema in the machine's
// PostgreSQL, two scheduler replicas, three workers and the tick
// simulator, each started from the binaries of cmd/ with the repository's
// config.yaml and the HEARTBEAT_* environment Compose gives them. TestE2E
// then reads the run history (heartbeat:runs), the JSON API of both
// replicas, the processes' /metrics and the bars_1m table.
//
// The test takes 1.5 to 2.5 minutes (the window, then up to a minute for
// the flush of its first bar), so it runs only when asked for: E2E=1, or
// a -run pattern naming it (make e2e does both).
//
//	E2E=1 go test -count=1 -run E2E -v ./test/e2e/
//	E2E=1 go test -count=1 -run E2E -v ./test/e2e/ -args -e2e.duration 2m
package e2e
