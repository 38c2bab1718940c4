package main

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"gopkg.in/yaml.v3"

	"github.com/edgeauth/edgeauth/server"
)

// The deployment files are checked without a Docker engine or a cloud
// account: what can be run (the build) is run, the rest is parsed and
// held to what the service needs.

// TestDeployDockerfileBuildsAStaticBinary runs the Dockerfile's build line as
// written — same variables, same flags — in a copy of the build context
// that .dockerignore lets through, and checks the binary the final stage
// copies: static (distroless static has no libc), stripped, and able to run.
func TestDeployDockerfileBuildsAStaticBinary(t *testing.T) {
	goCmd := lookPath(t, "the Dockerfile's build needs the go command in PATH", "go")
	df := readDockerfile(t)
	assigns, args := df.buildLine(t)
	out := df.binaryPath(t)

	ctxDir := dockerContext(t)
	bin := filepath.Join(t.TempDir(), "edgeauth")
	i := slices.Index(args, "-o")
	if i < 0 || i+1 >= len(args) || args[i+1] != out {
		t.Fatalf("the build line %q does not write %s, the file the final stage copies", strings.Join(args, " "), out)
	}
	args = slices.Clone(args)
	args[i+1] = bin

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goCmd, args[1:]...)
	cmd.Dir = ctxDir
	// As in the build stage: no workspace, the module as it is.
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly")
	cmd.Env = append(cmd.Env, assigns...)
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", strings.Join(assigns, " "), strings.Join(args, " "), err, out)
	}
	took := time.Since(start)

	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary asks for a dynamic loader: it cannot run on distroless static")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary links %v: it cannot run on distroless static", libs)
	}
	for _, name := range []string{".symtab", ".debug_info"} {
		if f.Section(name) != nil {
			t.Errorf("the binary has %s: -ldflags=\"-s -w\" did not strip it", name)
		}
	}
	fi, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d bytes (%.1f MiB), built in %v", strings.Join(args, " "), fi.Size(), float64(fi.Size())/(1<<20), took.Round(time.Millisecond))

	version, err := exec.CommandContext(ctx, bin, "version").Output()
	if err != nil {
		t.Fatalf("%s version: %v", bin, err)
	}
	// No .git in the context: the image says devel, the VCS stamp is absent.
	if got := strings.TrimSpace(string(version)); got != "edgeauth devel" {
		t.Errorf("version in the image's build: %q, want %q", got, "edgeauth devel")
	}
}

// TestDeployDockerfileFinalStage checks what runs: distroless static as a
// numeric non-root user (Kubernetes' runAsNonRoot cannot check a name),
// production rules stated, port 8080, the binary as entry point.
func TestDeployDockerfileFinalStage(t *testing.T) {
	df := readDockerfile(t)
	final := df.finalStage()
	from := final.first(t, "FROM")
	if !strings.HasPrefix(from, "gcr.io/distroless/static") || !strings.HasSuffix(from, ":nonroot") {
		t.Errorf("final stage FROM %s, want a distroless static :nonroot image", from)
	}
	if env := final.env(t); env["EDGEAUTH_ENV"] != "production" {
		t.Errorf("final stage ENV %v, want EDGEAUTH_ENV=production", env)
	}
	user := final.first(t, "USER")
	uid, _, _ := strings.Cut(user, ":")
	if n, err := strconv.Atoi(uid); err != nil || n == 0 {
		t.Errorf("USER %s, want a numeric non-root uid (65532, distroless's nonroot)", user)
	}
	if got := df.exposed(t); got != 8080 {
		t.Errorf("EXPOSE %d, want 8080", got)
	}
	var entry []string
	if err := json.Unmarshal([]byte(final.first(t, "ENTRYPOINT")), &entry); err != nil || !slices.Equal(entry, []string{"/edgeauth"}) {
		t.Errorf("ENTRYPOINT %v (%v), want [\"/edgeauth\"] in exec form, so SIGTERM reaches edgeauth", entry, err)
	}
	copyLine := final.first(t, "COPY")
	if want := "--from=build " + df.binaryPath(t) + " /edgeauth"; copyLine != want {
		t.Errorf("COPY %s, want %s", copyLine, want)
	}
}

// TestDeployDockerignoreKeepsTheContextToSources checks the context the build
// above ran in: the sources it needs, and none of what must stay out.
func TestDeployDockerignoreKeepsTheContextToSources(t *testing.T) {
	var files []string
	root := dockerContext(t)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, need := range []string{"go.mod", "go.sum", "main.go", "server/demo.html", "oidc/oidctest/provider.go"} {
		if !slices.Contains(files, need) {
			t.Errorf("the context lacks %s", need)
		}
	}
	for _, f := range files {
		parts := strings.Split(f, "/")
		switch {
		case parts[0] == ".git", parts[0] == ".ci", slices.Contains(parts, "node_modules"), slices.Contains(parts, "testdata"),
			strings.HasSuffix(f, "_test.go"), strings.HasSuffix(f, ".md"), strings.HasSuffix(f, ".env"), parts[0] == "examples":
			t.Errorf("the context holds %s", f)
		}
	}
	t.Logf("context: %d files", len(files))
}

// TestDeployFlyConfig checks fly.toml: the port the image listens on, a health
// check on /healthz, scaled to zero, and every secret set with `fly
// secrets set`, none in [env]. [env] with those secrets must be a
// configuration that production accepts.
func TestDeployFlyConfig(t *testing.T) {
	raw, err := os.ReadFile("fly.toml")
	if err != nil {
		t.Fatal(err)
	}
	var fly struct {
		KillSignal  string            `toml:"kill_signal"`
		Env         map[string]string `toml:"env"`
		HTTPService struct {
			InternalPort       int    `toml:"internal_port"`
			AutoStopMachines   string `toml:"auto_stop_machines"`
			AutoStartMachines  bool   `toml:"auto_start_machines"`
			MinMachinesRunning *int   `toml:"min_machines_running"`
			Checks             []struct {
				Method, Path string
			} `toml:"checks"`
		} `toml:"http_service"`
	}
	if _, err := toml.Decode(string(raw), &fly); err != nil {
		t.Fatalf("fly.toml: %v", err)
	}
	hs := fly.HTTPService
	if want := readDockerfile(t).exposed(t); hs.InternalPort != want {
		t.Errorf("internal_port %d, want %d (the image's port)", hs.InternalPort, want)
	}
	if !slices.ContainsFunc(hs.Checks, func(c struct{ Method, Path string }) bool { return c.Path == "/healthz" }) {
		t.Errorf("http_service.checks %v: none on /healthz", hs.Checks)
	}
	if hs.AutoStopMachines != "stop" && hs.AutoStopMachines != "suspend" || !hs.AutoStartMachines ||
		hs.MinMachinesRunning == nil || *hs.MinMachinesRunning != 0 {
		t.Errorf("not scaled to zero: auto_stop_machines %q, auto_start_machines %v, min_machines_running %v",
			hs.AutoStopMachines, hs.AutoStartMachines, hs.MinMachinesRunning)
	}
	if fly.KillSignal != "SIGTERM" && fly.KillSignal != "SIGINT" {
		t.Errorf("kill_signal %q: edgeauth shuts down gracefully on SIGTERM or SIGINT", fly.KillSignal)
	}
	for name := range fly.Env {
		if secretName(name) {
			t.Errorf("[env] holds %s, a secret: fly.toml is committed; use fly secrets set", name)
		}
	}
	var secrets []string
	set := regexp.MustCompile(`^#\s*fly secrets set (?:--stage )?(EDGEAUTH_[A-Z0-9_]+)=`)
	for _, line := range strings.Split(string(raw), "\n") {
		if m := set.FindStringSubmatch(line); m != nil {
			secrets = append(secrets, m[1])
		}
	}
	checkDeployConfig(t, "fly.toml", fly.Env, secrets, "")
}

// TestDeployCloudRunCommand checks the `gcloud run deploy` of deploy/README.md:
// secrets from Secret Manager, the rest as variables, scaled to zero,
// probes on /readyz (startup) and /healthz (liveness).
func TestDeployCloudRunCommand(t *testing.T) {
	words := commandIn(t, "deploy/README.md", "gcloud run deploy")
	flags := map[string]string{}
	for _, w := range words[3:] {
		if k, v, ok := strings.Cut(w, "="); ok && strings.HasPrefix(k, "--") {
			flags[k] = v
		} else if strings.HasPrefix(w, "--") {
			flags[w] = ""
		}
	}
	if flags["--min-instances"] != "0" {
		t.Errorf("--min-instances %q, want 0", flags["--min-instances"])
	}
	port := readDockerfile(t).exposed(t)
	if flags["--port"] != strconv.Itoa(port) {
		t.Errorf("--port %q, want %d: Cloud Run sets PORT to it", flags["--port"], port)
	}
	for flag, path := range map[string]string{"--startup-probe": "/readyz", "--liveness-probe": "/healthz"} {
		probe := map[string]string{}
		for _, kv := range strings.Split(flags[flag], ",") {
			k, v, _ := strings.Cut(kv, "=")
			probe[k] = v
		}
		if probe["httpGet.path"] != path || probe["httpGet.port"] != strconv.Itoa(port) {
			t.Errorf("%s %q, want httpGet.path=%s on port %d", flag, flags[flag], path, port)
		}
	}

	env := map[string]string{}
	vars, sep := flags["--set-env-vars"], ","
	if strings.HasPrefix(vars, "^") { // gcloud's alternative delimiter, ^;^
		if end := strings.Index(vars[1:], "^"); end > 0 {
			sep, vars = vars[1:end+1], vars[end+2:]
		}
	}
	for _, kv := range strings.Split(vars, sep) {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			t.Fatalf("--set-env-vars entry %q", kv)
		}
		if secretName(k) {
			t.Errorf("--set-env-vars holds %s, a secret: use --set-secrets", k)
		}
		env[k] = v
	}
	var secrets []string
	for _, kv := range strings.Split(flags["--set-secrets"], ",") {
		k, ref, _ := strings.Cut(kv, "=")
		if name, version, ok := strings.Cut(ref, ":"); !ok || name == "" || version == "" {
			t.Errorf("--set-secrets %s=%s: want SECRET:VERSION from Secret Manager", k, ref)
		}
		secrets = append(secrets, k)
	}
	checkDeployConfig(t, "Cloud Run", env, secrets, flags["--port"])
}

// TestDeployKubernetesManifests checks deploy/kubernetes.yaml: two replicas,
// the image's port, readiness /readyz and liveness /healthz on it, a
// Service to it, non-root with a read-only root, resources, and every
// secret from a Secret, none as a plain value (neither in env nor in the
// ConfigMap).
func TestDeployKubernetesManifests(t *testing.T) {
	docs := kubernetesDocs(t)
	deployments := docs["Deployment"]
	if len(deployments) != 1 {
		t.Fatalf("%d Deployments, want 1", len(deployments))
	}
	var d k8sDeployment
	if err := deployments[0].Decode(&d); err != nil {
		t.Fatal(err)
	}
	if d.Spec.Replicas != 2 {
		t.Errorf("replicas %d, want 2", d.Spec.Replicas)
	}
	pod := d.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	image := readDockerfile(t).exposed(t)
	ports := map[string]int{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if !slices.Contains(slices.Collect(maps.Values(ports)), image) {
		t.Errorf("container ports %v, want %d (the image's port)", ports, image)
	}
	resolve := func(port yaml.Node) int {
		if n, err := strconv.Atoi(port.Value); err == nil {
			return n
		}
		return ports[port.Value]
	}
	for name, probe := range map[string]struct {
		p    *k8sProbe
		path string
	}{"readinessProbe": {c.ReadinessProbe, "/readyz"}, "livenessProbe": {c.LivenessProbe, "/healthz"}} {
		if probe.p == nil {
			t.Errorf("no %s, want GET %s on port %d", name, probe.path, image)
		} else if got := probe.p.HTTPGet; got.Path != probe.path || resolve(got.Port) != image {
			t.Errorf("%s GET %s on port %q (%d), want GET %s on port %d", name, got.Path, got.Port.Value, resolve(got.Port), probe.path, image)
		}
	}

	sc := c.SecurityContext
	if !pod.SecurityContext.RunAsNonRoot || pod.SecurityContext.RunAsUser == 0 {
		t.Errorf("pod securityContext %+v, want runAsNonRoot and a non-zero runAsUser", pod.SecurityContext)
	}
	if !sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("container securityContext %+v, want readOnlyRootFilesystem and no privilege escalation", sc)
	}
	if c.Resources.Requests["memory"] == "" || c.Resources.Requests["cpu"] == "" || c.Resources.Limits["memory"] == "" {
		t.Errorf("resources %+v, want cpu and memory requests and a memory limit", c.Resources)
	}

	configMaps := map[string]map[string]string{}
	for _, n := range docs["ConfigMap"] {
		var cm struct {
			Metadata struct{ Name string }
			Data     map[string]string
		}
		if err := n.Decode(&cm); err != nil {
			t.Fatal(err)
		}
		configMaps[cm.Metadata.Name] = cm.Data
	}
	env := map[string]string{}
	var secrets []string
	for _, from := range c.EnvFrom {
		switch {
		case from.ConfigMapRef != nil:
			data, ok := configMaps[from.ConfigMapRef.Name]
			if !ok {
				t.Errorf("envFrom ConfigMap %q is not in the file", from.ConfigMapRef.Name)
			}
			for k, v := range data {
				if secretName(k) {
					t.Errorf("ConfigMap %s holds %s, a secret: ConfigMaps are plain text", from.ConfigMapRef.Name, k)
				}
				env[k] = v
			}
		case from.SecretRef != nil:
			t.Errorf("envFrom Secret %q: name each secret with secretKeyRef, so the test (and a reader) can see them", from.SecretRef.Name)
		}
	}
	for _, e := range c.Env {
		switch {
		case e.Value != nil && secretName(e.Name):
			t.Errorf("env %s has a literal value: secrets come from a Secret (secretKeyRef)", e.Name)
		case e.Value != nil:
			env[e.Name] = *e.Value
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			secrets = append(secrets, e.Name)
		}
	}
	checkDeployConfig(t, "kubernetes.yaml", env, secrets, "")

	var svcTargets []int
	for _, n := range docs["Service"] {
		var svc struct {
			Spec struct {
				Ports []struct {
					TargetPort yaml.Node `yaml:"targetPort"`
				}
			}
		}
		if err := n.Decode(&svc); err != nil {
			t.Fatal(err)
		}
		for _, p := range svc.Spec.Ports {
			svcTargets = append(svcTargets, resolve(p.TargetPort))
		}
	}
	if !slices.Equal(svcTargets, []int{image}) {
		t.Errorf("Service target ports %v, want [%d]", svcTargets, image)
	}
}

// --- the deployment's configuration ------------------------------------------

// secretName reports whether a variable holds a secret: keys, secrets,
// passwords, private keys.
func secretName(name string) bool {
	for _, s := range []string{"KEYS", "SECRET", "PASSWORD", "PRIVATE_KEY"} {
		if strings.Contains(name, s) {
			return true
		}
	}
	return false
}

// checkDeployConfig checks that a deployment's variables (env) and the
// secrets it names are what `edgeauth serve` needs in production: every
// secret the configuration calls for comes from the platform's secret
// store, and env with those secrets filled in passes LoadConfig. port is
// the PORT the platform sets, "" when none.
func checkDeployConfig(t *testing.T, where string, env map[string]string, secrets []string, port string) {
	t.Helper()
	want := []string{"EDGEAUTH_STATE_KEYS", "EDGEAUTH_SIGNING_KEYS"}
	if env["EDGEAUTH_USERHOOK_URL"] != "" {
		want = append(want, "EDGEAUTH_USERHOOK_SECRET")
	}
	providers := strings.Split(env["EDGEAUTH_PROVIDERS"], ",")
	for _, p := range providers {
		want = append(want, "EDGEAUTH_"+strings.ToUpper(strings.TrimSpace(p))+"_CLIENT_SECRET")
	}
	for _, s := range want {
		if !slices.Contains(secrets, s) {
			t.Errorf("%s: %s is not set as a secret (secrets: %v)", where, s, secrets)
		}
	}
	for _, s := range secrets {
		if _, ok := env[s]; ok {
			t.Errorf("%s: %s is both a secret and a plain variable", where, s)
		}
	}

	// Nothing from this process's environment may help.
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, server.EnvPrefix+"_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	keys := freshKeys(t)
	for k, v := range env {
		t.Setenv(k, v)
	}
	for _, s := range secrets {
		switch {
		case keys[s] != "":
			t.Setenv(s, keys[s])
		case s == "EDGEAUTH_USERHOOK_SECRET":
			t.Setenv(s, newSecret(t))
		default:
			t.Setenv(s, "not-a-real-"+strings.ToLower(s))
		}
	}
	cfg, err := server.LoadConfig(func(k string) string {
		if k == "PORT" {
			return port
		}
		return ""
	}, nil)
	if err != nil {
		t.Fatalf("%s: its environment and secrets are not a valid configuration: %v", where, err)
	}
	if !cfg.Production || len(cfg.Providers) != len(providers) {
		t.Errorf("%s: production %v, %d providers, want production with %d", where, cfg.Production, len(cfg.Providers), len(providers))
	}
	if port != "" && cfg.Addr != ":"+port {
		t.Errorf("%s: listens on %q, want :%s from PORT", where, cfg.Addr, port)
	}
}

// --- Kubernetes ------------------------------------------------------------------

type k8sProbe struct {
	HTTPGet struct {
		Path string
		Port yaml.Node
	} `yaml:"httpGet"`
}

type k8sDeployment struct {
	Spec struct {
		Replicas int
		Template struct {
			Spec struct {
				SecurityContext struct {
					RunAsNonRoot bool `yaml:"runAsNonRoot"`
					RunAsUser    int  `yaml:"runAsUser"`
				} `yaml:"securityContext"`
				Containers []struct {
					Ports []struct {
						Name          string
						ContainerPort int `yaml:"containerPort"`
					}
					Env []struct {
						Name      string
						Value     *string
						ValueFrom *struct {
							SecretKeyRef *struct{ Name, Key string } `yaml:"secretKeyRef"`
						} `yaml:"valueFrom"`
					}
					EnvFrom []struct {
						ConfigMapRef *struct{ Name string } `yaml:"configMapRef"`
						SecretRef    *struct{ Name string } `yaml:"secretRef"`
					} `yaml:"envFrom"`
					ReadinessProbe  *k8sProbe `yaml:"readinessProbe"`
					LivenessProbe   *k8sProbe `yaml:"livenessProbe"`
					Resources       struct{ Requests, Limits map[string]string }
					SecurityContext struct {
						ReadOnlyRootFilesystem   bool  `yaml:"readOnlyRootFilesystem"`
						AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
					} `yaml:"securityContext"`
				}
			}
		}
	}
}

// kubernetesDocs reads deploy/kubernetes.yaml, its documents by kind.
func kubernetesDocs(t *testing.T) map[string][]*yaml.Node {
	t.Helper()
	f, err := os.Open("deploy/kubernetes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	docs := map[string][]*yaml.Node{}
	dec := yaml.NewDecoder(f)
	for {
		var n yaml.Node
		if err := dec.Decode(&n); err == io.EOF {
			return docs
		} else if err != nil {
			t.Fatalf("deploy/kubernetes.yaml: %v", err)
		}
		var head struct{ Kind string }
		if err := n.Decode(&head); err != nil || head.Kind == "" {
			t.Fatalf("deploy/kubernetes.yaml: a document without kind (%v)", err)
		}
		docs[head.Kind] = append(docs[head.Kind], &n)
	}
}

// --- the Dockerfile --------------------------------------------------------------

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd, args string
}

type stage []instruction

type dockerfile []stage

func readDockerfile(t *testing.T) dockerfile {
	t.Helper()
	raw, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var df dockerfile
	var line strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		text := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(text, "#") || (text == "" && line.Len() == 0) {
			continue
		}
		if cont, ok := strings.CutSuffix(text, "\\"); ok {
			line.WriteString(cont + " ")
			continue
		}
		line.WriteString(text)
		cmd, args, _ := strings.Cut(strings.TrimSpace(line.String()), " ")
		line.Reset()
		in := instruction{strings.ToUpper(cmd), strings.TrimSpace(args)}
		if in.cmd == "FROM" {
			df = append(df, nil)
		}
		if len(df) == 0 {
			t.Fatalf("Dockerfile: %s before FROM", in.cmd)
		}
		df[len(df)-1] = append(df[len(df)-1], in)
	}
	if len(df) < 2 {
		t.Fatalf("Dockerfile: %d stages, want a build stage and a final one", len(df))
	}
	return df
}

func (df dockerfile) finalStage() stage { return df[len(df)-1] }

// first returns the arguments of the stage's first cmd.
func (s stage) first(t *testing.T, cmd string) string {
	t.Helper()
	for _, in := range s {
		if in.cmd == cmd {
			return in.args
		}
	}
	t.Fatalf("Dockerfile: no %s in the final stage", cmd)
	return ""
}

// env returns the stage's ENV settings (key=value form).
func (s stage) env(t *testing.T) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, in := range s {
		if in.cmd != "ENV" {
			continue
		}
		for _, w := range shellWords(t, in.args) {
			k, v, ok := strings.Cut(w, "=")
			if !ok {
				t.Fatalf("ENV %s: write it as KEY=value", in.args)
			}
			env[k] = v
		}
	}
	return env
}

// exposed is the one port the final stage exposes.
func (df dockerfile) exposed(t *testing.T) int {
	t.Helper()
	p, _, _ := strings.Cut(df.finalStage().first(t, "EXPOSE"), "/")
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatalf("EXPOSE %q", p)
	}
	return n
}

// buildLine returns the variables and the words of the build stage's
// `RUN CGO_ENABLED=0 go build …`.
func (df dockerfile) buildLine(t *testing.T) (assigns, args []string) {
	t.Helper()
	for _, in := range df[0] {
		if in.cmd != "RUN" {
			continue
		}
		words := shellWords(t, in.args)
		i := slices.IndexFunc(words, func(w string) bool { return !strings.Contains(w, "=") })
		if i < 0 || i+1 >= len(words) || words[i] != "go" || words[i+1] != "build" {
			continue
		}
		if !slices.Contains(words[:i], "CGO_ENABLED=0") {
			t.Fatalf("RUN %s: without CGO_ENABLED=0 the binary needs libc, which distroless static lacks", in.args)
		}
		return words[:i], words[i:]
	}
	t.Fatal("Dockerfile: no RUN … go build in the build stage")
	return nil, nil
}

// binaryPath is the file the final stage copies from the build stage.
func (df dockerfile) binaryPath(t *testing.T) string {
	t.Helper()
	words := strings.Fields(df.finalStage().first(t, "COPY"))
	if len(words) != 3 || words[0] != "--from=build" {
		t.Fatalf("final stage COPY %v, want --from=build <binary> <dest>", words)
	}
	return words[1]
}

// shellWords splits s as sh would for the simple forms a Dockerfile line
// uses: blanks separate, '…' and "…" quote, a backslash escapes.
func shellWords(t *testing.T, s string) []string {
	t.Helper()
	var words []string
	var w strings.Builder
	inWord := false
	var quote rune
	escaped := false
	for _, r := range s {
		switch {
		case escaped:
			w.WriteRune(r)
			escaped = false
		case quote != 0:
			if r == quote {
				quote = 0
			} else if r == '\\' && quote == '"' {
				escaped = true
			} else {
				w.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == '\\':
			escaped, inWord = true, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 || escaped {
		t.Fatalf("unterminated quote in %q", s)
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}

// commandIn returns the words of the first command in file's code blocks
// that starts with prefix, continuation lines joined.
func commandIn(t *testing.T, file, prefix string) []string {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(raw), "\n")
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(strings.TrimSpace(lines[i]), prefix) {
			continue
		}
		var cmd strings.Builder
		for ; i < len(lines); i++ {
			text := strings.TrimSpace(lines[i])
			cont, more := strings.CutSuffix(text, "\\")
			cmd.WriteString(cont + " ")
			if !more {
				break
			}
		}
		return shellWords(t, cmd.String())
	}
	t.Fatalf("%s: no %q command", file, prefix)
	return nil
}

// --- the build context -----------------------------------------------------------

// dockerContext copies the files of the repository that .dockerignore
// lets through into a directory of the test's, once per test, and returns it.
func dockerContext(t *testing.T) string {
	t.Helper()
	patterns := readDockerignore(t)
	dir := t.TempDir()
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == "." {
			return err
		}
		rel := filepath.ToSlash(p)
		if ignored(patterns, rel) {
			if d.IsDir() {
				return filepath.SkipDir // no pattern here re-includes below an excluded directory
			}
			return nil
		}
		dst := filepath.Join(dir, p)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// ignorePattern is one line of .dockerignore, compiled.
type ignorePattern struct {
	re      *regexp.Regexp
	include bool // a "!" line
}

func readDockerignore(t *testing.T) []ignorePattern {
	t.Helper()
	raw, err := os.ReadFile(".dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	var ps []ignorePattern
	for _, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		p := ignorePattern{}
		if rest, ok := strings.CutPrefix(line, "!"); ok {
			p.include, line = true, rest
		}
		p.re = compileIgnore(strings.Trim(filepath.ToSlash(filepath.Clean(line)), "/"))
		ps = append(ps, p)
	}
	return ps
}

// compileIgnore turns a pattern into a regexp with Docker's meaning: paths
// relative to the context root, * and ? within a path segment, ** across
// any number of segments, and a match of a directory covering all below
// it.
func compileIgnore(p string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case strings.HasPrefix(p[i:], "**/"):
			b.WriteString("(?:.*/)?")
			i += 2
		case strings.HasPrefix(p[i:], "**"):
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("(?:/.*)?$")
	return regexp.MustCompile(b.String())
}

// ignored applies the patterns in order, the last match deciding.
func ignored(ps []ignorePattern, rel string) bool {
	out := false
	for _, p := range ps {
		if p.re.MatchString(rel) {
			out = !p.include
		}
	}
	return out
}
