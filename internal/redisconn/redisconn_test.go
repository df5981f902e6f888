package redisconn

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"heartbeat/internal/config"
	"heartbeat/internal/testinfra"
)

func redisCfg(mode, url string) config.Redis {
	c := config.Default().Redis
	c.Mode, c.URL = mode, url
	return c
}

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// credentials is what a Conn authenticates with.
type credentials struct {
	user, password, sentinelUser, sentinelPassword string
}

func credentialsOf(c *Conn) credentials {
	switch {
	case c.single != nil:
		return credentials{user: c.single.Username, password: c.single.Password}
	case c.failover != nil:
		return credentials{c.failover.Username, c.failover.Password, c.failover.SentinelUsername, c.failover.SentinelPassword}
	default:
		return credentials{user: c.cluster.Username, password: c.cluster.Password}
	}
}

// TestConnCredentialsRule checks the one credentials rule in every mode:
// redis.username and redis.password_file win over the URL; the URL's
// userinfo is the data nodes' in single and cluster mode and the
// sentinels' in sentinel mode, whose data-node credentials are query
// parameters; redis.sentinel_password_file wins over the sentinel URL.
func TestConnCredentialsRule(t *testing.T) {
	t.Parallel()
	pwFile := writeFile(t, "pw", "from-file\n")
	sentFile := writeFile(t, "spw", "sentinel-file\r\n")
	const sentinelURL = "redis://su:sp@127.0.0.1:26379/0?master_name=m&username=u&password=p"
	cases := []struct {
		name string
		edit func(*config.Redis)
		want credentials
	}{
		{"single from URL", func(r *config.Redis) { r.URL = "redis://u:p@127.0.0.1:6379/0" }, credentials{user: "u", password: "p"}},
		{"single overridden", func(r *config.Redis) {
			r.URL, r.Username, r.PasswordFile = "redis://u:p@127.0.0.1:6379/0", "cfg-user", pwFile
		}, credentials{user: "cfg-user", password: "from-file"}},
		{"single password file only", func(r *config.Redis) { r.URL, r.PasswordFile = "redis://127.0.0.1:6379/0", pwFile }, credentials{password: "from-file"}},
		{"cluster from URL", func(r *config.Redis) {
			r.Mode, r.URL = config.RedisCluster, "redis://u:p@127.0.0.1:7000?addr=127.0.0.1:7001"
		}, credentials{user: "u", password: "p"}},
		{"cluster overridden", func(r *config.Redis) {
			r.Mode, r.URL, r.Username, r.PasswordFile = config.RedisCluster, "redis://u:p@127.0.0.1:7000", "cfg-user", pwFile
		}, credentials{user: "cfg-user", password: "from-file"}},
		{"sentinel from URL", func(r *config.Redis) { r.Mode, r.URL = config.RedisSentinel, sentinelURL },
			credentials{"u", "p", "su", "sp"}},
		{"sentinel overridden", func(r *config.Redis) {
			r.Mode, r.URL, r.Username, r.PasswordFile, r.SentinelPasswordFile = config.RedisSentinel, sentinelURL, "cfg-user", pwFile, sentFile
		}, credentials{"cfg-user", "from-file", "su", "sentinel-file"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := redisCfg(config.RedisSingle, "")
			tc.edit(&r)
			c, err := NewConn(r)
			if err != nil {
				t.Fatalf("NewConn: %v", err)
			}
			if got := credentialsOf(c); got != tc.want {
				t.Fatalf("credentials = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestConnClientTypes checks each mode makes the client type asynq and
// asynqmon expect, with the configured timeouts, and the cluster client
// reloads its slot map every clusterReloadInterval.
func TestConnClientTypes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		mode, url string
		check     func(t *testing.T, c any)
	}{
		{config.RedisSingle, "redis://127.0.0.1:6379/3", func(t *testing.T, c any) {
			rc, ok := c.(*redis.Client)
			if !ok || rc.Options().DB != 3 || rc.Options().Addr != "127.0.0.1:6379" {
				t.Fatalf("client %T, want *redis.Client on db 3", c)
			}
		}},
		{config.RedisSentinel, "redis://127.0.0.1:26379/2?master_name=mymaster&addr=127.0.0.1:26380", func(t *testing.T, c any) {
			rc, ok := c.(*redis.Client)
			if !ok || rc.Options().DB != 2 {
				t.Fatalf("client %T, want a failover *redis.Client on db 2", c)
			}
		}},
		{config.RedisCluster, "redis://127.0.0.1:7000?addr=127.0.0.1:7001", func(t *testing.T, c any) {
			cc, ok := c.(*redis.ClusterClient)
			if !ok {
				t.Fatalf("client %T, want *redis.ClusterClient", c)
			}
			if o := cc.Options(); o.ClusterStateReloadInterval != clusterReloadInterval || len(o.Addrs) != 2 || o.ReadTimeout != redisReadTimeout {
				t.Fatalf("cluster options: reload %s, addrs %v, read timeout %s", o.ClusterStateReloadInterval, o.Addrs, o.ReadTimeout)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.mode, func(t *testing.T) {
			t.Parallel()
			conn, err := NewConn(redisCfg(tc.mode, tc.url))
			if err != nil {
				t.Fatal(err)
			}
			c := conn.MakeRedisClient()
			defer c.(redis.UniversalClient).Close()
			tc.check(t, c)
			if conn.Mode() != tc.mode {
				t.Fatalf("Mode = %s", conn.Mode())
			}
		})
	}
}

// TestConnFileErrorsNameTheField checks an unreadable secret or TLS file
// is a configuration error (exit code 2) naming its field.
func TestConnFileErrorsNameTheField(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "missing")
	notPEM := writeFile(t, "ca.pem", "not a certificate\n")
	cases := []struct {
		name  string
		edit  func(*config.Redis)
		field string
	}{
		{"password file", func(r *config.Redis) { r.PasswordFile = missing }, "redis.password_file"},
		{"sentinel password file", func(r *config.Redis) {
			r.Mode, r.URL, r.SentinelPasswordFile = config.RedisSentinel, "redis://127.0.0.1:26379?master_name=m", missing
		}, "redis.sentinel_password_file"},
		{"CA file unreadable", func(r *config.Redis) { r.URL, r.TLS.CAFile = "rediss://127.0.0.1:6379/0", missing }, "redis.tls.ca_file"},
		{"CA file not PEM", func(r *config.Redis) { r.URL, r.TLS.CAFile = "rediss://127.0.0.1:6379/0", notPEM }, "redis.tls.ca_file"},
		{"key file unreadable", func(r *config.Redis) {
			r.URL, r.TLS.CertFile, r.TLS.KeyFile = "rediss://127.0.0.1:6379/0", notPEM, missing
		}, "redis.tls.key_file"},
		{"cert not PEM", func(r *config.Redis) {
			r.URL, r.TLS.CertFile, r.TLS.KeyFile = "rediss://127.0.0.1:6379/0", notPEM, notPEM
		}, "redis.tls.cert_file"},
		{"cluster database", func(r *config.Redis) { r.Mode, r.URL = config.RedisCluster, "redis://127.0.0.1:7000/1" }, "redis.url"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := redisCfg(config.RedisSingle, "redis://127.0.0.1:6379/0")
			tc.edit(&r)
			_, err := NewConn(r)
			var fe *config.FieldError
			if !errors.Is(err, config.ErrInvalid) || !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("NewConn = %v, want a config.ErrInvalid FieldError for %s", err, tc.field)
			}
		})
	}
}

// TestConnTLS checks a rediss:// URL verifies certificates against the
// configured CA, presents the client certificate, and checks each
// cluster node or sentinel against its own host name.
func TestConnTLS(t *testing.T) {
	t.Parallel()
	certPEM, keyPEM := selfSigned(t)
	ca := writeFile(t, "ca.pem", string(certPEM))
	key := writeFile(t, "key.pem", string(keyPEM))
	for _, tc := range []struct{ mode, url, serverName string }{
		{config.RedisSingle, "rediss://redis.example:6379/0", "redis.example"},
		{config.RedisCluster, "rediss://node1.example:7000?addr=node2.example:7001", ""},
		{config.RedisSentinel, "rediss://s1.example:26379?master_name=m", ""},
	} {
		r := redisCfg(tc.mode, tc.url)
		r.TLS = config.RedisTLS{CAFile: ca, CertFile: ca, KeyFile: key}
		conn, err := NewConn(r)
		if err != nil {
			t.Fatalf("%s: %v", tc.mode, err)
		}
		cfg := conn.single
		var got = struct {
			skip       bool
			roots      bool
			certs      int
			serverName string
		}{}
		switch {
		case cfg != nil:
			got.skip, got.roots, got.certs, got.serverName = cfg.TLSConfig.InsecureSkipVerify, cfg.TLSConfig.RootCAs != nil, len(cfg.TLSConfig.Certificates), cfg.TLSConfig.ServerName
		case conn.failover != nil:
			c := conn.failover.TLSConfig
			got.skip, got.roots, got.certs, got.serverName = c.InsecureSkipVerify, c.RootCAs != nil, len(c.Certificates), c.ServerName
		default:
			c := conn.cluster.TLSConfig
			got.skip, got.roots, got.certs, got.serverName = c.InsecureSkipVerify, c.RootCAs != nil, len(c.Certificates), c.ServerName
		}
		if got.skip || !got.roots || got.certs != 1 || got.serverName != tc.serverName {
			t.Fatalf("%s: TLS skip verify %v, CA set %v, client certs %d, server name %q (want %q)", tc.mode, got.skip, got.roots, got.certs, got.serverName, tc.serverName)
		}
	}
	plain, err := NewConn(redisCfg(config.RedisSingle, "redis://127.0.0.1:6379/0"))
	if err != nil || plain.single.TLSConfig != nil {
		t.Fatalf("redis:// made TLS config %v, %v", plain.single.TLSConfig, err)
	}
}

// TestRedisUnreachableNamesAddressesNotPassword checks the start-up error
// of each mode names where it tried and never the password.
func TestRedisUnreachableNamesAddressesNotPassword(t *testing.T) {
	t.Parallel()
	cases := []struct{ mode, url, want string }{
		{config.RedisSingle, "redis://u:s3cr3t@127.0.0.1:1/0", "redis at 127.0.0.1:1 is not reachable"},
		{config.RedisSentinel, "redis://u:s3cr3t@127.0.0.1:1/0?master_name=mymaster&addr=127.0.0.1:2&password=s3cr3t",
			`redis master "mymaster" via sentinels at 127.0.0.1:1, 127.0.0.1:2 is not reachable`},
		{config.RedisCluster, "redis://u:s3cr3t@127.0.0.1:1?addr=127.0.0.1:2", "redis cluster at 127.0.0.1:1, 127.0.0.1:2 is not reachable"},
	}
	for _, tc := range cases {
		t.Run(tc.mode, func(t *testing.T) {
			t.Parallel()
			r := redisCfg(tc.mode, tc.url)
			r.DialTimeout = 500 * time.Millisecond
			_, _, err := Redis(context.Background(), r)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "s3cr3t") {
				t.Fatalf("Redis = %v, want %q without the password", err, tc.want)
			}
			if errors.Is(err, config.ErrInvalid) {
				t.Fatalf("Redis down is a configuration error: %v", err)
			}
		})
	}
}

// selfSigned returns a self-signed certificate and its key, PEM-encoded.
func selfSigned(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "heartbeat test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, DNSNames: []string{"redis.example"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

// TestRedisTLSOnARealServer connects over rediss:// to a redis-server
// serving TLS: with the CA (and a client certificate, which the server
// asks for) it answers; without the CA the certificate is refused, since
// verification is on by default.
func TestRedisTLSOnARealServer(t *testing.T) {
	t.Parallel()
	certPEM, keyPEM := selfSigned(t)
	ca := writeFile(t, "ca.pem", string(certPEM))
	key := writeFile(t, "key.pem", string(keyPEM))
	tlsPort := testinfra.FreePort(t)
	testinfra.StartRedis(t, testinfra.WithArgs("--tls-port", strconv.Itoa(tlsPort), "--tls-cert-file", ca, "--tls-key-file", key,
		"--tls-ca-cert-file", ca, "--tls-auth-clients", "yes"))
	url := fmt.Sprintf("rediss://127.0.0.1:%d/0", tlsPort)
	ctx := context.Background()

	cfg := redisCfg(config.RedisSingle, url)
	cfg.TLS = config.RedisTLS{CAFile: ca, CertFile: ca, KeyFile: key}
	rdb, _, err := Redis(ctx, cfg)
	if err != nil {
		t.Fatalf("rediss:// with the CA and a client certificate: %v", err)
	}
	defer rdb.Close()
	if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}

	noCA := redisCfg(config.RedisSingle, url)
	noCA.TLS = config.RedisTLS{CertFile: ca, KeyFile: key}
	if rdb, _, err := Redis(ctx, noCA); err == nil {
		rdb.Close()
		t.Fatal("a certificate no configured CA signed was accepted")
	} else if !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("without the CA: %v, want a certificate error", err)
	}
}
