package server

// Tests for the findings of the security review: each names the behaviour
// it replaced and fails against it.

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/edgeauth/edgeauth/oidc/oidctest"
)

// bindingCookieOf returns the binding cookie a response set, or "".
func bindingCookieOf(res *http.Response) string {
	for _, c := range res.Cookies() {
		if c.Name == bindingCookie {
			return c.Value
		}
	}
	return ""
}

// TestLeakedAuthorizationURLLoginCSRF: the attacker holds a leaked
// authorization URL of the victim's flow S1, completes it at the provider
// as himself and sends the victim the callback. Once the victim has
// finished any login in her browser, S1 is dead there. Before, a
// successful /oauth2/token kept the binding cookie, so the callback
// logged the victim in as the attacker.
func TestLeakedAuthorizationURLLoginCSRF(t *testing.T) {
	h := newHarness(t)
	res, err := h.client.Get(h.edge.URL + "/oauth2/url?provider=op")
	if err != nil {
		t.Fatal(err)
	}
	var s1 urlResponse
	decode(t, res, &s1)
	first := bindingCookieOf(res)
	if first == "" {
		t.Fatal("/oauth2/url set no binding cookie")
	}

	// The victim logs in on her own.
	var tr tokenResponse
	res = h.post("/oauth2/token", tokenBody(h.login(h.start("").URL, "victim@example.com")), &tr)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("victim's own login: %d", res.StatusCode)
	}
	if next := bindingCookieOf(res); next == "" || next == first {
		t.Fatalf("successful /oauth2/token did not replace the binding cookie (%q, was %q)", next, first)
	}

	// The attacker completes S1 at the provider as himself; the victim's
	// browser posts his callback.
	cb := h.login(s1.URL, "attacker@example.com")
	var p Problem
	res = h.post("/oauth2/token", tokenBody(cb), &p)
	if res.StatusCode != http.StatusBadRequest || p.Code != CodeBindingMismatch {
		t.Errorf("leaked flow completed after a login finished: %d %+v (user %v)", res.StatusCode, p, tr.User["email"])
	}
}

func withRateLimit(n int, per time.Duration, proxies ...string) harnessOpt {
	return func(cfg *Config, _ *oidctest.Options) {
		cfg.RateLimit = RateLimit{Requests: n, Per: per}
		for _, p := range proxies {
			cfg.TrustedProxies = append(cfg.TrustedProxies, netip.MustParsePrefix(p))
		}
	}
}

// call sends one request through the harness's client and returns the
// response with its body read.
func (h *harness) call(method, path, body string, header http.Header) (*http.Response, []byte) {
	h.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.edge.URL+path, r)
	if err != nil {
		h.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := h.client.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res, raw
}

// TestRateLimitedRoutes: the endpoints that call a provider or mint
// tokens are limited per client; health, keys, discovery, the provider
// list and verify (called by a proxy for every request) never are. Before,
// nothing was limited: junk codes each cost a token call with our secret.
func TestRateLimitedRoutes(t *testing.T) {
	cases := []struct {
		method, path, body string
		limited            bool
	}{
		{"GET", "/oauth2/url?provider=op", "", true},
		{"POST", "/oauth2/token", `{"provider":"op","code":"c","state":"s"}`, true},
		{"POST", "/oauth2/refresh", `{"refresh":"r"}`, true},
		{"POST", "/oauth2/revoke", `{"provider":"op","token":"t"}`, true},
		{"POST", "/oauth2/convert-token", `{"provider":"op","token":"t"}`, true},
		{"GET", "/oauth2/logout-url?provider=op", "", true},
		{"GET", "/healthz", "", false},
		{"GET", "/readyz", "", false},
		{"GET", "/.well-known/jwks.json", "", false},
		{"GET", "/.well-known/openid-configuration", "", false},
		{"GET", "/oauth2/providers", "", false},
		{"GET", "/oauth2/verify", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			h := newHarness(t, withRateLimit(3, time.Minute))
			n := 10
			if tc.limited {
				n = 3
			}
			for i := range n {
				if res, raw := h.call(tc.method, tc.path, tc.body, nil); res.StatusCode == http.StatusTooManyRequests {
					t.Fatalf("request %d of %d limited: %s", i+1, n, raw)
				}
			}
			if !tc.limited {
				return
			}
			res, raw := h.call(tc.method, tc.path, tc.body, nil)
			var p Problem
			_ = json.Unmarshal(raw, &p)
			if res.StatusCode != http.StatusTooManyRequests || p.Code != CodeRateLimited || res.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("4th request: %d %s %s", res.StatusCode, res.Header.Get("Content-Type"), raw)
			}
			if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || s < 1 {
				t.Errorf("Retry-After %q, want whole seconds ≥ 1", res.Header.Get("Retry-After"))
			}
		})
	}
}

// TestRateLimitTrustedProxies: X-Forwarded-For names the client only when
// the connection comes from a trusted proxy. Before, the limiter keyed on
// Echo's default RealIP, which reads X-Forwarded-For from anyone: a client
// got a fresh bucket per forged header.
func TestRateLimitTrustedProxies(t *testing.T) {
	xff := func(ip string) http.Header { return http.Header{"X-Forwarded-For": {ip}} }
	get := func(h *harness, ip string) int {
		res, _ := h.call("GET", "/oauth2/url?provider=op", "", xff(ip))
		return res.StatusCode
	}

	t.Run("untrusted header ignored", func(t *testing.T) {
		h := newHarness(t, withRateLimit(3, time.Minute))
		for range 3 {
			if s := get(h, "203.0.113.1"); s != http.StatusOK {
				t.Fatalf("status %d", s)
			}
		}
		if s := get(h, "203.0.113.2"); s != http.StatusTooManyRequests {
			t.Errorf("another X-Forwarded-For from the same connection got its own bucket: %d", s)
		}
	})
	t.Run("trusted proxy", func(t *testing.T) {
		h := newHarness(t, withRateLimit(3, time.Minute, "127.0.0.0/8", "::1/128"))
		for range 3 {
			if s := get(h, "203.0.113.1"); s != http.StatusOK {
				t.Fatalf("status %d", s)
			}
		}
		if s := get(h, "203.0.113.2"); s != http.StatusOK {
			t.Errorf("a second client behind the trusted proxy shares the first's bucket: %d", s)
		}
		if s := get(h, "203.0.113.1"); s != http.StatusTooManyRequests {
			t.Errorf("the first client behind the proxy was not limited: %d", s)
		}
	})
}

// TestClientKey: an IPv6 subscriber usually holds a /64, so its addresses
// share one bucket; IPv4 (also mapped into IPv6) is counted per address.
func TestClientKey(t *testing.T) {
	same := [][2]string{
		{"2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff"},
		{"192.0.2.7", "::ffff:192.0.2.7"},
	}
	for _, p := range same {
		if clientKey(p[0]) != clientKey(p[1]) {
			t.Errorf("%s and %s: keys %q and %q, want one", p[0], p[1], clientKey(p[0]), clientKey(p[1]))
		}
	}
	differ := [][2]string{
		{"2001:db8:1:2::1", "2001:db8:1:3::1"},
		{"192.0.2.7", "192.0.2.8"},
	}
	for _, p := range differ {
		if clientKey(p[0]) == clientKey(p[1]) {
			t.Errorf("%s and %s share key %q", p[0], p[1], clientKey(p[0]))
		}
	}
	if got := clientKey("2001:db8:1:2::1"); got != "2001:db8:1:2::/64" {
		t.Errorf("IPv6 key %q", got)
	}
}

// captureLogs points the server's logger at a buffer, at debug level.
func captureLogs(h *harness) *syncBuffer {
	logs := &syncBuffer{}
	h.srv.log = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h.edge.Config.Handler = h.srv.Handler()
	return logs
}

// logLines parses every line, failing on one that repeats a key at any
// level (slog.With plus an attribute of the same name would write both).
func logLines(t *testing.T, logs string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if err := noDuplicateKeys(json.NewDecoder(strings.NewReader(line))); err != nil {
			t.Errorf("%v in log line %s", err, line)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %s", line)
		}
		out = append(out, m)
	}
	return out
}

// noDuplicateKeys walks one JSON value token by token.
func noDuplicateKeys(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return err
			}
			key := k.(string)
			if seen[key] {
				return fmt.Errorf("key %q twice", key)
			}
			seen[key] = true
			if err := noDuplicateKeys(dec); err != nil {
				return err
			}
		}
		_, err = dec.Token()
		return err
	case json.Delim('['):
		for dec.More() {
			if err := noDuplicateKeys(dec); err != nil {
				return err
			}
		}
		_, err = dec.Token()
		return err
	}
	return nil
}

func linesWith(lines []map[string]any, key string, value any) []map[string]any {
	var out []map[string]any
	for _, l := range lines {
		if l[key] == value {
			out = append(out, l)
		}
	}
	return out
}

// TestAccessLog: one line per request with the status the client got, the
// route pattern, latency, request id and the problem code. Before, the
// access log ran before Echo's error handler and logged 200 for every
// failure, with the raw path and no code.
func TestAccessLog(t *testing.T) {
	h := newHarness(t)
	logs := captureLogs(h)
	res, _ := h.call("POST", "/oauth2/token", `{"provider":"op","code":"c","state":"not-a-state"}`, nil)
	failID := res.Header.Get("X-Request-Id")
	res404, _ := h.call("GET", "/no/such/route", "", nil)
	if res.StatusCode != 400 || res404.StatusCode != 404 || failID == "" {
		t.Fatalf("statuses %d %d, request id %q", res.StatusCode, res404.StatusCode, failID)
	}

	lines := logLines(t, logs.String())
	access := linesWith(lines, "msg", "request")
	if len(access) != 2 {
		t.Fatalf("%d access lines for 2 requests:\n%s", len(access), logs)
	}
	fail := linesWith(access, "request_id", failID)
	if len(fail) != 1 {
		t.Fatalf("%d access lines with request_id %s", len(fail), failID)
	}
	l := fail[0]
	if l["status"] != float64(400) || l["route"] != "/oauth2/token" || l["method"] != "POST" || l["code"] != "invalid_state" || l["latency"] == nil {
		t.Errorf("access line %v", l)
	}
	nf := linesWith(access, "request_id", res404.Header.Get("X-Request-Id"))
	if len(nf) != 1 || nf[0]["status"] != float64(404) || nf[0]["code"] != "not_found" {
		t.Errorf("404 access line %v", nf)
	}
}

// TestHandlerLinesCarryRequestID: a handler's own lines (the webhook's
// answer, dev mode's event) can be joined with the access line. Before,
// they were written with the server's logger, without request_id.
func TestHandlerLinesCarryRequestID(t *testing.T) {
	hook := newReceiver(t, func(int) (int, string) { return 200, `{"user_id":"42"}` })
	cases := []struct {
		name, msg string
		opt       harnessOpt
	}{
		{"webhook debug line", "user webhook answered", withHook(hook.srv.URL, 0)},
		{"dev-mode event line", "dev mode: no user webhook; this is the event it would receive (edgeauth dev --userhook-url URL)",
			func(cfg *Config, _ *oidctest.Options) { cfg.Dev = &DevClient{} }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.opt)
			logs := captureLogs(h)
			res := h.post("/oauth2/token", tokenBody(h.login(h.start("").URL, "ada@example.com")), nil)
			if res.StatusCode != 200 {
				t.Fatalf("login: %d", res.StatusCode)
			}
			lines := linesWith(logLines(t, logs.String()), "msg", tc.msg)
			if len(lines) != 1 || lines[0]["request_id"] != res.Header.Get("X-Request-Id") {
				t.Errorf("want one %q line with request_id %s:\n%s", tc.msg, res.Header.Get("X-Request-Id"), logs)
			}
		})
	}
}

// TestSeedIs256Bits: nonce and PKCE verifier derive from the seed, so they
// carry no more entropy than it (RFC 7636 §7.1 asks for 256 bits). Before,
// the seed was 128 bits.
func TestSeedIs256Bits(t *testing.T) {
	seen := map[string]bool{}
	for range 64 {
		s := newSeed()
		b, err := base64.RawURLEncoding.DecodeString(s)
		if len(s) != 43 || err != nil || len(b) != 32 || seen[s] {
			t.Fatalf("seed %q: %d characters, %d bytes, %v, repeated %t", s, len(s), len(b), err, seen[s])
		}
		seen[s] = true
		if _, v := derive(s); len(v) != 43 {
			t.Errorf("verifier %d characters", len(v))
		}
	}
}

// TestSecurityHeaders: HSTS only over https; the API's CSP on answers and
// errors alike; the dev demo page with a CSP of its own. Before, there
// were no security headers.
func TestSecurityHeaders(t *testing.T) {
	h := newHarness(t)
	for _, path := range []string{"/oauth2/providers", "/no/such/route", "/oauth2/url?provider=nope"} {
		res, _ := h.call("GET", path, "", nil)
		if got := res.Header.Get("Content-Security-Policy"); got != "default-src 'none'; frame-ancestors 'none'" {
			t.Errorf("%s (%d): CSP %q", path, res.StatusCode, got)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", path)
		}
		if got := res.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(got, "max-age=") {
			t.Errorf("%s over https: HSTS %q", path, got)
		}
	}

	cfg := h.cfg
	cfg.PublicURL, cfg.TokenIssuer = "http://localhost:8080", "http://localhost:8080"
	srv, err := New(cfg, Options{DevOP: http.NotFoundHandler()})
	if err != nil {
		t.Fatal(err)
	}
	handler := srv.Handler()
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if got := rec.Header().Get("Strict-Transport-Security"); got != "" {
		t.Errorf("HSTS over http: %q", got)
	}
	rec = httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if csp := rec.Header().Get("Content-Security-Policy"); rec.Code != 200 || csp == apiCSP || !strings.Contains(csp, "script-src") {
		t.Errorf("demo page: %d CSP %q", rec.Code, csp)
	}
}

// TestWebhookSensitiveClaims: acr, amr, azp and scope are facts about the
// login a resource server may rely on (MFA, authorized party, grant); the
// webhook sets them only when EDGEAUTH_USERHOOK_CLAIMS_ALLOWED names them,
// and registered claims (cnf, the DPoP key binding, among them) never.
// Before, only the registered claims were guarded.
func TestWebhookSensitiveClaims(t *testing.T) {
	answer := `{"user_id":"42","claims":{"acr":"urn:mfa","amr":["otp"],"azp":"x","cnf":{"jkt":"t"},"scope":"admin","role":"member","sub":"root","aud":"evil"}}`
	hook := newReceiver(t, func(int) (int, string) { return 200, answer })
	cases := []struct {
		allowed    []string
		kept       []string
		notPresent []string
	}{
		{nil, []string{"role"}, []string{"acr", "amr", "azp", "cnf", "scope"}},
		{[]string{"acr", "amr", "scope"}, []string{"role", "acr", "amr", "scope"}, []string{"azp", "cnf"}},
		{[]string{"acr", "amr", "azp", "scope"}, []string{"role", "acr", "amr", "azp", "scope"}, []string{"cnf"}},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.allowed), func(t *testing.T) {
			h := newHarness(t, withHook(hook.srv.URL, 0), func(cfg *Config, _ *oidctest.Options) { cfg.Userhook.ClaimsAllowed = tc.allowed })
			var tr tokenResponse
			if res := h.post("/oauth2/token", tokenBody(h.login(h.start("").URL, "ada@example.com")), &tr); res.StatusCode != 200 {
				t.Fatalf("login: %d", res.StatusCode)
			}
			tok, err := jwt.ParseString(tr.API.Access, jwt.WithVerify(false), jwt.WithValidate(false))
			if err != nil {
				t.Fatal(err)
			}
			claims, _ := tok.AsMap(t.Context())
			for _, k := range tc.kept {
				if _, ok := claims[k]; !ok {
					t.Errorf("claim %s dropped", k)
				}
			}
			for _, k := range tc.notPresent {
				if _, ok := claims[k]; ok {
					t.Errorf("claim %s kept: %v", k, claims[k])
				}
			}
			if tok.Subject() != "42" || slices.Contains(tok.Audience(), "evil") {
				t.Errorf("registered claims overridden: sub %q aud %v", tok.Subject(), tok.Audience())
			}
		})
	}
}

// TestStrictJSONBodies: every way a body can be wrong is a 400 that names
// what to fix. Before, unknown fields and trailing data were ignored and
// `{}` reported only the first missing field.
func TestStrictJSONBodies(t *testing.T) {
	cases := []struct {
		name, body string
		want       []string
	}{
		{"unknown field", `{"provider":"op","code":"c","state":"s","redirect_uri":"https://evil"}`, []string{`unknown field "redirect_uri"`}},
		{"trailing object", `{"provider":"op","code":"c","state":"s"}{"provider":"other"}`, []string{"trailing data"}},
		{"trailing garbage", `{"provider":"op","code":"c","state":"s"} x`, []string{"trailing data"}},
		{"empty object", `{}`, []string{"missing: provider, code, state"}},
		{"number for a string", `{"provider":"op","code":5,"state":"s"}`, []string{"code must be a string"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			res, raw := h.call("POST", "/oauth2/token", tc.body, nil)
			var p Problem
			if err := json.Unmarshal(raw, &p); err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != 400 || p.Code != CodeInvalidRequest {
				t.Fatalf("%d %s", res.StatusCode, raw)
			}
			for _, w := range tc.want {
				if !strings.Contains(p.Detail, w) {
					t.Errorf("detail %q lacks %q", p.Detail, w)
				}
			}
			if tc.name == "empty object" && !strings.HasPrefix(p.Detail, "missing: provider, code, state;") && p.Detail != "missing: provider, code, state" {
				t.Errorf("want exactly the three required fields missing (iss and binding are optional): %q", p.Detail)
			}
		})
	}
}
