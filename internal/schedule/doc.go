// Package schedule decides a job's slots: when it fires, whether its gate
// lets a slot through, what tasks (parts) a slot is, how long a task may
// wait to start, each task's identity and a one-line explanation. It is
// pure: every answer is a function of the instants passed in and of the
// exchange calendars of internal/market, whose runtime changes a plan
// sees on its next call. It owns no clock, no Redis and no job's code.
//
// A Spec names one kind of schedule; New builds its Plan in an Env (the
// job's markets, the book of calendars, the slow tick, the close grace,
// the shards, the split and the gate's predicate).
//
// # Every: a fixed interval
//
// Slots are the multiples of the interval since the Unix epoch, computed
// from the previous slot, so nothing drifts. A job is active at a slot
// when one of its markets is open at the slot, or was open an interval
// before it or at the close grace before it and is not halted at the slot
// (a halt shuts the gate at once, a close only after the grace). While it
// is inactive only the first slot of each slow-tick window is decided, so
// the cadence becomes max(interval, slow tick), still aligned. Gate open
// skips those slots (skipped_closed), gate always enqueues them. A
// calendar error (an instant past a calendar's coverage) is reported to
// Env.OnCalendarError and the market counts as closed. Task keys are
// PART:UNIXMILLI ("all" for the whole job). A task may start until the
// next slot.
//
// # Cron: wall-clock times in a time zone
//
// "0 */5 * * * *" (with seconds) or "*/5 * * * *" (without) in Spec.TZ
// (default UTC); see ParseCron for the syntax. Slots are the instants
// whose wall clock in the zone matches, strictly after the previous one.
// The gate decides each of them as for Every — open enqueues it while a
// market of the job is open or within the close grace after a close,
// always enqueues it, a predicate decides alone — with no slow-cadence
// thinning: the expression is the cadence. Task keys are those of Every.
// A task may start until the next cron instant, at most an hour after its
// slot.
//
// Daylight saving time:
//
//   - A wall-clock time the clocks skip (02:30 on 2027-03-14 in
//     America/New_York, where 02:00 becomes 03:00) does not exist, so it
//     does not run that day; it is not moved to 03:00. robfig/cron, which
//     Kubernetes CronJob uses, does the same (TestCronAgainstRobfig);
//     ISC (Vixie) cron's manual says it runs such jobs soon after the
//     change instead.
//   - A wall-clock time the clocks repeat (01:30 on 2026-11-01 in
//     America/New_York, where 02:00 EDT becomes 01:00 EST) runs once, at
//     its first occurrence (01:30 EDT); robfig/cron runs it twice. An
//     expression whose hour field allows every hour (*, 0-23) is a
//     cadence rather than a time of day: it follows the clock through the
//     repeated hour and runs in both, as ISC cron's manual says of its jobs
//     with * in the hour.
//
// # At: one slot per session, anchored to a session event
//
// "XNYS.close+2m" fires once per session of XNYS, two minutes after the
// session's actual close: an early close moves it, a late open moves an
// "open" anchor, a holiday or a runtime closure removes it and an extra
// session adds one, as soon as the book's calendars say so. Events are
// open, close, break_start and break_end; a session without a lunch break
// has no break_start or break_end slot, and a market that trades on
// across the day's boundary (ALWAYS) has no open or close. The slot's one
// part is the session; its task key is MARKET:DATE. A task may start
// until a minute after its slot.
//
// # Within: one slot per market and session, inside a window
//
// "open-60s..open-1s" gives each market of the job one slot per session
// inside [open-60s, open-1s]: the first multiple of Every (the slot grid)
// in the window, or the window's start when Every is zero. Markets whose
// slots fall on the same instant share the slot, one part each (in the
// order of Env.Markets). The task key is MARKET:DATE, so a session runs
// once whatever the slots inside the window. A task may start until the
// window's end (the earliest end of the slot's parts). With every 30s this
// is the old pre-open gate: a market whose next open was 1 to 60 s after
// a 30 s slot got a part at that slot, identified by its session.
//
// Session plans (at and within) have no gate and no closed slots. If no
// session within a year after prev has a slot (a market past its
// calendar's coverage, an event no session has), Next reports any
// calendar error and returns a Decision with Enqueue false a year after
// prev, so it always terminates.
package schedule
