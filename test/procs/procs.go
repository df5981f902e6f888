// Package procs runs Heartbeat's commands as separate operating-system
// processes for the tests under test/: it builds the binaries with the go
// tool that runs the tests, starts each process with its own log file (the
// end of which a failed test prints), signals and waits for it, polls for
// conditions with a deadline, and reads a process's /metrics and JSON API.
// It also holds what the tests compute from the run history
// (heartbeat:runs): slot keys, duplicated slots and start-lag percentiles.
package procs

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Build compiles the commands under heartbeat/cmd/ named in cmds (e.g.
// "scheduler", "worker", "feed") into dir and returns each binary's path
// by command name.
func Build(dir string, cmds ...string) (map[string]string, error) {
	return BuildTags(dir, nil, cmds...)
}

// BuildTags is Build with build tags (e.g. "faults", which compiles the
// scheduler's fault injection in).
func BuildTags(dir string, tags []string, cmds ...string) (map[string]string, error) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		return nil, fmt.Errorf("go tool not found: %w", err)
	}
	args := []string{"build", "-o", dir + string(os.PathSeparator)}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	paths := make(map[string]string, len(cmds))
	for _, c := range cmds {
		args = append(args, "heartbeat/cmd/"+c)
		paths[c] = filepath.Join(dir, c)
	}
	out, err := exec.Command(gobin, args...).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("go build %s: %w\n%s", strings.Join(args[1:], " "), err, out)
	}
	return paths, nil
}

// LogTail is how many lines of each process's log a failed test prints.
const LogTail = 60

// Process is one started binary with its own log file (stdout and stderr
// together). The test's cleanup kills it if it still runs and, when the
// test failed, prints the end of its log.
type Process struct {
	Name    string
	LogPath string

	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited

	mu    sync.Mutex
	state *os.ProcessState
}

// Start starts bin with args in dir, with the test's environment less any
// HEARTBEAT_* variable, plus env. The log goes to dir/name.log (appended,
// so a restarted process keeps one log).
func Start(t testing.TB, name, bin, dir string, args, env []string) *Process {
	t.Helper()
	logPath := filepath.Join(dir, name+".log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatalf("open log of %s: %v", name, err)
	}
	fmt.Fprintf(f, "=== %s %s %s\n", time.Now().UTC().Format(time.RFC3339Nano), filepath.Base(bin), strings.Join(args, " "))
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(CleanEnv(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	p := &Process{Name: name, LogPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		f.Close()
		p.mu.Lock()
		p.state = cmd.ProcessState
		p.mu.Unlock()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("--- last %d lines of %s (%s):\n%s", LogTail, name, logPath, p.Tail(LogTail))
		}
	})
	return p
}

// CleanEnv is the test's environment without HEARTBEAT_* variables, so a
// developer's shell cannot change what the processes run with.
func CleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HEARTBEAT_") {
			out = append(out, kv)
		}
	}
	return out
}

// PID returns the process ID.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Alive reports whether the process still runs.
func (p *Process) Alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Signal sends sig to the process (not its group: the binaries do not
// fork).
func (p *Process) Signal(sig syscall.Signal) error {
	if !p.Alive() {
		return fmt.Errorf("%s has already exited (%s)", p.Name, p.ExitState())
	}
	return p.cmd.Process.Signal(sig)
}

// Kill sends SIGKILL if the process still runs; it does not wait.
func (p *Process) Kill() {
	if p.Alive() {
		_ = p.cmd.Process.Kill()
	}
}

// Wait waits up to timeout for the process to exit and returns its exit
// code (-1 when a signal ended it).
func (p *Process) Wait(timeout time.Duration) (int, error) {
	select {
	case <-p.done:
	case <-time.After(timeout):
		return 0, fmt.Errorf("%s still runs after %s", p.Name, timeout)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state.ExitCode(), nil
}

// Stop sends SIGTERM and waits up to timeout for the exit; it returns the
// exit code.
func (p *Process) Stop(timeout time.Duration) (int, error) {
	if err := p.Signal(syscall.SIGTERM); err != nil {
		return 0, err
	}
	return p.Wait(timeout)
}

// ExitState describes how the process ended, or "running".
func (p *Process) ExitState() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == nil {
		return "running"
	}
	return p.state.String()
}

// Log returns the whole log.
func (p *Process) Log() string {
	b, err := os.ReadFile(p.LogPath)
	if err != nil {
		return fmt.Sprintf("(log unreadable: %v)", err)
	}
	return string(b)
}

// Tail returns the last n lines of the log.
func (p *Process) Tail(n int) string {
	lines := bytes.Split(bytes.TrimRight([]byte(p.Log()), "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// WaitServing polls for up to timeout until the process serves /metrics
// at addr; while it has exited, the failure says how.
func (p *Process) WaitServing(addr string, timeout time.Duration) error {
	return WaitFor(timeout, func() (bool, error) {
		if !p.Alive() {
			return false, fmt.Errorf("exited: %s", p.ExitState())
		}
		_, err := Scrape(addr)
		return err == nil, err
	})
}

// ErrTimeout is returned by WaitFor when the condition never held.
var ErrTimeout = errors.New("timed out")

// WaitFor polls cond every 25 ms until it holds or timeout passes; the
// last error cond returned is wrapped into the failure.
func WaitFor(timeout time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		if err != nil {
			last = err
		}
		if time.Now().After(deadline) {
			if last != nil {
				return fmt.Errorf("%w after %s: %w", ErrTimeout, timeout, last)
			}
			return fmt.Errorf("%w after %s", ErrTimeout, timeout)
		}
		time.Sleep(25 * time.Millisecond)
	}
}
