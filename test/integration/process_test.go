package integration

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

// process is one started binary with its own log file (stdout and stderr).
// The test's cleanup kills it if it still runs, and prints the end of its
// log when the test failed.
type process struct {
	name    string
	logPath string
	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has exited

	mu    sync.Mutex
	state *os.ProcessState
}

// logTail is how many lines of each log a failed test prints.
const logTail = 60

// startProcess starts bin with args in dir, with the environment less any
// HEARTBEAT_* variable plus env.
func startProcess(t testing.TB, name, bin, dir string, args, env []string) *process {
	t.Helper()
	logPath := filepath.Join(dir, name+".log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatalf("open log of %s: %v", name, err)
	}
	fmt.Fprintf(f, "=== %s %s %s\n", time.Now().UTC().Format(time.RFC3339Nano), filepath.Base(bin), strings.Join(args, " "))
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	p := &process{name: name, logPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		f.Close()
		p.mu.Lock()
		p.state = cmd.ProcessState
		p.mu.Unlock()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		<-p.done
		if t.Failed() {
			t.Logf("--- last %d lines of %s (%s):\n%s", logTail, name, logPath, p.tail(logTail))
		}
	})
	return p
}

// cleanEnv is the test's environment without HEARTBEAT_* overrides, so a
// developer's shell cannot change what the processes run with.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HEARTBEAT_") {
			out = append(out, kv)
		}
	}
	return out
}

// alive reports whether the process still runs.
func (p *process) alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// signal sends sig to the process (not its group: the binaries do not
// fork).
func (p *process) signal(sig syscall.Signal) error {
	if !p.alive() {
		return fmt.Errorf("%s has already exited (%s)", p.name, p.exitState())
	}
	return p.cmd.Process.Signal(sig)
}

func (p *process) kill() {
	if p.alive() {
		_ = p.cmd.Process.Kill()
	}
}

// wait waits up to timeout for the process to exit and returns its exit
// code (-1 for a signal).
func (p *process) wait(timeout time.Duration) (int, error) {
	select {
	case <-p.done:
	case <-time.After(timeout):
		return 0, fmt.Errorf("%s still runs after %s", p.name, timeout)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state.ExitCode(), nil
}

func (p *process) exitState() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == nil {
		return "running"
	}
	return p.state.String()
}

// log returns the whole log.
func (p *process) log() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(log unreadable: %v)", err)
	}
	return string(b)
}

// tail returns the last n lines of the log.
func (p *process) tail(n int) string {
	lines := bytes.Split(bytes.TrimRight([]byte(p.log()), "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// errTimeout is returned by waitFor when the condition never held.
var errTimeout = errors.New("timed out")

// waitFor polls cond every 25 ms until it holds or timeout passes; the
// last error cond returned is wrapped into the failure.
func waitFor(timeout time.Duration, cond func() (bool, error)) error {
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
				return fmt.Errorf("%w after %s: %w", errTimeout, timeout, last)
			}
			return fmt.Errorf("%w after %s", errTimeout, timeout)
		}
		time.Sleep(25 * time.Millisecond)
	}
}
