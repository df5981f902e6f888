package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hibiken/asynq"

	"heartbeat/internal/cli"
	"heartbeat/internal/clock"
	"heartbeat/internal/config"
	"heartbeat/internal/jobs"
	"heartbeat/internal/market"
	"heartbeat/internal/node"
	"heartbeat/internal/redisconn"
	"heartbeat/internal/scheduler"
)

// The operator controls: pause, resume and trigger act on the shared Redis
// (every replica sees them) and are recorded in heartbeat:audit with the
// actor cli:USER@HOST; preview is pure, from the calendars.

func runPause(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runControl(ctx, scheduler.ActionPause, args, stdout, stderr)
}

func runResume(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runControl(ctx, scheduler.ActionResume, args, stdout, stderr)
}

func runTrigger(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runControl(ctx, scheduler.ActionTrigger, args, stdout, stderr)
}

// parseJobArgs parses flags around one JOB argument: "pause JOB --note X"
// and "pause --note X JOB" both work.
func parseJobArgs(fs *flag.FlagSet, args []string) (jobs.Name, error) {
	var job string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		job, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "", err
		}
		return "", cli.UsageError{Err: err}
	}
	rest := fs.Args()
	if job == "" && len(rest) > 0 {
		job, rest = rest[0], rest[1:]
	}
	switch {
	case job == "":
		return "", cli.Usagef("%s: a JOB is required (one of %s)", fs.Name(), jobNames())
	case len(rest) > 0:
		return "", cli.Usagef("%s: unexpected arguments %q", fs.Name(), rest)
	}
	if _, ok := jobs.Lookup(jobs.Name(job)); !ok {
		return "", cli.Usagef("%s: unknown job %q (one of %s)", fs.Name(), job, jobNames())
	}
	return jobs.Name(job), nil
}

// parseSetArgs parses "set JOB FIELD=VALUE..." with flags anywhere.
func parseSetArgs(fs *flag.FlagSet, args []string) (jobs.Name, jobs.Settings, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return "", nil, err
			}
			return "", nil, cli.UsageError{Err: err}
		}
		if args = fs.Args(); len(args) == 0 {
			break
		}
		pos, args = append(pos, args[0]), args[1:]
	}
	if len(pos) == 0 {
		return "", nil, cli.Usagef("set: a JOB is required (one of %s)", jobNames())
	}
	job := jobs.Name(pos[0])
	if _, ok := jobs.Lookup(job); !ok {
		return "", nil, cli.Usagef("set: unknown job %q (one of %s)", job, jobNames())
	}
	set := jobs.Settings{}
	for _, kv := range pos[1:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return "", nil, cli.Usagef("set: %q is not FIELD=VALUE (fields: %s)", kv, strings.Join(jobs.Fields(), ", "))
		}
		set[k] = v
	}
	return job, set, nil
}

func jobNames() string {
	var names []string
	for _, n := range jobs.Names() {
		names = append(names, string(n))
	}
	return strings.Join(names, ", ")
}

// cliActor names the operator in the audit stream: cli:USER@HOST.
func cliActor() string {
	name := os.Getenv("USER")
	if name == "" {
		if u, err := user.Current(); err == nil {
			name = u.Username
		} else {
			name = "unknown"
		}
	}
	host, err := os.Hostname()
	if err != nil {
		host = "localhost"
	}
	return "cli:" + name + "@" + host
}

// runSet changes a job's runtime settings, or with --reset returns it to
// its config: set JOB FIELD=VALUE... [--reset] [--note TEXT].
func runSet(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runControl(ctx, scheduler.ActionSet, args, stdout, stderr)
}

// runControl pauses, resumes, triggers or sets a job.
func runControl(ctx context.Context, action scheduler.Action, args []string, stdout, stderr io.Writer) error {
	name := string(action)
	fs := cli.NewFlags(name, stderr)
	common := cli.AddCommon(fs)
	note := fs.String("note", "", "why, for the audit stream (and, for pause, shown on the status page)")
	usage := "JOB"
	var reset *bool
	if action == scheduler.ActionSet {
		usage = "JOB FIELD=VALUE... | JOB --reset"
		reset = fs.Bool("reset", false, "remove the job's runtime settings: it returns to its config")
	}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: scheduler %s %s [--note TEXT] [--config FILE] [--redis URL]\n", name, usage)
		if action == scheduler.ActionSet {
			fmt.Fprintf(stderr, "fields: %s\n", strings.Join(jobs.Fields(), ", "))
		}
		fs.PrintDefaults()
	}
	var (
		job jobs.Name
		set jobs.Settings
		err error
	)
	if action == scheduler.ActionSet {
		job, set, err = parseSetArgs(fs, args)
		if err == nil && *reset {
			if len(set) > 0 {
				return cli.Usagef("set: --reset takes no FIELD=VALUE")
			}
			action = scheduler.ActionReset
		}
	} else {
		job, err = parseJobArgs(fs, args)
	}
	if err != nil {
		return err
	}
	cfg, instruments, err := validConfig(common.Load(fs))
	if err != nil {
		return err
	}
	rdb, conn, err := redisconn.Redis(ctx, cfg.Redis)
	if err != nil {
		return err
	}
	defer rdb.Close()
	deps := scheduler.ControlDeps{Redis: rdb, Instruments: instruments, Clock: clock.Real{}}
	if action == scheduler.ActionTrigger {
		client := asynq.NewClient(conn)
		defer client.Close()
		deps.Enqueuer = client
	}
	controls, err := scheduler.NewControls(node.SchedulerConfig(cfg), deps)
	if err != nil {
		return err
	}
	e, err := controls.Do(ctx, scheduler.Request{Action: action, Job: job, Note: *note, Actor: cliActor(), Settings: set})
	if e.Action != "" {
		printAudit(stdout, e)
	}
	if errors.Is(err, scheduler.ErrInvalidSetting) {
		return cli.UsageError{Err: err}
	}
	return err
}

// printAudit prints what an action did.
func printAudit(w io.Writer, e scheduler.AuditEntry) {
	fmt.Fprintf(w, "%s %s: %s\n", e.Action, e.Job, e.Result)
	if !e.Slot.IsZero() {
		fmt.Fprintf(w, "slot %s\n", e.Slot.UTC().Format(time.RFC3339Nano))
	}
	for _, id := range e.Tasks {
		fmt.Fprintf(w, "  task %s\n", id)
	}
	if e.ID != "" {
		fmt.Fprintf(w, "audit %s entry %s by %s\n", "heartbeat:audit", e.ID, e.Actor)
	}
}

// runPreview prints a job's next slots with their gate decisions, from the
// calendars and the config alone (no Redis).
func runPreview(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("preview", stderr)
	cfgPath := fs.String("config", "", "config file (default ./config.yaml if present)")
	job := fs.String("job", "", "job name (required)")
	n := fs.Int("n", 10, "how many slots (1-10000)")
	at := fs.String("at", "", "start after this instant, RFC 3339 (default: now)")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if *job == "" {
		return cli.Usagef("preview: --job is required (one of %s)", jobNames())
	}
	if _, ok := jobs.Lookup(jobs.Name(*job)); !ok {
		return cli.Usagef("preview: unknown job %q (one of %s)", *job, jobNames())
	}
	if *n < 1 || *n > 10000 {
		return cli.Usagef("preview: --n must be 1-10000, got %d", *n)
	}
	after := time.Now()
	if *at != "" {
		var err error
		if after, err = time.Parse(time.RFC3339Nano, *at); err != nil {
			return cli.Usagef("preview: --at: %w", err)
		}
	}
	cfg, instruments, err := validConfig(config.Load(*cfgPath))
	if err != nil {
		return err
	}
	sc := node.SchedulerConfig(cfg)
	for _, jc := range sc.Jobs {
		if jc.Spec.Name != jobs.Name(*job) {
			continue
		}
		p, err := scheduler.NewJobPlan(sc, jc.Spec, instruments.Calendars(), instruments.Book(), nil)
		if err != nil {
			return err
		}
		return writePreview(stdout, p, sc, jc.Enabled, after, *n)
	}
	return cli.Usagef("preview: job %q is not configured", *job)
}

// writePreview writes the header line and one row per slot.
func writePreview(w io.Writer, p scheduler.JobPlan, sc scheduler.Config, enabled bool, after time.Time, n int) error {
	state := ""
	if !enabled {
		state = " (disabled in config: the scheduler does not run it)"
	}
	settings := ""
	if sch := p.Spec.Schedule; sch.Every > 0 && sch.Within == "" {
		settings = fmt.Sprintf(", slow tick %s, close grace %s", sc.SlowTick, max(sc.CloseGrace, 2*sch.Every))
	}
	fmt.Fprintf(w, "%s: %s%s, after %s%s\n", p.Spec.Name, p, settings, after.UTC().Format(time.RFC3339Nano), state)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SLOT (UTC)\tGAP\tTASKS\tDECISION")
	prev := time.Time{}
	for _, d := range scheduler.Preview(p, after, n) {
		gap := "-"
		if !prev.IsZero() {
			gap = d.Slot.Sub(prev).String()
		}
		prev = d.Slot
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", d.Slot.UTC().Format("2006-01-02 15:04:05.000"), gap, len(d.Parts), d.Why)
	}
	return tw.Flush()
}

// validConfig validates a loaded configuration and builds its instruments.
func validConfig(cfg config.Config, err error) (config.Config, *market.Instruments, error) {
	if err != nil {
		return cfg, nil, err
	}
	if err := cfg.Validate(); err != nil {
		return cfg, nil, err
	}
	instruments, err := cfg.MarketInstruments()
	return cfg, instruments, err
}
