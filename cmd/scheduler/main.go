// Command scheduler is Heartbeat's scheduler: the leader-leased process that
// enqueues the eight jobs' slots (run it with flags only, or --embedded for
// everything in one process), and the operator's command line.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"heartbeat/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func commands() []cli.Command {
	return []cli.Command{
		{Name: "sessions", Summary: "print a market's sessions as CSV", Run: runSessions},
		{Name: "markets", Summary: "print every market's phase and next session", Run: runMarkets},
		{Name: "backfill", Summary: "run the jobs over a trades file and write bars, VWAP, session volume, 24h figures", Run: runBackfill},
		{Name: "calendar", Summary: "runtime calendar entries: calendar close|early-close|late-open|halt|extra-session|remove|list|export", Run: runCalendar},
		{Name: "rebuild", Summary: "restore daily bars, the last 25 h of minute bars and intraday states from the bar store into Redis", Run: runRebuild},
		{Name: "pause", Summary: "pause a job on every replica: pause JOB [--note TEXT]", Run: runPause},
		{Name: "resume", Summary: "resume a paused job: resume JOB [--note TEXT]", Run: runResume},
		{Name: "trigger", Summary: "enqueue a job's current slot now, once: trigger JOB [--note TEXT]", Run: runTrigger},
		{Name: "set", Summary: "change a job's schedule, enablement or policies on every replica: set JOB FIELD=VALUE... | set JOB --reset", Run: runSet},
		{Name: "healthcheck", Summary: "exit 0 when this host's scheduler is ready (GET /readyz): healthcheck [--addr HOST:PORT]", Run: runHealthcheck},
		{Name: "events", Summary: "print the market transition events: events [--follow] [--market X] [--since ID]", Run: runEvents},
		{Name: "preview", Summary: "list a job's next slots and gate decisions: preview --job JOB [--n 10] [--at T]", Run: runPreview},
	}
}

// run dispatches: flags alone run the scheduler; a first word names a
// subcommand.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if cli.IsVersion(args, stdout) {
		return cli.ExitOK
	}
	if len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
		usage(stderr)
		fmt.Fprintln(stderr, "\nflags of a scheduler replica:")
		fs, _ := daemonFlags(stderr)
		fs.PrintDefaults()
		return cli.ExitOK
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return cli.ExitCode("scheduler", runDaemon(ctx, args, stdout, stderr), stderr)
	}
	if c, ok := cli.Find(commands(), args[0]); ok {
		return cli.ExitCode("scheduler", c.Run(ctx, args[1:], stdout, stderr), stderr)
	}
	fmt.Fprintf(stderr, "scheduler: unknown command %q\n", args[0])
	usage(stderr)
	return cli.ExitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: scheduler [flags]            run a scheduler replica (--embedded: the whole system in one process)")
	fmt.Fprintln(w, "       scheduler <command> [flags]")
	cli.PrintCommands(w, commands())
	fmt.Fprintln(w, "\nrun 'scheduler <command> --help' for a command's flags")
}
