package presettest

import (
	"testing"

	"github.com/edgeauth/edgeauth/oidc/oidctest"
)

// Keycloak fakes a Keycloak realm as
// https://www.keycloak.org/securing-apps/oidc-layers describes it: the
// issuer is the realm URL https://{host}/realms/{realm} (with /auth in
// front on Keycloak before 17 or with a legacy context path), every
// endpoint is under {issuer}/protocol/openid-connect/ (auth, token,
// userinfo, certs, revoke, token/introspect, logout), and the
// authorization response carries iss (RFC 9207). ID tokens carry typ
// "ID", azp, sid and preferred_username; subjects are UUIDs;
// email_verified is a JSON boolean, false for an unverified address.
// Access tokens are JWTs for the "account" audience with typ "Bearer"
// and azp the client.
type Keycloak struct {
	*OIDCFake
}

// NewKeycloak starts the fake for realm on host; legacy puts /auth in
// front of /realms. It is closed when the test ends.
func NewKeycloak(t testing.TB, host, realm string, legacy bool, client oidctest.Client) *Keycloak {
	t.Helper()
	issuer := "https://" + host
	if legacy {
		issuer += "/auth"
	}
	issuer += "/realms/" + realm
	oc := issuer + "/protocol/openid-connect"
	return &Keycloak{newOIDCFake(t, oidcFakeSpec{
		issuer:   issuer,
		client:   client,
		issParam: true,
		endpoints: map[oidctest.Endpoint]string{
			oidctest.AuthorizeEndpoint:     oc + "/auth",
			oidctest.TokenEndpoint:         oc + "/token",
			oidctest.UserinfoEndpoint:      oc + "/userinfo",
			oidctest.JWKSEndpoint:          oc + "/certs",
			oidctest.RevocationEndpoint:    oc + "/revoke",
			oidctest.IntrospectionEndpoint: oc + "/token/introspect",
			oidctest.EndSessionEndpoint:    oc + "/logout",
		},
		subject: func(s string) string { return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32] },
		idToken: func(c map[string]any) {
			c["typ"] = "ID"
			c["sid"] = "fake-session"
			c["preferred_username"] = claimString(c, "email")
		},
		accessToken: func(c map[string]any) {
			c["typ"] = "Bearer"
			c["aud"] = "account"
			c["azp"] = client.ID
			c["sid"] = "fake-session"
		},
		introspection: func(resp map[string]any) {
			if resp["active"] == true {
				resp["azp"] = resp["client_id"]
				resp["typ"] = "Bearer"
			}
		},
	})}
}
