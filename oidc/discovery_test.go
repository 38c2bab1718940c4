package oidc

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/edgeauth/edgeauth/oidc/oidctest"
	"golang.org/x/oauth2"
)

func authURL(t *testing.T, p *Provider) (string, error) {
	t.Helper()
	return p.AuthCodeURL(t.Context(), AuthRequest{State: "s", Nonce: "n", CodeVerifier: oauth2.GenerateVerifier(), RedirectURI: "https://app/cb"})
}

func TestDiscoveryDocument(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(d map[string]any)
		cfg   func(*Config)
		check string // "" = success
		url   string // expected prefix of the auth URL, with OP for the server URL
	}{
		{name: "valid", url: "OP/authorize?"},
		{name: "issuer with trailing slash", edit: func(d map[string]any) { d["issuer"] = d["issuer"].(string) + "/" }, check: "discovery_issuer"},
		{name: "other issuer", edit: func(d map[string]any) { d["issuer"] = "https://evil.example" }, check: "discovery_issuer"},
		{name: "issuer missing", edit: func(d map[string]any) { delete(d, "issuer") }, check: "discovery_issuer"},
		{name: "auth endpoint carries client_id", edit: func(d map[string]any) {
			d["authorization_endpoint"] = d["authorization_endpoint"].(string) + "?client_id=evil"
		}, check: "discovery_metadata"},
		{name: "auth endpoint carries redirect_uri", edit: func(d map[string]any) {
			d["authorization_endpoint"] = d["authorization_endpoint"].(string) + "?x=1&redirect_uri=https://evil"
		}, check: "discovery_metadata"},
		{name: "auth endpoint with a harmless query", edit: func(d map[string]any) {
			d["authorization_endpoint"] = d["authorization_endpoint"].(string) + "?tenant=a"
		}, url: "OP/authorize?tenant=a&"},
		{name: "token endpoint over plain http", edit: func(d map[string]any) { d["token_endpoint"] = "http://op.example/token" }, check: "discovery_metadata"},
		{name: "jwks_uri missing", edit: func(d map[string]any) { delete(d, "jwks_uri") }, check: "discovery_metadata"},
		{name: "jwks_uri missing but configured", edit: func(d map[string]any) { delete(d, "jwks_uri") }, cfg: func(c *Config) { c.JWKSURL = "https://keys.example/jwks" }, url: "OP/authorize?"},
		{name: "override wins over discovery", cfg: func(c *Config) { c.AuthURL = "https://login.example/authorize" }, url: "https://login.example/authorize?"},
		{name: "override wins over a bad discovered value", edit: func(d map[string]any) { d["authorization_endpoint"] = "http://evil.example/a" }, cfg: func(c *Config) { c.AuthURL = "https://login.example/authorize" }, url: "https://login.example/authorize?"},
		{name: "empty document", edit: func(d map[string]any) { clear(d) }, check: "discovery_issuer"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			op := newKeyOP(t)
			op.set(func(op *keyOP) { op.discEdit = tc.edit })
			p := op.provider(t, clk, tc.cfg)
			u, err := authURL(t, p)
			if tc.check != "" {
				wantError(t, err, CodeUnavailable, tc.check)
				if err := p.Discover(t.Context()); err == nil {
					t.Fatal("Discover succeeded")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := strings.Replace(tc.url, "OP", op.url, 1)
			if !strings.HasPrefix(u, want) {
				t.Fatalf("auth url %s, want prefix %s", u, want)
			}
		})
	}
}

func TestDiscoveryCaching(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := newBubbleClock()
		op := newBubbleKeyOP()
		p := op.provider(t, clk, nil)
		for range 5 {
			if _, err := authURL(t, p); err != nil {
				t.Fatal(err)
			}
		}
		if n := op.discFetches.Load(); n != 1 {
			t.Fatalf("discovery fetched %d times, want 1", n)
		}
		clk.Add(discoveryMaxAge)
		if _, err := authURL(t, p); err != nil {
			t.Fatal(err)
		}
		if n := op.discFetches.Load(); n != 2 {
			t.Fatalf("discovery fetched %d times after max age, want 2", n)
		}

		// Provider down after the cache expired: the stale document serves,
		// and the provider is asked again only after the backoff.
		op.set(func(op *keyOP) { op.discStatus = http.StatusBadGateway })
		clk.Add(discoveryMaxAge)
		for range 3 {
			if _, err := authURL(t, p); err != nil {
				t.Fatalf("stale document not used: %v", err)
			}
		}
		if n := op.discFetches.Load(); n != 3 {
			t.Fatalf("discovery fetched %d times, want 3", n)
		}
	})
}

func TestDiscoveryFailureBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := newBubbleClock()
		op := newBubbleKeyOP()
		op.set(func(op *keyOP) { op.discStatus = http.StatusInternalServerError })
		p := op.provider(t, clk, nil)

		_, err := authURL(t, p)
		e := wantError(t, err, CodeUnavailable, "discovery")
		if !strings.Contains(e.Detail, "500") || strings.Contains(e.Detail, "127.0.0.1") {
			t.Fatalf("detail %q", e.Detail)
		}
		// The next uses within the backoff do not hammer the provider.
		for range 10 {
			_, err := authURL(t, p)
			wantError(t, err, CodeUnavailable, "discovery")
		}
		if n := op.discFetches.Load(); n != 1 {
			t.Fatalf("%d fetches during backoff, want 1", n)
		}
		// Each failure doubles the wait.
		clk.Add(backoffMin)
		_, _ = authURL(t, p)
		clk.Add(backoffMin)
		_, _ = authURL(t, p)
		if n := op.discFetches.Load(); n != 2 {
			t.Fatalf("%d fetches, want 2 (second backoff is 2s)", n)
		}
		op.set(func(op *keyOP) { op.discStatus = 0 })
		clk.Add(backoffMin)
		if _, err := authURL(t, p); err != nil {
			t.Fatalf("after backoff: %v", err)
		}
		if n := op.discFetches.Load(); n != 3 {
			t.Fatalf("%d fetches, want 3", n)
		}
	})
}

func TestDiscoveryTimeoutAndRedirect(t *testing.T) {
	t.Run("timeout", func(t *testing.T) {
		stall := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
		}))
		p, err := New(Config{Name: "op", Issuer: stall.URL, ClientID: "c", Timeout: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		e := wantError(t, p.Discover(t.Context()), CodeUnavailable, "discovery")
		if !strings.Contains(e.Detail, "timed out") || time.Since(start) > 5*time.Second {
			t.Fatalf("detail %q after %s", e.Detail, time.Since(start))
		}
	})
	t.Run("redirect", func(t *testing.T) {
		op := newKeyOP(t)
		redirect := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, op.url+r.URL.Path, http.StatusMovedPermanently)
		}))
		p, err := New(Config{Name: "op", Issuer: redirect.URL, ClientID: "c"})
		if err != nil {
			t.Fatal(err)
		}
		wantError(t, p.Discover(t.Context()), CodeUnavailable, "discovery")
		if n := op.discFetches.Load(); n != 0 {
			t.Fatal("redirect followed")
		}
	})
	t.Run("caller gives up, fetch goes on for the others", func(t *testing.T) {
		op := newKeyOP(t, pubJWK(t, "ec256", "e1", ""))
		p := op.provider(t, newClock(), nil)
		ctx, cancel := contextCanceled(t)
		cancel()
		if err := p.Discover(ctx); err == nil {
			t.Fatal("canceled context succeeded")
		}
		if err := p.Discover(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}

// TestDiscoveryOIDCTest: discovery against oidctest, including its issuer
// fault, and an issuer with a path.
func TestDiscoveryOIDCTest(t *testing.T) {
	f := newFlow(t, func(o *oidctest.Options) { o.Issuer = "http://placeholder/tenant/a" }, nil)
	if !strings.HasSuffix(f.op.Issuer(), "/tenant/a") {
		t.Fatalf("issuer %s", f.op.Issuer())
	}
	if err := f.p.Discover(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.run(t); err != nil {
		t.Fatal(err)
	}

	g := newFlow(t, nil, nil)
	g.op.SetFaults(oidctest.Faults{DiscoveryIssuer: g.op.Issuer() + "/"})
	wantError(t, g.p.Discover(t.Context()), CodeUnavailable, "discovery_issuer")
	if n := g.op.Requests().JWKS; n != 0 {
		t.Fatalf("JWKS fetched despite a bad discovery document")
	}
}

func TestLogoutURL(t *testing.T) {
	clk := newClock()
	op := newKeyOP(t)
	p := op.provider(t, clk, nil)
	raw, err := p.LogoutURL(t.Context(), LogoutRequest{PostLogoutRedirectURI: "https://app/bye", State: "st-1"})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(raw)
	q := u.Query()
	if q.Get("tenant") != "1" || q.Has("id_token_hint") || q.Get("post_logout_redirect_uri") != "https://app/bye" ||
		q.Get("client_id") != testClientID || q.Get("state") != "st-1" {
		t.Fatalf("logout url %s", raw)
	}

	op.set(func(op *keyOP) { op.discEdit = func(d map[string]any) { delete(d, "end_session_endpoint") } })
	p = op.provider(t, clk, nil)
	raw, err = p.LogoutURL(t.Context(), LogoutRequest{IDTokenHint: "x"})
	if e := wantError(t, err, CodeUnsupported, "end_session"); raw != "" || e.Fault != FaultClient {
		t.Fatalf("no end_session_endpoint: %q, %v", raw, e.Fault)
	}
	p = op.provider(t, clk, func(c *Config) { c.EndSessionURL = "https://op.example/bye" })
	if raw, _ := p.LogoutURL(t.Context(), LogoutRequest{}); raw != "https://op.example/bye?client_id="+testClientID {
		t.Fatalf("override not used: %s", raw)
	}
}

// TestDiscoveryHTTPSIssuer: an https issuer's discovery document may not
// point at plain http, not even at localhost.
func TestDiscoveryHTTPSIssuer(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"issuer":%q,"authorization_endpoint":%q,"token_endpoint":"http://localhost/token","jwks_uri":%q}`,
			srv.URL, srv.URL+"/authorize", srv.URL+"/jwks")
	}))
	t.Cleanup(srv.Close)
	p, err := New(Config{Name: "op", Issuer: srv.URL, ClientID: "c", HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	e := wantError(t, p.Discover(t.Context()), CodeUnavailable, "discovery_metadata")
	if !strings.Contains(e.Err.Error(), "token_endpoint") {
		t.Fatalf("cause %v", e.Err)
	}
}
