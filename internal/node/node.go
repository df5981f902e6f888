// Package node assembles Heartbeat's processes from their parts: a worker
// (asynq server, the eight handlers, the market-data engine and the bar
// store) and a scheduler (the leader-leased scheduler, an asynq client and
// the HTTP endpoints). The commands and the embedded mode run them.
package node

import (
	"fmt"
	"os"
	"strconv"

	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"
)

// DefaultName names a process host:pid.
func DefaultName() string {
	host, err := os.Hostname()
	if err != nil {
		host = "localhost"
	}
	return host + ":" + strconv.Itoa(os.Getpid())
}

// asynqLogger sends asynq's own logs through zerolog.
type asynqLogger struct{ l zerolog.Logger }

func (a asynqLogger) Debug(args ...any) { a.l.Debug().Msg(fmt.Sprint(args...)) }
func (a asynqLogger) Info(args ...any)  { a.l.Info().Msg(fmt.Sprint(args...)) }
func (a asynqLogger) Warn(args ...any)  { a.l.Warn().Msg(fmt.Sprint(args...)) }
func (a asynqLogger) Error(args ...any) { a.l.Error().Msg(fmt.Sprint(args...)) }
func (a asynqLogger) Fatal(args ...any) { a.l.Error().Msg(fmt.Sprint(args...)) }

func asynqLevel(l zerolog.Level) asynq.LogLevel {
	switch {
	case l <= zerolog.DebugLevel:
		return asynq.DebugLevel
	case l == zerolog.InfoLevel:
		return asynq.InfoLevel
	case l == zerolog.WarnLevel:
		return asynq.WarnLevel
	}
	return asynq.ErrorLevel
}
