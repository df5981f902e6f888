// Package testinfra starts the real servers integration tests need: a
// redis-server of the test's own on a free port (so it can be killed and
// restarted), miniredis for fast unit tests, and a private schema in the
// machine's PostgreSQL. A missing server skips the test, except under
// CI=true, where it fails the run. Under go test -short (what make
// mutation runs) every real server is skipped, CI or not: the fast
// miniredis and fake-clock tests still run, the slow server tests do not.
package testinfra

import (
	"os"
	"os/exec"
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

// skipShort skips the test under go test -short, which asks for the fast
// tests only: starting a real server (what) is not one of them.
func skipShort(t testing.TB, what string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("-short: the test starts %s", what)
	}
}

// Binary returns the path of a program a test needs (promtool, say); when
// it is not installed the test skips, or fails under CI=true, naming the
// Debian package that brings it.
func Binary(t testing.TB, name, debianPackage string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		unavailable(t, "%s is not installed (apt-get install -y %s): %v", name, debianPackage, err)
	}
	return path
}
