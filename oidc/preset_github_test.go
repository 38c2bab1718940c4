package oidc

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/oidc/presettest"
)

var githubAda = presettest.GitHubUser{
	ID: 12345678901, Login: "ada", Name: "Ada Lovelace", Email: "ada@public.example",
	Emails: []presettest.GitHubEmail{
		{Email: "ada@public.example", Verified: true, Visibility: "public"},
		{Email: "ada@example.com", Primary: true, Verified: true, Visibility: "private"},
	},
}

func newGitHub(t *testing.T, opts presettest.GitHubOptions, edit func(*Config)) (*presettest.GitHub, *Provider) {
	t.Helper()
	opts.ClientID, opts.ClientSecret, opts.RedirectURIs = "gh-client", "gh-secret", []string{presetRedirect}
	if opts.User.ID == 0 {
		opts.User = githubAda
	}
	g := presettest.NewGitHub(t, opts)
	c := Config{Name: "github", Type: "github", ClientID: "gh-client", ClientSecret: "gh-secret", BaseURL: opts.BaseURL, HTTPClient: g.Client()}
	if edit != nil {
		edit(&c)
	}
	p, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return g, p
}

// acceptJSON asks every request for JSON, as some GitHub clients do.
type acceptJSON struct{ next http.RoundTripper }

func (a acceptJSON) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Accept", "application/json")
	return a.next.RoundTrip(r)
}

func TestGitHubLogin(t *testing.T) {
	for _, tc := range []struct {
		name, base, authURL, issuer string
		json                        bool
	}{
		{"github.com", "", "https://github.com/login/oauth/authorize", "https://github.com", false},
		{"github.com, JSON answers", "", "https://github.com/login/oauth/authorize", "https://github.com", true},
		{"enterprise server", "https://github.example.com", "https://github.example.com/login/oauth/authorize", "https://github.example.com", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, p := newGitHub(t, presettest.GitHubOptions{BaseURL: tc.base}, func(c *Config) {
				if tc.json {
					c.HTTPClient.Transport = acceptJSON{c.HTTPClient.Transport}
				}
			})
			authURL, res, err := loginViaFake(t, p, g.Login)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(authURL, tc.authURL+"?") || strings.Contains(authURL, "nonce=") {
				t.Fatalf("auth URL %s", authURL)
			}
			id := res.Identity
			if id.Issuer != tc.issuer || id.Subject != "12345678901" || id.Name != "Ada Lovelace" ||
				id.Email != "ada@example.com" || !id.EmailVerified || !strings.HasPrefix(id.Picture, "https://avatars.githubusercontent.com/") {
				t.Fatalf("identity %+v", id)
			}
			if res.Tokens.AccessToken == "" || res.Tokens.Scope != "read:user,user:email" || res.Tokens.RefreshToken != "" {
				t.Fatalf("tokens %+v", res.Tokens)
			}
			_, err = p.LogoutURL(t.Context(), LogoutRequest{})
			wantError(t, err, CodeUnsupported, "end_session")
		})
	}
}

// TestGitHubEmails: the address is the primary one of /user/emails, and
// verified only when GitHub says so of that address.
func TestGitHubEmails(t *testing.T) {
	for _, tc := range []struct {
		name     string
		emails   []presettest.GitHubEmail
		public   string
		scopes   []string
		email    string
		verified bool
	}{
		{name: "primary verified", emails: githubAda.Emails, public: "ada@public.example", email: "ada@example.com", verified: true},
		{name: "primary unverified, a verified other", public: "ada@public.example", emails: []presettest.GitHubEmail{
			{Email: "ada@public.example", Verified: true},
			{Email: "ada@example.com", Primary: true},
		}, email: "ada@example.com", verified: false},
		{name: "no user:email scope: the public address, unverified", scopes: []string{"read:user"}, emails: githubAda.Emails,
			public: "ada@public.example", email: "ada@public.example", verified: false},
		{name: "no primary listed", public: "", emails: []presettest.GitHubEmail{{Email: "ada@example.com", Verified: true}}, email: "", verified: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := githubAda
			u.Emails, u.Email = tc.emails, tc.public
			g, p := newGitHub(t, presettest.GitHubOptions{User: u}, func(c *Config) { c.Scopes = tc.scopes })
			_, res, err := loginViaFake(t, p, g.Login)
			if err != nil {
				t.Fatal(err)
			}
			if res.Identity.Email != tc.email || res.Identity.EmailVerified != tc.verified {
				t.Fatalf("email %q verified %v, want %q %v", res.Identity.Email, res.Identity.EmailVerified, tc.email, tc.verified)
			}
		})
	}
}

// TestGitHubTokenErrors: GitHub refuses with status 200 and an error in
// the body; a refused code must not pass for a token, and wrong client
// credentials are edgeauth's configuration problem, not the app's.
func TestGitHubTokenErrors(t *testing.T) {
	for _, asJSON := range []bool{false, true} {
		name := "form"
		if asJSON {
			name = "json"
		}
		t.Run(name, func(t *testing.T) {
			edit := func(c *Config) {
				if asJSON {
					c.HTTPClient.Transport = acceptJSON{c.HTTPClient.Transport}
				}
			}
			g, p := newGitHub(t, presettest.GitHubOptions{}, edit)
			verifier := "v" + strings.Repeat("x", 50)
			authURL, err := p.AuthCodeURL(t.Context(), AuthRequest{State: "s", CodeVerifier: verifier, RedirectURI: presetRedirect})
			if err != nil {
				t.Fatal(err)
			}
			back, err := g.Login(authURL)
			if err != nil {
				t.Fatal(err)
			}
			req := ExchangeRequest{Code: back.Query().Get("code"), CodeVerifier: verifier, RedirectURI: presetRedirect}
			if _, err := p.Exchange(t.Context(), req); err != nil {
				t.Fatal(err)
			}
			// The code again: 200 error=bad_verification_code.
			_, err = p.Exchange(t.Context(), req)
			if e := wantError(t, err, CodeExchangeFailed, "token"); !strings.Contains(e.Detail, "bad_verification_code") || e.Fault != FaultClient {
				t.Fatalf("detail %q fault %v", e.Detail, e.Fault)
			}
			// Wrong secret: 200 error=incorrect_client_credentials.
			_, bad := newGitHub(t, presettest.GitHubOptions{}, func(c *Config) { edit(c); c.ClientSecret = "wrong" })
			_, err = bad.Exchange(t.Context(), ExchangeRequest{Code: "whatever", CodeVerifier: verifier, RedirectURI: presetRedirect})
			if e := wantError(t, err, CodeUnavailable, "client_auth"); strings.Contains(e.Error(), "wrong") {
				t.Fatalf("the secret leaked: %v", e)
			}
		})
	}
}

// TestGitHubRefresh: a GitHub App with expiring user tokens gives a
// refresh token, which edgeauth redeems at the same endpoint; GitHub
// rotates it, so the old one is refused afterwards.
func TestGitHubRefresh(t *testing.T) {
	for _, asJSON := range []bool{false, true} {
		g, p := newGitHub(t, presettest.GitHubOptions{ExpiringTokens: true}, func(c *Config) {
			if asJSON {
				c.HTTPClient.Transport = acceptJSON{c.HTTPClient.Transport}
			}
		})
		_, res, err := loginViaFake(t, p, g.Login)
		if err != nil {
			t.Fatal(err)
		}
		if res.Tokens.RefreshToken == "" || res.Tokens.ExpiresIn < 28790 || res.Tokens.ExpiresIn > 28800 {
			t.Fatalf("json %v: tokens %+v", asJSON, res.Tokens)
		}
		r, err := p.Refresh(t.Context(), res.Tokens.RefreshToken, res.Identity.Subject)
		if err != nil || r.Tokens.AccessToken == "" || r.Tokens.RefreshToken == res.Tokens.RefreshToken {
			t.Fatalf("json %v: refresh %+v, %v", asJSON, r, err)
		}
		_, err = p.Refresh(t.Context(), res.Tokens.RefreshToken, res.Identity.Subject)
		wantError(t, err, CodeExchangeFailed, "token")
	}
}

// TestGitHubConvert: an access token is accepted only when GitHub's token
// check says it belongs to this app.
func TestGitHubConvert(t *testing.T) {
	for _, base := range []string{"", "https://github.example.com"} {
		t.Run("base="+base, func(t *testing.T) {
			g, p := newGitHub(t, presettest.GitHubOptions{BaseURL: base}, nil)
			id, err := p.Convert(t.Context(), ConvertRequest{Token: g.IssueToken("gh-client", "read:user", "user:email")})
			if err != nil {
				t.Fatal(err)
			}
			if id.Subject != "12345678901" || id.Email != "ada@example.com" || !id.EmailVerified {
				t.Fatalf("identity %+v", id)
			}
			_, err = p.Convert(t.Context(), ConvertRequest{Token: g.IssueToken("another-app", "read:user", "user:email")})
			wantConvertError(t, err, CodeInvalidToken, "token_check")
			_, err = p.Convert(t.Context(), ConvertRequest{Token: "gho_forged"})
			wantConvertError(t, err, CodeInvalidToken, "token_check")
			_, err = p.Convert(t.Context(), ConvertRequest{Token: "x", TokenType: TokenTypeIDToken})
			wantConvertError(t, err, CodeInvalidToken, "token_type")

			_, bad := newGitHub(t, presettest.GitHubOptions{BaseURL: base}, func(c *Config) { c.ClientSecret = "wrong" })
			_, err = bad.Convert(t.Context(), ConvertRequest{Token: g.IssueToken("gh-client")})
			wantConvertError(t, err, CodeUnavailable, "token_check")
		})
	}
}

// TestGitHubRevoke: DELETE /applications/{client_id}/token, GitHub's own
// revocation; the token is dead afterwards.
func TestGitHubRevoke(t *testing.T) {
	g, p := newGitHub(t, presettest.GitHubOptions{}, nil)
	tok := g.IssueToken("gh-client", "read:user")
	if err := p.Revoke(t.Context(), tok, "access_token"); err != nil {
		t.Fatal(err)
	}
	_, err := p.Convert(t.Context(), ConvertRequest{Token: tok})
	wantConvertError(t, err, CodeInvalidToken, "token_check")
	// Unknown (or already revoked) counts as revoked (RFC 7009 §2.2).
	if err := p.Revoke(t.Context(), tok, ""); err != nil {
		t.Fatal(err)
	}
	wantError(t, p.Revoke(t.Context(), "ghr_x", "refresh_token"), CodeUnsupported, "revocation")
	_, bad := newGitHub(t, presettest.GitHubOptions{}, func(c *Config) { c.ClientSecret = "wrong" })
	wantError(t, bad.Revoke(t.Context(), g.IssueToken("gh-client"), ""), CodeUnavailable, "revocation")
}

// TestGitHubFakeAnswers pins the fake to GitHub's documented token
// endpoint behaviour: form-encoded unless JSON is asked for, and errors
// with status 200.
func TestGitHubFakeAnswers(t *testing.T) {
	g := presettest.NewGitHub(t, presettest.GitHubOptions{ClientID: "gh-client", ClientSecret: "gh-secret"})
	for _, tc := range []struct{ accept, contentType, body string }{
		{"", "application/x-www-form-urlencoded; charset=utf-8", "error=bad_verification_code"},
		{"application/json", "application/json; charset=utf-8", `"error":"bad_verification_code"`},
	} {
		req, _ := http.NewRequest(http.MethodPost, "https://github.com/login/oauth/access_token",
			strings.NewReader("client_id=gh-client&client_secret=gh-secret&code=nope"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if tc.accept != "" {
			req.Header.Set("Accept", tc.accept)
		}
		resp, err := g.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		_, _ = io.Copy(&b, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != tc.contentType || !strings.Contains(b.String(), tc.body) {
			t.Fatalf("accept %q: %d %s %s", tc.accept, resp.StatusCode, resp.Header.Get("Content-Type"), b.String())
		}
	}
}

// TestGitHubBaseURL: the endpoints a base URL gives, Enterprise Server
// and Enterprise Cloud with data residency.
func TestGitHubBaseURL(t *testing.T) {
	for _, tc := range []struct{ base, auth, token, user string }{
		{"github.example.com", "https://github.example.com/login/oauth/authorize", "https://github.example.com/login/oauth/access_token", "https://github.example.com/api/v3/user"},
		{"https://example.com/github/", "https://example.com/github/login/oauth/authorize", "https://example.com/github/login/oauth/access_token", "https://example.com/github/api/v3/user"},
		{"octocorp.ghe.com", "https://octocorp.ghe.com/login/oauth/authorize", "https://octocorp.ghe.com/login/oauth/access_token", "https://api.octocorp.ghe.com/user"},
	} {
		c := Config{Name: "github", Type: "github", BaseURL: tc.base}
		if err := ApplyPreset(&c); err != nil {
			t.Fatal(err)
		}
		if c.AuthURL != tc.auth || c.TokenURL != tc.token || c.UserinfoURL != tc.user || c.Issuer != NormalizeBaseURL(tc.base) {
			t.Fatalf("%s: %+v", tc.base, c)
		}
	}
}
