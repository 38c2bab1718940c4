package oidc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// GitHub (OAuth apps and GitHub Apps' user tokens) is OAuth 2.0 only: no
// ID token, no discovery, no userinfo in the OpenID sense.
//
//   - Identity: GET {api}/user; its numeric `id` is the stable subject (the
//     login can be renamed). https://docs.github.com/en/rest/users/users
//   - Email: /user shows only the public address and no verified flag, so
//     the address is taken from GET {api}/user/emails (scope user:email):
//     the primary address, email_verified as GitHub says for that one. An
//     unverified primary is passed on unverified; a verified secondary
//     address is never put in its place (the user chose the primary, and
//     the webhook gets the address the user sees on GitHub). Without the
//     scope (403/404) the public address stays, unverified.
//     https://docs.github.com/en/rest/users/emails
//   - Token endpoint: answers form-encoded unless asked for JSON, and
//     refuses with status 200 and error=bad_verification_code (or
//     incorrect_client_credentials, redirect_uri_mismatch) in the body;
//     x/oauth2 reads both forms and turns an error field into a refusal.
//     https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/troubleshooting-oauth-app-access-token-request-errors
//   - Refresh: only for GitHub Apps with expiring user tokens, whose answer
//     carries refresh_token (expires_in 28800); edgeauth keeps it in the
//     sealed refresh token and refreshes at the same token endpoint. OAuth
//     apps' tokens do not expire and come without one.
//   - Convert: POST {api}/applications/{client_id}/token with Basic
//     client_id:client_secret and {"access_token": …}: 200 only for a token
//     of this app, 404 (or 422) for any other.
//     https://docs.github.com/en/rest/apps/oauth-applications#check-a-token
//   - Revoke: DELETE {api}/applications/{client_id}/token, same
//     authentication, 204 (there is no RFC 7009 endpoint). Revoking the
//     whole grant (DELETE …/grant) is left to the application.
//   - Logout: none.
//
// GitHub Enterprise Server: BaseURL https://HOST gives
// https://HOST/login/oauth/{authorize,access_token} and the API at
// https://HOST/api/v3
// (https://docs.github.com/en/enterprise-server@latest/rest/quickstart);
// for GitHub Enterprise Cloud with data residency, BaseURL
// SUBDOMAIN.ghe.com gives the API at https://api.SUBDOMAIN.ghe.com
// (https://docs.github.com/en/enterprise-cloud@latest/admin/data-residency/network-details-for-ghecom).
func githubPreset() preset {
	return preset{
		cfg: Config{
			Type:         TypeOAuth2,
			Issuer:       "https://github.com",
			AuthURL:      "https://github.com/login/oauth/authorize",
			TokenURL:     "https://github.com/login/oauth/access_token",
			UserinfoURL:  "https://api.github.com/user",
			SubjectClaim: "id",
			Scopes:       []string{"read:user", "user:email"},
			ClientAuth:   ClientAuthPost,
		},
		fromBase: func(c *Config, base string) {
			c.Issuer = base
			c.AuthURL = base + "/login/oauth/authorize"
			c.TokenURL = base + "/login/oauth/access_token"
			c.UserinfoURL = base + "/api/v3/user"
			// GitHub Enterprise Cloud with data residency serves its API
			// from api.SUBDOMAIN.ghe.com instead.
			if host, ok := strings.CutPrefix(base, "https://"); ok && strings.HasSuffix(host, ".ghe.com") && !strings.Contains(host, "/") {
				c.UserinfoURL = "https://api." + host + "/user"
			}
		},
		quirks: quirks{
			userinfo:      githubUserinfo,
			enrich:        githubEmails,
			convertAccess: githubConvert,
			revoke:        githubRevoke,
			tokenErrorCode: func(_ int, code string, _ []byte) string {
				if code == "incorrect_client_credentials" { // with status 200
					return "invalid_client"
				}
				return code
			},
		},
	}
}

// githubAPI is the REST API root: the userinfo URL without its /user.
func githubAPI(eps *endpoints) (string, error) {
	api, ok := strings.CutSuffix(eps.userinfo, "/user")
	if !ok || api == "" {
		return "", newError(CodeUnavailable, "github_api", nil, "github_api: the userinfo URL does not end in /user, so the API root is unknown")
	}
	return api, nil
}

// githubUserinfo gives an account without a display name its login as
// name; GitHub sends "name": null then.
func githubUserinfo(info map[string]any) map[string]any {
	if name, _ := info["name"].(string); name == "" {
		if login, _ := info["login"].(string); login != "" {
			info["name"] = login
		}
	}
	return info
}

// githubEmail is one entry of GET /user/emails.
type githubEmail struct {
	Email    string `json:"email"`
	Primary  bool   `json:"primary"`
	Verified bool   `json:"verified"`
}

// githubEmails replaces the public address of /user by the primary one
// and its verified flag.
func githubEmails(ctx context.Context, p *Provider, eps *endpoints, accessToken string, id *Identity) error {
	if accessToken == "" {
		return nil
	}
	api, err := githubAPI(eps)
	if err != nil {
		return err
	}
	var emails []githubEmail
	start := time.Now()
	status, err := p.getJSON(ctx, api+"/user/emails", maxUserinfoBytes, accessToken, true, &emails)
	p.observe(CallUserinfo, start, status, err)
	switch {
	case status == http.StatusForbidden || status == http.StatusNotFound:
		// No user:email scope (OAuth app) or no email permission (GitHub
		// App): the public address, if any, stays unverified.
		id.EmailVerified = false
		return nil
	case status == http.StatusUnauthorized:
		return makeError(CodeUserinfoFailed, FaultClient, "user_emails", err, "user_emails: GitHub refused the access token")
	case err != nil:
		return newError(CodeUserinfoFailed, "user_emails", err, "user_emails: %s", safeCause(err))
	}
	id.EmailVerified = false
	for _, e := range emails {
		if e.Primary && e.Email != "" {
			id.Email, id.EmailVerified = e.Email, e.Verified
			return nil
		}
	}
	return nil
}

// githubAppsCall sends a JSON request to /applications/{client_id}/token,
// authenticated as the app.
func githubAppsCall(ctx context.Context, p *Provider, eps *endpoints, method, token string) (int, []byte, error) {
	api, err := githubAPI(eps)
	if err != nil {
		return 0, nil, err
	}
	endpoint := api + "/applications/" + url.PathEscape(p.cfg.ClientID) + "/token"
	body, err := json.Marshal(map[string]string{"access_token": token})
	if err != nil {
		return 0, nil, fmt.Errorf("oidc: github: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("oidc: github: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	req.Header.Set("User-Agent", userAgent)
	req.SetBasicAuth(p.cfg.ClientID, p.cfg.ClientSecret)
	call := CallTokenCheck
	if method == http.MethodDelete {
		call = CallRevocation
	}
	return p.do(call, req)
}

// githubCredentialsRefused is the error for a 401/403 of the applications
// API: edgeauth's own id or secret is wrong, not the token.
func githubCredentialsRefused(check string, status int, body []byte) error {
	return newError(CodeUnavailable, check, fmt.Errorf("github %s: HTTP %d: %s", check, status, body),
		"%s: GitHub refused edgeauth's client credentials (HTTP %d): check CLIENT_ID and CLIENT_SECRET", check, status)
}

// githubConvert accepts an access token only when GitHub's token check
// says it belongs to this OAuth app, then reads the profile as at login.
func githubConvert(ctx context.Context, p *Provider, eps *endpoints, token string) (*Identity, error) {
	status, ans, err := githubAppsCall(ctx, p, eps, http.MethodPost, token)
	if err != nil {
		if _, ok := errors.AsType[*Error](err); ok {
			return nil, err
		}
		return nil, newError(CodeUnavailable, "token_check", err, "token_check: %s", safeCause(err))
	}
	switch {
	case status == http.StatusNotFound || status == http.StatusUnprocessableEntity:
		return nil, newError(CodeInvalidToken, "token_check", nil, "token_check: GitHub says the token does not belong to this app")
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return nil, githubCredentialsRefused("token_check", status, ans)
	case status != http.StatusOK:
		return nil, newError(CodeUnavailable, "token_check", fmt.Errorf("github token check: HTTP %d: %s", status, ans), "token_check: provider answered HTTP %d", status)
	}
	var check struct {
		App struct {
			ClientID string `json:"client_id"`
		} `json:"app"`
		User struct {
			ID json.RawMessage `json:"id"`
		} `json:"user"`
	}
	if err := json.Unmarshal(ans, &check); err != nil {
		return nil, newError(CodeUnavailable, "token_check", err, "token_check: answer is not the expected JSON object")
	}
	// The path already names our client; the answer must agree, so that a
	// proxy or a changed API cannot make another app's token pass.
	if check.App.ClientID != p.cfg.ClientID {
		return nil, newError(CodeInvalidToken, "token_check", nil, "token_check: the token belongs to another app")
	}
	info, sub, err := p.userinfo(ctx, eps.userinfo, token)
	if err != nil {
		return nil, err
	}
	if want := rawSubject(check.User.ID); want == "" || sub != want {
		return nil, makeError(CodeInvalidToken, FaultClient, "userinfo_sub", nil, "userinfo_sub: the userinfo answer is about another user than the token check")
	}
	id := &Identity{Issuer: p.cfg.Issuer, Subject: sub, Userinfo: info}
	fillProfile(id, info)
	if err := githubEmails(ctx, p, eps, token, id); err != nil {
		return nil, err
	}
	return id, nil
}

// githubRevoke deletes an access token of this app. GitHub has no
// refresh-token revocation: a refresh token hint is refused as RFC 7009
// §2.2.1's unsupported_token_type would be.
func githubRevoke(ctx context.Context, p *Provider, eps *endpoints, token, hint string) error {
	if hint == "refresh_token" {
		return newError(CodeUnsupported, "revocation", nil, "revocation: GitHub revokes access tokens only: revoke the provider access token instead")
	}
	status, ans, err := githubAppsCall(ctx, p, eps, http.MethodDelete, token)
	if err != nil {
		if _, ok := errors.AsType[*Error](err); ok {
			return err
		}
		return newError(CodeUnavailable, "revocation", err, "revocation: %s", safeCause(err))
	}
	switch {
	// 404 and 422: not a token of this app (or already revoked); RFC 7009
	// §2.2 counts an unknown token as revoked.
	case status == http.StatusNoContent || status == http.StatusOK ||
		status == http.StatusNotFound || status == http.StatusUnprocessableEntity:
		return nil
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return githubCredentialsRefused("revocation", status, ans)
	}
	return newError(CodeUnavailable, "revocation", fmt.Errorf("github revocation: HTTP %d: %s", status, ans), "revocation: provider answered HTTP %d", status)
}
