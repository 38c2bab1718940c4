package oidctest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func fuzzProvider(f *testing.F) *Provider {
	o := testOptions()
	o.Issuer = "https://op.example/dev/op"
	p, err := New(o)
	if err != nil {
		f.Fatal(err)
	}
	return p
}

func FuzzParseBasic(f *testing.F) {
	for _, s := range []string{"Basic " + b64("a:b"), "Basic " + b64("a%3A:b+c"), "Basic", "basic  ", "Bearer x", "Basic " + b64("%:%")} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		id, secret, present, ok := parseBasic(h)
		if ok && !present || !ok && (id != "" || secret != "") {
			t.Fatalf("parseBasic(%q) = %q %q %v %v", h, id, secret, present, ok)
		}
	})
}

// FuzzAuthorize: whatever comes in, the endpoint never panics and never
// redirects anywhere but to a registered redirect URI.
func FuzzAuthorize(f *testing.F) {
	p := fuzzProvider(f)
	good := url.Values{"client_id": {testClient}, "redirect_uri": {testRedirect}, "response_type": {"code"},
		"code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}, "state": {"s"}}
	f.Add(good.Encode(), "email=a@b.c&action=login")
	f.Add("client_id=app&redirect_uri=https://evil.example/", "")
	f.Add("%zz&&==", "email=%")
	f.Add(good.Encode()+"&prompt=none", "action=cancel")
	f.Fuzz(func(t *testing.T, query, body string) {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			req := httptest.NewRequest(method, "https://op.example/dev/op/authorize", nil)
			req.URL.RawQuery = query
			if method == http.MethodPost {
				req = httptest.NewRequest(method, "https://op.example/dev/op/authorize", strings.NewReader(query+"&"+body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			rec := httptest.NewRecorder()
			p.ServeHTTP(rec, req)
			if loc := rec.Header().Get("Location"); loc != "" {
				if !strings.HasPrefix(loc, "https://app.example/callback?") && !strings.HasPrefix(loc, "https://other.example/cb?") &&
					!strings.HasPrefix(loc, "http://127.0.0.1:7777/cb?") {
					t.Fatalf("%s redirected to %q", method, loc)
				}
			}
		}
	})
}

// FuzzToken: any form and Authorization header give a JSON answer with an
// OAuth error (no code is valid here), never a panic.
func FuzzToken(f *testing.F) {
	p := fuzzProvider(f)
	f.Add("grant_type=authorization_code&code=x&code_verifier=y&redirect_uri=z", "Basic "+b64("app:x"))
	f.Add("grant_type=refresh_token&refresh_token=x&client_id=native", "")
	f.Add("client_id=app&client_secret=s", "Basic "+b64("app:s"))
	f.Fuzz(func(t *testing.T, body, auth string) {
		req := httptest.NewRequest(http.MethodPost, "https://op.example/dev/op/token", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", auth)
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, req)
		var e struct{ Error string }
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == "" || rec.Code == http.StatusOK {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
	})
}
