package main

import (
	"context"
	"strings"
	"testing"

	"github.com/hibiken/asynq"

	"heartbeat/internal/cli"
	"heartbeat/internal/keys"
	"heartbeat/internal/scheduler"
	"heartbeat/internal/settings"
	"heartbeat/internal/testinfra"
)

func TestControlCommands(t *testing.T) {
	t.Parallel()
	m, rdb := testinfra.Mini(t)
	url := "redis://" + m.Addr() + "/0"
	ctx := context.Background()

	r := runCLI(t, "pause", "intraday", "--note", "feed migration", "--redis", url)
	if r.code != cli.ExitOK || !strings.HasPrefix(r.stdout, "pause intraday: paused\n") {
		t.Fatalf("pause: code %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	if paused, err := scheduler.Paused(ctx, rdb); err != nil || paused["intraday"] != "feed migration" {
		t.Fatalf("paused %v, %v", paused, err)
	}
	// Flags before the job work too.
	if r := runCLI(t, "pause", "--redis", url, "session_volume"); r.code != cli.ExitOK {
		t.Fatalf("pause with flags first: %d %s", r.code, r.stderr)
	}
	if r := runCLI(t, "resume", "session_volume", "--redis", url); r.code != cli.ExitOK || !strings.Contains(r.stdout, "resumed") {
		t.Fatalf("resume: %d %s %s", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, "trigger", "market_metrics", "--redis", url, "--note", "check")
	if r.code != cli.ExitOK || !strings.Contains(r.stdout, "trigger market_metrics: 1 enqueued, 0 already enqueued") ||
		!strings.Contains(r.stdout, "task market_metrics:all:") {
		t.Fatalf("trigger: code %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: m.Addr()})
	defer insp.Close()
	if q, err := insp.GetQueueInfo("default"); err != nil || q.Size != 1 {
		t.Fatalf("default queue after trigger: %+v %v", q, err)
	}

	audit, err := scheduler.Audit(ctx, rdb, 10)
	testinfra.Must(t, err, "audit")
	var got []string
	for _, e := range audit {
		if !strings.HasPrefix(e.Actor, "cli:") {
			t.Fatalf("actor %q, want cli:USER@HOST", e.Actor)
		}
		got = append(got, string(e.Action)+" "+string(e.Job)+" "+e.Note)
	}
	want := []string{"trigger market_metrics check", "resume session_volume ", "pause session_volume ", "pause intraday feed migration"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("audit %q, want %q", got, want)
	}
}

func TestControlCommandErrors(t *testing.T) {
	t.Parallel()
	m, rdb := testinfra.Mini(t)
	url := "redis://" + m.Addr() + "/0"
	for _, tc := range []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"no job", []string{"pause", "--redis", url}, cli.ExitUsage, "a JOB is required"},
		{"unknown job", []string{"resume", "nope", "--redis", url}, cli.ExitUsage, `unknown job "nope"`},
		{"two jobs", []string{"trigger", "intraday", "session_volume", "--redis", url}, cli.ExitUsage, "unexpected arguments"},
		{"bad flag", []string{"pause", "intraday", "--bogus"}, cli.ExitUsage, "flag provided but not defined"},
		{"redis down", []string{"pause", "intraday", "--redis", "redis://127.0.0.1:1/0"}, cli.ExitError, "not reachable"},
		{"redis mode unknown", []string{"pause", "intraday", "--redis-mode", "replicated", "--redis", url}, cli.ExitUsage, "redis.mode: must be single, sentinel or cluster"},
		{"cluster database", []string{"pause", "intraday", "--redis-mode", "cluster", "--redis", "redis://127.0.0.1:1/2"}, cli.ExitUsage, "redis.url: a Redis Cluster has only database 0"},
		{"sentinel without master", []string{"pause", "intraday", "--redis-mode", "sentinel", "--redis", "redis://127.0.0.1:1/0"}, cli.ExitUsage, "redis.url: sentinel mode needs"},
		{"sentinel down", []string{"pause", "intraday", "--redis-mode", "sentinel", "--redis", "redis://u:s3cr3t@127.0.0.1:1/0?master_name=m&password=s3cr3t"}, cli.ExitError, `redis master "m" via sentinels at 127.0.0.1:1 is not reachable`},
		{"cluster down", []string{"pause", "intraday", "--redis-mode", "cluster", "--redis", "redis://u:s3cr3t@127.0.0.1:1?addr=127.0.0.1:2"}, cli.ExitError, "redis cluster at 127.0.0.1:1, 127.0.0.1:2 is not reachable"},
		{"preview without job", []string{"preview"}, cli.ExitUsage, "--job is required"},
		{"preview unknown job", []string{"preview", "--job", "nope"}, cli.ExitUsage, "unknown job"},
		{"preview bad n", []string{"preview", "--job", "intraday", "--n", "0"}, cli.ExitUsage, "--n must be"},
		{"preview bad at", []string{"preview", "--job", "intraday", "--at", "monday"}, cli.ExitUsage, "--at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.err) {
				t.Fatalf("code %d (want %d), stderr %q (want %q)", r.code, tc.code, r.stderr, tc.err)
			}
			if strings.Contains(r.stderr, "s3cr3t") {
				t.Fatalf("stderr prints the password: %q", r.stderr)
			}
		})
	}
	if n := rdb.Exists(context.Background(), keys.Settings(), keys.Audit).Val(); n != 0 {
		t.Fatalf("failed commands wrote %d keys", n)
	}
}

func TestPreviewCommand(t *testing.T) {
	t.Parallel()
	r := runCLI(t, "preview", "--job", "pre_open_backtest", "--n", "2", "--at", "2026-03-02T14:28:59Z")
	want := `pre_open_backtest: within open-1m..open-1s every 30s, after 2026-03-02T14:28:59Z
SLOT (UTC)               GAP      TASKS  DECISION
2026-03-02 14:29:00.000  -        3      XNYS session 2026-03-02: open 09:30 America/New_York; XTSE session 2026-03-02: open 09:30 America/Toronto; XMEX session 2026-03-02: open 08:30 America/Mexico_City: slot in window open-1m..open-1s on the 30s grid
2026-03-02 22:59:00.000  8h30m0s  2      XASX session 2026-03-03: open 10:00 Australia/Sydney; CMES session 2026-03-03: open 17:00 America/Chicago: slot in window open-1m..open-1s on the 30s grid
`
	if r.code != cli.ExitOK || r.stdout != want {
		t.Fatalf("code %d stderr %s\ngot:\n%s\nwant:\n%s", r.code, r.stderr, r.stdout, want)
	}
}

// TestSetCommand: set stores a job's runtime settings and prints the
// audit; a refused value exits 2 naming the field and changes nothing;
// --reset removes them.
func TestSetCommand(t *testing.T) {
	t.Parallel()
	m, rdb := testinfra.Mini(t)
	url := "redis://" + m.Addr() + "/0"
	r := runCLI(t, "set", "intraday", "interval=2s", "--note", "calmer", "overlap=allow", "--redis", url)
	if r.code != cli.ExitOK || !strings.Contains(r.stdout, "set intraday: set interval=2s overlap=allow") {
		t.Fatalf("set: code %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"set", "intraday", "interval=soon"}, "interval: want a duration"},
		{[]string{"set", "intraday", "queue=default"}, "queue: fixed at start"},
		{[]string{"set", "intraday", "interval"}, "is not FIELD=VALUE"},
		{[]string{"set", "nope", "interval=2s"}, `unknown job "nope"`},
		{[]string{"set", "intraday", "--reset", "interval=2s"}, "--reset takes no FIELD=VALUE"},
	} {
		r := runCLI(t, append(tc.args, "--redis", url)...)
		if r.code != cli.ExitUsage || !strings.Contains(r.stderr, tc.err) {
			t.Fatalf("%v: code %d stderr %q, want 2 and %q", tc.args, r.code, r.stderr, tc.err)
		}
	}
	all, _, err := scheduler.ReadJobSettings(context.Background(), settings.New(rdb))
	testinfra.Must(t, err, "read")
	if rs := all["intraday"]; rs == nil || len(rs.Settings) != 2 || rs.Settings["interval"] != "2s" || rs.Note != "calmer" || !strings.HasPrefix(rs.Actor, "cli:") {
		t.Fatalf("stored %+v", rs)
	}
	if r := runCLI(t, "set", "intraday", "--reset", "--redis", url); r.code != cli.ExitOK || !strings.Contains(r.stdout, "reset intraday: reset to the config") {
		t.Fatalf("reset: code %d %s %s", r.code, r.stdout, r.stderr)
	}
	if all, _, _ := scheduler.ReadJobSettings(context.Background(), settings.New(rdb)); len(all) != 0 {
		t.Fatalf("after reset %+v", all)
	}
}
