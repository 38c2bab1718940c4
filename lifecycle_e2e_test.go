package main

// The session lifecycle against the real oidc-provider (.ci/e2e/op): after a
// browser login, refresh, token conversion, revocation and logout, each
// through edgeauth's API, with the provider's own introspection endpoint as
// the witness of what happened at the provider.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const (
	e2eClient2ID     = "another-app"
	e2eClient2Secret = "another-app-secret"
)

// TestSessionLifecycleAgainstOidcProvider logs in through oidc-provider in
// Chromium, then: refreshes through /oauth2/refresh (new access token, rotated
// refresh token, provider tokens refreshed at the provider); converts the
// provider's ID token and access token through /oauth2/convert-token, and
// refuses an access token that the provider issued to another app; revokes
// the provider's refresh token through /oauth2/revoke, after which the
// provider says it is inactive and /oauth2/refresh ends the session; and
// follows /oauth2/logout-url back to the app.
func TestSessionLifecycleAgainstOidcProvider(t *testing.T) {
	browser := newBrowser(t)
	node := nodeProject(t, opDir, "oidc-provider", "the e2e OpenID Provider needs Node.js >= 20.18 with npm")
	ctx, cancel := context.WithTimeout(browser, 90*time.Second)
	defer cancel()

	app := newE2EApp(t)
	other := newCodeCatcher(t)
	op := startOIDCProvider(ctx, t, node, app.URL()+"/callback", app.URL()+"/logged-out",
		"ALWAYS_ISSUE_REFRESH_TOKEN=1", // edgeauth asks for no offline_access by default
		"CLIENT2_ID="+e2eClient2ID, "CLIENT2_SECRET="+e2eClient2Secret,
		"CLIENT2_REDIRECT_URIS="+other.URL()+"/cb")
	var meta struct {
		IntrospectionEndpoint string `json:"introspection_endpoint"`
		RevocationEndpoint    string `json:"revocation_endpoint"`
	}
	getJSON(ctx, t, op.Issuer+"/.well-known/openid-configuration", &meta)
	if meta.IntrospectionEndpoint == "" || meta.RevocationEndpoint == "" {
		t.Fatalf("provider advertises no introspection or revocation endpoint: %+v", meta)
	}
	introspect := func(t *testing.T, token string) map[string]any {
		t.Helper()
		return opIntrospect(ctx, t, meta.IntrospectionEndpoint, e2eClientID, e2eClientSecret, token)
	}

	env := map[string]string{
		"EDGEAUTH_PROVIDERS":                     e2eProvider,
		"EDGEAUTH_NODE_ISSUER":                   op.Issuer,
		"EDGEAUTH_NODE_CLIENT_ID":                e2eClientID,
		"EDGEAUTH_NODE_CLIENT_SECRET":            e2eClientSecret,
		"EDGEAUTH_NODE_REDIRECT_URI":             app.URL() + "/callback",
		"EDGEAUTH_NODE_POST_LOGOUT_REDIRECT_URI": app.URL() + "/logged-out",
	}
	maps.Copy(env, freshKeys(t))
	// Loopback URLs are exempt from the https rules: production mode stands.
	publicURL := startEdgeauth(t, []string{"serve"}, env)
	app.setEdge(publicURL)
	wantSub := e2eProvider + "|" + e2eLogin

	// --- The login.
	flow := app.start(ctx, t, "", true)
	browserLogin(ctx, t, flow.URL)
	cb := app.callback(ctx, t)
	if cb.Err != nil || cb.Status != http.StatusOK {
		t.Fatalf("login: %v %d %s", cb.Err, cb.Status, cb.Body)
	}
	var login lifecycleTokens
	if err := json.Unmarshal(cb.Body, &login); err != nil {
		t.Fatalf("token response: %v\n%s", err, cb.Body)
	}
	if at := verifyAccessToken(ctx, t, publicURL, login.API.Access); at.Subject() != wantSub {
		t.Fatalf("login sub %q, want %q", at.Subject(), wantSub)
	}
	if login.API.Refresh == "" || login.Provider.RefreshToken == "" || login.Provider.IDToken == "" {
		t.Fatalf("login: want an API refresh token and the provider's refresh and ID tokens (ALWAYS_ISSUE_REFRESH_TOKEN=1): %s", cb.Body)
	}
	if ti := introspect(t, login.Provider.RefreshToken); ti["active"] != true || ti["client_id"] != e2eClientID {
		t.Fatalf("the provider's refresh token is not live at the provider: %v", ti)
	}
	authURL, _ := url.Parse(flow.URL)
	nonce := authURL.Query().Get("nonce")

	// The latest tokens; a step that fails leaves them as they were, so the
	// later steps still run.
	apiRefresh, providerAccess := login.API.Refresh, login.Provider.AccessToken

	t.Run("refresh", func(t *testing.T) {
		status, _, body := callAPI(ctx, t, http.MethodPost, publicURL+"/oauth2/refresh", map[string]string{"refresh": apiRefresh}, nil)
		if status != http.StatusOK {
			t.Fatalf("POST /oauth2/refresh: %d %s", status, body)
		}
		var res lifecycleTokens
		if err := json.Unmarshal(body, &res); err != nil {
			t.Fatalf("refresh response: %v\n%s", err, body)
		}
		if at := verifyAccessToken(ctx, t, publicURL, res.API.Access); at.Subject() != wantSub {
			t.Errorf("refreshed access token sub %q, want %q", at.Subject(), wantSub)
		}
		if res.API.TokenType != "Bearer" || res.API.ExpiresIn <= 0 {
			t.Errorf("api: token_type %q, expires_in %d", res.API.TokenType, res.API.ExpiresIn)
		}
		if res.API.Refresh == "" || res.API.Refresh == apiRefresh {
			t.Errorf("refresh token not rotated (empty: %t)", res.API.Refresh == "")
		}
		// Refreshed at the provider: a new provider access token, live there
		// and issued to our client.
		if res.Provider.AccessToken == "" || res.Provider.AccessToken == login.Provider.AccessToken || res.Provider.ExpiresIn <= 0 {
			t.Fatalf("provider tokens not refreshed: %s", body)
		}
		if ti := introspect(t, res.Provider.AccessToken); ti["active"] != true || ti["client_id"] != e2eClientID || ti["sub"] != e2eLogin {
			t.Errorf("refreshed provider access token at the provider: %v", ti)
		}
		if res.Provider.RefreshToken != "" || res.User != nil {
			t.Errorf("refresh answers only api and provider {access_token, expires_in, id_token}: %s", body)
		}
		if res.Provider.IDToken != "" {
			checkIDTokenClaims(t, res.Provider.IDToken, op.Issuer, e2eClientID, e2eLogin)
		}
		// The refreshed access token passes the forward-auth check too.
		vstatus, vh, vbody := callAPI(ctx, t, http.MethodGet, publicURL+"/oauth2/verify", nil,
			http.Header{"Authorization": {"Bearer " + res.API.Access}})
		if vstatus != http.StatusOK || vh.Get("X-Auth-Request-User") != wantSub {
			t.Errorf("GET /oauth2/verify: %d user %q %s", vstatus, vh.Get("X-Auth-Request-User"), vbody)
		}
		apiRefresh, providerAccess = res.API.Refresh, res.Provider.AccessToken

		// The rotated refresh token refreshes again.
		status, _, body = callAPI(ctx, t, http.MethodPost, publicURL+"/oauth2/refresh", map[string]string{"refresh": apiRefresh}, nil)
		if status != http.StatusOK {
			t.Fatalf("second refresh with the rotated token: %d %s", status, body)
		}
		if err := json.Unmarshal(body, &res); err == nil && res.API.Refresh != "" {
			apiRefresh = res.API.Refresh
			if res.Provider.AccessToken != "" {
				providerAccess = res.Provider.AccessToken
			}
		}
	})

	convert := func(t *testing.T, in map[string]string) (int, []byte) {
		t.Helper()
		status, _, body := callAPI(ctx, t, http.MethodPost, publicURL+"/oauth2/convert-token", in, nil)
		return status, body
	}
	convertOK := func(t *testing.T, in map[string]string) {
		t.Helper()
		status, body := convert(t, in)
		if status != http.StatusOK {
			t.Fatalf("POST /oauth2/convert-token: %d %s", status, body)
		}
		var res lifecycleTokens
		if err := json.Unmarshal(body, &res); err != nil {
			t.Fatalf("convert response: %v\n%s", err, body)
		}
		if at := verifyAccessToken(ctx, t, publicURL, res.API.Access); at.Subject() != wantSub {
			t.Errorf("converted access token sub %q, want %q", at.Subject(), wantSub)
		}
		if res.API.Refresh == "" {
			t.Error("convert gave no API refresh token")
		}
		if res.Provider != (lifecycleProviderTokens{}) {
			t.Errorf("convert passes provider tokens back: %+v", res.Provider)
		}
		if res.User["id"] != wantSub {
			t.Errorf("user %v, want id %q", res.User, wantSub)
		}
	}

	t.Run("convert the provider's ID token", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			in   map[string]string
		}{
			{"token_type id_token", map[string]string{"token_type": "id_token"}},
			{"token_type detected", map[string]string{}},
			{"with the login's nonce", map[string]string{"token_type": "id_token", "nonce": nonce}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				in := map[string]string{"provider": e2eProvider, "token": login.Provider.IDToken}
				maps.Copy(in, tc.in)
				convertOK(t, in)
			})
		}
		t.Run("another nonce", func(t *testing.T) {
			status, body := convert(t, map[string]string{"provider": e2eProvider, "token": login.Provider.IDToken,
				"token_type": "id_token", "nonce": "not-the-login-nonce"})
			checkProblem(t, status, body, http.StatusBadRequest, "nonce_mismatch", "", "")
		})
	})

	t.Run("convert the provider's access token (introspection)", func(t *testing.T) {
		convertOK(t, map[string]string{"provider": e2eProvider, "token": providerAccess, "token_type": "access_token"})
	})

	t.Run("refuse another app's tokens", func(t *testing.T) {
		theirs := other.login(ctx, t, op, e2eClient2ID, e2eClient2Secret)
		// The provider vouches for the token: live, same user, another client.
		ti := introspect(t, theirs.AccessToken)
		if ti["active"] != true || ti["client_id"] != e2eClient2ID || ti["sub"] != e2eLogin || ti["token_type"] != "Bearer" {
			t.Fatalf("another app's access token at the provider: %v", ti)
		}
		status, body := convert(t, map[string]string{"provider": e2eProvider, "token": theirs.AccessToken, "token_type": "access_token"})
		checkProblem(t, status, body, http.StatusBadRequest, "invalid_token", "", "")
		status, body = convert(t, map[string]string{"provider": e2eProvider, "token": theirs.AccessToken})
		checkProblem(t, status, body, http.StatusBadRequest, "invalid_token", "", "")
		// Its ID token is for another audience.
		status, body = convert(t, map[string]string{"provider": e2eProvider, "token": theirs.IDToken, "token_type": "id_token"})
		checkProblemOneOf(t, status, body, http.StatusBadRequest, "invalid_id_token", "invalid_token")
	})

	t.Run("revoke the provider's refresh token", func(t *testing.T) {
		status, _, body := callAPI(ctx, t, http.MethodPost, publicURL+"/oauth2/revoke",
			map[string]string{"provider": e2eProvider, "token": login.Provider.RefreshToken, "token_type_hint": "refresh_token"}, nil)
		if status != http.StatusNoContent || len(body) != 0 {
			t.Fatalf("POST /oauth2/revoke: %d %s, want 204 and no body", status, body)
		}
		// oidc-provider revokes the whole grant (its README).
		if ti := introspect(t, login.Provider.RefreshToken); ti["active"] != false {
			t.Errorf("revoked refresh token at the provider: %v, want inactive", ti)
		}
		if ti := introspect(t, providerAccess); ti["active"] != false {
			t.Errorf("access token of the revoked grant at the provider: %v, want inactive", ti)
		}
		// The provider refuses the grant, which ends the session: the
		// client's problem (4xx), not the provider being down (5xx).
		status, _, body = callAPI(ctx, t, http.MethodPost, publicURL+"/oauth2/refresh", map[string]string{"refresh": apiRefresh}, nil)
		checkProblemOneOf(t, status, body, 0, "invalid_token", "expired_token")
		if status >= 500 || status < 400 {
			t.Errorf("refresh after revocation: status %d, want 400 or 401", status)
		}
	})

	t.Run("logout url", func(t *testing.T) {
		q := url.Values{"provider": {e2eProvider}, "id_token_hint": {login.Provider.IDToken},
			"post_logout_redirect_uri": {app.URL() + "/logged-out"}}
		var out struct {
			URL string `json:"url"`
		}
		// Not getJSON: its failure message would carry the ID token.
		status, _, body := callAPI(ctx, t, http.MethodGet, publicURL+"/oauth2/logout-url?"+q.Encode(), nil, nil)
		if status != http.StatusOK || json.Unmarshal(body, &out) != nil {
			t.Fatalf("GET /oauth2/logout-url: %d %s", status, body)
		}
		lu, err := url.Parse(out.URL)
		if err != nil || !strings.HasPrefix(out.URL, op.Meta.EndSessionEndpoint+"?") {
			t.Fatalf("logout url %q: want the end_session_endpoint %s (%v)", out.URL, op.Meta.EndSessionEndpoint, err)
		}
		lq := lu.Query()
		if lq.Get("client_id") != e2eClientID || lq.Get("id_token_hint") != login.Provider.IDToken ||
			lq.Get("post_logout_redirect_uri") != app.URL()+"/logged-out" || lq.Get("state") == "" {
			t.Errorf("logout url query: client_id %q, id_token_hint given %t, post_logout_redirect_uri %q, state %q",
				lq.Get("client_id"), lq.Get("id_token_hint") != "", lq.Get("post_logout_redirect_uri"), lq.Get("state"))
		}
		browserLogout(ctx, t, out.URL, app.URL()+"/logged-out")
		if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.Contains(loc, "state="+url.QueryEscape(lq.Get("state"))) {
			t.Errorf("post-logout redirect %s lacks the state of the logout URL", loc)
		}

		// A post-logout URI that is not allow-listed is refused.
		q.Set("post_logout_redirect_uri", "https://evil.test/bye")
		status, _, body = callAPI(ctx, t, http.MethodGet, publicURL+"/oauth2/logout-url?"+q.Encode(), nil, nil)
		checkProblem(t, status, body, http.StatusBadRequest, "redirect_uri_not_allowed", "", "")
	})
}

// lifecycleTokens is the answer of /oauth2/token, /oauth2/refresh and
// /oauth2/convert-token.
type lifecycleTokens struct {
	API struct {
		Access    string `json:"access"`
		Refresh   string `json:"refresh"`
		TokenType string `json:"token_type"`
		ExpiresIn int64  `json:"expires_in"`
	} `json:"api"`
	Provider lifecycleProviderTokens `json:"provider"`
	User     map[string]any          `json:"user"`
}

type lifecycleProviderTokens struct {
	AccessToken  string `json:"access_token"`
	IDToken      string `json:"id_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int64  `json:"expires_in"`
	LogoutURL    string `json:"logout_url"`
}

// callAPI sends in (when not nil) as JSON and returns the answer.
func callAPI(ctx context.Context, t *testing.T, method, u string, in any, h http.Header) (int, http.Header, []byte) {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	return resp.StatusCode, resp.Header, out
}

// checkProblemOneOf checks a problem+json answer whose code is one of codes
// (and whose status is status, unless 0).
func checkProblemOneOf(t *testing.T, status int, body []byte, wantStatus int, codes ...string) {
	t.Helper()
	var p struct {
		Status int    `json:"status"`
		Code   string `json:"code"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Errorf("status %d, body is not JSON: %v\n%s", status, err, body)
		return
	}
	if (wantStatus != 0 && status != wantStatus) || p.Status != status || !slices.Contains(codes, p.Code) {
		t.Errorf("got %d %q, want %d and one of %v\n%s", status, p.Code, wantStatus, codes, body)
	}
}

// opIntrospect asks the provider's RFC 7662 endpoint about token, as
// clientID (client_secret_basic).
func opIntrospect(ctx context.Context, t *testing.T, endpoint, clientID, secret, token string) map[string]any {
	t.Helper()
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, endpoint, strings.NewReader(url.Values{"token": {token}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	var out map[string]any
	doForm(t, req, &out)
	return out
}

// doForm sends a form request to the provider and decodes its 200 answer.
func doForm(t *testing.T, req *http.Request, out any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d %s", req.Method, req.URL, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		t.Fatalf("%s %s: %v\n%s", req.Method, req.URL, err, body)
	}
}

// checkIDTokenClaims reads an ID token's payload (its signature is the
// relying party's business) and checks what a refresh must keep.
func checkIDTokenClaims(t *testing.T, raw, iss, aud, sub string) {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Errorf("ID token has %d parts", len(parts))
		return
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	var c struct {
		Iss string `json:"iss"`
		Sub string `json:"sub"`
		Aud any    `json:"aud"`
	}
	if err != nil || json.Unmarshal(payload, &c) != nil {
		t.Errorf("ID token payload does not decode: %v", err)
		return
	}
	if c.Iss != iss || c.Sub != sub || fmt.Sprint(c.Aud) != aud {
		t.Errorf("refreshed ID token iss %q sub %q aud %v, want %q %q %q", c.Iss, c.Sub, c.Aud, iss, sub, aud)
	}
}

// codeCatcher is the redirect URI of "another app" at the provider: the page
// browserLogin recognises as the end of a login, and the query it got.
type codeCatcher struct {
	srv   *httptest.Server
	codes chan url.Values
}

func newCodeCatcher(t *testing.T) *codeCatcher {
	c := &codeCatcher{codes: make(chan url.Values, 4)}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case c.codes <- r.URL.Query():
		default:
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!DOCTYPE html><title>another app</title><p id=\"done\">%s</p>", html.EscapeString(r.URL.RawQuery))
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *codeCatcher) URL() string { return c.srv.URL }

// opTokens are the provider's tokens for another client.
type opTokens struct {
	AccessToken  string `json:"access_token"`
	IDToken      string `json:"id_token"`
	RefreshToken string `json:"refresh_token"`
}

// login runs the code flow of clientID at the provider in the browser (the
// provider session of the earlier login is shared, so it usually asks for
// consent only) and redeems the code itself, with PKCE.
func (c *codeCatcher) login(ctx context.Context, t *testing.T, op *e2eOP, clientID, secret string) opTokens {
	t.Helper()
	verifier := randomBinding(t) + randomBinding(t) // 64 base64url characters
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {clientID},
		"redirect_uri":          {c.URL() + "/cb"},
		"scope":                 {"openid email profile"},
		"state":                 {randomBinding(t)},
		"nonce":                 {randomBinding(t)},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	browserLogin(ctx, t, op.Meta.AuthorizationEndpoint+"?"+q.Encode())
	var back url.Values
	select {
	case back = <-c.codes:
	case <-ctx.Done():
		t.Fatalf("no redirect reached %s: %v", c.URL(), ctx.Err())
	}
	if back.Get("code") == "" || back.Get("state") != q.Get("state") {
		t.Fatalf("another app's callback: %v", back)
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {back.Get("code")},
		"redirect_uri": {c.URL() + "/cb"}, "code_verifier": {verifier}}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, op.Meta.TokenEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	var tok opTokens
	doForm(t, req, &tok)
	if tok.AccessToken == "" || tok.IDToken == "" {
		t.Fatalf("another app's tokens: access %t, id %t", tok.AccessToken != "", tok.IDToken != "")
	}
	return tok
}
