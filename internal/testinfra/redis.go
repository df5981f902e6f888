package testinfra

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// Mini starts a miniredis for the test and returns it with a client.
// Under -failfast it first skips the test if another of the binary has
// failed (see FailFast).
func Mini(t testing.TB) (*miniredis.Miniredis, *redis.Client) {
	t.Helper()
	FailFast(t)
	m := miniredis.RunT(t)
	c := redis.NewClient(&redis.Options{Addr: m.Addr()})
	t.Cleanup(func() { c.Close() })
	return m, c
}

// RedisServer is a redis-server process owned by one test.
type RedisServer struct {
	t    testing.TB
	Port int
	dir  string
	aof  bool
	args []string
	cmd  *exec.Cmd
	// user and pass authenticate the harness (start-up ping, Client) on a
	// server with ACLs.
	user, pass string
}

// WithAuth makes the harness authenticate as user (a server started with
// an ACL file whose default user is off).
func WithAuth(user, pass string) RedisOption {
	return func(s *RedisServer) { s.user, s.pass = user, pass }
}

// RedisOption configures StartRedis.
type RedisOption func(*RedisServer)

// WithAOF turns on the append-only file, so data survives Kill + Start.
func WithAOF() RedisOption { return func(s *RedisServer) { s.aof = true } }

// WithArgs adds redis-server command-line settings ("--replicaof", "h p").
func WithArgs(args ...string) RedisOption {
	return func(s *RedisServer) { s.args = append(s.args, args...) }
}

// StartRedis starts redis-server on a free loopback port; it is killed when
// the test ends. Under go test -short the test skips.
func StartRedis(t testing.TB, opts ...RedisOption) *RedisServer {
	t.Helper()
	skipShort(t, "redis-server")
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		unavailable(t, "redis-server is not installed: %v", err)
	}
	_ = bin
	s := &RedisServer{t: t, Port: FreePort(t), dir: t.TempDir()}
	for _, o := range opts {
		o(s)
	}
	s.Start()
	t.Cleanup(func() { s.Kill() })
	return s
}

// Addr returns host:port.
func (s *RedisServer) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.Port) }

// URL returns redis://host:port/0.
func (s *RedisServer) URL() string { return "redis://" + s.Addr() + "/0" }

// Client returns a new client, closed when the test ends.
func (s *RedisServer) Client() *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), Username: s.user, Password: s.pass})
	s.t.Cleanup(func() { c.Close() })
	return c
}

// Start (re)starts the server on its port and waits until it answers.
func (s *RedisServer) Start() {
	s.t.Helper()
	aof := "no"
	if s.aof {
		aof = "yes"
	}
	s.cmd = exec.Command("redis-server", "--port", strconv.Itoa(s.Port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", aof, "--appendfsync", "always", "--dir", s.dir,
		"--logfile", filepath.Join(s.dir, "redis.log"))
	s.cmd.Args = append(s.cmd.Args, s.args...)
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start redis-server: %v", err)
	}
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), Username: s.user, Password: s.pass, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
			s.t.Fatalf("redis-server on %s did not answer: %v\n%s", s.Addr(), err, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill stops the server with SIGKILL (no shutdown save) and waits for it.
func (s *RedisServer) Kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// FreePort returns a TCP port that was free on loopback a moment ago.
//
// It picks from below Linux's ephemeral range (32768-60999), so an outgoing
// connection cannot take the port between this call and the server's bind,
// and it never hands out the same port twice in one test binary: binding
// port 0 and closing it, as this used to, gave two processes of one test the
// same port when the kernel reused it (CI saw a scheduler and a worker both
// told to listen on one HTTP port).
func FreePort(t testing.TB) int {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	return port
}

var (
	portsMu     sync.Mutex
	portsGiven  = map[int]bool{}
	portsRandom = rand.New(rand.NewPCG(uint64(os.Getpid()), uint64(time.Now().UnixNano())))
)

// Ports handed out come from [portLow, portHigh): below the ephemeral range
// and above the well-known services a test machine may run (PostgreSQL 5432,
// Redis 6379, Prometheus 9090); a cluster node's bus port (port + 10000)
// stays below the ephemeral range too.
const (
	portLow  = 12000
	portHigh = 22700
)

func freePort() (int, error) {
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 1000 {
		port := portLow + portsRandom.IntN(portHigh-portLow)
		if portsGiven[port] {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		_ = l.Close()
		portsGiven[port] = true
		return port, nil
	}
	return 0, fmt.Errorf("no free port in [%d, %d) after 1000 tries", portLow, portHigh)
}

// Must fails the test on err; for terse setup code.
func Must(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, fmt.Errorf("%w", err))
	}
}

// alive reports whether the server's process runs (was started and not
// killed by the test).
func (s *RedisServer) alive() bool { return s.cmd != nil }
