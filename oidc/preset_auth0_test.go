package oidc

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/edgeauth/edgeauth/oidc/oidctest"
	"github.com/edgeauth/edgeauth/oidc/presettest"
)

// What the fakes of hosted OpenID Providers register for edgeauth.
const (
	hostedClientID = "edgeauth-app"
	hostedSecret   = "hosted-secret-0123456789"
	hostedCallback = "https://app.example/callback"
	hostedBye      = "https://app.example/bye"
)

func hostedClient() oidctest.Client {
	return oidctest.Client{ID: hostedClientID, Secret: hostedSecret,
		RedirectURIs: []string{hostedCallback}, PostLogoutRedirectURIs: []string{hostedBye}}
}

// hostedProvider makes a Provider for cfg whose calls reach fake.
func hostedProvider(t *testing.T, fake *presettest.OIDCFake, cfg Config) *Provider {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = cfg.Type
	}
	if cfg.ClientID == "" {
		cfg.ClientID, cfg.ClientSecret = hostedClientID, hostedSecret
	}
	cfg.HTTPClient = fake.Client()
	p, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

// hostedLogin signs email in through fake: AuthCodeURL, the provider's
// login, Exchange with the iss the redirect carried.
func hostedLogin(t *testing.T, p *Provider, fake *presettest.OIDCFake, email string) (*Result, error) {
	t.Helper()
	ctx := context.Background()
	verifier, nonce := oauth2.GenerateVerifier(), rand.Text()
	authURL, err := p.AuthCodeURL(ctx, AuthRequest{State: "state-1", Nonce: nonce, CodeVerifier: verifier, RedirectURI: hostedCallback})
	if err != nil {
		t.Fatalf("AuthCodeURL: %v", err)
	}
	back, err := fake.Login(authURL, email)
	if err != nil {
		t.Fatalf("login at the fake: %v", err)
	}
	q := back.Query()
	if q.Get("state") != "state-1" || q.Get("code") == "" {
		t.Fatalf("redirect %s: want state-1 and a code", back)
	}
	return p.Exchange(ctx, ExchangeRequest{Code: q.Get("code"), CodeVerifier: verifier, RedirectURI: hostedCallback, Nonce: nonce, Issuer: q.Get("iss")})
}

// wantConfigProblem asserts that err is a *ConfigError with a problem of
// field whose message contains want.
func wantConfigProblem(t *testing.T, err error, field, want string) {
	t.Helper()
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("got %v, want a *ConfigError about %s", err, field)
	}
	for _, p := range ce.Problems {
		if p.Field == field && strings.Contains(p.Msg, want) {
			return
		}
	}
	t.Fatalf("problems %+v: none of field %s says %q", ce.Problems, field, want)
}

func TestAuth0Issuer(t *testing.T) {
	cases := []struct {
		name, baseURL, issuer string
		want                  string // issuer; "" when refused
	}{
		{"tenant domain", "tenant.us.auth0.com", "", "https://tenant.us.auth0.com/"},
		{"custom domain with slash", "https://login.example.com/", "", "https://login.example.com/"},
		{"issuer with slash", "", "https://tenant.auth0.com/", "https://tenant.auth0.com/"},
		{"issuer without slash", "", "https://tenant.auth0.com", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Name: "auth0", ClientID: "c", BaseURL: tc.baseURL, Issuer: tc.issuer}
			err := ApplyPreset(&cfg)
			if tc.want == "" {
				wantConfigProblem(t, err, "issuer", "auth0's issuer ends with a slash: use https://tenant.auth0.com/")
				return
			}
			if err != nil || cfg.Issuer != tc.want {
				t.Fatalf("ApplyPreset: issuer %q, %v; want %q", cfg.Issuer, err, tc.want)
			}
		})
	}
	cfg := Config{Name: "auth0", ClientID: "c"}
	wantConfigProblem(t, ApplyPreset(&cfg), "issuer", "set BASE_URL to the tenant's domain")
}

func TestAuth0Login(t *testing.T) {
	fake := presettest.NewAuth0(t, "tenant.eu.auth0.com", hostedClient())
	for _, tc := range []struct {
		name        string
		scopes      []string
		wantRefresh bool
	}{
		{"default scopes", nil, false},
		{"offline_access", []string{"openid", "email", "profile", "offline_access"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := hostedProvider(t, fake.OIDCFake, Config{Type: "auth0", BaseURL: "tenant.eu.auth0.com", Scopes: tc.scopes})
			res, err := hostedLogin(t, p, fake.OIDCFake, "Ann@Example.com")
			if err != nil {
				t.Fatalf("login: %v", err)
			}
			id := res.Identity
			if id.Issuer != "https://tenant.eu.auth0.com/" || id.Subject != fake.Subject("ann@example.com") ||
				!strings.HasPrefix(id.Subject, "auth0|") || id.Email != "ann@example.com" || !id.EmailVerified {
				t.Fatalf("identity %+v", id)
			}
			if got := res.Tokens.RefreshToken != ""; got != tc.wantRefresh {
				t.Fatalf("refresh token present %v, want %v", got, tc.wantRefresh)
			}
			if !tc.wantRefresh {
				return
			}
			if err := p.Revoke(context.Background(), res.Tokens.RefreshToken, "refresh_token"); err != nil {
				t.Fatalf("Revoke: %v", err)
			}
			revs := fake.Requests().Revocations
			if len(revs) == 0 || !revs[len(revs)-1].Revoked {
				t.Fatalf("revocations at /oauth/revoke: %+v", revs)
			}
		})
	}
}

func TestAuth0Logout(t *testing.T) {
	fake := presettest.NewAuth0(t, "tenant.eu.auth0.com", hostedClient())
	p := hostedProvider(t, fake.OIDCFake, Config{Type: "auth0", BaseURL: "tenant.eu.auth0.com"})
	u, err := p.LogoutURL(context.Background(), LogoutRequest{PostLogoutRedirectURI: hostedBye, State: "s"})
	if err != nil || !strings.HasPrefix(u, "https://tenant.eu.auth0.com/oidc/logout?") || !strings.Contains(u, "client_id="+hostedClientID) {
		t.Fatalf("LogoutURL = %q, %v", u, err)
	}
	// With end-session discovery off the tenant advertises nothing.
	fake.SetFaults(oidctest.Faults{DiscoveryDocument: func(doc map[string]any) { delete(doc, "end_session_endpoint") }})
	p = hostedProvider(t, fake.OIDCFake, Config{Type: "auth0", BaseURL: "tenant.eu.auth0.com"})
	_, err = p.LogoutURL(context.Background(), LogoutRequest{})
	wantError(t, err, CodeUnsupported, "end_session")
}

func TestAuth0Convert(t *testing.T) {
	fake := presettest.NewAuth0(t, "tenant.eu.auth0.com", hostedClient())
	toks, err := fake.IssueTokens(hostedClientID, "bo@example.com", "")
	if err != nil {
		t.Fatal(err)
	}
	p := hostedProvider(t, fake.OIDCFake, Config{Type: "auth0", BaseURL: "tenant.eu.auth0.com"})
	id, err := p.Convert(context.Background(), ConvertRequest{Token: toks.IDToken})
	if err != nil || id.Subject != fake.Subject("bo@example.com") {
		t.Fatalf("Convert(id token) = %+v, %v", id, err)
	}
	_, err = p.Convert(context.Background(), ConvertRequest{Token: toks.AccessToken, TokenType: TokenTypeAccessToken})
	if e := wantError(t, err, CodeInvalidToken, "access_token"); !strings.Contains(e.Detail, "Auth0 offers no token introspection") {
		t.Fatalf("detail %q", e.Detail)
	}
	// The explicit opt-in still works.
	p = hostedProvider(t, fake.OIDCFake, Config{Type: "auth0", BaseURL: "tenant.eu.auth0.com", ConvertAccessToken: ConvertUserinfo})
	id, err = p.Convert(context.Background(), ConvertRequest{Token: toks.AccessToken, TokenType: TokenTypeAccessToken})
	if err != nil || id.Subject != fake.Subject("bo@example.com") {
		t.Fatalf("Convert(access token, userinfo) = %+v, %v", id, err)
	}
}
