package oidc

import (
	"crypto/rand"
	"net/url"
	"testing"

	"github.com/edgeauth/edgeauth/oidc/presettest"
	"golang.org/x/oauth2"
)


// loginViaFake runs one login the way edgeauth does: AuthCodeURL, the
// provider's redirect back (from the fake's login), then Exchange. It
// returns the authorization URL too, for the tests of its parameters.
func loginViaFake(t *testing.T, p *Provider, login func(string) (*url.URL, error)) (string, *Result, error) {
	t.Helper()
	verifier, nonce, state := oauth2.GenerateVerifier(), rand.Text(), rand.Text()
	authURL, err := p.AuthCodeURL(t.Context(), AuthRequest{State: state, Nonce: nonce, CodeVerifier: verifier, RedirectURI: presetRedirect})
	if err != nil {
		t.Fatalf("AuthCodeURL: %v", err)
	}
	back, err := login(authURL)
	if err != nil {
		t.Fatalf("login at the fake: %v", err)
	}
	q := back.Query()
	if q.Get("state") != state {
		t.Fatalf("state %q came back, sent %q", q.Get("state"), state)
	}
	if e := q.Get("error"); e != "" {
		t.Fatalf("the fake refused the authorization request: %s", e)
	}
	res, err := p.Exchange(t.Context(), ExchangeRequest{Code: q.Get("code"), CodeVerifier: verifier, RedirectURI: presetRedirect, Nonce: nonce, Issuer: q.Get("iss")})
	return authURL, res, err
}

func newGoogle(t *testing.T, u presettest.GoogleUser, edit func(*Config)) (*presettest.Google, *Provider) {
	t.Helper()
	g := presettest.NewGoogle(t, presettest.GoogleOptions{ClientID: "g-client", ClientSecret: "g-secret", RedirectURIs: []string{presetRedirect}, User: u})
	c := Config{Name: "google", Type: "google", ClientID: "g-client", ClientSecret: "g-secret", HTTPClient: g.Client()}
	if edit != nil {
		edit(&c)
	}
	p, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return g, p
}

func TestGoogleLogin(t *testing.T) {
	g, p := newGoogle(t, presettest.GoogleUser{Sub: "104", Email: "ada@example.com", EmailVerified: true, Name: "Ada"}, nil)
	_, res, err := loginViaFake(t, p, g.Login)
	if err != nil {
		t.Fatal(err)
	}
	id := res.Identity
	if id.Issuer != "https://accounts.google.com" || id.Subject != "104" || id.Email != "ada@example.com" || !id.EmailVerified || id.Name != "Ada" {
		t.Fatalf("identity %+v", id)
	}
	if res.Tokens.IDToken == "" || res.Tokens.ExpiresIn != 3599 {
		t.Fatalf("tokens %+v", res.Tokens)
	}
	eps, err := p.Endpoints(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if eps.Revocation != "https://oauth2.googleapis.com/revoke" || eps.EndSession != "" || eps.Userinfo != "https://openidconnect.googleapis.com/v1/userinfo" {
		t.Fatalf("endpoints %+v", eps)
	}
	_, err = p.LogoutURL(t.Context(), LogoutRequest{IDTokenHint: res.Tokens.IDToken})
	wantError(t, err, CodeUnsupported, "end_session")
	if err := p.Revoke(t.Context(), res.Tokens.AccessToken, "access_token"); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	// Google refuses a token it no longer knows: 400 invalid_token.
	wantError(t, p.Revoke(t.Context(), res.Tokens.AccessToken, "access_token"), CodeExchangeFailed, "revocation")
}

// TestGoogleOffline: Google gives a refresh token only with
// access_type=offline, and after the first consent only with
// prompt=consent; Config.Offline sends both, so every login gets one.
func TestGoogleOffline(t *testing.T) {
	for _, tc := range []struct {
		name        string
		edit        func(*Config)
		first, next bool // a refresh token on the first and the second login
	}{
		{"default", nil, false, false},
		{"access_type alone", func(c *Config) { c.AuthParams = map[string]string{"access_type": "offline"} }, true, false},
		{"offline", func(c *Config) { c.Offline = true }, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, p := newGoogle(t, presettest.GoogleUser{}, tc.edit)
			for i, want := range []bool{tc.first, tc.next} {
				authURL, res, err := loginViaFake(t, p, g.Login)
				if err != nil {
					t.Fatal(err)
				}
				if got := res.Tokens.RefreshToken != ""; got != want {
					t.Fatalf("login %d: refresh token %v, want %v (auth URL %s)", i+1, got, want, authURL)
				}
				if want {
					r, err := p.Refresh(t.Context(), res.Tokens.RefreshToken, res.Identity.Subject)
					if err != nil || r.Tokens.AccessToken == "" || r.Identity.Email == "" {
						t.Fatalf("refresh: %+v, %v", r, err)
					}
					if err := p.Revoke(t.Context(), res.Tokens.RefreshToken, "refresh_token"); err != nil {
						t.Fatalf("revoke: %v", err)
					}
					_, err = p.Refresh(t.Context(), res.Tokens.RefreshToken, res.Identity.Subject)
					wantError(t, err, CodeExchangeFailed, "token")
				}
			}
		})
	}
	// An app's own prompt or access_type wins over Offline's.
	_, p := newGoogle(t, presettest.GoogleUser{}, func(c *Config) {
		c.Offline = true
		c.AuthParams = map[string]string{"prompt": "consent select_account"}
	})
	if p.cfg.AuthParams["prompt"] != "consent select_account" || p.cfg.AuthParams["access_type"] != "offline" {
		t.Fatalf("auth params %v", p.cfg.AuthParams)
	}
}

// TestGoogleConvertAccessToken: tokeninfo says whom the token was issued
// to, with its numbers as strings.
func TestGoogleConvertAccessToken(t *testing.T) {
	const ios = "ios-client"
	for _, tc := range []struct {
		name     string
		client   string
		token    string // "" for one issued to client
		edit     func(map[string]any)
		code     ErrorCode
		check    string
		audience []string
	}{
		{name: "ours", client: "g-client"},
		{name: "native app listed", client: ios, audience: []string{ios}},
		{name: "another app", client: "other-app", code: CodeInvalidToken, check: "aud"},
		{name: "native app not listed", client: ios, code: CodeInvalidToken, check: "aud"},
		{name: "unknown token", token: "ya29.forged", code: CodeInvalidToken, check: "tokeninfo"},
		{name: "expired", client: "g-client", edit: func(m map[string]any) { m["expires_in"] = "0" }, code: CodeInvalidToken, check: "expires_in"},
		{name: "no expiry", client: "g-client", edit: func(m map[string]any) { delete(m, "expires_in") }, code: CodeInvalidToken, check: "expires_in"},
		{name: "no sub", client: "g-client", edit: func(m map[string]any) { delete(m, "sub") }, code: CodeInvalidToken, check: "sub"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, p := newGoogle(t, presettest.GoogleUser{Sub: "104", Email: "ada@example.com", EmailVerified: true}, func(c *Config) { c.ConvertAudiences = tc.audience })
			g.EditTokeninfo(tc.edit)
			tok := tc.token
			if tok == "" {
				tok = g.IssueAccessToken(tc.client)
			}
			id, err := p.Convert(t.Context(), ConvertRequest{Token: tok})
			if tc.code != "" {
				wantConvertError(t, err, tc.code, tc.check)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id.Subject != "104" || id.Email != "ada@example.com" || !id.EmailVerified {
				t.Fatalf("identity %+v", id)
			}
		})
	}
}

// TestGoogleHostedDomain: HOSTED_DOMAINS checks hd, the Workspace domain,
// not the email's domain.
func TestGoogleHostedDomain(t *testing.T) {
	for _, tc := range []struct {
		name    string
		user    presettest.GoogleUser
		allowed bool
	}{
		{"workspace", presettest.GoogleUser{Email: "ada@example.com", HD: "example.com"}, true},
		{"consumer account with the domain's address", presettest.GoogleUser{Email: "ada@example.com"}, false},
		{"other workspace", presettest.GoogleUser{Email: "ada@example.com", HD: "evil.example"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, p := newGoogle(t, tc.user, func(c *Config) { c.HostedDomains = []string{"example.com"} })
			_, res, err := loginViaFake(t, p, g.Login)
			if !tc.allowed {
				wantError(t, err, CodeDomainNotAllowed, "hd")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Identity.Claims["hd"] != "example.com" {
				t.Fatalf("claims %v", res.Identity.Claims)
			}
			// The same rule for a converted ID token of a native app.
			if _, err := p.Convert(t.Context(), ConvertRequest{Token: g.IDToken("g-client", "")}); err != nil {
				t.Fatalf("convert: %v", err)
			}
		})
	}
}

// TestOfflineSetting: Offline is for the providers that must be asked for
// refresh tokens; anywhere else it is a configuration mistake.
func TestOfflineSetting(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"google", Config{Type: "google"}, true},
		{"microsoft", Config{Type: "microsoft", Tenant: "common"}, true},
		{"github", Config{Type: "github"}, false},
		{"gitlab", Config{Type: "gitlab"}, false},
		{"plain oidc", Config{Issuer: "https://op.example"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.cfg
			c.Name, c.ClientID, c.Offline = tc.name, "c", true
			_, err := New(c)
			if tc.ok != (err == nil) {
				t.Fatalf("ok %v: %v", tc.ok, err)
			}
			if err != nil {
				if ce, _ := err.(*ConfigError); ce == nil || len(ce.Problems) != 1 || ce.Problems[0].Field != "offline" {
					t.Fatalf("error %v", err)
				}
			}
		})
	}
}

// TestGoogleIssuer: Google documents two spellings of its ID tokens' iss;
// both pass, nothing else does.
func TestGoogleIssuer(t *testing.T) {
	for _, tc := range []struct {
		iss string
		ok  bool
	}{
		{"https://accounts.google.com", true},
		{"accounts.google.com", true},
		{"http://accounts.google.com", false},
		{"https://accounts.google.com/", false},
		{"accounts.google.com.evil.example", false},
	} {
		t.Run(tc.iss, func(t *testing.T) {
			g, p := newGoogle(t, presettest.GoogleUser{}, nil)
			g.EditIDToken(func(c map[string]any) { c["iss"] = tc.iss })
			_, res, err := loginViaFake(t, p, g.Login)
			_, cerr := p.Convert(t.Context(), ConvertRequest{Token: g.IDToken("g-client", ""), TokenType: TokenTypeIDToken})
			if !tc.ok {
				wantError(t, err, CodeInvalidIDToken, "iss")
				wantConvertError(t, cerr, CodeInvalidToken, "iss")
				return
			}
			if err != nil || cerr != nil {
				t.Fatalf("login %v, convert %v", err, cerr)
			}
			if res.Identity.Issuer != "https://accounts.google.com" {
				t.Fatalf("issuer %s", res.Identity.Issuer)
			}
		})
	}
}
