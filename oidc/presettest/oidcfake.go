package presettest

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/edgeauth/edgeauth/oidc/oidctest"
)

// OIDCFake is an OpenID Provider (an [oidctest.Provider]) dressed as a
// hosted one: it answers under that provider's issuer and endpoint paths,
// publishes only the endpoints the provider documents, and shapes claims
// and answers as the provider does. Requests reach it through
// [OIDCFake.Client], which routes the provider's hosts to a local
// listener, so a preset's real URLs are used unchanged.
//
// Codes, tokens, PKCE, client authentication, refresh, revocation and
// introspection behave as oidctest documents. Faults set with
// [OIDCFake.SetFaults] apply on top of the provider's shape.
type OIDCFake struct {
	*oidctest.Provider
	srv      *httptest.Server
	spec     oidcFakeSpec
	basePath string                       // the issuer's path, no trailing slash
	routes   map[string]oidctest.Endpoint // host+path → oidctest endpoint
	hosts    []string

	mu      sync.Mutex
	aliases map[string]string // JWT access token → the opaque one oidctest knows
}

// oidcFakeSpec is what a provider's fake says about itself.
type oidcFakeSpec struct {
	issuer   string
	client   oidctest.Client
	issParam bool
	// endpoints are the URLs the provider publishes; an endpoint missing
	// here is left out of discovery and answers 404.
	endpoints map[oidctest.Endpoint]string
	// subject turns oidctest's subject (32 hex digits) into the
	// provider's form, the same way in ID tokens, userinfo and
	// introspection; nil keeps it.
	subject func(sub string) string
	// accessToken shapes the claims of a JWT access token (see
	// OIDCFake.JWTAccessToken); nil means the provider's are opaque.
	accessToken func(claims map[string]any)
	// Shape hooks, run before the test's faults of the same kind.
	discovery     func(doc map[string]any)
	idToken       func(claims map[string]any)
	token         func(resp map[string]any)
	userinfo      func(claims map[string]any)
	introspection func(resp map[string]any)
	// before may answer a request itself (true) before the provider sees
	// it: LinkedIn refusing client_secret_basic.
	before func(e oidctest.Endpoint, w http.ResponseWriter, r *http.Request) bool
	// answer rewrites an answer after the provider made it: Slack's
	// HTTP 200 with {"ok": false}.
	answer func(e oidctest.Endpoint, status int, body []byte) (int, []byte)
}

// discoveryKeys are the discovery metadata names of the endpoints.
var discoveryKeys = map[oidctest.Endpoint]string{
	oidctest.AuthorizeEndpoint:     "authorization_endpoint",
	oidctest.TokenEndpoint:         "token_endpoint",
	oidctest.UserinfoEndpoint:      "userinfo_endpoint",
	oidctest.JWKSEndpoint:          "jwks_uri",
	oidctest.RevocationEndpoint:    "revocation_endpoint",
	oidctest.IntrospectionEndpoint: "introspection_endpoint",
	oidctest.EndSessionEndpoint:    "end_session_endpoint",
}

func newOIDCFake(t testing.TB, spec oidcFakeSpec) *OIDCFake {
	t.Helper()
	issParam := spec.issParam
	op, err := oidctest.New(oidctest.Options{Issuer: spec.issuer, Clients: []oidctest.Client{spec.client}, IssParameter: &issParam})
	if err != nil {
		t.Fatalf("presettest: %v", err)
	}
	iu, err := url.Parse(spec.issuer)
	if err != nil {
		t.Fatalf("presettest: issuer: %v", err)
	}
	f := &OIDCFake{
		Provider: op,
		spec:     spec,
		basePath: strings.TrimSuffix(iu.Path, "/"),
		routes:   map[string]oidctest.Endpoint{iu.Host + strings.TrimSuffix(iu.Path, "/") + string(oidctest.DiscoveryEndpoint): oidctest.DiscoveryEndpoint},
		hosts:    []string{iu.Host},
		aliases:  map[string]string{},
	}
	for e, raw := range spec.endpoints {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("presettest: endpoint %s: %v", raw, err)
		}
		f.routes[u.Host+u.Path] = e
		if !slices.Contains(f.hosts, u.Host) {
			f.hosts = append(f.hosts, u.Host)
		}
	}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	f.SetFaults(oidctest.Faults{})
	return f
}

// Issuer returns the provider's issuer, as its discovery document says it.
func (f *OIDCFake) Issuer() string { return f.spec.issuer }

// EndpointURL returns the provider's own URL for e, "" when it has none.
func (f *OIDCFake) EndpointURL(e oidctest.Endpoint) string { return f.spec.endpoints[e] }

// Client returns an HTTP client whose requests to the provider's hosts
// reach the fake; any other host is an error, never the network.
func (f *OIDCFake) Client() *http.Client {
	return &http.Client{
		Transport:     oidcFakeTransport{target: f.srv.URL, hosts: f.hosts, base: f.srv.Client().Transport},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Login signs email in to an authorization URL built for the provider's
// own authorization endpoint, as [oidctest.Provider.Login] does.
func (f *OIDCFake) Login(authURL, email string) (*url.URL, error) {
	u, err := url.Parse(authURL)
	if err != nil {
		return nil, errors.New("presettest: login: malformed authorization URL")
	}
	if got, want := u.Scheme+"://"+u.Host+u.EscapedPath(), f.spec.endpoints[oidctest.AuthorizeEndpoint]; got != want {
		return nil, fmt.Errorf("presettest: login: %q is not the authorization endpoint %q", got, want)
	}
	return f.Provider.Login(f.Provider.EndpointURL(oidctest.AuthorizeEndpoint)+"?"+u.RawQuery, email)
}

// SetFaults makes later answers misbehave as faults says, on top of the
// provider's shape: a hook of the test runs after the provider's own.
func (f *OIDCFake) SetFaults(faults oidctest.Faults) {
	faults.DiscoveryDocument = chainHooks(f.shapeDiscovery, faults.DiscoveryDocument)
	faults.IDTokenClaims = chainHooks(f.shapeSubject, chainHooks(f.spec.idToken, faults.IDTokenClaims))
	faults.TokenResponse = chainHooks(f.spec.token, faults.TokenResponse)
	faults.UserinfoClaims = chainHooks(f.shapeSubject, chainHooks(f.spec.userinfo, faults.UserinfoClaims))
	faults.IntrospectionResponse = chainHooks(f.shapeSubject, chainHooks(f.spec.introspection, faults.IntrospectionResponse))
	f.Provider.SetFaults(faults)
}

func chainHooks(first, then func(map[string]any)) func(map[string]any) {
	return func(m map[string]any) {
		if first != nil {
			first(m)
		}
		if then != nil {
			then(m)
		}
	}
}

// shapeSubject writes sub in the provider's form.
func (f *OIDCFake) shapeSubject(m map[string]any) {
	if sub, ok := m["sub"].(string); ok && f.spec.subject != nil {
		m["sub"] = f.spec.subject(sub)
	}
}

// Subject returns the subject the fake gives email, in the provider's form.
func (f *OIDCFake) Subject(email string) string {
	sub := oidctest.Subject(email)
	if f.spec.subject != nil {
		sub = f.spec.subject(sub)
	}
	return sub
}

// shapeDiscovery publishes the provider's own endpoint URLs and nothing
// it does not offer.
func (f *OIDCFake) shapeDiscovery(doc map[string]any) {
	for e, key := range discoveryKeys {
		if u := f.spec.endpoints[e]; u != "" {
			doc[key] = u
			continue
		}
		delete(doc, key)
		switch e {
		case oidctest.RevocationEndpoint:
			delete(doc, "revocation_endpoint_auth_methods_supported")
		case oidctest.IntrospectionEndpoint:
			delete(doc, "introspection_endpoint_auth_methods_supported")
		}
	}
	if f.spec.discovery != nil {
		f.spec.discovery(doc)
	}
}

// ServeHTTP maps the provider's paths onto the oidctest endpoints.
func (f *OIDCFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e, ok := f.routes[r.Host+r.URL.Path]
	if !ok {
		writeFakeJSON(w, http.StatusNotFound, map[string]any{"error": "not_found"})
		return
	}
	if !f.unalias(w, r) {
		return
	}
	if f.spec.before != nil && f.spec.before(e, w, r) {
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = f.basePath + string(e)
	r2.URL.RawPath = ""
	if f.spec.answer == nil {
		f.Provider.ServeHTTP(w, r2)
		return
	}
	rec := httptest.NewRecorder()
	f.Provider.ServeHTTP(rec, r2)
	status, body := f.spec.answer(e, rec.Code, rec.Body.Bytes())
	for k, vs := range rec.Header() {
		w.Header()[k] = vs
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeFakeJSON writes v as an uncacheable JSON answer.
func writeFakeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// oidcFakeTransport sends requests for hosts to target, keeping their
// path, query and Host.
type oidcFakeTransport struct {
	target string
	hosts  []string
	base   http.RoundTripper
}

func (t oidcFakeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !slices.Contains(t.hosts, req.URL.Host) {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("presettest: %s is not a host of this fake", req.URL.Host)
	}
	target, err := url.Parse(t.target)
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	r.URL.Scheme, r.URL.Host = target.Scheme, target.Host
	r.Host = req.URL.Host
	return t.base.RoundTrip(r)
}

// JWTAccessToken returns opaque, an access token the fake issued for
// email, as the JWT the provider itself would issue: its claims shaped
// as the provider documents them (typ, aud, client id, scopes), signed
// by a key of the fake. The userinfo, introspection and revocation
// endpoints take it for the opaque token. It fails for a provider whose
// access tokens are opaque.
func (f *OIDCFake) JWTAccessToken(opaque, email string) (string, error) {
	if f.spec.accessToken == nil {
		return "", errors.New("presettest: this provider's access tokens are opaque")
	}
	now := time.Now()
	claims := map[string]any{
		"iss": f.spec.issuer, "sub": f.Subject(email), "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"jti": rand.Text(), "scope": "openid email profile",
	}
	f.spec.accessToken(claims)
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("presettest: access token claims: %w", err)
	}
	hdr := jws.NewHeaders()
	_ = hdr.Set(jws.KeyIDKey, "fake-access-token-key")
	_ = hdr.Set(jws.TypeKey, "JWT")
	key, err := accessTokenKey()
	if err != nil {
		return "", fmt.Errorf("presettest: access token key: %w", err)
	}
	tok, err := jws.Sign(payload, jws.WithKey(jwa.RS256, key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		return "", fmt.Errorf("presettest: sign access token: %w", err)
	}
	f.mu.Lock()
	f.aliases[string(tok)] = opaque
	f.mu.Unlock()
	return string(tok), nil
}

// accessTokenKey signs the fakes' JWT access tokens. It is in no JWKS:
// a relying party has no business verifying them as ID tokens.
var accessTokenKey = sync.OnceValues(func() (*rsa.PrivateKey, error) {
	return rsa.GenerateKey(rand.Reader, 2048)
})

// unalias swaps a JWT access token in the Authorization header or the
// form's token for the opaque one it stands for; false when it answered
// the request itself (an unreadable form).
func (f *OIDCFake) unalias(w http.ResponseWriter, r *http.Request) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.aliases) == 0 {
		return true
	}
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		if opaque, ok := f.aliases[tok]; ok {
			r.Header.Set("Authorization", "Bearer "+opaque)
		}
	}
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return true
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		writeFakeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_request"})
		return false
	}
	if form, err := url.ParseQuery(string(body)); err == nil {
		if opaque, ok := f.aliases[form.Get("token")]; ok {
			form.Set("token", opaque)
			body = []byte(form.Encode())
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	return true
}
