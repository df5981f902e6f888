package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"heartbeat/internal/cli"
	"heartbeat/internal/events"
	"heartbeat/internal/redisconn"
)

// eventsPage is how many events one read of the stream returns.
const eventsPage = 500

// followBlock is how long one read waits for a new event with --follow.
const followBlock = 5 * time.Second

// runEvents prints the market events stream, oldest first: the whole
// stream (or what follows --since), then with --follow every new event as
// it is emitted, until interrupted.
func runEvents(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("events", stderr)
	common := cli.AddCommon(fs)
	follow := fs.Bool("follow", false, "keep printing events as they are emitted, until interrupted")
	only := fs.String("market", "", "only this market's events (a code such as XNYS)")
	since := fs.String("since", "", "only events after this stream ID (printed first on each line)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: scheduler events [--follow] [--market X] [--since ID] [--config FILE] [--redis URL]")
		fs.PrintDefaults()
	}
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	cfg, instruments, err := validConfig(common.Load(fs))
	if err != nil {
		return err
	}
	if *only != "" {
		if _, err := instruments.Book().ParseCode(*only); err != nil {
			return cli.Usagef("events: --market: %v", err)
		}
	}
	rdb, _, err := redisconn.Redis(ctx, cfg.Redis)
	if err != nil {
		return err
	}
	defer rdb.Close()
	stream := events.NewStream(rdb, cfg.Events.Retention)
	cursor := *since
	for {
		var block time.Duration
		if *follow {
			block = followBlock
		}
		page, err := stream.Read(ctx, cursor, eventsPage, block)
		if err != nil {
			if *follow && ctx.Err() != nil {
				return nil // interrupted
			}
			return err
		}
		for _, e := range page {
			cursor = e.ID
			if *only == "" || string(e.Market) == *only {
				printEvent(stdout, e)
			}
		}
		if !*follow && len(page) < eventsPage {
			return nil
		}
	}
}

// printEvent writes one event on one line: stream ID, market, kind, the
// transition's instant (UTC), session, term, and for a changed event the
// kind that moved and its previous instant.
func printEvent(w io.Writer, e events.Event) {
	fmt.Fprintf(w, "%s %s %s %s session %s term %d", e.ID, e.Market, e.Kind, e.At.UTC().Format(events.TimeLayout), e.Session, e.Term)
	if e.Kind == events.Changed {
		fmt.Fprintf(w, " of %s was %s", e.Of, e.Was.UTC().Format(events.TimeLayout))
	}
	fmt.Fprintln(w)
}
