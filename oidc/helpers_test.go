package oidc

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// This file holds the unit-test fixtures: keys, a token signer that can
// write any header, a settable clock and keyOP, a minimal provider that
// serves only discovery and a JWKS we control. Whole flows run against
// oidctest (flow_test.go).

const (
	testClientID = "edgeauth-client"
	testSecret   = "a-client-secret-of-at-least-64-bytes-for-hs512-0123456789abcdef!!"
	testNonce    = "n-0S6_WzA2Mj"
)

var testEpoch = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// testKeys are generated once per test binary: RSA generation is slow.
var testKeys = sync.OnceValue(func() map[string]any {
	rsa1, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	rsa2, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	rsaWeak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		panic(err)
	}
	ec256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	ec384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		panic(err)
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	return map[string]any{"rsa1": rsa1, "rsa2": rsa2, "rsaWeak": rsaWeak, "ec256": ec256, "ec384": ec384, "ed": ed}
})

func testKey(name string) any { return testKeys()[name] }

// pubJWK renders the public half of a test key as a JWK map.
func pubJWK(t testing.TB, name, kid, alg string) map[string]any {
	t.Helper()
	k, err := jwk.PublicKeyOf(testKey(name))
	if err != nil {
		t.Fatal(err)
	}
	if kid != "" {
		_ = k.Set(jwk.KeyIDKey, kid)
	}
	if alg != "" {
		_ = k.Set(jwk.AlgorithmKey, alg)
	}
	b, err := json.Marshal(k)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func b64JSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b64(b)
}

// signToken writes header and claims as they are and signs them with key
// under signAlg (which may differ from the header's alg, to test that).
func signToken(t testing.TB, header, claims map[string]any, signAlg string, key any) string {
	t.Helper()
	input := b64JSON(t, header) + "." + b64JSON(t, claims)
	return input + "." + b64(signInput(t, input, signAlg, key))
}

func signInput(t testing.TB, input, alg string, key any) []byte {
	t.Helper()
	s, err := jws.NewSigner(jwa.SignatureAlgorithm(alg))
	if err != nil {
		t.Fatal(err)
	}
	sig, err := s.Sign([]byte(input), key)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// clock is a settable time source for the ID-token time checks. A
// bubble clock (inside synctest.Test) is time.Now itself, so that Add moves
// the caches' time too.
type clock struct {
	mu     sync.Mutex
	t      time.Time
	bubble bool
}

func newClock() *clock { return &clock{t: testEpoch} }

// newBubbleClock must be called inside synctest.Test.
func newBubbleClock() *clock { return &clock{bubble: true} }

func (c *clock) Now() time.Time {
	if c.bubble {
		return time.Now()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock; in a bubble it sleeps, which synctest turns into
// an instant jump of the fake time once every goroutine is blocked.
func (c *clock) Add(d time.Duration) {
	if c.bubble {
		time.Sleep(d)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// inProcess is a RoundTripper that serves requests with handlers in the
// same process, chosen by host: no sockets, so it works inside a synctest
// bubble, and a preset's fixed hosts (api.github.com, oauth2.googleapis.com)
// reach a test handler without any override in production code.
type inProcess map[string]http.Handler

func (m inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	h, ok := m[req.URL.Host]
	if !ok {
		return nil, errors.New("inProcess: no handler for host " + req.URL.Host)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	return rec.Result(), nil
}

func (m inProcess) client() *http.Client { return &http.Client{Transport: m} }

// keyOP serves a discovery document and a JWKS we control, and counts
// what it is asked.
type keyOP struct {
	url     string
	handler http.Handler
	srv     *httptest.Server // nil for an in-process keyOP

	mu           sync.Mutex
	keys         []any // JWK maps or raw JSON values
	jwksStatus   int
	discStatus   int
	discEdit     func(map[string]any)
	jwksBody     []byte        // when set, served as is
	jwksBlock    chan struct{} // when set, JWKS answers wait for it to close
	discFetches  atomic.Int32
	jwksFetches  atomic.Int32
	otherFetches atomic.Int32
}

func newKeyOP(t testing.TB, keys ...any) *keyOP {
	t.Helper()
	op := newKeyOPHandler(keys...)
	op.srv = httptest.NewServer(op.handler)
	op.url = op.srv.URL
	t.Cleanup(op.srv.Close)
	return op
}

// newBubbleKeyOP serves in process at https://op.example, for synctest.
func newBubbleKeyOP(keys ...any) *keyOP {
	op := newKeyOPHandler(keys...)
	op.url = "https://op.example"
	return op
}

func newKeyOPHandler(keys ...any) *keyOP {
	op := &keyOP{keys: keys}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		op.discFetches.Add(1)
		op.mu.Lock()
		status, edit := op.discStatus, op.discEdit
		op.mu.Unlock()
		if status != 0 {
			w.WriteHeader(status)
			return
		}
		doc := map[string]any{
			"issuer":                 op.url,
			"authorization_endpoint": op.url + "/authorize",
			"token_endpoint":         op.url + "/token",
			"userinfo_endpoint":      op.url + "/userinfo",
			"jwks_uri":               op.url + "/jwks",
			"end_session_endpoint":   op.url + "/logout?tenant=1",
		}
		if edit != nil {
			edit(doc)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc)
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		op.jwksFetches.Add(1)
		op.mu.Lock()
		status, keys, body, block := op.jwksStatus, op.keys, op.jwksBody, op.jwksBlock
		op.mu.Unlock()
		if block != nil {
			select {
			case <-block:
			case <-r.Context().Done():
				return
			}
		}
		if status != 0 {
			w.WriteHeader(status)
			return
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		if body != nil {
			_, _ = w.Write(body)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": keys})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		op.otherFetches.Add(1)
		http.NotFound(w, r)
	})
	op.handler = mux
	return op
}

func (op *keyOP) setKeys(keys ...any) {
	op.mu.Lock()
	defer op.mu.Unlock()
	op.keys = keys
}

func (op *keyOP) set(f func(op *keyOP)) {
	op.mu.Lock()
	defer op.mu.Unlock()
	f(op)
}

// provider returns a Provider for op with the test clock; edit adjusts
// the configuration first.
func (op *keyOP) provider(t testing.TB, clk *clock, edit func(*Config)) *Provider {
	t.Helper()
	cfg := Config{
		Name:         "test",
		Issuer:       op.url,
		ClientID:     testClientID,
		ClientSecret: testSecret,
		Now:          clk.Now,
		Timeout:      5 * time.Second,
	}
	if op.srv == nil {
		cfg.HTTPClient = inProcess{"op.example": op.handler}.client()
	}
	if edit != nil {
		edit(&cfg)
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// claims returns valid ID-token claims for op at the clock's time.
func (op *keyOP) claims(clk *clock) map[string]any {
	now := clk.Now().Unix()
	return map[string]any{
		"iss":   op.url,
		"sub":   "user-1",
		"aud":   testClientID,
		"exp":   now + 3600,
		"iat":   now,
		"nonce": testNonce,
		"email": "ada@example.com",
	}
}

func wantError(t testing.TB, err error, code ErrorCode, check string) *Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s/%s", code, check)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got %T %v, want *Error %s/%s", err, err, code, check)
	}
	if e.Code != code || e.Check != check {
		t.Fatalf("got %s/%s (%q), want %s/%s", e.Code, e.Check, e.Detail, code, check)
	}
	if e.Fault != FaultProvider && e.Fault != FaultClient {
		t.Fatalf("%s/%s without a fault: %v", code, check, e.Fault)
	}
	return e
}

func newTestServer(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func contextCanceled(t testing.TB) (context.Context, context.CancelFunc) {
	return context.WithCancel(t.Context())
}
