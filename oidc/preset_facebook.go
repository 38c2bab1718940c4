package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Facebook Login, manual flow
// (https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow):
// plain OAuth 2.0 against a versioned Graph API. The version is pinned in
// all three URLs (facebookGraph); to move to another one set AUTH_URL,
// TOKEN_URL and USERINFO_URL with the new version. The token endpoint
// takes the secret in the body and answers JSON; there are no refresh
// tokens (the long-lived token exchange is not a refresh), no RFC 7009
// revocation (DELETE /me/permissions removes the app's whole grant, which
// is more than revoking one token, so edgeauth leaves it to the app) and
// no logout endpoint. Facebook ignores an unknown code_challenge outside
// its OIDC flow, which is still "in testing"
// (https://developers.facebook.com/docs/facebook-login/guides/advanced/oidc-token),
// so the S256 challenge edgeauth always sends does no harm.
//
// The identity is GET /me?fields=id,name,email,picture
// (https://developers.facebook.com/docs/graph-api/reference/user): id is
// an app-scoped id in a string; picture is an object
// {"data":{"url":…,"is_silhouette":…}}; email is absent when the user has
// none usable. Facebook documents no verification flag for it (the old
// `verified` user field meant a verified account — phone or card — not
// the address), so email_verified is false: an app that links accounts
// by email must verify the address itself.
//
// Errors are {"error":{"message","type","code","error_subcode",
// "fbtrace_id"}} with HTTP 400
// (https://developers.facebook.com/docs/graph-api/guides/error-handling);
// their text stays in logs.
//
// Convert: GET /debug_token?input_token=…&access_token=APPID|SECRET
// (https://developers.facebook.com/docs/graph-api/reference/debug_token)
// says which app a user token belongs to, whether it is valid, when it
// expires (0: never) and whose it is.
func facebookPreset() preset {
	return preset{
		cfg: Config{
			Type:         TypeOAuth2,
			Issuer:       "https://www.facebook.com",
			AuthURL:      "https://www.facebook.com/" + facebookGraph + "/dialog/oauth",
			TokenURL:     "https://graph.facebook.com/" + facebookGraph + "/oauth/access_token",
			UserinfoURL:  "https://graph.facebook.com/" + facebookGraph + "/me?fields=id,name,email,picture",
			SubjectClaim: "id",
			Scopes:       []string{"public_profile", "email"},
			ClientAuth:   ClientAuthPost,
		},
		quirks: quirks{userinfo: facebookUserinfo, convertAccess: convertFacebook, tokenErrorCode: graphGrantError},
	}
}

// facebookGraph is the Graph API version the preset pins (the current one
// in Meta's reference when the preset was written; each version lives
// about two years).
const facebookGraph = "v27.0"

// facebookUserinfo rewrites a Graph API user into OpenID Connect claims:
// sub from the string id, picture from picture.data.url (none for the
// default silhouette), email_verified always false.
func facebookUserinfo(info map[string]any) map[string]any {
	id, _ := info["id"].(string)
	if !isDigits(id, 40) {
		return nil
	}
	out := maps.Clone(info)
	out["sub"] = id
	delete(out, "verified")
	if email, _ := info["email"].(string); email != "" {
		out["email_verified"] = false
	} else {
		delete(out, "email")
		delete(out, "email_verified")
	}
	delete(out, "picture")
	if pic, ok := info["picture"].(map[string]any); ok {
		data, _ := pic["data"].(map[string]any)
		u, _ := data["url"].(string)
		silhouette, _ := data["is_silhouette"].(bool)
		if strings.HasPrefix(u, "https://") && !silhouette {
			out["picture"] = u
		}
	}
	return out
}

// convertFacebook asks debug_token about the token with the app access
// token: it must be a valid USER token of an accepted app, unexpired, and
// userinfo must be about its user_id.
func convertFacebook(ctx context.Context, p *Provider, eps *endpoints, token string) (*Identity, error) {
	u, err := url.Parse(eps.userinfo)
	if err != nil || u.Host == "" {
		return nil, newError(CodeUnavailable, "debug_token", err, "debug_token: no Graph API host")
	}
	versionPath, ok := strings.CutSuffix(u.Path, "/me")
	if !ok {
		return nil, newError(CodeUnavailable, "debug_token", nil, "debug_token: the facebook userinfo URL does not end in /me, so debug_token cannot be derived from it")
	}
	secret, err := p.clientSecret()
	if err != nil {
		return nil, newError(CodeUnavailable, "client_secret", err, "client_secret: cannot make the client secret")
	}
	q := url.Values{"input_token": {token}, "access_token": {p.cfg.ClientID + "|" + secret}}
	endpoint := &url.URL{Scheme: u.Scheme, Host: u.Host, Path: versionPath + "/debug_token", RawQuery: q.Encode()}
	status, body, err := p.graphGet(ctx, endpoint)
	if err != nil {
		return nil, newError(CodeUnavailable, "debug_token", err, "debug_token: %s", safeCause(err))
	}
	if status != http.StatusOK {
		// A refused app access token is our registration's problem.
		return nil, newError(CodeUnavailable, "debug_token", fmt.Errorf("debug_token: HTTP %d: %s", status, body),
			"debug_token: Facebook answered HTTP %d: check CLIENT_ID and CLIENT_SECRET", status)
	}
	var ans struct {
		Data struct {
			AppID     string          `json:"app_id"`
			Type      string          `json:"type"`
			IsValid   bool            `json:"is_valid"`
			ExpiresAt *int64          `json:"expires_at"`
			UserID    string          `json:"user_id"`
			Error     json.RawMessage `json:"error"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &ans); err != nil {
		return nil, newError(CodeUnavailable, "debug_token", err, "debug_token: answer is not the expected JSON object")
	}
	d := ans.Data
	switch {
	case !d.IsValid || len(d.Error) > 0:
		return nil, newError(CodeInvalidToken, "debug_token", nil, "debug_token: Facebook says the token is not valid")
	case d.Type != "USER":
		return nil, newError(CodeInvalidToken, "debug_token", nil, "debug_token: not a user access token")
	case !p.accepted(d.AppID):
		return nil, newError(CodeInvalidToken, "debug_token", nil, "debug_token: the token belongs to another Facebook app, not %s or CONVERT_AUDIENCES", clip(p.cfg.ClientID))
	case d.ExpiresAt == nil || (*d.ExpiresAt != 0 && p.cfg.Now().Unix() >= *d.ExpiresAt):
		return nil, newError(CodeInvalidToken, "exp", nil, "exp: the token has expired")
	case !isDigits(d.UserID, 40):
		return nil, newError(CodeInvalidToken, "sub", nil, "sub: debug_token names no user")
	}
	return p.profile(ctx, eps, token, d.UserID, nil, "debug_token")
}

// graphGrantError reads a Graph API error answer of the token endpoint
// as an RFC 6749 §5.2 code: OAuthException 100 (a used, expired or
// mismatched code: "This authorization code has been used", subcodes
// 36007, 36009) is invalid_grant, the app's fault to retry; code 1 or
// 101 (bad app id or secret) is invalid_client, our registration's.
// Anything else gives "" and stays a provider failure.
func graphGrantError(status int, code string, body []byte) string {
	if code != "" {
		return code
	}
	if status != http.StatusBadRequest {
		return ""
	}
	var ans struct {
		Error *struct {
			Type string `json:"type"`
			Code int    `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &ans) != nil || ans.Error == nil || ans.Error.Type != "OAuthException" {
		return ""
	}
	switch ans.Error.Code {
	case 100:
		return "invalid_grant"
	case 1, 101:
		return "invalid_client"
	}
	return ""
}

// graphGet GETs a Graph API URL whose query carries tokens and the app
// secret: a transport error has the URL without its query, so neither
// reaches a log.
func (p *Provider) graphGet(ctx context.Context, u *url.URL) (status int, body []byte, err error) {
	start := time.Now()
	defer func() { p.observe(CallTokenCheck, start, status, err) }()
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, nil, errors.New("graph request: bad URL")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	resp, err := p.client.Do(req)
	if err != nil {
		if ue, ok := errors.AsType[*url.Error](err); ok {
			ue.URL = u.Scheme + "://" + u.Host + u.Path
		}
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, maxFormAnswer+1))
	if err != nil {
		return 0, nil, err
	}
	if len(body) > maxFormAnswer {
		return 0, nil, errTooLarge
	}
	return resp.StatusCode, body, nil
}
