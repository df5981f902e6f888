package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"heartbeat/internal/cli"
	"heartbeat/internal/testinfra"
)

// TestCalendarCommands enters, lists, exports and removes runtime entries,
// and loads the export back as an overrides file.
func TestCalendarCommands(t *testing.T) {
	t.Parallel()
	m, _ := testinfra.Mini(t)
	url := "redis://" + m.Addr() + "/0"

	r := runCLI(t, "calendar", "close", "--market", "XNYS", "--date", "2027-01-11", "--reason", "national day of mourning", "--redis", url)
	if r.code != cli.ExitOK || !strings.Contains(r.stdout, "calendar_add calendar:XNYS:2027-01-11:holiday: entered XNYS 2027-01-11 holiday (national day of mourning)") {
		t.Fatalf("close: code %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, "calendar", "halt", "--market", "XNYS", "--date", "2027-03-11", "--from", "10:00", "--to", "11:30", "--redis", url)
	if r.code != cli.ExitOK {
		t.Fatalf("halt: code %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	// Entries that do not fit are refused with exit 2 and the reason.
	for _, args := range [][]string{
		{"calendar", "early-close", "--market", "XNYS", "--date", "2027-01-11", "--close", "13:00"},          // contradicts the closure
		{"calendar", "halt", "--market", "XNYS", "--date", "2027-03-11", "--from", "08:00", "--to", "09:00"}, // outside the session
		{"calendar", "close", "--market", "XSHG", "--date", "2027-02-08"},                                    // past coverage
	} {
		if r := runCLI(t, append(args, "--redis", url)...); r.code != cli.ExitUsage {
			t.Fatalf("%v: code %d, want 2\nstdout %s\nstderr %s", args, r.code, r.stdout, r.stderr)
		}
	}
	r = runCLI(t, "calendar", "list", "--redis", url)
	if r.code != cli.ExitOK || !strings.Contains(r.stdout, "calendar:XNYS:2027-01-11:holiday") || !strings.Contains(r.stdout, "calendar:XNYS:2027-03-11:halt:10:00") ||
		!strings.Contains(r.stdout, "cli:") {
		t.Fatalf("list: code %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, "calendar", "export", "--redis", url)
	if r.code != cli.ExitOK || !strings.Contains(r.stdout, "XNYS:\n  holidays:\n    - {date: 2027-01-11, name: \"national day of mourning\"}") {
		t.Fatalf("export: code %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	// The export loads as calendars.overrides: the closed day has no session.
	dir := t.TempDir()
	overrides := filepath.Join(dir, "overrides.yaml")
	testinfra.Must(t, os.WriteFile(overrides, []byte(r.stdout), 0o644), "write export")
	cfg := filepath.Join(dir, "config.yaml")
	testinfra.Must(t, os.WriteFile(cfg, []byte("calendars:\n  overrides: "+overrides+"\n"), 0o644), "write config")
	r = runCLI(t, "sessions", "--config", cfg, "--market", "XNYS", "--from", "2027-01-08", "--to", "2027-01-12")
	if r.code != cli.ExitOK || strings.Contains(r.stdout, "2027-01-11") || !strings.Contains(r.stdout, "2027-01-12") {
		t.Fatalf("sessions with the exported file: code %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}

	if r := runCLI(t, "calendar", "remove", "--id", "calendar:XNYS:2027-01-11:holiday", "--redis", url); r.code != cli.ExitOK || !strings.Contains(r.stdout, "removed") {
		t.Fatalf("remove: code %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	if r := runCLI(t, "calendar", "remove", "--id", "calendar:XNYS:2027-01-11:holiday", "--redis", url); r.code != cli.ExitError {
		t.Fatalf("remove twice: code %d, want 1\nstderr %s", r.code, r.stderr)
	}
}

// TestBadOverridesFileStopsStartUp: exit 2, naming the market, the entry,
// the field and the line.
func TestBadOverridesFileStopsStartUp(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	overrides := filepath.Join(dir, "overrides.yaml")
	testinfra.Must(t, os.WriteFile(overrides, []byte("XNYS:\n  halts:\n    - {date: 2027-03-11, from: \"11:00\", to: \"10:00\"}\n"), 0o644), "write")
	cfg := filepath.Join(dir, "config.yaml")
	testinfra.Must(t, os.WriteFile(cfg, []byte("calendars:\n  overrides: "+overrides+"\n"), 0o644), "write config")
	for _, args := range [][]string{
		{"--config", cfg, "--embedded"},
		{"sessions", "--config", cfg, "--market", "XNYS", "--from", "2027-01-01", "--to", "2027-01-31"},
	} {
		r := runCLI(t, args...)
		if r.code != cli.ExitUsage || !strings.Contains(r.stderr, "XNYS.halts[0]") || !strings.Contains(r.stderr, "overrides.yaml:3") ||
			!strings.Contains(r.stderr, "to: must be after from") {
			t.Fatalf("%v: code %d, want 2 naming XNYS.halts[0] at line 3\nstderr %s", args, r.code, r.stderr)
		}
	}
}
