package oidc

import "testing"

// BenchmarkVerifyIDToken measures verification with warm discovery and
// JWKS caches: what every login after the first costs.
func BenchmarkVerifyIDToken(b *testing.B) {
	for _, bc := range []struct{ alg, key, kid string }{
		{"RS256", "rsa1", "k1"},
		{"ES256", "ec256", "e1"},
		{"EdDSA", "ed", "d1"},
	} {
		b.Run(bc.alg, func(b *testing.B) {
			clk := newClock()
			op := newKeyOP(b, pubJWK(b, "rsa1", "k1", "RS256"), pubJWK(b, "ec256", "e1", "ES256"), pubJWK(b, "ed", "d1", "EdDSA"))
			p := op.provider(b, clk, nil)
			tok := signToken(b, map[string]any{"alg": bc.alg, "kid": bc.kid, "typ": "JWT"}, op.claims(clk), bc.alg, testKey(bc.key))
			if _, err := p.VerifyIDToken(b.Context(), tok, VerifyOptions{Nonce: testNonce}); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := p.VerifyIDToken(b.Context(), tok, VerifyOptions{Nonce: testNonce}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParseCompact isolates the segment and header parsing.
func BenchmarkParseCompact(b *testing.B) {
	clk := newClock()
	op := newKeyOP(b)
	tok := signToken(b, map[string]any{"alg": "RS256", "kid": "k1"}, op.claims(clk), "RS256", testKey("rsa1"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseCompact(tok); err != nil {
			b.Fatal(err)
		}
	}
}
