package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/redis/go-redis/v9"
)

// RedisURL is redis.url parsed by go-redis's parser for the mode: exactly
// one of the three is set.
type RedisURL struct {
	Single   *redis.Options
	Failover *redis.FailoverOptions
	Cluster  *redis.ClusterOptions
}

// ParseRedisURL parses raw with go-redis's parser for mode (ParseURL,
// ParseFailoverURL or ParseClusterURL) and checks what go-redis leaves to
// the caller: a sentinel URL names its master, a cluster URL selects
// database 0. Errors never contain the URL (it may hold a password).
func ParseRedisURL(mode, raw string) (RedisURL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return RedisURL{}, fmt.Errorf("not a URL: %w", err)
	}
	if (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
		return RedisURL{}, fmt.Errorf("must be redis://host:port... or rediss://host:port..., got %q", RedactURL(raw))
	}
	switch mode {
	case RedisSingle:
		o, err := redis.ParseURL(raw)
		if err != nil {
			return RedisURL{}, err
		}
		return RedisURL{Single: o}, nil
	case RedisSentinel:
		o, err := redis.ParseFailoverURL(raw)
		if err != nil {
			return RedisURL{}, err
		}
		if o.MasterName == "" {
			return RedisURL{}, errors.New("sentinel mode needs the master's name: add ?master_name=NAME")
		}
		return RedisURL{Failover: o}, nil
	case RedisCluster:
		// ParseClusterURL ignores the path; a database other than 0 would
		// be silently dropped, and a cluster has only database 0.
		if p := strings.Trim(u.Path, "/"); p != "" && p != "0" {
			return RedisURL{}, fmt.Errorf("a Redis Cluster has only database 0, got /%s", p)
		}
		if u.Query().Has("db") {
			return RedisURL{}, errors.New("a Redis Cluster has only database 0: remove db=")
		}
		o, err := redis.ParseClusterURL(raw)
		if err != nil {
			return RedisURL{}, err
		}
		return RedisURL{Cluster: o}, nil
	}
	return RedisURL{}, fmt.Errorf("unknown redis.mode %q", mode)
}

// RedactURL returns raw with its password replaced by xxxxx, in the
// userinfo and in a password query parameter (sentinel mode's data-node
// password), for messages and logs. An unparseable URL is replaced whole.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// validate returns the problems of the redis section that can be seen
// without reading files (the connection reads them once, at start-up).
func (r Redis) validate() []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	switch r.Mode {
	case RedisSingle, RedisSentinel, RedisCluster:
		if _, err := ParseRedisURL(r.Mode, r.URL); err != nil {
			bad("redis.url", "%v (redis.mode %s)", err, r.Mode)
		}
	default:
		bad("redis.mode", "must be single, sentinel or cluster, got %q", r.Mode)
	}
	tlsSet := r.TLS.CAFile != "" || r.TLS.CertFile != "" || r.TLS.KeyFile != ""
	if u, err := url.Parse(r.URL); err == nil && tlsSet && u.Scheme != "rediss" {
		bad("redis.tls", "is set but redis.url is not rediss://")
	}
	if (r.TLS.CertFile == "") != (r.TLS.KeyFile == "") {
		bad("redis.tls.key_file", "redis.tls.cert_file and redis.tls.key_file go together")
	}
	if r.SentinelPasswordFile != "" && r.Mode != RedisSentinel {
		bad("redis.sentinel_password_file", "is only for redis.mode sentinel")
	}
	return errs
}

// Invalid returns the error of a config field found bad after Validate
// (a secret file that cannot be read at start-up): it names the field and
// matches ErrInvalid, so commands exit with code 2.
func Invalid(field, format string, args ...any) error {
	return fmt.Errorf("%w: %w", ErrInvalid, &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)})
}
