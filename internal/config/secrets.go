package config

import (
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
)

// ReadSecret reads a secret file (a Docker or Kubernetes secret): its
// content less a trailing newline. An empty path is no secret (ok false);
// an unreadable file is an error naming field. The secret itself never
// appears in an error.
func ReadSecret(field, path string) (secret string, ok bool, err error) {
	if path == "" {
		return "", false, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", false, Invalid(field, "cannot read the secret file: %v", err)
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		return "", false, Invalid(field, "the secret file %s is empty", path)
	}
	return s, true, nil
}

var tokenName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

// OperatorTokens returns the bearer tokens operator POSTs may carry, by
// name: "" for http.token or http.token_file, NAME for each entry of
// http.tokens (NAME: FILE), so the audit says who acted. No token: the
// HTTP API is read-only.
func (c Config) OperatorTokens() (map[string]string, error) {
	out := map[string]string{}
	if c.HTTP.Token != "" && c.HTTP.TokenFile != "" {
		return nil, Invalid("http.token_file", "give http.token or http.token_file, not both")
	}
	if c.HTTP.Token != "" {
		out[""] = c.HTTP.Token
	}
	if tok, ok, err := ReadSecret("http.token_file", c.HTTP.TokenFile); err != nil {
		return nil, err
	} else if ok {
		out[""] = tok
	}
	names := make([]string, 0, len(c.HTTP.Tokens))
	for name := range c.HTTP.Tokens {
		names = append(names, name)
	}
	sort.Strings(names)
	seen := map[string]string{}
	for name, tok := range out {
		seen[tok] = name
	}
	for _, name := range names {
		field := "http.tokens." + name
		if !tokenName.MatchString(name) {
			return nil, Invalid(field, "a token's name must be 1-64 of a-z 0-9 _ . - (it names the operator in the audit)")
		}
		tok, _, err := ReadSecret(field, c.HTTP.Tokens[name])
		if err != nil {
			return nil, err
		}
		if tok == "" {
			return nil, Invalid(field, "needs the path of a secret file")
		}
		if other, dup := seen[tok]; dup {
			return nil, Invalid(field, "the same token as %q: each operator needs their own", other)
		}
		seen[tok] = name
		out[name] = tok
	}
	return out, nil
}

// PostgresDSN returns store.postgres_url with the password of
// store.postgres_password_file, when set, in place of the URL's.
func (s Store) PostgresDSN() (string, error) {
	raw := s.PostgresURL
	pw, ok, err := ReadSecret("store.postgres_password_file", s.PostgresPasswordFile)
	if err != nil || !ok || raw == "" {
		return raw, err
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", Invalid("store.postgres_url", "not a URL") // the URL may hold a password: not echoed
	}
	user := "postgres"
	if u.User != nil {
		user = u.User.Username()
	}
	u.User = url.UserPassword(user, pw)
	return u.String(), nil
}
