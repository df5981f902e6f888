package feed

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/redis/go-redis/v9"

	"heartbeat/internal/replication"
)

// ErrorKind classifies a write error for logging once per kind and for
// metric labels: canceled, timeout, connection, closed, readonly, loading,
// oom, unavailable, auth, wait_short (fewer replicas acknowledged the
// write than ingest.wait_replicas), server (any other Redis error reply) or
// other.
func ErrorKind(err error) string {
	var netErr net.Error
	var opErr *net.OpError
	var redisErr redis.Error
	switch {
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, replication.ErrShort):
		return "wait_short"
	case redis.IsReadOnlyError(err):
		return "readonly"
	case redis.IsLoadingError(err):
		return "loading"
	case redis.IsOOMError(err):
		return "oom"
	case redis.IsClusterDownError(err), redis.IsMasterDownError(err), redis.IsTryAgainError(err):
		return "unavailable"
	case redis.IsAuthError(err), redis.IsPermissionError(err):
		return "auth"
	case errors.As(err, &redisErr):
		return "server"
	case errors.Is(err, redis.ErrClosed):
		return "closed"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, redis.ErrPoolTimeout),
		errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	case errors.As(err, &opErr), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "connection"
	}
	return "other"
}
