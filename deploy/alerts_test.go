package deploy

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"heartbeat/internal/testinfra"
)

const (
	alertsPath     = "deploy/prometheus/alerts.yml"
	alertTestsPath = "deploy/prometheus/alerts_test.yml"
)

// TestAlertRules checks the alert rules with promtool and runs their unit
// tests (each alert fires when it should and stays quiet when it should).
func TestAlertRules(t *testing.T) {
	t.Parallel()
	b := setup(t)
	promtool := testinfra.Binary(t, "promtool", "prometheus")
	for _, args := range [][]string{
		{"check", "rules", filepath.Join(b.root, alertsPath)},
		{"test", "rules", filepath.Join(b.root, alertTestsPath)},
	} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "SUCCESS") {
			t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// TestAlertRulesLoaded: the compose Prometheus loads the rules, and every
// alert has a runbook line in docs/STATUS.md.
func TestAlertRulesLoaded(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var prom struct {
		RuleFiles []string `yaml:"rule_files"`
	}
	if err := yaml.Unmarshal(readFile(t, b.root, prometheusPath), &prom); err != nil {
		t.Fatal(err)
	}
	mounted := b.mountOf(t, "prometheus", alertsPath)
	if !slices.Contains(prom.RuleFiles, mounted) {
		t.Fatalf("%s: rule_files %v does not name %s (where compose mounts %s)", prometheusPath, prom.RuleFiles, mounted, alertsPath)
	}
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(readFile(t, b.root, alertsPath), &rules); err != nil {
		t.Fatal(err)
	}
	status := string(readFile(t, b.root, "docs/STATUS.md"))
	n := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			n++
			if !strings.Contains(status, "| `"+r.Alert+"` |") {
				t.Errorf("docs/STATUS.md has no runbook row for %s", r.Alert)
			}
		}
	}
	if n < 10 {
		t.Fatalf("%d alerts, want at least 10", n)
	}
}
