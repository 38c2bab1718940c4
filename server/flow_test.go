package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/edgeauth/edgeauth/apitoken"
	"github.com/edgeauth/edgeauth/oidc"
	"github.com/edgeauth/edgeauth/oidc/oidctest"
	"github.com/edgeauth/edgeauth/statecodec"
)

const (
	testClientID     = "edgeauth-test"
	testClientSecret = "op-client-secret-do-not-leak"
	testRedirect     = "https://app.example.test/callback"
	testRedirectAlt  = "https://app.example.test/other-callback"
	testAudience     = "https://api.example.test"
)

// clock is a settable test clock, shared by edgeauth and the provider.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// harness is edgeauth in front of an in-process provider, over real HTTP.
type harness struct {
	t      testing.TB
	op     *oidctest.Server
	srv    *Server
	edge   *httptest.Server
	client *http.Client // with a cookie jar: a browser-like user agent
	clock  *clock
	cfg    Config
}

type harnessOpt func(*Config, *oidctest.Options)

func newHarness(t testing.TB, opts ...harnessOpt) *harness {
	t.Helper()
	clk := &clock{t: time.Now().Truncate(time.Second)}
	opOpts := oidctest.Options{
		Clients: []oidctest.Client{{ID: testClientID, Secret: testClientSecret, RedirectURIs: []string{testRedirect, testRedirectAlt}}},
		Now:     clk.Now,
	}
	signing, err := apitoken.GenerateSigningKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := apitoken.ParseSigningKeys(string(signing))
	if err != nil {
		t.Fatal(err)
	}
	stateKey, _, err := statecodec.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		StateTTL:        10 * time.Minute,
		AccessTTL:       15 * time.Minute,
		RefreshTTL:      24 * time.Hour,
		SessionMaxAge:   72 * time.Hour,
		BindingSameSite: http.SameSiteLaxMode,
		AppStateMax:     256,
		TokenAudience:   testAudience,
		StateKeys:       []statecodec.Key{stateKey},
		SigningKeys:     keys,
	}
	for _, o := range opts {
		o(&cfg, &opOpts)
	}
	op := oidctest.NewServer(opOpts)
	t.Cleanup(op.Close)

	cfg.Providers = append([]ProviderConfig{{
		Name:                  "op",
		DisplayName:           "Test OP",
		RedirectURI:           testRedirect,
		RedirectURIs:          []string{testRedirect, testRedirectAlt},
		PostLogoutRedirectURI: testRedirect,
		OIDC: oidc.Config{
			Name:         "op",
			Type:         "oidc",
			Issuer:       op.Issuer(),
			ClientID:     testClientID,
			ClientSecret: testClientSecret,
			Timeout:      5 * time.Second,
		},
	}}, cfg.Providers...)

	h := &harness{t: t, op: op, clock: clk}
	edge := httptest.NewUnstartedServer(nil)
	edge.StartTLS() // the binding cookie is Secure
	t.Cleanup(edge.Close)
	cfg.PublicURL = edge.URL
	cfg.TokenIssuer = edge.URL
	srv, err := New(cfg, Options{Now: clk.Now})
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	edge.Config.Handler = srv.Handler()
	jar, _ := cookiejar.New(nil)
	client := edge.Client()
	client.Jar = jar
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	h.srv, h.edge, h.client, h.cfg = srv, edge, client, cfg
	return h
}

// get calls edgeauth and decodes the JSON answer.
func (h *harness) get(path string, out any) *http.Response {
	h.t.Helper()
	res, err := h.client.Get(h.edge.URL + path)
	if err != nil {
		h.t.Fatalf("GET %s: %v", path, err)
	}
	decode(h.t, res, out)
	return res
}

func (h *harness) post(path string, body any, out any) *http.Response {
	h.t.Helper()
	b, _ := json.Marshal(body)
	res, err := h.client.Post(h.edge.URL+path, "application/json", strings.NewReader(string(b)))
	if err != nil {
		h.t.Fatalf("POST %s: %v", path, err)
	}
	decode(h.t, res, out)
	return res
}

func decode(t testing.TB, res *http.Response, out any) {
	t.Helper()
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil && len(body) > 0 {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("decode %s: %v\n%s", res.Request.URL.Path, err, body)
		}
	}
}

// start asks for an authorization URL; query is added to provider=op.
func (h *harness) start(query string) urlResponse {
	h.t.Helper()
	var u urlResponse
	res := h.get("/oauth2/url?provider=op&"+query, &u)
	if res.StatusCode != http.StatusOK {
		h.t.Fatalf("GET /oauth2/url: %d", res.StatusCode)
	}
	return u
}

// login does the provider's part: the user signs in, the provider redirects.
func (h *harness) login(authURL, email string) url.Values {
	h.t.Helper()
	cb, err := h.op.Login(authURL, email)
	if err != nil {
		h.t.Fatalf("provider login: %v", err)
	}
	return cb.Query()
}

func tokenBody(cb url.Values) map[string]string {
	return map[string]string{"provider": "op", "code": cb.Get("code"), "state": cb.Get("state"), "iss": cb.Get("iss")}
}

func TestFullLoginFlow(t *testing.T) {
	h := newHarness(t)
	u := h.start("app_state=" + url.QueryEscape("/return/here"))
	if u.ExpiresIn != 600 {
		t.Errorf("expires_in %d", u.ExpiresIn)
	}
	au, err := url.Parse(u.URL)
	if err != nil {
		t.Fatal(err)
	}
	q := au.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") == "" || q.Get("state") != u.State || q.Get("redirect_uri") != testRedirect {
		t.Errorf("authorization URL lacks PKCE S256, nonce, state or redirect_uri: %s", u.URL)
	}

	cb := h.login(u.URL, "ada@example.com")
	var tr tokenResponse
	res := h.post("/oauth2/token", tokenBody(cb), &tr)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("POST /oauth2/token: %d %+v", res.StatusCode, tr)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	if tr.AppState != "/return/here" {
		t.Errorf("app_state %q", tr.AppState)
	}
	if tr.Provider == nil || tr.Provider.AccessToken == "" || tr.Provider.IDToken == "" {
		t.Fatalf("provider tokens missing: %+v", tr.Provider)
	}
	if !strings.HasPrefix(tr.Provider.LogoutURL, h.op.Issuer()) || !strings.Contains(tr.Provider.LogoutURL, "id_token_hint=") {
		t.Errorf("logout_url %q", tr.Provider.LogoutURL)
	}
	if tr.User["email"] != "ada@example.com" || !strings.HasPrefix(tr.User["id"].(string), "op|") {
		t.Errorf("user %v", tr.User)
	}

	// A backend verifies the access token with an ordinary JWT library and
	// nothing but the published JWKS.
	set, err := jwk.Fetch(context.Background(), h.edge.URL+"/.well-known/jwks.json", jwk.WithHTTPClient(h.edge.Client()))
	if err != nil {
		t.Fatalf("fetch JWKS: %v", err)
	}
	tok, err := jwt.ParseString(tr.API.Access, jwt.WithKeySet(set), jwt.WithIssuer(h.edge.URL), jwt.WithAudience(testAudience), jwt.WithClock(jwt.ClockFunc(h.clock.Now)))
	if err != nil {
		t.Fatalf("access token does not verify against the JWKS: %v", err)
	}
	if tok.Subject() != tr.User["id"] {
		t.Errorf("sub %q, user id %v", tok.Subject(), tr.User["id"])
	}
	if p, _ := tok.Get("provider"); p != "op" {
		t.Errorf("provider claim %v", p)
	}
	if tok.JwtID() == "" || tok.IssuedAt().IsZero() || tok.Expiration().Sub(tok.IssuedAt()) != 15*time.Minute {
		t.Errorf("jti/iat/exp: %q %v %v", tok.JwtID(), tok.IssuedAt(), tok.Expiration())
	}
	idt, err := jwt.ParseString(tr.Provider.IDToken, jwt.WithVerify(false), jwt.WithValidate(false))
	if err != nil {
		t.Fatal(err)
	}
	opAuthTime, _ := idt.Get("auth_time")
	authTime, _ := tok.Get("auth_time")
	if opAuthTime == nil || fmt.Sprint(authTime) != fmt.Sprint(opAuthTime) {
		t.Errorf("auth_time %v, the provider's %v", authTime, opAuthTime)
	}
	msg, _ := jws.ParseString(tr.API.Access)
	if typ := msg.Signatures()[0].ProtectedHeaders().Type(); typ != "at+jwt" {
		t.Errorf("typ %q, want at+jwt", typ)
	}
	if tr.API.TokenType != "Bearer" || tr.API.ExpiresIn != 900 {
		t.Errorf("api %+v", tr.API)
	}

	// The refresh token is sealed for refresh only.
	if rs, err := h.srv.refresh.Open(tr.API.Refresh); err != nil || rs.Subject != tok.Subject() || rs.Provider != "op" {
		t.Errorf("refresh token: %v %+v", err, rs)
	}
	if err := h.srv.states.Open(purposeState, tr.API.Refresh, &flowState{}); err == nil {
		t.Error("a refresh token opened as a flow state")
	}

	// The same state cannot be completed twice in this browser: the
	// binding cookie was replaced by the successful login.
	var p Problem
	res = h.post("/oauth2/token", tokenBody(cb), &p)
	if res.StatusCode != http.StatusBadRequest || p.Code != CodeBindingMismatch {
		t.Errorf("replayed state in the same browser: %d %+v", res.StatusCode, p)
	}
	// With the binding a frontend keeps, a replayed code reaches the
	// provider, which refuses it.
	u = h.start("binding=frontend-random-value-123")
	body := tokenBody(h.login(u.URL, "ada@example.com"))
	body["binding"] = "frontend-random-value-123"
	if res := h.post("/oauth2/token", body, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("login with binding: %d", res.StatusCode)
	}
	res = h.post("/oauth2/token", body, &p)
	if res.StatusCode != http.StatusBadRequest || p.Code != CodeExchangeFailed {
		t.Errorf("replayed code: %d %+v", res.StatusCode, p)
	}
}

func TestStateStaysShort(t *testing.T) {
	h := newHarness(t)
	for range 20 {
		u := h.start("")
		if n := len(u.State); n > 300 {
			t.Fatalf("state is %d characters, budget 300", n)
		}
	}
}

func TestRedirectURIAllowList(t *testing.T) {
	h := newHarness(t)
	var p Problem
	res := h.get("/oauth2/url?provider=op&redirect_uri="+url.QueryEscape(testRedirect+"/"), &p)
	if res.StatusCode != http.StatusBadRequest || p.Code != "redirect_uri_not_allowed" {
		t.Errorf("near-miss redirect_uri: %d %+v", res.StatusCode, p)
	}
	u := h.start("redirect_uri=" + url.QueryEscape(testRedirectAlt))
	cb := h.login(u.URL, "bob@example.com")
	var tr tokenResponse
	if res := h.post("/oauth2/token", tokenBody(cb), &tr); res.StatusCode != http.StatusOK {
		t.Errorf("alternative redirect_uri: %d (the exchange must repeat it)", res.StatusCode)
	}
}

// TestBinding covers login CSRF (RFC 9700 §2.1.1): a state is only good in
// the user agent that asked for it.
func TestBinding(t *testing.T) {
	cases := []struct {
		name       string
		query      string // to /oauth2/url
		binding    string // to /oauth2/token
		dropCookie bool
		wantStatus int
		wantCode   string
		wantDetail string
	}{
		{name: "cookie", wantStatus: 200},
		{name: "cookie missing", dropCookie: true, wantStatus: 400, wantCode: "binding_mismatch", wantDetail: "did not carry it"},
		{name: "param", query: "binding=frontend-random-value-123", binding: "frontend-random-value-123", dropCookie: true, wantStatus: 200},
		{name: "param missing", query: "binding=frontend-random-value-123", dropCookie: true, wantStatus: 400, wantCode: "binding_mismatch", wantDetail: "send the same value"},
		{name: "param different", query: "binding=frontend-random-value-123", binding: "frontend-random-value-124", wantStatus: 400, wantCode: "binding_mismatch", wantDetail: "differs"},
		{name: "param too short", query: "binding=short", wantStatus: 400, wantCode: "invalid_request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			var u urlResponse
			res := h.get("/oauth2/url?provider=op&"+tc.query, &u)
			if res.StatusCode != http.StatusOK {
				if tc.wantCode != "invalid_request" || res.StatusCode != 400 {
					t.Fatalf("/oauth2/url: %d", res.StatusCode)
				}
				return
			}
			cb := h.login(u.URL, "eve@example.com")
			if tc.dropCookie {
				h.client.Jar, _ = cookiejar.New(nil)
			}
			body := tokenBody(cb)
			body["binding"] = tc.binding
			var p Problem
			res = h.post("/oauth2/token", body, &p)
			if res.StatusCode != tc.wantStatus || string(p.Code) != tc.wantCode || !strings.Contains(p.Detail, tc.wantDetail) {
				t.Errorf("got %d %q %q, want %d %q containing %q", res.StatusCode, p.Code, p.Detail, tc.wantStatus, tc.wantCode, tc.wantDetail)
			}
		})
	}
}

func TestBindingCookieAttributes(t *testing.T) {
	h := newHarness(t)
	res, err := h.client.Get(h.edge.URL + "/oauth2/url?provider=op")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var ck *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == bindingCookie {
			ck = c
		}
	}
	if ck == nil || !ck.Secure || !ck.HttpOnly || ck.Path != "/" || ck.Domain != "" || ck.SameSite != http.SameSiteLaxMode {
		t.Fatalf("binding cookie %+v", ck)
	}
	// A second login started in another tab reuses the cookie; the first
	// login to finish replaces it, so the other must start again (a state
	// is never completed in a browser after a login there finished).
	first := h.start("")
	second := h.start("")
	cbFirst, cbSecond := h.login(first.URL, "tab@example.com"), h.login(second.URL, "tab@example.com")
	var tr tokenResponse
	if res := h.post("/oauth2/token", tokenBody(cbFirst), &tr); res.StatusCode != 200 {
		t.Fatalf("first tab: %d", res.StatusCode)
	}
	var p Problem
	if res := h.post("/oauth2/token", tokenBody(cbSecond), &p); res.StatusCode != 400 || p.Code != CodeBindingMismatch || !strings.Contains(p.Detail, "replaced") {
		t.Errorf("second tab after the first finished: %d %+v", res.StatusCode, p)
	}
	third := h.start("")
	if res := h.post("/oauth2/token", tokenBody(h.login(third.URL, "tab@example.com")), &tr); res.StatusCode != 200 {
		t.Errorf("a login started after the first finished: %d", res.StatusCode)
	}
}

func TestTokenRejects(t *testing.T) {
	cases := []struct {
		name       string
		faults     oidctest.Faults
		edit       func(h *harness, body map[string]string)
		wantStatus int
		wantCode   string
	}{
		{name: "tampered state", edit: func(_ *harness, b map[string]string) { b["state"] = tamper(b["state"]) }, wantStatus: 400, wantCode: "invalid_state"},
		{name: "garbage state", edit: func(_ *harness, b map[string]string) { b["state"] = "not-a-state" }, wantStatus: 400, wantCode: "invalid_state"},
		{name: "expired state", edit: func(h *harness, _ map[string]string) { h.clock.Advance(11 * time.Minute) }, wantStatus: 400, wantCode: "expired_state"},
		{name: "unknown provider", edit: func(_ *harness, b map[string]string) { b["provider"] = "nope" }, wantStatus: 400, wantCode: "unknown_provider"},
		{name: "other provider", edit: func(_ *harness, b map[string]string) { b["provider"] = "second" }, wantStatus: 400, wantCode: "provider_mismatch"},
		{name: "missing code", edit: func(_ *harness, b map[string]string) { delete(b, "code") }, wantStatus: 400, wantCode: "invalid_request"},
		{name: "missing iss (RFC 9207)", edit: func(_ *harness, b map[string]string) { delete(b, "iss") }, wantStatus: 400, wantCode: "issuer_mismatch"},
		{name: "wrong iss (RFC 9207)", edit: func(_ *harness, b map[string]string) { b["iss"] = "https://evil.example" }, wantStatus: 400, wantCode: "issuer_mismatch"},
		{name: "bad signature", faults: oidctest.Faults{BadSignature: true}, wantStatus: 400, wantCode: "invalid_id_token"},
		{name: "wrong nonce", faults: oidctest.Faults{Nonce: "other"}, wantStatus: 400, wantCode: "nonce_mismatch"},
		{name: "wrong audience", faults: oidctest.Faults{Audience: []string{"someone-else"}}, wantStatus: 400, wantCode: "invalid_id_token"},
		{name: "code refused", faults: oidctest.Faults{TokenError: "invalid_grant"}, wantStatus: 400, wantCode: "exchange_failed"},
		{name: "token endpoint down", faults: oidctest.Faults{Status: map[oidctest.Endpoint]int{oidctest.TokenEndpoint: 503}}, wantStatus: 502, wantCode: "provider_unavailable"},
		{name: "token endpoint garbage", faults: oidctest.Faults{Garbage: map[oidctest.Endpoint]bool{oidctest.TokenEndpoint: true}}, wantStatus: 502, wantCode: "provider_unavailable"},
		{name: "userinfo sub mismatch", faults: oidctest.Faults{UserinfoSubject: "someone-else", OmitClaims: []string{"email"}}, wantStatus: 400, wantCode: "userinfo_failed"},
	}
	second := func(cfg *Config, _ *oidctest.Options) {
		p := ProviderConfig{Name: "second", RedirectURI: testRedirect, RedirectURIs: []string{testRedirect},
			OIDC: oidc.Config{Name: "second", Type: "oidc", Issuer: "https://second.example.test", ClientID: "x", Timeout: time.Second}}
		cfg.Providers = append(cfg.Providers, p)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, second)
			logs := &syncBuffer{}
			h.srv.log = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			h.edge.Config.Handler = h.srv.Handler()
			u := h.start("")
			cb := h.login(u.URL, "mallory@example.com")
			h.op.SetFaults(tc.faults)
			body := tokenBody(cb)
			if tc.edit != nil {
				tc.edit(h, body)
			}
			res, err := h.client.Post(h.edge.URL+"/oauth2/token", "application/json", strings.NewReader(mustJSON(body)))
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(res.Body)
			res.Body.Close()
			var p Problem
			_ = json.Unmarshal(raw, &p)
			if res.StatusCode != tc.wantStatus || string(p.Code) != tc.wantCode {
				t.Fatalf("got %d %s, want %d %s", res.StatusCode, raw, tc.wantStatus, tc.wantCode)
			}
			if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type %q", ct)
			}
			if p.Title == "" || p.Detail == "" || p.Type == "" || p.Status != tc.wantStatus {
				t.Errorf("incomplete problem: %s", raw)
			}
			for _, secret := range []string{testClientSecret, body["code"], body["state"]} {
				if secret != "" && strings.Contains(string(raw), secret) {
					t.Errorf("problem leaks a secret: %s", raw)
				}
				if secret != "" && strings.Contains(logs.String(), secret) {
					t.Errorf("log leaks a secret:\n%s", logs)
				}
			}
			if !strings.Contains(logs.String(), `"code":"`+tc.wantCode+`"`) {
				t.Errorf("no log line with the problem code:\n%s", logs)
			}
		})
	}
}

func TestProvidersAndWellKnown(t *testing.T) {
	h := newHarness(t)
	var list struct{ Providers []providerInfo }
	h.get("/oauth2/providers", &list)
	if len(list.Providers) != 1 || list.Providers[0] != (providerInfo{Name: "op", DisplayName: "Test OP", Type: "oidc"}) {
		t.Errorf("providers %+v", list.Providers)
	}
	var meta map[string]any
	h.get("/.well-known/openid-configuration", &meta)
	if meta["issuer"] != h.edge.URL || meta["jwks_uri"] != h.edge.URL+"/.well-known/jwks.json" {
		t.Errorf("discovery %v", meta)
	}
	var jwks struct{ Keys []map[string]any }
	h.get("/.well-known/jwks.json", &jwks)
	if len(jwks.Keys) != 1 || jwks.Keys[0]["d"] != nil || jwks.Keys[0]["kid"] == "" || jwks.Keys[0]["alg"] != "ES256" {
		t.Errorf("jwks must publish public keys only, with kid and alg: %v", jwks.Keys)
	}
	var p Problem
	if res := h.get("/oauth2/url?provider=nope", &p); res.StatusCode != 400 || p.Code != "unknown_provider" {
		t.Errorf("unknown provider: %d %+v", res.StatusCode, p)
	}
	if res := h.get("/no/such/route", &p); res.StatusCode != 404 || p.Code != "not_found" {
		t.Errorf("404: %d %+v", res.StatusCode, p)
	}
	var ready map[string]any
	if res := h.get("/readyz", &ready); res.StatusCode != 200 || ready["ready"] != true {
		t.Errorf("readyz: %d %v", res.StatusCode, ready)
	}
}

// tamper changes the first character of the JWE ciphertext segment.
func tamper(state string) string {
	parts := strings.Split(state, ".")
	if len(parts) != 5 || parts[3] == "" {
		return state + "x"
	}
	c := parts[3]
	repl := "A"
	if c[0] == 'A' {
		repl = "B"
	}
	parts[3] = repl + c[1:]
	return strings.Join(parts, ".")
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// BenchmarkAuthorizationURL measures GET /oauth2/url end to end through the
// Echo stack (discovery cached): seed, seal, PKCE challenge, URL, cookie.
func BenchmarkAuthorizationURL(b *testing.B) {
	h := newHarness(b)
	handler := h.srv.Handler()
	warm := httptest.NewRecorder()
	handler.ServeHTTP(warm, httptest.NewRequest(http.MethodGet, "/oauth2/url?provider=op", nil))
	if warm.Code != http.StatusOK {
		b.Fatalf("warm-up: %d %s", warm.Code, warm.Body)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/oauth2/url?provider=op", nil))
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

// BenchmarkMintAccessToken measures signing one API access token (ES256).
func BenchmarkMintAccessToken(b *testing.B) {
	h := newHarness(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := h.srv.signer.Mint(apitoken.Claims{Subject: "op|123", Provider: "op", Extra: map[string]any{"role": "admin"}}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestURLsAreNotHTMLEscaped: the answer shows "&" where a developer
// expects it, not "\u0026" (encoding/json's HTML escaping).
func TestURLsAreNotHTMLEscaped(t *testing.T) {
	h := newHarness(t)
	res, err := h.client.Get(h.edge.URL + "/oauth2/url?provider=op")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if strings.Contains(string(raw), `\u0026`) || !strings.Contains(string(raw), "&code_challenge=") {
		t.Errorf("URL escaped for HTML: %s", raw)
	}
}
