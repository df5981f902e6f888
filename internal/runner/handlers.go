// Package runner runs the eight jobs' tasks on a worker: the asynq handler
// that wraps every job body (waits for the slot, drops an expired task,
// holds the job part's run lock, records the run's outcome in the run
// history and the metrics) and the job bodies themselves, which call the
// market-data engine. The tasks themselves (payload, identity, options,
// retry policy) are in package tasks.
package runner

import (
	"context"
	"errors"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"heartbeat/internal/clock"
	"heartbeat/internal/jobs"
	"heartbeat/internal/keys"
	"heartbeat/internal/marketdata"
	"heartbeat/internal/metrics"
	"heartbeat/internal/runlog"
	"heartbeat/internal/tasks"
)

// Handlers run the eight jobs' tasks on a worker.
type Handlers struct {
	eng     *marketdata.Engine
	runs    *runlog.Log
	rdb     redis.UniversalClient
	clock   clock.Clock
	log     zerolog.Logger
	metrics *metrics.Metrics
	worker  string
}

// HandlerDeps are what the handlers need.
type HandlerDeps struct {
	Engine  *marketdata.Engine
	Redis   redis.UniversalClient
	Runs    *runlog.Log
	Clock   clock.Clock
	Log     zerolog.Logger
	Metrics *metrics.Metrics
	Worker  string // this worker's name in the run history
}

// NewHandlers returns the handlers.
func NewHandlers(d HandlerDeps) (*Handlers, error) {
	if d.Engine == nil || d.Redis == nil || d.Runs == nil || d.Clock == nil || d.Metrics == nil || d.Worker == "" {
		return nil, errors.New("runner: Engine, Redis, Runs, Clock, Metrics and Worker are required")
	}
	return &Handlers{eng: d.Engine, runs: d.Runs, rdb: d.Redis, clock: d.Clock, log: d.Log, metrics: d.Metrics, worker: d.Worker}, nil
}

// wrap turns a job body into an asynq handler: it waits for the slot
// (tasks are enqueued a little ahead), drops a task picked up after its
// slot + interval (expired), skips a run whose job part is still running
// (skipped_overlap), and records every run in the run history and the
// metrics.
func (h *Handlers) wrap(name jobs.Name, body job) asynq.HandlerFunc {
	return func(ctx context.Context, t *asynq.Task) error {
		p, err := tasks.Decode(t)
		if err != nil {
			h.log.Error().Err(err).Str("job", string(name)).Msg("undecodable task dropped")
			return tasks.Permanent(err)
		}
		if err := h.clock.SleepUntil(ctx, p.Slot); err != nil {
			return err
		}
		run := runlog.Run{Job: string(p.Job), Slot: p.Slot, Part: p.Part, TaskID: p.ID(), Term: p.Term,
			EnqueuedAt: p.EnqueuedAt, StartedAt: h.clock.Now(), Worker: h.worker}
		if run.StartedAt.After(p.StartBy()) {
			return h.finish(ctx, run, runlog.Expired, nil)
		}
		var runErr error
		if p.Overlap == jobs.OverlapAllow {
			h.metrics.StartLag.WithLabelValues(string(p.Job)).Observe(run.StartedAt.Sub(p.Slot).Seconds())
			runErr = body(ctx, p, run.StartedAt)
		} else {
			lock, ok, err := acquireRunLock(ctx, h.rdb, keys.RunLock(string(p.Job), p.Part), lockTTL(p.Interval))
			if err != nil {
				return h.finish(ctx, run, runlog.Error, err)
			}
			if !ok {
				return h.finish(ctx, run, runlog.SkippedOverlap, nil)
			}
			h.metrics.StartLag.WithLabelValues(string(p.Job)).Observe(run.StartedAt.Sub(p.Slot).Seconds())
			runErr = h.underLock(ctx, lock, p, func() error { return body(ctx, p, run.StartedAt) })
		}
		outcome := runlog.OK
		if runErr != nil {
			outcome = runlog.Error
		}
		err = h.finish(ctx, run, outcome, runErr)
		if errors.Is(runErr, marketdata.ErrConflict) {
			return tasks.Superseded(runErr)
		}
		return err
	}
}

// underLock runs fn while keeping the run lock alive, then releases it.
func (h *Handlers) underLock(ctx context.Context, lock *runLock, p tasks.Payload, fn func() error) error {
	lockCtx, stopLock := context.WithCancel(ctx)
	renewing := make(chan struct{})
	go func() {
		defer close(renewing)
		lock.keepAlive(lockCtx, h.clock, func(err error) {
			h.log.Warn().Err(err).Str("job", string(p.Job)).Str("part", p.Part).Str("task_id", p.ID()).
				Msg("run lock renewal failed: the run goes on; its commit is checkpoint-checked")
		})
	}()
	err := fn()
	stopLock()
	<-renewing
	if err := lock.release(context.WithoutCancel(ctx)); err != nil {
		h.log.Warn().Err(err).Str("job", string(p.Job)).Msg("run lock not released; it expires by itself")
	}
	return err
}

// finish records a run and returns what asynq should see: the run's error
// (so it retries), or nil.
func (h *Handlers) finish(ctx context.Context, run runlog.Run, outcome runlog.Outcome, runErr error) error {
	run.FinishedAt = h.clock.Now()
	run.Outcome = outcome
	if runErr != nil {
		run.Error = runErr.Error()
	}
	job := run.Job
	h.metrics.CountSlots(job, outcome, 1)
	if outcome == runlog.OK {
		h.metrics.LastSuccess.WithLabelValues(job).Set(float64(run.FinishedAt.UnixMilli()) / 1000)
	}
	if outcome == runlog.OK || outcome == runlog.Error {
		h.metrics.RunDuration.WithLabelValues(job).Observe(run.Duration().Seconds())
	}
	ev := h.log.Debug()
	if outcome == runlog.Error {
		ev = h.log.Error().Err(runErr)
	} else if outcome != runlog.OK {
		ev = h.log.Info()
	}
	ev.Str("job", job).Str("slot", run.Slot.UTC().Format(runlog.SlotLayout)).Str("part", run.Part).Str("task_id", run.TaskID).
		Str("outcome", string(outcome)).Float64("dur_ms", float64(run.Duration().Microseconds())/1000).Msg("run")
	if err := h.runs.Append(context.WithoutCancel(ctx), run); err != nil {
		h.log.Error().Err(err).Str("task_id", run.TaskID).Msg("run history not written")
	}
	return runErr
}
