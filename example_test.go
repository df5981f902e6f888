package heartbeat_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"heartbeat"
)

// A ninth job beside the eight built-in ones: a risk snapshot every
// minute, run by the embedded system (in-memory Redis, a scheduler
// replica, workers) on a fake clock.
func Example() {
	dir, err := os.MkdirTemp("", "heartbeat-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	clock := heartbeat.NewFakeClock(time.Date(2026, 12, 7, 14, 59, 59, 500_000_000, time.UTC)) // a Monday
	app, err := heartbeat.New(heartbeat.Options{Clock: clock, Set: map[string]string{
		"store.dir": dir, "scheduler.http": "", "embedded.feed": "false"}})
	if err != nil {
		panic(err)
	}
	ran := make(chan heartbeat.Run, 1)
	err = app.Register(heartbeat.Job{
		Name:     "risk_snapshot",
		Schedule: heartbeat.Every(time.Minute).Gated(heartbeat.GateAlways),
		Run: func(ctx context.Context, run heartbeat.Run) error {
			ran <- run
			return nil
		},
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	if err := app.Start(ctx); err != nil {
		panic(err)
	}
	defer app.Stop(ctx)

	clock.Set(time.Date(2026, 12, 7, 15, 0, 0, 0, time.UTC))
	select {
	case run := <-ran:
		fmt.Printf("%s ran for the slot %s, attempt %d\n", run.Job, run.Slot.Format(time.RFC3339), run.Attempt)
	case <-time.After(30 * time.Second):
		fmt.Println("no run")
	}
	// Output: risk_snapshot ran for the slot 2026-12-07T15:00:00Z, attempt 1
}
