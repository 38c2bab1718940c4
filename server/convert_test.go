package server

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/oidc"
	"github.com/edgeauth/edgeauth/oidc/oidctest"
	"github.com/edgeauth/edgeauth/userhook"
)

// Tests of POST /oauth2/convert-token (DESIGN.md "Convert a native app's
// provider token"): a token the app got from the provider's SDK becomes a
// session here only when it proves a login at one of our clients.

const otherClient = "other-app" // a client of the same provider, not ours

func withOtherClient(_ *Config, o *oidctest.Options) {
	o.Clients = append(o.Clients, oidctest.Client{ID: otherClient, Secret: "other-secret", RedirectURIs: []string{"https://other.example.test/cb"}})
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestConvert(t *testing.T) {
	noIntrospection := oidctest.Faults{DiscoveryDocument: func(doc map[string]any) { delete(doc, "introspection_endpoint") }}
	cases := []struct {
		name string
		// discovery faults apply to the provider before edgeauth first sees it.
		discovery oidctest.Faults
		edit      func(*oidc.Config)
		faults    oidctest.Faults // while the tokens are issued
		client    string          // who the tokens are issued to; ours when empty
		nonce     string          // in the ID token
		// body is the request, given the tokens.
		body       func(tok oidctest.Tokens) map[string]string
		advance    time.Duration // between issuing and converting
		wantStatus int
		wantCode   Code
		wantCheck  string
		wantDetail string
		// introspected: the provider must have been asked (RFC 7662).
		introspected bool
	}{
		{
			name: "ID token",
			body: func(tok oidctest.Tokens) map[string]string {
				return map[string]string{"provider": "op", "token": tok.IDToken}
			},
			wantStatus: 200,
		},
		{
			name: "ID token, token_type given",
			body: func(tok oidctest.Tokens) map[string]string {
				return map[string]string{"provider": "op", "token": tok.IDToken, "token_type": "id_token"}
			},
			wantStatus: 200,
		},
		{
			name:   "ID token for another client",
			client: otherClient,
			body: func(tok oidctest.Tokens) map[string]string {
				return map[string]string{"provider": "op", "token": tok.IDToken}
			},
			wantStatus: 401, wantCode: CodeInvalidToken, wantCheck: "aud",
		},
		{
			name:   "ID token for a client in CONVERT_AUDIENCES",
			client: otherClient,
			edit:   func(c *oidc.Config) { c.ConvertAudiences = []string{otherClient} },
			body: func(tok oidctest.Tokens) map[string]string {
				return map[string]string{"provider": "op", "token": tok.IDToken}
			},
			wantStatus: 200,
		},
		{
			name:   "ID token with another client in aud beside ours",
			faults: oidctest.Faults{Audience: []string{testClientID, "evil-app"}},
			body: func(tok oidctest.Tokens) map[string]string {
				return map[string]string{"provider": "op", "token": tok.IDToken}
			},
			wantStatus: 401, wantCode: CodeInvalidToken,
		},
		{
			name:    "ID token older than CONVERT_MAX_AGE (10 min by default)",
			advance: 12 * time.Minute, // CONVERT_MAX_AGE plus the minute of leeway, passed
			body: func(tok oidctest.Tokens) map[string]string {
				return map[string]string{"provider": "op", "token": tok.IDToken}
			},
			wantStatus: 401, wantCode: CodeInvalidToken, wantCheck: "iat",
		},
		{
			name:    "ID token within a longer CONVERT_MAX_AGE",
			edit:    func(c *oidc.Config) { c.ConvertMaxAge = 30 * time.Minute },
			advance: 12 * time.Minute,
			body: func(tok oidctest.Tokens) map[string]string {
				return map[string]string{"provider": "op", "token": tok.IDToken}
			},
			wantStatus: 200,
		},
		{
			name:   "expired ID token",
			faults: oidctest.Faults{Expired: true},
			body: func(tok oidctest.Tokens) map[string]string {
				return map[string]string{"provider": "op", "token": tok.IDToken}
			},
			wantStatus: 401, wantCode: CodeInvalidToken,
		},
		{
			name:   "ID token with a bad signature",
			faults: oidctest.Faults{BadSignature: true},
			body: func(tok oidctest.Tokens) map[string]string {
				return map[string]string{"provider": "op", "token": tok.IDToken}
			},
			wantStatus: 401, wantCode: CodeInvalidToken,
		},
		{
			name:   "ID token of another issuer",
			faults: oidctest.Faults{Issuer: "https://evil.example.test"},
			body: func(tok oidctest.Tokens) map[string]string {
				return map[string]string{"provider": "op", "token": tok.IDToken, "token_type": "id_token"}
			},
			wantStatus: 401, wantCode: CodeInvalidToken,
		},
		{
			name:  "nonce equal",
			nonce: "raw-nonce-0123456789",
			body: func(tok oidctest.Tokens) map[string]string {
				return map[string]string{"provider": "op", "token": tok.IDToken, "nonce": "raw-nonce-0123456789"}
			},
			wantStatus: 200,
		},
		{
			name:  "nonce is the SHA-256 hex of the request's (Apple)",
			nonce: sha256Hex("raw-nonce-0123456789"),
			body: func(tok oidctest.Tokens) map[string]string {
				return map[string]string{"provider": "op", "token": tok.IDToken, "nonce": "raw-nonce-0123456789"}
			},
			wantStatus: 200,
		},
		{
			name:  "wrong nonce",
			nonce: "raw-nonce-0123456789",
			body: func(tok oidctest.Tokens) map[string]string {
				return map[string]string{"provider": "op", "token": tok.IDToken, "nonce": "another-nonce"}
			},
			wantStatus: 401, wantCode: CodeInvalidToken, wantCheck: "nonce",
		},
		{
			name:  "the hash sent as nonce is not the raw value",
			nonce: "raw-nonce-0123456789",
			body: func(tok oidctest.Tokens) map[string]string {
				return map[string]string{"provider": "op", "token": tok.IDToken, "nonce": sha256Hex("raw-nonce-0123456789")}
			},
			wantStatus: 401, wantCode: CodeInvalidToken,
		},
		{
			name: "request nonce, token without one",
			body: func(tok oidctest.Tokens) map[string]string {
				return map[string]string{"provider": "op", "token": tok.IDToken, "nonce": "raw-nonce-0123456789"}
			},
			wantStatus: 401, wantCode: CodeInvalidToken,
		},
		{
			name: "access token, introspected",
			body: func(tok oidctest.Tokens) map[string]string {
				return map[string]string{"provider": "op", "token": tok.AccessToken}
			},
			wantStatus:   200,
			introspected: true,
		},
		{
			name: "access token, token_type given",
			body: func(tok oidctest.Tokens) map[string]string {
				return map[string]string{"provider": "op", "token": tok.AccessToken, "token_type": "access_token"}
			},
			wantStatus:   200,
			introspected: true,
		},
		{
			name:   "access token issued to another client",
			client: otherClient,
			body: func(tok oidctest.Tokens) map[string]string {
				return map[string]string{"provider": "op", "token": tok.AccessToken}
			},
			wantStatus: 401, wantCode: CodeInvalidToken, wantCheck: "client_id",
			introspected: true,
		},
		{
			name:   "access token issued to a client in CONVERT_AUDIENCES",
			client: otherClient,
			edit:   func(c *oidc.Config) { c.ConvertAudiences = []string{otherClient} },
			body: func(tok oidctest.Tokens) map[string]string {
				return map[string]string{"provider": "op", "token": tok.AccessToken}
			},
			wantStatus:   200,
			introspected: true,
		},
		{
			name:   "access token the provider says is inactive",
			faults: oidctest.Faults{IntrospectionInactive: true},
			body: func(tok oidctest.Tokens) map[string]string {
				return map[string]string{"provider": "op", "token": tok.AccessToken}
			},
			wantStatus: 401, wantCode: CodeInvalidToken, wantCheck: "active",
			introspected: true,
		},
		{
			name: "an unknown access token",
			body: func(oidctest.Tokens) map[string]string {
				return map[string]string{"provider": "op", "token": "not-a-token-the-provider-knows"}
			},
			wantStatus: 401, wantCode: CodeInvalidToken,
			introspected: true,
		},
		{
			name: "an ID token posted as access token",
			body: func(tok oidctest.Tokens) map[string]string {
				return map[string]string{"provider": "op", "token": tok.IDToken, "token_type": "access_token"}
			},
			wantStatus: 401, wantCode: CodeInvalidToken,
			introspected: true,
		},
		{
			name:      "access token, provider without introspection",
			discovery: noIntrospection,
			body: func(tok oidctest.Tokens) map[string]string {
				return map[string]string{"provider": "op", "token": tok.AccessToken}
			},
			wantStatus: 401, wantCode: CodeInvalidToken, wantDetail: "INTROSPECTION_URL",
		},
		{
			name:      "access token, provider without introspection, CONVERT_ACCESS_TOKEN=userinfo",
			discovery: noIntrospection,
			edit:      func(c *oidc.Config) { c.ConvertAccessToken = oidc.ConvertUserinfo },
			body: func(tok oidctest.Tokens) map[string]string {
				return map[string]string{"provider": "op", "token": tok.AccessToken}
			},
			wantStatus: 200,
		},
		{
			name:   "introspection endpoint down",
			faults: oidctest.Faults{Status: map[oidctest.Endpoint]int{oidctest.IntrospectionEndpoint: 503}},
			body: func(tok oidctest.Tokens) map[string]string {
				return map[string]string{"provider": "op", "token": tok.AccessToken}
			},
			wantStatus: 502, wantCode: CodeProviderUnavailable, introspected: true,
		},
		{
			name: "unknown provider",
			body: func(tok oidctest.Tokens) map[string]string {
				return map[string]string{"provider": "nope", "token": tok.IDToken}
			},
			wantStatus: 400, wantCode: CodeUnknownProvider,
		},
		{
			name: "bad token_type",
			body: func(tok oidctest.Tokens) map[string]string {
				return map[string]string{"provider": "op", "token": tok.IDToken, "token_type": "refresh_token"}
			},
			wantStatus: 400, wantCode: CodeInvalidRequest, wantDetail: "token_type",
		},
		{
			name:       "missing token",
			body:       func(oidctest.Tokens) map[string]string { return map[string]string{"provider": "op"} },
			wantStatus: 400, wantCode: CodeInvalidRequest, wantDetail: "missing: token",
		},
		{
			name: "unknown field",
			body: func(tok oidctest.Tokens) map[string]string {
				return map[string]string{"provider": "op", "token": tok.IDToken, "id_token": tok.IDToken}
			},
			wantStatus: 400, wantCode: CodeInvalidRequest, wantDetail: `unknown field "id_token"`,
		},
		{
			name: "nonce too long",
			body: func(tok oidctest.Tokens) map[string]string {
				return map[string]string{"provider": "op", "token": tok.IDToken, "nonce": strings.Repeat("n", maxNonceLen+1)}
			},
			wantStatus: 400, wantCode: CodeInvalidRequest, wantDetail: "too long: nonce",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, withOtherClient)
			h.op.SetFaults(tc.discovery)
			if tc.edit != nil {
				h.rebuild(func(cfg *Config) { tc.edit(&cfg.Providers[0].OIDC) })
			}
			client := tc.client
			if client == "" {
				client = testClientID
			}
			f := tc.faults
			f.DiscoveryDocument = tc.discovery.DiscoveryDocument
			h.op.SetFaults(f)
			tok, err := h.op.IssueTokens(client, testEmail, tc.nonce)
			if err != nil {
				t.Fatal(err)
			}
			h.clock.Advance(tc.advance)
			h.op.ResetRequests()
			body := tc.body(tok)
			a := h.postJSON("/oauth2/convert-token", body)
			if got := h.op.Requests().Introspection; (got > 0) != tc.introspected {
				t.Errorf("introspection requests: %d, want some: %v", got, tc.introspected)
			}
			if tc.wantCode != "" {
				p := a.wantProblem(t, tc.wantStatus, tc.wantCode, tc.wantDetail)
				if tc.wantCheck != "" && p.Check != tc.wantCheck {
					t.Errorf("check %q, want %q: %s", p.Check, tc.wantCheck, a.body)
				}
				for _, secret := range []string{tok.IDToken, tok.AccessToken, testClientSecret} {
					if strings.Contains(string(a.body), secret) {
						t.Errorf("the problem carries a token or secret: %s", a.body)
					}
				}
				return
			}
			if a.status != tc.wantStatus {
				t.Fatalf("%d %s", a.status, a.body)
			}
			var tr tokenResponse
			if err := json.Unmarshal(a.body, &tr); err != nil {
				t.Fatal(err)
			}
			sub := oidctest.Subject(testEmail)
			if tr.Provider != nil || strings.Contains(string(a.body), `"provider":{`) {
				t.Errorf("convert answered provider tokens: %s", a.body)
			}
			if tr.User["subject"] != sub || tr.User["id"] != "op|"+sub || tr.User["provider"] != "op" || tr.User["email"] != testEmail {
				t.Errorf("user %v", tr.User)
			}
			if tok := h.accessClaims(t, tr.API.Access); tok.Subject() != "op|"+sub {
				t.Errorf("access sub %q", tok.Subject())
			}
			rs, err := h.srv.refresh.Open(tr.API.Refresh)
			if err != nil || rs.ProviderRefresh != "" || rs.ProviderSubject != sub || !rs.SessionStart.Equal(h.clock.Now()) {
				t.Errorf("converted session %+v %v: starts now, holds no provider refresh token", rs, err)
			}
			// The converted session refreshes like any other, without the provider.
			if a := h.postJSON("/oauth2/refresh", map[string]string{"refresh": tr.API.Refresh}); a.status != http.StatusOK {
				t.Errorf("refresh of a converted session: %d %s", a.status, a.body)
			}
		})
	}
}

// TestConvertAsksUserhook: the backend gets user.convert and decides as at
// login.
func TestConvertAsksUserhook(t *testing.T) {
	for _, tc := range []struct {
		name       string
		status     int
		answer     string
		wantStatus int
		wantCode   Code
	}{
		{"allowed", 200, `{"user_id":"42","claims":{"role":"admin"}}`, 200, ""},
		{"denied", 403, `{"message":"no native logins"}`, 403, CodeUserDenied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newReceiver(t, func(int) (int, string) { return tc.status, tc.answer })
			h := newHarness(t, withHook(r.srv.URL, 0))
			tok, err := h.op.IssueTokens(testClientID, testEmail, "")
			if err != nil {
				t.Fatal(err)
			}
			a := h.postJSON("/oauth2/convert-token", map[string]string{"provider": "op", "token": tok.IDToken})
			bodies, _ := r.deliveries()
			if len(bodies) != 1 {
				t.Fatalf("the hook got %d events", len(bodies))
			}
			var e userhook.Event
			if err := json.Unmarshal(bodies[0], &e); err != nil {
				t.Fatal(err)
			}
			if e.Type != userhook.EventConvert || e.Data.Provider != "op" || e.Data.Subject != oidctest.Subject(testEmail) || e.Data.Email != testEmail || e.Data.Claims["aud"] == nil {
				t.Errorf("event %s", bodies[0])
			}
			if strings.Contains(string(bodies[0]), tok.IDToken) || strings.Contains(string(bodies[0]), tok.AccessToken) {
				t.Error("the event carries the provider token")
			}
			if tc.wantCode != "" {
				a.wantProblem(t, tc.wantStatus, tc.wantCode, "no native logins")
				return
			}
			var tr tokenResponse
			if a.status != 200 || json.Unmarshal(a.body, &tr) != nil {
				t.Fatalf("%d %s", a.status, a.body)
			}
			at := h.accessClaims(t, tr.API.Access)
			if role, _ := at.Get("role"); at.Subject() != "42" || role != "admin" {
				t.Errorf("sub %q role %v", at.Subject(), role)
			}
		})
	}
}
