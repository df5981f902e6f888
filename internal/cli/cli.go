// Package cli holds what Heartbeat's commands share at their edge: exit
// codes, usage errors, and loading the configuration with command-line
// overrides.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"heartbeat/internal/config"
)

// Exit codes.
const (
	ExitOK    = 0
	ExitError = 1
	ExitUsage = 2 // bad flags or configuration
)

// UsageError marks an error the user fixes by changing the command line or
// the configuration: the command exits with code 2.
type UsageError struct{ Err error }

// Error returns the wrapped error's message.
func (e UsageError) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e UsageError) Unwrap() error { return e.Err }

// Usagef returns a UsageError.
func Usagef(format string, args ...any) error { return UsageError{fmt.Errorf(format, args...)} }

// ExitCode prints err (if any) prefixed with the command's name and maps
// it to an exit code.
func ExitCode(name string, err error, stderr io.Writer) int {
	var ue UsageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return ExitOK
	case errors.As(err, &ue), errors.Is(err, config.ErrInvalid):
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return ExitUsage
	}
	fmt.Fprintf(stderr, "%s: %v\n", name, err)
	return ExitError
}

// NewFlags returns a flag set that reports errors instead of exiting.
func NewFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// Parse parses flags, turning a parse failure into a usage error; extra
// arguments are an error too.
func Parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return UsageError{err}
	}
	if fs.NArg() > 0 {
		return Usagef("%s: unexpected arguments %q", fs.Name(), fs.Args())
	}
	return nil
}

// Common are the flags every long-running command takes.
type Common struct {
	Config    *string
	Redis     *string
	RedisMode *string
	LogLevel  *string
	LogFormat *string
}

// AddCommon registers --config, --redis, --redis-mode, --log-level and
// --log-format.
func AddCommon(fs *flag.FlagSet) Common {
	return Common{
		Config:    fs.String("config", "", "config file (default ./config.yaml if present)"),
		Redis:     fs.String("redis", "", "Redis URL in go-redis's syntax for --redis-mode (env HEARTBEAT_REDIS_URL)"),
		RedisMode: fs.String("redis-mode", "", "single, sentinel or cluster (env HEARTBEAT_REDIS_MODE; default single)"),
		LogLevel:  fs.String("log-level", "", "trace, debug, info, warn, error"),
		LogFormat: fs.String("log-format", "", "json, console or auto"),
	}
}

// Load loads the config and applies the common flags that were set; more
// overrides can follow, then Validate.
func (c Common) Load(fs *flag.FlagSet) (config.Config, error) {
	cfg, err := config.Load(*c.Config)
	if err != nil {
		return cfg, err
	}
	Visit(fs, map[string]func(){
		"redis":      func() { cfg.Redis.URL = *c.Redis },
		"redis-mode": func() { cfg.Redis.Mode = *c.RedisMode },
		"log-level":  func() { cfg.Log.Level = *c.LogLevel },
		"log-format": func() { cfg.Log.Format = *c.LogFormat },
	})
	return cfg, nil
}

// Visit calls the function of each flag that was set on the command line.
func Visit(fs *flag.FlagSet, set map[string]func()) {
	fs.Visit(func(f *flag.Flag) {
		if fn, ok := set[f.Name]; ok {
			fn()
		}
	})
}

// Command is one subcommand of a program.
type Command struct {
	Name    string
	Summary string
	Run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// Find returns the command called name.
func Find(cmds []Command, name string) (Command, bool) {
	for _, c := range cmds {
		if c.Name == name {
			return c, true
		}
	}
	return Command{}, false
}

// PrintCommands writes the list of commands.
func PrintCommands(w io.Writer, cmds []Command) {
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-10s %s\n", c.Name, c.Summary)
	}
}
