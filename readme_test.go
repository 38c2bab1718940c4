package main

// The README, run: every fenced block marked `<!-- tested: NAME -->` on the
// line before its fence is executed here, as a reader would paste it, with
// only the URLs, the audience and the token substituted.

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// readmeBlock is a fenced code block of the README marked for testing.
type readmeBlock struct {
	lang, code string
}

// testedBlocks are the marked blocks this file runs, with their fence's
// info string: a marked block that disappears, or a new marker that no test
// runs, fails TestReadmeMarkedBlocks.
var testedBlocks = map[string]string{
	"keygen":        "sh",
	"keygen-export": "sh",
	"curl":          "sh",
	"verify-go":     "go",
	"verify-js":     "js",
	"verify-python": "python",
}

var markerPattern = regexp.MustCompile(`^<!-- tested: ([a-z0-9-]+) -->$`)

// readmeBlocks returns the README's marked blocks by name.
func readmeBlocks(t *testing.T) map[string]readmeBlock {
	t.Helper()
	raw, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(raw), "\n")
	blocks := map[string]readmeBlock{}
	for i := 0; i < len(lines); i++ {
		m := markerPattern.FindStringSubmatch(strings.TrimSpace(lines[i]))
		if m == nil {
			continue
		}
		name := m[1]
		if i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "```") {
			t.Fatalf("README line %d: marker %q is not right before a fence", i+1, name)
		}
		if _, dup := blocks[name]; dup {
			t.Fatalf("README line %d: marker %q used twice", i+1, name)
		}
		lang := strings.TrimPrefix(lines[i+1], "```")
		var code []string
		j := i + 2
		for ; j < len(lines) && lines[j] != "```"; j++ {
			code = append(code, lines[j])
		}
		if j == len(lines) {
			t.Fatalf("README line %d: block %q never closes", i+2, name)
		}
		blocks[name] = readmeBlock{lang: lang, code: strings.Join(code, "\n") + "\n"}
		i = j
	}
	return blocks
}

func TestReadmeMarkedBlocks(t *testing.T) {
	blocks := readmeBlocks(t)
	for name, lang := range testedBlocks {
		b, ok := blocks[name]
		if !ok {
			t.Errorf("README lost the block marked <!-- tested: %s -->", name)
		} else if b.lang != lang {
			t.Errorf("block %s is ```%s, want ```%s", name, b.lang, lang)
		}
	}
	for name := range blocks {
		if strings.HasPrefix(name, "provider-") {
			continue // TestReadmeProviderBlocks
		}
		if _, ok := testedBlocks[name]; !ok {
			t.Errorf("README marks block %q, which no test runs", name)
		}
	}
}

// buildEdgeauth builds the command into a temporary directory, for the
// blocks that run `go run .` in a shell.
func buildEdgeauth(t *testing.T) string {
	t.Helper()
	goBin := lookPath(t, "go not in PATH", "go")
	exe := filepath.Join(t.TempDir(), "edgeauth")
	out, err := exec.Command(goBin, "build", "-o", exe, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return exe
}

// goRunShim stands for `go run .` in the Configuration blocks: the edgeauth
// built by the test, with the test's provider in place of google and okta
// (the reader's would be reached). `serve` never returns, so it is checked
// instead; TestEnvFile serves with --env-file.
const goRunShim = `go() {
  if [ "$1 $2" != "run ." ]; then echo "the README runs go $*" >&2; return 2; fi
  shift 2
  case "${1:-serve}" in
    check|serve) shift; EDGEAUTH_PROVIDERS=op "$EDGEAUTH" check "$@" ;;
    *) "$EDGEAUTH" "$@" ;;
  esac
}
`

// TestReadmeKeygenRecipes runs the Configuration recipes in bash: keys from
// `keygen > .env` or `eval "$(keygen --export)"` reach check.
func TestReadmeKeygenRecipes(t *testing.T) {
	bash := lookPath(t, "bash not installed: apt-get install bash", "bash")
	blocks := readmeBlocks(t)
	exe := buildEdgeauth(t)
	provider := localProvider(t)
	for _, name := range []string{"keygen", "keygen-export"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(bash, "-euo", "pipefail", "-c", goRunShim+blocks[name].code)
			cmd.Dir = dir
			// No EDGEAUTH_* from the test's environment: only the block's.
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, "EDGEAUTH_") {
					cmd.Env = append(cmd.Env, kv)
				}
			}
			cmd.Env = append(cmd.Env, "EDGEAUTH="+exe)
			if name == "keygen-export" {
				// This block replaces the recipe's first line; the rest of
				// the recipe is exported.
				cmd.Env = append(cmd.Env, "EDGEAUTH_PUBLIC_URL=https://auth.example.com")
			}
			for k, v := range provider {
				if k != "EDGEAUTH_PROVIDERS" {
					cmd.Env = append(cmd.Env, k+"="+v)
				}
			}
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("README block %s: %v\nstdout:\n%s\nstderr:\n%s", name, err, stdout.String(), stderr.String())
			}
			if n := strings.Count(stdout.String(), "configuration ok"); n != strings.Count(blocks[name].code, "go run . check")+strings.Count(blocks[name].code, "go run . serve") {
				t.Errorf("check said ok %d times:\n%s", n, stdout.String())
			}
		})
	}
}

// TestReadmeCurlAndVerify runs the curl walkthrough against `edgeauth dev`
// (step 2, the browser, is done over HTTP here), then the three
// verification snippets with the access token it got.
func TestReadmeCurlAndVerify(t *testing.T) {
	bash := lookPath(t, "bash not installed: apt-get install bash", "bash")
	lookPath(t, "curl not installed: apt-get install curl", "curl")
	blocks := readmeBlocks(t)
	publicURL := startEdgeauth(t, []string{"dev"}, map[string]string{"EDGEAUTH_PUBLIC_URL": ""})
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	walk := strings.ReplaceAll(blocks["curl"].code, "http://localhost:8080", publicURL)
	step1, step3, ok := strings.Cut(walk, "\n# 3.")
	if !ok {
		t.Fatal("the curl block has no step 3")
	}
	step3 = "# 3." + step3
	dir := t.TempDir()
	sh := func(script string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, bash, "-euo", "pipefail", "-c", script)
		cmd.Dir = dir
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%v\n%s\nstderr: %s", err, script, stderr.String())
		}
		return string(out)
	}

	// 1. the authorization URL, as the README shows it (& unescaped).
	out := sh(step1)
	matchesExample(t, step1, out)
	var authz struct{ URL, State string }
	if err := json.Unmarshal([]byte(out), &authz); err != nil {
		t.Fatalf("step 1 answered %q: %v", out, err)
	}

	// 2. the browser: the embedded provider's login form, posted.
	back := providerLogin(ctx, t, authz.URL, "ada@example.com")
	if got := back.Scheme + "://" + back.Host + back.Path; got != publicURL+"/callback" {
		t.Errorf("the provider redirects to %s, the README says %s/callback", got, publicURL)
	}
	q := back.Query()
	if q.Get("state") != authz.State {
		t.Fatal("the callback's state is not step 1's")
	}
	if !strings.Contains(step3, `"iss":"`+q.Get("iss")+`"`) {
		t.Errorf("step 3 posts another iss than the callback's %s:\n%s", q.Get("iss"), step3)
	}

	// 3. the code for tokens, with what the reader copies.
	step3 = strings.Replace(step3, `"code":"…"`, `"code":"`+q.Get("code")+`"`, 1)
	step3 = strings.Replace(step3, `"state":"…"`, `"state":"`+q.Get("state")+`"`, 1)
	out = sh(step3)
	matchesExample(t, step3, out)
	var tokens struct {
		API struct{ Access string } `json:"api"`
	}
	if err := json.Unmarshal([]byte(out), &tokens); err != nil || tokens.API.Access == "" {
		t.Fatalf("step 3 answered %q: %v", out, err)
	}
	sub := verifyAccessToken(ctx, t, publicURL, tokens.API.Access).Subject()

	// The snippets, with the Configuration example's issuer and audience
	// replaced by dev mode's (both PUBLIC_URL: dev ignores TOKEN_AUDIENCE).
	snippet := func(name, audience string) string {
		code := blocks[name].code
		if !strings.Contains(code, "https://auth.example.com") || !strings.Contains(code, "https://api.example.com") {
			t.Fatalf("snippet %s does not use the Configuration example's issuer and audience", name)
		}
		code = strings.ReplaceAll(code, "https://auth.example.com", publicURL)
		return strings.ReplaceAll(code, "https://api.example.com", audience)
	}
	for _, lang := range []struct {
		name string
		run  func(t *testing.T, code, token string) (string, error)
	}{
		{"verify-go", runGoSnippet},
		{"verify-js", runNodeSnippet},
		{"verify-python", runPythonSnippet},
	} {
		t.Run(lang.name, func(t *testing.T) {
			got, err := lang.run(t, snippet(lang.name, publicURL), tokens.API.Access)
			if err != nil || strings.TrimSpace(got) != sub {
				t.Fatalf("printed %q (%v), want the sub %q", got, err, sub)
			}
			// The same snippet for another API must refuse the token.
			if got, err := lang.run(t, snippet(lang.name, "https://other-api.example.com"), tokens.API.Access); err == nil {
				t.Errorf("accepted a token for another audience: printed %q", got)
			}
		})
	}
}

// matchesExample checks a command's answer against the README's example
// output: the comment line starting with "# {" after the command, where "…"
// stands for anything.
func matchesExample(t *testing.T, block, out string) {
	t.Helper()
	var example string
	for _, line := range strings.Split(block, "\n") {
		if strings.HasPrefix(line, "# {") {
			example = strings.TrimPrefix(line, "# ")
		}
	}
	if example == "" {
		return
	}
	parts := strings.Split(example, "…")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	if !regexp.MustCompile(`^` + strings.Join(parts, `.*`) + `\s*$`).MatchString(out) {
		t.Errorf("the answer does not match the README's example\nexample: %s\nanswer:  %s", example, out)
	}
}

// providerLogin is what the browser does at the embedded provider: the
// login form carries the authorization request; posting it with an email
// redirects to the callback, returned here (not followed).
func providerLogin(ctx context.Context, t *testing.T, authURL, email string) *url.URL {
	t.Helper()
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	form := u.Query()
	form.Set("email", email)
	form.Set("action", "login")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, authURL, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("login at the embedded provider: %v", err)
	}
	resp.Body.Close()
	back, err := resp.Location()
	if resp.StatusCode != http.StatusFound || err != nil {
		t.Fatalf("login at the embedded provider: %d, Location %v", resp.StatusCode, err)
	}
	return back
}

// runGoSnippet runs a package main in a module of its own that requires
// what edgeauth's go.mod requires, so that it builds offline from the module
// cache (GOPROXY=off, GOFLAGS=-mod=mod: nothing is downloaded, go.sum is
// edgeauth's). Nothing is written inside the repository.
func runGoSnippet(t *testing.T, code, token string) (string, error) {
	t.Helper()
	goBin := lookPath(t, "go not in PATH", "go")
	dir := t.TempDir()
	mod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	mod = regexp.MustCompile(`(?m)^module .*$`).ReplaceAll(mod, []byte("module readmesnippet"))
	sum, err := os.ReadFile("go.sum")
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"go.mod": mod, "go.sum": sum, "main.go": []byte(code)} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.CommandContext(t.Context(), goBin, "run", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TOKEN="+token, "GOPROXY=off", "GOFLAGS=-mod=mod", "GOWORK=off")
	return output(cmd)
}

// runNodeSnippet runs the snippet as an ES module in .ci/readme, whose
// node_modules has jose (npm ci there when it lacks it).
func runNodeSnippet(t *testing.T, code, token string) (string, error) {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join(".ci", "readme"))
	if err != nil {
		t.Fatal(err)
	}
	node := nodeProject(t, dir, "jose", "the README's Node snippet needs Node.js 20.19+ with npm")
	cmd := exec.CommandContext(t.Context(), node, "--input-type=module", "--eval", code)
	cmd.Dir = dir // --eval resolves "jose" from here
	cmd.Env = append(os.Environ(), "TOKEN="+token)
	return output(cmd)
}

// runPythonSnippet runs the snippet with Debian's python3 and its
// python3-jwt (PyJWT 2.6), as the README says.
func runPythonSnippet(t *testing.T, code, token string) (string, error) {
	t.Helper()
	const python = "/usr/bin/python3"
	hint := "the README's Python snippet needs Debian's PyJWT: apt-get install python3-jwt python3-cryptography"
	if err := exec.Command(python, "-c", "import jwt, cryptography").Run(); err != nil {
		missing(t, hint)
	}
	cmd := exec.CommandContext(t.Context(), python, "-c", code)
	cmd.Env = append(slices.Clone(os.Environ()), "TOKEN="+token)
	return output(cmd)
}

// output is cmd's stdout; its stderr joins the error.
func output(cmd *exec.Cmd) (string, error) {
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), &snippetError{err, stderr.String()}
	}
	return string(out), nil
}

type snippetError struct {
	err    error
	stderr string
}

func (e *snippetError) Error() string { return e.err.Error() + ": " + strings.TrimSpace(e.stderr) }
