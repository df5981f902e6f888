// Package feed owns Heartbeat's built-in tick sources: the Simulator, which
// random-walks prices for the configured instruments while their markets
// are open, and Replay, which writes recorded trades from a CSV file. Both
// write through ticks.Writer, so what they produce is exactly the ingest
// contract any external feed follows. TradeReader, the CSV reader, is
// shared with the backfill command.
package feed
