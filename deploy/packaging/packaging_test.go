package packaging

import (
	"bufio"
	"bytes"
	"debug/buildinfo"
	"debug/elf"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"seatlink/internal/config"
)

// The pinned tools and schema sources, all from the Go module proxy.
const (
	kubeconformVersion = "v0.8.0"
	kustomizeVersion   = "v5.8.1" // v5.8.3 needs Go 1.27
	// Kubernetes' OpenAPI document: the oldest minor this validates for.
	kubernetesVersion = "v1.34.4"
	// The ServiceMonitor CRD.
	prometheusOperatorVersion = "v0.85.0"
)

var root = filepath.Join("..", "..")

// need fails under CI (a missing tool is a failure there) and skips elsewhere.
func need(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("CI: "+format, args...)
	}
	t.Skipf(format+" (a failure under CI=true)", args...)
}

func cacheDir() string {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "seatlink")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "seatlink")
}

// goTool installs pkg@version once per machine into the cache and returns
// the binary.
func goTool(t *testing.T, pkg, version string) string {
	t.Helper()
	name := filepath.Base(pkg)
	if regexp.MustCompile(`^v\d+$`).MatchString(name) {
		name = filepath.Base(filepath.Dir(pkg))
	}
	dir := filepath.Join(cacheDir(), "tools", name+"-"+version)
	bin := filepath.Join(dir, name)
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	t.Logf("installing %s@%s with go install (once per machine)", pkg, version)
	cmd := exec.Command("go", "install", pkg+"@"+version)
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		need(t, "go install %s@%s: %v\n%s", pkg, version, err, out)
	}
	return bin
}

// moduleDir downloads a module (once; the module cache keeps it) and
// returns its folder.
func moduleDir(t *testing.T, modVersion string) string {
	t.Helper()
	cmd := exec.Command("go", "mod", "download", "-json", modVersion)
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOFLAGS=")
	out, err := cmd.Output()
	var m struct{ Dir, Error string }
	_ = json.Unmarshal(out, &m)
	if err != nil || m.Dir == "" {
		need(t, "go mod download %s: %v %s", modVersion, err, m.Error)
	}
	return m.Dir
}

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// built runs deploy/build.sh, the Dockerfile's own build step.
func built(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "seatlink-packaging-")
		if buildErr != nil {
			return
		}
		cmd := exec.Command("sh", filepath.Join(root, "deploy", "build.sh"), buildDir)
		cmd.Env = append(os.Environ(), "GOFLAGS=")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("deploy/build.sh: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildDir
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// The Dockerfile builds with deploy/build.sh; the binaries are what it
// promises: static, no cgo, trimmed paths, the time-zone database inside.
func TestBinaryIsBuiltAsTheImageBuildsIt(t *testing.T) {
	df := read(t, root, "Dockerfile")
	if !strings.Contains(df, "sh deploy/build.sh /out") {
		t.Fatal("the Dockerfile no longer builds with deploy/build.sh: this test would not check what the image holds")
	}
	dir := built(t)
	for _, name := range []string{"seatlink", "seatlink-healthcheck"} {
		if !strings.Contains(df, "/out/"+name) {
			t.Errorf("the Dockerfile does not copy %s into the image", name)
		}
		p := filepath.Join(dir, name)
		bi, err := buildinfo.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		settings := map[string]string{}
		for _, s := range bi.Settings {
			settings[s.Key] = s.Value
		}
		// (-trimpath leaves -ldflags out of the record: the stripped
		// symbol table below shows -s.)
		for k, v := range map[string]string{"CGO_ENABLED": "0", "-trimpath": "true", "-tags": "timetzdata"} {
			if settings[k] != v {
				t.Errorf("%s: build setting %s = %q, want %q", name, k, settings[k], v)
			}
		}
		if _, ok := settings["vcs.revision"]; ok {
			t.Errorf("%s carries a VCS stamp: the image (no .git in its context) would differ", name)
		}
		f, err := elf.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		if f.Section(".symtab") != nil {
			t.Errorf("%s keeps its symbol table: not built with -ldflags -s", name)
		}
		for _, prog := range f.Progs {
			if prog.Type == elf.PT_INTERP {
				t.Errorf("%s is dynamically linked: distroless/static has no libc", name)
			}
		}
		f.Close()
	}
}

// The image's binary with the image's settings (addresses moved to free
// loopback ports): it starts, the HEALTHCHECK command passes, /readyz turns
// 503 at SIGTERM and the process ends well within its grace.
func TestImageBinaryStartsAnswersHealthcheckAndDrains(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the image is Linux")
	}
	dir := built(t)
	env := dockerfileEnv(t)
	httpAddr, metricsAddr, mediaAddr := freeTCP(t), freeTCP(t), freeUDPAndTCP(t)
	env["SEATLINK_HTTP_ADDR"] = httpAddr
	env["SEATLINK_METRICS_ADDR"] = metricsAddr
	env["SEATLINK_MEDIA_UDP"] = mediaAddr
	env["SEATLINK_MEDIA_TCP"] = mediaAddr
	env["SEATLINK_DATA_DIR"] = t.TempDir()
	env["SEATLINK_SHUTDOWN_GRACE"] = "25s"
	environ := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	var logs bytes.Buffer
	srv := exec.Command(filepath.Join(dir, "seatlink"), "serve")
	srv.Env, srv.Stdout, srv.Stderr = environ, &logs, &logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait() }()
	defer func() {
		_ = srv.Process.Kill()
		if t.Failed() {
			t.Logf("serve's log:\n%s", logs.String())
		}
	}()
	health := func(args ...string) error {
		c := exec.Command(filepath.Join(dir, "seatlink-healthcheck"), args...)
		c.Env = environ
		out, err := c.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if err := health("-path", "/readyz"); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("not ready within 60 s: %v", err)
		}
		select {
		case err := <-exited:
			t.Fatalf("serve exited at start: %v", err)
		case <-time.After(200 * time.Millisecond):
		}
	}
	if err := health(); err != nil {
		t.Fatalf("the HEALTHCHECK command fails on a live server: %v", err)
	}
	if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("serve ended with %v after SIGTERM", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve still running 30 s after SIGTERM (grace 25 s)")
	}
	t.Logf("drained and stopped %v after SIGTERM (no sessions open)", time.Since(start).Round(time.Millisecond))
	if err := health(); err == nil {
		t.Error("the HEALTHCHECK passes with the server gone")
	}
}

// The compose file matches the Compose Specification's schema, and that
// schema is strict enough to catch a misspelt key.
func TestComposeFileMatchesTheComposeSpec(t *testing.T) {
	c := jsonschema.NewCompiler()
	specPath := filepath.Join(root, "deploy", "compose", "schema", "compose-spec.json")
	spec, err := jsonschema.UnmarshalJSON(strings.NewReader(read(t, specPath)))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource("compose-spec.json", spec); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile("compose-spec.json")
	if err != nil {
		t.Fatal(err)
	}
	doc := composeDoc(t)
	if err := schema.Validate(doc); err != nil {
		t.Fatalf("deploy/compose/compose.yaml: %v", err)
	}
	bad := composeDoc(t)
	bad.(map[string]any)["services"].(map[string]any)["seatlink-1"].(map[string]any)["stop_grace_perod"] = "40s"
	if err := schema.Validate(bad); err == nil {
		t.Fatal("the schema took a misspelt service key: it checks nothing")
	}
}

// Every SEATLINK_* name in the deployment files is a serve setting and
// serve accepts every value (with the examples' placeholders filled in);
// every stop timeout is longer than the drain it waits for.
func TestEverySettingIsAServeSetting(t *testing.T) {
	known := map[string]bool{}
	_, fs, _ := config.LoadServe(nil, nil)
	fs.VisitAll(func(f *flag.Flag) { known[config.EnvName(f.Name)] = true })
	if len(known) < 20 {
		t.Fatalf("only %d serve settings found", len(known))
	}
	check := func(where string, env map[string]string) config.Serve {
		t.Helper()
		var environ []string
		for k, v := range env {
			if strings.HasPrefix(k, "SEATLINK_") && !known[k] {
				t.Errorf("%s: %s is not a serve setting (serve refuses to start with it)", where, k)
			}
			environ = append(environ, k+"="+v)
		}
		sort.Strings(environ)
		cfg, _, err := config.LoadServe(nil, environ)
		if err != nil {
			t.Errorf("%s: serve refuses these settings: %v", where, err)
		}
		return cfg
	}
	// The harness itself: a wrong name is caught (split, so the
	// repository-wide name check does not flag it).
	if _, _, err := config.LoadServe(nil, []string{"SEATLINK_" + "HTTP_ADRR=:8080"}); err == nil {
		t.Fatal("LoadServe took an unknown SEATLINK_ name")
	}

	image := dockerfileEnv(t)
	img := check("Dockerfile ENV", image)
	if img.ShutdownGrace > 10*time.Second {
		t.Errorf("the image's drain (%v) is longer than docker stop's default 10 s", img.ShutdownGrace)
	}

	// compose: the image's settings under each node's environment.
	dotenv := envFile(t, filepath.Join(root, "deploy", "compose", ".env.example"))
	doc := composeDoc(t).(map[string]any)
	nodes := 0
	for name, s := range doc["services"].(map[string]any) {
		svc := s.(map[string]any)
		if !strings.HasPrefix(name, "seatlink") {
			continue
		}
		nodes++
		env := copyMap(image)
		for k, v := range svc["environment"].(map[string]any) {
			env[k] = interpolate(t, fmt.Sprint(v), dotenv)
		}
		cfg := check("compose "+name, env)
		stop, err := time.ParseDuration(fmt.Sprint(svc["stop_grace_period"]))
		if err != nil || stop <= cfg.ShutdownGrace+5*time.Second {
			t.Errorf("compose %s: stop_grace_period %v must exceed SEATLINK_SHUTDOWN_GRACE %v by a margin", name, svc["stop_grace_period"], cfg.ShutdownGrace)
		}
		// Media: published on the same port it listens on.
		_, port, _ := net.SplitHostPort(cfg.MediaUDPAddr)
		if !containsString(svc["ports"], port+":"+port+"/udp") {
			t.Errorf("compose %s: media UDP %s is not published as %s:%s/udp", name, cfg.MediaUDPAddr, port, port)
		}
	}
	if nodes != 2 {
		t.Errorf("compose: %d Seatlink nodes, want 2", nodes)
	}

	// Kubernetes: base ConfigMap, the overlay's patch, the Secret's example
	// and the container's own env (the node IP filled in).
	k8s := map[string]string{}
	for _, p := range []string{"base/configmap.yaml", "overlays/example/config.yaml"} {
		var cm struct{ Data map[string]string }
		yamlFile(t, filepath.Join(root, "deploy", "kubernetes", p), &cm)
		for k, v := range cm.Data {
			k8s[k] = v
		}
	}
	for k, v := range envFile(t, filepath.Join(root, "deploy", "kubernetes", "overlays", "example", "secrets.env.example")) {
		k8s[k] = v
	}
	var sts struct {
		Spec struct {
			Template struct {
				Spec struct {
					TerminationGracePeriodSeconds int `yaml:"terminationGracePeriodSeconds"`
					Containers                    []struct {
						Env []struct {
							Name, Value string
						}
						Lifecycle struct {
							PreStop struct {
								Sleep struct{ Seconds int }
							} `yaml:"preStop"`
						}
					}
				}
			}
		}
	}
	yamlFile(t, filepath.Join(root, "deploy", "kubernetes", "base", "statefulset.yaml"), &sts)
	pod := sts.Spec.Template.Spec
	for _, e := range pod.Containers[0].Env {
		k8s[e.Name] = strings.ReplaceAll(e.Value, "$(NODE_IP)", "192.0.2.10")
	}
	cfg := check("kubernetes ConfigMap+Secret+env", k8s)
	drain := time.Duration(pod.Containers[0].Lifecycle.PreStop.Sleep.Seconds)*time.Second + cfg.ShutdownGrace
	if grace := time.Duration(pod.TerminationGracePeriodSeconds) * time.Second; grace <= drain+5*time.Second {
		t.Errorf("kubernetes: terminationGracePeriodSeconds %v must exceed preStop + SEATLINK_SHUTDOWN_GRACE (%v) by a margin", grace, drain)
	}

	// systemd: the unit's Environment= and the environment file's example.
	unit := read(t, root, "deploy", "systemd", "seatlink.service")
	sd := envFile(t, filepath.Join(root, "deploy", "systemd", "seatlink.env.example"))
	var stopSec time.Duration
	for _, line := range strings.Split(unit, "\n") {
		if v, ok := strings.CutPrefix(line, "Environment="); ok {
			for _, kv := range strings.Fields(v) {
				k, v, _ := strings.Cut(kv, "=")
				sd[k] = v
			}
		}
		if v, ok := strings.CutPrefix(line, "TimeoutStopSec="); ok {
			n, _ := strconv.Atoi(v)
			stopSec = time.Duration(n) * time.Second
		}
	}
	sdCfg := check("systemd seatlink.service + seatlink.env.example", sd)
	if stopSec <= sdCfg.ShutdownGrace+5*time.Second {
		t.Errorf("systemd: TimeoutStopSec %v must exceed SEATLINK_SHUTDOWN_GRACE %v by a margin", stopSec, sdCfg.ShutdownGrace)
	}
}

// The example overlay, built with kustomize, passes kubeconform -strict
// against Kubernetes' own schemas; the pod keeps to the hardening it
// promises; a misspelt field is caught.
func TestKubernetesManifests(t *testing.T) {
	kustomize := goTool(t, "sigs.k8s.io/kustomize/kustomize/v5", kustomizeVersion)
	kubeconform := goTool(t, "github.com/yannh/kubeconform/cmd/kubeconform", kubeconformVersion)
	k8sDir := moduleDir(t, "k8s.io/kubernetes@"+kubernetesVersion)
	poDir := moduleDir(t, "github.com/prometheus-operator/prometheus-operator@"+prometheusOperatorVersion)

	// A copy, with the Secret's example as the secrets.env an LA writes.
	work := t.TempDir()
	copyTree(t, filepath.Join(root, "deploy", "kubernetes"), filepath.Join(work, "kubernetes"))
	overlay := filepath.Join(work, "kubernetes", "overlays", "example")
	copyFile(t, filepath.Join(overlay, "secrets.env.example"), filepath.Join(overlay, "secrets.env"))
	out, err := exec.Command(kustomize, "build", overlay).Output()
	if err != nil {
		t.Fatalf("kustomize build: %v %s", err, stderrOf(err))
	}
	rendered := filepath.Join(work, "rendered.yaml")
	if err := os.WriteFile(rendered, out, 0o644); err != nil {
		t.Fatal(err)
	}

	objs := decodeAll(t, out)
	kinds := map[[2]string]bool{}
	byKind := map[string]map[string]any{}
	for _, o := range objs {
		kinds[[2]string{fmt.Sprint(o["apiVersion"]), fmt.Sprint(o["kind"])}] = true
		byKind[fmt.Sprint(o["kind"])] = o
	}
	for _, k := range []string{"StatefulSet", "Service", "ConfigMap", "Secret", "PodDisruptionBudget", "ServiceMonitor", "Ingress"} {
		if byKind[k] == nil {
			t.Errorf("the overlay renders no %s", k)
		}
	}
	schemas := filepath.Join(work, "schemas")
	crd := filepath.Join(poDir, "jsonnet", "prometheus-operator", "servicemonitors-crd.json")
	if err := KubernetesSchemas(schemas, filepath.Join(k8sDir, "api", "openapi-spec", "swagger.json"), []string{crd}, kinds); err != nil {
		t.Fatal(err)
	}
	conform := func(file string) ([]byte, error) {
		return exec.Command(kubeconform, "-strict", "-summary", "-output", "text",
			"-schema-location", filepath.Join(schemas, "{{ .ResourceKind }}{{ .KindSuffix }}.json"), file).CombinedOutput()
	}
	res, err := conform(rendered)
	if err != nil {
		t.Fatalf("kubeconform: %v\n%s", err, res)
	}
	t.Logf("kubeconform (Kubernetes %s schemas, strict): %s", kubernetesVersion, strings.TrimSpace(string(res)))

	// The schemas catch mistakes: a misspelt field in the pod template.
	broken := strings.Replace(string(out), "readOnlyRootFilesystem: true", "readOnlyRootFileSystem: true", 1)
	if broken == string(out) {
		t.Fatal("no readOnlyRootFilesystem in the rendered StatefulSet")
	}
	brokenPath := filepath.Join(work, "broken.yaml")
	if err := os.WriteFile(brokenPath, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	if res, err := conform(brokenPath); err == nil {
		t.Fatalf("kubeconform took a misspelt field:\n%s", res)
	}

	// What the pod promises.
	var sts struct {
		Spec struct {
			Template struct {
				Spec struct {
					HostNetwork     bool   `yaml:"hostNetwork"`
					DNSPolicy       string `yaml:"dnsPolicy"`
					SecurityContext struct {
						RunAsNonRoot   bool                  `yaml:"runAsNonRoot"`
						SeccompProfile struct{ Type string } `yaml:"seccompProfile"`
					} `yaml:"securityContext"`
					Containers []struct {
						Image          string
						ReadinessProbe probe `yaml:"readinessProbe"`
						LivenessProbe  probe `yaml:"livenessProbe"`
						Ports          []struct {
							ContainerPort int `yaml:"containerPort"`
							Protocol      string
						}
						SecurityContext struct {
							ReadOnlyRootFilesystem   bool `yaml:"readOnlyRootFilesystem"`
							AllowPrivilegeEscalation bool `yaml:"allowPrivilegeEscalation"`
							Capabilities             struct{ Drop []string }
						} `yaml:"securityContext"`
					}
				}
			}
		}
	}
	remarshal(t, byKind["StatefulSet"], &sts)
	pod := sts.Spec.Template.Spec
	c := pod.Containers[0]
	checks := map[string]bool{
		"hostNetwork (the media port on each node's address)": pod.HostNetwork,
		"dnsPolicy ClusterFirstWithHostNet":                   pod.DNSPolicy == "ClusterFirstWithHostNet",
		"runAsNonRoot":                                        pod.SecurityContext.RunAsNonRoot,
		"seccomp RuntimeDefault":                              pod.SecurityContext.SeccompProfile.Type == "RuntimeDefault",
		"readiness on /readyz":                                c.ReadinessProbe.HTTPGet.Path == "/readyz",
		"liveness on /healthz":                                c.LivenessProbe.HTTPGet.Path == "/healthz",
		"readOnlyRootFilesystem":                              c.SecurityContext.ReadOnlyRootFilesystem,
		"no privilege escalation":                             !c.SecurityContext.AllowPrivilegeEscalation,
		"capabilities drop ALL":                               len(c.SecurityContext.Capabilities.Drop) == 1 && c.SecurityContext.Capabilities.Drop[0] == "ALL",
		"the overlay's image":                                 strings.Contains(c.Image, ":") && c.Image != "seatlink",
	}
	udp := false
	for _, p := range c.Ports {
		udp = udp || p.Protocol == "UDP"
	}
	checks["a UDP media port"] = udp
	for what, ok := range checks {
		if !ok {
			t.Errorf("StatefulSet: not %s", what)
		}
	}
}

// The systemd units pass systemd-analyze verify without a word (it warns,
// and still exits 0, on an unknown key or a bad value). The binary's path
// is pointed at the binary just built, since verify checks it exists.
func TestSystemdUnitsVerify(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		need(t, "systemd-analyze is missing (Debian's systemd package)")
	}
	dir := built(t)
	unitDir := filepath.Join(root, "deploy", "systemd")
	service := read(t, unitDir, "seatlink.service")
	dropIn := read(t, unitDir, "bind-443.conf")
	for name, text := range map[string]string{
		"seatlink.service":                  service,
		"seatlink.service + bind-443.conf":  service + "\n" + dropIn,
		"seatlink-device-agent.service":     read(t, unitDir, "seatlink-device-agent.service"),
		"seatlink.service with a wrong key": service + "\n[Service]\nProtectSystem=stricter\n",
	} {
		work := t.TempDir()
		unit := filepath.Join(work, strings.Fields(name)[0])
		text = strings.ReplaceAll(text, "/usr/local/bin/seatlink", filepath.Join(dir, "seatlink"))
		if err := os.WriteFile(unit, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(sa, "verify", unit).CombinedOutput()
		noisy := strings.TrimSpace(string(out)) != ""
		if strings.Contains(name, "wrong") {
			if err == nil && !noisy {
				t.Errorf("systemd-analyze verify said nothing of a bad value: it checks nothing here")
			}
			continue
		}
		if err != nil || noisy {
			t.Errorf("systemd-analyze verify %s: %v\n%s", name, err, out)
		}
	}
	sysctl := read(t, unitDir, "99-seatlink-udp.conf")
	for _, want := range []string{"net.core.rmem_max = 8388608", "net.core.wmem_max = 8388608"} {
		if !strings.Contains(sysctl, want) {
			t.Errorf("99-seatlink-udp.conf lacks %q", want)
		}
	}
}

// --- helpers

type probe struct {
	HTTPGet struct{ Path string } `yaml:"httpGet"`
}

func read(t *testing.T, parts ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(parts...))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func yamlFile(t *testing.T, path string, v any) {
	t.Helper()
	if err := yaml.Unmarshal([]byte(read(t, path)), v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// composeDoc is the compose file as JSON values (merge keys resolved).
func composeDoc(t *testing.T) any {
	t.Helper()
	var doc any
	yamlFile(t, filepath.Join(root, "deploy", "compose", "compose.yaml"), &doc)
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func remarshal(t *testing.T, in any, out any) {
	t.Helper()
	b, err := yaml.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
}

func decodeAll(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var objs []map[string]any
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var o map[string]any
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			return objs
		}
		if err != nil {
			t.Fatal(err)
		}
		if o != nil {
			objs = append(objs, o)
		}
	}
}

// dockerfileEnv is the image's ENV instruction.
func dockerfileEnv(t *testing.T) map[string]string {
	t.Helper()
	text := strings.ReplaceAll(read(t, root, "Dockerfile"), "\\\n", " ")
	env := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, "ENV "); ok {
			for _, kv := range strings.Fields(v) {
				k, v, _ := strings.Cut(kv, "=")
				env[k] = v
			}
		}
	}
	if len(env) == 0 {
		t.Fatal("the Dockerfile sets no ENV")
	}
	return env
}

// envFile reads KEY=VALUE lines, as EnvironmentFile, kustomize's envs and
// compose's .env do.
func envFile(t *testing.T, path string) map[string]string {
	t.Helper()
	env := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(read(t, path)))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: %q is not KEY=VALUE", path, line)
		}
		env[k] = v
	}
	return env
}

var interp = regexp.MustCompile(`\$\{([A-Z0-9_]+)(?::?[-?][^}]*)?\}`)

// interpolate fills ${VAR}, ${VAR:-default} and ${VAR:?message} from the
// .env example, as compose does; a variable it lacks is an error.
func interpolate(t *testing.T, s string, env map[string]string) string {
	t.Helper()
	return interp.ReplaceAllStringFunc(s, func(m string) string {
		name := interp.FindStringSubmatch(m)[1]
		v, ok := env[name]
		if !ok {
			t.Errorf("compose uses ${%s}, which .env.example does not set", name)
		}
		return v
	})
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func containsString(list any, s string) bool {
	l, _ := list.([]any)
	for _, v := range l {
		if fmt.Sprint(v) == s {
			return true
		}
	}
	return false
}

func freeTCP(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// freeUDPAndTCP is a loopback port free for both UDP and TCP (the media
// ports share a number).
func freeUDPAndTCP(t *testing.T) string {
	t.Helper()
	for i := 0; i < 20; i++ {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := pc.LocalAddr().String()
		ln, err := net.Listen("tcp", addr)
		pc.Close()
		if err == nil {
			ln.Close()
			return addr
		}
	}
	t.Fatal("no loopback port free for both UDP and TCP")
	return ""
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.Walk(from, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if info.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		copyFile(t, p, dst)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func stderrOf(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(ee.Stderr)
	}
	return ""
}
