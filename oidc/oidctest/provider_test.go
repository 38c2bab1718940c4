package oidctest

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

func TestNewRejectsBadOptions(t *testing.T) {
	ok := testOptions()
	ok.Issuer = "https://op.example"
	tests := []struct {
		name   string
		mutate func(*Options)
	}{
		{"empty issuer", func(o *Options) { o.Issuer = "" }},
		{"relative issuer", func(o *Options) { o.Issuer = "/op" }},
		{"issuer with query", func(o *Options) { o.Issuer = "https://op.example?x=1" }},
		{"issuer with fragment", func(o *Options) { o.Issuer = "https://op.example#x" }},
		{"ftp issuer", func(o *Options) { o.Issuer = "ftp://op.example" }},
		{"no clients", func(o *Options) { o.Clients = nil }},
		{"empty client id", func(o *Options) { o.Clients = []Client{{}} }},
		{"duplicate client", func(o *Options) { o.Clients = append(o.Clients, Client{ID: testClient}) }},
		{"relative redirect", func(o *Options) { o.Clients = []Client{{ID: "a", RedirectURIs: []string{"/cb"}}} }},
		{"redirect with fragment", func(o *Options) { o.Clients = []Client{{ID: "a", RedirectURIs: []string{"https://a/cb#x"}}} }},
		{"unknown alg", func(o *Options) { o.Alg = "HS256" }},
	}
	if _, err := New(ok); err != nil {
		t.Fatalf("valid options: %v", err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := testOptions()
			o.Issuer = "https://op.example"
			tc.mutate(&o)
			if _, err := New(o); err == nil {
				t.Fatal("New accepted invalid options")
			}
		})
	}
}

func TestDiscovery(t *testing.T) {
	for _, path := range []string{"", "/dev/op"} {
		t.Run("path="+path, func(t *testing.T) {
			op := newTestServer(t, func(o *Options) { o.Issuer = path })
			if want := op.URL + path; op.Issuer() != want {
				t.Fatalf("issuer %q, want %q", op.Issuer(), want)
			}
			a := get(t, op, op.Issuer()+"/.well-known/openid-configuration", nil)
			if a.status != http.StatusOK {
				t.Fatalf("status %d: %s", a.status, a.raw)
			}
			wantStr := map[string]string{
				"issuer":                 op.Issuer(),
				"authorization_endpoint": op.Issuer() + "/authorize",
				"token_endpoint":         op.Issuer() + "/token",
				"userinfo_endpoint":      op.Issuer() + "/userinfo",
				"jwks_uri":               op.Issuer() + "/jwks",
				"revocation_endpoint":    op.Issuer() + "/revoke",
				"end_session_endpoint":   op.Issuer() + "/logout",
				"introspection_endpoint": op.Issuer() + "/introspect",
			}
			for k, want := range wantStr {
				if got := a.str(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			wantList := map[string][]string{
				"response_types_supported":                      {"code"},
				"code_challenge_methods_supported":              {"S256"},
				"id_token_signing_alg_values_supported":         {"RS256"},
				"token_endpoint_auth_methods_supported":         {"client_secret_basic", "client_secret_post", "none"},
				"introspection_endpoint_auth_methods_supported": {"client_secret_basic", "client_secret_post", "none"},
			}
			for k, want := range wantList {
				var got []string
				for _, v := range a.body[k].([]any) {
					got = append(got, v.(string))
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s = %v, want %v", k, got, want)
				}
			}
			if a.body["authorization_response_iss_parameter_supported"] != true {
				t.Error("authorization_response_iss_parameter_supported is not true")
			}
			for _, k := range []string{"scopes_supported", "claims_supported"} {
				if _, ok := a.body[k].([]any); !ok {
					t.Errorf("%s missing", k)
				}
			}
			if got := a.header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type %q", got)
			}
			// Every advertised endpoint is served under the issuer's path.
			if a := get(t, op, a.str("jwks_uri"), nil); a.status != http.StatusOK {
				t.Errorf("jwks_uri: status %d", a.status)
			}
			if a := get(t, op, op.URL+"/nowhere", nil); a.status != http.StatusNotFound {
				t.Errorf("unknown path: status %d", a.status)
			}
		})
	}
}

func TestIssParameterOff(t *testing.T) {
	off := false
	op := newTestServer(t, func(o *Options) { o.IssParameter = &off })
	a := get(t, op, op.EndpointURL(DiscoveryEndpoint), nil)
	if a.body["authorization_response_iss_parameter_supported"] != false {
		t.Error("iss parameter still advertised")
	}
	_, challenge := newPKCE()
	back, err := op.Login(authURL(op, challenge, nil), testEmail)
	if err != nil {
		t.Fatal(err)
	}
	if back.Query().Has("iss") {
		t.Errorf("iss sent although switched off: %s", back)
	}
}

// TestCodeFlow walks the whole flow the way a browser and a relying party
// do, over HTTP: login page, form post, code exchange, ID-token verification
// with jwx, userinfo, refresh, revocation, logout.
func TestCodeFlow(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256", "PS256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			op := newTestServer(t, func(o *Options) { o.Alg = alg })
			verifier, challenge := newPKCE()

			// The login page shows the client and carries the request.
			page := get(t, op, authURL(op, challenge, url.Values{"login_hint": {"someone@example.com"}}), nil)
			if page.status != http.StatusOK {
				t.Fatalf("login page: status %d: %s", page.status, page.raw)
			}
			html := string(page.raw)
			for _, want := range []string{"Example App", `name="code_challenge" value="` + challenge + `"`,
				`name="state" value="st-123"`, `value="someone@example.com"`, `type="email"`} {
				if !strings.Contains(html, want) {
					t.Errorf("login page lacks %q", want)
				}
			}
			if csp := page.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
				t.Errorf("CSP %q", csp)
			}

			// Submitting the form (what the hidden inputs hold) issues a code.
			form := url.Values{}
			for _, m := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`).FindAllStringSubmatch(html, -1) {
				form.Set(m[1], unescapeHTML(m[2]))
			}
			form.Set("email", testEmail)
			form.Set("action", "login")
			req, _ := http.NewRequest(http.MethodPost, op.EndpointURL(AuthorizeEndpoint), strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			sub := do(t, op, req)
			if sub.status != http.StatusFound {
				t.Fatalf("form post: status %d: %s", sub.status, sub.raw)
			}
			back, err := url.Parse(sub.header.Get("Location"))
			if err != nil {
				t.Fatal(err)
			}
			if got := back.Scheme + "://" + back.Host + back.Path; got != "https://app.example/callback" {
				t.Errorf("redirected to %q", got)
			}
			q := back.Query()
			if q.Get("state") != "st-123" || q.Get("iss") != op.Issuer() || q.Get("from") != "op" || q.Get("code") == "" {
				t.Fatalf("redirect query %v", q)
			}

			// Exchange, then verify the ID token as a relying party would.
			tok := exchange(t, op, q.Get("code"), verifier)
			if tok.status != http.StatusOK {
				t.Fatalf("token: status %d: %s", tok.status, tok.raw)
			}
			if tok.str("token_type") != "Bearer" || tok.body["expires_in"] != float64(3600) ||
				tok.str("access_token") == "" || tok.str("refresh_token") == "" || tok.str("scope") != "openid email profile" {
				t.Errorf("token response %s", tok.raw)
			}
			if got := tok.header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control %q", got)
			}
			keys, err := jwk.Fetch(t.Context(), op.EndpointURL(JWKSEndpoint), jwk.WithHTTPClient(op.Client()))
			if err != nil {
				t.Fatal(err)
			}
			idt, err := jwt.Parse([]byte(tok.str("id_token")), jwt.WithKeySet(keys),
				jwt.WithIssuer(op.Issuer()), jwt.WithAudience(testClient),
				jwt.WithRequiredClaim("iat"), jwt.WithRequiredClaim("exp"))
			if err != nil {
				t.Fatalf("ID token does not verify: %v", err)
			}
			claims, _ := idt.AsMap(t.Context())
			wantSub := Subject("jane.doe+test@example.com")
			if idt.Subject() != wantSub || len(wantSub) != 32 {
				t.Errorf("sub %q, want %q", idt.Subject(), wantSub)
			}
			for k, want := range map[string]any{"nonce": "n-456", "azp": testClient, "email": "jane.doe+test@example.com",
				"email_verified": true, "name": "Jane Doe", "at_hash": halfHash(alg, tok.str("access_token"))} {
				if claims[k] != want {
					t.Errorf("claim %s = %v, want %v", k, claims[k], want)
				}
			}
			if _, ok := claims["auth_time"]; !ok {
				t.Error("auth_time missing")
			}
			header, _, _ := splitJWT(t, tok.str("id_token"))
			if header["alg"] != alg || header["kid"] == "" {
				t.Errorf("header %v", header)
			}

			// Userinfo agrees with the ID token.
			ui := get(t, op, op.EndpointURL(UserinfoEndpoint), http.Header{"Authorization": {"Bearer " + tok.str("access_token")}})
			if ui.status != http.StatusOK || ui.str("sub") != wantSub || ui.str("email") != "jane.doe+test@example.com" {
				t.Errorf("userinfo: %d %s", ui.status, ui.raw)
			}

			// Refresh gives a new access token, the same refresh token, a
			// new ID token without nonce.
			ref := postForm(t, op, TokenEndpoint, url.Values{"grant_type": {"refresh_token"},
				"refresh_token": {tok.str("refresh_token")}}, "post", testClient, testSecret)
			if ref.status != http.StatusOK || ref.str("access_token") == tok.str("access_token") ||
				ref.str("refresh_token") != tok.str("refresh_token") || ref.str("id_token") == "" {
				t.Fatalf("refresh: %d %s", ref.status, ref.raw)
			}
			if _, c, _ := splitJWT(t, ref.str("id_token")); c["nonce"] != nil || c["sub"] != wantSub {
				t.Errorf("refreshed ID token claims %v", c)
			}

			// Revoking the refresh token revokes the grant's access tokens.
			rev := postForm(t, op, RevocationEndpoint, url.Values{"token": {tok.str("refresh_token")},
				"token_type_hint": {"refresh_token"}}, "basic", testClient, testSecret)
			if rev.status != http.StatusOK {
				t.Fatalf("revoke: %d %s", rev.status, rev.raw)
			}
			ui = get(t, op, op.EndpointURL(UserinfoEndpoint), http.Header{"Authorization": {"Bearer " + ref.str("access_token")}})
			if ui.status != http.StatusUnauthorized || !strings.Contains(ui.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Errorf("userinfo after revocation: %d %q", ui.status, ui.header.Get("WWW-Authenticate"))
			}
			again := postForm(t, op, TokenEndpoint, url.Values{"grant_type": {"refresh_token"},
				"refresh_token": {tok.str("refresh_token")}}, "basic", testClient, testSecret)
			if again.status != http.StatusBadRequest || again.str("error") != "invalid_grant" {
				t.Errorf("refresh after revocation: %d %s", again.status, again.raw)
			}

			// RP-initiated logout back to a registered URI.
			lo := get(t, op, op.EndpointURL(EndSessionEndpoint)+"?"+url.Values{"id_token_hint": {tok.str("id_token")},
				"post_logout_redirect_uri": {"https://app.example/bye"}, "state": {"s1"}}.Encode(), nil)
			if lo.status != http.StatusFound || lo.header.Get("Location") != "https://app.example/bye?state=s1" {
				t.Errorf("logout: %d %q", lo.status, lo.header.Get("Location"))
			}
		})
	}
}

func unescapeHTML(s string) string {
	return strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'", "&#43;", "+").Replace(s)
}

func TestAuthorizeErrors(t *testing.T) {
	op := newTestServer(t)
	_, challenge := newPKCE()
	tests := []struct {
		name     string
		extra    url.Values
		redirect bool   // error goes back to the client
		code     string // OAuth error code
	}{
		{"unknown client", url.Values{"client_id": {"nobody"}}, false, "invalid_client"},
		{"missing client", url.Values{"client_id": {""}}, false, "invalid_client"},
		{"unregistered redirect", url.Values{"redirect_uri": {"https://evil.example/cb"}}, false, "invalid_request"},
		{"redirect prefix only", url.Values{"redirect_uri": {testRedirect + "&x=1"}}, false, "invalid_request"},
		{"missing redirect", url.Values{"redirect_uri": {""}}, false, "invalid_request"},
		{"redirect of other client", url.Values{"redirect_uri": {"https://other.example/cb"}}, false, "invalid_request"},
		{"duplicate client_id", url.Values{"client_id": {testClient, testClient}}, false, "invalid_request"},
		{"plain PKCE", url.Values{"code_challenge_method": {"plain"}}, true, "invalid_request"},
		{"no PKCE method", url.Values{"code_challenge_method": {""}}, true, "invalid_request"},
		{"no PKCE challenge", url.Values{"code_challenge": {""}}, true, "invalid_request"},
		{"short challenge", url.Values{"code_challenge": {"abc"}}, true, "invalid_request"},
		{"implicit flow", url.Values{"response_type": {"token"}}, true, "unsupported_response_type"},
		{"hybrid flow", url.Values{"response_type": {"code id_token"}}, true, "unsupported_response_type"},
		{"fragment mode", url.Values{"response_mode": {"fragment"}}, true, "invalid_request"},
		{"request object", url.Values{"request": {"eyJ..."}}, true, "request_not_supported"},
		{"duplicate state", url.Values{"state": {"a", "b"}}, true, "invalid_request"},
		{"huge nonce", url.Values{"nonce": {strings.Repeat("n", maxParam+1)}}, true, "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := authURL(op, challenge, tc.extra)
			// The page.
			a := get(t, op, u, nil)
			if tc.redirect {
				loc, err := url.Parse(a.header.Get("Location"))
				if a.status != http.StatusFound || err != nil || !strings.HasPrefix(loc.String(), "https://app.example/callback?") {
					t.Fatalf("want an error redirect, got %d %q", a.status, a.header.Get("Location"))
				}
				if q := loc.Query(); q.Get("error") != tc.code || q.Get("code") != "" || q.Get("iss") != op.Issuer() {
					t.Errorf("redirect query %v", q)
				}
			} else if a.status != http.StatusBadRequest || a.header.Get("Location") != "" {
				t.Fatalf("want a 400 page, got %d %q", a.status, a.header.Get("Location"))
			}
			// Login, the same validation.
			back, err := op.Login(u, testEmail)
			var ae *AuthError
			if !asAuthError(err, &ae) || ae.Code != tc.code || ae.Redirect != tc.redirect {
				t.Fatalf("Login error %v, want %s (redirect %v)", err, tc.code, tc.redirect)
			}
			if tc.redirect != (back != nil) {
				t.Errorf("Login URL %v, redirect %v", back, tc.redirect)
			}
		})
	}
}

func TestAuthorizePromptNoneAndCancel(t *testing.T) {
	op := newTestServer(t)
	_, challenge := newPKCE()
	a := get(t, op, authURL(op, challenge, url.Values{"prompt": {"none"}}), nil)
	if loc, _ := url.Parse(a.header.Get("Location")); a.status != http.StatusFound || loc.Query().Get("error") != "login_required" {
		t.Errorf("prompt=none: %d %q", a.status, a.header.Get("Location"))
	}
	u, _ := url.Parse(authURL(op, challenge, nil))
	form := u.Query()
	form.Set("action", "cancel")
	req, _ := http.NewRequest(http.MethodPost, op.EndpointURL(AuthorizeEndpoint), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	a = do(t, op, req)
	if loc, _ := url.Parse(a.header.Get("Location")); a.status != http.StatusFound || loc.Query().Get("error") != "access_denied" || loc.Query().Get("state") != "st-123" {
		t.Errorf("cancel: %d %q", a.status, a.header.Get("Location"))
	}
}

func TestAuthorizeFormPost(t *testing.T) {
	op := newTestServer(t)
	_, challenge := newPKCE()
	u, _ := url.Parse(authURL(op, challenge, nil))
	post := func(email string, h http.Header) tokenAnswer {
		form := u.Query()
		form.Set("email", email)
		form.Set("action", "login")
		req, _ := http.NewRequest(http.MethodPost, op.EndpointURL(AuthorizeEndpoint), strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range h {
			req.Header[k] = v
		}
		return do(t, op, req)
	}
	for _, bad := range []string{"", "jane", "Jane <jane@example.com>", "a b@example.com", "@example.com", "jane@"} {
		if a := post(bad, nil); a.status != http.StatusBadRequest || !strings.Contains(string(a.raw), "Enter an email address") {
			t.Errorf("email %q: %d", bad, a.status)
		}
	}
	if a := post(testEmail, http.Header{"Sec-Fetch-Site": {"cross-site"}}); a.status != http.StatusForbidden {
		t.Errorf("cross-site post: %d", a.status)
	}
	if a := post(testEmail, nil); a.status != http.StatusFound {
		t.Errorf("good post: %d %s", a.status, a.raw)
	}
	req, _ := http.NewRequest(http.MethodPut, op.EndpointURL(AuthorizeEndpoint), nil)
	if a := do(t, op, req); a.status != http.StatusMethodNotAllowed {
		t.Errorf("PUT: %d", a.status)
	}
}

func TestLoginRejectsForeignURL(t *testing.T) {
	op := newTestServer(t)
	_, challenge := newPKCE()
	good := authURL(op, challenge, nil)
	for _, u := range []string{
		strings.Replace(good, "/authorize", "/token", 1),
		strings.Replace(good, op.URL, "http://elsewhere.example", 1),
		"::not a url",
	} {
		if back, err := op.Login(u, testEmail); err == nil || back != nil {
			t.Errorf("Login(%q) = %v, %v", u, back, err)
		}
	}
	if _, err := op.Login(good, "not-an-email"); err == nil {
		t.Error("Login accepted a bad email")
	}
}

func TestTokenEndpointErrors(t *testing.T) {
	op := newTestServer(t)
	tests := []struct {
		name   string
		form   func(code, verifier string) url.Values
		style  string
		client string
		secret string
		status int
		code   string
	}{
		{"wrong verifier", func(c, _ string) url.Values { v, _ := newPKCE(); return codeForm(c, v, testRedirect) }, "basic", testClient, testSecret, 400, "invalid_grant"},
		{"missing verifier", func(c, _ string) url.Values { return codeForm(c, "", testRedirect) }, "basic", testClient, testSecret, 400, "invalid_grant"},
		{"short verifier", func(c, _ string) url.Values { return codeForm(c, "abc", testRedirect) }, "basic", testClient, testSecret, 400, "invalid_grant"},
		{"wrong redirect", func(c, v string) url.Values { return codeForm(c, v, "https://app.example/callback") }, "basic", testClient, testSecret, 400, "invalid_grant"},
		{"missing redirect", func(c, v string) url.Values { return codeForm(c, v, "") }, "basic", testClient, testSecret, 400, "invalid_request"},
		{"unknown code", func(_, v string) url.Values { return codeForm("nope", v, testRedirect) }, "basic", testClient, testSecret, 400, "invalid_grant"},
		{"missing code", func(_, v string) url.Values { return codeForm("", v, testRedirect) }, "basic", testClient, testSecret, 400, "invalid_request"},
		{"other client", func(c, v string) url.Values { return codeForm(c, v, testRedirect) }, "basic", "other", "other-secret", 400, "invalid_grant"},
		{"wrong secret basic", func(c, v string) url.Values { return codeForm(c, v, testRedirect) }, "basic", testClient, "wrong", 401, "invalid_client"},
		{"wrong secret post", func(c, v string) url.Values { return codeForm(c, v, testRedirect) }, "post", testClient, "wrong", 401, "invalid_client"},
		{"unknown client", func(c, v string) url.Values { return codeForm(c, v, testRedirect) }, "basic", "nobody", "x", 401, "invalid_client"},
		{"no credentials", func(c, v string) url.Values { return codeForm(c, v, testRedirect) }, "", "", "", 401, "invalid_client"},
		{"confidential client without secret", func(c, v string) url.Values { return codeForm(c, v, testRedirect) }, "none", testClient, "", 401, "invalid_client"},
		{"two auth methods", func(c, v string) url.Values {
			f := codeForm(c, v, testRedirect)
			f.Set("client_secret", testSecret)
			return f
		}, "basic", testClient, testSecret, 400, "invalid_request"},
		{"duplicate parameter", func(c, v string) url.Values {
			f := codeForm(c, v, testRedirect)
			f.Add("code", c)
			return f
		}, "basic", testClient, testSecret, 400, "invalid_request"},
		{"unsupported grant", func(string, string) url.Values { return url.Values{"grant_type": {"password"}} }, "basic", testClient, testSecret, 400, "unsupported_grant_type"},
		{"missing grant", func(string, string) url.Values { return url.Values{} }, "basic", testClient, testSecret, 400, "invalid_request"},
		{"refresh unknown", func(string, string) url.Values {
			return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"nope"}}
		}, "basic", testClient, testSecret, 400, "invalid_grant"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, verifier := login(t, op)
			a := postForm(t, op, TokenEndpoint, tc.form(code, verifier), tc.style, tc.client, tc.secret)
			if a.status != tc.status || a.str("error") != tc.code {
				t.Fatalf("got %d %s, want %d %s", a.status, a.raw, tc.status, tc.code)
			}
			if a.status == 401 && a.header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			if strings.Contains(string(a.raw), testSecret) || (code != "" && strings.Contains(string(a.raw), code)) {
				t.Error("error response echoes a secret")
			}
		})
	}
	req, _ := http.NewRequest(http.MethodGet, op.EndpointURL(TokenEndpoint), nil)
	if a := do(t, op, req); a.status != http.StatusMethodNotAllowed {
		t.Errorf("GET token: %d", a.status)
	}
	req, _ = http.NewRequest(http.MethodPost, op.EndpointURL(TokenEndpoint), strings.NewReader(`{"grant_type":"authorization_code"}`))
	req.Header.Set("Content-Type", "application/json")
	if a := do(t, op, req); a.status != http.StatusBadRequest || a.str("error") != "invalid_request" {
		t.Errorf("JSON body: %d %s", a.status, a.raw)
	}
}

func codeForm(code, verifier, redirect string) url.Values {
	f := url.Values{"grant_type": {"authorization_code"}}
	for k, v := range map[string]string{"code": code, "code_verifier": verifier, "redirect_uri": redirect} {
		if v != "" {
			f.Set(k, v)
		}
	}
	return f
}

func TestReplayedCodeRefusedAndRevokes(t *testing.T) {
	op := newTestServer(t)
	code, verifier := login(t, op)
	first := exchange(t, op, code, verifier)
	if first.status != http.StatusOK {
		t.Fatalf("first exchange: %d %s", first.status, first.raw)
	}
	second := exchange(t, op, code, verifier)
	if second.status != http.StatusBadRequest || second.str("error") != "invalid_grant" {
		t.Fatalf("replay: %d %s", second.status, second.raw)
	}
	ui := get(t, op, op.EndpointURL(UserinfoEndpoint), http.Header{"Authorization": {"Bearer " + first.str("access_token")}})
	if ui.status != http.StatusUnauthorized {
		t.Errorf("access token from a replayed code still works: %d", ui.status)
	}
}

func TestConcurrentRedemptionIssuesOnce(t *testing.T) {
	op := newTestServer(t)
	code, verifier := login(t, op)
	const n = 8
	results := make(chan int, n)
	for range n {
		go func() {
			form := codeForm(code, verifier, testRedirect)
			req := httptest.NewRequest(http.MethodPost, op.EndpointURL(TokenEndpoint), strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(url.QueryEscape(testClient), url.QueryEscape(testSecret))
			rec := httptest.NewRecorder()
			op.ServeHTTP(rec, req)
			results <- rec.Code
		}()
	}
	ok := 0
	for range n {
		if <-results == http.StatusOK {
			ok++
		}
	}
	if ok != 1 {
		t.Errorf("%d of %d concurrent redemptions succeeded, want 1", ok, n)
	}
}

func TestClientAuthStyles(t *testing.T) {
	tests := []struct {
		style, client, secret, redirect string
	}{
		{"basic", testClient, testSecret, testRedirect},
		{"post", testClient, testSecret, testRedirect},
		{"none", publicClient, "", publicRedir},
	}
	for _, tc := range tests {
		t.Run(tc.style, func(t *testing.T) {
			op := newTestServer(t)
			verifier, challenge := newPKCE()
			back, err := op.Login(authURL(op, challenge, url.Values{"client_id": {tc.client}, "redirect_uri": {tc.redirect}}), testEmail)
			if err != nil {
				t.Fatal(err)
			}
			a := postForm(t, op, TokenEndpoint, codeForm(back.Query().Get("code"), verifier, tc.redirect), tc.style, tc.client, tc.secret)
			if a.status != http.StatusOK {
				t.Fatalf("%d %s", a.status, a.raw)
			}
			reqs := op.Requests().TokenRequests
			want := map[string]string{"basic": "client_secret_basic", "post": "client_secret_post", "none": "none"}[tc.style]
			if len(reqs) != 1 || reqs[0].ClientAuth != want || reqs[0].ClientID != tc.client || reqs[0].CodeVerifier != verifier ||
				reqs[0].GrantType != "authorization_code" || reqs[0].Error != "" {
				t.Errorf("recorded %+v, want auth %s", reqs, want)
			}
		})
	}
}

func TestBasicAuthIsFormEncoded(t *testing.T) {
	// RFC 6749 §2.3.1: "+" in the encoded secret is a space; a raw secret
	// with a space cannot be sent unencoded with a colon in it anyway.
	tests := []struct {
		header string
		id     string
		secret string
		ok     bool
	}{
		{"Basic " + b64("app:s3cret+with+space%2Bplus%3Acolon%25"), "app", "s3cret with space+plus:colon%", true},
		{"basic " + b64("a%20b:c"), "a b", "c", true},
		{"Basic " + b64("app:x:y"), "app", "x:y", true},
		{"Basic " + b64("nocolon"), "", "", false},
		{"Basic !!!", "", "", false},
		{"Basic " + b64("app:%zz"), "", "", false},
	}
	for _, tc := range tests {
		id, secret, present, ok := parseBasic(tc.header)
		if !present || ok != tc.ok || (ok && (id != tc.id || secret != tc.secret)) {
			t.Errorf("parseBasic(%q) = %q %q %v %v", tc.header, id, secret, present, ok)
		}
	}
	if _, _, present, _ := parseBasic("Bearer x"); present {
		t.Error("Bearer taken for Basic")
	}
}

func TestRevocation(t *testing.T) {
	op := newTestServer(t)
	tok := tokensFor(t, op, Faults{})
	tests := []struct {
		name   string
		form   url.Values
		style  string
		client string
		secret string
		status int
	}{
		{"no client auth", url.Values{"token": {"x"}}, "", "", "", 401},
		{"bad secret", url.Values{"token": {"x"}}, "basic", testClient, "nope", 401},
		{"missing token", url.Values{}, "basic", testClient, testSecret, 400},
		{"unknown token", url.Values{"token": {"unknown"}}, "basic", testClient, testSecret, 200},
		{"another client's token", url.Values{"token": {tok.str("access_token")}}, "basic", "other", "other-secret", 200},
		{"access token", url.Values{"token": {tok.str("access_token")}, "token_type_hint": {"access_token"}}, "post", testClient, testSecret, 200},
		{"again", url.Values{"token": {tok.str("access_token")}}, "basic", testClient, testSecret, 200},
	}
	for _, tc := range tests {
		if a := postForm(t, op, RevocationEndpoint, tc.form, tc.style, tc.client, tc.secret); a.status != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, a.status, a.raw, tc.status)
		}
	}
	revs := op.Requests().Revocations
	var revoked []bool
	for _, r := range revs {
		revoked = append(revoked, r.Revoked)
	}
	if !slices.Equal(revoked, []bool{false, false, true, false}) {
		t.Errorf("revocations %+v", revs)
	}
	// The refresh token of the grant survives revoking an access token.
	ref := postForm(t, op, TokenEndpoint, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.str("refresh_token")}}, "basic", testClient, testSecret)
	if ref.status != http.StatusOK {
		t.Errorf("refresh after access-token revocation: %d %s", ref.status, ref.raw)
	}
}

func TestRefreshScopes(t *testing.T) {
	op := newTestServer(t)
	tok := tokensFor(t, op, Faults{})
	narrow := postForm(t, op, TokenEndpoint, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.str("refresh_token")},
		"scope": {"email"}}, "basic", testClient, testSecret)
	if narrow.status != http.StatusOK || narrow.str("scope") != "email" || narrow.str("id_token") != "" {
		t.Errorf("narrowed refresh: %d %s", narrow.status, narrow.raw)
	}
	wide := postForm(t, op, TokenEndpoint, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.str("refresh_token")},
		"scope": {"openid offline_access"}}, "basic", testClient, testSecret)
	if wide.status != http.StatusBadRequest || wide.str("error") != "invalid_scope" {
		t.Errorf("widened refresh: %d %s", wide.status, wide.raw)
	}
	other := postForm(t, op, TokenEndpoint, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.str("refresh_token")}},
		"basic", "other", "other-secret")
	if other.status != http.StatusBadRequest || other.str("error") != "invalid_grant" {
		t.Errorf("refresh by another client: %d %s", other.status, other.raw)
	}
}

func TestUserinfoErrors(t *testing.T) {
	op := newTestServer(t)
	for _, h := range []http.Header{nil, {"Authorization": {"Basic eA=="}}, {"Authorization": {"Bearer "}}} {
		a := get(t, op, op.EndpointURL(UserinfoEndpoint), h)
		if a.status != http.StatusUnauthorized || !strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Bearer") ||
			strings.Contains(a.header.Get("WWW-Authenticate"), "error=") {
			t.Errorf("%v: %d %q", h, a.status, a.header.Get("WWW-Authenticate"))
		}
	}
	a := get(t, op, op.EndpointURL(UserinfoEndpoint), http.Header{"Authorization": {"Bearer nope"}})
	if a.status != http.StatusUnauthorized || a.str("error") != "invalid_token" {
		t.Errorf("unknown token: %d %s", a.status, a.raw)
	}
}

func TestTokensExpire(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	var clock atomic.Int64 // offset from now
	op := newTestServer(t, func(o *Options) { o.Now = func() time.Time { return now.Add(time.Duration(clock.Load())) } })

	code, verifier := login(t, op)
	clock.Store(int64(codeTTL))
	if a := exchange(t, op, code, verifier); a.status != http.StatusBadRequest || a.str("error") != "invalid_grant" {
		t.Errorf("expired code: %d %s", a.status, a.raw)
	}

	clock.Store(0)
	tok := tokensFor(t, op, Faults{})
	_, claims, _ := splitJWT(t, tok.str("id_token"))
	if claims["iat"] != float64(now.Unix()) || claims["exp"] != float64(now.Add(time.Hour).Unix()) {
		t.Errorf("iat %v exp %v", claims["iat"], claims["exp"])
	}
	clock.Store(int64(accessTTL))
	if a := get(t, op, op.EndpointURL(UserinfoEndpoint), http.Header{"Authorization": {"Bearer " + tok.str("access_token")}}); a.status != http.StatusUnauthorized {
		t.Errorf("expired access token: %d", a.status)
	}
}

func TestEndSession(t *testing.T) {
	op := newTestServer(t)
	tok := tokensFor(t, op, Faults{})
	otherOP := newTestServer(t)
	foreign := tokensFor(t, otherOP, Faults{})
	tests := []struct {
		name     string
		q        url.Values
		status   int
		location string
	}{
		{"bare", url.Values{}, 200, ""},
		{"client_id and registered uri", url.Values{"client_id": {testClient}, "post_logout_redirect_uri": {"https://app.example/bye"}}, 302, "https://app.example/bye"},
		{"redirect uri also accepted", url.Values{"client_id": {testClient}, "post_logout_redirect_uri": {testRedirect}, "state": {"x"}}, 302, "https://app.example/callback?from=op&state=x"},
		{"hint and uri", url.Values{"id_token_hint": {tok.str("id_token")}, "post_logout_redirect_uri": {"https://app.example/bye"}}, 302, "https://app.example/bye"},
		{"unregistered uri", url.Values{"client_id": {testClient}, "post_logout_redirect_uri": {"https://evil.example/"}}, 400, ""},
		{"uri without client", url.Values{"post_logout_redirect_uri": {"https://app.example/bye"}}, 400, ""},
		{"foreign hint", url.Values{"id_token_hint": {foreign.str("id_token")}}, 400, ""},
		{"garbage hint", url.Values{"id_token_hint": {"abc"}}, 400, ""},
		{"hint for another client", url.Values{"id_token_hint": {tok.str("id_token")}, "client_id": {"other"}}, 400, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := get(t, op, op.EndpointURL(EndSessionEndpoint)+"?"+tc.q.Encode(), nil)
			if a.status != tc.status || a.header.Get("Location") != tc.location {
				t.Errorf("got %d %q, want %d %q", a.status, a.header.Get("Location"), tc.status, tc.location)
			}
		})
	}
}

func TestStripPrefixMount(t *testing.T) {
	p, err := New(func() Options { o := testOptions(); o.Issuer = "https://edge.example/dev/op"; return o }())
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []http.Handler{p, http.StripPrefix("/dev/op", p)} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://edge.example/dev/op/.well-known/openid-configuration", nil))
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"issuer":"https://edge.example/dev/op"`) {
			t.Errorf("%T: %d %s", h, rec.Code, rec.Body)
		}
	}
}

func TestIssueTokensAndSubject(t *testing.T) {
	op := newTestServer(t)
	toks, err := op.IssueTokens(testClient, "Bob@Example.com", "nn")
	if err != nil {
		t.Fatal(err)
	}
	_, claims, _ := splitJWT(t, toks.IDToken)
	if claims["sub"] != Subject("bob@example.com") || claims["email"] != "bob@example.com" || claims["nonce"] != "nn" || claims["name"] != "Bob" {
		t.Errorf("claims %v", claims)
	}
	if Subject("bob@example.com") != Subject(" BOB@example.COM ") {
		t.Error("Subject depends on case")
	}
	if _, err := op.IssueTokens("nobody", "bob@example.com", ""); err == nil {
		t.Error("unknown client accepted")
	}
	if _, err := op.IssueTokens(testClient, "bob", ""); err == nil {
		t.Error("bad email accepted")
	}
}

func TestNameFromEmail(t *testing.T) {
	for in, want := range map[string]string{
		"jane.doe+x@example.com": "Jane Doe",
		"j_r-r.tolkien@x.org":    "J R R Tolkien",
		"émile@x.fr":             "Émile",
		"+tag@x":                 "",
		"...@x":                  "...",
	} {
		if got := nameFromEmail(in); got != want {
			t.Errorf("nameFromEmail(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRequestCounters(t *testing.T) {
	op := newTestServer(t)
	get(t, op, op.EndpointURL(DiscoveryEndpoint), nil)
	get(t, op, op.EndpointURL(DiscoveryEndpoint), nil)
	get(t, op, op.EndpointURL(JWKSEndpoint), nil)
	tokensFor(t, op, Faults{})
	l := op.Requests()
	if l.Discovery != 2 || l.JWKS != 1 || l.Token != 1 || l.Logins != 1 {
		t.Errorf("log %+v", l)
	}
	op.ResetRequests()
	if l := op.Requests(); l.Discovery != 0 || len(l.TokenRequests) != 0 {
		t.Errorf("after reset %+v", l)
	}
}

func TestStoreIsBounded(t *testing.T) {
	op := newTestServer(t)
	for range maxEntries + 10 {
		op.storeToken(op.access, &grant{clientID: testClient}, nil, time.Hour)
	}
	op.mu.Lock()
	n := len(op.access)
	op.mu.Unlock()
	if n > maxEntries {
		t.Errorf("%d access tokens stored, bound %d", n, maxEntries)
	}
	for range maxRecorded + 5 {
		op.recordToken(TokenRequest{})
	}
	if n := len(op.Requests().TokenRequests); n != maxRecorded {
		t.Errorf("%d token requests recorded, want %d", n, maxRecorded)
	}
}
