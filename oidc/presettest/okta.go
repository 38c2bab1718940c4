package presettest

import (
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/oidc/oidctest"
)

// Okta fakes an Okta org as https://developer.okta.com/docs/reference/api/oidc/
// describes it. With authServer "" it is the org authorization server
// (issuer https://{org}, endpoints under /oauth2/v1/); otherwise the
// custom authorization server of that id (issuer
// https://{org}/oauth2/{authServer}, endpoints under
// /oauth2/{authServer}/v1/). Both publish authorize, token, userinfo,
// keys, revoke, introspect and logout in discovery. A refresh token
// comes only with the offline_access scope. User ids look like
// 00u<17 characters> and are the sub of ID tokens and userinfo; access
// tokens (JWTs with cid, uid and scp) and their introspection answers
// have the username as sub and the user id as uid
// (https://developer.okta.com/docs/reference/api/oidc/#introspect).
type Okta struct {
	*OIDCFake
}

// NewOkta starts the fake for the org host (dev-123.okta.com) and
// authorization server id ("" for the org's, "default" for the default
// custom one); it is closed when the test ends.
func NewOkta(t testing.TB, org, authServer string, client oidctest.Client) *Okta {
	t.Helper()
	issuer := "https://" + org
	if authServer != "" {
		issuer += "/oauth2/" + authServer
	}
	api := issuer + "/v1"
	if authServer == "" {
		api = issuer + "/oauth2/v1"
	}
	audience := "api://" + authServer
	if authServer == "" {
		audience = issuer
	}
	subject := func(sub string) string { return "00u" + sub[:17] }
	return &Okta{newOIDCFake(t, oidcFakeSpec{
		issuer: issuer,
		client: client,
		endpoints: map[oidctest.Endpoint]string{
			oidctest.AuthorizeEndpoint:     api + "/authorize",
			oidctest.TokenEndpoint:         api + "/token",
			oidctest.UserinfoEndpoint:      api + "/userinfo",
			oidctest.JWKSEndpoint:          api + "/keys",
			oidctest.RevocationEndpoint:    api + "/revoke",
			oidctest.IntrospectionEndpoint: api + "/introspect",
			oidctest.EndSessionEndpoint:    api + "/logout",
		},
		subject: subject,
		token:   refreshOnlyOffline,
		idToken: func(c map[string]any) {
			c["ver"] = 1
			c["amr"] = []string{"pwd"}
			c["idp"] = "00o" + claimString(c, "sub")[3:20]
			c["preferred_username"] = claimString(c, "email")
		},
		introspection: func(resp map[string]any) {
			if resp["active"] == true {
				resp["uid"] = resp["sub"]
				resp["username"] = oktaUsername
				resp["sub"] = oktaUsername
			}
		},
		accessToken: func(c map[string]any) {
			c["ver"] = 1
			c["aud"] = audience
			c["cid"] = client.ID
			c["uid"] = c["sub"]
			c["sub"] = oktaUsername
			c["scp"] = strings.Fields(claimString(c, "scope"))
			delete(c, "scope")
		},
	})}
}

// oktaUsername is the login the Okta fake gives every user: the sub of
// its access tokens and introspection answers.
const oktaUsername = "user@example.com"
