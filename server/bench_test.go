package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/apitoken"
)

// BenchmarkRefresh measures POST /oauth2/refresh end to end through the
// Echo stack. "edgeauth" is a session without a provider refresh token:
// open, mint, seal, answer — edgeauth's own work. "provider" adds the
// refresh grant at the in-process provider over loopback HTTP, with the
// refreshed ID token verified. The same refresh token is posted each time:
// without storage that is as good as the rotated one.
func BenchmarkRefresh(b *testing.B) {
	for _, bc := range []struct {
		name            string
		providerRefresh bool
	}{{"edgeauth", false}, {"provider", true}} {
		b.Run(bc.name, func(b *testing.B) {
			h := newHarness(b)
			if !bc.providerRefresh {
				h.op.SetFaults(noProviderRefresh)
			}
			tr := h.fullLogin()
			if (tr.Provider.RefreshToken != "") != bc.providerRefresh {
				b.Fatalf("provider refresh token %q", tr.Provider.RefreshToken)
			}
			body := mustJSON(map[string]string{"refresh": tr.API.Refresh})
			handler := h.srv.Handler()
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/oauth2/refresh", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d %s", rec.Code, rec.Body)
				}
			}
		})
	}
}

// BenchmarkVerify measures GET /oauth2/verify through the Echo stack: what
// a proxy's forward-auth costs per request it forwards.
func BenchmarkVerify(b *testing.B) {
	h := newHarness(b)
	tok, _, err := h.srv.signer.Mint(apitoken.Claims{Subject: "op|123", Provider: "op", Extra: map[string]any{"email": "ada@example.com", "role": "admin"}})
	if err != nil {
		b.Fatal(err)
	}
	handler := h.srv.Handler()
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, "/oauth2/verify", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d %s", rec.Code, rec.Body)
		}
	}
}
