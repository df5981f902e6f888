package buildinfo

import (
	"runtime"
	"strings"
	"testing"
)

func TestGet(t *testing.T) {
	i := Get()
	if i.Version == "" || i.Revision == "" {
		t.Fatalf("empty fields: %+v", i)
	}
	if i.GoVersion != runtime.Version() {
		t.Fatalf("go version %q, want %q", i.GoVersion, runtime.Version())
	}
	if s := i.String(); !strings.HasPrefix(s, "heartbeat "+i.Version+" (revision ") {
		t.Fatalf("String() = %q", s)
	}
}
