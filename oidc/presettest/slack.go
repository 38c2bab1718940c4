package presettest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/oidc/oidctest"
)

// Slack fakes Sign in with Slack as
// https://api.slack.com/authentication/sign-in-with-slack and
// https://slack.com/.well-known/openid-configuration describe it: issuer
// https://slack.com, authorization at /openid/connect/authorize, the
// Web API methods openid.connect.token and openid.connect.userInfo under
// https://slack.com/api/, keys at /openid/connect/keys; no refresh
// (grant_types_supported is authorization_code only), no revocation or
// end_session endpoint, no introspection.
//
// Like every Web API method, the token and userinfo methods answer HTTP
// 200 with {"ok": false, "error": "…"} when they refuse
// (https://api.slack.com/web, "Evaluating responses"), and {"ok": true, …}
// otherwise. Claims about the workspace are namespaced:
// https://slack.com/team_id, https://slack.com/user_id; subjects are
// user ids (U…).
type Slack struct {
	*OIDCFake
	TeamID string
}

// Slack's claim names for the workspace and the user.
const (
	SlackTeamIDClaim = "https://slack.com/team_id"
	SlackUserIDClaim = "https://slack.com/user_id"
)

// NewSlack starts the fake for one workspace (team id T…); it is closed
// when the test ends.
func NewSlack(t testing.TB, teamID string, client oidctest.Client) *Slack {
	t.Helper()
	const base = "https://slack.com"
	team := func(c map[string]any) {
		c[SlackTeamIDClaim] = teamID
		c[SlackUserIDClaim] = c["sub"]
		c["https://slack.com/team_name"] = "Fake Workspace"
		c["https://slack.com/team_domain"] = "fake-workspace"
		c["picture"] = "https://secure.gravatar.com/avatar/0.jpg"
		c["locale"] = "en-US"
	}
	return &Slack{OIDCFake: newOIDCFake(t, oidcFakeSpec{
		issuer: base,
		client: client,
		endpoints: map[oidctest.Endpoint]string{
			oidctest.AuthorizeEndpoint: base + "/openid/connect/authorize",
			oidctest.TokenEndpoint:     base + "/api/openid.connect.token",
			oidctest.UserinfoEndpoint:  base + "/api/openid.connect.userInfo",
			oidctest.JWKSEndpoint:      base + "/openid/connect/keys",
		},
		subject: func(sub string) string { return "U" + strings.ToUpper(sub[:10]) },
		discovery: func(doc map[string]any) {
			doc["grant_types_supported"] = []string{"authorization_code"}
			delete(doc, "code_challenge_methods_supported")
		},
		idToken: team,
		userinfo: func(c map[string]any) {
			team(c)
			c["ok"] = true
		},
		token: func(resp map[string]any) {
			resp["ok"] = true
			delete(resp, "refresh_token")
			delete(resp, "expires_in")
		},
		answer: slackAnswer,
	}), TeamID: teamID}
}

// slackAnswer turns an OAuth or Bearer error of the token and userinfo
// methods into Slack's HTTP 200 {"ok": false, "error": …}, with the
// error codes those methods document.
func slackAnswer(e oidctest.Endpoint, status int, body []byte) (int, []byte) {
	if status == http.StatusOK || (e != oidctest.TokenEndpoint && e != oidctest.UserinfoEndpoint) {
		return status, body
	}
	var oe struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(body, &oe)
	code := "internal_error"
	switch {
	case e == oidctest.UserinfoEndpoint && status == http.StatusUnauthorized:
		code = "invalid_auth"
	case oe.Error == "invalid_grant":
		code = "invalid_code"
	case oe.Error == "invalid_client":
		code = "invalid_client_id"
	case oe.Error == "invalid_request":
		code = "invalid_arguments"
	}
	b, _ := json.Marshal(map[string]any{"ok": false, "error": code})
	return http.StatusOK, b
}
