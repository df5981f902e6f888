package testinfra

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"heartbeat/internal/keys"
)

// Failover settings of the test topologies: Sentinel declares a master
// down after SentinelDownAfter, a cluster after ClusterNodeTimeout; each
// promotes a replica within about a second or two more.
const (
	SentinelDownAfter  = 1000 * time.Millisecond
	SentinelFailover   = 5000 * time.Millisecond
	ClusterNodeTimeout = 2000 * time.Millisecond
	// MasterName is the name the test sentinels monitor their master by.
	MasterName = "mymaster"
)

// topologyWait bounds how long a topology may take to form on a busy
// 2-core machine.
const topologyWait = 30 * time.Second

// requireRedisCLI skips (fails in CI) a test when redis-cli is missing.
func requireRedisCLI(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("redis-cli")
	if err != nil {
		unavailable(t, "redis-cli is not installed: %v", err)
	}
	return bin
}

// replicationArgs are the settings of every data node of a topology.
var replicationArgs = []string{"--protected-mode", "no", "--repl-diskless-sync-delay", "0"}

// waitCond polls cond every 50 ms until it holds or timeout passes.
func waitCond(timeout time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		last = err
		if time.Now().After(deadline) {
			if last == nil {
				last = fmt.Errorf("not within %s", timeout)
			}
			return last
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// info returns the fields of an INFO section of the server at addr.
func info(addr, section string) (map[string]string, error) {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s, err := c.Info(ctx, section).Result()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, line := range strings.Split(s, "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			out[k] = v
		}
	}
	return out, nil
}

// linkedTo reports whether the replica at addr is connected to, and in
// sync with, its master.
func linkedTo(addr string) (bool, error) {
	f, err := info(addr, "replication")
	if err != nil {
		return false, err
	}
	return f["role"] == "slave" && f["master_link_status"] == "up", nil
}

// Sentinel is a master, its replicas and three sentinels monitoring it,
// each a process of the test's own on a loopback port.
type Sentinel struct {
	t         testing.TB
	Nodes     []*RedisServer // data nodes; Nodes[0] is the first master
	Sentinels []*RedisServer
}

// StartSentinel starts a master with replicas replicas and three
// sentinels (quorum 2, down-after SentinelDownAfter, failover-timeout
// SentinelFailover), and returns once every replica is in sync and every
// sentinel sees the replicas and the other sentinels. Everything is
// killed when the test ends.
func StartSentinel(t testing.TB, replicas int) *Sentinel {
	t.Helper()
	s := &Sentinel{t: t}
	master := StartRedis(t, WithArgs(replicationArgs...))
	s.Nodes = append(s.Nodes, master)
	for range replicas {
		s.Nodes = append(s.Nodes, StartRedis(t, WithArgs(append(replicationArgs, "--replicaof", "127.0.0.1", strconv.Itoa(master.Port))...)))
	}
	for _, r := range s.Nodes[1:] {
		if err := waitCond(topologyWait, func() (bool, error) { return linkedTo(r.Addr()) }); err != nil {
			t.Fatalf("replica %s did not sync with the master: %v", r.Addr(), err)
		}
	}
	for range 3 {
		s.Sentinels = append(s.Sentinels, s.startSentinel(master.Port))
	}
	for _, sen := range s.Sentinels {
		c := redis.NewSentinelClient(&redis.Options{Addr: sen.Addr(), MaxRetries: -1})
		err := waitCond(topologyWait, func() (bool, error) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			reps, err := c.Replicas(ctx, MasterName).Result()
			if err != nil || len(reps) < replicas {
				return false, err
			}
			for _, r := range reps {
				if strings.Contains(r["flags"], "down") || strings.Contains(r["flags"], "disconnected") {
					return false, nil
				}
			}
			others, err := c.Sentinels(ctx, MasterName).Result()
			return err == nil && len(others) == len(s.Sentinels)-1, err
		})
		c.Close()
		if err != nil {
			t.Fatalf("sentinel %s did not see %d replicas and %d sentinels: %v", sen.Addr(), replicas, len(s.Sentinels)-1, err)
		}
	}
	return s
}

// startSentinel starts one sentinel with a fresh, writable config file.
func (s *Sentinel) startSentinel(masterPort int) *RedisServer {
	t := s.t
	t.Helper()
	sen := &RedisServer{t: t, Port: FreePort(t), dir: t.TempDir()}
	conf := filepath.Join(sen.dir, "sentinel.conf")
	body := fmt.Sprintf(`port %d
bind 127.0.0.1
protected-mode no
dir %s
logfile %s
sentinel monitor %s 127.0.0.1 %d 2
sentinel down-after-milliseconds %s %d
sentinel failover-timeout %s %d
sentinel parallel-syncs %s 1
`, sen.Port, sen.dir, filepath.Join(sen.dir, "sentinel.log"), MasterName, masterPort,
		MasterName, SentinelDownAfter.Milliseconds(), MasterName, SentinelFailover.Milliseconds(), MasterName)
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		t.Fatalf("write sentinel config: %v", err)
	}
	sen.cmd = exec.Command("redis-server", conf, "--sentinel")
	sen.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := sen.cmd.Start(); err != nil {
		t.Fatalf("start sentinel: %v", err)
	}
	t.Cleanup(sen.Kill)
	err := waitCond(10*time.Second, func() (bool, error) {
		_, err := info(sen.Addr(), "sentinel")
		return err == nil, err
	})
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(sen.dir, "sentinel.log"))
		t.Fatalf("sentinel on %s did not answer: %v\n%s", sen.Addr(), err, log)
	}
	return sen
}

// URL is the sentinel-mode redis.url of the topology:
// redis://sentinel1/0?master_name=mymaster&addr=sentinel2&addr=sentinel3.
func (s *Sentinel) URL() string {
	u := "redis://" + s.Sentinels[0].Addr() + "/0?master_name=" + MasterName
	for _, sen := range s.Sentinels[1:] {
		u += "&addr=" + sen.Addr()
	}
	return u
}

// Client returns a failover client of the master, closed when the test
// ends.
func (s *Sentinel) Client() *redis.Client {
	addrs := make([]string, len(s.Sentinels))
	for i, sen := range s.Sentinels {
		addrs[i] = sen.Addr()
	}
	c := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: MasterName, SentinelAddrs: addrs})
	s.t.Cleanup(func() { c.Close() })
	return c
}

// MasterAddr returns the master's address as the sentinels' majority
// reports it.
func (s *Sentinel) MasterAddr() (string, error) {
	votes := map[string]int{}
	var last error
	for _, sen := range s.Sentinels {
		if !sen.alive() {
			continue
		}
		c := redis.NewSentinelClient(&redis.Options{Addr: sen.Addr(), MaxRetries: -1})
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		hp, err := c.GetMasterAddrByName(ctx, MasterName).Result()
		cancel()
		c.Close()
		if err != nil {
			last = err
			continue
		}
		votes[hp[0]+":"+hp[1]]++
	}
	for addr, n := range votes {
		if n*2 > len(s.Sentinels) {
			return addr, nil
		}
	}
	return "", fmt.Errorf("no majority among sentinels: %v (%v)", votes, last)
}

// node returns the data node at addr.
func (s *Sentinel) node(addr string) *RedisServer {
	for _, n := range s.Nodes {
		if n.Addr() == addr {
			return n
		}
	}
	s.t.Fatalf("no data node at %s", addr)
	return nil
}

// KillMaster SIGKILLs the current master and returns its address and the
// instant of the kill.
func (s *Sentinel) KillMaster() (string, time.Time) {
	s.t.Helper()
	addr, err := s.MasterAddr()
	if err != nil {
		s.t.Fatalf("find the master: %v", err)
	}
	n := s.node(addr)
	killed := time.Now()
	n.Kill()
	return addr, killed
}

// WaitPromoted waits until the sentinels name a master other than old
// and that node answers as a master; it returns the new master's address
// and the instant the promotion was seen.
func (s *Sentinel) WaitPromoted(old string, timeout time.Duration) (string, time.Time) {
	s.t.Helper()
	var addr string
	err := waitCond(timeout, func() (bool, error) {
		a, err := s.MasterAddr()
		if err != nil || a == old {
			return false, err
		}
		f, err := info(a, "replication")
		if err != nil || f["role"] != "master" {
			return false, err
		}
		addr = a
		return true, nil
	})
	if err != nil {
		s.t.Fatalf("no replica promoted within %s after master %s died: %v", timeout, old, err)
	}
	return addr, time.Now()
}

// Cluster is a Redis Cluster of the test's own: masters, each with
// replicas, on loopback ports.
type Cluster struct {
	t     testing.TB
	Nodes []*RedisServer
}

// StartCluster starts masters × (1 + replicasPerMaster) nodes with
// cluster-node-timeout ClusterNodeTimeout, creates the cluster with
// redis-cli --cluster create, and returns once every node reports
// cluster_state:ok and every replica is in sync with its master.
// Everything is killed when the test ends.
func StartCluster(t testing.TB, masters, replicasPerMaster int) *Cluster {
	t.Helper()
	cli := requireRedisCLI(t)
	if masters < 3 {
		t.Fatalf("StartCluster: redis-cli needs at least 3 masters, got %d", masters)
	}
	c := &Cluster{t: t}
	args := append([]string{"--cluster-enabled", "yes", "--cluster-node-timeout", strconv.FormatInt(ClusterNodeTimeout.Milliseconds(), 10),
		"--cluster-config-file", "nodes.conf"}, replicationArgs...)
	create := []string{"--cluster", "create"}
	for range masters * (1 + replicasPerMaster) {
		n := StartRedis(t, WithArgs(args...), withClusterPort(t))
		c.Nodes = append(c.Nodes, n)
		create = append(create, n.Addr())
	}
	create = append(create, "--cluster-replicas", strconv.Itoa(replicasPerMaster), "--cluster-yes")
	ctx, cancel := context.WithTimeout(context.Background(), topologyWait)
	defer cancel()
	if out, err := exec.CommandContext(ctx, cli, create...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	replicas := 0
	for _, n := range c.Nodes {
		err := waitCond(topologyWait, func() (bool, error) {
			cl, err := clusterInfo(n.Addr())
			if err != nil || cl["cluster_state"] != "ok" || cl["cluster_known_nodes"] != strconv.Itoa(len(c.Nodes)) {
				return false, err
			}
			f, err := info(n.Addr(), "replication")
			if err != nil {
				return false, err
			}
			if f["role"] == "slave" {
				return f["master_link_status"] == "up", nil
			}
			return true, nil
		})
		if err != nil {
			t.Fatalf("cluster node %s not ready (state ok, all nodes known, replica linked): %v", n.Addr(), err)
		}
		if f, _ := info(n.Addr(), "replication"); f["role"] == "slave" {
			replicas++
		}
	}
	if replicas != masters*replicasPerMaster {
		t.Fatalf("cluster has %d replicas, want %d", replicas, masters*replicasPerMaster)
	}
	return c
}

// clusterInfo returns CLUSTER INFO of the node at addr.
func clusterInfo(addr string) (map[string]string, error) {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s, err := c.ClusterInfo(ctx).Result()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, line := range strings.Split(s, "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			out[k] = v
		}
	}
	return out, nil
}

// Addrs returns every node's address.
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		out[i] = n.Addr()
	}
	return out
}

// URL is the cluster-mode redis.url: redis://node1?addr=node2&addr=...
func (c *Cluster) URL() string {
	u := "redis://" + c.Nodes[0].Addr()
	for i, n := range c.Nodes[1:] {
		if i == 0 {
			u += "?"
		} else {
			u += "&"
		}
		u += "addr=" + n.Addr()
	}
	return u
}

// Client returns a cluster client that reloads its slot map every
// second, closed when the test ends.
func (c *Cluster) Client() *redis.ClusterClient {
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs(), ClusterStateReloadInterval: time.Second})
	c.t.Cleanup(func() { cc.Close() })
	return cc
}

// MasterOfSlot asks the live nodes which master serves slot (the answer of
// the first live node that has one).
func (c *Cluster) MasterOfSlot(slot int) (string, error) {
	var last error
	for _, n := range c.Nodes {
		if !n.alive() {
			continue
		}
		cl := redis.NewClient(&redis.Options{Addr: n.Addr(), MaxRetries: -1, DialTimeout: time.Second})
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		slots, err := cl.ClusterSlots(ctx).Result()
		cancel()
		cl.Close()
		if err != nil {
			last = err
			continue
		}
		for _, s := range slots {
			if s.Start <= slot && slot <= s.End && len(s.Nodes) > 0 {
				return s.Nodes[0].Addr, nil
			}
		}
	}
	return "", fmt.Errorf("no live node knows the master of slot %d (%v)", slot, last)
}

// KillMasterOf SIGKILLs the master serving key's hash slot and returns
// its address and the instant of the kill.
func (c *Cluster) KillMasterOf(key string) (string, time.Time) {
	c.t.Helper()
	addr, err := c.MasterOfSlot(keys.Slot(key))
	if err != nil {
		c.t.Fatal(err)
	}
	for _, n := range c.Nodes {
		if n.Addr() == addr {
			killed := time.Now()
			n.Kill()
			return addr, killed
		}
	}
	c.t.Fatalf("no node at %s", addr)
	return "", time.Time{}
}

// WaitPromoted waits until a master other than old serves key's hash slot
// and every live node reports cluster_state:ok; it returns the new master
// and the instant it was seen.
func (c *Cluster) WaitPromoted(key, old string, timeout time.Duration) (string, time.Time) {
	c.t.Helper()
	slot := keys.Slot(key)
	var addr string
	err := waitCond(timeout, func() (bool, error) {
		a, err := c.MasterOfSlot(slot)
		if err != nil || a == old {
			return false, err
		}
		for _, n := range c.Nodes {
			if !n.alive() {
				continue
			}
			ci, err := clusterInfo(n.Addr())
			if err != nil || ci["cluster_state"] != "ok" {
				return false, err
			}
		}
		addr = a
		return true, nil
	})
	if err != nil {
		c.t.Fatalf("slot %d: no replica promoted within %s after master %s died: %v", slot, timeout, old, err)
	}
	return addr, time.Now()
}

// withClusterPort gives a cluster node a port whose cluster bus port
// (port + 10000) is a valid port and free a moment ago.
func withClusterPort(t testing.TB) RedisOption {
	return func(s *RedisServer) {
		for range 100 {
			p := FreePort(t)
			if p+10000 > 65535 {
				continue
			}
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+10000))
			if err != nil {
				continue
			}
			l.Close()
			s.Port = p
			return
		}
		t.Fatalf("no free port with a free cluster bus port")
	}
}

// Rejoin restarts the data node at addr (killed by KillMaster; it comes
// back empty) and waits until it is a replica in sync with the current
// master, as the sentinels reconfigure it, and every sentinel counts it
// as a replica again, so the next kill has as many replicas to promote.
func (s *Sentinel) Rejoin(addr string, timeout time.Duration) {
	s.t.Helper()
	n := s.node(addr)
	n.Start()
	err := waitCond(timeout, func() (bool, error) {
		master, err := s.MasterAddr()
		if err != nil {
			return false, err
		}
		f, err := info(addr, "replication")
		if err != nil {
			return false, err
		}
		if f["role"] != "slave" || f["master_link_status"] != "up" || f["master_host"]+":"+f["master_port"] != master {
			return false, fmt.Errorf("%s: role %s, master %s:%s link %s; want a replica of %s", addr, f["role"], f["master_host"], f["master_port"], f["master_link_status"], master)
		}
		return true, nil
	})
	if err != nil {
		s.t.Fatalf("node %s did not rejoin as a replica within %s: %v", addr, timeout, err)
	}
	for _, sen := range s.Sentinels {
		c := redis.NewSentinelClient(&redis.Options{Addr: sen.Addr(), MaxRetries: -1})
		err := waitCond(timeout, func() (bool, error) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			reps, err := c.Replicas(ctx, MasterName).Result()
			if err != nil {
				return false, err
			}
			for _, r := range reps {
				if r["ip"]+":"+r["port"] == addr && !strings.Contains(r["flags"], "down") && !strings.Contains(r["flags"], "disconnected") {
					return true, nil
				}
			}
			return false, fmt.Errorf("sentinel %s does not list %s as a live replica", sen.Addr(), addr)
		})
		c.Close()
		if err != nil {
			s.t.Fatalf("%v", err)
		}
	}
}

// Rejoin restarts the cluster node at addr (killed by KillMasterOf; it
// comes back with its nodes.conf but no data) and waits until it is a
// replica in sync with its master and every live node reports
// cluster_state:ok, so the next kill has as many replicas to promote.
func (c *Cluster) Rejoin(addr string, timeout time.Duration) {
	c.t.Helper()
	var n *RedisServer
	for _, node := range c.Nodes {
		if node.Addr() == addr {
			n = node
		}
	}
	if n == nil {
		c.t.Fatalf("no cluster node at %s", addr)
	}
	n.Start()
	err := waitCond(timeout, func() (bool, error) {
		if ok, err := linkedTo(addr); !ok || err != nil {
			return false, fmt.Errorf("%s is not a linked replica yet (%v)", addr, err)
		}
		for _, other := range c.Nodes {
			if !other.alive() {
				continue
			}
			ci, err := clusterInfo(other.Addr())
			if err != nil || ci["cluster_state"] != "ok" {
				return false, fmt.Errorf("%s: cluster_state %q (%v)", other.Addr(), ci["cluster_state"], err)
			}
		}
		return true, nil
	})
	if err != nil {
		c.t.Fatalf("cluster node %s did not rejoin as a replica within %s: %v", addr, timeout, err)
	}
}
