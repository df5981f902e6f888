package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"text/tabwriter"
	"time"

	"github.com/redis/go-redis/v9"

	"heartbeat/internal/calendars"
	"heartbeat/internal/cli"
	"heartbeat/internal/config"
	"heartbeat/internal/market"
)

// sessions and markets answer from the effective calendars: the config's
// book (the built-in rules, the markets defined under markets:, the
// calendars.overrides file) with the runtime entries of the shared Redis
// applied when it answers. Notes about where the answer comes from go to
// stderr; stdout carries only the answer.

// runtimeDialTimeout bounds the wait for Redis: an operator asking for
// sessions should not wait on a Redis that is down.
const runtimeDialTimeout = 500 * time.Millisecond

// calendarBook loads the config the common flags name, builds its book
// and applies the runtime calendar entries when Redis answers.
func calendarBook(ctx context.Context, fs *flag.FlagSet, common cli.Common, stderr io.Writer) (*market.Book, error) {
	cfg, instruments, err := validConfig(common.Load(fs))
	if err != nil {
		return nil, err
	}
	book := instruments.Book()
	applyRuntimeEntries(ctx, cfg.Redis, book, stderr)
	return book, nil
}

// redisPlace names a Redis for an operator without its credentials:
// redis://host:port.
func redisPlace(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return "redis (redis.url does not parse)"
	}
	return u.Scheme + "://" + u.Host
}

// applyRuntimeEntries applies the runtime calendar entries stored in
// Redis to book and says on stderr how many, or that Redis did not answer
// and only the overrides file and the built-in rules apply. It dials once,
// within runtimeDialTimeout, and does not retry.
func applyRuntimeEntries(ctx context.Context, rc config.Redis, book *market.Book, stderr io.Writer) {
	place := redisPlace(rc.URL)
	offline := func(why string) {
		fmt.Fprintf(stderr, "scheduler: %s %s: only the overrides file and the built-in rules apply, without runtime calendar entries\n", place, why)
	}
	opts, err := redis.ParseURL(rc.URL)
	if err != nil {
		offline("is not a Redis URL")
		return
	}
	opts.DialTimeout = min(rc.DialTimeout, runtimeDialTimeout)
	opts.ReadTimeout, opts.WriteTimeout = time.Second, time.Second
	opts.DialerRetries, opts.MaxRetries = 1, -1
	// A plain dial first: a Redis that is down is the common case here,
	// and the client would log its failed dial on its own.
	conn, err := (&net.Dialer{Timeout: opts.DialTimeout}).DialContext(ctx, opts.Network, opts.Addr)
	if err != nil {
		offline("is not reachable")
		return
	}
	conn.Close()
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	pctx, cancel := context.WithTimeout(ctx, 2*runtimeDialTimeout)
	err = rdb.Ping(pctx).Err()
	cancel()
	if err != nil {
		offline("is not reachable")
		return
	}
	rev := int64(-1)
	_, rejected, err := calendars.New(rdb, book).Sync(ctx, &rev)
	if err != nil {
		offline(fmt.Sprintf("did not give the runtime calendar entries (%v)", err))
		return
	}
	applied := 0
	for _, c := range book.All() {
		for _, o := range c.Overrides() {
			if o.Source.Origin == market.OriginRuntime {
				applied++
			}
		}
	}
	fmt.Fprintf(stderr, "scheduler: applied %d runtime calendar entries from %s\n", applied, place)
	for _, r := range rejected {
		fmt.Fprintf(stderr, "scheduler: runtime calendar entry %s not applied: %s\n", r.Override.Source.Ref, r.Reason)
	}
}

// runSessions prints a market's sessions from..to in the answer-file CSV
// format: opens, closes and lunch breaks. Halts have no place in that
// format: they are left out, and counted on stderr.
func runSessions(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("sessions", stderr)
	common := cli.AddCommon(fs)
	code := fs.String("market", "", "market code, e.g. XNYS (built-in or defined under markets:)")
	from := fs.String("from", "", "first session date, YYYY-MM-DD")
	to := fs.String("to", "", "last session date, YYYY-MM-DD")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: scheduler sessions --market CODE --from YYYY-MM-DD --to YYYY-MM-DD [--config FILE] [--redis URL]")
		fmt.Fprintln(stderr, "prints the effective sessions (built-in rules, markets:, calendars.overrides, runtime entries) as answer-file CSV:")
		fmt.Fprintln(stderr, "opens, closes and breaks only; halts are not shown (see `scheduler markets` or GET /api/v1/markets/CODE)")
		fs.PrintDefaults()
	}
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if *code == "" {
		return cli.Usagef("--market: %w: %q", market.ErrUnknownMarket, *code)
	}
	fd, err := market.ParseDate(*from)
	if err != nil {
		return cli.Usagef("--from: %w", err)
	}
	td, err := market.ParseDate(*to)
	if err != nil {
		return cli.Usagef("--to: %w", err)
	}
	if td.Before(fd) {
		return cli.Usagef("--to %s is before --from %s", td, fd)
	}
	book, err := calendarBook(ctx, fs, common, stderr)
	if err != nil {
		return err
	}
	mc, err := book.ParseCode(*code)
	if err != nil {
		return cli.Usagef("--market: %w", err)
	}
	cal, err := book.Lookup(mc)
	if err != nil {
		return err
	}
	sessions, err := cal.Sessions(fd, td)
	if err != nil {
		return err
	}
	if err := market.WriteSessionsCSV(stdout, sessions); err != nil {
		return err
	}
	halts, assumed := 0, 0
	for _, s := range sessions {
		halts += len(s.Halts)
		if s.Assumed {
			assumed++
		}
	}
	if halts > 0 {
		fmt.Fprintf(stderr, "scheduler: %d halts in these sessions are not shown (the format has opens, closes and breaks only)\n", halts)
	}
	if assumed > 0 {
		_, last := cal.Coverage()
		fmt.Fprintf(stderr, "scheduler: %d sessions after %s are assumed weekdays at regular hours (calendars.on_coverage_end: weekdays)\n", assumed, last)
	}
	return nil
}

// runMarkets prints a table of every market at an instant.
func runMarkets(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("markets", stderr)
	common := cli.AddCommon(fs)
	at := fs.String("at", "", "instant, RFC 3339 (default: now)")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	t := time.Now()
	if *at != "" {
		var err error
		if t, err = time.Parse(time.RFC3339Nano, *at); err != nil {
			return cli.Usagef("--at: %w", err)
		}
	}
	book, err := calendarBook(ctx, fs, common, stderr)
	if err != nil {
		return err
	}
	return writeMarketsTable(stdout, book.All(), t)
}

// writeMarketsTable writes one row per market: phase at t (open, break,
// halted, closed), local time, the current or next session (marked
// "(assumed)" past the calendar's coverage) with its open and close in
// local time and UTC, and what the market does next and how long until
// then ("opens in 2d 10h 00m").
func writeMarketsTable(w io.Writer, cals []*market.Calendar, t time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "MARKET\tPHASE\tLOCAL TIME\tSESSION\tOPEN (LOCAL)\tCLOSE (LOCAL)\tOPEN (UTC)\tCLOSE (UTC)\tNEXT CHANGE\n")
	const local, utc = "2006-01-02 15:04 MST", "2006-01-02 15:04Z"
	for _, c := range cals {
		v := market.Describe(c, t)
		if v.Err != nil {
			fmt.Fprintf(tw, "%s\t-\t%s\t-\t-\t-\t-\t-\t%v\n", c.Code(), t.In(c.Location()).Format(local), v.Err)
			continue
		}
		next := "none within 14 days"
		if !v.NextChange.IsZero() {
			next = v.Countdown()
		}
		session := v.Session.Date.String()
		if v.Session.Assumed {
			session += " (assumed)"
		}
		loc := c.Location()
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Code(), v.Phase, t.In(loc).Format(local), session,
			v.Session.Open.In(loc).Format(local), v.Session.Close.In(loc).Format(local),
			v.Session.Open.UTC().Format(utc), v.Session.Close.UTC().Format(utc), next)
	}
	return tw.Flush()
}
