// Package logging builds the zerolog logger every command uses: JSON by
// default, a console format on a terminal or when asked.
package logging

import (
	"io"
	"os"
	"time"

	"github.com/rs/zerolog"

	"heartbeat/internal/config"
)

func init() { zerolog.TimeFieldFormat = time.RFC3339Nano }

// New returns a logger writing to w at the configured level and format.
// Format "auto" picks the console format when w is a terminal.
func New(cfg config.Log, w io.Writer) zerolog.Logger {
	level, err := zerolog.ParseLevel(cfg.Level)
	if err != nil {
		level = zerolog.InfoLevel
	}
	format := cfg.Format
	if format == "auto" {
		format = "json"
		if isTerminal(w) {
			format = "console"
		}
	}
	if format == "console" {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: "15:04:05.000"}
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger()
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
