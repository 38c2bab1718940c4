package main

// The first hour of a new user, following the README word by word: help,
// keys from keygen into check and serve, the skip banner.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/edgeauth/edgeauth/oidc/oidctest"
)

// TestHelp: `edgeauth help` lists every command with its flags, and
// `edgeauth <command> --help` prints that command's usage and succeeds.
func TestHelp(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"edgeauth", "help"}, noEnv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"serve ", "dev ", "check ", "keygen ", "version ",
		"--env-file FILE", "--userhook-url URL", "--alg ALG", "--export",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, out.String())
		}
	}
	if n := strings.Count(out.String(), "--env-file"); n != 2 {
		t.Errorf("help lists --env-file %d times, want under serve and check", n)
	}

	for _, tc := range []struct {
		args  []string
		flags []string
	}{
		{[]string{"serve", "--help"}, []string{"--env-file"}},
		{[]string{"check", "-h"}, []string{"--env-file"}},
		{[]string{"dev", "--help"}, []string{"--userhook-url"}},
		{[]string{"keygen", "--help"}, []string{"--alg", "--export"}},
		{[]string{"help", "keygen"}, []string{"--alg", "--export"}},
		{[]string{"--env-file", ".env", "--help"}, []string{"--env-file"}}, // serve, the default
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), append([]string{"edgeauth"}, tc.args...), noEnv, &out, &errOut)
			if err != nil {
				t.Fatalf("exit with %v, want 0", err)
			}
			cmd := tc.args[0]
			if cmd == "help" {
				cmd = tc.args[1]
			} else if strings.HasPrefix(cmd, "-") {
				cmd = "serve"
			}
			if !strings.HasPrefix(out.String(), "usage: edgeauth "+cmd) {
				t.Errorf("stdout %q, want the usage of %s", out.String(), cmd)
			}
			for _, f := range tc.flags {
				if !strings.Contains(out.String(), f) {
					t.Errorf("usage lacks %s:\n%s", f, out.String())
				}
			}
			if errOut.Len() > 0 {
				t.Errorf("stderr %q", errOut.String())
			}
		})
	}

	var errOut bytes.Buffer
	err := run(context.Background(), []string{"edgeauth", "serve", "--frobnicate"}, noEnv, io.Discard, &errOut)
	if err == nil || !strings.Contains(err.Error(), "frobnicate") || !strings.Contains(errOut.String(), "--env-file") {
		t.Errorf("unknown flag: %v, stderr %q", err, errOut.String())
	}
	if err := run(context.Background(), []string{"edgeauth", "check", "extra"}, noEnv, io.Discard, io.Discard); err == nil {
		t.Error("check accepted a stray argument")
	}
}

// localProvider starts an in-process OpenID Provider and returns the
// variables that configure edgeauth for it (without keys).
func localProvider(t *testing.T) map[string]string {
	t.Helper()
	op := oidctest.NewServer(oidctest.Options{Clients: []oidctest.Client{
		{ID: "app", Secret: "app-secret", RedirectURIs: []string{"http://localhost:3000/callback"}},
	}})
	t.Cleanup(op.Close)
	return map[string]string{
		"EDGEAUTH_PROVIDERS":        "op",
		"EDGEAUTH_OP_ISSUER":        op.Issuer(),
		"EDGEAUTH_OP_CLIENT_ID":     "app",
		"EDGEAUTH_OP_CLIENT_SECRET": "app-secret",
		"EDGEAUTH_OP_REDIRECT_URI":  "http://localhost:3000/callback",
	}
}

// unsetForTest unsets names for this test and restores them after it:
// LoadEnvFile sets only what the environment lacks, and what it sets must
// not outlive the test.
func unsetForTest(t *testing.T, names ...string) {
	t.Helper()
	for _, name := range names {
		t.Setenv(name, "") // registers the restore
		if err := os.Unsetenv(name); err != nil {
			t.Fatal(err)
		}
	}
}

// TestKeygenExportEval is the README's `eval "$(go run . keygen --export)"`:
// bash exports the values exactly, and check accepts them.
func TestKeygenExportEval(t *testing.T) {
	bash := lookPath(t, "bash not installed: apt-get install bash", "bash")
	var keys bytes.Buffer
	if err := run(context.Background(), []string{"edgeauth", "keygen", "--export", "--alg", "RS256"}, noEnv, &keys, io.Discard); err != nil {
		t.Fatal(err)
	}
	// A child process sees only exported variables: the bug was plain
	// assignments, which eval keeps in the shell.
	cmd := exec.Command(bash, "-c", `eval "$EDGEAUTH_KEYGEN_OUT" && env -0`)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "EDGEAUTH_KEYGEN_OUT=" + keys.String()}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bash eval: %v", err)
	}
	exported := map[string]string{}
	for _, kv := range strings.Split(string(out), "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "EDGEAUTH_KEYGEN_OUT" {
			exported[k] = v
		}
	}
	for _, name := range []string{"EDGEAUTH_STATE_KEYS", "EDGEAUTH_SIGNING_KEYS", "EDGEAUTH_USERHOOK_SECRET"} {
		if exported[name] == "" {
			t.Fatalf("%s not exported by eval of:\n%s", name, keys.String())
		}
	}
	if !json.Valid([]byte(exported["EDGEAUTH_SIGNING_KEYS"])) {
		t.Error("EDGEAUTH_SIGNING_KEYS is not the JWK Set after eval")
	}

	for k, v := range localProvider(t) {
		t.Setenv(k, v)
	}
	t.Setenv("EDGEAUTH_PUBLIC_URL", "http://localhost:8080")
	for _, name := range []string{"EDGEAUTH_STATE_KEYS", "EDGEAUTH_SIGNING_KEYS", "EDGEAUTH_USERHOOK_SECRET"} {
		t.Setenv(name, exported[name])
	}
	var checked bytes.Buffer
	if err := run(t.Context(), []string{"edgeauth", "check"}, noEnv, &checked, io.Discard); err != nil {
		t.Fatalf("check after eval: %v\n%s", err, checked.String())
	}
	if !strings.Contains(checked.String(), "configuration ok") {
		t.Errorf("check: %s", checked.String())
	}
}

// TestEnvFile is the README's `go run . keygen > .env` then
// `serve --env-file .env`: serve signs with the file's key, the
// environment wins over the file, and a bad line is named by number only.
func TestEnvFile(t *testing.T) {
	var keys bytes.Buffer
	if err := run(context.Background(), []string{"edgeauth", "keygen"}, noEnv, &keys, io.Discard); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, ".env")
	content := "# made by edgeauth keygen\n" + keys.String() +
		"\nexport EDGEAUTH_LOG_LEVEL=\"debug\"  # kept from the environment\n" +
		"DATABASE_URL='postgres://not-ours'\n"
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	fileVars, err := parseEnvText(keys.String())
	if err != nil {
		t.Fatal(err)
	}
	unsetForTest(t, "EDGEAUTH_STATE_KEYS", "EDGEAUTH_SIGNING_KEYS", "EDGEAUTH_USERHOOK_SECRET", "DATABASE_URL")

	var checked, notes bytes.Buffer
	env := localProvider(t)
	for k, v := range env {
		t.Setenv(k, v)
	}
	t.Setenv("EDGEAUTH_LOG_LEVEL", "warn")
	t.Setenv("EDGEAUTH_PUBLIC_URL", "http://localhost:8080")
	if err := run(t.Context(), []string{"edgeauth", "check", "--env-file", file}, noEnv, &checked, &notes); err != nil {
		t.Fatalf("check --env-file: %v\n%s", err, notes.String())
	}
	if !strings.Contains(notes.String(), "EDGEAUTH_LOG_LEVEL: kept") || !strings.Contains(notes.String(), "ignored DATABASE_URL") {
		t.Errorf("notes on stderr: %q", notes.String())
	}
	if os.Getenv("EDGEAUTH_LOG_LEVEL") != "warn" {
		t.Error("--env-file overrode a variable of the environment")
	}
	if _, set := os.LookupEnv("DATABASE_URL"); set {
		t.Error("--env-file set a variable that is not edgeauth's")
	}

	unsetForTest(t, "EDGEAUTH_STATE_KEYS", "EDGEAUTH_SIGNING_KEYS", "EDGEAUTH_USERHOOK_SECRET")
	publicURL := startEdgeauth(t, []string{"serve", "--env-file", file}, env)
	var served struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	getJSON(t.Context(), t, publicURL+"/.well-known/jwks.json", &served)
	var fileSet struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal([]byte(fileVars["EDGEAUTH_SIGNING_KEYS"]), &fileSet); err != nil {
		t.Fatal(err)
	}
	if len(served.Keys) != 1 || len(fileSet.Keys) != 1 || served.Keys[0].Kid != fileSet.Keys[0].Kid {
		t.Errorf("serve publishes %v, the file holds %v", served.Keys, fileSet.Keys)
	}

	bad := filepath.Join(dir, "bad.env")
	if err := os.WriteFile(bad, []byte("EDGEAUTH_STATE_KEYS='s3cret-value\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err = run(t.Context(), []string{"edgeauth", "serve", "--env-file", bad}, noEnv, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "line 1") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("bad env file: %v", err)
	}
}

// parseEnvText reads NAME=VALUE lines as keygen prints them.
func parseEnvText(s string) (map[string]string, error) {
	vars := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("not an env line: %q", line)
		}
		vars[k] = strings.Trim(v, "'")
	}
	return vars, nil
}

// TestMain runs the tests, then says loudly which were skipped for a
// missing tool (see missing), with the command that installs it.
func TestMain(m *testing.M) {
	code := m.Run()
	if lines := skipped.list(); len(lines) > 0 {
		announceSkips(lines)
	}
	os.Exit(code)
}

// announceSkips writes the skip banner to stderr, and to the terminal when
// stderr is not it: `go test ./...` shows a passing package's output only
// with -v, and a skip that nobody sees is how a suite rots.
func announceSkips(lines []string) {
	banner := skipBanner(lines)
	fmt.Fprint(os.Stderr, banner)
	if fi, err := os.Stderr.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		return
	}
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		fmt.Fprint(tty, banner)
		tty.Close()
	}
}

func skipBanner(lines []string) string {
	var b strings.Builder
	rule := strings.Repeat("!", 72)
	fmt.Fprintf(&b, "\n%s\nSKIPPED %d tests of package github.com/edgeauth/edgeauth (with CI set they fail):\n", rule, len(lines))
	for _, l := range lines {
		fmt.Fprintf(&b, "  %s\n", l)
	}
	fmt.Fprintf(&b, "bash .ci/run installs everything they need.\n%s\n", rule)
	return b.String()
}

// TestMissingRecordsSkip: outside CI, missing skips the test and records it
// for the banner; in CI it fails the test instead (and records nothing).
func TestMissingRecordsSkip(t *testing.T) {
	if os.Getenv("EDGEAUTH_TEST_MISSING_IN_CI") == "1" { // the child below
		missing(t, "frob not installed")
		return
	}
	t.Setenv("CI", "")
	before := len(skipped.list())
	var sub *testing.T
	t.Run("without-tool", func(t *testing.T) {
		sub = t
		missing(t, "frob not installed: apt-get install frob")
		t.Error("missing returned")
	})
	if !sub.Skipped() {
		t.Error("missing did not skip the test")
	}
	got := skipped.list()
	want := "TestMissingRecordsSkip/without-tool: frob not installed: apt-get install frob"
	if len(got) != before+1 || got[before] != want {
		t.Fatalf("recorded %q, want %q last", got, want)
	}
	banner := skipBanner(got[before:])
	if !strings.Contains(banner, "SKIPPED 1 tests") || !strings.Contains(banner, want) {
		t.Errorf("banner:\n%s", banner)
	}
	// This skip was the test's own: the banner at the end is for real ones.
	skipped.mu.Lock()
	skipped.lines = slices.Delete(skipped.lines, before, before+1)
	skipped.mu.Unlock()

	// In CI the same call is a failure, recorded by nobody. A failing
	// subtest fails its parent, so it runs in a child process.
	cmd := exec.Command(os.Args[0], "-test.run=^TestMissingRecordsSkip$", "-test.count=1")
	cmd.Env = append(os.Environ(), "CI=true", "EDGEAUTH_TEST_MISSING_IN_CI=1")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "frob not installed") || strings.Contains(string(out), "SKIPPED") {
		t.Errorf("in CI, missing should fail the test without a skip banner: %v\n%s", err, out)
	}
}

// TestDemoPageHints: the demo page opened at another origin than PUBLIC_URL
// says where to go; and a callback for a login this tab did not start (the
// README's curl walkthrough) shows code, state, iss and step 3 filled in,
// which, pasted into bash, gets the tokens.
func TestDemoPageHints(t *testing.T) {
	bash := lookPath(t, "bash not installed: apt-get install bash", "bash")
	lookPath(t, "curl not installed: apt-get install curl", "curl")
	browser := newBrowser(t)
	publicURL := startEdgeauth(t, []string{"dev"}, map[string]string{"EDGEAUTH_PUBLIC_URL": ""})
	ctx, cancel := context.WithTimeout(browser, 60*time.Second)
	defer cancel()

	// 127.0.0.1 is the same server as localhost, but not the same origin.
	other := strings.Replace(publicURL, "localhost", "127.0.0.1", 1)
	err := chromedp.Do(ctx,
		chromedp.Navigate(other+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#wrong-origin`)),
	)
	if err != nil {
		t.Fatalf("wrong origin: %v\npage %s", err, pageText(ctx))
	}
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("read %s: %v\npage %s", sel, err, pageText(ctx))
		}
		return v
	}
	link, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(`#go-public`), "href"))
	if href := link.Value; err != nil || href != publicURL+"/" {
		t.Errorf("the hint links to %q (%v), want %s/", href, err, publicURL)
	}
	if text := pageText(ctx); !strings.Contains(text, publicURL) || strings.Contains(text, "Log in with") {
		t.Errorf("wrong-origin page %s", text)
	}

	// Step 1 with curl, step 2 in the browser, step 3 from the page.
	dir := t.TempDir()
	step1 := exec.CommandContext(ctx, bash, "-c", "curl -s -c jar '"+publicURL+"/oauth2/url?provider=dev'")
	step1.Dir = dir
	out, err := step1.Output()
	if err != nil {
		t.Fatalf("step 1: %v", err)
	}
	var authz struct{ URL string }
	if err := json.Unmarshal(out, &authz); err != nil {
		t.Fatalf("step 1: %v\n%s", err, out)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(authz.URL),
		chromedp.WaitVisible(chromedp.CSS(`#email`)),
		chromedp.SendKeys(chromedp.CSS(`#email`), "grace@example.com"),
		chromedp.Click(chromedp.CSS(`button[value=login]`)),
		chromedp.WaitVisible(chromedp.CSS(`#callback-params`)),
	)
	if err != nil {
		t.Fatalf("callback page: %v\npage %s", err, pageText(ctx))
	}
	code, state, iss, curl := text(`#cb-code`), text(`#cb-state`), text(`#cb-iss`), text(`#cb-curl`)
	if code == "" || state == "" || iss != publicURL+"/dev/op" {
		t.Errorf("shown: code %q, state %q, iss %q", code, state, iss)
	}
	if !strings.Contains(curl, code) || !strings.Contains(curl, publicURL+"/oauth2/token") {
		t.Errorf("step 3 shown:\n%s", curl)
	}
	step3 := exec.CommandContext(ctx, bash, "-c", curl)
	step3.Dir = dir
	out, err = step3.Output()
	if err != nil {
		t.Fatalf("step 3 as shown: %v\n%s", err, curl)
	}
	var tokens struct {
		API struct{ Access string } `json:"api"`
	}
	if err := json.Unmarshal(out, &tokens); err != nil || tokens.API.Access == "" {
		t.Fatalf("step 3 answered %s (%v)", out, err)
	}
	verifyAccessToken(ctx, t, publicURL, tokens.API.Access)
}
