package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/edgeauth/edgeauth/apitoken"
	"github.com/edgeauth/edgeauth/server"
	"github.com/edgeauth/edgeauth/statecodec"
	"github.com/edgeauth/edgeauth/userhook"
)

func noEnv(string) string { return "" }

func TestVersionAndUnknownCommand(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"edgeauth", "version"}, noEnv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "edgeauth ") {
		t.Errorf("version: %q", out.String())
	}
	err := run(context.Background(), []string{"edgeauth", "frobnicate"}, noEnv, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `unknown command "frobnicate"`) {
		t.Errorf("unknown command: %v", err)
	}
}

// TestKeygen checks that what keygen prints is accepted by the parsers the
// service uses at start.
func TestKeygen(t *testing.T) {
	for _, alg := range []string{"ES256", "EdDSA", "RS256"} {
		t.Run(alg, func(t *testing.T) {
			var out bytes.Buffer
			if err := run(context.Background(), []string{"edgeauth", "keygen", "-alg", alg}, noEnv, &out, io.Discard); err != nil {
				t.Fatal(err)
			}
			env := map[string]string{}
			for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
				k, v, ok := strings.Cut(line, "=")
				if !ok {
					t.Fatalf("not an env line: %q", line)
				}
				env[k] = strings.Trim(v, "'")
			}
			if _, err := statecodec.ParseKeys(env["EDGEAUTH_STATE_KEYS"]); err != nil {
				t.Errorf("state keys: %v", err)
			}
			set, err := apitoken.ParseSigningKeys(env["EDGEAUTH_SIGNING_KEYS"])
			if err != nil {
				t.Fatalf("signing keys: %v", err)
			}
			k, _ := set.Key(0)
			if k.Algorithm().String() != alg {
				t.Errorf("alg %v, want %s", k.Algorithm(), alg)
			}
			if _, err := userhook.New(userhook.Config{URL: "https://hook.example.test", Secret: env["EDGEAUTH_USERHOOK_SECRET"]}); err != nil {
				t.Errorf("userhook secret: %v", err)
			}
		})
	}
	if err := run(context.Background(), []string{"edgeauth", "keygen", "-alg", "HS256"}, noEnv, io.Discard, io.Discard); err == nil {
		t.Error("keygen accepted HS256")
	}
}

func TestServeRefusesBadConfiguration(t *testing.T) {
	t.Setenv("EDGEAUTH_PROVIDERS", "acme")
	t.Setenv("EDGEAUTH_ACME_CLIENT_SECRET", "do-not-print-me")
	err := run(context.Background(), []string{"edgeauth", "serve"}, noEnv, io.Discard, io.Discard)
	var ce *server.ConfigError
	if !errors.As(err, &ce) || len(ce.Problems) < 4 {
		t.Fatalf("want every problem at once, got %v", err)
	}
	if strings.Contains(err.Error(), "do-not-print-me") {
		t.Error("configuration error echoes a secret")
	}
}

// TestDevModeLoginInBrowser is the README's promise: `edgeauth dev`, a real
// browser, the demo page, the embedded provider's login page, and back to
// tokens that verify against the JWKS.
func TestDevModeLoginInBrowser(t *testing.T) {
	browser := newBrowser(t)
	// Empty: dev mode derives its public URL from the port, as it does for
	// someone who sets nothing.
	publicURL := startEdgeauth(t, []string{"dev"}, map[string]string{"EDGEAUTH_PUBLIC_URL": ""})

	ctx, cancel := context.WithTimeout(browser, 60*time.Second)
	defer cancel()
	err := chromedp.Do(ctx,
		chromedp.Navigate(publicURL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#login-dev`)),
		chromedp.Click(chromedp.CSS(`#login-dev`)),
		chromedp.WaitVisible(chromedp.CSS(`#email`)),
		chromedp.SendKeys(chromedp.CSS(`#email`), "grace@example.com"),
		chromedp.Click(chromedp.CSS(`button[value=login]`)),
		chromedp.WaitVisible(chromedp.CSS(`#result`)),
	)
	if err != nil {
		t.Fatalf("browser flow: %v\npage %s", err, pageText(ctx))
	}
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return v
	}
	status, claimsJSON, rawJSON := text(`#status`), text(`#api-claims`), text(`#raw`)
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot: %v", err)
	}
	if dir := os.Getenv("EDGEAUTH_SCREENSHOTS"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, "dev-login.png"), shot, 0o644)
	}
	if !strings.Contains(status, "Signed in as grace@example.com") {
		t.Errorf("status %q", status)
	}
	var claims map[string]any
	if err := json.Unmarshal([]byte(claimsJSON), &claims); err != nil {
		t.Fatalf("claims on the page: %v", err)
	}
	if sub, _ := claims["sub"].(string); !strings.HasPrefix(sub, "dev|") || claims["iss"] != publicURL {
		t.Errorf("claims %v", claims)
	}

	// The token the page shows verifies against the service's JWKS.
	var body struct {
		API struct{ Access string } `json:"api"`
	}
	if err := json.Unmarshal([]byte(rawJSON), &body); err != nil {
		t.Fatal(err)
	}
	verifyAccessToken(context.Background(), t, publicURL, body.API.Access)
}

// The rest of this file serves every test of the package: edgeauth run
// in-process, the programs started beside it, a client of its API, and a
// browser.

// --- edgeauth ----------------------------------------------------------------

// startEdgeauth runs `edgeauth <args>` in-process, as main would, and returns
// its public URL once it prints "edgeauth listening on <url>". The service
// reads its configuration from the process environment, so env is set with
// t.Setenv (the test cannot be parallel) over these defaults: EDGEAUTH_ADDR, a
// free port of 127.0.0.1; EDGEAUTH_PUBLIC_URL, http:// and that address (the
// printed URL must be it, unless env sets it empty); EDGEAUTH_LOG_LEVEL, warn.
// The service stops when the test ends and must stop without an error; its
// stderr is logged when the test failed.
func startEdgeauth(t *testing.T, args []string, env map[string]string) string {
	t.Helper()
	addr := freeAddr(t)
	vars := map[string]string{
		"EDGEAUTH_ADDR":       addr,
		"EDGEAUTH_PUBLIC_URL": "http://" + addr,
		"EDGEAUTH_LOG_LEVEL":  "warn",
	}
	maps.Copy(vars, env)
	for k, v := range vars {
		t.Setenv(k, v)
	}

	command := strings.Join(append([]string{"edgeauth"}, args...), " ")
	pr, pw := io.Pipe()
	stderr := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(t.Context(), append([]string{"edgeauth"}, args...), noEnv, pw, stderr)
		pw.Close()
	}()
	exited := sync.OnceValue(func() error { return <-done })
	t.Cleanup(func() { // t.Context() is done by now: run is shutting down
		if err := exited(); err != nil {
			t.Errorf("%s: %v", command, err)
		}
		if t.Failed() {
			t.Logf("%s stderr:\n%s", command, stderr)
		}
	})

	lines := bufio.NewScanner(pr)
	if !lines.Scan() {
		t.Fatalf("%s ended before listening: %v", command, exited())
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	got, ok := strings.CutPrefix(lines.Text(), "edgeauth listening on ")
	if want := vars["EDGEAUTH_PUBLIC_URL"]; !ok || got == "" || (want != "" && got != want) {
		t.Fatalf("%s: first line %q, want \"edgeauth listening on %s\"", command, lines.Text(), cmp.Or(want, "<url>"))
	}
	return got
}

// freshKeys returns new EDGEAUTH_STATE_KEYS and EDGEAUTH_SIGNING_KEYS, which
// `edgeauth serve` requires.
func freshKeys(t *testing.T) map[string]string {
	t.Helper()
	_, stateKey, err := statecodec.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	signing, err := apitoken.GenerateSigningKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{"EDGEAUTH_STATE_KEYS": stateKey, "EDGEAUTH_SIGNING_KEYS": string(signing)}
}

// freeAddr returns a 127.0.0.1 address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return "127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// --- programs beside edgeauth ----------------------------------------------

// process is a program a test runs beside edgeauth, such as an OpenID
// Provider or a webhook receiver.
type process struct {
	name  string    // for messages
	argv  []string  // argv[0] is a path, from lookPath
	dir   string    // working directory; the test's when empty
	env   []string  // added to the test's environment
	stop  os.Signal // the signal on which it exits cleanly
	ready string    // the start of the stdout line it prints once it serves
}

// start starts p and returns the rest of its ready line; ctx bounds the wait,
// which ends early if p exits. When the test ends p gets its stop signal (and
// SIGKILL 5 s later if it lingers) and must exit cleanly. Its stderr, in the
// returned buffer, is logged when the test failed; stdout after the ready
// line is discarded.
func (p process) start(ctx context.Context, t *testing.T) (string, *syncBuffer) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), p.argv[0], p.argv[1:]...)
	cmd.Dir = p.dir
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Cancel = func() error { return cmd.Process.Signal(p.stop) }
	cmd.WaitDelay = 5 * time.Second
	stderr := &syncBuffer{}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", p.name, err)
	}
	done := make(chan error, 1)
	go func() {
		err := cmd.Wait()
		pw.Close()
		done <- err
	}()
	exited := sync.OnceValue(func() error { return <-done })
	t.Cleanup(func() { // t.Context() is done by now: p has had its stop signal
		// After the stop signal, a clean exit is reported as the context's error.
		if err := exited(); err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("%s did not stop cleanly: %v\nstderr:\n%s", p.name, err, stderr)
		} else if t.Failed() {
			t.Logf("%s stderr:\n%s", p.name, stderr)
		}
	})

	ready := make(chan string, 1)
	go func() {
		defer close(ready)
		lines := bufio.NewScanner(pr)
		for lines.Scan() {
			if rest, ok := strings.CutPrefix(lines.Text(), p.ready); ok {
				ready <- rest
				break
			}
		}
		_, _ = io.Copy(io.Discard, pr) // keep the pipe flowing
	}()
	select {
	case rest, ok := <-ready:
		if !ok {
			t.Fatalf("%s exited before it was ready: %v", p.name, exited())
		}
		return rest, stderr
	case <-ctx.Done():
		t.Fatalf("%s not ready: %v", p.name, ctx.Err())
		return "", nil
	}
}

// lookPath returns the first of names found in PATH (empty names are
// passed over); when none is, the test stops with missing(t, hint).
func lookPath(t *testing.T, hint string, names ...string) string {
	t.Helper()
	for _, name := range names {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	missing(t, hint)
	return ""
}

// missing stops a test that lacks a tool: it fails in CI, where .ci/run
// installs everything, and is skipped elsewhere, with hint saying how to
// install the tool. The skip is recorded for TestMain's banner, so that a
// passing `go test ./...` still says what it did not run.
func missing(t *testing.T, hint string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(hint)
	}
	skipped.add(t.Name(), hint)
	t.Skip(hint)
}

// skipped lists the tests missing() skipped, in order: "<test>: <hint>".
var skipped skipList

type skipList struct {
	mu    sync.Mutex
	lines []string
}

func (s *skipList) add(test, hint string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lines = append(s.lines, test+": "+hint)
}

func (s *skipList) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.lines)
}

// nodeProject returns the path of node for the npm project in dir, after
// `npm ci` there when node_modules lacks pkg (a fresh clone). needs says what
// the project needs, e.g. "the Node receiver needs Node.js 18+ with npm".
func nodeProject(t *testing.T, dir, pkg, needs string) string {
	t.Helper()
	hint := fmt.Sprintf("%s (e.g. apt-get install nodejs npm), then `cd %s && npm ci`", needs, dir)
	node := lookPath(t, hint, "node")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err == nil {
		return node
	}
	npm := lookPath(t, hint, "npm")
	t.Logf("%s/node_modules lacks %s: running npm ci", dir, pkg)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
	}
	return node
}

// syncBuffer is a bytes.Buffer safe for a writer goroutine and readers,
// which can wait for some text to be written.
type syncBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	written chan struct{} // closed and replaced at each Write
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.written != nil {
		close(s.written)
		s.written = nil
	}
	return s.b.Write(p)
}

func (s *syncBuffer) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Len()
}

func (s *syncBuffer) since(from int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()[from:]
}

// waitFor reports whether text appears after offset from before ctx ends.
func (s *syncBuffer) waitFor(ctx context.Context, from int, text string) bool {
	for {
		s.mu.Lock()
		found := strings.Contains(s.b.String()[from:], text)
		if s.written == nil {
			s.written = make(chan struct{})
		}
		written := s.written
		s.mu.Unlock()
		if found {
			return true
		}
		select {
		case <-written:
		case <-ctx.Done():
			return false
		}
	}
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// --- a client of edgeauth's API ------------------------------------------------

func getJSON(ctx context.Context, t *testing.T, u string, out any) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		t.Fatalf("GET %s: %v\n%s", u, err, body)
	}
}

// postToken posts in to /oauth2/token as JSON, leaving out the empty values,
// and returns the status and body of the answer.
func postToken(ctx context.Context, t *testing.T, publicURL string, in map[string]string) (int, []byte) {
	t.Helper()
	for k, v := range in {
		if v == "" {
			delete(in, k) // absent, as an app that has no value would send it
		}
	}
	body, _ := json.Marshal(in)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, publicURL+"/oauth2/token", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST /oauth2/token: %v", err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("POST /oauth2/token: %v", err)
	}
	return resp.StatusCode, out
}

// randomBinding is what a frontend would generate: 32 base64url characters.
func randomBinding(t *testing.T) string {
	t.Helper()
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// checkProblem checks a problem+json answer and returns its detail.
func checkProblem(t *testing.T, status int, body []byte, wantStatus int, wantCode, wantCheck, inDetail string) string {
	t.Helper()
	var p struct {
		Status int    `json:"status"`
		Code   string `json:"code"`
		Check  string `json:"check"`
		Detail string `json:"detail"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("status %d, body is not JSON: %v\n%s", status, err, body)
	}
	if status != wantStatus || p.Status != wantStatus || p.Code != wantCode {
		t.Fatalf("got %d %s, want %d %s\n%s", status, p.Code, wantStatus, wantCode, body)
	}
	if wantCheck != "" && p.Check != wantCheck {
		t.Errorf("check %q, want %q\n%s", p.Check, wantCheck, body)
	}
	if !strings.Contains(p.Detail, inDetail) {
		t.Errorf("detail %q does not mention %q", p.Detail, inDetail)
	}
	return p.Detail
}

// verifyAccessToken checks an API access token against edgeauth's JWKS,
// issuer and default audience (both the public URL), and returns it.
func verifyAccessToken(ctx context.Context, t *testing.T, publicURL, token string) jwt.Token {
	t.Helper()
	set, err := jwk.Fetch(ctx, publicURL+"/.well-known/jwks.json", jwk.WithHTTPClient(&http.Client{Timeout: 5 * time.Second}))
	if err != nil {
		t.Fatalf("edgeauth JWKS: %v", err)
	}
	at, err := jwt.ParseString(token, jwt.WithKeySet(set), jwt.WithIssuer(publicURL), jwt.WithAudience(publicURL))
	if err != nil {
		t.Fatalf("API access token does not verify against %s/.well-known/jwks.json: %v", publicURL, err)
	}
	return at
}

// --- the browser ---------------------------------------------------------------

// newBrowser starts headless Chromium in a profile of its own and returns
// its context. Limit steps with a context derived from it
// (context.WithTimeout). The browser closes when t.Context() is done, before
// the cleanups run: a server's graceful shutdown would otherwise wait for
// the connections Chromium keeps open (net/http gives a new, unused one 5 s).
// Without Chromium the test stops (see missing).
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	exe := lookPath(t, "chromium not installed: apt-get install chromium (bash .ci/run does it)",
		os.Getenv("EDGEAUTH_CHROMIUM"), "chromium", "chromium-browser")
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first action starts the browser, which lives as long as the
	// context of that action: this one, without a timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// pageText is the current URL and the text of the page, for failure messages.
func pageText(ctx context.Context) string {
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	return fmt.Sprintf("at %s:\n%s", loc, text)
}
