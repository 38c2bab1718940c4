package oidc

import (
	"testing"

	"github.com/edgeauth/edgeauth/oidc/presettest"
)

func newGitLab(t *testing.T, base string, u presettest.GitLabUser, edit func(*Config)) (*presettest.GitLab, *Provider) {
	t.Helper()
	g := presettest.NewGitLab(t, presettest.GitLabOptions{BaseURL: presettestBase(base), ClientID: "gl-client", ClientSecret: "gl-secret", RedirectURIs: []string{presetRedirect}, User: u})
	c := Config{Name: "gitlab", Type: "gitlab", ClientID: "gl-client", ClientSecret: "gl-secret", BaseURL: base, HTTPClient: g.Client()}
	if edit != nil {
		edit(&c)
	}
	p, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return g, p
}

// presettestBase is the fake's form of an operator's BASE_URL.
func presettestBase(base string) string {
	if base == "" {
		return ""
	}
	return NormalizeBaseURL(base)
}

// TestGitLabLogin: gitlab.com, and self-managed instances whose BASE_URL
// (a bare host, or with a relative URL root) is the issuer.
func TestGitLabLogin(t *testing.T) {
	for _, tc := range []struct{ base, issuer string }{
		{"", "https://gitlab.com"},
		{"gitlab.example.com", "https://gitlab.example.com"},
		{"https://example.com/gitlab/", "https://example.com/gitlab"},
	} {
		t.Run(tc.issuer, func(t *testing.T) {
			g, p := newGitLab(t, tc.base, presettest.GitLabUser{}, nil)
			if p.Issuer() != tc.issuer || g.Issuer() != tc.issuer {
				t.Fatalf("issuer %s, fake %s", p.Issuer(), g.Issuer())
			}
			_, res, err := loginViaFake(t, p, g.Login)
			if err != nil {
				t.Fatal(err)
			}
			id := res.Identity
			if id.Issuer != tc.issuer || id.Subject != "1234567" || id.Email != "ada@example.com" || !id.EmailVerified || id.Name != "Ada Lovelace" {
				t.Fatalf("identity %+v", id)
			}
			if res.Tokens.RefreshToken == "" || res.Tokens.ExpiresIn != 7200 {
				t.Fatalf("tokens %+v", res.Tokens)
			}
			eps, err := p.Endpoints(t.Context())
			if err != nil || eps.Revocation != tc.issuer+"/oauth/revoke" || eps.EndSession != "" {
				t.Fatalf("endpoints %+v, %v", eps, err)
			}
			_, err = p.LogoutURL(t.Context(), LogoutRequest{})
			wantError(t, err, CodeUnsupported, "end_session")

			// GitLab rotates refresh tokens: the new one works, the old is gone.
			r, err := p.Refresh(t.Context(), res.Tokens.RefreshToken, id.Subject)
			if err != nil || r.Tokens.RefreshToken == "" || r.Tokens.RefreshToken == res.Tokens.RefreshToken || r.Identity.Subject != "1234567" {
				t.Fatalf("refresh %+v, %v", r, err)
			}
			_, err = p.Refresh(t.Context(), res.Tokens.RefreshToken, id.Subject)
			wantError(t, err, CodeExchangeFailed, "token")
			if err := p.Revoke(t.Context(), r.Tokens.RefreshToken, "refresh_token"); err != nil {
				t.Fatal(err)
			}
			_, err = p.Refresh(t.Context(), r.Tokens.RefreshToken, id.Subject)
			wantError(t, err, CodeExchangeFailed, "token")
		})
	}
}

// TestGitLabEmailVerified: GitLab says whether the address is confirmed,
// in the ID token and in userinfo alike.
func TestGitLabEmailVerified(t *testing.T) {
	for _, verified := range []bool{true, false} {
		for _, ui := range []string{UserinfoAuto, UserinfoAlways} {
			u := presettest.GitLabUser{ID: 42, Username: "bob", Name: "Bob", Email: "bob@example.com", EmailVerified: verified}
			g, p := newGitLab(t, "", u, func(c *Config) { c.Userinfo = ui })
			_, res, err := loginViaFake(t, p, g.Login)
			if err != nil {
				t.Fatal(err)
			}
			if res.Identity.Subject != "42" || res.Identity.EmailVerified != verified || (ui == UserinfoAlways) != (res.Identity.Userinfo != nil) {
				t.Fatalf("verified %v userinfo %s: %+v", verified, ui, res.Identity)
			}
		}
	}
}

// TestGitLabConvert: a native app's ID token converts; an access token
// goes to GitLab's introspection, whose answer names no subject, so it is
// refused, and one of another app is refused for its client_id.
func TestGitLabConvert(t *testing.T) {
	g, p := newGitLab(t, "", presettest.GitLabUser{}, nil)
	_, res, err := loginViaFake(t, p, g.Login)
	if err != nil {
		t.Fatal(err)
	}
	id, err := p.Convert(t.Context(), ConvertRequest{Token: res.Tokens.IDToken})
	if err != nil || id.Subject != "1234567" {
		t.Fatalf("convert id token: %+v, %v", id, err)
	}
	_, err = p.Convert(t.Context(), ConvertRequest{Token: res.Tokens.AccessToken})
	wantConvertError(t, err, CodeInvalidToken, "sub")
	_, err = p.Convert(t.Context(), ConvertRequest{Token: g.IssueAccessToken("another-app")})
	wantConvertError(t, err, CodeInvalidToken, "client_id")
	_, err = p.Convert(t.Context(), ConvertRequest{Token: "forged"})
	wantConvertError(t, err, CodeInvalidToken, "active")
}
