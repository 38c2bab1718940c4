package presettest

import (
	"testing"

	"github.com/edgeauth/edgeauth/oidc/oidctest"
)

// Zitadel fakes a ZITADEL instance as
// https://zitadel.com/docs/apis/openidoauth/endpoints and
// https://zitadel.com/docs/apis/openidoauth/claims describe it: the
// issuer is the instance URL (https://{instance}.zitadel.cloud or a
// custom domain), endpoints under /oauth/v2/ (authorize, token, keys,
// revoke, introspect) and /oidc/v1/ (userinfo, end_session). ID tokens
// name the project besides the client in aud, with azp the client id;
// introspection answers list both too. A refresh token comes only with
// the offline_access scope. Subjects are numeric strings.
type Zitadel struct {
	*OIDCFake
	ProjectID string
}

// NewZitadel starts the fake for the instance host, its client in the
// project projectID; it is closed when the test ends.
func NewZitadel(t testing.TB, host, projectID string, client oidctest.Client) *Zitadel {
	t.Helper()
	base := "https://" + host
	audience := []string{client.ID, projectID}
	return &Zitadel{OIDCFake: newOIDCFake(t, oidcFakeSpec{
		issuer: base,
		client: client,
		endpoints: map[oidctest.Endpoint]string{
			oidctest.AuthorizeEndpoint:     base + "/oauth/v2/authorize",
			oidctest.TokenEndpoint:         base + "/oauth/v2/token",
			oidctest.UserinfoEndpoint:      base + "/oidc/v1/userinfo",
			oidctest.JWKSEndpoint:          base + "/oauth/v2/keys",
			oidctest.RevocationEndpoint:    base + "/oauth/v2/revoke",
			oidctest.IntrospectionEndpoint: base + "/oauth/v2/introspect",
			oidctest.EndSessionEndpoint:    base + "/oidc/v1/end_session",
		},
		subject: numericID,
		token:   refreshOnlyOffline,
		idToken: func(c map[string]any) {
			if c["aud"] == client.ID { // not a test's own Audience fault
				c["aud"] = audience
			}
			c["amr"] = []string{"password", "pwd"}
			c["preferred_username"] = claimString(c, "email")
		},
		introspection: func(resp map[string]any) {
			if resp["active"] == true {
				resp["aud"] = []string{claimString(resp, "client_id"), projectID}
			}
		},
	}), ProjectID: projectID}
}

// numericID turns hex digits into an 18-digit decimal id, as ZITADEL's
// ids look.
func numericID(hexSub string) string {
	b := []byte(hexSub[:18])
	for i, c := range b {
		if c > '9' {
			b[i] = '0' + (c-'a')%10
		}
	}
	if b[0] == '0' {
		b[0] = '2'
	}
	return string(b)
}
