// Package scheduler is Heartbeat's one logical scheduler: the leader lease
// that lets one of several replicas enqueue, the slots each job fires at
// (multiples of its interval on the wall clock, computed from the previous
// slot so nothing drifts), the market gates that decide which slots run,
// and the loop that enqueues them as asynq tasks with identities that make
// a slot run at most once.
package scheduler
