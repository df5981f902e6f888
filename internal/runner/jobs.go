package runner

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"heartbeat/internal/jobs"
	"heartbeat/internal/market"
	"heartbeat/internal/tasks"
	"heartbeat/internal/ticks"
)

// Func is the body of one job's handler: the computation for a payload,
// at the instant the run starts. The wrapper around it (start deadline,
// run lock, run history, metrics) is the same for every job.
type Func func(ctx context.Context, p tasks.Payload, now time.Time) error

// job is Func, for the built-in bodies below.
type job = Func

// Register registers a handler for every job of set: the eight built-in
// jobs' bodies here, the only place their task types meet their code, and
// a program's own jobs' from custom. A job of set with neither is an
// error.
func (h *Handlers) Register(mux *asynq.ServeMux, set *jobs.Set, custom map[jobs.Name]Func) error {
	body := map[jobs.Name]job{
		jobs.Intraday: h.intraday,
		jobs.Week52Extremes: h.byShard(func(ctx context.Context, s int, now time.Time) error {
			_, err := h.eng.Week52Extremes(ctx, s, now)
			return err
		}),
		jobs.SessionVolume: func(ctx context.Context, _ tasks.Payload, now time.Time) error {
			_, _, err := h.eng.SessionVolume(ctx, now)
			return err
		},
		jobs.MarketMetrics: func(ctx context.Context, _ tasks.Payload, now time.Time) error {
			_, err := h.eng.MarketMetrics(ctx, now)
			return err
		},
		jobs.TwentyFourHour: h.byShard(func(ctx context.Context, s int, now time.Time) error {
			_, err := h.eng.TwentyFourHour(ctx, s, now)
			return err
		}),
		jobs.PreOpenBacktest: h.preOpen,
		jobs.VwapMinuteCapture: h.byShard(func(ctx context.Context, s int, now time.Time) error {
			_, err := h.eng.VwapMinuteCapture(ctx, s, now)
			return err
		}),
		jobs.ClosedBarsFlush: h.flush,
	}
	for name, fn := range custom {
		if _, builtin := body[name]; builtin {
			return fmt.Errorf("runner: %s is a built-in job; its handler cannot be replaced", name)
		}
		body[name] = fn
	}
	for _, spec := range set.All() {
		fn, ok := body[spec.Name]
		if !ok || fn == nil {
			return fmt.Errorf("runner: job %s has no handler", spec.Name)
		}
		mux.HandleFunc(spec.TaskType, h.wrap(spec.Name, fn))
	}
	return nil
}

func (h *Handlers) byShard(f func(ctx context.Context, shard int, now time.Time) error) job {
	return func(ctx context.Context, p tasks.Payload, now time.Time) error {
		shard, err := p.Shard()
		if err != nil {
			return err
		}
		return f(ctx, shard, now)
	}
}

func (h *Handlers) intraday(ctx context.Context, p tasks.Payload, now time.Time) error {
	shard, err := p.Shard()
	if err != nil {
		return err
	}
	st, err := h.eng.Intraday(ctx, shard, now)
	if err != nil {
		return err // nothing was committed: nothing to count
	}
	h.metrics.Ticks.WithLabelValues("in_session").Add(float64(st.Accepted - st.OutOfSession))
	h.metrics.Ticks.WithLabelValues("out_of_session").Add(float64(st.OutOfSession))
	for r, n := range st.Rejected {
		h.metrics.DeadLetters.WithLabelValues(string(r)).Add(float64(n))
	}
	h.metrics.Bars.WithLabelValues("closed").Add(float64(st.BarsClosed))
	h.metrics.Bars.WithLabelValues("amended").Add(float64(st.BarsAmended))
	return nil
}

func (h *Handlers) flush(ctx context.Context, p tasks.Payload, now time.Time) error {
	shard, err := p.Shard()
	if err != nil {
		return err
	}
	st, err := h.eng.FlushClosedBars(ctx, shard, now)
	h.metrics.Bars.WithLabelValues("flushed").Add(float64(st.Written))
	if st.Corrupt > 0 {
		h.metrics.DeadLetters.WithLabelValues(string(ticks.ReasonCorruptBar)).Add(float64(st.Corrupt))
	}
	return err
}

func (h *Handlers) preOpen(ctx context.Context, p tasks.Payload, now time.Time) error {
	s, err := preOpenSession(h.eng.Instruments().Book(), p.Part)
	if err != nil {
		return tasks.Permanent(err)
	}
	_, err = h.eng.PreOpenBacktest(ctx, s.Market, s, now)
	return err
}

// preOpenSession reads a pre-open part, MARKET:YYYY-MM-DD, on the
// calendars of book.
func preOpenSession(book *market.Book, part string) (market.Session, error) {
	code, label, ok := strings.Cut(part, ":")
	if !ok {
		return market.Session{}, fmt.Errorf("pre-open part %q is not MARKET:YYYY-MM-DD", part)
	}
	cal, err := book.Lookup(market.Code(code))
	if err != nil {
		return market.Session{}, fmt.Errorf("pre-open part %q: %w", part, err)
	}
	d, err := market.ParseDate(label)
	if err != nil {
		return market.Session{}, fmt.Errorf("pre-open part %q: %w", part, err)
	}
	s, ok, err := cal.Session(d)
	if err != nil {
		return market.Session{}, fmt.Errorf("pre-open part %q: %w", part, err)
	}
	if !ok {
		return market.Session{}, fmt.Errorf("pre-open part %q: %s has no session on %s", part, code, label)
	}
	return s, nil
}
