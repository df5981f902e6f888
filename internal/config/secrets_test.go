package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOperatorTokensFromFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, v string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a, b, empty := write("a", "token-a\n"), write("b", "token-b"), write("empty", "\n")
	for _, tc := range []struct {
		name  string
		http  HTTP
		want  map[string]string
		field string
	}{
		{"none", HTTP{}, map[string]string{}, ""},
		{"inline", HTTP{Token: "x"}, map[string]string{"": "x"}, ""},
		{"file and named", HTTP{TokenFile: a, Tokens: map[string]string{"bob": b}}, map[string]string{"": "token-a", "bob": "token-b"}, ""},
		{"both inline and file", HTTP{Token: "x", TokenFile: a}, nil, "http.token_file"},
		{"unreadable", HTTP{TokenFile: filepath.Join(dir, "missing")}, nil, "http.token_file"},
		{"empty file", HTTP{Tokens: map[string]string{"bob": empty}}, nil, "http.tokens.bob"},
		{"bad name", HTTP{Tokens: map[string]string{"Bob Smith": b}}, nil, "http.tokens.Bob Smith"},
		{"shared token", HTTP{TokenFile: a, Tokens: map[string]string{"carol": a}}, nil, "http.tokens.carol"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			c.HTTP = tc.http
			got, err := c.OperatorTokens()
			var fe *FieldError
			if tc.field != "" {
				if !errors.As(err, &fe) || fe.Field != tc.field {
					t.Fatalf("err = %v, want a field error for %s", err, tc.field)
				}
				for _, v := range []string{"token-a", "token-b"} {
					if strings.Contains(err.Error(), v) {
						t.Fatalf("the error shows the secret: %v", err)
					}
				}
				return
			}
			if err != nil || len(got) != len(tc.want) {
				t.Fatalf("tokens %v, %v; want %v", got, err, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Fatalf("tokens %v, want %v", got, tc.want)
				}
			}
		})
	}

	st := Store{PostgresURL: "postgres://heartbeat:inline@db:5432/heartbeat?sslmode=require", PostgresPasswordFile: write("pg", "s3cr3t/pw\n")}
	dsn, err := st.PostgresDSN()
	if err != nil || dsn != "postgres://heartbeat:s3cr3t%2Fpw@db:5432/heartbeat?sslmode=require" {
		t.Fatalf("dsn %q, %v", dsn, err)
	}
}
