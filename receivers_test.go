package main

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/oidc/oidctest"
	"github.com/edgeauth/edgeauth/userhook"
)

// TestExampleReceiversThroughLogin runs each example receiver of
// examples/ (its README: Python, Node, Go) as a real process behind
// `edgeauth serve`, and drives logins through the service against an
// in-process OpenID Provider, as a frontend and its backend would: the
// person's user_id from the receiver becomes the token's sub, the receiver's
// refusal reaches the person, and a receiver that cannot verify the
// signature stops the login. The receivers log only events whose signature
// and timestamp they verified (EVENTS_LOG), which shows that they did.
//
// The subtests run one after another: edgeauth reads its configuration from
// the process environment (t.Setenv).
func TestExampleReceiversThroughLogin(t *testing.T) {
	const (
		provider     = "op"
		clientID     = "edgeauth-receivers"
		clientSecret = "receivers-client-secret"
		redirectURI  = "https://app.example.test/callback" // never fetched: op.Login returns it
		deniedMsg    = "Sign-ups from denied.test are not allowed."
	)
	op := oidctest.NewServer(oidctest.Options{Clients: []oidctest.Client{
		{ID: clientID, Secret: clientSecret, RedirectURIs: []string{redirectURI}},
	}})
	t.Cleanup(op.Close)

	receivers := []struct {
		name string
		dir  string
		// command returns the receiver's argv, to run in dir, after
		// whatever it needs first; it stops the test when the runtime is
		// missing.
		command func(t *testing.T, dir string) []string
		stop    os.Signal // the receiver exits cleanly on it
	}{
		{"python", "examples/python", func(t *testing.T, _ string) []string {
			return []string{lookPath(t, "the Python receiver needs python3 (3.8+): apt-get install python3", "python3"), "receiver.py"}
		}, os.Interrupt},
		{"node", "examples/node", func(t *testing.T, dir string) []string {
			return []string{nodeProject(t, dir, "jose", "the Node receiver needs Node.js 20.19+ with npm"), "server.js"}
		}, syscall.SIGTERM},
		{"go", "examples/go", func(t *testing.T, dir string) []string {
			return []string{goBuild(t, dir)}
		}, syscall.SIGTERM},
	}
	for _, rc := range receivers {
		t.Run(rc.name, func(t *testing.T) {
			argv := rc.command(t, rc.dir)
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()

			secret := newSecret(t)
			eventsLog := filepath.Join(t.TempDir(), "events.jsonl")
			port, _ := process{
				name: rc.name + " receiver",
				argv: argv,
				dir:  rc.dir,
				env: []string{
					"PORT=0",
					"EDGEAUTH_USERHOOK_SECRET=" + secret,
					"DENY_DOMAINS=denied.test",
					"EVENTS_LOG=" + eventsLog,
				},
				stop:  rc.stop,
				ready: "listening on :",
			}.start(ctx, t)
			hookURL := "http://127.0.0.1:" + port + "/userhook"

			// serve starts edgeauth for provider op with the user webhook at
			// hookURL, signed with secret.
			serve := func(t *testing.T, secret string) string {
				t.Helper()
				env := map[string]string{
					"EDGEAUTH_PROVIDERS":        provider,
					"EDGEAUTH_OP_ISSUER":        op.Issuer(),
					"EDGEAUTH_OP_CLIENT_ID":     clientID,
					"EDGEAUTH_OP_CLIENT_SECRET": clientSecret,
					"EDGEAUTH_OP_REDIRECT_URI":  redirectURI,
					"EDGEAUTH_USERHOOK_URL":     hookURL,
					"EDGEAUTH_USERHOOK_SECRET":  secret,
				}
				maps.Copy(env, freshKeys(t))
				return startEdgeauth(t, []string{"serve"}, env)
			}
			login := func(t *testing.T, publicURL, email string) (int, []byte) {
				t.Helper()
				return loginWithoutBrowser(ctx, t, publicURL, provider, op, email)
			}
			edge := serve(t, secret)

			// A new user: the receiver creates user-1 and adds role=member.
			const ada = "ada@example.com"
			started := time.Now()
			status, body := login(t, edge, ada)
			t.Logf("a login through the %s receiver took %v (all of it: /oauth2/url, the provider, /oauth2/token)", rc.name, time.Since(started).Round(time.Millisecond))
			if status != http.StatusOK {
				t.Fatalf("POST /oauth2/token for %s: %d %s", ada, status, body)
			}
			var res struct {
				API  struct{ Access string } `json:"api"`
				User map[string]any          `json:"user"`
			}
			if err := json.Unmarshal(body, &res); err != nil {
				t.Fatalf("token response: %v\n%s", err, body)
			}
			at := verifyAccessToken(ctx, t, edge, res.API.Access)
			if at.Subject() != "user-1" {
				t.Errorf("api.access sub = %q, want the receiver's user_id %q", at.Subject(), "user-1")
			}
			if role, _ := at.Get("role"); role != "member" {
				t.Errorf("api.access role = %#v, want the receiver's claim %q", role, "member")
			}
			if res.User["id"] != at.Subject() || res.User["role"] != "member" {
				t.Errorf("user = %v, want id %q (the token's sub) and role member", res.User, at.Subject())
			}
			events := readEvents(t, eventsLog)
			if len(events) != 1 {
				t.Fatalf("EVENTS_LOG has %d events, want the 1 login's:\n%v", len(events), events)
			}
			checkLoginEvent(t, events[0], provider, op.Issuer(), ada)

			// A denied domain: the receiver's message reaches the person.
			const eve = "eve@denied.test"
			status, body = login(t, edge, eve)
			if detail := checkProblem(t, status, body, http.StatusForbidden, "user_denied", "", ""); detail != deniedMsg {
				t.Errorf("detail %q, want the receiver's message %q", detail, deniedMsg)
			}
			events = readEvents(t, eventsLog)
			if len(events) != 2 {
				t.Fatalf("EVENTS_LOG has %d events, want 2 (the refused login is verified and logged too):\n%v", len(events), events)
			}
			checkLoginEvent(t, events[1], provider, op.Issuer(), eve)

			t.Run("signed with another secret", func(t *testing.T) {
				// The receiver answers 401, which edgeauth does not retry.
				edge := serve(t, newSecret(t))
				status, body := login(t, edge, ada)
				checkProblem(t, status, body, http.StatusBadGateway, "userhook_unavailable", "", "")
				if events := readEvents(t, eventsLog); len(events) != 2 {
					t.Errorf("EVENTS_LOG has %d events, want still 2: the receiver logged an event it should not have verified:\n%v", len(events), events)
				}
			})
		})
	}
}

// loginWithoutBrowser signs email in through edgeauth at publicURL, as a
// frontend and its backend would, with op standing in for the browser at
// the provider: GET /oauth2/url with a fresh binding, the login at op, and
// POST /oauth2/token with the code, state and iss that came back. It returns
// the status and body of edgeauth's answer to the last.
func loginWithoutBrowser(ctx context.Context, t *testing.T, publicURL, provider string, op *oidctest.Server, email string) (int, []byte) {
	t.Helper()
	binding := randomBinding(t)
	var start struct {
		URL   string `json:"url"`
		State string `json:"state"`
	}
	getJSON(ctx, t, publicURL+"/oauth2/url?"+url.Values{"provider": {provider}, "binding": {binding}}.Encode(), &start)
	back, err := op.Login(start.URL, email)
	if err != nil {
		t.Fatalf("login of %s at the provider: %v", email, err)
	}
	q := back.Query()
	if q.Get("state") != start.State {
		t.Fatalf("the provider sent back state %q, want the one edgeauth gave %q", q.Get("state"), start.State)
	}
	return postToken(ctx, t, publicURL, map[string]string{
		"provider": provider, "code": q.Get("code"), "state": q.Get("state"), "iss": q.Get("iss"), "binding": binding,
	})
}

func newSecret(t *testing.T) string {
	t.Helper()
	s, err := userhook.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// loggedEvent is a line of a receiver's EVENTS_LOG, as DESIGN.md describes
// the event, independently of the userhook package.
type loggedEvent struct {
	Type string `json:"type"`
	Data struct {
		Provider string `json:"provider"`
		Issuer   string `json:"issuer"`
		Subject  string `json:"subject"`
		Email    string `json:"email"`
	} `json:"data"`
}

// readEvents reads a receiver's EVENTS_LOG: one JSON line per event whose
// signature it verified. A missing file has none.
func readEvents(t *testing.T, path string) []loggedEvent {
	t.Helper()
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(data) == 0 {
		return nil
	}
	var events []loggedEvent
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		var e loggedEvent
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("EVENTS_LOG line %q: %v", line, err)
		}
		events = append(events, e)
	}
	return events
}

// checkLoginEvent checks that e is the user.login event of email signing in
// at the oidctest provider.
func checkLoginEvent(t *testing.T, e loggedEvent, provider, issuer, email string) {
	t.Helper()
	if e.Type != "user.login" || e.Data.Provider != provider || e.Data.Issuer != issuer ||
		e.Data.Email != email || e.Data.Subject != oidctest.Subject(email) {
		t.Errorf("event %+v, want a user.login with provider %q, issuer %q, email %q, subject %q",
			e, provider, issuer, email, oidctest.Subject(email))
	}
}
