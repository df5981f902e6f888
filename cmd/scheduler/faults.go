//go:build faults

package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"heartbeat/internal/clock"
	"heartbeat/internal/scheduler"
)

// Fault injection, compiled only with -tags faults (the integration tests
// build such a binary; a release build has none of this). Two variables
// of the replica's environment:
//
//   - HEARTBEAT_FAULT_STEP names a step of scheduler.FaultSteps(). The
//     first time the replica reaches it, it writes the line
//     "FAULT <step> reached: blocking until killed" to stderr and blocks
//     that loop for good, as a process stopped at that instant would; its
//     other loops (the lease's renewals) go on, so a test SIGKILLs it there.
//   - HEARTBEAT_FAULT_CLOCK_SHIFT is a Go duration added to the wall
//     clock: runtime calendar entries are whole minutes, and a shift lets
//     a test put a transition a few seconds ahead instead of waiting for
//     the next minute. Every replica of a test gets the same shift.
const (
	envFaultStep       = "HEARTBEAT_FAULT_STEP"
	envFaultClockShift = "HEARTBEAT_FAULT_CLOCK_SHIFT"
)

// faultInjection returns the clock and the fault hook the environment
// asks for.
func faultInjection(stderr io.Writer) (clock.Clock, func(step string), error) {
	var clk clock.Clock = clock.Real{}
	if v := os.Getenv(envFaultClockShift); v != "" {
		shift, err := time.ParseDuration(v)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", envFaultClockShift, err)
		}
		clk = clock.Shifted{Shift: shift}
	}
	target := os.Getenv(envFaultStep)
	if target == "" {
		return clk, nil, nil
	}
	if !slices.Contains(scheduler.FaultSteps(), target) {
		return nil, nil, fmt.Errorf("%s: unknown step %q (one of %s)", envFaultStep, target, strings.Join(scheduler.FaultSteps(), ", "))
	}
	fault := func(step string) {
		if step != target {
			return
		}
		fmt.Fprintf(stderr, "FAULT %s reached: blocking until killed\n", step)
		select {}
	}
	return clk, fault, nil
}
