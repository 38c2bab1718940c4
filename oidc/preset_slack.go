package oidc

// Sign in with Slack (https://api.slack.com/authentication/sign-in-with-slack,
// https://slack.com/.well-known/openid-configuration): issuer
// https://slack.com; the token and userinfo endpoints are Web API
// methods, https://slack.com/api/openid.connect.token and
// https://slack.com/api/openid.connect.userInfo.
//
// Web API methods answer HTTP 200 with {"ok": false, "error": "…"} when
// they refuse (https://api.slack.com/web, "Evaluating responses"). At the
// token endpoint the error field makes x/oauth2 report an OAuth error,
// so a refused code is exchange_failed naming Slack's code
// (invalid_code, code_already_used, …), not a missing ID token; the
// userinfo hook below refuses an ok:false profile, which would otherwise
// read as a profile about nobody.
//
// Workspace and user ids are namespaced claims of the ID token,
// https://slack.com/team_id and https://slack.com/user_id; they reach
// the webhook in claims. email_verified is a JSON boolean. Slack gives no
// refresh token (unless token rotation is on), has no RFC 7009
// revocation (auth.revoke is a Web API method of its own), no
// end_session endpoint and no introspection: convert-token takes Slack
// ID tokens only.
func slackPreset() preset {
	return preset{
		cfg: Config{
			Type:   TypeOIDC,
			Issuer: "https://slack.com",
			Scopes: []string{"openid", "email", "profile"},
		},
		quirks: quirks{userinfo: slackUserinfo, tokenErrorCode: slackTokenError},
	}
}

// slackUserinfo refuses a Web API error answer ({"ok": false}) and drops
// the ok flag from a profile.
func slackUserinfo(info map[string]any) map[string]any {
	if ok, present := info["ok"]; present {
		if ok != true {
			return nil
		}
		delete(info, "ok")
	}
	return info
}

// slackTokenError reads openid.connect.token's {"ok": false, "error": …}
// codes (https://api.slack.com/methods/openid.connect.token): a wrong
// client id or secret is edgeauth's registration, not the app's request.
func slackTokenError(_ int, code string, _ []byte) string {
	switch code {
	case "invalid_client_id", "bad_client_secret":
		return "invalid_client"
	}
	return code
}
