package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jwt"

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
			set, err := server.ParseSigningKeys(env["EDGEAUTH_SIGNING_KEYS"])
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

// startDev runs `edgeauth dev` on a free port and returns its public URL
// once it prints that it is listening.
func startDev(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	t.Setenv("EDGEAUTH_ADDR", "127.0.0.1:"+strconv.Itoa(port))
	t.Setenv("EDGEAUTH_LOG_LEVEL", "warn")

	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"edgeauth", "dev"}, noEnv, pw, io.Discard)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("dev server: %v", err)
		}
	})
	lines := bufio.NewScanner(pr)
	if !lines.Scan() {
		t.Fatalf("dev server ended before listening: %v", <-done)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	publicURL, ok := strings.CutPrefix(lines.Text(), "edgeauth listening on ")
	if !ok {
		t.Fatalf("unexpected first line %q", lines.Text())
	}
	return publicURL
}

// chromiumPath finds Debian's chromium. Outside CI a missing browser skips
// the test with the command that installs it; in CI it fails.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("EDGEAUTH_CHROMIUM"), "chromium", "chromium-browser"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is required in CI (apt-get install chromium)")
	}
	t.Skip("chromium not installed: apt-get install chromium (bash .ci/run does it)")
	return ""
}

// TestDevModeLoginInBrowser is the README's promise: `edgeauth dev`, a real
// browser, the demo page, the embedded provider's login page, and back to
// tokens that verify against the JWKS.
func TestDevModeLoginInBrowser(t *testing.T) {
	exe := chromiumPath(t)
	publicURL := startDev(t)

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
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	defer cancelTimeout()

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
		page, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`body`)))
		t.Fatalf("browser flow: %v\npage text: %s", err, page)
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
	set, err := jwk.Fetch(context.Background(), publicURL+"/.well-known/jwks.json", jwk.WithHTTPClient(&http.Client{Timeout: 5 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jwt.ParseString(body.API.Access, jwt.WithKeySet(set), jwt.WithIssuer(publicURL), jwt.WithAudience(publicURL)); err != nil {
		t.Errorf("access token from the page does not verify: %v", err)
	}
}
