// Package market owns what Heartbeat knows about exchanges and instruments:
// the trading calendars of the markets it follows (sessions, lunch breaks,
// early closes, late opens, holidays and time zones) and the mapping of
// instrument symbols to those markets.
//
// Every calendar query is a pure function of the instant passed in; nothing
// here reads a clock. Calendars are built from rules (fixed dates with
// weekend observance, nth weekdays, Easter offsets, validity ranges) plus
// tables for what no rule predicts (lunar and religious dates announced by
// the exchange, one-off closures). Each calendar has a coverage range; a
// query outside it returns an error wrapping ErrOutOfCoverage instead of a
// guess.
package market

// The time zone database is bundled into every binary so calendar answers
// never depend on the machine's zoneinfo files.
import _ "time/tzdata"
