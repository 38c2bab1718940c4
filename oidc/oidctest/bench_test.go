package oidctest

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// BenchmarkCodeFlow is one login and code redemption, in process; signing
// the ID token dominates.
func BenchmarkCodeFlow(b *testing.B) {
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		b.Run(alg, func(b *testing.B) {
			o := testOptions()
			o.Issuer, o.Alg = "https://op.example", alg
			p, err := New(o)
			if err != nil {
				b.Fatal(err)
			}
			verifier, challenge := newPKCE()
			q := url.Values{"client_id": {testClient}, "redirect_uri": {testRedirect}, "response_type": {"code"},
				"scope": {"openid email profile"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}, "nonce": {"n"}}
			authURL := p.EndpointURL(AuthorizeEndpoint) + "?" + q.Encode()
			b.ReportAllocs()
			for b.Loop() {
				back, err := p.Login(authURL, testEmail)
				if err != nil {
					b.Fatal(err)
				}
				form := codeForm(back.Query().Get("code"), verifier, testRedirect)
				req := httptest.NewRequest(http.MethodPost, p.EndpointURL(TokenEndpoint), strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.SetBasicAuth(url.QueryEscape(testClient), url.QueryEscape(testSecret))
				rec := httptest.NewRecorder()
				p.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%d %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
