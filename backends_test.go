package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/oidc/oidctest"
)

// TestExampleBackendsWithDevLogin runs each example backend of examples/
// (Node: express + jose's createRemoteJWKSet; Go: net/http + apitoken) as a
// real process beside `edgeauth dev`, which sends it the user webhook.
// People log in through the embedded provider as a frontend would, without
// a browser (devLogin), and the frontend calls the backend's protected
// GET /api/me with the API access token: the backend verifies it against
// edgeauth's JWKS and answers the user its webhook created for the token's
// sub. Without a token, with one whose signature was changed, with the
// refresh token or the provider's ID token, it answers 401. The users file
// the webhook wrote holds the same rows.
//
// The subtests run one after another: edgeauth reads its configuration from
// the process environment (t.Setenv).
func TestExampleBackendsWithDevLogin(t *testing.T) {
	stacks := []struct {
		name string
		dir  string
		// command returns the backend's argv, to run in dir; it stops the
		// test when the runtime is missing.
		command func(t *testing.T, dir string) []string
	}{
		{"node", "examples/node", func(t *testing.T, dir string) []string {
			return []string{nodeProject(t, dir, "jose", "the Node example needs Node.js 20.19+ with npm"), "server.js"}
		}},
		{"go", "examples/go", func(t *testing.T, dir string) []string {
			return []string{goBuild(t, dir)}
		}},
	}
	for _, st := range stacks {
		t.Run(st.name, func(t *testing.T) {
			argv := st.command(t, st.dir)
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()

			// The backend needs edgeauth's issuer and edgeauth the backend's
			// port: choose edgeauth's address first.
			edgeAddr := freeAddr(t)
			issuer := "http://" + edgeAddr
			secret := newSecret(t)
			usersFile := filepath.Join(t.TempDir(), "users.json")
			port, _ := process{
				name: st.name + " backend",
				argv: argv,
				dir:  st.dir,
				env: []string{
					"PORT=0",
					"EDGEAUTH_USERHOOK_SECRET=" + secret,
					"EDGEAUTH_TOKEN_ISSUER=" + issuer,
					"USERS_FILE=" + usersFile,
				},
				stop:  syscall.SIGTERM,
				ready: "listening on :",
			}.start(ctx, t)
			backend := "http://127.0.0.1:" + port
			edge := startEdgeauth(t, []string{"dev", "--userhook-url", backend + "/userhook"}, map[string]string{
				"EDGEAUTH_ADDR":            edgeAddr,
				"EDGEAUTH_PUBLIC_URL":      issuer,
				"EDGEAUTH_USERHOOK_SECRET": secret,
			})

			// login signs email in and returns the token response.
			type tokens struct {
				API struct {
					Access  string `json:"access"`
					Refresh string `json:"refresh"`
				} `json:"api"`
				Provider struct {
					IDToken string `json:"id_token"`
				} `json:"provider"`
			}
			login := func(t *testing.T, email string) tokens {
				t.Helper()
				status, body := devLogin(ctx, t, edge, email)
				if status != http.StatusOK {
					t.Fatalf("POST /oauth2/token for %s: %d %s", email, status, body)
				}
				var res tokens
				if err := json.Unmarshal(body, &res); err != nil || res.API.Access == "" || res.API.Refresh == "" {
					t.Fatalf("token response: %v\n%s", err, body)
				}
				return res
			}
			type user struct {
				ID, Provider, Subject, Email string
			}
			// me calls GET /api/me with the API access token and checks
			// that the backend answers the user the webhook created.
			me := func(t *testing.T, access, wantID, email string) {
				t.Helper()
				status, hdr, body := getBearer(ctx, t, backend+"/api/me", access)
				if status != http.StatusOK {
					t.Fatalf("GET /api/me with %s's access token: %d %s %s", email, status, hdr.Get("WWW-Authenticate"), body)
				}
				var got struct {
					Sub   string `json:"sub"`
					Email string `json:"email"`
					User  *user  `json:"user"`
				}
				if err := json.Unmarshal(body, &got); err != nil {
					t.Fatalf("GET /api/me: %v\n%s", err, body)
				}
				want := user{ID: wantID, Provider: "dev", Subject: oidctest.Subject(email), Email: email}
				if got.Sub != wantID || got.Email != email || got.User == nil || *got.User != want {
					t.Errorf("GET /api/me = %s, want sub %q, email %q and the webhook's user %+v", body, wantID, email, want)
				}
			}

			const ada, bob = "ada@example.com", "bob@example.com"
			started := time.Now()
			adaTokens := login(t, ada)
			me(t, adaTokens.API.Access, "user-1", ada)
			t.Logf("%s: the first login and GET /api/me took %v (with the backend's first JWKS fetch)", st.name, time.Since(started).Round(time.Millisecond))
			if at := verifyAccessToken(ctx, t, edge, adaTokens.API.Access); at.Subject() != "user-1" {
				t.Errorf("api.access sub = %q, want the webhook's user_id user-1", at.Subject())
			}
			me(t, login(t, bob).API.Access, "user-2", bob)
			me(t, login(t, ada).API.Access, "user-1", ada) // found again, not created twice

			t.Run("refused", func(t *testing.T) {
				for _, tc := range []struct {
					name, token string
					challenge   string // the WWW-Authenticate error, "" for none (RFC 6750 §3.1)
				}{
					{"no token", "", ""},
					{"tampered signature", tamperSignature(t, adaTokens.API.Access), "invalid_token"},
					{"the refresh token", adaTokens.API.Refresh, "invalid_token"},
					{"the provider's ID token", adaTokens.Provider.IDToken, "invalid_token"},
				} {
					t.Run(tc.name, func(t *testing.T) {
						status, hdr, body := getBearer(ctx, t, backend+"/api/me", tc.token)
						challenge := hdr.Get("WWW-Authenticate")
						if status != http.StatusUnauthorized || !strings.HasPrefix(challenge, "Bearer ") {
							t.Fatalf("GET /api/me: %d, WWW-Authenticate %q, want 401 with a Bearer challenge\n%s", status, challenge, body)
						}
						if hasErr := strings.Contains(challenge, `error="invalid_token"`); hasErr != (tc.challenge != "") {
							t.Errorf("WWW-Authenticate %q, want error=%q", challenge, tc.challenge)
						}
						var p struct{ Code string }
						if err := json.Unmarshal(body, &p); err != nil || p.Code != "invalid_token" ||
							!strings.HasPrefix(hdr.Get("Content-Type"), "application/problem+json") {
							t.Errorf("body %s (%s), want a problem with code invalid_token", body, hdr.Get("Content-Type"))
						}
					})
				}
			})

			// The user table the webhook filled: one row per person.
			data, err := os.ReadFile(usersFile)
			if err != nil {
				t.Fatalf("the webhook wrote no users file: %v", err)
			}
			var rows []user
			if err := json.Unmarshal(data, &rows); err != nil {
				t.Fatalf("users file: %v\n%s", err, data)
			}
			want := []user{
				{ID: "user-1", Provider: "dev", Subject: oidctest.Subject(ada), Email: ada},
				{ID: "user-2", Provider: "dev", Subject: oidctest.Subject(bob), Email: bob},
			}
			if len(rows) != len(want) || rows[0] != want[0] || rows[1] != want[1] {
				t.Errorf("users file holds %+v, want %+v", rows, want)
			}
		})
	}
}

// devLogin signs email in through `edgeauth dev` at publicURL without a
// browser, as a frontend and a person would: GET /oauth2/url for the
// embedded provider with a fresh binding; the provider's login page fetched
// and its form posted back with email, as the person submits it; and POST
// /oauth2/token with the code, state and iss of the redirect that follows
// (not followed: it goes to the app). It returns the status and body of
// edgeauth's answer to the last.
func devLogin(ctx context.Context, t *testing.T, publicURL, email string) (int, []byte) {
	t.Helper()
	binding := randomBinding(t)
	var start struct {
		URL   string `json:"url"`
		State string `json:"state"`
	}
	getJSON(ctx, t, publicURL+"/oauth2/url?"+url.Values{"provider": {"dev"}, "binding": {binding}}.Encode(), &start)
	if !strings.HasPrefix(start.URL, publicURL+"/dev/op/") {
		t.Fatalf("/oauth2/url gave %q, want the embedded provider's authorization URL under %s/dev/op/", start.URL, publicURL)
	}
	back := providerLogin(ctx, t, start.URL, email)
	if !strings.HasPrefix(back.String(), publicURL+"/callback?") {
		t.Fatalf("the provider redirected to %q, want %s/callback", back, publicURL)
	}
	q := back.Query()
	if q.Get("error") != "" || q.Get("code") == "" {
		t.Fatalf("the provider answered %s, want a code", back.RawQuery)
	}
	if q.Get("state") != start.State {
		t.Fatalf("the provider sent back state %q, want the one edgeauth gave %q", q.Get("state"), start.State)
	}
	return postToken(ctx, t, publicURL, map[string]string{
		"provider": "dev", "code": q.Get("code"), "state": q.Get("state"), "iss": q.Get("iss"), "binding": binding,
	})
}

// do sends req and returns the status, headers and (at most 1 MiB of) body.
func do(t *testing.T, client *http.Client, req *http.Request) (int, http.Header, []byte) {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	return resp.StatusCode, resp.Header, body
}

// getBearer GETs u with "Authorization: Bearer <token>", or with no
// Authorization when token is empty.
func getBearer(ctx context.Context, t *testing.T, u, token string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(t, &http.Client{Timeout: 10 * time.Second}, req)
}

// tamperSignature changes one character in the middle of a JWS's signature,
// where every bit counts (the last character of a base64url segment has
// spare bits a lenient decoder ignores).
func tamperSignature(t *testing.T, token string) string {
	t.Helper()
	i := strings.LastIndexByte(token, '.') + 10
	if i < 10 || i >= len(token) {
		t.Fatalf("not a JWS: %d characters", len(token))
	}
	c := byte('A')
	if token[i] == 'A' {
		c = 'B'
	}
	return token[:i] + string(c) + token[i+1:]
}

// goBuild builds the Go program in dir into the test's temporary directory
// and returns its path.
func goBuild(t *testing.T, dir string) string {
	t.Helper()
	goCmd := lookPath(t, "the Go example needs the go command in PATH", "go")
	bin := filepath.Join(t.TempDir(), filepath.Base(dir))
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, goCmd, "build", "-o", bin, ".")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build in %s: %v\n%s", dir, err, out)
	}
	return bin
}
