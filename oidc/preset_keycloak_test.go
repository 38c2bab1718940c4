package oidc

import (
	"context"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/oidc/oidctest"
	"github.com/edgeauth/edgeauth/oidc/presettest"
)

func TestKeycloakIssuer(t *testing.T) {
	cases := []struct {
		name, baseURL, want string
	}{
		{"realm", "kc.example.com/realms/demo", "https://kc.example.com/realms/demo"},
		{"legacy /auth", "https://kc.example.com/auth/realms/demo/", "https://kc.example.com/auth/realms/demo"},
		{"own context path", "https://example.com/sso/realms/demo", "https://example.com/sso/realms/demo"},
		{"bare host", "kc.example.com", ""},
		{"realms without a name", "kc.example.com/realms", ""},
		{"an endpoint", "kc.example.com/realms/demo/protocol/openid-connect", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Name: "keycloak", ClientID: "c", BaseURL: tc.baseURL}
			err := ApplyPreset(&cfg)
			if tc.want == "" {
				wantConfigProblem(t, err, "base_url", "ending in /realms/<realm>")
				return
			}
			if err != nil || cfg.Issuer != tc.want {
				t.Fatalf("issuer %q, %v; want %q", cfg.Issuer, err, tc.want)
			}
		})
	}
}

func TestKeycloakLoginAndConvert(t *testing.T) {
	for _, tc := range []struct {
		name    string
		legacy  bool
		baseURL string
	}{
		{"current", false, "kc.example.com/realms/demo"},
		{"legacy /auth", true, "kc.example.com/auth/realms/demo"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			fake := presettest.NewKeycloak(t, "kc.example.com", "demo", tc.legacy, hostedClient())
			p := hostedProvider(t, fake.OIDCFake, Config{Type: "keycloak", BaseURL: tc.baseURL})
			res, err := hostedLogin(t, p, fake.OIDCFake, "lu@example.com")
			if err != nil {
				t.Fatalf("login: %v", err)
			}
			id := res.Identity
			if id.Issuer != fake.Issuer() || id.Subject != fake.Subject("lu@example.com") || !id.EmailVerified || id.Claims["typ"] != "ID" {
				t.Fatalf("identity %+v", id)
			}
			eps, err := p.Endpoints(ctx)
			if err != nil || !eps.IssParameter || !strings.HasSuffix(eps.Introspection, "/protocol/openid-connect/token/introspect") ||
				!strings.HasSuffix(eps.EndSession, "/protocol/openid-connect/logout") || !strings.HasSuffix(eps.Revocation, "/protocol/openid-connect/revoke") {
				t.Fatalf("endpoints %+v, %v", eps, err)
			}
			id2, err := p.Convert(ctx, ConvertRequest{Token: res.Tokens.AccessToken, TokenType: TokenTypeAccessToken})
			if err != nil || id2.Subject != id.Subject {
				t.Fatalf("Convert(access token) = %+v, %v", id2, err)
			}
			u, err := p.LogoutURL(ctx, LogoutRequest{IDTokenHint: res.Tokens.IDToken, PostLogoutRedirectURI: hostedBye})
			if err != nil || !strings.Contains(u, "client_id="+hostedClientID) {
				t.Fatalf("LogoutURL = %q, %v", u, err)
			}
		})
	}
}

// Keycloak sends iss with every authorization response (RFC 9207) and
// says so; a response without it did not come from the realm.
func TestKeycloakIssParameter(t *testing.T) {
	fake := presettest.NewKeycloak(t, "kc.example.com", "demo", false, hostedClient())
	fake.SetFaults(oidctest.Faults{OmitIssParameter: true})
	p := hostedProvider(t, fake.OIDCFake, Config{Type: "keycloak", BaseURL: "kc.example.com/realms/demo"})
	_, err := hostedLogin(t, p, fake.OIDCFake, "lu@example.com")
	wantError(t, err, CodeIssuerMismatch, "iss_param")
}

// An address the user has not confirmed is email_verified false, and
// stays unverified in the identity.
func TestKeycloakUnverifiedEmail(t *testing.T) {
	fake := presettest.NewKeycloak(t, "kc.example.com", "demo", false, hostedClient())
	fake.SetFaults(oidctest.Faults{IDTokenClaims: func(c map[string]any) { c["email_verified"] = false }})
	p := hostedProvider(t, fake.OIDCFake, Config{Type: "keycloak", BaseURL: "kc.example.com/realms/demo"})
	res, err := hostedLogin(t, p, fake.OIDCFake, "lu@example.com")
	if err != nil || res.Identity.Email != "lu@example.com" || res.Identity.EmailVerified {
		t.Fatalf("login = %+v, %v; want an unverified email", res, err)
	}
}

// Keycloak's access tokens are JWTs from the realm (typ "Bearer", aud
// "account"): convert-token must send one to introspection, not verify
// it as an ID token, when the app does not say which it is.
func TestKeycloakJWTAccessToken(t *testing.T) {
	fake := presettest.NewKeycloak(t, "kc.example.com", "demo", false, hostedClient())
	p := hostedProvider(t, fake.OIDCFake, Config{Type: "keycloak", BaseURL: "kc.example.com/realms/demo"})
	toks, err := fake.IssueTokens(hostedClientID, "lu@example.com", "")
	if err != nil {
		t.Fatal(err)
	}
	at, err := fake.JWTAccessToken(toks.AccessToken, "lu@example.com")
	if err != nil {
		t.Fatal(err)
	}
	id, err := p.Convert(context.Background(), ConvertRequest{Token: at})
	if err != nil || id.Subject != fake.Subject("lu@example.com") {
		t.Fatalf("Convert(JWT access token) = %+v, %v", id, err)
	}
	// Its ID token is still told apart and accepted as one.
	id, err = p.Convert(context.Background(), ConvertRequest{Token: toks.IDToken})
	if err != nil || id.Claims["typ"] != "ID" {
		t.Fatalf("Convert(ID token) = %+v, %v", id, err)
	}
}

// hostedRefresh refreshes res at the provider and checks that the
// refreshed identity is the same user's.
func hostedRefresh(t *testing.T, p *Provider, res *Result) {
	t.Helper()
	if res.Tokens.RefreshToken == "" {
		t.Fatal("no refresh token to refresh with")
	}
	got, err := p.Refresh(context.Background(), res.Tokens.RefreshToken, res.Identity.Subject)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if got.Identity.Subject != res.Identity.Subject || got.Tokens.AccessToken == "" || got.Tokens.AccessToken == res.Tokens.AccessToken {
		t.Fatalf("Refresh = %+v", got)
	}
}

func TestHostedRefresh(t *testing.T) {
	offline := []string{"openid", "email", "profile", "offline_access"}
	cases := []struct {
		name string
		fake *presettest.OIDCFake
		cfg  Config
	}{
		{"keycloak, default scopes", presettest.NewKeycloak(t, "kc.example.com", "demo", false, hostedClient()).OIDCFake,
			Config{Type: "keycloak", BaseURL: "kc.example.com/realms/demo"}},
		{"okta, offline_access", presettest.NewOkta(t, "dev-123.okta.com", "default", hostedClient()).OIDCFake,
			Config{Type: "okta", BaseURL: "dev-123.okta.com/oauth2/default", Scopes: offline}},
		{"auth0, offline_access", presettest.NewAuth0(t, "tenant.eu.auth0.com", hostedClient()).OIDCFake,
			Config{Type: "auth0", BaseURL: "tenant.eu.auth0.com", Scopes: offline}},
		{"zitadel, offline_access", presettest.NewZitadel(t, "acme.zitadel.cloud", zitadelProject, hostedClient()).OIDCFake,
			Config{Type: "zitadel", BaseURL: "acme.zitadel.cloud", Scopes: offline, TrustedAudiences: []string{zitadelProject}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := hostedProvider(t, tc.fake, tc.cfg)
			res, err := hostedLogin(t, p, tc.fake, "rae@example.com")
			if err != nil {
				t.Fatalf("login: %v", err)
			}
			hostedRefresh(t, p, res)
		})
	}
	// Without offline_access Okta and ZITADEL give none.
	for _, fake := range []*presettest.OIDCFake{
		presettest.NewOkta(t, "dev-123.okta.com", "", hostedClient()).OIDCFake,
		presettest.NewZitadel(t, "acme.zitadel.cloud", zitadelProject, hostedClient()).OIDCFake,
	} {
		p := hostedProvider(t, fake, Config{Name: "op", Issuer: fake.Issuer(), TrustedAudiences: []string{zitadelProject}})
		res, err := hostedLogin(t, p, fake, "rae@example.com")
		if err != nil || res.Tokens.RefreshToken != "" {
			t.Fatalf("%s: login = %+v, %v; want no refresh token", fake.Issuer(), res, err)
		}
	}
}
