package server

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/edgeauth/edgeauth/oidc/oidctest"
	"github.com/edgeauth/edgeauth/userhook"
)

const testHookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// receiver is a backend's webhook endpoint: it verifies every delivery
// and answers what the test says.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	answer func(n int) (int, string)

	mu     sync.Mutex
	bodies [][]byte
	ids    []string
}

func newReceiver(t *testing.T, answer func(n int) (int, string)) *receiver {
	r := &receiver{t: t, answer: answer}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if err := userhook.Verify(testHookSecret, req.Header, body, 5*time.Minute); err != nil {
			t.Errorf("receiver: bad signature: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		r.mu.Lock()
		r.bodies = append(r.bodies, body)
		r.ids = append(r.ids, req.Header.Get("webhook-id"))
		n := len(r.bodies)
		r.mu.Unlock()
		status, resp := r.answer(n)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, resp)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) deliveries() ([][]byte, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.bodies...), append([]string(nil), r.ids...)
}

func withHook(url string, retries int) harnessOpt {
	return func(cfg *Config, _ *oidctest.Options) {
		cfg.Userhook = Userhook{URL: url, Secret: testHookSecret, Retries: &retries, Timeout: 2 * time.Second}
	}
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestUserhookDecides(t *testing.T) {
	cases := []struct {
		name       string
		answer     func(n int) (int, string)
		retries    int
		wantStatus int
		wantCode   string
		wantDetail string
		wantCalls  int
		check      func(t *testing.T, tr tokenResponse, tok jwt.Token, logs string)
	}{
		{
			name:       "allowed with claims",
			answer:     func(int) (int, string) { return 200, `{"user_id":"42","claims":{"role":"admin","plan":"pro"}}` },
			wantStatus: 200, wantCalls: 1,
			check: func(t *testing.T, tr tokenResponse, tok jwt.Token, _ string) {
				if tok.Subject() != "42" || tr.User["id"] != "42" {
					t.Errorf("sub %q, user.id %v: user_id must become sub", tok.Subject(), tr.User["id"])
				}
				if role, _ := tok.Get("role"); role != "admin" || tr.User["role"] != "admin" || tr.User["plan"] != "pro" {
					t.Errorf("claims not merged: token role %v, user %v", role, tr.User)
				}
			},
		},
		{
			name: "registered claims are guarded",
			answer: func(int) (int, string) {
				return 200, `{"user_id":"7","claims":{"sub":"admin","iss":"https://evil","exp":9999999999,"aud":"x","jti":"j","role":"member"}}`
			},
			wantStatus: 200, wantCalls: 1,
			check: func(t *testing.T, _ tokenResponse, tok jwt.Token, logs string) {
				if tok.Subject() != "7" || !strings.HasPrefix(tok.Issuer(), "https://127.0.0.1") || tok.Expiration().Unix() == 9999999999 || tok.JwtID() == "j" {
					t.Errorf("a hook overrode a registered claim: sub %q iss %q exp %v jti %q", tok.Subject(), tok.Issuer(), tok.Expiration(), tok.JwtID())
				}
				if role, _ := tok.Get("role"); role != "member" {
					t.Errorf("the allowed claim was lost: %v", role)
				}
				if !strings.Contains(logs, "registered claims") || !strings.Contains(logs, `"level":"ERROR"`) {
					t.Errorf("no error logged for the guarded claims:\n%s", logs)
				}
			},
		},
		{
			name:       "denied with a message",
			answer:     func(int) (int, string) { return 403, `{"message":"Your account is suspended."}` },
			wantStatus: 403, wantCode: "user_denied", wantDetail: "Your account is suspended.", wantCalls: 1,
		},
		{
			name:       "denied without a message",
			answer:     func(int) (int, string) { return 403, `` },
			wantStatus: 403, wantCode: "user_denied", wantDetail: "the backend refused this login", wantCalls: 1,
		},
		{
			name: "retried on 500, same id, then allowed",
			answer: func(n int) (int, string) {
				if n == 1 {
					return 500, `{}`
				}
				return 200, `{"user_id":"u-2"}`
			},
			retries: 2, wantStatus: 200, wantCalls: 2,
		},
		{
			name:       "unavailable after retries",
			answer:     func(int) (int, string) { return 503, `{}` },
			retries:    1,
			wantStatus: 502, wantCode: "userhook_unavailable", wantCalls: 2,
		},
		{
			name:       "malformed answer",
			answer:     func(int) (int, string) { return 200, `{"claims":{}}` },
			wantStatus: 502, wantCode: "userhook_unavailable", wantCalls: 1,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rcv := newReceiver(t, tc.answer)
			logs := &syncBuffer{}
			h := newHarness(t, withHook(rcv.srv.URL, tc.retries))
			h.srv.log = slog.New(slog.NewJSONHandler(logs, nil))
			u := h.start("")
			cb := h.login(u.URL, "ada@example.com")
			body := tokenBody(cb)
			res, err := h.client.Post(h.edge.URL+"/oauth2/token", "application/json", strings.NewReader(mustJSON(body)))
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tc.wantStatus, raw)
			}
			deliveries, ids := rcv.deliveries()
			if len(deliveries) != tc.wantCalls {
				t.Errorf("%d deliveries, want %d", len(deliveries), tc.wantCalls)
			}
			for _, id := range ids[1:] {
				if id != ids[0] {
					t.Errorf("retry changed webhook-id: %v", ids)
				}
			}
			checkEvent(t, deliveries[0], body)
			if tc.wantCode != "" {
				var p Problem
				_ = json.Unmarshal(raw, &p)
				if string(p.Code) != tc.wantCode || !strings.Contains(p.Detail, tc.wantDetail) {
					t.Errorf("problem %s, want %s with %q", raw, tc.wantCode, tc.wantDetail)
				}
				if strings.Contains(string(raw), `"api"`) {
					t.Error("tokens minted despite the hook's answer")
				}
				return
			}
			var tr tokenResponse
			if err := json.Unmarshal(raw, &tr); err != nil {
				t.Fatal(err)
			}
			public, err := jwk.Parse(h.srv.signer.JWKS())
			if err != nil {
				t.Fatal(err)
			}
			tok, err := jwt.ParseString(tr.API.Access, jwt.WithKeySet(public), jwt.WithIssuer(h.edge.URL), jwt.WithAudience(testAudience), jwt.WithClock(jwt.ClockFunc(h.clock.Now)))
			if err != nil {
				t.Fatalf("access token: %v", err)
			}
			if tc.check != nil {
				tc.check(t, tr, tok, logs.String())
			}
		})
	}
}

// checkEvent asserts the delivered event: who logged in, and nothing that
// would let the backend (or whoever reads its logs) act as the user.
func checkEvent(t *testing.T, raw []byte, req map[string]string) {
	t.Helper()
	var e userhook.Event
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatalf("event: %v", err)
	}
	if e.Type != userhook.EventLogin || e.Data.Provider != "op" || e.Data.Email != "ada@example.com" || !e.Data.EmailVerified || e.Data.Subject == "" || e.Data.Claims["nonce"] == nil {
		t.Errorf("event %s", raw)
	}
	for _, secret := range []string{req["code"], req["state"], testClientSecret, "access_token", "id_token", "refresh_token"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("event carries %q", secret)
		}
	}
}

func TestAllowedEmailDomains(t *testing.T) {
	cases := []struct {
		name       string
		email      string
		unverified bool
		wantStatus int
	}{
		{name: "allowed domain", email: "ada@example.com", wantStatus: 200},
		{name: "allowed domain, other case", email: "ada@EXAMPLE.com", wantStatus: 200},
		{name: "other domain", email: "ada@example.org", wantStatus: 403},
		{name: "subdomain is not the domain", email: "ada@evil.example.com", wantStatus: 403},
		{name: "unverified", email: "ada@example.com", unverified: true, wantStatus: 403},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			rcv := newReceiver(t, func(int) (int, string) { calls++; return 200, `{"user_id":"1"}` })
			h := newHarness(t, withHook(rcv.srv.URL, 0))
			h.srv.providers["op"].cfg.AllowedEmailDomains = []string{"example.com"}
			if tc.unverified {
				h.op.SetFaults(oidctest.Faults{IDTokenClaims: func(c map[string]any) { c["email_verified"] = false }})
			}
			cb := h.login(h.start("").URL, tc.email)
			var p Problem
			res := h.post("/oauth2/token", tokenBody(cb), &p)
			if res.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d (%+v)", res.StatusCode, tc.wantStatus, p)
			}
			if tc.wantStatus == 403 && (p.Code != "user_denied" || calls != 0) {
				t.Errorf("code %q, hook called %d times (must not be asked)", p.Code, calls)
			}
		})
	}
}

// BenchmarkTokenWithUserhook measures POST /oauth2/token end to end (code
// exchange, ID-token verification, userinfo, mint) with and without a
// local user webhook; the difference is the hook's added latency.
func BenchmarkTokenWithUserhook(b *testing.B) {
	for _, withReceiver := range []bool{false, true} {
		name := "no-hook"
		if withReceiver {
			name = "hook"
		}
		b.Run(name, func(b *testing.B) {
			var opts []harnessOpt
			if withReceiver {
				rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
					body, _ := io.ReadAll(req.Body)
					if err := userhook.Verify(testHookSecret, req.Header, body, time.Minute); err != nil {
						w.WriteHeader(401)
						return
					}
					_, _ = io.WriteString(w, `{"user_id":"42"}`)
				}))
				b.Cleanup(rcv.Close)
				opts = append(opts, func(cfg *Config, _ *oidctest.Options) {
					cfg.Userhook = Userhook{URL: rcv.URL, Secret: testHookSecret, Timeout: 2 * time.Second}
				})
			}
			h := newHarness(b, opts...)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				b.StopTimer()
				cb := h.login(h.start("").URL, "bench@example.com")
				body := mustJSON(tokenBody(cb))
				b.StartTimer()
				res, err := h.client.Post(h.edge.URL+"/oauth2/token", "application/json", strings.NewReader(body))
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					b.Fatalf("status %d", res.StatusCode)
				}
			}
		})
	}
}

// TestUserhookPerProvider checks that EDGEAUTH_<NAME>_USERHOOK_URL wins
// over the global hook for that provider's logins.
func TestUserhookPerProvider(t *testing.T) {
	global := newReceiver(t, func(int) (int, string) { return 200, `{"user_id":"from-global"}` })
	own := newReceiver(t, func(int) (int, string) { return 200, `{"user_id":"from-provider"}` })
	h := newHarness(t, withHook(global.srv.URL, 0))
	// Rebuild the server with the override on the harness's provider.
	cfg := h.cfg
	cfg.Providers = append([]ProviderConfig(nil), cfg.Providers...)
	cfg.Providers[0].UserhookURL = own.srv.URL
	srv, err := New(cfg, Options{Now: h.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	h.srv = srv
	h.edge.Config.Handler = srv.Handler()

	var tr tokenResponse
	if res := h.post("/oauth2/token", tokenBody(h.login(h.start("").URL, "ada@example.com")), &tr); res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	if tr.User["id"] != "from-provider" {
		t.Errorf("user id %v: the provider's own hook was not used", tr.User["id"])
	}
	if g, _ := global.deliveries(); len(g) != 0 {
		t.Errorf("the global hook was asked %d times", len(g))
	}
}

// TestDevModeLogsTheEventWithoutHook: `edgeauth dev` without
// --userhook-url shows the developer what their receiver would get.
func TestDevModeLogsTheEventWithoutHook(t *testing.T) {
	h := newHarness(t, func(cfg *Config, _ *oidctest.Options) { cfg.Dev = &DevClient{} })
	logs := &syncBuffer{}
	h.srv.log = slog.New(slog.NewJSONHandler(logs, nil))
	var tr tokenResponse
	if res := h.post("/oauth2/token", tokenBody(h.login(h.start("").URL, "ada@example.com")), &tr); res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	out := logs.String()
	for _, want := range []string{"this is the event it would receive", `"type":"user.login"`, `"email":"ada@example.com"`} {
		if !strings.Contains(out, want) {
			t.Errorf("dev log lacks %s:\n%s", want, out)
		}
	}
}
