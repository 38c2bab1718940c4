package apitoken_test

import (
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/apitoken"
)

// benchClaims is a typical login: a webhook that adds two claims.
var benchClaims = apitoken.Claims{
	Subject: "user_2x4kP9", Provider: "google", AuthTime: t0,
	Extra: map[string]any{"roles": []string{"member"}, "org": "acme"},
}

func BenchmarkMint(b *testing.B) {
	for _, alg := range []string{"ES256", "EdDSA", "RS256"} {
		b.Run(alg, func(b *testing.B) {
			s := newSigner(b, &clock{now: t0}, signingKeys(b, alg))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := s.Mint(benchClaims); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	for _, alg := range []string{"ES256", "EdDSA", "RS256"} {
		b.Run(alg, func(b *testing.B) {
			s := newSigner(b, &clock{now: t0}, signingKeys(b, alg))
			tok, _, err := s.Mint(benchClaims)
			if err != nil {
				b.Fatal(err)
			}
			v := s.Verifier()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchSession carries a provider refresh token of a common size.
var benchSession = apitoken.Session{
	Subject: "user_2x4kP9", Provider: "google", ProviderSubject: "110169484474386276334",
	Claims:       map[string]any{"roles": []string{"member"}, "org": "acme"},
	SessionStart: t0, AuthTime: t0, ProviderRefresh: "1//0g" + strings.Repeat("x", 98),
}

func BenchmarkRefreshSeal(b *testing.B) {
	c := newRefreshCodec(b, &clock{now: t0}, stateKeys(b, 2))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Seal(benchSession, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRefreshOpen(b *testing.B) {
	c := newRefreshCodec(b, &clock{now: t0}, stateKeys(b, 2))
	tok, err := c.Seal(benchSession, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Open(tok); err != nil {
			b.Fatal(err)
		}
	}
}
