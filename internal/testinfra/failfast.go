package testinfra

import (
	"flag"
	"sync/atomic"
	"testing"
)

// failed is set when a test that called FailFast has failed.
var failed atomic.Bool

// FailFast makes go test -failfast stop parallel tests too. The flag only
// keeps new tests from starting, and every parallel test has started (and
// waits its turn) before the first one runs, so a binary with one failure
// still runs all of them to the end. Under -failfast, FailFast skips t when
// a test that called it has already failed, and records t's own failure.
// make mutation runs go test -failfast once per mutant: this is what ends a
// killed mutant's run early. Without -failfast it does nothing.
func FailFast(t testing.TB) {
	t.Helper()
	if f := flag.Lookup("test.failfast"); f == nil || f.Value.String() != "true" {
		return
	}
	if failed.Load() {
		t.Skip("-failfast: another test has failed")
	}
	t.Cleanup(func() {
		if t.Failed() {
			failed.Store(true)
		}
	})
}
