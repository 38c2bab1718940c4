package server

// The mix-up attack (RFC 9700 §4.4), driven in full against two in-process
// providers: A, hostile, and H, honest, both configured in edgeauth. With a
// redirect URI shared by the two, the app cannot tell which provider
// answered, and A gets H's code for a login the victim made at H; the
// attacker then redeems that code as himself. Production refuses the shared
// redirect URI at start; with distinct redirect URIs the app posts the
// provider whose redirect URI received the answer and the attack dies
// before any code reaches A.

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/oidc"
	"github.com/edgeauth/edgeauth/oidc/oidctest"
)

const (
	hostileName     = "hostile"
	hostileClientID = "edgeauth-at-hostile"
	// hostileRedirect is A's own redirect URI in the defended setup.
	hostileRedirect = "https://app.example.test/callback/hostile"
)

// recordingOP is an oidctest provider behind a listener that notes every
// code its token endpoint receives: what a hostile provider would keep.
type recordingOP struct {
	*oidctest.Provider
	mu    sync.Mutex
	codes []string
}

func newRecordingOP(t *testing.T, opts oidctest.Options) *recordingOP {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	opts.Issuer = "http://" + ts.Listener.Addr().String()
	p, err := oidctest.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	r := &recordingOP{Provider: p}
	tokenURL, _ := url.Parse(p.EndpointURL(oidctest.TokenEndpoint))
	ts.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == tokenURL.Path {
			body, _ := io.ReadAll(io.LimitReader(req.Body, 64<<10))
			req.Body = io.NopCloser(bytes.NewReader(body))
			if form, err := url.ParseQuery(string(body)); err == nil && form.Get("code") != "" {
				r.mu.Lock()
				r.codes = append(r.codes, form.Get("code"))
				r.mu.Unlock()
			}
		}
		p.ServeHTTP(w, req)
	})
	ts.Start()
	t.Cleanup(ts.Close)
	return r
}

func (r *recordingOP) received(code string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Contains(r.codes, code)
}

// withHostile adds provider A, with redirectURI as its only one. A does
// not advertise RFC 9207's iss (a hostile provider would not).
func withHostile(t *testing.T, a **recordingOP, redirectURI string) harnessOpt {
	return func(cfg *Config, _ *oidctest.Options) {
		noIss := false
		*a = newRecordingOP(t, oidctest.Options{
			Clients:      []oidctest.Client{{ID: hostileClientID, Secret: "hostile-secret", RedirectURIs: []string{redirectURI}}},
			IssParameter: &noIss,
		})
		cfg.Providers = append(cfg.Providers, ProviderConfig{
			Name: hostileName, RedirectURI: redirectURI, RedirectURIs: []string{redirectURI},
			OIDC: oidc.Config{Name: hostileName, Type: "oidc", Issuer: (*a).Issuer(), ClientID: hostileClientID, ClientSecret: "hostile-secret", Timeout: 5 * time.Second},
		})
	}
}

// browser is one person's user agent, with its own cookie jar.
type browser struct {
	t    *testing.T
	c    *http.Client
	base string
}

func newBrowser(h *harness) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: h.t.(*testing.T), base: h.edge.URL, c: &http.Client{
		Transport:     h.edge.Client().Transport,
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (b *browser) start(provider string) urlResponse {
	b.t.Helper()
	res, err := b.c.Get(b.base + "/oauth2/url?provider=" + provider)
	if err != nil {
		b.t.Fatal(err)
	}
	var u urlResponse
	decode(b.t, res, &u)
	if res.StatusCode != http.StatusOK {
		b.t.Fatalf("GET /oauth2/url?provider=%s: %d", provider, res.StatusCode)
	}
	return u
}

// token posts to /oauth2/token and returns the status and the decoded
// answer (a tokenResponse on 200, else a Problem).
func (b *browser) token(body map[string]string) (int, tokenResponse, Problem) {
	b.t.Helper()
	raw, _ := json.Marshal(body)
	res, err := b.c.Post(b.base+"/oauth2/token", "application/json", bytes.NewReader(raw))
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	var tr tokenResponse
	var p Problem
	if res.StatusCode == http.StatusOK {
		_ = json.Unmarshal(out, &tr)
	} else {
		_ = json.Unmarshal(out, &p)
	}
	return res.StatusCode, tr, p
}

// TestMixUpWithSharedRedirectURI shows the attack working when A and H
// share the redirect URI R (possible only in development), and that
// production refuses that configuration.
func TestMixUpWithSharedRedirectURI(t *testing.T) {
	var a *recordingOP
	h := newHarness(t, withHostile(t, &a, testRedirect)) // H is the harness's "op"
	attacker, victim := newBrowser(h), newBrowser(h)

	// The attacker starts a login at H in his own browser.
	att := attacker.start("op")
	// The victim starts a login at A; A, instead of a login page, sends
	// her browser to H with the attacker's authorization request.
	victimA := victim.start(hostileName)
	cb, err := h.op.Login(att.URL, "victim@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if got := cb.Scheme + "://" + cb.Host + cb.Path; got != testRedirect {
		t.Fatalf("H answered at %s, want the shared %s", got, testRedirect)
	}
	code := cb.Query().Get("code")

	// The app at R cannot tell who answered; it remembers it started with
	// A and posts A with its own state. edgeauth sends H's code to A.
	status, _, p := victim.token(map[string]string{"provider": hostileName, "code": code, "state": victimA.State})
	if !a.received(code) {
		t.Fatalf("A's token endpoint did not receive H's code (victim got %d %s): the attack setup is wrong", status, p.Code)
	}

	// A hands the code to the attacker, who redeems it with his own state
	// and cookie: he is now logged in as the victim.
	status, tr, p := attacker.token(map[string]string{"provider": "op", "code": code, "state": att.State, "iss": cb.Query().Get("iss")})
	if status != http.StatusOK {
		t.Fatalf("attacker's redemption: %d %+v (the attack should work with a shared redirect URI)", status, p)
	}
	if tr.User["email"] != "victim@example.com" {
		t.Errorf("attacker logged in as %v, want the victim", tr.User["email"])
	}

	// Production refuses to start with this configuration. Before, a shared
	// redirect URI was accepted in production too.
	t.Run("production refuses the shared redirect URI", func(t *testing.T) {
		_, err := loadEnv(t, map[string]string{
			"EDGEAUTH_PROVIDERS":            "acme," + hostileName,
			"EDGEAUTH_ACME_ISSUER":          h.op.Issuer(),
			"EDGEAUTH_HOSTILE_ISSUER":       a.Issuer(),
			"EDGEAUTH_HOSTILE_CLIENT_ID":    hostileClientID,
			"EDGEAUTH_HOSTILE_REDIRECT_URI": "https://app.example.com/callback", // acme's
		}, nil)
		p, ok := problemFor(t, err, "EDGEAUTH_HOSTILE_REDIRECT_URI(S)")
		if !ok {
			t.Fatalf("production accepted a redirect URI shared by two providers: %v", err)
		}
		if !strings.Contains(p.Msg, `"acme"`) {
			t.Errorf("problem does not name the other provider: %s", p)
		}
	})
}

// TestMixUpWithDistinctRedirectURIs: H's client is registered with R_H
// only, A's with R_A. The victim's browser comes back at R_H, so the app
// posts H; either state it may hold is refused and A never sees the code.
func TestMixUpWithDistinctRedirectURIs(t *testing.T) {
	var a *recordingOP
	h := newHarness(t, withHostile(t, &a, hostileRedirect), func(_ *Config, o *oidctest.Options) {
		o.Clients[0].RedirectURIs = []string{testRedirect} // R_H
	})
	attacker, victim := newBrowser(h), newBrowser(h)
	att := attacker.start("op")
	victimA := victim.start(hostileName)
	cb, err := h.op.Login(att.URL, "victim@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if got := cb.Scheme + "://" + cb.Host + cb.Path; got != testRedirect {
		t.Fatalf("H answered at %s, want R_H %s", got, testRedirect)
	}
	code := cb.Query().Get("code")
	iss := cb.Query().Get("iss")

	cases := []struct {
		name, state string
		want        Code
	}{
		{"the state the app started with (A's)", victimA.State, CodeProviderMismatch},
		{"the state in the callback (the attacker's)", att.State, CodeBindingMismatch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, _, p := victim.token(map[string]string{"provider": "op", "code": code, "state": tc.state, "iss": iss})
			if status != http.StatusBadRequest || p.Code != tc.want {
				t.Errorf("got %d %q, want 400 %s", status, p.Code, tc.want)
			}
		})
	}
	if a.received(code) {
		t.Error("A's token endpoint received H's code")
	}
	if n := len(h.op.Requests().TokenRequests); n != 0 {
		t.Errorf("H's token endpoint was called %d times: the code was redeemed", n)
	}
}
