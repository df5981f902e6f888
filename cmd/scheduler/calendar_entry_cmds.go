package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"heartbeat/internal/calendars"
	"heartbeat/internal/cli"
	"heartbeat/internal/clock"
	"heartbeat/internal/config"
	"heartbeat/internal/market"
	"heartbeat/internal/node"
	"heartbeat/internal/redisconn"
	"heartbeat/internal/scheduler"
)

// calendarVerbs are the subcommands of `scheduler calendar`: five that
// enter a runtime entry, and remove, list and export.
var calendarVerbs = map[string]market.OverrideKind{
	"close":         market.KindHoliday,
	"early-close":   market.KindEarlyClose,
	"late-open":     market.KindLateOpen,
	"halt":          market.KindHalt,
	"extra-session": market.KindExtraSession,
}

const calendarUsage = `usage: scheduler calendar VERB [flags]
  close         --market M --date D [--reason TEXT]             the market does not trade on D
  early-close   --market M --date D --close HH:MM [--reason]    the session of D ends early
  late-open     --market M --date D --open HH:MM [--reason]     the session of D opens late
  halt          --market M --date D --from HH:MM --to HH:MM [--reason]
  extra-session --market M --date D --open HH:MM --close HH:MM [--break HH:MM-HH:MM] [--reason]
  remove        --id ID [--reason TEXT]                         remove a runtime entry
  list                                                          the runtime entries, with who and when
  export                                                        file and runtime entries in the calendars.overrides format
Times are the market's local time. Entries apply on every replica and worker within a fast tick and last until removed.`

// runCalendar dispatches `scheduler calendar VERB`.
func runCalendar(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stderr, calendarUsage)
		if len(args) == 0 {
			return cli.Usagef("calendar: a VERB is required")
		}
		return nil
	}
	verb, args := args[0], args[1:]
	fs := cli.NewFlags("calendar "+verb, stderr)
	common := cli.AddCommon(fs)
	mkt := fs.String("market", "", "market code, e.g. XNYS")
	date := fs.String("date", "", "session date, YYYY-MM-DD")
	openAt := fs.String("open", "", "open, HH:MM local")
	closeAt := fs.String("close", "", "close, HH:MM local")
	from := fs.String("from", "", "halt start, HH:MM local")
	to := fs.String("to", "", "halt end, HH:MM local")
	brk := fs.String("break", "", "extra session's lunch break, HH:MM-HH:MM local")
	reason := fs.String("reason", "", "why: the holiday or halt's name, and the audit note")
	id := fs.String("id", "", "entry ID (remove), as `calendar list` shows it")
	fs.Usage = func() { fmt.Fprintln(stderr, calendarUsage); fs.PrintDefaults() }
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	kind, enters := calendarVerbs[verb]
	if !enters && verb != "remove" && verb != "list" && verb != "export" {
		return cli.Usagef("calendar: unknown verb %q (close, early-close, late-open, halt, extra-session, remove, list, export)", verb)
	}
	var entry market.Override
	if enters {
		var err error
		if entry, err = overrideFromFlags(kind, *mkt, *date, *openAt, *closeAt, *from, *to, *brk, *reason); err != nil {
			return err
		}
	}
	if verb == "remove" && *id == "" {
		return cli.Usagef("calendar remove: --id is required (see calendar list)")
	}

	cfg, instruments, err := validConfig(common.Load(fs))
	if err != nil {
		return err
	}
	controls, rt, closeRedis, err := calendarControls(ctx, cfg, instruments)
	if err != nil {
		return err
	}
	defer closeRedis()
	switch {
	case enters:
		e, err := controls.CalendarAdd(ctx, entry, *reason, cliActor())
		if e.Action != "" {
			printCalendarAudit(stdout, e)
		}
		if err != nil {
			return cli.Usagef("%w", err) // the entry is wrong: exit 2
		}
		return nil
	case verb == "remove":
		e, err := controls.CalendarRemove(ctx, *id, *reason, cliActor())
		if err != nil {
			return err
		}
		printCalendarAudit(stdout, e)
		return nil
	case verb == "list":
		list, err := controls.CalendarEntries(ctx)
		if err != nil {
			return err
		}
		return writeCalendarEntries(stdout, list)
	default: // export
		last := int64(-1)
		if _, _, err := rt.Sync(ctx, &last); err != nil {
			return err
		}
		_, err := stdout.Write(instruments.Book().Export().Marshal())
		return err
	}
}

// calendarControls connects to Redis and returns the controls with the
// runtime calendar entries on the config's book.
func calendarControls(ctx context.Context, cfg config.Config, instruments *market.Instruments) (*scheduler.Controls, *calendars.Runtime, func(), error) {
	rdb, _, err := redisconn.Redis(ctx, cfg.Redis)
	if err != nil {
		return nil, nil, nil, err
	}
	rt := calendars.New(rdb, instruments.Book())
	controls, err := scheduler.NewControls(node.SchedulerConfig(cfg), scheduler.ControlDeps{Redis: rdb, Instruments: instruments, Clock: clock.Real{}, Calendars: rt})
	if err != nil {
		rdb.Close()
		return nil, nil, nil, err
	}
	return controls, rt, func() { rdb.Close() }, nil
}

// overrideFromFlags builds an entry of kind from the command's flags,
// each bad flag a usage error naming it.
func overrideFromFlags(kind market.OverrideKind, mkt, date, openAt, closeAt, from, to, brk, reason string) (market.Override, error) {
	o := market.Override{Market: market.Code(mkt), Kind: kind, Name: reason}
	if mkt == "" {
		return o, cli.Usagef("--market is required")
	}
	d, err := market.ParseDate(date)
	if err != nil {
		return o, cli.Usagef("--date: %w", err)
	}
	o.Date = d
	need := map[market.OverrideKind][]string{
		market.KindEarlyClose: {"close"}, market.KindLateOpen: {"open"}, market.KindHalt: {"from", "to"},
		market.KindExtraSession: {"open", "close"},
	}
	values := map[string]string{"open": openAt, "close": closeAt, "from": from, "to": to}
	targets := map[string]*market.TimeOfDay{"open": &o.Open, "close": &o.Close, "from": &o.From, "to": &o.To}
	for _, name := range need[kind] {
		if values[name] == "" {
			return o, cli.Usagef("--%s is required for %s", name, kind)
		}
		if *targets[name], err = market.ParseTimeOfDay(values[name]); err != nil {
			return o, cli.Usagef("--%s: %w", name, err)
		}
	}
	if brk != "" {
		if kind != market.KindExtraSession {
			return o, cli.Usagef("--break is only for extra-session")
		}
		a, b, ok := strings.Cut(brk, "-")
		if o.BreakStart, err = market.ParseTimeOfDay(a); err != nil || !ok {
			return o, cli.Usagef("--break: want HH:MM-HH:MM, got %q", brk)
		}
		if o.BreakEnd, err = market.ParseTimeOfDay(b); err != nil {
			return o, cli.Usagef("--break: want HH:MM-HH:MM, got %q", brk)
		}
	}
	if err := o.Check(); err != nil {
		return o, cli.Usagef("%w", err)
	}
	return o, nil
}

func printCalendarAudit(w io.Writer, e scheduler.AuditEntry) {
	fmt.Fprintf(w, "%s %s: %s\n", e.Action, e.Entry, e.Result)
	if e.ID != "" {
		fmt.Fprintf(w, "audit %s entry %s by %s\n", "heartbeat:audit", e.ID, e.Actor)
	}
}

func writeCalendarEntries(w io.Writer, list []market.Override) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tENTRY\tBY\tAT (UTC)")
	for _, o := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", o.Source.Ref, scheduler.Describe(o), o.Source.Actor, o.Source.At.Format("2006-01-02 15:04:05"))
	}
	return tw.Flush()
}
