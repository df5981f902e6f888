package metrics

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"heartbeat/internal/market"
)

// The calendar coverage metrics, read from a market.Book at every scrape
// (an overrides file and runtime entries can move a market's coverage
// while the process runs).
var (
	coveredThroughDesc = prometheus.NewDesc("heartbeat_calendar_covered_through_seconds",
		"Unix time of the end of the last date the market's calendar vouches for (its built-in rules and tables, "+
			"extended by covered_through in calendars.overrides): midnight after that date in the market's zone, "+
			"the first instant not covered. Alert when it is near: past it the market is closed, or assumed "+
			"(calendars.on_coverage_end: weekdays).",
		[]string{"market"}, nil)
	assumedDesc = prometheus.NewDesc("heartbeat_calendar_assumed",
		"1 when the market answers past its coverage with assumed weekday sessions at regular hours "+
			"(calendars.on_coverage_end: weekdays), 0 when it is closed there.",
		[]string{"market"}, nil)
)

// CoveredThrough returns the value of heartbeat_calendar_covered_through_seconds
// for c: the first instant its coverage does not reach, which is midnight
// at the start of the day after the last covered date, on the market's
// wall clock. The end of the last date (rather than its start) is chosen
// so that "now > covered_through" is exactly "now is not covered".
func CoveredThrough(c *market.Calendar) float64 {
	_, last := c.Coverage()
	return float64(last.AddDays(1).At(c.Location(), 0).Unix())
}

// calendarCollector reports the coverage of a book's calendars.
type calendarCollector struct{ book *market.Book }

// Describe sends the two metrics' descriptors.
func (c calendarCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- coveredThroughDesc
	ch <- assumedDesc
}

// Collect reads every calendar of the book as it is now.
func (c calendarCollector) Collect(ch chan<- prometheus.Metric) {
	for _, cal := range c.book.All() {
		code := string(cal.Code())
		ch <- prometheus.MustNewConstMetric(coveredThroughDesc, prometheus.GaugeValue, CoveredThrough(cal), code)
		assumed := 0.0
		if cal.Assumes() {
			assumed = 1
		}
		ch <- prometheus.MustNewConstMetric(assumedDesc, prometheus.GaugeValue, assumed, code)
	}
}

// WatchCalendars registers heartbeat_calendar_covered_through_seconds and
// heartbeat_calendar_assumed, labelled market, read from book at every
// scrape. A process that holds several books of the same config (the
// embedded mode's scheduler and workers share one registry) may call it
// once per book: the first book registered is the one reported.
func (m *Metrics) WatchCalendars(book *market.Book) {
	err := m.Registry.Register(calendarCollector{book: book})
	if are := (prometheus.AlreadyRegisteredError{}); err != nil && !errors.As(err, &are) {
		panic(err) // the descriptors are constants: any other error is a bug
	}
}
