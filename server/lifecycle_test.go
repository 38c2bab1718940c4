package server

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/edgeauth/edgeauth/apitoken"
	"github.com/edgeauth/edgeauth/oidc"
	"github.com/edgeauth/edgeauth/oidc/oidctest"
	"github.com/edgeauth/edgeauth/userhook"
)

// Tests of the session lifecycle after a login (DESIGN.md "The session
// lifecycle, without storage"): refresh, revoke, logout URL and verify.

const testEmail = "ada@example.com"

// answer is one raw HTTP answer from edgeauth.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) problem(t *testing.T) Problem {
	t.Helper()
	var p Problem
	if err := json.Unmarshal(a.body, &p); err != nil {
		t.Fatalf("not a problem: %d %s", a.status, a.body)
	}
	return p
}

// wantProblem asserts a problem+json answer with status and code whose
// detail contains detail.
func (a answer) wantProblem(t *testing.T, status int, code Code, detail string) Problem {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d: %s", a.status, status, a.body)
	}
	if ct := a.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q, want application/problem+json", ct)
	}
	p := a.problem(t)
	if p.Code != code || p.Status != status || !strings.Contains(p.Detail, detail) {
		t.Errorf("problem %s, want %s with detail containing %q", a.body, code, detail)
	}
	return p
}

// send makes a request to edgeauth with a raw body and content type.
func (h *harness) send(method, path, contentType, body string, header http.Header) answer {
	h.t.Helper()
	req, err := http.NewRequest(method, h.edge.URL+path, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := h.client.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return answer{status: res.StatusCode, header: res.Header, body: raw}
}

func (h *harness) postJSON(path string, body any) answer {
	h.t.Helper()
	return h.send(http.MethodPost, path, "application/json", mustJSON(body), nil)
}

// fullLogin runs a whole login and returns the token response.
func (h *harness) fullLogin() tokenResponse {
	h.t.Helper()
	u := h.start("")
	var tr tokenResponse
	if res := h.post("/oauth2/token", tokenBody(h.login(u.URL, testEmail)), &tr); res.StatusCode != http.StatusOK {
		h.t.Fatalf("login: %d", res.StatusCode)
	}
	return tr
}

// rebuild replaces the server with one made from the edited configuration
// (same keys, clock and providers): for settings of the op provider, which
// the harness adds after its options ran.
func (h *harness) rebuild(edit func(*Config)) {
	h.t.Helper()
	edit(&h.cfg)
	srv, err := New(h.cfg, Options{Now: h.clock.Now})
	if err != nil {
		h.t.Fatalf("server.New: %v", err)
	}
	h.srv = srv
	h.edge.Config.Handler = srv.Handler()
}

// accessClaims verifies an API access token the way a backend would, with
// an ordinary JWT library and the published JWKS only.
func (h *harness) accessClaims(t *testing.T, token string) jwt.Token {
	t.Helper()
	var raw json.RawMessage
	if res := h.get("/.well-known/jwks.json", &raw); res.StatusCode != http.StatusOK {
		t.Fatalf("jwks: %d", res.StatusCode)
	}
	set, err := jwk.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.ParseString(token, jwt.WithKeySet(set), jwt.WithIssuer(h.edge.URL), jwt.WithAudience(testAudience), jwt.WithClock(jwt.ClockFunc(h.clock.Now)))
	if err != nil {
		t.Fatalf("access token does not verify against the JWKS: %v", err)
	}
	return tok
}

// revokeAtOP revokes a token at the provider directly, as the user would
// by removing the app's access in the provider's account settings.
func (h *harness) revokeAtOP(token string) {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.op.EndpointURL(oidctest.RevocationEndpoint), strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(testClientID, testClientSecret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		h.t.Fatalf("revoke at the provider: %d", res.StatusCode)
	}
}

func withSessionMaxAge(d time.Duration) harnessOpt {
	return func(cfg *Config, _ *oidctest.Options) { cfg.SessionMaxAge = d }
}

// noProviderRefresh makes the provider answer the code exchange without a
// refresh token, so the session holds none.
var noProviderRefresh = oidctest.Faults{TokenResponse: func(r map[string]any) { delete(r, "refresh_token") }}

func TestRefreshRotates(t *testing.T) {
	h := newHarness(t)
	tr := h.fullLogin()
	if tr.Provider == nil || tr.Provider.RefreshToken == "" {
		t.Fatalf("the provider gave no refresh token: %+v", tr.Provider)
	}
	first, err := h.srv.refresh.Open(tr.API.Refresh)
	if err != nil {
		t.Fatal(err)
	}
	h.op.ResetRequests()
	h.clock.Advance(time.Hour)

	prev := tr
	for round := 1; round <= 2; round++ { // the rotated token refreshes again
		a := h.postJSON("/oauth2/refresh", map[string]string{"refresh": prev.API.Refresh})
		if a.status != http.StatusOK {
			t.Fatalf("round %d: %d %s", round, a.status, a.body)
		}
		if cc := a.header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control %q", cc)
		}
		var next tokenResponse
		if err := json.Unmarshal(a.body, &next); err != nil {
			t.Fatal(err)
		}
		if next.API.Refresh == "" || next.API.Refresh == prev.API.Refresh {
			t.Errorf("round %d: the refresh token was not rotated", round)
		}
		if next.API.Access == prev.API.Access || next.API.TokenType != "Bearer" || next.API.ExpiresIn != 900 {
			t.Errorf("round %d: api %+v", round, next.API)
		}
		tok := h.accessClaims(t, next.API.Access)
		if tok.Subject() != tr.User["id"] || !tok.IssuedAt().Equal(h.clock.Now()) {
			t.Errorf("round %d: sub %q iat %v, want %v at %v", round, tok.Subject(), tok.IssuedAt(), tr.User["id"], h.clock.Now())
		}
		if p, _ := tok.Get("provider"); p != "op" {
			t.Errorf("provider claim %v", p)
		}
		// DESIGN: provider: {access_token, expires_in, id_token?} when it
		// refreshed at the provider; its refresh token stays sealed.
		if next.Provider == nil || next.Provider.AccessToken == "" || next.Provider.IDToken == "" || next.Provider.ExpiresIn <= 0 {
			t.Fatalf("round %d: provider tokens %+v", round, next.Provider)
		}
		if next.Provider.AccessToken == prev.Provider.AccessToken || next.Provider.RefreshToken != "" {
			t.Errorf("round %d: provider access token not new, or the provider refresh token leaked: %+v", round, next.Provider)
		}
		if strings.Contains(string(a.body), tr.Provider.RefreshToken) {
			t.Errorf("round %d: the provider refresh token is in the answer", round)
		}
		// The session start does not move: SESSION_MAX_AGE is absolute.
		rs, err := h.srv.refresh.Open(next.API.Refresh)
		if err != nil {
			t.Fatal(err)
		}
		if !rs.SessionStart.Equal(first.SessionStart) || rs.ProviderRefresh != tr.Provider.RefreshToken || rs.Subject != first.Subject {
			t.Errorf("round %d: rotated session %+v, first %+v", round, rs, first)
		}
		prev = next
	}
	reqs := h.op.Requests().TokenRequests
	if len(reqs) != 2 {
		t.Fatalf("the provider got %d token requests, want 2 refreshes: %+v", len(reqs), reqs)
	}
	for _, r := range reqs {
		if r.GrantType != "refresh_token" || r.ClientID != testClientID || r.ClientAuth != "client_secret_basic" || r.Error != "" {
			t.Errorf("token request %+v, want a refresh_token grant by %s with client_secret_basic", r, testClientID)
		}
	}
}

// TestRefreshKeepsProviderRotation: a provider that rotates its refresh
// token on use gets the new one next time (the old one may be dead), and
// the login's auth_time stays: a refresh is no new authentication.
func TestRefreshKeepsProviderRotation(t *testing.T) {
	h := newHarness(t)
	tr := h.fullLogin()
	loginAuthTime, _ := h.accessClaims(t, tr.API.Access).Get("auth_time")
	h.op.SetFaults(oidctest.Faults{TokenResponse: func(r map[string]any) { r["refresh_token"] = "rotated-at-the-provider" }})
	h.clock.Advance(time.Hour)
	var next tokenResponse
	if res := h.post("/oauth2/refresh", map[string]string{"refresh": tr.API.Refresh}, &next); res.StatusCode != http.StatusOK {
		t.Fatalf("refresh: %d", res.StatusCode)
	}
	rs, err := h.srv.refresh.Open(next.API.Refresh)
	if err != nil || rs.ProviderRefresh != "rotated-at-the-provider" {
		t.Errorf("sealed provider refresh token %q (%v), want the rotated one", rs.ProviderRefresh, err)
	}
	authTime, _ := h.accessClaims(t, next.API.Access).Get("auth_time")
	if loginAuthTime == nil || fmt.Sprint(authTime) != fmt.Sprint(loginAuthTime) {
		t.Errorf("auth_time %v after refresh, %v at login", authTime, loginAuthTime)
	}
}

func TestRefreshWithoutProviderRefreshToken(t *testing.T) {
	h := newHarness(t)
	h.op.SetFaults(noProviderRefresh)
	tr := h.fullLogin()
	if tr.Provider.RefreshToken != "" {
		t.Fatal("the fault did not apply")
	}
	h.op.ResetRequests()
	var next tokenResponse
	a := h.postJSON("/oauth2/refresh", map[string]string{"refresh": tr.API.Refresh})
	if a.status != http.StatusOK {
		t.Fatalf("%d %s", a.status, a.body)
	}
	if err := json.Unmarshal(a.body, &next); err != nil {
		t.Fatal(err)
	}
	if next.Provider != nil || strings.Contains(string(a.body), `"provider":{`) {
		t.Errorf("provider tokens without a provider refresh: %s", a.body)
	}
	if tok := h.accessClaims(t, next.API.Access); tok.Subject() != tr.User["id"] {
		t.Errorf("sub %q, want %v", tok.Subject(), tr.User["id"])
	}
	if n := h.op.Requests().Token; n != 0 {
		t.Errorf("the provider's token endpoint was called %d times", n)
	}
}

// TestRefreshTTLCappedBySessionMaxAge: a refresh token never lives past
// the absolute session lifetime, counted from the login, however often it
// is rotated.
func TestRefreshTTLCappedBySessionMaxAge(t *testing.T) {
	h := newHarness(t, withSessionMaxAge(time.Hour))
	tr := h.fullLogin()
	h.clock.Advance(50 * time.Minute)
	var next tokenResponse
	if res := h.post("/oauth2/refresh", map[string]string{"refresh": tr.API.Refresh}, &next); res.StatusCode != http.StatusOK {
		t.Fatalf("refresh within the session: %d", res.StatusCode)
	}
	h.clock.Advance(9 * time.Minute)
	if res := h.post("/oauth2/refresh", map[string]string{"refresh": next.API.Refresh}, &next); res.StatusCode != http.StatusOK {
		t.Fatalf("refresh a minute before the end: %d", res.StatusCode)
	}
	h.clock.Advance(2 * time.Minute)
	h.postJSON("/oauth2/refresh", map[string]string{"refresh": next.API.Refresh}).wantProblem(t, http.StatusUnauthorized, CodeExpiredToken, "SESSION_MAX_AGE")
}

func TestRefreshRejects(t *testing.T) {
	second := func(cfg *Config, _ *oidctest.Options) {
		cfg.Providers = append(cfg.Providers, ProviderConfig{Name: "second", RedirectURI: testRedirectAlt, RedirectURIs: []string{testRedirectAlt},
			OIDC: oidc.Config{Name: "second", Type: "oidc", Issuer: "https://second.example.test", ClientID: "x", Timeout: time.Second}})
	}
	seal := func(h *harness, s apitoken.Session, ttl time.Duration) string {
		tok, err := h.srv.refresh.Seal(s, ttl)
		if err != nil {
			h.t.Fatal(err)
		}
		return tok
	}
	cases := []struct {
		name   string
		opts   []harnessOpt
		faults oidctest.Faults // set after the login
		// token returns the refresh value to post, given the login.
		token      func(h *harness, tr tokenResponse) string
		wantStatus int
		wantCode   Code
		wantDetail string
	}{
		{
			name: "expired refresh token",
			token: func(h *harness, tr tokenResponse) string {
				h.clock.Advance(24*time.Hour + time.Second)
				return tr.API.Refresh
			},
			// The refresh token expired before SESSION_MAX_AGE (72h).
			wantStatus: 401, wantCode: CodeExpiredToken, wantDetail: "REFRESH_TTL",
		},
		{
			name: "past SESSION_MAX_AGE (the refresh token's ttl is capped)",
			opts: []harnessOpt{withSessionMaxAge(time.Hour)},
			token: func(h *harness, tr tokenResponse) string {
				h.clock.Advance(time.Hour + time.Second)
				return tr.API.Refresh
			},
			wantStatus: 401, wantCode: CodeExpiredToken,
		},
		{
			name: "past SESSION_MAX_AGE in a token that outlives it",
			opts: []harnessOpt{withSessionMaxAge(time.Hour)},
			token: func(h *harness, _ tokenResponse) string {
				return seal(h, apitoken.Session{Subject: "op|x", Provider: "op", ProviderSubject: "x", SessionStart: h.clock.Now().Add(-time.Hour)}, time.Hour)
			},
			wantStatus: 401, wantCode: CodeExpiredToken, wantDetail: "SESSION_MAX_AGE",
		},
		{
			name:       "a state is not a refresh token",
			token:      func(h *harness, _ tokenResponse) string { return h.start("").State },
			wantStatus: 401, wantCode: CodeInvalidToken,
		},
		{
			name:       "an access token is not a refresh token",
			token:      func(_ *harness, tr tokenResponse) string { return tr.API.Access },
			wantStatus: 401, wantCode: CodeInvalidToken,
		},
		{
			name:       "a provider refresh token is not ours",
			token:      func(_ *harness, tr tokenResponse) string { return tr.Provider.RefreshToken },
			wantStatus: 401, wantCode: CodeInvalidToken,
		},
		{
			name:       "a provider ID token is not ours",
			token:      func(_ *harness, tr tokenResponse) string { return tr.Provider.IDToken },
			wantStatus: 401, wantCode: CodeInvalidToken,
		},
		{
			name:       "tampered",
			token:      func(_ *harness, tr tokenResponse) string { return tamper(tr.API.Refresh) },
			wantStatus: 401, wantCode: CodeInvalidToken,
		},
		{
			name: "sealed by another deployment",
			token: func(h *harness, _ tokenResponse) string {
				return newHarness(h.t).fullLogin().API.Refresh
			},
			wantStatus: 401, wantCode: CodeInvalidToken,
		},
		{
			name: "provider no longer configured",
			token: func(h *harness, _ tokenResponse) string {
				return seal(h, apitoken.Session{Subject: "gone|x", Provider: "gone", ProviderSubject: "x", SessionStart: h.clock.Now()}, time.Hour)
			},
			wantStatus: 401, wantCode: CodeSessionEnded,
		},
		{
			name: "provider grant revoked",
			token: func(h *harness, tr tokenResponse) string {
				h.revokeAtOP(tr.Provider.RefreshToken)
				return tr.API.Refresh
			},
			wantStatus: 401, wantCode: CodeSessionEnded, wantDetail: "log in again",
		},
		{
			name:       "provider answers invalid_grant",
			faults:     oidctest.Faults{TokenError: "invalid_grant"},
			token:      func(_ *harness, tr tokenResponse) string { return tr.API.Refresh },
			wantStatus: 401, wantCode: CodeSessionEnded,
		},
		{
			name:       "refreshed ID token about another subject",
			faults:     oidctest.Faults{IDTokenClaims: func(c map[string]any) { c["sub"] = "someone-else" }},
			token:      func(_ *harness, tr tokenResponse) string { return tr.API.Refresh },
			wantStatus: 400, wantCode: CodeInvalidIDToken,
		},
		{
			name:       "refreshed ID token for another audience",
			faults:     oidctest.Faults{Audience: []string{"someone-else"}},
			token:      func(_ *harness, tr tokenResponse) string { return tr.API.Refresh },
			wantStatus: 400, wantCode: CodeInvalidIDToken,
		},
		{
			name:       "refreshed ID token from another issuer",
			faults:     oidctest.Faults{Issuer: "https://evil.example.test"},
			token:      func(_ *harness, tr tokenResponse) string { return tr.API.Refresh },
			wantStatus: 400, wantCode: CodeInvalidIDToken,
		},
		{
			name:       "provider down",
			faults:     oidctest.Faults{Status: map[oidctest.Endpoint]int{oidctest.TokenEndpoint: 503}},
			token:      func(_ *harness, tr tokenResponse) string { return tr.API.Refresh },
			wantStatus: 502, wantCode: CodeProviderUnavailable,
		},
		{
			name:       "provider answers garbage",
			faults:     oidctest.Faults{Garbage: map[oidctest.Endpoint]bool{oidctest.TokenEndpoint: true}},
			token:      func(_ *harness, tr tokenResponse) string { return tr.API.Refresh },
			wantStatus: 502, wantCode: CodeProviderUnavailable,
		},
		{
			name: "provider of the session unreachable",
			opts: []harnessOpt{second},
			token: func(h *harness, _ tokenResponse) string {
				return seal(h, apitoken.Session{Subject: "second|x", Provider: "second", ProviderSubject: "x", SessionStart: h.clock.Now(), ProviderRefresh: "rt"}, time.Hour)
			},
			wantStatus: 502, wantCode: CodeProviderUnavailable,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.opts...)
			tr := h.fullLogin()
			h.op.SetFaults(tc.faults)
			token := tc.token(h, tr)
			a := h.postJSON("/oauth2/refresh", map[string]string{"refresh": token})
			p := a.wantProblem(t, tc.wantStatus, tc.wantCode, tc.wantDetail)
			if p.Title == "" || p.Type == "" || p.Detail == "" {
				t.Errorf("incomplete problem: %s", a.body)
			}
			for _, secret := range []string{token, testClientSecret, tr.Provider.RefreshToken, tr.Provider.AccessToken} {
				if strings.Contains(string(a.body), secret) {
					t.Errorf("the problem carries a token or secret: %s", a.body)
				}
			}
			if strings.Contains(string(a.body), `"api"`) {
				t.Error("tokens minted despite the refusal")
			}
		})
	}
}

// TestRefreshBody: the body is exactly {refresh}, as JSON; every mistake
// is named.
func TestRefreshBody(t *testing.T) {
	h := newHarness(t)
	cases := []struct {
		name, contentType, body string
		wantStatus              int
		wantCode                Code
		wantDetail              string
	}{
		{"unknown field", "application/json", `{"refresh":"x","refresh_token":"y"}`, 400, CodeInvalidRequest, `unknown field "refresh_token"`},
		{"trailing data", "application/json", `{"refresh":"x"} {"refresh":"y"}`, 400, CodeInvalidRequest, "trailing data"},
		{"trailing garbage", "application/json", `{"refresh":"x"}x`, 400, CodeInvalidRequest, "{refresh}"},
		{"missing refresh", "application/json", `{}`, 400, CodeInvalidRequest, "missing: refresh"},
		{"empty refresh", "application/json", `{"refresh":""}`, 400, CodeInvalidRequest, "missing: refresh"},
		{"refresh not a string", "application/json", `{"refresh":42}`, 400, CodeInvalidRequest, "refresh must be a string"},
		{"refresh too long", "application/json", `{"refresh":"` + strings.Repeat("a", maxTokenLen+1) + `"}`, 400, CodeInvalidRequest, "too long: refresh"},
		{"empty body", "application/json", ``, 400, CodeInvalidRequest, "empty"},
		{"an array", "application/json", `["x"]`, 400, CodeInvalidRequest, "must be a JSON object"},
		{"not JSON", "application/json", `refresh=x`, 400, CodeInvalidRequest, "not valid JSON"},
		{"form-encoded", "application/x-www-form-urlencoded", `refresh=x`, 415, CodeUnsupportedMediaType, "application/json"},
		{"no content type", "", `{"refresh":"x"}`, 415, CodeUnsupportedMediaType, "application/json"},
		{"text/plain (a CORS simple request)", "text/plain", `{"refresh":"x"}`, 415, CodeUnsupportedMediaType, "{refresh}"},
		{"JSON with a charset is JSON", "application/json; charset=utf-8", `{"refresh":"x"}`, 401, CodeInvalidToken, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h.send(http.MethodPost, "/oauth2/refresh", tc.contentType, tc.body, nil).wantProblem(t, tc.wantStatus, tc.wantCode, tc.wantDetail)
		})
	}
	if a := h.send(http.MethodGet, "/oauth2/refresh", "", "", nil); a.status != http.StatusMethodNotAllowed {
		t.Errorf("GET /oauth2/refresh: %d", a.status)
	}
}

// TestRefreshAsksUserhook: the backend is asked again on every refresh
// (user.refresh), may end the session, and its new claims replace the old.
func TestRefreshAsksUserhook(t *testing.T) {
	const login = `{"user_id":"42","claims":{"role":"admin","plan":"pro"}}`
	cases := []struct {
		name       string
		refresh    func() (int, string) // the hook's answer to user.refresh
		wantStatus int
		wantCode   Code
		wantDetail string
		check      func(t *testing.T, tok jwt.Token, tr tokenResponse)
	}{
		{
			name:       "new claims replace the old",
			refresh:    func() (int, string) { return 200, `{"user_id":"42","claims":{"role":"member"}}` },
			wantStatus: 200,
			check: func(t *testing.T, tok jwt.Token, tr tokenResponse) {
				if tok.Subject() != "42" || tr.User["id"] != "42" {
					t.Errorf("sub %q user %v", tok.Subject(), tr.User)
				}
				role, _ := tok.Get("role")
				_, hasPlan := tok.Get("plan")
				if role != "member" || hasPlan || tr.User["role"] != "member" || tr.User["plan"] != nil {
					t.Errorf("claims after refresh: role %v, plan present %v, user %v; want the hook's new claims only", role, hasPlan, tr.User)
				}
			},
		},
		{
			name:       "no claims drops the old",
			refresh:    func() (int, string) { return 200, `{"user_id":"42"}` },
			wantStatus: 200,
			check: func(t *testing.T, tok jwt.Token, _ tokenResponse) {
				if _, ok := tok.Get("role"); ok {
					t.Error("a claim of the login survived a refresh whose answer had none")
				}
			},
		},
		{
			name:       "denied ends the session",
			refresh:    func() (int, string) { return 403, `{"message":"account suspended"}` },
			wantStatus: 403, wantCode: CodeUserDenied, wantDetail: "account suspended",
		},
		{
			name:       "another user_id",
			refresh:    func() (int, string) { return 200, `{"user_id":"43"}` },
			wantStatus: 502, wantCode: CodeUserhookUnavailable, wantDetail: "another user_id",
		},
		{
			name:       "hook down",
			refresh:    func() (int, string) { return 500, `oops` },
			wantStatus: 502, wantCode: CodeUserhookUnavailable,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newReceiver(t, func(n int) (int, string) {
				if n == 1 {
					return 200, login
				}
				return tc.refresh()
			})
			h := newHarness(t, withHook(r.srv.URL, 0))
			tr := h.fullLogin()
			if tok := h.accessClaims(t, tr.API.Access); tok.Subject() != "42" {
				t.Fatalf("login sub %q", tok.Subject())
			}
			a := h.postJSON("/oauth2/refresh", map[string]string{"refresh": tr.API.Refresh})
			bodies, _ := r.deliveries()
			if len(bodies) != 2 {
				t.Fatalf("the hook got %d events, want login and refresh", len(bodies))
			}
			var e userhook.Event
			if err := json.Unmarshal(bodies[1], &e); err != nil {
				t.Fatal(err)
			}
			if e.Type != userhook.EventRefresh || e.Data.Provider != "op" || e.Data.Subject != oidctest.Subject(testEmail) || e.Data.Issuer != h.op.Issuer() {
				t.Errorf("refresh event %s", bodies[1])
			}
			// The provider refreshed, so the profile is the refreshed ID token's.
			if e.Data.Email != testEmail {
				t.Errorf("refresh event without the refreshed profile: %s", bodies[1])
			}
			for _, secret := range []string{tr.API.Refresh, tr.Provider.RefreshToken, "refresh_token"} {
				if strings.Contains(string(bodies[1]), secret) {
					t.Errorf("the event carries %q", secret)
				}
			}
			if tc.wantCode != "" {
				a.wantProblem(t, tc.wantStatus, tc.wantCode, tc.wantDetail)
				if strings.Contains(string(a.body), `"api"`) {
					t.Error("tokens minted despite the hook's answer")
				}
				return
			}
			if a.status != tc.wantStatus {
				t.Fatalf("%d %s", a.status, a.body)
			}
			var next tokenResponse
			if err := json.Unmarshal(a.body, &next); err != nil {
				t.Fatal(err)
			}
			tc.check(t, h.accessClaims(t, next.API.Access), next)
			rs, err := h.srv.refresh.Open(next.API.Refresh)
			if err != nil || rs.Subject != "42" {
				t.Errorf("rotated session %+v %v", rs, err)
			}
		})
	}
}

// bareOP is a second provider whose discovery lacks the revocation and
// end-session endpoints.
func bareOP(t *testing.T) harnessOpt {
	return func(cfg *Config, o *oidctest.Options) {
		op := oidctest.NewServer(oidctest.Options{Clients: o.Clients, Now: o.Now})
		t.Cleanup(op.Close)
		op.SetFaults(oidctest.Faults{DiscoveryDocument: func(doc map[string]any) {
			delete(doc, "revocation_endpoint")
			delete(doc, "end_session_endpoint")
		}})
		cfg.Providers = append(cfg.Providers, ProviderConfig{
			Name: "bare", RedirectURI: testRedirectAlt, RedirectURIs: []string{testRedirectAlt},
			PostLogoutRedirectURI: testRedirectAlt, PostLogoutRedirectURIs: []string{testRedirectAlt},
			OIDC: oidc.Config{Name: "bare", Type: "oidc", Issuer: op.Issuer(), ClientID: testClientID, ClientSecret: testClientSecret, Timeout: 5 * time.Second},
		})
	}
}

func TestRevoke(t *testing.T) {
	type revoked struct{ token, hint string }
	cases := []struct {
		name   string
		faults oidctest.Faults // for the login
		// body returns the request and the revocation the provider must see.
		body       func(h *harness, tr tokenResponse) (map[string]string, *revoked)
		wantStatus int
		wantCode   Code
		wantDetail string
		after      func(t *testing.T, h *harness, tr tokenResponse)
	}{
		{
			name: "provider refresh token",
			body: func(_ *harness, tr tokenResponse) (map[string]string, *revoked) {
				return map[string]string{"provider": "op", "token": tr.Provider.RefreshToken, "token_type_hint": "refresh_token"}, &revoked{tr.Provider.RefreshToken, "refresh_token"}
			},
			wantStatus: 204,
			after: func(t *testing.T, h *harness, tr tokenResponse) {
				// The provider has ended the grant: the session ends at its next refresh.
				h.postJSON("/oauth2/refresh", map[string]string{"refresh": tr.API.Refresh}).wantProblem(t, 401, CodeSessionEnded, "")
			},
		},
		{
			name: "provider access token",
			body: func(_ *harness, tr tokenResponse) (map[string]string, *revoked) {
				return map[string]string{"provider": "op", "token": tr.Provider.AccessToken, "token_type_hint": "access_token"}, &revoked{tr.Provider.AccessToken, "access_token"}
			},
			wantStatus: 204,
			after: func(t *testing.T, h *harness, tr tokenResponse) {
				// Only the access token: the grant lives on.
				if a := h.postJSON("/oauth2/refresh", map[string]string{"refresh": tr.API.Refresh}); a.status != 200 {
					t.Errorf("refresh after revoking the provider access token: %d %s", a.status, a.body)
				}
			},
		},
		{
			name: "provider token without a hint",
			body: func(_ *harness, tr tokenResponse) (map[string]string, *revoked) {
				return map[string]string{"provider": "op", "token": tr.Provider.AccessToken}, &revoked{tr.Provider.AccessToken, ""}
			},
			wantStatus: 204,
		},
		{
			name: "our refresh token revokes the provider refresh token inside",
			body: func(_ *harness, tr tokenResponse) (map[string]string, *revoked) {
				return map[string]string{"provider": "op", "token": tr.API.Refresh, "token_type_hint": "access_token"}, &revoked{tr.Provider.RefreshToken, "refresh_token"}
			},
			wantStatus: 204,
			after: func(t *testing.T, h *harness, tr tokenResponse) {
				h.postJSON("/oauth2/refresh", map[string]string{"refresh": tr.API.Refresh}).wantProblem(t, 401, CodeSessionEnded, "")
			},
		},
		{
			name:   "our refresh token without a provider refresh token",
			faults: noProviderRefresh,
			body: func(_ *harness, tr tokenResponse) (map[string]string, *revoked) {
				return map[string]string{"provider": "op", "token": tr.API.Refresh}, nil
			},
			wantStatus: 400, wantCode: CodeUnsupportedOperation, wantDetail: "REFRESH_TTL",
		},
		{
			// Sending it on would answer 204 while the provider refresh
			// token inside lives on, and hand our token to the provider.
			name: "our expired refresh token",
			body: func(h *harness, tr tokenResponse) (map[string]string, *revoked) {
				h.clock.Advance(24*time.Hour + time.Second)
				return map[string]string{"provider": "op", "token": tr.API.Refresh}, nil
			},
			wantStatus: 401, wantCode: CodeExpiredToken, wantDetail: "revoke the provider's refresh token",
		},
		{
			name: "our access token",
			body: func(_ *harness, tr tokenResponse) (map[string]string, *revoked) {
				return map[string]string{"provider": "op", "token": tr.API.Access, "token_type_hint": "access_token"}, nil
			},
			wantStatus: 400, wantCode: CodeUnsupportedOperation, wantDetail: "ACCESS_TTL",
		},
		{
			name: "our expired access token",
			body: func(h *harness, tr tokenResponse) (map[string]string, *revoked) {
				h.clock.Advance(time.Hour)
				return map[string]string{"provider": "op", "token": tr.API.Access}, nil
			},
			wantStatus: 400, wantCode: CodeUnsupportedOperation, wantDetail: "ACCESS_TTL",
		},
		{
			name: "our refresh token named with another provider",
			body: func(_ *harness, tr tokenResponse) (map[string]string, *revoked) {
				return map[string]string{"provider": "bare", "token": tr.API.Refresh}, nil
			},
			wantStatus: 400, wantCode: CodeProviderMismatch,
		},
		{
			name: "provider without a revocation endpoint",
			body: func(_ *harness, tr tokenResponse) (map[string]string, *revoked) {
				return map[string]string{"provider": "bare", "token": tr.Provider.AccessToken}, nil
			},
			wantStatus: 400, wantCode: CodeUnsupportedOperation,
		},
		{
			name: "unknown provider",
			body: func(_ *harness, tr tokenResponse) (map[string]string, *revoked) {
				return map[string]string{"provider": "nope", "token": tr.Provider.AccessToken}, nil
			},
			wantStatus: 400, wantCode: CodeUnknownProvider,
		},
		{
			name: "bad token_type_hint",
			body: func(_ *harness, tr tokenResponse) (map[string]string, *revoked) {
				return map[string]string{"provider": "op", "token": tr.Provider.AccessToken, "token_type_hint": "id_token"}, nil
			},
			wantStatus: 400, wantCode: CodeInvalidRequest, wantDetail: "token_type_hint",
		},
		{
			name: "missing token and provider",
			body: func(_ *harness, _ tokenResponse) (map[string]string, *revoked) {
				return map[string]string{}, nil
			},
			wantStatus: 400, wantCode: CodeInvalidRequest, wantDetail: "missing: provider, token",
		},
		{
			name: "unknown field",
			body: func(_ *harness, tr tokenResponse) (map[string]string, *revoked) {
				return map[string]string{"provider": "op", "token": tr.Provider.AccessToken, "client_secret": "x"}, nil
			},
			wantStatus: 400, wantCode: CodeInvalidRequest, wantDetail: `unknown field "client_secret"`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, bareOP(t))
			h.op.SetFaults(tc.faults)
			tr := h.fullLogin()
			h.op.SetFaults(oidctest.Faults{})
			h.op.ResetRequests()
			body, want := tc.body(h, tr)
			a := h.postJSON("/oauth2/revoke", body)
			revs := h.op.Requests().Revocations
			if tc.wantCode != "" {
				a.wantProblem(t, tc.wantStatus, tc.wantCode, tc.wantDetail)
				if len(revs) != 0 {
					t.Errorf("the provider was asked to revoke despite the refusal: %+v", revs)
				}
				return
			}
			if a.status != tc.wantStatus || len(a.body) != 0 {
				t.Fatalf("%d %q, want %d and no body", a.status, a.body, tc.wantStatus)
			}
			if len(revs) != 1 || revs[0].Token != want.token || revs[0].TokenTypeHint != want.hint || revs[0].ClientID != testClientID || !revs[0].Revoked {
				t.Fatalf("the provider saw revocations %+v, want one of the token with hint %q, revoked", revs, want.hint)
			}
			if tc.after != nil {
				tc.after(t, h, tr)
			}
		})
	}
}

func TestRevokeProviderDown(t *testing.T) {
	h := newHarness(t)
	tr := h.fullLogin()
	h.op.SetFaults(oidctest.Faults{Status: map[oidctest.Endpoint]int{oidctest.RevocationEndpoint: 503}})
	h.postJSON("/oauth2/revoke", map[string]string{"provider": "op", "token": tr.Provider.AccessToken}).wantProblem(t, 502, CodeProviderUnavailable, "")
	h.op.SetFaults(oidctest.Faults{Status: map[oidctest.Endpoint]int{oidctest.RevocationEndpoint: 400}})
	h.postJSON("/oauth2/revoke", map[string]string{"provider": "op", "token": tr.Provider.AccessToken}).wantProblem(t, 400, CodeExchangeFailed, "")
}

func TestLogoutURL(t *testing.T) {
	const alt = "https://app.example.test/signed-out"
	allowAlt := func(cfg *Config) {
		cfg.Providers[0].PostLogoutRedirectURIs = []string{testRedirect, alt}
	}
	cases := []struct {
		name       string
		query      url.Values
		want       url.Values // the logout URL's query
		wantStatus int
		wantCode   Code
		wantDetail string
	}{
		{
			name:       "everything",
			query:      url.Values{"provider": {"op"}, "id_token_hint": {"ID-TOKEN"}, "post_logout_redirect_uri": {alt}, "state": {"app-state-123"}},
			want:       url.Values{"client_id": {testClientID}, "id_token_hint": {"ID-TOKEN"}, "post_logout_redirect_uri": {alt}},
			wantStatus: 200,
		},
		{
			// A state is made when the app gives none (returned with the URL).
			name:       "default post-logout redirect, state made",
			query:      url.Values{"provider": {"op"}},
			want:       url.Values{"client_id": {testClientID}, "post_logout_redirect_uri": {testRedirect}},
			wantStatus: 200,
		},
		{
			name:       "post_logout_redirect_uri not allowed",
			query:      url.Values{"provider": {"op"}, "post_logout_redirect_uri": {alt + "/"}},
			wantStatus: 400, wantCode: CodeRedirectNotAllowed, wantDetail: "exact",
		},
		{
			name:       "post_logout_redirect_uri of another provider",
			query:      url.Values{"provider": {"op"}, "post_logout_redirect_uri": {testRedirectAlt}},
			wantStatus: 400, wantCode: CodeRedirectNotAllowed,
		},
		{
			name:       "no end_session_endpoint",
			query:      url.Values{"provider": {"bare"}},
			wantStatus: 400, wantCode: CodeUnsupportedOperation,
		},
		{
			name:       "unknown provider",
			query:      url.Values{"provider": {"nope"}},
			wantStatus: 400, wantCode: CodeUnknownProvider,
		},
		{
			name:       "missing provider",
			query:      url.Values{},
			wantStatus: 400, wantCode: CodeInvalidRequest, wantDetail: "missing: provider",
		},
		{
			name:       "state too long",
			query:      url.Values{"provider": {"op"}, "state": {strings.Repeat("s", maxLogoutStateLen+1)}},
			wantStatus: 400, wantCode: CodeInvalidRequest, wantDetail: "too long: state",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, bareOP(t))
			h.rebuild(allowAlt)
			a := h.send(http.MethodGet, "/oauth2/logout-url?"+tc.query.Encode(), "", "", nil)
			if tc.wantCode != "" {
				a.wantProblem(t, tc.wantStatus, tc.wantCode, tc.wantDetail)
				return
			}
			if a.status != tc.wantStatus || a.header.Get("Cache-Control") != "no-store" {
				t.Fatalf("%d %s (Cache-Control %q)", a.status, a.body, a.header.Get("Cache-Control"))
			}
			var out struct{ URL, State string }
			if err := json.Unmarshal(a.body, &out); err != nil {
				t.Fatal(err)
			}
			u, err := url.Parse(out.URL)
			if err != nil {
				t.Fatal(err)
			}
			if got := u.Scheme + "://" + u.Host + u.Path; got != h.op.EndpointURL(oidctest.EndSessionEndpoint) {
				t.Errorf("logout URL %s, want the end_session_endpoint %s", got, h.op.EndpointURL(oidctest.EndSessionEndpoint))
			}
			got := u.Query()
			state := got.Get("state")
			got.Del("state")
			if got.Encode() != tc.want.Encode() {
				t.Errorf("query %v, want %v (and a state)", got, tc.want)
			}
			switch want := tc.query.Get("state"); {
			case want != "" && (state != want || out.State != want):
				t.Errorf("state %q in the URL, %q in the answer; want the app's %q", state, out.State, want)
			case want == "" && (len(state) < 22 || out.State != state):
				t.Errorf("made state %q in the URL, %q in the answer: want one of at least 128 bits, returned", state, out.State)
			}
		})
	}
}

// TestLogoutURLAcceptedByProvider follows the URL: the provider accepts
// the real ID token as hint and redirects to the post-logout URI with the
// state.
func TestLogoutURLAcceptedByProvider(t *testing.T) {
	h := newHarness(t)
	tr := h.fullLogin()
	q := url.Values{"provider": {"op"}, "id_token_hint": {tr.Provider.IDToken}, "state": {"xyz"}}
	var out struct{ URL, State string }
	if res := h.get("/oauth2/logout-url?"+q.Encode(), &out); res.StatusCode != 200 {
		t.Fatalf("%d", res.StatusCode)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(out.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode/100 != 3 || loc == nil || !strings.HasPrefix(loc.String(), testRedirect) || loc.Query().Get("state") != "xyz" {
		t.Errorf("the provider answered %d Location %q", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestVerify(t *testing.T) {
	otherSigner := func(t *testing.T, h *harness, issuer string, fresh bool) *apitoken.Signer {
		keys := h.cfg.SigningKeys
		if fresh {
			raw, err := apitoken.GenerateSigningKey("ES256")
			if err != nil {
				t.Fatal(err)
			}
			if keys, err = apitoken.ParseSigningKeys(string(raw)); err != nil {
				t.Fatal(err)
			}
		}
		s, err := apitoken.NewSigner(apitoken.SignerConfig{Keys: keys, Issuer: issuer, Audience: testAudience, TTL: 15 * time.Minute, Now: h.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	mint := func(t *testing.T, s *apitoken.Signer, c apitoken.Claims) string {
		tok, _, err := s.Mint(c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	const realm = `Bearer realm="edgeauth"`
	const invalid = `Bearer realm="edgeauth", error="invalid_token"`
	cases := []struct {
		name string
		// auth returns the Authorization header ("" for none).
		auth         func(t *testing.T, h *harness, tr tokenResponse) string
		wantStatus   int
		wantCode     Code
		wantWWWAuth  string
		wantDetail   string
		wantUser     string // "login": the login's user id
		wantEmailHdr string
	}{
		// The login's verified email rides in the access token, so the proxy can pass it on.
		{name: "valid", auth: func(_ *testing.T, _ *harness, tr tokenResponse) string { return "Bearer " + tr.API.Access }, wantStatus: 200, wantUser: "login", wantEmailHdr: "ada@example.com"},
		{name: "scheme is case-insensitive", auth: func(_ *testing.T, _ *harness, tr tokenResponse) string { return "bearer " + tr.API.Access }, wantStatus: 200, wantUser: "login", wantEmailHdr: "ada@example.com"},
		{
			name: "email claim becomes a header",
			auth: func(t *testing.T, h *harness, _ tokenResponse) string {
				return "Bearer " + mint(t, h.srv.signer, apitoken.Claims{Subject: "42", Provider: "op", Extra: map[string]any{"email": "ada@example.com\r\nX-Evil: 1"}})
			},
			wantStatus: 200, wantEmailHdr: "ada@example.comX-Evil: 1",
		},
		{name: "no header", auth: func(*testing.T, *harness, tokenResponse) string { return "" }, wantStatus: 401, wantCode: CodeInvalidToken, wantWWWAuth: realm, wantDetail: "Authorization: Bearer"},
		{name: "another scheme", auth: func(_ *testing.T, _ *harness, tr tokenResponse) string { return "Basic " + tr.API.Access }, wantStatus: 401, wantCode: CodeInvalidToken, wantWWWAuth: realm},
		{name: "Bearer without token", auth: func(*testing.T, *harness, tokenResponse) string { return "Bearer " }, wantStatus: 401, wantCode: CodeInvalidToken, wantWWWAuth: realm},
		{
			name: "expired",
			auth: func(_ *testing.T, h *harness, tr tokenResponse) string {
				h.clock.Advance(16 * time.Minute)
				return "Bearer " + tr.API.Access
			},
			wantStatus: 401, wantCode: CodeExpiredToken, wantWWWAuth: invalid, wantDetail: "refresh it",
		},
		{name: "tampered", auth: func(_ *testing.T, _ *harness, tr tokenResponse) string { return "Bearer " + tamperJWS(tr.API.Access) }, wantStatus: 401, wantCode: CodeInvalidToken, wantWWWAuth: invalid},
		{name: "refresh token", auth: func(_ *testing.T, _ *harness, tr tokenResponse) string { return "Bearer " + tr.API.Refresh }, wantStatus: 401, wantCode: CodeInvalidToken, wantWWWAuth: invalid},
		{name: "state", auth: func(_ *testing.T, h *harness, _ tokenResponse) string { return "Bearer " + h.start("").State }, wantStatus: 401, wantCode: CodeInvalidToken, wantWWWAuth: invalid},
		{name: "provider ID token", auth: func(_ *testing.T, _ *harness, tr tokenResponse) string { return "Bearer " + tr.Provider.IDToken }, wantStatus: 401, wantCode: CodeInvalidToken, wantWWWAuth: invalid},
		{name: "provider access token", auth: func(_ *testing.T, _ *harness, tr tokenResponse) string { return "Bearer " + tr.Provider.AccessToken }, wantStatus: 401, wantCode: CodeInvalidToken, wantWWWAuth: invalid},
		{
			name: "signed by another key",
			auth: func(t *testing.T, h *harness, _ tokenResponse) string {
				return "Bearer " + mint(t, otherSigner(t, h, h.edge.URL, true), apitoken.Claims{Subject: "op|x", Provider: "op"})
			},
			wantStatus: 401, wantCode: CodeInvalidToken, wantWWWAuth: invalid,
		},
		{
			name: "another issuer, same key",
			auth: func(t *testing.T, h *harness, _ tokenResponse) string {
				return "Bearer " + mint(t, otherSigner(t, h, "https://other.example.test", false), apitoken.Claims{Subject: "op|x", Provider: "op"})
			},
			wantStatus: 401, wantCode: CodeInvalidToken, wantWWWAuth: invalid,
		},
		{
			name: "DPoP-bound token as Bearer",
			auth: func(t *testing.T, h *harness, _ tokenResponse) string {
				return "Bearer " + mint(t, h.srv.signer, apitoken.Claims{Subject: "op|x", Provider: "op", Confirmation: "x"})
			},
			wantStatus: 401, wantCode: CodeInvalidToken, wantWWWAuth: invalid,
		},
		{
			name: "too long",
			auth: func(*testing.T, *harness, tokenResponse) string {
				return "Bearer " + strings.Repeat("a", maxTokenLen+1)
			},
			wantStatus: 401, wantCode: CodeInvalidToken, wantWWWAuth: realm,
		},
	}
	for _, tc := range cases {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			t.Run(tc.name+"/"+method, func(t *testing.T) {
				h := newHarness(t)
				tr := h.fullLogin()
				var hdr http.Header
				auth := tc.auth(t, h, tr)
				if auth != "" {
					hdr = http.Header{"Authorization": {auth}}
				}
				a := h.send(method, "/oauth2/verify", "", "", hdr)
				if a.status != tc.wantStatus {
					t.Fatalf("status %d, want %d: %s", a.status, tc.wantStatus, a.body)
				}
				if cc := a.header.Get("Cache-Control"); cc != "no-store" {
					t.Errorf("Cache-Control %q", cc)
				}
				if method == http.MethodHead && len(a.body) != 0 {
					t.Errorf("HEAD with a body: %s", a.body)
				}
				if tc.wantStatus != 200 {
					if got := a.header.Get("WWW-Authenticate"); got != tc.wantWWWAuth {
						t.Errorf("WWW-Authenticate %q, want %q", got, tc.wantWWWAuth)
					}
					if a.header.Get("X-Auth-Request-User") != "" {
						t.Error("X-Auth-Request-User on a refusal")
					}
					if method == http.MethodGet {
						a.wantProblem(t, tc.wantStatus, tc.wantCode, tc.wantDetail)
					}
					return
				}
				wantUser, _ := tr.User["id"].(string)
				if tc.wantUser == "" {
					wantUser = "42"
				}
				if got := a.header.Get("X-Auth-Request-User"); got != wantUser {
					t.Errorf("X-Auth-Request-User %q, want %q", got, wantUser)
				}
				if got := a.header.Get("X-Auth-Request-Email"); got != tc.wantEmailHdr {
					t.Errorf("X-Auth-Request-Email %q, want %q", got, tc.wantEmailHdr)
				}
				if method == http.MethodHead {
					return
				}
				var claims map[string]any
				if err := json.Unmarshal(a.body, &claims); err != nil {
					t.Fatalf("body %s: %v", a.body, err)
				}
				if claims["sub"] != wantUser || claims["iss"] != h.edge.URL || claims["aud"] != testAudience || claims["provider"] != "op" || claims["jti"] == nil || claims["exp"] == nil {
					t.Errorf("claims %v", claims)
				}
			})
		}
	}
}

// tamperJWS flips one character of the payload of a compact JWS.
func tamperJWS(tok string) string {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || len(parts[1]) < 10 {
		return tok + "x"
	}
	b := []byte(parts[1])
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	parts[1] = string(b)
	return strings.Join(parts, ".")
}

// TestVerifyIsNotRateLimited: a proxy calls verify for every request it
// forwards; the endpoints that mint tokens or call a provider are limited.
func TestVerifyIsNotRateLimited(t *testing.T) {
	h := newHarness(t, func(cfg *Config, _ *oidctest.Options) { cfg.RateLimit = RateLimit{Requests: 1, Per: time.Minute} })
	tok, _, err := h.srv.signer.Mint(apitoken.Claims{Subject: "op|x", Provider: "op"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if a := h.send(http.MethodGet, "/oauth2/verify", "", "", http.Header{"Authorization": {"Bearer " + tok}}); a.status != http.StatusOK {
			t.Fatalf("verify call %d: %d %s", i+1, a.status, a.body)
		}
	}
	if a := h.send(http.MethodGet, "/oauth2/url?provider=op", "", "", nil); a.status != http.StatusOK {
		t.Fatalf("first /oauth2/url: %d", a.status)
	}
	a := h.send(http.MethodGet, "/oauth2/url?provider=op", "", "", nil)
	a.wantProblem(t, http.StatusTooManyRequests, CodeRateLimited, "RATE_LIMIT")
	if ra := a.header.Get("Retry-After"); ra != "60" {
		t.Errorf("Retry-After %q, want 60", ra)
	}
	// The limit is per client, shared by every limited endpoint.
	for _, path := range []string{"/oauth2/refresh", "/oauth2/revoke", "/oauth2/token"} {
		if a := h.send(http.MethodPost, path, "application/json", `{}`, nil); a.status != http.StatusTooManyRequests {
			t.Errorf("%s after the limit: %d", path, a.status)
		}
	}
	if a := h.send(http.MethodGet, "/oauth2/logout-url?provider=op", "", "", nil); a.status != http.StatusTooManyRequests {
		t.Errorf("logout-url after the limit: %d", a.status)
	}
	for _, path := range []string{"/healthz", "/.well-known/jwks.json", "/oauth2/providers"} {
		if a := h.send(http.MethodGet, path, "", "", nil); a.status != http.StatusOK {
			t.Errorf("%s after the limit: %d", path, a.status)
		}
	}
}
