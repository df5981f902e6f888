// Package keys builds every Redis key Heartbeat uses, in one place.
//
// Keys that one Lua script or MULTI touches share a hash tag, so the same
// code runs on a single Redis, Sentinel or a Redis Cluster:
//   - {shard:N} groups one tick shard's streams and state (Intraday's commit
//     touches them all at once);
//   - {scheduler} groups the leader lease, the term counter and the slot
//     checkpoints;
//   - {market:CODE} groups one market's derived figures;
//   - {settings} groups the runtime settings and their revision.
//
// asynq's own keys (asynq:{queue}:...) are built by asynq.
package keys

import (
	"fmt"
	"strconv"
)

// Prefix starts every Heartbeat key except the run history and audit
// streams, whose names are part of the operator contract.
const Prefix = "hb"

func shard(n int) string { return Prefix + ":{shard:" + strconv.Itoa(n) + "}:" }

// Ticks is shard n's tick stream: the ingest contract feeds write to.
func Ticks(n int) string { return shard(n) + "ticks" }

// Quotes is shard n's hash of the latest quote per symbol.
func Quotes(n int) string { return shard(n) + "quotes" }

// Checkpoints is shard n's hash of job -> last consumed input (a stream
// ID or an instant), committed atomically with each job's state.
func Checkpoints(n int) string { return shard(n) + "checkpoints" }

// Intraday is shard n's hash of symbol -> intraday state (session figures,
// the open 1-minute bar, recently closed bars).
func Intraday(n int) string { return shard(n) + "intraday" }

// OpenBars is shard n's sorted set of symbol -> end of its open bar, so a
// run finds the bars that time has closed without scanning every symbol.
func OpenBars(n int) string { return shard(n) + "open_bars" }

// ClosedBars is shard n's stream of closed (and amended) 1-minute bars
// waiting for ClosedBarsFlush; the consumer group FlushGroup reads it.
func ClosedBars(n int) string { return shard(n) + "closed_bars" }

// FlushGroup is the consumer group of ClosedBars.
const FlushGroup = "flush"

// MinuteBars is the sorted set of a symbol's closed 1-minute bars that
// start in one UTC hour (hour = Unix ms / 3,600,000), scored by start. Each
// hour's set expires 25 hours after the hour ends (in the writing run's
// time, at least an hour after the write), so the last day of bars
// is always there for the rolling 24 h window, the minute VWAP series and
// the API, and small sets keep every write cheap.
func MinuteBars(n int, symbol string, hour int64) string {
	return shard(n) + "m1:" + symbol + ":" + strconv.FormatInt(hour, 10)
}

// DailyBars is the hash of a symbol's finished sessions (session label ->
// open, high, low, last, volume, trades), kept for 53 weeks; the current
// session is in the symbol's intraday state.
func DailyBars(n int, symbol string) string { return shard(n) + "daily:" + symbol }

// Amended is shard n's hash of what Intraday publishes for the jobs that
// read its bars: field "earliest" holds the start (Unix ms) of the
// earliest in-session minute a late tick amended since a reader last took
// it. Intraday lowers it in its commit; VWAP capture reads it, captures
// those minutes again and clears it in its own commit.
func Amended(n int) string { return shard(n) + "amended" }

// Updates is shard n's capped stream of Intraday's announcements: one
// entry per commit that changed symbols' states, listing them, written in
// the commit itself. The live figures hub (internal/live) follows it.
func Updates(n int) string { return shard(n) + "updates" }

// VwapLast is shard n's hash of symbol -> the last minute VWAP point
// captured, carried forward over minutes without a trade.
func VwapLast(n int) string { return shard(n) + "vwap:last" }

// DeadLetter is shard n's stream of rejected ticks, each with its reason.
func DeadLetter(n int) string { return shard(n) + "deadletter" }

// DeadLetterCounts is shard n's hash of reason -> rejected tick count.
func DeadLetterCounts(n int) string { return shard(n) + "deadletter:counts" }

// Week52 is shard n's hash of symbol -> 52-week extremes.
func Week52(n int) string { return shard(n) + "week52" }

// SessionVolume is shard n's hash of symbol -> session volume and trades.
func SessionVolume(n int) string { return shard(n) + "session_volume" }

// Rolling24h is shard n's hash of symbol -> rolling 24 h figures.
func Rolling24h(n int) string { return shard(n) + "rolling24h" }

// VwapSeries is a symbol's sorted set of minute VWAP captures, scored by
// the minute's Unix time.
func VwapSeries(n int, symbol string) string { return shard(n) + "vwap:" + symbol }

func market(code string) string { return Prefix + ":{market:" + code + "}:" }

// MarketSessionVolume is a market's hash of session label -> volume and
// trades summed over its instruments.
func MarketSessionVolume(code string) string { return market(code) + "session_volume" }

// MarketMetrics is a market's hash of composite figures for its current
// session.
func MarketMetrics(code string) string { return market(code) + "metrics" }

// Backtest is a market's hash of symbol -> pre-open backtest result for
// the session labelled label (YYYY-MM-DD).
func Backtest(code, label string) string { return market(code) + "backtest:" + label }

const scheduler = Prefix + ":{scheduler}:"

// Lease is the scheduler leader lease: the holder's token, with a TTL.
func Lease() string { return scheduler + "lease" }

// Term is the counter that gives each new lease a higher term.
func Term() string { return scheduler + "term" }

// LastSlots is the hash of job -> last enqueued slot (Unix ms), so a new
// leader resumes where the old one stopped.
func LastSlots() string { return scheduler + "last_slot" }

// LegacyPaused is the hash of job -> pause note where versions before
// 2026-12-03 kept pauses; a scheduler moves its fields into the settings
// store (kind "pause") at start.
func LegacyPaused() string { return scheduler + "paused" }

// Standbys is the hash of replica -> last heartbeat (JSON), for the status
// page.
func Standbys() string { return scheduler + "replicas" }

const settings = Prefix + ":{settings}:"

// Settings is the hash of runtime settings operators change without a
// deploy (entry ID -> JSON): calendar overrides today. One Lua script
// changes it together with SettingsRevision.
func Settings() string { return settings + "entries" }

// SettingsRevision counts changes to Settings, so every replica and
// worker notices a change with one GET per fast tick.
func SettingsRevision() string { return settings + "rev" }

// RunLock is held while a job's task for one part runs, so a job never
// runs concurrently with its own previous slot.
func RunLock(job, part string) string {
	return fmt.Sprintf("%s:runlock:{%s:%s}", Prefix, job, part)
}

// Runs is the stream of every run (the operator's run history), trimmed
// by age (runs.retention).
const Runs = "heartbeat:runs"

// JobRuns is one job's own stream of its runs (the same entries as Runs),
// so a rarely run job's history is one read away however busy the others
// are. Trimmed like Runs.
func JobRuns(job string) string { return Runs + ":" + job }

// Audit is the stream of operator control actions.
const Audit = "heartbeat:audit"

const events = Prefix + ":{events}:"

// MarketEvents is the stream of market transition events (open, close,
// breaks, halts), trimmed by age (events.retention). One Lua script
// appends to it together with EventsSeen and EventSlots.
func MarketEvents() string { return events + "market" }

// EventsSeen is the sorted set of the identities (MARKET:KIND:UNIXMS) of
// the transitions emitted, scored by their instant: the dedup set that
// makes each emission happen once.
func EventsSeen() string { return events + "seen" }

// EventSlots is the sorted set of MARKET:KIND:SESSION -> instant of the
// session transitions emitted, so a transition a calendar change moved
// after its emission gives a changed event, not a second one.
func EventSlots() string { return events + "slots" }

// EventsCursor is the instant (Unix ms) up to which the leader has
// emitted, or counted missed, every transition.
func EventsCursor() string { return events + "cursor" }

// EventsOrigin is the instant (Unix ms) the events stream started at:
// the first leader's start. No transition before it is owed.
func EventsOrigin() string { return events + "origin" }
