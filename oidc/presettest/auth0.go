package presettest

import (
	"slices"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/oidc/oidctest"
)

// Auth0 fakes an Auth0 tenant as its discovery document
// (https://{domain}/.well-known/openid-configuration) and Authentication
// API (https://auth0.com/docs/api/authentication) describe it: the issuer
// is https://{domain}/ with a trailing slash; /authorize, /oauth/token,
// /userinfo, /.well-known/jwks.json, /oauth/revoke and, with RP-initiated
// logout discovery on, /oidc/logout; no introspection endpoint. ID tokens
// are for the client id alone, without azp; subjects look like
// auth0|<24 hex digits>; a refresh token comes only with offline_access.
//
//	a := presettest.NewAuth0(t, "tenant.eu.auth0.com", oidctest.Client{ID: "app", Secret: "s", RedirectURIs: []string{cb}})
//	cfg := oidc.Config{Type: "auth0", BaseURL: "tenant.eu.auth0.com", HTTPClient: a.Client(), …}
type Auth0 struct {
	*OIDCFake
}

// NewAuth0 starts the fake for the tenant domain (tenant.us.auth0.com or
// a custom domain); it is closed when the test ends.
func NewAuth0(t testing.TB, domain string, client oidctest.Client) *Auth0 {
	t.Helper()
	base := "https://" + domain
	return &Auth0{newOIDCFake(t, oidcFakeSpec{
		issuer: base + "/",
		client: client,
		endpoints: map[oidctest.Endpoint]string{
			oidctest.AuthorizeEndpoint:  base + "/authorize",
			oidctest.TokenEndpoint:      base + "/oauth/token",
			oidctest.UserinfoEndpoint:   base + "/userinfo",
			oidctest.JWKSEndpoint:       base + "/.well-known/jwks.json",
			oidctest.RevocationEndpoint: base + "/oauth/revoke",
			oidctest.EndSessionEndpoint: base + "/oidc/logout",
		},
		subject: func(sub string) string { return "auth0|" + sub[:24] },
		idToken: func(c map[string]any) {
			delete(c, "azp")
			c["nickname"] = strings.SplitN(claimString(c, "email"), "@", 2)[0]
			c["picture"] = "https://s.gravatar.com/avatar/0?s=480"
			c["updated_at"] = "2026-01-02T03:04:05.000Z"
			c["sid"] = "fake-session"
		},
		token: refreshOnlyOffline,
	})}
}

// refreshOnlyOffline drops the refresh token of an answer whose scope
// lacks offline_access, as Auth0, Okta and ZITADEL do.
func refreshOnlyOffline(resp map[string]any) {
	if !slices.Contains(strings.Fields(claimString(resp, "scope")), "offline_access") {
		delete(resp, "refresh_token")
	}
}

func claimString(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}
