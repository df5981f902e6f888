package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"heartbeat/internal/cli"
	"heartbeat/internal/market"
)

// runSessions prints a market's sessions from..to in the answer-file CSV
// format.
func runSessions(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("sessions", stderr)
	code := fs.String("market", "", "market code, e.g. XNYS")
	from := fs.String("from", "", "first session date, YYYY-MM-DD")
	to := fs.String("to", "", "last session date, YYYY-MM-DD")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	mc, err := market.ParseCode(*code)
	if err != nil {
		return cli.Usagef("--market: %w", err)
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
	cal, err := market.Lookup(mc)
	if err != nil {
		return err
	}
	sessions, err := cal.Sessions(fd, td)
	if err != nil {
		return err
	}
	return market.WriteSessionsCSV(stdout, sessions)
}

// runMarkets prints a table of every market at an instant.
func runMarkets(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("markets", stderr)
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
	cals, err := market.All()
	if err != nil {
		return err
	}
	return writeMarketsTable(stdout, cals, t)
}

// writeMarketsTable writes one row per market: phase at t, local time, the
// current or next session's open and close in local time and UTC, and what
// the market does next and how long until then ("opens in 2d 10h 00m").
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
		loc := c.Location()
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Code(), v.Phase, t.In(loc).Format(local), v.Session.Date,
			v.Session.Open.In(loc).Format(local), v.Session.Close.In(loc).Format(local),
			v.Session.Open.UTC().Format(utc), v.Session.Close.UTC().Format(utc), next)
	}
	return tw.Flush()
}
