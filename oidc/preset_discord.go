package oidc

import (
	"context"
	"errors"
	"maps"
	"strings"
	"time"
)

// Discord is OAuth 2.0 only (no ID token for user logins):
// https://discord.com/developers/docs/topics/oauth2 and its metadata at
// https://discord.com/.well-known/oauth-authorization-server (issuer
// https://discord.com, PKCE S256, client_secret_basic or _post, RFC 7009
// revocation, refresh tokens; the authorization response carries iss,
// which Exchange compares with Issuer when the app passes it on). The
// identity is GET /users/@me
// (https://discord.com/developers/docs/resources/user#user-object), API
// version 10 pinned in the URL: id is a snowflake sent as a string — kept
// byte for byte, never through a float — and `verified` says whether the
// email was verified. Discord has no logout endpoint.
//
// Convert: Discord offers no introspection to third parties, but GET
// /oauth2/@me
// (https://discord.com/developers/docs/topics/oauth2#get-current-authorization-information)
// answers, for any valid token, the application it was issued to, its
// expiry and (with identify) the user: a token of another app is refused.
func discordPreset() preset {
	return preset{
		cfg: Config{
			Type:          TypeOAuth2,
			Issuer:        "https://discord.com",
			AuthURL:       "https://discord.com/oauth2/authorize",
			TokenURL:      "https://discord.com/api/oauth2/token",
			UserinfoURL:   discordAPI + "/users/@me",
			RevocationURL: "https://discord.com/api/oauth2/token/revoke",
			SubjectClaim:  "id",
			Scopes:        []string{"identify", "email"},
		},
		quirks: quirks{userinfo: discordUserinfo, convertAccess: convertDiscord, issParam: true},
	}
}

const discordAPI = "https://discord.com/api/v10"

// discordUserinfo rewrites a Discord user object into OpenID Connect
// claims: sub from the string id, email_verified only for a present email
// that Discord calls verified, name from global_name (the display name)
// or else username, and picture from the avatar hash (none for a null
// avatar). An id that is not a string of digits is not Discord's shape.
func discordUserinfo(info map[string]any) map[string]any {
	id, _ := info["id"].(string)
	if !isDigits(id, 20) {
		return nil
	}
	out := maps.Clone(info)
	out["sub"] = id
	delete(out, "email_verified")
	if email, _ := info["email"].(string); email != "" {
		verified, _ := info["verified"].(bool)
		out["email_verified"] = verified
	} else {
		delete(out, "email")
	}
	username, _ := info["username"].(string)
	if username != "" {
		out["preferred_username"] = username
	}
	delete(out, "name")
	if name, _ := info["global_name"].(string); name != "" {
		out["name"] = name
	} else if username != "" {
		out["name"] = username
	}
	delete(out, "picture")
	if hash, _ := info["avatar"].(string); isAvatarHash(hash) {
		// https://discord.com/developers/docs/reference#image-formatting
		out["picture"] = "https://cdn.discordapp.com/avatars/" + id + "/" + hash + ".png"
	}
	return out
}

// isDigits reports a non-empty decimal string of at most max digits.
func isDigits(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isAvatarHash accepts what Discord sends as an image hash (hex, "a_" for
// animated ones) and nothing that could change the CDN URL's path.
func isAvatarHash(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_') {
			return false
		}
	}
	return true
}

// convertDiscord accepts an access token only when Discord's
// /oauth2/@me names an accepted application, an unexpired token and a
// user; the profile then comes from /users/@me, whose id must be that
// user's.
func convertDiscord(ctx context.Context, p *Provider, eps *endpoints, token string) (*Identity, error) {
	base, ok := strings.CutSuffix(eps.userinfo, "/users/@me")
	if !ok {
		return nil, newError(CodeUnavailable, "token_check", nil, "token_check: the discord userinfo URL does not end in /users/@me, so /oauth2/@me cannot be derived from it")
	}
	var ans struct {
		Application struct {
			ID string `json:"id"`
		} `json:"application"`
		Expires string `json:"expires"`
		User    *struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	start := time.Now()
	status, err := p.getJSON(ctx, base+"/oauth2/@me", maxFormAnswer, token, true, &ans)
	p.observe(CallTokenCheck, start, status, err)
	var st errStatus
	switch {
	case errors.As(err, &st) && (st.code == 401 || st.code == 403):
		return nil, newError(CodeInvalidToken, "token_check", nil, "token_check: Discord does not know the token (invalid, expired or revoked)")
	case err != nil:
		return nil, newError(CodeUnavailable, "token_check", err, "token_check: %s", safeCause(err))
	}
	if !p.accepted(ans.Application.ID) {
		return nil, newError(CodeInvalidToken, "token_check", nil, "token_check: the token belongs to another Discord application, not %s or CONVERT_AUDIENCES", clip(p.cfg.ClientID))
	}
	exp, err := time.Parse(time.RFC3339, ans.Expires)
	if err != nil || !p.cfg.Now().Before(exp) {
		return nil, newError(CodeInvalidToken, "exp", nil, "exp: the token has expired")
	}
	if ans.User == nil || !isDigits(ans.User.ID, 20) {
		return nil, newError(CodeInvalidToken, "sub", nil, "sub: the token names no user (it lacks the identify scope)")
	}
	return p.profile(ctx, eps, token, ans.User.ID, nil, "Discord's /oauth2/@me")
}
