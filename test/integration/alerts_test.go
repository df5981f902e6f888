package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"heartbeat/internal/testinfra"
	"heartbeat/test/procs"
)

// TestNoLeaderAlertFiresAndResolves runs the shipped alert rules in a real
// Prometheus scraping two scheduler replicas and a worker: SIGKILL of the
// leader alone does not fire HeartbeatNoLeader (the standby takes over
// within the rule's hold); SIGKILL of both does (their gauges vanish with
// the targets, which the rule must still catch); after a restart of one it
// resolves.
func TestNoLeaderAlertFiresAndResolves(t *testing.T) {
	t.Parallel()
	bin := testinfra.Binary(t, "prometheus", "prometheus")
	c := setup(t, clusterConfig{schedulers: 2, workers: 1})
	worker := c.workers[0]

	rules, err := filepath.Abs(filepath.Join("..", "..", "deploy", "prometheus", "alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	conf := fmt.Sprintf(`global: {scrape_interval: 1s, scrape_timeout: 900ms, evaluation_interval: 1s}
rule_files: [%q]
scrape_configs:
  - job_name: heartbeat-scheduler
    static_configs: [{targets: [%q, %q]}]
  - job_name: heartbeat-worker
    static_configs: [{targets: [%q]}]
`, rules, c.schedulers[0].http, c.schedulers[1].http, worker.http)
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", testinfra.FreePort(t))
	prom := procs.Start(t, "prometheus", bin, dir, []string{"--config.file=" + cfg, "--storage.tsdb.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=" + addr}, nil)
	if err := prom.WaitServing(addr, 30*time.Second); err != nil {
		t.Fatalf("prometheus: %v\n%s", err, prom.Tail(20))
	}

	// state returns HeartbeatNoLeader's state: "", "pending" or "firing".
	state := func() (string, error) {
		res, err := http.Get("http://" + addr + "/api/v1/alerts")
		if err != nil {
			return "", err
		}
		defer res.Body.Close()
		var body struct {
			Data struct {
				Alerts []struct {
					Labels map[string]string `json:"labels"`
					State  string            `json:"state"`
				} `json:"alerts"`
			} `json:"data"`
		}
		if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
			return "", err
		}
		for _, a := range body.Data.Alerts {
			if a.Labels["alertname"] == "HeartbeatNoLeader" {
				return a.State, nil
			}
		}
		return "", nil
	}
	// The rule's hold is 5 s; allow scrapes, evaluation and a loaded machine.
	const bound = 60 * time.Second
	waitState := func(what, want string) time.Duration {
		t.Helper()
		began := time.Now()
		var last string
		err := procs.WaitFor(bound, func() (bool, error) {
			s, err := state()
			last = s
			return err == nil && s == want, nil
		})
		if err != nil {
			t.Fatalf("%s: HeartbeatNoLeader state %q, want %q within %s: %v\nprometheus:\n%s", what, last, want, bound, err, prom.Tail(20))
		}
		return time.Since(began)
	}

	// leaders returns sum(heartbeat_scheduler_leader) as Prometheus sees it.
	leaders := func() (string, error) {
		res, err := http.Get("http://" + addr + "/api/v1/query?query=sum(heartbeat_scheduler_leader)")
		if err != nil {
			return "", err
		}
		defer res.Body.Close()
		var body struct {
			Data struct {
				Result []struct {
					Value [2]any `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
			return "", err
		}
		if len(body.Data.Result) != 1 {
			return "", nil
		}
		v, _ := body.Data.Result[0].Value[1].(string)
		return v, nil
	}
	// quiet checks the alert does not fire for longer than its hold.
	quiet := func(while string) {
		t.Helper()
		deadline := time.Now().Add(8 * time.Second)
		for time.Now().Before(deadline) {
			if s, err := state(); err != nil || s == "firing" {
				t.Fatalf("HeartbeatNoLeader %q (%v) %s", s, err, while)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}

	// Prometheus sees one leader (before its first scrapes the rule sees
	// no leader and may go pending), then the alert is inactive.
	leader, term := c.waitLeader(0, 20*time.Second)
	if err := procs.WaitFor(bound, func() (bool, error) { v, err := leaders(); return v == "1", err }); err != nil {
		t.Fatalf("Prometheus never saw one leader: %v\n%s", err, prom.Tail(20))
	}
	waitState("while a replica leads", "")
	quiet("while a replica leads")

	// The leader alone dies: the standby leads within the lease TTL, less
	// than the rule's 5 s hold, and the alert stays quiet.
	leader.proc.Kill()
	standby, _ := c.waitLeader(term, 20*time.Second)
	quiet("after the leader's SIGKILL, with the standby leading")

	standby.proc.Kill()
	took := waitState("after SIGKILL of every scheduler", "firing")
	t.Logf("HeartbeatNoLeader firing %s after the SIGKILL of the last scheduler", took.Round(100*time.Millisecond))

	c.restart(standby)
	took = waitState("after a scheduler restarted", "")
	t.Logf("HeartbeatNoLeader resolved %s after the restart", took.Round(100*time.Millisecond))
}
