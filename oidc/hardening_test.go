package oidc

// Hardening tests: each probes one way a provider could hurt us.

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// A key the provider withdrew (after a compromise, say) must not stay
// trusted for as long as its JWKS endpoint is unreachable: the last good
// set is served past its age only for a bounded time (maxStale).
func TestStaleJWKSIsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := newBubbleClock()
		op := newBubbleKeyOP(pubJWK(t, "rsa1", "k1", "RS256"))
		p := op.provider(t, clk, nil)
		if err := verifyErr(t, p, rsaToken(t, op, clk, "rsa1", "k1")); err != nil {
			t.Fatal(err)
		}
		// Provider drops k1, but we can no longer reach its JWKS.
		op.set(func(op *keyOP) { op.keys = nil; op.jwksStatus = http.StatusServiceUnavailable })
		clk.Add(30 * 24 * time.Hour)
		if err := verifyErr(t, p, rsaToken(t, op, clk, "rsa1", "k1")); err == nil {
			t.Fatal("a JWKS last fetched 30 days ago still verifies tokens (no maximum staleness)")
		}
	})
}

// Error.Detail reaches clients, so no text the provider chose (its
// token_type, the issuer its discovery document claims) may be in it.
func TestProviderTextStaysOutOfDetail(t *testing.T) {
	const marker = "PROVIDER-CONTROLLED-TEXT"
	t.Run("token_type", func(t *testing.T) {
		srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": marker})
		}))
		p, err := New(Config{Name: "o", Type: TypeOAuth2, ClientID: "c", ClientSecret: "s",
			AuthURL: srv.URL + "/a", TokenURL: srv.URL + "/t", UserinfoURL: srv.URL + "/u"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.Exchange(t.Context(), ExchangeRequest{Code: "x", CodeVerifier: strings.Repeat("v", 43), RedirectURI: "https://app/cb"})
		if err == nil {
			t.Fatal("no error")
		}
		if strings.Contains(err.Error(), marker) {
			t.Fatalf("client-facing error carries provider text: %v", err)
		}
	})
	t.Run("discovery issuer", func(t *testing.T) {
		clk := newClock()
		op := newKeyOP(t)
		op.set(func(op *keyOP) { op.discEdit = func(d map[string]any) { d["issuer"] = marker } })
		p := op.provider(t, clk, nil)
		err := p.Discover(t.Context())
		if err == nil {
			t.Fatal("no error")
		}
		if strings.Contains(err.Error(), marker) {
			t.Fatalf("client-facing error carries provider text: %v", err)
		}
	})
}
