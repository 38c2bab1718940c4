package oidc

import (
	"context"
	"net/url"
	"testing"

	"github.com/edgeauth/edgeauth/oidc/presettest"
	"golang.org/x/oauth2"
)

// TestTwitterLogin runs a whole login under both names of the preset.
func TestTwitterLogin(t *testing.T) {
	for _, name := range []string{"twitter", "x"} {
		t.Run(name, func(t *testing.T) {
			tw := presettest.NewTwitter(t, presetAppID, presetSecret)
			p := presetProvider(t, name, tw.Client(), nil)
			if p.Preset() != name || p.Type() != TypeOAuth2 {
				t.Fatalf("preset %q type %q", p.Preset(), p.Type())
			}
			res, _, err := presetLogin(t, p, func(u string) (*url.URL, error) {
				au, _ := url.Parse(u)
				q := au.Query()
				if au.Host != "x.com" || au.Path != "/i/oauth2/authorize" || q.Get("scope") != "users.read tweet.read offline.access" ||
					q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
					t.Errorf("authorization URL %s", u)
				}
				return tw.Authorize(u)
			})
			if err != nil {
				t.Fatal(err)
			}
			id := res.Identity
			if id.Issuer != "https://x.com" || id.Subject != "2244994945" || id.Name != "X Developers" ||
				id.Picture != "https://pbs.twimg.com/profile_images/1683325380441128960/yRsRRjGO_normal.jpg" {
				t.Fatalf("identity %+v", id)
			}
			if id.Email != "" || id.EmailVerified {
				t.Fatalf("X gives no email: %+v", id)
			}
			if id.Userinfo["preferred_username"] != "XDevelopers" || id.Userinfo["sub"] != "2244994945" {
				t.Errorf("userinfo %v", id.Userinfo)
			}

			rt := res.Tokens.RefreshToken
			if rt == "" {
				t.Fatal("offline.access gives a refresh token")
			}
			ref, err := p.Refresh(context.Background(), rt, id.Subject)
			if err != nil || ref.Tokens.RefreshToken == "" || ref.Tokens.RefreshToken == rt {
				t.Fatalf("refresh: %+v, %v", ref, err)
			}
			_, err = p.Refresh(context.Background(), rt, id.Subject)
			wantCode(t, err, CodeExchangeFailed)
			if err := p.Revoke(context.Background(), ref.Tokens.RefreshToken, "refresh_token"); err != nil {
				t.Fatal(err)
			}
			if !tw.Revoked(ref.Tokens.RefreshToken) {
				t.Fatal("the fake did not see the revocation")
			}
			_, err = p.LogoutURL(context.Background(), LogoutRequest{})
			wantCode(t, err, CodeUnsupported)
		})
	}
}

// TestTwitterNoOfflineAccess: without offline.access X gives no refresh
// token, and the login still works.
func TestTwitterNoOfflineAccess(t *testing.T) {
	tw := presettest.NewTwitter(t, presetAppID, presetSecret)
	p := presetProvider(t, "x", tw.Client(), func(c *Config) { c.Scopes = []string{"users.read", "tweet.read"} })
	res, _, err := presetLogin(t, p, tw.Authorize)
	if err != nil {
		t.Fatal(err)
	}
	if res.Tokens.RefreshToken != "" {
		t.Fatalf("refresh token %q without offline.access", res.Tokens.RefreshToken)
	}
}

// TestTwitterProfile: the data wrapper is unwrapped (sub is data.id, a
// string kept exactly), and no email comes out whatever the answer holds.
func TestTwitterProfile(t *testing.T) {
	tests := []struct {
		name string
		user presettest.TwitterUser
		sub  string
		pic  string
	}{
		{name: "data wrapper", user: presettest.TwitterUser{ID: "2244994945", Name: "X", Username: "x", ProfileImageURL: "https://pbs.twimg.com/a.jpg"},
			sub: "2244994945", pic: "https://pbs.twimg.com/a.jpg"},
		{name: "id beyond float64", user: presettest.TwitterUser{ID: "1849276399188324352", Name: "Big", Username: "big"}, sub: "1849276399188324352"},
		{name: "no profile image", user: presettest.TwitterUser{ID: "12", Name: "N", Username: "n"}, sub: "12"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tw := presettest.NewTwitter(t, presetAppID, presetSecret)
			tw.SetUser(tc.user)
			res, _, err := presetLogin(t, presetProvider(t, "twitter", tw.Client(), nil), tw.Authorize)
			if err != nil {
				t.Fatal(err)
			}
			if res.Identity.Subject != tc.sub || res.Identity.Picture != tc.pic || res.Identity.Name != tc.user.Name {
				t.Fatalf("identity %+v", res.Identity)
			}
		})
	}

	// Shapes the hook must refuse or clean, fed to it directly.
	if twitterUserinfo(map[string]any{"errors": []any{map[string]any{"message": "x"}}}) != nil {
		t.Error("an errors body is not a profile")
	}
	if twitterUserinfo(map[string]any{"data": map[string]any{"id": 12.0}}) != nil {
		t.Error("a numeric id is not X's shape")
	}
	out := twitterUserinfo(map[string]any{"data": map[string]any{"id": "1", "email": "a@example.com", "email_verified": true, "confirmed_email": "a@example.com"}})
	id := &Identity{}
	fillProfile(id, out)
	if id.Email != "" || id.EmailVerified {
		t.Errorf("email from X: %+v", id)
	}
}

// TestTwitterErrors: X's problem answers fail the step without their
// text; a convert-token without the opt-in is refused outright (X has no
// introspection).
func TestTwitterErrors(t *testing.T) {
	tw := presettest.NewTwitter(t, presetAppID, presetSecret)
	p := presetProvider(t, "x", tw.Client(), nil)

	// A wrong verifier: PKCE is enforced, the refusal is the client's.
	verifier := oauth2.GenerateVerifier()
	authURL, err := p.AuthCodeURL(context.Background(), AuthRequest{State: "s", CodeVerifier: verifier, RedirectURI: presetRedirect})
	if err != nil {
		t.Fatal(err)
	}
	back, err := tw.Authorize(authURL)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Exchange(context.Background(), ExchangeRequest{Code: back.Query().Get("code"), CodeVerifier: oauth2.GenerateVerifier(), RedirectURI: presetRedirect})
	wantCode(t, err, CodeExchangeFailed)

	// Convert without a way to check the client is refused.
	_, err = p.Convert(context.Background(), ConvertRequest{Token: "some-token"})
	wantCode(t, err, CodeInvalidToken)

	// With the opt-in, X's 401 problem body for a bad token is a refusal.
	opt := presetProvider(t, "x", tw.Client(), func(c *Config) { c.ConvertAccessToken = ConvertUserinfo })
	_, err = opt.Convert(context.Background(), ConvertRequest{Token: "unknown-token"})
	e := wantCode(t, err, CodeInvalidToken)
	if e.Check != "userinfo" {
		t.Errorf("check %q", e.Check)
	}

	// A user.fields value X rejects: a 400 problem with errors[], the
	// provider's failure.
	bad := presetProvider(t, "x", tw.Client(), func(c *Config) { c.UserinfoURL = "https://api.x.com/2/users/me?user.fields=nonsense" })
	_, _, err = presetLogin(t, bad, tw.Authorize)
	e = wantCode(t, err, CodeUserinfoFailed)
	if e.Fault != FaultProvider {
		t.Errorf("fault %v", e.Fault)
	}

	// Basic auth is required: the fake refuses client_secret_post.
	post := presetProvider(t, "x", tw.Client(), func(c *Config) { c.ClientAuth = ClientAuthPost })
	_, _, err = presetLogin(t, post, tw.Authorize)
	e = wantCode(t, err, CodeUnavailable)
	if e.Check != "client_auth" {
		t.Errorf("check %q", e.Check)
	}
}
