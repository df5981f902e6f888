// Package integration runs Heartbeat as an operator would: cmd/scheduler
// and cmd/worker built once, started as separate processes on a real
// redis-server of each test's own, then killed, stopped and cut off from
// Redis. The tests check what the run history (heartbeat:runs) and the
// processes' /metrics show: one leader, failover times, no slot run twice,
// missed slots counted, clear start-up errors. BenchmarkScheduler measures
// start lag, duplicates, missed slots and idle Redis load, with asynq's own
// Scheduler as a baseline.
package integration
