package testinfra

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresBaseURL is the server tests use: HEARTBEAT_TEST_POSTGRES_URL, or
// the machine's PostgreSQL (trust auth, database test).
func PostgresBaseURL() string {
	if u := os.Getenv("HEARTBEAT_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// PostgresSchema creates a schema private to the test and returns a URL
// whose search_path points at it; the schema is dropped when the test ends.
// Under go test -short the test skips.
func PostgresSchema(t testing.TB) string {
	t.Helper()
	skipShort(t, "PostgreSQL")
	base := PostgresBaseURL()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		unavailable(t, "PostgreSQL at %s is not reachable: %v", base, err)
	}
	schema := fmt.Sprintf("hbtest_%d_%d", os.Getpid(), time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		conn.Close(ctx)
		t.Fatalf("create schema: %v", err)
	}
	conn.Close(ctx)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, base); err == nil {
			_, _ = c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			c.Close(ctx)
		}
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}
