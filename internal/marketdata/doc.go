// Package marketdata holds the eight computations Heartbeat's jobs run on
// the tick streams, and the state they keep in Redis.
//
// Every computation is a method of Engine that takes the instant it runs
// for (and its shard or market) and works on Redis through go-redis, so any
// worker replica can run any slot. Computations that consume input
// (Intraday reads ticks, VwapMinuteCapture reads closed bars, the flush
// drains the closed-bar stream) commit their new state together with the
// checkpoint of the input they consumed, in one Lua script whose keys share
// the shard's hash tag: a run repeated, or killed between reading and
// writing, leaves the same state as one clean run. The others are pure
// functions of that state, written whole, so repeating them changes
// nothing.
package marketdata
