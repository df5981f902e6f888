package scheduler

import (
	"context"
	"time"

	"heartbeat/internal/events"
	"heartbeat/internal/market"
)

// MsgEventsCalendarCannot is the warning, once an hour per market, that a
// market's calendar cannot list its transitions (its coverage ended).
const MsgEventsCalendarCannot = "calendar cannot answer: no transition events past its coverage (logged once an hour)"

// eventsHorizon is how far ahead the events loop looks for the next
// transition; with none in it, it looks again from there.
const eventsHorizon = 14 * 24 * time.Hour

// eventsLoop emits each market transition of the instruments' markets to
// the events stream once, while this replica leads. It sleeps until the
// next transition's instant (waking at least once a fast tick to see the
// calendars change and the lease), then emits every transition from the
// cursor (the instant up to which all were emitted or counted missed,
// kept in Redis for the next leader) to now: those older than the
// look-back are counted missed, the others appended by identity, so a
// transition two replicas or two terms both reach is in the stream once.
// When a runtime entry changes the calendars it plans again, and first
// passes the look-back's transitions through the stream once more: one
// the change put before the cursor (a halt entered live, from a minute
// ago) is emitted, one already emitted is a duplicate, and one emitted
// at another instant gives a changed event.
func (s *Scheduler) eventsLoop(ctx context.Context) {
	defer s.wg.Done()
	book := s.d.Instruments.Book()
	cals := s.d.Instruments.Calendars()
	bookVersion := book.Version()
	var (
		servedGen uint64
		leading   bool
		cursor    time.Time // valid while leading
		origin    time.Time // the stream's start, valid while leading
		// behind: the transitions up to now are not all emitted yet
		// (leading just began, or an emission failed).
		behind bool
	)
	next := s.nextTransition(cals, s.d.Clock.Now())
	for {
		wake := next
		if now := s.d.Clock.Now(); wake.Sub(now) > s.cfg.FastTick {
			wake = now.Add(s.cfg.FastTick)
		}
		if s.d.Clock.SleepUntil(ctx, wake) != nil {
			return
		}
		now := s.d.Clock.Now()
		lead, gen, term := s.leadership(now)
		if !lead {
			leading = false
			if !now.Before(next) {
				next = s.nextTransition(cals, now)
			}
			continue
		}
		if !leading || gen != servedGen {
			// Leading from now: resume where the stream's cursor is.
			c, o, err := s.events.Start(ctx, now)
			s.redisResult(err, "events cursor")
			if err != nil {
				continue
			}
			cursor, origin, leading, servedGen, behind = c, o, true, gen, true
		}
		rescan := false
		if v := book.Version(); v != bookVersion {
			bookVersion, rescan = v, true
		}
		if !rescan && !behind && now.Before(next) {
			continue
		}
		from := cursor
		if rescan {
			// Not before the stream's start: a transition from before
			// it was never owed.
			from = maxTime(origin, minTime(from, now.Add(-s.cfg.LookBack)))
		}
		behind = !s.emitBetween(ctx, cals, from, now, term)
		if !behind {
			cursor = now
			err := s.events.Advance(ctx, now)
			s.redisResult(err, "events cursor")
		}
		next = s.nextTransition(cals, now)
	}
}

// emitBetween emits every transition of cals in (from, to], counting
// those older than the look-back at to as missed. It reports whether all
// were done, so the cursor may move to to. Each emission is framed by the
// fault steps StepBeforeEmit and StepAfterEmit (Deps.Fault).
func (s *Scheduler) emitBetween(ctx context.Context, cals market.Set, from, to time.Time, term int64) bool {
	ok := true
	for _, cal := range cals {
		due, err := events.Between(cal, from, to)
		if err != nil {
			s.calendarLog.Warn("events:"+string(cal.Code()), to).Err(err).Str("market", string(cal.Code())).
				Msg(MsgEventsCalendarCannot)
		}
		for _, t := range due {
			if to.Sub(t.At) > s.cfg.LookBack {
				s.d.Metrics.EventsMissed.WithLabelValues(string(t.Kind), string(t.Market)).Inc()
				s.log.Warn().Str("market", string(t.Market)).Str("kind", string(t.Kind)).Time("at", t.At).
					Msg("market transition older than scheduler.look_back when a leader reached it: missed, not emitted")
				continue
			}
			s.step(StepBeforeEmit)
			outcome, id, err := s.events.Emit(ctx, t, term)
			s.redisResult(err, "emit event")
			if err != nil {
				ok = false
				continue
			}
			s.step(StepAfterEmit)
			kind := t.Kind
			switch outcome {
			case events.Duplicate:
				continue
			case events.Moved:
				kind = events.Changed
			}
			s.d.Metrics.EventsEmitted.WithLabelValues(string(kind), string(t.Market)).Inc()
			s.log.Info().Str("market", string(t.Market)).Str("kind", string(kind)).Str("of", string(t.Kind)).
				Time("at", t.At).Str("session", t.Session.String()).Int64("term", term).Str("event_id", id).
				Dur("lag", to.Sub(t.At)).Msg("market event")
		}
	}
	return ok
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// nextTransition returns the instant of the first transition of cals
// after t, or t + eventsHorizon when there is none before.
func (s *Scheduler) nextTransition(cals market.Set, t time.Time) time.Time {
	first, ok, _ := events.Next(cals, t, t.Add(eventsHorizon))
	if !ok {
		return t.Add(eventsHorizon)
	}
	return first[0].At
}
