package config

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"heartbeat/internal/jobs"
)

// TestReadmeListsEveryKey keeps the README's configuration table true:
// every key has a row with its environment variable.
func TestReadmeListsEveryKey(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	perJob := regexp.MustCompile(`^jobs\.(` + strings.Join(jobNames(), "|") + `)\.`)
	for key := range flatten(Default()) {
		key = perJob.ReplaceAllString(key, "jobs.JOB.")
		env := EnvPrefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
		if !strings.Contains(readme, "| `"+key+"` |") || !strings.Contains(readme, "`"+env+"`") {
			t.Errorf("README.md has no configuration row for %s (%s)", key, env)
		}
	}
}

func jobNames() []string {
	var out []string
	for _, n := range jobs.Names() {
		out = append(out, string(n))
	}
	return out
}
