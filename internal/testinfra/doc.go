// Package testinfra starts the real servers integration tests need: a
// redis-server of the test's own on a free port (so it can be killed and
// restarted), miniredis for fast unit tests, and a private schema in the
// machine's PostgreSQL. A missing server skips the test, except under
// CI=true, where it fails the run.
package testinfra

import (
	"os"
	"testing"
)

// InCI reports whether the tests run in CI, where every server must exist.
func InCI() bool { return os.Getenv("CI") == "true" }

// unavailable skips the test outside CI and fails it in CI.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if InCI() {
		t.Fatalf("CI=true and "+format, args...)
	}
	t.Skipf(format, args...)
}
