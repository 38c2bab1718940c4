package server

// Hardening tests: each probes one attack or misconfiguration and asserts
// that edgeauth refuses it.

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/oidc/oidctest"
)

// CORS origins are exact: Echo's CORS middleware would turn "*" inside an
// origin into the regexp ".*", and credentials are allowed, so a pattern
// would let any matching page read states bound to its visitor.
func TestCORSOriginsMustBeExact(t *testing.T) {
	for _, o := range []string{"https://*", "https://*.example.com", "https://a?"} {
		t.Run(o, func(t *testing.T) {
			env := validEnv(t)
			env["EDGEAUTH_CORS_ORIGINS"] = o
			setEnv(t, env)
			if _, err := LoadConfig(noPort, nil); err == nil {
				t.Errorf("EDGEAUTH_CORS_ORIGINS=%s accepted: config says no wildcard", o)
			}
		})
	}
}

func TestCORSWildcardIsNotAPattern(t *testing.T) {
	h := newHarness(t, withCORS("https://*")) // a value LoadConfig accepts
	req, _ := http.NewRequest(http.MethodGet, h.edge.URL+"/oauth2/url?provider=op", nil)
	req.Header.Set("Origin", "https://attacker.example")
	res, err := h.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := res.Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("Origin https://attacker.example allowed: ACAO=%q ACAC=%q", got, res.Header.Get("Access-Control-Allow-Credentials"))
	}
}

// In production, CORS origins (credentialed: their pages can read API and
// provider tokens) and redirect URIs (where the code goes, RFC 9700 §2.6)
// must be https like PUBLIC_URL, loopback aside.
func TestProductionRequiresHTTPS(t *testing.T) {
	cases := map[string]string{
		"EDGEAUTH_CORS_ORIGINS":      "http://app.example.com",
		"EDGEAUTH_ACME_REDIRECT_URI": "http://app.example.com/callback",
	}
	for k, v := range cases {
		t.Run(k, func(t *testing.T) {
			env := validEnv(t)
			env["EDGEAUTH_ENV"] = "production"
			env["EDGEAUTH_ACME_REDIRECT_URIS"] = ""
			env[k] = v
			setEnv(t, env)
			if _, err := LoadConfig(noPort, nil); err == nil {
				t.Errorf("%s=%s accepted with EDGEAUTH_ENV=production", k, v)
			}
		})
	}
}

// PUBLIC_URL with a query would produce a broken jwks_uri.
func TestPublicURLWithoutQuery(t *testing.T) {
	env := validEnv(t)
	env["EDGEAUTH_PUBLIC_URL"] = "https://auth.example.com?x=1"
	setEnv(t, env)
	if _, err := LoadConfig(noPort, nil); err == nil {
		t.Error("EDGEAUTH_PUBLIC_URL with a query accepted (jwks_uri becomes https://auth.example.com?x=1/.well-known/jwks.json)")
	}
}

// The request id in problem bodies and log lines is not whatever the client
// sent in X-Request-ID: a client could make its failures carry a 30 KB
// string.
func TestRequestIDIsSanitised(t *testing.T) {
	h := newHarness(t)
	req, _ := http.NewRequest(http.MethodGet, h.edge.URL+"/oauth2/url?provider=nope", nil)
	forged := "forged-" + strings.Repeat("x", 4000)
	req.Header.Set("X-Request-ID", forged)
	res, err := h.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var p Problem
	decode(t, res, &p)
	if p.RequestID == forged {
		t.Errorf("problem request_id is the client's X-Request-ID (%d bytes)", len(p.RequestID))
	}
}

// DESIGN: "HTTP API (all JSON)". /oauth2/token refuses
// application/x-www-form-urlencoded (a CORS-simple request: no preflight,
// any origin) and XML.
func TestTokenTakesJSONOnly(t *testing.T) {
	for _, ct := range []string{"application/x-www-form-urlencoded", "application/xml"} {
		t.Run(ct, func(t *testing.T) {
			h := newHarness(t)
			u := h.start("")
			cb := h.login(u.URL, "ada@example.com")
			var body string
			if ct == "application/xml" {
				body = "<r><Provider>op</Provider><Code>" + cb.Get("code") + "</Code><State>" + cb.Get("state") + "</State><Iss>" + cb.Get("iss") + "</Iss></r>"
			} else {
				body = url.Values{"provider": {"op"}, "code": {cb.Get("code")}, "state": {cb.Get("state")}, "iss": {cb.Get("iss")}}.Encode()
			}
			res, err := h.client.Post(h.edge.URL+"/oauth2/token", ct, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				t.Errorf("%s body minted tokens; want 415 unsupported_media_type", ct)
			}
		})
	}
}

func withCORS(origins ...string) harnessOpt {
	return func(cfg *Config, _ *oidctest.Options) { cfg.CORSOrigins = origins }
}

// An attacker's param-mode state cannot be finished by a victim whose app
// uses cookie mode, nor the other way round; a refresh token is no state.
func TestBindingModeConfusion(t *testing.T) {
	h := newHarness(t)
	// Attacker's state, param mode, completed in the victim's browser (cookie, no binding).
	atk := h.start("binding=attacker-chosen-binding-value")
	h.start("") // victim has a binding cookie
	body := tokenBody(h.login(atk.URL, "attacker@example.com"))
	var p Problem
	if res := h.post("/oauth2/token", body, &p); res.StatusCode != 400 || p.Code != "binding_mismatch" {
		t.Errorf("param-mode state accepted with a cookie only: %d %+v", res.StatusCode, p)
	}
	// Attacker's cookie-mode state, victim sends a binding of its own and its own cookie.
	h2 := newHarness(t)
	atk2 := h2.start("")
	cb := h2.login(atk2.URL, "attacker@example.com")
	h2.client.Jar, _ = cookiejar.New(nil)
	h2.start("") // victim's own cookie
	body = tokenBody(cb)
	body["binding"] = "victim-binding-value-123"
	if res := h2.post("/oauth2/token", body, &p); res.StatusCode != 400 || p.Code != "binding_mismatch" {
		t.Errorf("cookie-mode state accepted with another cookie + binding: %d %+v", res.StatusCode, p)
	}
	// A refresh token presented as a state.
	u := h2.start("")
	var tr tokenResponse
	if res := h2.post("/oauth2/token", tokenBody(h2.login(u.URL, "v@example.com")), &tr); res.StatusCode != 200 {
		t.Fatalf("login: %d", res.StatusCode)
	}
	body = tokenBody(h2.login(h2.start("").URL, "v@example.com"))
	body["state"] = tr.API.Refresh
	if res := h2.post("/oauth2/token", body, &p); res.StatusCode != 400 || p.Code != "invalid_state" {
		t.Errorf("refresh token accepted as state: %d %+v", res.StatusCode, p)
	}
}

// A state minted by a replica with BINDING=off is refused by one with
// BINDING=auto (same keys): no downgrade through a misconfigured replica.
func TestUnboundStateRefusedWhenBindingOn(t *testing.T) {
	h := newHarness(t)
	h.srv.cfg.BindingOff = true
	u := h.start("")
	cb := h.login(u.URL, "x@example.com")
	h.srv.cfg.BindingOff = false
	var p Problem
	if res := h.post("/oauth2/token", tokenBody(cb), &p); res.StatusCode != 400 || p.Code != "binding_mismatch" {
		t.Errorf("unbound state accepted with BINDING=auto: %d %+v", res.StatusCode, p)
	}
}

// Hostile bodies and headers never reach a 500.
func TestHostileInputNever500(t *testing.T) {
	h := newHarness(t)
	cases := []struct{ ct, body string }{
		{"application/json", "["},
		{"application/json", "[1,2]"},
		{"application/json", `{"code":1}`},
		{"application/json", `{"code":"` + strings.Repeat("a", 70000) + `"}`},
		{"application/json", strings.Repeat("[", 30000)},
		{"application/json", "null"},
		{"text/plain", "x"},
		{"multipart/form-data; boundary=x", "--x\r\n"},
		{"", ""},
	}
	for _, c := range cases {
		req, _ := http.NewRequest(http.MethodPost, h.edge.URL+"/oauth2/token", strings.NewReader(c.body))
		if c.ct != "" {
			req.Header.Set("Content-Type", c.ct)
		}
		res, err := h.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode >= 500 || res.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%q %.20q: %d %s", c.ct, c.body, res.StatusCode, res.Header.Get("Content-Type"))
		}
	}
}

// DESIGN: "a provider that is down, slow or answers garbage is
// 502 provider_unavailable". Provider-side faults must not become 4xx.
func TestProviderFaultsAre502(t *testing.T) {
	cases := []struct {
		name   string
		faults oidctest.Faults
		want   int
	}{
		{"token response without id_token", oidctest.Faults{MissingIDToken: true}, 502},
		{"jwks down", oidctest.Faults{Status: map[oidctest.Endpoint]int{oidctest.JWKSEndpoint: 503}}, 502},
		{"userinfo down", oidctest.Faults{Status: map[oidctest.Endpoint]int{oidctest.UserinfoEndpoint: 503}, OmitClaims: []string{"email"}}, 502},
		{"userinfo garbage", oidctest.Faults{Garbage: map[oidctest.Endpoint]bool{oidctest.UserinfoEndpoint: true}, OmitClaims: []string{"email"}}, 502},
		{"id token signed by unpublished key", oidctest.Faults{UnpublishedKey: true}, 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			u := h.start("")
			cb := h.login(u.URL, "m@example.com")
			h.op.SetFaults(tc.faults)
			var p Problem
			res := h.post("/oauth2/token", tokenBody(cb), &p)
			if res.StatusCode != tc.want {
				t.Errorf("got %d %s/%s (%s), want %d", res.StatusCode, p.Code, p.Check, p.Detail, tc.want)
			}
		})
	}
}
