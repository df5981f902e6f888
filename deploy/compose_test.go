package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.yaml.in/yaml/v3"

	"heartbeat/internal/config"
	"heartbeat/internal/testinfra"
)

// The files under test, relative to the repository root.
const (
	composePath    = "docker-compose.yml"
	dockerfilePath = "Dockerfile"
	configPath     = "config.yaml"
	metricsPath    = "internal/metrics/metrics.go"
	prometheusPath = "deploy/prometheus/prometheus.yml"
	datasourcePath = "deploy/grafana/provisioning/datasources/prometheus.yml"
	providerPath   = "deploy/grafana/provisioning/dashboards/heartbeat.yml"
	dashboardPath  = "deploy/grafana/dashboards/heartbeat.json"
)

// minGracePeriod is the least stop_grace_period of a Heartbeat service: the
// worker's shutdown_timeout is below 10s by validation.
const minGracePeriod = 10 * time.Second

// binaries maps each command under cmd/ to the binary TestMain built for
// it; buildErr says why there are none.
var (
	binaries map[string]string
	buildErr error
)

func TestMain(m *testing.M) {
	// The tests read the configuration the image runs with, which this
	// process's own HEARTBEAT_* settings must not change.
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, config.EnvPrefix+"_") {
			os.Unsetenv(k)
		}
	}
	dir, err := os.MkdirTemp("", "heartbeat-deploy-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "deploy tests:", err)
		os.Exit(1)
	}
	binaries, buildErr = buildCommands(dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildCommands builds every package under cmd/ into dir.
func buildCommands(dir string) (map[string]string, error) {
	names, err := commandNames("..")
	if err != nil {
		return nil, err
	}
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	for _, n := range names {
		args = append(args, "heartbeat/cmd/"+n)
	}
	out, err := exec.Command("go", args...).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	bins := map[string]string{}
	for _, n := range names {
		bins[n] = filepath.Join(dir, n)
	}
	return bins, nil
}

// commandNames lists the directories under root/cmd that hold a main.go.
func commandNames(root string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(root, "cmd"))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(root, "cmd", e.Name(), "main.go")); e.IsDir() && err == nil {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		return nil, errors.New("no commands under cmd/")
	}
	return names, nil
}

// composeFile is the part of docker-compose.yml the tests read.
type composeFile struct {
	Services map[string]service `yaml:"services"`
	Volumes  map[string]any     `yaml:"volumes"`
	Secrets  map[string]struct {
		File string `yaml:"file"`
	} `yaml:"secrets"`
}

type service struct {
	Image           string                `yaml:"image"`
	Build           any                   `yaml:"build"`
	ContainerName   string                `yaml:"container_name"`
	Command         []string              `yaml:"command"`
	Entrypoint      []string              `yaml:"entrypoint"`
	Environment     envMap                `yaml:"environment"`
	Ports           []any                 `yaml:"ports"`
	StopGracePeriod string                `yaml:"stop_grace_period"`
	DependsOn       dependsOn             `yaml:"depends_on"`
	Healthcheck     *healthcheck          `yaml:"healthcheck"`
	Networks        map[string]*netConfig `yaml:"networks"`
	Volumes         []string              `yaml:"volumes"`
	Profiles        []string              `yaml:"profiles"`
	Hostname        string                `yaml:"hostname"`
	Secrets         []string              `yaml:"secrets"`
	Deploy          *struct {
		Replicas *int `yaml:"replicas"`
	} `yaml:"deploy"`
}

type healthcheck struct {
	Test []string `yaml:"test"`
}

type netConfig struct {
	Aliases []string `yaml:"aliases"`
}

// envMap is a service's environment, written as a map or as a list of
// NAME=VALUE.
type envMap map[string]string

func (e *envMap) UnmarshalYAML(n *yaml.Node) error {
	*e = envMap{}
	if n.Kind == yaml.SequenceNode {
		var list []string
		if err := n.Decode(&list); err != nil {
			return err
		}
		for _, kv := range list {
			k, v, _ := strings.Cut(kv, "=")
			(*e)[k] = v
		}
		return nil
	}
	m := map[string]string{}
	if err := n.Decode(&m); err != nil {
		return err
	}
	for k, v := range m {
		(*e)[k] = v
	}
	return nil
}

// dependsOn maps a dependency to its condition; the short (list) form
// means service_started.
type dependsOn map[string]string

func (d *dependsOn) UnmarshalYAML(n *yaml.Node) error {
	*d = dependsOn{}
	if n.Kind == yaml.SequenceNode {
		var list []string
		if err := n.Decode(&list); err != nil {
			return err
		}
		for _, s := range list {
			(*d)[s] = "service_started"
		}
		return nil
	}
	var m map[string]struct {
		Condition string `yaml:"condition"`
	}
	if err := n.Decode(&m); err != nil {
		return err
	}
	for k, v := range m {
		(*d)[k] = v.Condition
	}
	return nil
}

// binary is the Heartbeat binary a service runs ("" for other images).
func (s service) binary() string {
	if len(s.Entrypoint) > 0 || len(s.Command) == 0 {
		return ""
	}
	if _, ok := binaries[s.Command[0]]; ok {
		return s.Command[0]
	}
	if slices.Contains([]string{"scheduler", "worker", "feed"}, s.Command[0]) {
		return s.Command[0]
	}
	return ""
}

// names are the DNS names a service answers to in the Compose network.
func (s service) names(name string) []string {
	out := []string{name}
	for _, n := range s.Networks {
		if n != nil {
			out = append(out, n.Aliases...)
		}
	}
	return out
}

// bundle is what the tests share: the parsed files and where they are.
type bundle struct {
	root       string
	compose    composeFile
	dockerfile string
	cfg        config.Config
}

func setup(t *testing.T) bundle {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	b := bundle{root: root, dockerfile: string(readFile(t, root, dockerfilePath))}
	if err := yaml.Unmarshal(readFile(t, root, composePath), &b.compose); err != nil {
		t.Fatalf("%s: %v", composePath, err)
	}
	if len(b.compose.Services) == 0 {
		t.Fatalf("%s: no services", composePath)
	}
	// What the image runs with: config.yaml (TestMain cleared this
	// process's HEARTBEAT_* variables).
	b.cfg, err = config.Load(filepath.Join(root, configPath))
	if err != nil {
		t.Fatalf("%s: %v", configPath, err)
	}
	return b
}

func readFile(t *testing.T, root, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// heartbeatServices returns the services that run a Heartbeat binary.
func (b bundle) heartbeatServices(t *testing.T, bin string) map[string]service {
	t.Helper()
	out := map[string]service{}
	for name, s := range b.compose.Services {
		if got := s.binary(); got != "" && (bin == "" || got == bin) {
			out[name] = s
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: no service runs %q", composePath, bin)
	}
	return out
}

// TestComposeConfig has Compose itself validate docker-compose.yml: Debian's
// docker-compose (v1), and the v2 plugin when the docker CLI has it.
func TestComposeConfig(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ran := false
	if path, err := exec.LookPath("docker-compose"); err == nil {
		composeConfig(t, b.root, path)
		ran = true
	}
	if docker, err := exec.LookPath("docker"); err == nil && exec.Command(docker, "compose", "version").Run() == nil {
		composeConfig(t, b.root, docker, "compose")
		ran = true
	}
	if !ran {
		if os.Getenv("CI") == "true" {
			t.Fatal("docker-compose is not installed (apt-get install -y docker-compose)")
		}
		t.Skip("docker-compose is not installed")
	}
}

func composeConfig(t *testing.T, dir string, cmdline ...string) {
	t.Helper()
	args := slices.Concat(cmdline[1:], []string{"-f", composePath, "config", "-q"})
	cmd := exec.Command(cmdline[0], args...)
	cmd.Dir = dir
	// Interpolate with the file's defaults, not the caller's settings.
	cmd.Env = withoutVars(os.Environ(), "POSTGRES_PASSWORD", "HEARTBEAT_HTTP_TOKEN", "HEARTBEAT_TAG", "GRAFANA_ADMIN_PASSWORD", "COMPOSE_FILE",
		"HEARTBEAT_REDIS_MODE", "HEARTBEAT_REDIS_URL", "COMPOSE_PROFILES")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, stderr.String())
	}
	if strings.Contains(strings.ToLower(stderr.String()), "warn") {
		t.Fatalf("%s warns:\n%s", strings.Join(cmd.Args, " "), stderr.String())
	}
}

func withoutVars(env []string, names ...string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		return slices.Contains(names, k)
	})
}

// TestServiceCommandsAccepted runs each Heartbeat service's command line,
// with its environment, against the real binary, with every URL that names
// a Compose service pointed at a closed local port. Exit code 1 with "not
// reachable" means flags and configuration were accepted and the binary got
// as far as dialling Redis; exit code 2 is a usage or configuration error.
func TestServiceCommandsAccepted(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	closed := closedAddr(t)
	paths := imagePaths(t, b)
	// Docker mounts each secret at /run/secrets/NAME: here, a file with a
	// stand-in value.
	secretDir := t.TempDir()
	for name := range b.compose.Secrets {
		f := filepath.Join(secretDir, name)
		if err := os.WriteFile(f, []byte("stand-in-"+name+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		paths["/run/secrets/"+name] = f
	}
	for name, s := range b.heartbeatServices(t, "") {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			bin, ok := binaries[s.Command[0]]
			if !ok {
				t.Fatalf("command %q: no such binary under cmd/", s.Command[0])
			}
			var args []string
			for _, a := range s.Command[1:] {
				args = append(args, b.hostArg(interpolate(a), paths, closed))
			}
			var env []string
			env = append(env, os.Environ()...)
			for k, v := range s.Environment {
				if secret, ok := strings.CutPrefix(v, "/run/secrets/"); ok && !slices.Contains(s.Secrets, secret) {
					t.Fatalf("service %s: %s names secret %s, which the service does not mount (secrets: %v)", name, k, secret, s.Secrets)
				}
				env = append(env, k+"="+b.hostArg(interpolate(v), paths, closed))
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, args...)
			cmd.Env = env
			cmd.Dir = t.TempDir() // the image's empty working directory
			cmd.WaitDelay = 5 * time.Second
			out, err := cmd.CombinedOutput()
			var exitErr *exec.ExitError
			if !errors.As(err, &exitErr) {
				t.Fatalf("%s %q: want exit code 1, got %v\n%s", s.Command[0], args, err, out)
			}
			if code := exitErr.ExitCode(); code != 1 || !bytes.Contains(out, []byte("not reachable")) {
				t.Fatalf("%s %q: want exit code 1 and \"not reachable\" (flags and config accepted), got exit code %d (2 is a usage or config error):\n%s",
					s.Command[0], args, code, out)
			}
			if s.Command[0] != "scheduler" && s.Command[0] != "worker" {
				return
			}
			// The service's healthcheck runs the same binary's healthcheck
			// (distroless has no shell or curl) and its flags are accepted:
			// exit 0 (something answers ready) or 1 (nothing ready), never 2.
			hc := s.Healthcheck
			if hc == nil || len(hc.Test) < 3 || hc.Test[0] != "CMD" || hc.Test[1] != s.Command[0] || hc.Test[2] != "healthcheck" {
				t.Fatalf("service %s: healthcheck %v, want [CMD, %s, healthcheck, ...]", name, hc, s.Command[0])
			}
			var hargs []string
			for _, a := range hc.Test[2:] {
				hargs = append(hargs, b.hostArg(interpolate(a), paths, closed))
			}
			hcmd := exec.CommandContext(ctx, bin, hargs...)
			hcmd.Env, hcmd.Dir, hcmd.WaitDelay = env, t.TempDir(), 5*time.Second
			hout, herr := hcmd.CombinedOutput()
			if errors.As(herr, &exitErr) && exitErr.ExitCode() != 1 {
				t.Fatalf("%s %q: exit code %d (2 is a usage or config error):\n%s", s.Command[0], hargs, exitErr.ExitCode(), hout)
			}
		})
	}
}

// closedAddr returns a local address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// imagePaths maps each path the Dockerfile copies from the build context
// into the image to the file in the repository.
func imagePaths(t *testing.T, b bundle) map[string]string {
	t.Helper()
	paths := map[string]string{}
	for _, f := range dockerInstructions(b.dockerfile, "COPY") {
		if slices.ContainsFunc(f, func(s string) bool { return strings.HasPrefix(s, "--from") }) {
			continue
		}
		f = slices.DeleteFunc(f, func(s string) bool { return strings.HasPrefix(s, "--") })
		if len(f) == 2 && filepath.IsAbs(f[1]) && !strings.HasSuffix(f[1], "/") {
			paths[f[1]] = filepath.Join(b.root, f[0])
		}
	}
	if len(paths) == 0 {
		t.Fatalf("%s: copies no file from the build context", dockerfilePath)
	}
	return paths
}

// hostArg turns a value from a service definition into its equivalent on
// this machine: an image path into the repository file, a URL to a Compose
// service into one to addr.
func (b bundle) hostArg(v string, paths map[string]string, addr string) string {
	if k, val, ok := strings.Cut(v, "="); ok && strings.HasPrefix(k, "-") {
		return k + "=" + b.hostArg(val, paths, addr)
	}
	if p, ok := paths[v]; ok {
		return p
	}
	if u, err := url.Parse(v); err == nil && u.Host != "" {
		if _, ok := b.compose.Services[u.Hostname()]; ok {
			u.Host = addr
			return u.String()
		}
	}
	return v
}

var varRef = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// interpolate expands ${VAR}, ${VAR:-default}, ${VAR-default}, $VAR and $$
// as Compose does.
func interpolate(s string) string {
	return varRef.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		g := varRef.FindStringSubmatch(m)
		name := g[1] + g[4]
		v, set := os.LookupEnv(name)
		switch {
		case g[2] == ":-" && v == "":
			return g[3]
		case g[2] == "-" && !set:
			return g[3]
		}
		return v
	})
}

// flagValue returns the value of a string flag in args (-name v, --name v,
// -name=v or --name=v).
func flagValue(args []string, name string) (string, bool) {
	for i, a := range args {
		trimmed := strings.TrimLeft(a, "-")
		if trimmed == a {
			continue
		}
		if k, v, ok := strings.Cut(trimmed, "="); ok && k == name {
			return v, true
		}
		if trimmed == name && i+1 < len(args) {
			return args[i+1], true
		}
	}
	return "", false
}

// dockerInstructions returns the arguments of each instruction of kind in
// a Dockerfile, continuation lines joined.
func dockerInstructions(dockerfile, kind string) [][]string {
	joined := strings.ReplaceAll(dockerfile, "\\\n", " ")
	var out [][]string
	for _, line := range strings.Split(joined, "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && strings.EqualFold(f[0], kind) {
			out = append(out, f[1:])
		}
	}
	return out
}

// TestDockerfile checks the image builds every command into /usr/local/bin,
// carries config.yaml and runs as a non-root user.
func TestDockerfile(t *testing.T) {
	t.Parallel()
	b := setup(t)
	names, err := commandNames(b.root)
	if err != nil {
		t.Fatal(err)
	}
	var build string
	for _, run := range dockerInstructions(b.dockerfile, "RUN") {
		if line := strings.Join(run, " "); strings.Contains(line, "go build") {
			build = line
		}
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", `-ldflags "-s -w`, "-X heartbeat/internal/buildinfo.version="} {
		if !strings.Contains(build, want) {
			t.Fatalf("%s: go build %q lacks %s", dockerfilePath, build, want)
		}
	}
	if hc := dockerInstructions(b.dockerfile, "HEALTHCHECK"); len(hc) != 1 || !strings.Contains(strings.Join(hc[0], " "), `CMD ["scheduler", "healthcheck"`) {
		t.Fatalf("%s: want a HEALTHCHECK running scheduler healthcheck, got %q", dockerfilePath, hc)
	}
	froms := dockerInstructions(b.dockerfile, "FROM")
	if len(froms) < 2 || !strings.HasPrefix(froms[0][0], "golang:1.26") {
		t.Fatalf("%s: want a golang:1.26 build stage and a final stage, got FROM %q", dockerfilePath, froms)
	}
	final := b.dockerfile[strings.LastIndex(b.dockerfile, "\nFROM "):]
	var copied []string
	for _, f := range dockerInstructions(final, "COPY") {
		if len(f) > 1 && slices.Contains(f, "--from=build") && f[len(f)-1] == "/usr/local/bin/" {
			for _, src := range f[:len(f)-1] {
				if !strings.HasPrefix(src, "--") {
					copied = append(copied, filepath.Base(src))
				}
			}
		}
	}
	for _, n := range names {
		if !strings.Contains(build, "./cmd/"+n) {
			t.Fatalf("%s: go build %q does not build ./cmd/%s", dockerfilePath, build, n)
		}
		if !slices.Contains(copied, n) {
			t.Fatalf("%s: final stage does not copy %s into /usr/local/bin/ (copies %q)", dockerfilePath, n, copied)
		}
	}
	for _, c := range copied {
		if !slices.Contains(names, c) {
			t.Fatalf("%s: copies %s, which is not a command under cmd/", dockerfilePath, c)
		}
	}
	for name, s := range b.heartbeatServices(t, "") {
		if !slices.Contains(names, s.Command[0]) {
			t.Fatalf("service %s runs %q, which is not a command under cmd/", name, s.Command[0])
		}
	}
	if p := imagePaths(t, b)["/etc/heartbeat/config.yaml"]; p != filepath.Join(b.root, configPath) {
		t.Fatalf("%s: want config.yaml copied to /etc/heartbeat/config.yaml", dockerfilePath)
	}
	users := dockerInstructions(final, "USER")
	base := froms[len(froms)-1][0]
	nonroot := strings.HasSuffix(base, ":nonroot")
	if len(users) > 0 {
		u := users[len(users)-1][0]
		nonroot = u != "root" && u != "0" && !strings.HasPrefix(u, "0:") && !strings.HasPrefix(u, "root:")
	}
	if !nonroot {
		t.Fatalf("%s: final stage (%s, USER %q) runs as root", dockerfilePath, base, users)
	}
	var exposed []string
	for _, f := range dockerInstructions(final, "EXPOSE") {
		exposed = append(exposed, f...)
	}
	for _, port := range []string{b.port(t, b.cfg.Scheduler.HTTP), b.port(t, b.cfg.Worker.HTTP)} {
		if !slices.Contains(exposed, port) {
			t.Fatalf("%s: EXPOSE %q lacks %s", dockerfilePath, exposed, port)
		}
	}
}

// port returns the port of a listen address such as ":8080".
func (b bundle) port(t *testing.T, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		t.Fatalf("listen address %q: %v", addr, err)
	}
	return port
}

// httpPort is the port a Heartbeat service serves /metrics on.
func (b bundle) httpPort(t *testing.T, s service) string {
	t.Helper()
	addr := b.cfg.Worker.HTTP
	envKey := "HEARTBEAT_WORKER_HTTP"
	if s.binary() == "scheduler" {
		addr, envKey = b.cfg.Scheduler.HTTP, "HEARTBEAT_SCHEDULER_HTTP"
	}
	if v, ok := s.Environment[envKey]; ok {
		addr = interpolate(v)
	}
	if v, ok := flagValue(s.Command[1:], "http"); ok {
		addr = v
	}
	return b.port(t, addr)
}

// TestComposeServices checks the service definitions: scalable workers,
// two scheduler replicas, graceful stops, healthy dependencies.
func TestComposeServices(t *testing.T) {
	t.Parallel()
	b := setup(t)

	for name, s := range b.heartbeatServices(t, "worker") {
		if s.ContainerName != "" || len(s.Ports) > 0 {
			t.Fatalf("service %s: container_name %q and ports %v prevent --scale %s=4", name, s.ContainerName, s.Ports, name)
		}
	}

	replicas := map[string]string{}
	for name, s := range b.heartbeatServices(t, "scheduler") {
		if _, ok := flagValue(s.Command[1:], "embedded"); ok || slices.Contains(s.Command, "--embedded") {
			t.Fatalf("service %s: --embedded runs on an in-memory Redis", name)
		}
		if s.Deploy != nil && s.Deploy.Replicas != nil {
			t.Fatalf("service %s: deploy.replicas is ignored by docker-compose v1; use one service per replica", name)
		}
		r, ok := flagValue(s.Command[1:], "replica")
		if !ok {
			t.Fatalf("service %s: no --replica", name)
		}
		if other, dup := replicas[r]; dup {
			t.Fatalf("services %s and %s are both replica %q", other, name, r)
		}
		replicas[r] = name
	}
	if len(replicas) < 2 {
		t.Fatalf("want at least 2 scheduler replicas, got %v", replicas)
	}

	minGrace := max(minGracePeriod, b.cfg.Worker.ShutdownTimeout+time.Second)
	for name, s := range b.heartbeatServices(t, "") {
		grace, err := time.ParseDuration(s.StopGracePeriod)
		if err != nil || grace < minGrace {
			t.Fatalf("service %s: stop_grace_period %q: want at least %s (worker.shutdown_timeout %s)", name, s.StopGracePeriod, minGrace, b.cfg.Worker.ShutdownTimeout)
		}
		redisURL, err := url.Parse(interpolate(s.Environment["HEARTBEAT_REDIS_URL"]))
		if err != nil || redisURL.Scheme != "redis" {
			t.Fatalf("service %s: HEARTBEAT_REDIS_URL %q: want redis://SERVICE:6379/0", name, s.Environment["HEARTBEAT_REDIS_URL"])
		}
		for _, dep := range []string{redisURL.Hostname(), "postgres"} {
			if dep == "postgres" && s.binary() == "feed" {
				continue
			}
			if cond := s.DependsOn[dep]; cond != "service_healthy" {
				t.Fatalf("service %s: depends_on %s with condition %q, want service_healthy", name, dep, cond)
			}
			if d, ok := b.compose.Services[dep]; !ok || d.Healthcheck == nil || len(d.Healthcheck.Test) == 0 {
				t.Fatalf("service %s: dependency %s is missing or has no healthcheck", name, dep)
			}
		}
		if s.binary() != "feed" {
			pg, err := url.Parse(interpolate(s.Environment["HEARTBEAT_STORE_POSTGRES_URL"]))
			if err != nil || !strings.HasPrefix(pg.Scheme, "postgres") || pg.Hostname() != "postgres" {
				t.Fatalf("service %s: HEARTBEAT_STORE_POSTGRES_URL %q: want postgres://...@postgres:5432/heartbeat", name, s.Environment["HEARTBEAT_STORE_POSTGRES_URL"])
			}
		}
	}

	redis := b.compose.Services["redis"]
	if cmd := strings.Join(redis.Command, " "); !strings.HasPrefix(redis.Image, "redis:7") || !strings.Contains(cmd, "--appendonly yes") ||
		!strings.Contains(cmd, "--aclfile") || len(redis.Volumes) == 0 {
		t.Fatalf("service redis: want redis:7 with --appendonly yes and a volume, got image %q command %q volumes %q", redis.Image, redis.Command, redis.Volumes)
	}
	pg := b.compose.Services["postgres"]
	if !strings.HasPrefix(pg.Image, "postgres:16") || pg.Environment["POSTGRES_DB"] != "heartbeat" || len(pg.Volumes) == 0 {
		t.Fatalf("service postgres: want postgres:16, POSTGRES_DB heartbeat and a volume, got image %q env %v volumes %q", pg.Image, pg.Environment, pg.Volumes)
	}
}

// mountOf returns the container path where service s mounts the
// repository file or directory rel.
func (b bundle) mountOf(t *testing.T, name, rel string) string {
	t.Helper()
	for _, v := range b.compose.Services[name].Volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 && filepath.Clean(parts[0]) == filepath.Clean("./"+rel) {
			return parts[1]
		}
	}
	t.Fatalf("service %s does not mount ./%s", name, rel)
	return ""
}

// prometheusConfig is the part of prometheus.yml the tests read.
type prometheusConfig struct {
	ScrapeConfigs []struct {
		JobName     string `yaml:"job_name"`
		HonorLabels bool   `yaml:"honor_labels"`
		DNSSD       []struct {
			Names []string `yaml:"names"`
			Type  string   `yaml:"type"`
			Port  int      `yaml:"port"`
		} `yaml:"dns_sd_configs"`
	} `yaml:"scrape_configs"`
}

// TestPrometheusScrapesHeartbeat checks that every scheduler and worker
// service is found by DNS service discovery on its metrics port, so that
// scaled workers are scraped too.
func TestPrometheusScrapesHeartbeat(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var prom prometheusConfig
	if err := yaml.Unmarshal(readFile(t, b.root, prometheusPath), &prom); err != nil {
		t.Fatalf("%s: %v", prometheusPath, err)
	}
	mounted := b.mountOf(t, "prometheus", prometheusPath)
	if !slices.Contains(b.compose.Services["prometheus"].Command, "--config.file="+mounted) {
		t.Fatalf("service prometheus: mounts %s at %s but does not pass --config.file=%s", prometheusPath, mounted, mounted)
	}
	for _, bin := range []string{"scheduler", "worker"} {
		for name, s := range b.heartbeatServices(t, bin) {
			port := b.httpPort(t, s)
			found := false
			for _, sc := range prom.ScrapeConfigs {
				for _, sd := range sc.DNSSD {
					if strconv.Itoa(sd.Port) != port || (sd.Type != "" && sd.Type != "A") {
						continue
					}
					if slices.ContainsFunc(sd.Names, func(n string) bool { return slices.Contains(s.names(name), n) }) {
						// Heartbeat's metrics name their job in hb_job, so
						// the scrape job keeps `job` and needs no honor_labels.
						if sc.HonorLabels {
							t.Fatalf("%s: scrape job %s sets honor_labels: Heartbeat's series must not override the target's labels", prometheusPath, sc.JobName)
						}
						found = true
					}
				}
			}
			if !found {
				t.Fatalf("%s: no dns_sd_configs (type A) finds service %s (names %q) on port %s", prometheusPath, name, s.names(name), port)
			}
		}
	}
}

// TestGrafanaDashboard checks the provisioning files and that the
// dashboard's queries use only metrics Heartbeat defines.
func TestGrafanaDashboard(t *testing.T) {
	t.Parallel()
	b := setup(t)

	var ds struct {
		Datasources []struct {
			UID  string `yaml:"uid"`
			Type string `yaml:"type"`
			URL  string `yaml:"url"`
		} `yaml:"datasources"`
	}
	if err := yaml.Unmarshal(readFile(t, b.root, datasourcePath), &ds); err != nil {
		t.Fatalf("%s: %v", datasourcePath, err)
	}
	if len(ds.Datasources) != 1 || ds.Datasources[0].Type != "prometheus" {
		t.Fatalf("%s: want one prometheus data source, got %+v", datasourcePath, ds.Datasources)
	}
	uid := ds.Datasources[0].UID
	if u, err := url.Parse(ds.Datasources[0].URL); err != nil || b.compose.Services[u.Hostname()].Image == "" {
		t.Fatalf("%s: url %q does not name a Compose service", datasourcePath, ds.Datasources[0].URL)
	}

	var provider struct {
		Providers []struct {
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	if err := yaml.Unmarshal(readFile(t, b.root, providerPath), &provider); err != nil {
		t.Fatalf("%s: %v", providerPath, err)
	}
	dashDir := b.mountOf(t, "grafana", filepath.Dir(dashboardPath))
	if len(provider.Providers) != 1 || provider.Providers[0].Options.Path != dashDir {
		t.Fatalf("%s: want one provider reading %s (where grafana mounts %s), got %+v", providerPath, dashDir, filepath.Dir(dashboardPath), provider.Providers)
	}
	b.mountOf(t, "grafana", "deploy/grafana/provisioning")

	var dash struct {
		UID        string          `json:"uid"`
		Panels     []panel         `json:"panels"`
		Templating json.RawMessage `json:"templating"`
	}
	raw := readFile(t, b.root, dashboardPath)
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("%s: %v", dashboardPath, err)
	}
	if dash.UID == "" || len(dash.Panels) == 0 {
		t.Fatalf("%s: want a uid and panels", dashboardPath)
	}
	var exprs []string
	for _, p := range dash.Panels {
		if p.Datasource.UID != uid {
			t.Fatalf("%s: panel %q uses data source %q, want %q", dashboardPath, p.Title, p.Datasource.UID, uid)
		}
		if len(p.Targets) == 0 {
			t.Fatalf("%s: panel %q has no query", dashboardPath, p.Title)
		}
		for _, q := range p.Targets {
			if strings.TrimSpace(q.Expr) == "" {
				t.Fatalf("%s: panel %q has an empty query", dashboardPath, p.Title)
			}
			exprs = append(exprs, q.Expr)
		}
	}
	exprs = append(exprs, string(dash.Templating))

	known := metricNames(t, b.root)
	used := map[string]bool{}
	for _, e := range exprs {
		for _, m := range regexp.MustCompile(`heartbeat_[a-z0-9_]+`).FindAllString(e, -1) {
			base, ok := known.resolve(m)
			if !ok {
				t.Fatalf("%s: query uses %s, which %s does not define: %s", dashboardPath, m, metricsPath, e)
			}
			used[base] = true
		}
	}
	for _, want := range []string{"heartbeat_start_lag_seconds", "heartbeat_slots_total", "heartbeat_run_duration_seconds",
		"heartbeat_ticks_total", "heartbeat_dead_letters_total", "heartbeat_scheduler_leader", "heartbeat_scheduler_term"} {
		if !used[want] {
			t.Fatalf("%s: no panel shows %s", dashboardPath, want)
		}
	}
}

type panel struct {
	Title      string `json:"title"`
	Datasource struct {
		UID string `json:"uid"`
	} `json:"datasource"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
}

// metrics maps each metric name defined in metrics.go to its kind
// (Counter, Gauge, Histogram, Summary).
type metrics map[string]string

var metricDef = regexp.MustCompile(`prometheus\.New(Counter|Gauge|Histogram|Summary)(?:Vec)?\(\s*prometheus\.\w+Opts\{\s*Name:\s*"(\w+)"`)

func metricNames(t *testing.T, root string) metrics {
	t.Helper()
	m := metrics{}
	for _, g := range metricDef.FindAllStringSubmatch(string(readFile(t, root, metricsPath)), -1) {
		m[g[2]] = g[1]
	}
	if len(m) == 0 {
		t.Fatalf("%s: found no metric definitions", metricsPath)
	}
	return m
}

// resolve returns the metric a series name belongs to: the name itself, or
// a histogram's or summary's _bucket, _sum or _count series.
func (m metrics) resolve(series string) (string, bool) {
	if _, ok := m[series]; ok {
		return series, true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(series, suffix)
		if !ok {
			continue
		}
		if kind := m[base]; kind == "Histogram" || (kind == "Summary" && suffix != "_bucket") {
			return base, true
		}
	}
	return "", false
}

// haURL is the sentinel-mode redis.url docs/DEPLOY.md gives for the ha
// profile.
var haURL = regexp.MustCompile(`HEARTBEAT_REDIS_URL=(redis://sentinel-1\S+)`)

// TestComposeHAProfile checks the ha profile: two replicas of redis and
// three sentinels monitoring it, and that the sentinel-mode URL of
// docs/DEPLOY.md names those sentinels and the monitored master.
func TestComposeHAProfile(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sentinels := map[string]bool{}
	var monitor string
	for name, s := range b.compose.Services {
		if !slices.Contains(s.Profiles, "ha") {
			continue
		}
		if s.Healthcheck == nil || s.DependsOn["redis"] != "service_healthy" {
			t.Errorf("service %s: want a healthcheck and depends_on redis service_healthy", name)
		}
		switch {
		case strings.HasPrefix(name, "redis-replica-"):
			if cmd := strings.Join(s.Command, " "); !strings.Contains(cmd, "--replicaof redis 6379") || !strings.Contains(cmd, "--replica-announce-ip "+name) ||
				!strings.Contains(cmd, "--aclfile") || !strings.Contains(cmd, "--masterauth") || len(s.Volumes) == 0 {
				t.Errorf("service %s: want --replicaof redis 6379, --replica-announce-ip %s and a volume, got %q", name, name, s.Command)
			}
		case strings.HasPrefix(name, "sentinel-"):
			if s.Hostname != name {
				t.Errorf("service %s: hostname %q, want %q (it announces its hostname)", name, s.Hostname, name)
			}
			sentinels[name] = true
			monitor = strings.Join(s.Command, " ")
		default:
			t.Errorf("service %s in profile ha is neither a replica nor a sentinel", name)
		}
	}
	if len(sentinels) != 3 {
		t.Fatalf("profile ha has sentinels %v, want 3", sentinels)
	}
	m := regexp.MustCompile(`sentinel monitor (\S+) redis 6379 2`).FindStringSubmatch(monitor)
	if m == nil {
		t.Fatalf("the sentinels do not monitor redis:6379 with quorum 2: %s", monitor)
	}
	doc := haURL.FindStringSubmatch(string(readFile(t, b.root, "docs/DEPLOY.md")))
	if doc == nil {
		t.Fatal("docs/DEPLOY.md gives no HEARTBEAT_REDIS_URL=redis://sentinel-1...")
	}
	parsed, err := config.ParseRedisURL(config.RedisSentinel, doc[1])
	if err != nil {
		t.Fatalf("docs/DEPLOY.md's URL %s: %v", doc[1], err)
	}
	if parsed.Failover.MasterName != m[1] {
		t.Errorf("the URL names master %q, the sentinels monitor %q", parsed.Failover.MasterName, m[1])
	}
	for _, addr := range parsed.Failover.SentinelAddrs {
		host, port, _ := net.SplitHostPort(addr)
		if !sentinels[host] || port != "26379" {
			t.Errorf("the URL's sentinel %s is not a sentinel service on 26379", addr)
		}
		delete(sentinels, host)
	}
	if len(sentinels) > 0 {
		t.Errorf("the URL leaves out sentinels %v", sentinels)
	}
}

// TestComposeSentinelScript runs the sentinels' start-up script of the ha
// profile against a local redis-server (the master's name and port
// swapped for it): the sentinel it starts must report the master.
func TestComposeSentinelScript(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var script string
	for name, s := range b.compose.Services {
		if strings.HasPrefix(name, "sentinel-") && len(s.Command) == 3 && s.Command[0] == "sh" {
			script = s.Command[2]
		}
	}
	if script == "" {
		t.Fatal("no sentinel service runs sh -c SCRIPT")
	}
	master := testinfra.StartRedis(t)
	port := testinfra.FreePort(t)
	dir := t.TempDir()
	secret := filepath.Join(dir, "redis_admin_password")
	if err := os.WriteFile(secret, []byte("stand-in\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	script = strings.NewReplacer("$$", "$", "heartbeat redis 6379", "heartbeat 127.0.0.1 "+strconv.Itoa(master.Port),
		"'port 26379'", "'port "+strconv.Itoa(port)+"'", "/tmp/sentinel.conf", filepath.Join(dir, "sentinel.conf"),
		"/run/secrets/redis_admin_password", secret).Replace(script)
	cmd := exec.Command("sh", "-c", script)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	c := redis.NewSentinelClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port), MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		addr, err := c.GetMasterAddrByName(ctx, "heartbeat").Result()
		cancel()
		if err == nil && len(addr) == 2 && addr[1] == strconv.Itoa(master.Port) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sentinel script's sentinel did not report the master: %v %v\n%s", addr, err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestImagesPinned: every third-party image names an exact version, so a
// deploy does not change under the operator's feet.
func TestImagesPinned(t *testing.T) {
	t.Parallel()
	b := setup(t)
	pinned := regexp.MustCompile(`^[a-z0-9./_-]+:v?\d+\.\d+(\.\d+)?[a-z0-9.-]*$`)
	for name, s := range b.compose.Services {
		if s.Image == "" || strings.HasPrefix(s.Image, "heartbeat:") { // built from this repository
			continue
		}
		if !pinned.MatchString(s.Image) {
			t.Errorf("service %s: image %q is not pinned to an exact version", name, s.Image)
		}
	}
}

// TestComposeSecrets: every password and token comes from a Docker secret
// file: none is in an environment variable or a command line, and every
// secret a service names is defined.
func TestComposeSecrets(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for name, s := range b.compose.Services {
		for k, v := range s.Environment {
			upper := strings.ToUpper(k)
			if (strings.Contains(upper, "PASSWORD") || strings.Contains(upper, "TOKEN")) && !strings.HasSuffix(upper, "_FILE") && !strings.HasSuffix(upper, "__FILE") {
				t.Errorf("service %s: %s=%q: a secret in the environment (use a *_FILE variable and a Docker secret)", name, k, v)
			}
			if u, err := url.Parse(interpolate(v)); err == nil && u.User != nil {
				if _, has := u.User.Password(); has {
					t.Errorf("service %s: %s holds a URL with a password", name, k)
				}
			}
		}
		if cmd := strings.Join(s.Command, " "); strings.Contains(cmd, "--requirepass") {
			t.Errorf("service %s: a password on the command line", name)
		}
		for _, sec := range s.Secrets {
			if _, ok := b.compose.Secrets[sec]; !ok {
				t.Errorf("service %s: secret %s is not defined", name, sec)
			}
		}
	}
	for _, want := range []string{"http_token", "postgres_password", "grafana_admin_password", "redis_feed_password", "redis_admin_password"} {
		if f := b.compose.Secrets[want].File; !strings.HasPrefix(f, "./deploy/secrets/") {
			t.Errorf("secret %s: file %q, want ./deploy/secrets/%s (written by make secrets)", want, f, want)
		}
	}
}

// TestComposeRedisScript runs the redis service's start script (rendering
// the ACL file from the secrets, then redis-server) on a free port: no
// anonymous access, each role's user authenticates with its secret, and
// the feed's user cannot take the lease.
func TestComposeRedisScript(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s := b.compose.Services["redis"]
	if len(s.Command) != 3 || s.Command[0] != "sh" {
		t.Fatalf("service redis: want sh -c SCRIPT, got %q", s.Command)
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server is not installed")
		}
		t.Skip("redis-server is not installed")
	}
	dir := t.TempDir()
	secrets := filepath.Join(dir, "secrets")
	if err := os.Mkdir(secrets, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, sec := range s.Secrets {
		if err := os.WriteFile(filepath.Join(secrets, sec), []byte("pw-"+sec+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	port := testinfra.FreePort(t)
	script := strings.NewReplacer("$$", "$", "/etc/heartbeat-redis", filepath.Join(b.root, "deploy", "redis"), "/data/", dir+"/",
		"/run/secrets", secrets, "exec redis-server ", fmt.Sprintf("exec redis-server --port %d --bind 127.0.0.1 --dir %s --save '' ", port, dir)).Replace(s.Command[2])
	cmd := exec.Command("sh", "-c", script)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := "127.0.0.1:" + strconv.Itoa(port)
	as := func(user string) *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: addr, Username: user, Password: "pw-redis_" + user + "_password", MaxRetries: -1})
		t.Cleanup(func() { c.Close() })
		return c
	}
	ctx := context.Background()
	status := as("status")
	deadline := time.Now().Add(10 * time.Second)
	for status.Ping(ctx).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("the redis service's script did not serve: %v\n%s", status.Ping(ctx).Err(), out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, user := range []string{"feed", "worker", "scheduler", "admin"} {
		if err := as(user).Ping(ctx).Err(); err != nil {
			t.Errorf("user %s: %v", user, err)
		}
	}
	if err := as("feed").Set(ctx, "hb:{scheduler}:lease", "x", 0).Err(); err == nil || !strings.Contains(err.Error(), "NOPERM") {
		t.Errorf("feed user SET the lease: %v, want NOPERM", err)
	}
	anon := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer anon.Close()
	if err := anon.Ping(ctx).Err(); err == nil {
		t.Error("anonymous access")
	}
	acl, _ := os.ReadFile(filepath.Join(dir, "users.acl"))
	if strings.Contains(string(acl), "pw-redis_") {
		t.Error("the rendered ACL file holds a password in clear")
	}
}
