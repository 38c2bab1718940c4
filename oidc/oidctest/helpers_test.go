package oidctest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const (
	testClient   = "app"
	testSecret   = "s3cret with space+plus:colon%" // exercises the form-encoding of RFC 6749 §2.3.1
	testRedirect = "https://app.example/callback?from=op"
	publicClient = "native"
	publicRedir  = "http://127.0.0.1:7777/cb"
	testEmail    = "Jane.Doe+test@Example.com"
)

func testOptions() Options {
	return Options{Clients: []Client{
		{ID: testClient, Secret: testSecret, RedirectURIs: []string{testRedirect}, Name: "Example App",
			PostLogoutRedirectURIs: []string{"https://app.example/bye"}},
		{ID: "other", Secret: "other-secret", RedirectURIs: []string{"https://other.example/cb"}},
		{ID: publicClient, RedirectURIs: []string{publicRedir}},
	}}
}

func newTestServer(t testing.TB, mutate ...func(*Options)) *Server {
	t.Helper()
	opts := testOptions()
	for _, m := range mutate {
		m(&opts)
	}
	op := NewServer(opts)
	t.Cleanup(op.Close)
	return op
}

func newPKCE() (verifier, challenge string) {
	verifier = base64.RawURLEncoding.EncodeToString([]byte(rand.Text() + rand.Text())[:40])
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// authURL builds an authorization URL for testClient; extra overrides (an
// empty value deletes).
func authURL(op *Server, challenge string, extra url.Values) string {
	q := url.Values{
		"client_id":             {testClient},
		"redirect_uri":          {testRedirect},
		"response_type":         {"code"},
		"scope":                 {"openid email profile"},
		"state":                 {"st-123"},
		"nonce":                 {"n-456"},
		"code_challenge":        {challenge},
		"code_challenge_method": {"S256"},
	}
	for k, v := range extra {
		if len(v) == 0 || v[0] == "" {
			q.Del(k)
		} else {
			q[k] = v
		}
	}
	return op.EndpointURL(AuthorizeEndpoint) + "?" + q.Encode()
}

// login signs testEmail in and returns the code and its verifier.
func login(t testing.TB, op *Server) (code, verifier string) {
	t.Helper()
	verifier, challenge := newPKCE()
	back, err := op.Login(authURL(op, challenge, nil), testEmail)
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	code = back.Query().Get("code")
	if code == "" {
		t.Fatalf("Login redirect without code: %s", back)
	}
	return code, verifier
}

type tokenAnswer struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

func (a tokenAnswer) str(k string) string { s, _ := a.body[k].(string); return s }

// postForm posts form to an endpoint, authenticating as client with style
// "basic", "post", "none" or "" (no credentials).
func postForm(t testing.TB, op *Server, e Endpoint, form url.Values, style, client, secret string) tokenAnswer {
	t.Helper()
	form = cloneValues(form)
	switch style {
	case "post":
		form.Set("client_id", client)
		form.Set("client_secret", secret)
	case "none":
		form.Set("client_id", client)
	}
	req, err := http.NewRequest(http.MethodPost, op.EndpointURL(e), strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if style == "basic" {
		req.SetBasicAuth(url.QueryEscape(client), url.QueryEscape(secret))
	}
	return do(t, op, req)
}

func do(t testing.TB, op *Server, req *http.Request) tokenAnswer {
	t.Helper()
	c := op.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := tokenAnswer{status: resp.StatusCode, header: resp.Header, raw: raw}
	_ = json.Unmarshal(raw, &a.body)
	return a
}

func exchange(t testing.TB, op *Server, code, verifier string) tokenAnswer {
	t.Helper()
	return postForm(t, op, TokenEndpoint, url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"code_verifier": {verifier},
		"redirect_uri":  {testRedirect},
	}, "basic", testClient, testSecret)
}

// tokensFor runs a whole login and exchange under faults f.
func tokensFor(t testing.TB, op *Server, f Faults) tokenAnswer {
	t.Helper()
	op.SetFaults(Faults{})
	code, verifier := login(t, op)
	op.SetFaults(f)
	defer op.SetFaults(Faults{})
	return exchange(t, op, code, verifier)
}

func get(t testing.TB, op *Server, u string, h http.Header) tokenAnswer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	return do(t, op, req)
}

// splitJWT decodes a compact JWS without verifying it.
func splitJWT(t testing.TB, raw string) (header, claims map[string]any, sig []byte) {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("JWT has %d parts", len(parts))
	}
	dec := func(s string, v any) {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("segment: %v", err)
		}
		if v != nil {
			if err := json.Unmarshal(b, v); err != nil {
				t.Fatalf("segment JSON: %v", err)
			}
		}
	}
	dec(parts[0], &header)
	dec(parts[1], &claims)
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatalf("signature: %v", err)
	}
	return header, claims, sig
}

func asAuthError(err error, target **AuthError) bool { return errors.As(err, target) }

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
