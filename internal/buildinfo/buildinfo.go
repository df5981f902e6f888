// Package buildinfo says which build a binary is: the version stamped at
// build time (-ldflags "-X heartbeat/internal/buildinfo.version=v1.2.3"),
// else the module version and VCS revision Go records in the binary.
package buildinfo

import (
	"runtime/debug"
	"sync"
)

// version is set at build time by the linker; empty otherwise.
var version string

// Info is what a binary knows about its build.
type Info struct {
	Version   string // "v1.2.3", the module version, or "devel"
	Revision  string // VCS revision (with "-dirty" when modified), or "unknown"
	GoVersion string
}

// String writes "heartbeat v1.2.3 (revision abc123, go1.26.8)".
func (i Info) String() string {
	return "heartbeat " + i.Version + " (revision " + i.Revision + ", " + i.GoVersion + ")"
}

// Get returns the binary's build information.
var Get = sync.OnceValue(func() Info {
	info := Info{Version: version, Revision: "unknown", GoVersion: "unknown"}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		if info.Version == "" {
			info.Version = "devel"
		}
		return info
	}
	info.GoVersion = bi.GoVersion
	if info.Version == "" {
		info.Version = bi.Main.Version
		if info.Version == "" || info.Version == "(devel)" {
			info.Version = "devel"
		}
	}
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Revision = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if dirty && info.Revision != "unknown" {
		info.Revision += "-dirty"
	}
	return info
})
