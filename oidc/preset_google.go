package oidc

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strconv"
)

// googleTokeninfo is Google's token check for access tokens. It is fixed:
// tests route its host to a fake through Config.HTTPClient's transport.
const googleTokeninfo = "https://oauth2.googleapis.com/tokeninfo"

const googleIssuerURL = "https://accounts.google.com"

// Google: https://accounts.google.com/.well-known/openid-configuration
// (https://developers.google.com/identity/openid-connect/openid-connect).
//
//   - Issuer https://accounts.google.com; discovery's issuer must be that
//     exactly. Google documents that an ID token's iss is
//     https://accounts.google.com or accounts.google.com (tokens some
//     Android clients obtain), so those two exact strings, and nothing
//     else, pass the iss check.
//   - hd names the Workspace domain of the account; Config.HostedDomains
//     checks it (the email's domain proves nothing).
//   - Refresh tokens come only with access_type=offline, and after the
//     user's first consent only when prompt=consent asks again
//     (https://developers.google.com/identity/protocols/oauth2/web-server#offline):
//     Config.Offline sets both. An app that sends its own prompt replaces
//     consent; it should send "consent select_account" then.
//   - Convert of an access token: tokeninfo
//     (https://developers.google.com/identity/sign-in/web/backend-auth),
//     which sends its numbers and booleans as strings ("expires_in":
//     "3599", "email_verified": "true"); aud or azp must be ours or in
//     ConvertAudiences, expires_in positive, sub present; the profile then
//     comes from userinfo with the same sub.
//   - Revoke: discovery's revocation_endpoint
//     (https://oauth2.googleapis.com/revoke). No end_session_endpoint, so
//     no logout URL.
func googlePreset() preset {
	return preset{
		cfg: Config{Type: TypeOIDC, Issuer: googleIssuerURL},
		configure: func(c *Config) *ConfigProblem {
			if !c.Offline {
				return nil
			}
			params := map[string]string{"access_type": "offline", "prompt": "consent"}
			maps.Copy(params, c.AuthParams)
			c.AuthParams = params
			return nil
		},
		quirks: quirks{checkIssuer: googleIssuer, convertAccess: googleConvert, domainClaim: "hd"},
	}
}

// googleIssuer accepts the two iss values Google documents for its ID
// tokens; any other preset configuration (a test issuer) is matched
// exactly.
func googleIssuer(p *Provider, c map[string]any) error {
	iss, _ := c["iss"].(string)
	if iss == p.cfg.Issuer || (p.cfg.Issuer == googleIssuerURL && iss == "accounts.google.com") {
		return nil
	}
	return newError(CodeInvalidIDToken, "iss", nil, "iss: expected %s, got %s", clip(p.cfg.Issuer), clip(claimString(c, "iss")))
}

// googleConvert asks Google's tokeninfo about the access token: aud (or
// azp) must be an accepted client and expires_in positive. The profile
// then comes from Google's userinfo (which also carries hd for
// HostedDomains), its sub equal to tokeninfo's.
func googleConvert(ctx context.Context, p *Provider, eps *endpoints, token string) (*Identity, error) {
	ti, err := googleTokenInfo(ctx, p, token)
	if err != nil {
		return nil, err
	}
	aud, _ := ti["aud"].(string)
	azp, _ := ti["azp"].(string)
	if !p.accepted(aud) && !p.accepted(azp) {
		return nil, newError(CodeInvalidToken, "aud", nil, "aud: the token was issued to another client, not %s or CONVERT_AUDIENCES", clip(p.cfg.ClientID))
	}
	if n, ok := googleNumber(ti["expires_in"]); !ok || n <= 0 {
		return nil, newError(CodeInvalidToken, "expires_in", nil, "expires_in: the token has expired")
	}
	sub, _ := ti["sub"].(string)
	if sub == "" {
		return nil, newError(CodeInvalidToken, "sub", nil, "sub: tokeninfo names no subject")
	}
	return p.profile(ctx, eps, token, sub, ti, "tokeninfo")
}

func googleTokenInfo(ctx context.Context, p *Provider, token string) (map[string]any, error) {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, googleTokeninfo+"?"+url.Values{"access_token": {token}}.Encode(), nil)
	if err != nil {
		return nil, fmt.Errorf("oidc: google tokeninfo: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	status, body, err := p.do(CallTokenCheck, req)
	if err != nil {
		return nil, newError(CodeUnavailable, "tokeninfo", err, "tokeninfo: %s", safeCause(err))
	}
	switch {
	case status == http.StatusBadRequest || status == http.StatusUnauthorized:
		return nil, newError(CodeInvalidToken, "tokeninfo", nil, "tokeninfo: Google does not know the token (invalid or expired)")
	case status != http.StatusOK:
		return nil, newError(CodeUnavailable, "tokeninfo", fmt.Errorf("tokeninfo: HTTP %d: %s", status, body), "tokeninfo: provider answered HTTP %d", status)
	}
	var ti map[string]any
	if err := json.Unmarshal(body, &ti); err != nil || ti == nil {
		return nil, newError(CodeUnavailable, "tokeninfo", err, "tokeninfo: answer is not a JSON object")
	}
	return ti, nil
}

// googleNumber reads a tokeninfo number, which Google sends as a string.
func googleNumber(v any) (int64, bool) {
	switch n := v.(type) {
	case float64:
		return int64(n), true
	case string:
		i, err := strconv.ParseInt(n, 10, 64)
		return i, err == nil
	}
	return 0, false
}
