package presettest

import (
	"net/http"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/oidc/oidctest"
)

// LinkedIn fakes Sign In with LinkedIn using OpenID Connect as
// https://learn.microsoft.com/en-us/linkedin/consumer/integrations/self-serve/sign-in-with-linkedin-v2
// and https://www.linkedin.com/oauth/.well-known/openid-configuration
// describe it: issuer https://www.linkedin.com/oauth, authorization
// https://www.linkedin.com/oauth/v2/authorization, token
// https://www.linkedin.com/oauth/v2/accessToken, keys
// https://www.linkedin.com/oauth/openid/jwks, userinfo on another host,
// https://api.linkedin.com/v2/userinfo. No refresh token, no revocation,
// end_session or introspection endpoint.
//
// The token endpoint takes the client secret in the body only
// (client_secret_post) and answers 401 invalid_client to HTTP Basic. ID
// tokens carry no nonce, whatever the request sent, no azp and no
// at_hash, and email_verified as the string "true"; userinfo sends it as
// a JSON boolean.
type LinkedIn struct {
	*OIDCFake
}

// NewLinkedIn starts the fake; it is closed when the test ends.
func NewLinkedIn(t testing.TB, client oidctest.Client) *LinkedIn {
	t.Helper()
	const www, api = "https://www.linkedin.com", "https://api.linkedin.com"
	return &LinkedIn{newOIDCFake(t, oidcFakeSpec{
		issuer: www + "/oauth",
		client: client,
		endpoints: map[oidctest.Endpoint]string{
			oidctest.AuthorizeEndpoint: www + "/oauth/v2/authorization",
			oidctest.TokenEndpoint:     www + "/oauth/v2/accessToken",
			oidctest.UserinfoEndpoint:  api + "/v2/userinfo",
			oidctest.JWKSEndpoint:      www + "/oauth/openid/jwks",
		},
		subject: func(sub string) string { return sub[:10] },
		discovery: func(doc map[string]any) {
			doc["subject_types_supported"] = []string{"pairwise"}
			doc["token_endpoint_auth_methods_supported"] = []string{"client_secret_post"}
			doc["grant_types_supported"] = []string{"authorization_code"}
			delete(doc, "code_challenge_methods_supported")
		},
		idToken: func(c map[string]any) {
			delete(c, "nonce")
			delete(c, "azp")
			delete(c, "at_hash")
			c["email_verified"] = "true"
			c["locale"] = "en-US"
			c["given_name"], c["family_name"] = claimString(c, "name"), "Doe"
		},
		userinfo: func(c map[string]any) {
			c["locale"] = map[string]any{"country": "US", "language": "en"}
			c["given_name"], c["family_name"] = claimString(c, "name"), "Doe"
		},
		token: func(resp map[string]any) {
			delete(resp, "refresh_token")
			resp["expires_in"] = 5183999
			resp["scope"] = strings.ReplaceAll(claimString(resp, "scope"), " ", ",")
		},
		before: func(e oidctest.Endpoint, w http.ResponseWriter, r *http.Request) bool {
			if e == oidctest.TokenEndpoint && r.Header.Get("Authorization") != "" {
				writeFakeJSON(w, http.StatusUnauthorized, map[string]any{
					"error": "invalid_client", "error_description": "Client authentication failed",
				})
				return true
			}
			return false
		},
	})}
}
