package oidc

import (
	"maps"
	"strings"
)

// X (Twitter), also configured as type "x": OAuth 2.0 Authorization Code
// Flow with PKCE, which X requires
// (https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code,
// https://docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token).
// Confidential clients authenticate with HTTP Basic at the token and
// revocation endpoints. A refresh token comes only with the offline.access
// scope, which the preset asks for (drop it from SCOPES for two-hour
// sessions without refresh at X); refresh tokens rotate. There is no
// logout endpoint and no token introspection, so convert-token refuses
// access tokens unless CONVERT_ACCESS_TOKEN=userinfo.
//
// The identity is GET /2/users/me?user.fields=profile_image_url
// (https://docs.x.com/x-api/users/lookup/quickstart/authenticated-lookup):
// {"data":{"id","name","username","profile_image_url"}}, the id a string.
// The data wrapper is unwrapped here, so sub is data.id; X gives no email
// at all, so Identity.Email stays empty. Errors on /2 endpoints are
// problem objects ({"title","detail","type","status"}, or {"errors":[…]}):
// userinfo fails on their status, their text stays out of client answers.
func twitterPreset() preset {
	return preset{
		cfg: Config{
			Type:          TypeOAuth2,
			Issuer:        "https://x.com",
			AuthURL:       "https://x.com/i/oauth2/authorize",
			TokenURL:      "https://api.x.com/2/oauth2/token",
			UserinfoURL:   "https://api.x.com/2/users/me?user.fields=profile_image_url",
			RevocationURL: "https://api.x.com/2/oauth2/revoke",
			SubjectClaim:  "id",
			Scopes:        []string{"users.read", "tweet.read", "offline.access"},
			ClientAuth:    ClientAuthBasic,
		},
		quirks: quirks{userinfo: twitterUserinfo},
	}
}

// twitterUserinfo unwraps {"data":{…}} into OpenID Connect claims: sub
// from the string id, name, preferred_username from username, picture
// from profile_image_url. No email, whatever the answer holds. An answer
// without data (an {"errors":[…]} body) is not a profile.
func twitterUserinfo(info map[string]any) map[string]any {
	data, ok := info["data"].(map[string]any)
	if !ok {
		return nil
	}
	id, _ := data["id"].(string)
	if !isDigits(id, 40) {
		return nil
	}
	out := maps.Clone(data)
	out["sub"] = id
	for _, k := range []string{"email", "email_verified", "confirmed_email", "picture", "preferred_username"} {
		delete(out, k)
	}
	if u, _ := data["username"].(string); u != "" {
		out["preferred_username"] = u
	}
	if pic, _ := data["profile_image_url"].(string); strings.HasPrefix(pic, "https://") {
		out["picture"] = pic
	}
	return out
}
