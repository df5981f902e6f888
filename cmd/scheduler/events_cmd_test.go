package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"heartbeat/internal/cli"
	"heartbeat/internal/events"
	"heartbeat/internal/market"
	"heartbeat/internal/testinfra"
)

func TestEventsCommand(t *testing.T) {
	t.Parallel()
	m, rdb := testinfra.Mini(t)
	url := "redis://" + m.Addr() + "/0"
	stream := events.NewStream(rdb, 0)
	day := market.NewDate(2026, 12, 2)
	emit := func(code market.Code, kind events.Kind, at time.Time) {
		t.Helper()
		if _, _, err := stream.Emit(context.Background(), events.Transition{Market: code, Kind: kind, At: at, Session: day}, 4); err != nil {
			t.Fatal(err)
		}
	}
	emit(market.XHKG, events.BreakStart, time.Date(2026, 12, 2, 4, 0, 0, 0, time.UTC))
	emit(market.XNYS, events.Open, time.Date(2026, 12, 2, 14, 30, 0, 0, time.UTC))
	emit(market.XNYS, events.Open, time.Date(2026, 12, 2, 15, 0, 0, 0, time.UTC)) // moved: changed
	all, err := stream.Read(context.Background(), "", 10, 0)
	if err != nil || len(all) != 3 {
		t.Fatalf("stream: %v, %v", all, err)
	}
	strip := func(out string) []string { // drop the stream IDs
		var lines []string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if _, rest, ok := strings.Cut(l, " "); ok {
				lines = append(lines, rest)
			}
		}
		return lines
	}
	cases := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"everything", nil, cli.ExitOK, []string{
			"XHKG break_start 2026-12-02T04:00:00.000Z session 2026-12-02 term 4",
			"XNYS open 2026-12-02T14:30:00.000Z session 2026-12-02 term 4",
			"XNYS changed 2026-12-02T15:00:00.000Z session 2026-12-02 term 4 of open was 2026-12-02T14:30:00.000Z"}},
		{"one market", []string{"--market", "XHKG"}, cli.ExitOK, []string{"XHKG break_start 2026-12-02T04:00:00.000Z session 2026-12-02 term 4"}},
		{"since an ID", []string{"--since", all[1].ID}, cli.ExitOK, []string{
			"XNYS changed 2026-12-02T15:00:00.000Z session 2026-12-02 term 4 of open was 2026-12-02T14:30:00.000Z"}},
		{"unknown market", []string{"--market", "NOPE"}, cli.ExitUsage, nil},
	}
	for _, tc := range cases {
		r := runCLI(t, append([]string{"events", "--redis", url}, tc.args...)...)
		if r.code != tc.code {
			t.Fatalf("%s: code %d, want %d; stderr %s", tc.name, r.code, tc.code, r.stderr)
		}
		if tc.code != cli.ExitOK {
			continue
		}
		if got := strip(r.stdout); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
			t.Fatalf("%s: got\n%s\nwant\n%s", tc.name, strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
		}
	}
	if r := runCLI(t, "events", "--redis", url); !strings.HasPrefix(r.stdout, all[0].ID+" ") {
		t.Fatalf("lines do not start with the stream ID %s: %s", all[0].ID, r.stdout)
	}
}

// syncBuffer is a bytes.Buffer safe to read while a command writes it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestEventsFollowPrintsNewEventsUntilInterrupted(t *testing.T) {
	t.Parallel()
	m, rdb := testinfra.Mini(t)
	url := "redis://" + m.Addr() + "/0"
	ctx, cancel := context.WithCancel(t.Context())
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"events", "--follow", "--market", "XNYS", "--redis", url}, &stdout, &stderr)
	}()
	stream := events.NewStream(rdb, 0)
	day := market.NewDate(2026, 12, 2)
	for _, tr := range []events.Transition{
		{Market: market.XHKG, Kind: events.Close, At: time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC), Session: day},
		{Market: market.XNYS, Kind: events.Close, At: time.Date(2026, 12, 2, 21, 0, 0, 0, time.UTC), Session: day},
	} {
		if _, _, err := stream.Emit(ctx, tr, 1); err != nil {
			t.Fatal(err)
		}
	}
	want := "XNYS close 2026-12-02T21:00:00.000Z session 2026-12-02 term 1\n"
	deadline := time.Now().Add(10 * time.Second)
	for !strings.HasSuffix(stdout.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("--follow printed %q, want a line ending %q; stderr %s", stdout.String(), want, stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case code := <-done:
		if code != cli.ExitOK {
			t.Fatalf("interrupted --follow exited %d; stderr %s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("--follow did not stop when interrupted")
	}
	if n := strings.Count(stdout.String(), "\n"); n != 1 {
		t.Fatalf("--follow --market XNYS printed %d lines: %q", n, stdout.String())
	}
}
