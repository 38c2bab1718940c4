package oidc

import (
	"context"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/oidc/oidctest"
	"github.com/edgeauth/edgeauth/oidc/presettest"
)

func TestOktaIssuer(t *testing.T) {
	cases := []struct {
		name, baseURL, want, refused string
	}{
		{"org", "dev-123.okta.com", "https://dev-123.okta.com", ""},
		{"default custom server", "https://dev-123.okta.com/oauth2/default/", "https://dev-123.okta.com/oauth2/default", ""},
		{"custom server id", "dev-123.okta.com/oauth2/aus1a2b3c4", "https://dev-123.okta.com/oauth2/aus1a2b3c4", ""},
		{"org endpoints path", "dev-123.okta.com/oauth2/v1", "", "custom authorization server"},
		{"admin console", "dev-123-admin.okta.com", "", "admin console"},
		{"some other path", "dev-123.okta.com/app/home", "", "not https://dev-123.okta.com/app/home"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Name: "okta", ClientID: "c", BaseURL: tc.baseURL}
			err := ApplyPreset(&cfg)
			if tc.refused != "" {
				wantConfigProblem(t, err, "base_url", tc.refused)
				return
			}
			if err != nil || cfg.Issuer != tc.want {
				t.Fatalf("issuer %q, %v; want %q", cfg.Issuer, err, tc.want)
			}
		})
	}
}

func TestOktaLoginAndConvert(t *testing.T) {
	for _, tc := range []struct {
		name, authServer, baseURL, api string
	}{
		{"org authorization server", "", "dev-123.okta.com", "https://dev-123.okta.com/oauth2/v1"},
		{"default custom server", "default", "dev-123.okta.com/oauth2/default", "https://dev-123.okta.com/oauth2/default/v1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			fake := presettest.NewOkta(t, "dev-123.okta.com", tc.authServer, hostedClient())
			p := hostedProvider(t, fake.OIDCFake, Config{Type: "okta", BaseURL: tc.baseURL, Scopes: []string{"openid", "email", "profile", "offline_access"}})
			res, err := hostedLogin(t, p, fake.OIDCFake, "kim@example.com")
			if err != nil {
				t.Fatalf("login: %v", err)
			}
			if id := res.Identity; id.Issuer != fake.Issuer() || id.Subject != fake.Subject("kim@example.com") || !strings.HasPrefix(id.Subject, "00u") {
				t.Fatalf("identity %+v", id)
			}
			eps, err := p.Endpoints(ctx)
			if err != nil {
				t.Fatal(err)
			}
			want := Endpoints{Authorization: tc.api + "/authorize", Token: tc.api + "/token", Userinfo: tc.api + "/userinfo",
				JWKS: tc.api + "/keys", Revocation: tc.api + "/revoke", EndSession: tc.api + "/logout", Introspection: tc.api + "/introspect"}
			if eps != want {
				t.Fatalf("endpoints %+v\nwant      %+v", eps, want)
			}
			// convert-token: an access token of ours, through introspection.
			id, err := p.Convert(ctx, ConvertRequest{Token: res.Tokens.AccessToken})
			if err != nil || id.Subject != fake.Subject("kim@example.com") {
				t.Fatalf("Convert(access token) = %+v, %v", id, err)
			}
			// One issued to another app of the org is refused.
			fake.SetFaults(oidctest.Faults{IntrospectionClientID: "other-app"})
			_, err = p.Convert(ctx, ConvertRequest{Token: res.Tokens.AccessToken})
			wantError(t, err, CodeInvalidToken, "client_id")
			fake.SetFaults(oidctest.Faults{})
			if err := p.Revoke(ctx, res.Tokens.RefreshToken, "refresh_token"); err != nil {
				t.Fatalf("Revoke: %v", err)
			}
			if _, err := p.Convert(ctx, ConvertRequest{Token: res.Tokens.AccessToken}); err == nil {
				t.Fatal("Convert accepted an access token of a revoked grant")
			}
		})
	}
}

// Tokens of the org authorization server are not tokens of a custom one:
// same host, another issuer and other keys.
func TestOktaServersDoNotMix(t *testing.T) {
	fake := presettest.NewOkta(t, "dev-123.okta.com", "", hostedClient())
	toks, err := fake.IssueTokens(hostedClientID, "kim@example.com", "")
	if err != nil {
		t.Fatal(err)
	}
	custom := presettest.NewOkta(t, "dev-123.okta.com", "default", hostedClient())
	p := hostedProvider(t, custom.OIDCFake, Config{Type: "okta", BaseURL: "dev-123.okta.com/oauth2/default"})
	_, err = p.Convert(context.Background(), ConvertRequest{Token: toks.IDToken, TokenType: TokenTypeIDToken})
	wantError(t, err, CodeInvalidToken, "kid")
}

// Okta's access tokens are JWTs from the issuer, and both they and their
// introspection answers name the user by login (sub) and id (uid):
// convert-token must take one for an access token without being told,
// and match userinfo's sub with uid.
func TestOktaJWTAccessToken(t *testing.T) {
	ctx := context.Background()
	fake := presettest.NewOkta(t, "dev-123.okta.com", "default", hostedClient())
	p := hostedProvider(t, fake.OIDCFake, Config{Type: "okta", BaseURL: "dev-123.okta.com/oauth2/default"})
	toks, err := fake.IssueTokens(hostedClientID, "kim@example.com", "")
	if err != nil {
		t.Fatal(err)
	}
	at, err := fake.JWTAccessToken(toks.AccessToken, "kim@example.com")
	if err != nil {
		t.Fatal(err)
	}
	id, err := p.Convert(ctx, ConvertRequest{Token: at})
	if err != nil {
		t.Fatalf("Convert(JWT access token): %v", err)
	}
	if id.Subject != fake.Subject("kim@example.com") || id.Email != "kim@example.com" {
		t.Fatalf("identity %+v", id)
	}
}
