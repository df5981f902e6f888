// Package redisconn turns the redis section of the config into go-redis
// clients and asynq connection options, in the configured mode (single,
// sentinel or cluster), and routes go-redis's own logs. Every command and
// process builds its Redis client here; it depends on neither the
// scheduler nor the workers, so a feed links only what it uses.
package redisconn

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"heartbeat/internal/config"
)

// Timeouts of every Redis client Heartbeat builds.
const (
	redisReadTimeout  = 3 * time.Second
	redisWriteTimeout = 3 * time.Second
	// clusterReloadInterval is how often a cluster client reloads the slot
	// map. go-redis reloads on MOVED, ASK and READONLY but not on a refused
	// connection, so after a master dies its default (60 s in v9.23) keeps
	// the client dialling the dead node for about a minute; 2 s bounds the
	// outage to the failover plus 2 s.
	clusterReloadInterval = 2 * time.Second
)

// Conn is the one place that turns the redis section of the config into
// go-redis options, in the configured mode: a *redis.Client (single), a
// failover *redis.Client that asks the sentinels for the master
// (sentinel), or a *redis.ClusterClient (cluster). It also implements
// asynq.RedisConnOpt, so asynq, which closes the client it is given on
// shutdown, gets its own client built from the same options.
type Conn struct {
	mode     string
	single   *redis.Options
	failover *redis.FailoverOptions
	cluster  *redis.ClusterOptions
}

var _ asynq.RedisConnOpt = (*Conn)(nil)

// NewConn builds the connection options from a validated config: it parses
// redis.url for redis.mode, applies the credentials rule (redis.username
// and redis.password_file over the URL's; the sentinels' password from
// redis.sentinel_password_file over the sentinel URL's userinfo), reads
// the secret and TLS files once, and sets the timeouts. A file that
// cannot be read is a config.ErrInvalid error naming its field.
func NewConn(cfg config.Redis) (*Conn, error) {
	parsed, err := config.ParseRedisURL(cfg.Mode, cfg.URL)
	if err != nil {
		return nil, config.Invalid("redis.url", "%v", err)
	}
	password, havePassword, err := config.ReadSecret("redis.password_file", cfg.PasswordFile)
	if err != nil {
		return nil, err
	}
	sentinelPassword, haveSentinelPassword, err := config.ReadSecret("redis.sentinel_password_file", cfg.SentinelPasswordFile)
	if err != nil {
		return nil, err
	}
	c := &Conn{mode: cfg.Mode}
	switch {
	case parsed.Single != nil:
		o := parsed.Single
		o.Username, o.Password = pick(cfg.Username, o.Username), pickSecret(password, havePassword, o.Password)
		o.DialTimeout, o.ReadTimeout, o.WriteTimeout = cfg.DialTimeout, redisReadTimeout, redisWriteTimeout
		if o.TLSConfig, err = tlsConfig(cfg.TLS, o.TLSConfig); err != nil {
			return nil, err
		}
		c.single = o
	case parsed.Failover != nil:
		o := parsed.Failover
		o.Username, o.Password = pick(cfg.Username, o.Username), pickSecret(password, havePassword, o.Password)
		o.SentinelPassword = pickSecret(sentinelPassword, haveSentinelPassword, o.SentinelPassword)
		o.DialTimeout, o.ReadTimeout, o.WriteTimeout = cfg.DialTimeout, redisReadTimeout, redisWriteTimeout
		if o.TLSConfig, err = tlsConfig(cfg.TLS, o.TLSConfig); err != nil {
			return nil, err
		}
		perHostServerName(o.TLSConfig)
		c.failover = o
	default:
		o := parsed.Cluster
		o.Username, o.Password = pick(cfg.Username, o.Username), pickSecret(password, havePassword, o.Password)
		o.DialTimeout, o.ReadTimeout, o.WriteTimeout = cfg.DialTimeout, redisReadTimeout, redisWriteTimeout
		o.ClusterStateReloadInterval = clusterReloadInterval
		if o.TLSConfig, err = tlsConfig(cfg.TLS, o.TLSConfig); err != nil {
			return nil, err
		}
		perHostServerName(o.TLSConfig)
		c.cluster = o
	}
	return c, nil
}

// Mode returns the connection mode: single, sentinel or cluster.
func (c *Conn) Mode() string { return c.mode }

// Where names what the client connects to, for messages: addresses and
// the master's name, never a credential.
func (c *Conn) Where() string {
	switch {
	case c.single != nil:
		return "redis at " + c.single.Addr
	case c.failover != nil:
		return fmt.Sprintf("redis master %q via sentinels at %s", c.failover.MasterName, strings.Join(c.failover.SentinelAddrs, ", "))
	default:
		return "redis cluster at " + strings.Join(c.cluster.Addrs, ", ")
	}
}

// NewClient returns a new client of the mode's type; the caller closes it.
func (c *Conn) NewClient() redis.UniversalClient {
	switch {
	case c.single != nil:
		return redis.NewClient(c.single)
	case c.failover != nil:
		return redis.NewFailoverClient(c.failover)
	default:
		return redis.NewClusterClient(c.cluster)
	}
}

// MakeRedisClient implements asynq.RedisConnOpt: a new client of the
// mode's concrete type (*redis.Client or *redis.ClusterClient, which
// asynqmon tells apart), owned and closed by asynq.
func (c *Conn) MakeRedisClient() any { return c.NewClient() }

// Redis builds the configured connection and a client, and checks Redis
// answers within the dial timeout, so a Redis that is down at start-up is
// a clear error naming its address(es), not a hang.
func Redis(ctx context.Context, cfg config.Redis) (redis.UniversalClient, *Conn, error) {
	conn, err := NewConn(cfg)
	if err != nil {
		return nil, nil, err
	}
	rdb := conn.NewClient()
	// A failover client asks a sentinel, then dials the master: give it
	// two dials.
	wait := cfg.DialTimeout + time.Second
	if conn.failover != nil {
		wait += cfg.DialTimeout
	}
	pctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		rdb.Close()
		return nil, nil, fmt.Errorf("%s is not reachable: %w", conn.Where(), err)
	}
	return rdb, conn, nil
}

func pick(override, fromURL string) string {
	if override != "" {
		return override
	}
	return fromURL
}

func pickSecret(secret string, ok bool, fromURL string) string {
	if ok {
		return secret
	}
	return fromURL
}

// tlsConfig completes the TLS configuration go-redis made for a rediss://
// URL (nil for redis://) with the configured CA and client certificate.
// Verification stays on unless the URL itself asks otherwise.
func tlsConfig(cfg config.RedisTLS, base *tls.Config) (*tls.Config, error) {
	if base == nil {
		return nil, nil
	}
	out := base.Clone()
	if out.MinVersion == 0 {
		out.MinVersion = tls.VersionTLS12
	}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, config.Invalid("redis.tls.ca_file", "cannot read: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, config.Invalid("redis.tls.ca_file", "%s holds no PEM certificate", cfg.CAFile)
		}
		out.RootCAs = pool
	}
	if cfg.CertFile != "" || cfg.KeyFile != "" {
		pair, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) && pe.Path == cfg.KeyFile {
				return nil, config.Invalid("redis.tls.key_file", "cannot read: %v", err)
			}
			return nil, config.Invalid("redis.tls.cert_file", "cannot load the client certificate and key: %v", err)
		}
		out.Certificates = []tls.Certificate{pair}
	}
	return out, nil
}

// perHostServerName clears the server name go-redis takes from the URL's
// first host: sentinels, masters and cluster nodes are many hosts, and
// with no name set tls.DialWithDialer verifies each against the host it
// dials.
func perHostServerName(c *tls.Config) {
	if c != nil {
		c.ServerName = ""
	}
}

// redisLogger sends go-redis's own messages (pool dial failures, retried
// per connection) to zerolog at debug level: the outage itself is logged
// once by whoever sees it fail.
type redisLogger struct{ l zerolog.Logger }

func (r redisLogger) Printf(_ context.Context, format string, v ...any) {
	r.l.Debug().Str("component", "go-redis").Msgf(format, v...)
}

// RouteRedisLogs routes go-redis's process-wide logger to log.
func RouteRedisLogs(log zerolog.Logger) { redis.SetLogger(redisLogger{log}) }
