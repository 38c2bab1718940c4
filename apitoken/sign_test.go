package apitoken_test

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/apitoken"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

func TestMintVerifyRoundTrip(t *testing.T) {
	for _, alg := range []string{"ES256", "EdDSA", "RS256"} {
		t.Run(alg, func(t *testing.T) {
			clk := &clock{now: t0}
			keys := signingKeys(t, alg)
			s := newSigner(t, clk, keys)
			if s.Algorithm() != alg {
				t.Errorf("Algorithm = %q, want %q", s.Algorithm(), alg)
			}
			authTime := t0.Add(-time.Hour)
			tok, expiresIn, err := s.Mint(apitoken.Claims{
				Subject: "user-1", Provider: "acme", AuthTime: authTime,
				Extra: map[string]any{"roles": []string{"admin"}, "org": "<Acme & Co>"},
			})
			if err != nil {
				t.Fatal(err)
			}
			if expiresIn != 900 {
				t.Errorf("expiresIn = %d, want 900", expiresIn)
			}
			v, err := s.Verifier().Verify(tok)
			if err != nil {
				t.Fatal(err)
			}
			if v.Subject != "user-1" || v.Provider != "acme" || v.ID == "" || v.Confirmation != "" ||
				!v.IssuedAt.Equal(t0) || !v.ExpiresAt.Equal(t0.Add(15*time.Minute)) || !v.AuthTime.Equal(authTime) {
				t.Errorf("Verified = %+v", v)
			}
			if v.Claims["org"] != "<Acme & Co>" || !slices.Equal(v.Claims["roles"].([]any), []any{"admin"}) {
				t.Errorf("extra claims = %v", v.Claims)
			}

			// What a backend with any JWT library sees: jwx's own parser,
			// with the published JWKS, takes it.
			public, err := jwk.Parse(s.JWKS())
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := jwt.Parse([]byte(tok), jwt.WithKeySet(public), jwt.WithValidate(true),
				jwt.WithIssuer(testIssuer), jwt.WithAudience(testAudience), jwt.WithClock(jwt.ClockFunc(clk.Now)),
				jwt.WithRequiredClaim("exp"), jwt.WithRequiredClaim("iat"), jwt.WithRequiredClaim("jti"))
			if err != nil {
				t.Fatalf("jwt.Parse: %v", err)
			}
			if parsed.Subject() != "user-1" || parsed.JwtID() != v.ID {
				t.Errorf("jwt.Parse: sub %q jti %q", parsed.Subject(), parsed.JwtID())
			}
			msg, err := jws.Parse([]byte(tok))
			if err != nil {
				t.Fatal(err)
			}
			h := msg.Signatures()[0].ProtectedHeaders()
			if h.Type() != "at+jwt" || h.Algorithm().String() != alg || h.KeyID() == "" {
				t.Errorf("header typ %q alg %q kid %q", h.Type(), h.Algorithm(), h.KeyID())
			}

			// Each token has its own jti.
			tok2, _, err := s.Mint(apitoken.Claims{Subject: "user-1", Provider: "acme"})
			if err != nil {
				t.Fatal(err)
			}
			v2, err := s.Verifier().Verify(tok2)
			if err != nil {
				t.Fatal(err)
			}
			if v2.ID == v.ID {
				t.Error("two tokens share a jti")
			}
			if _, ok := v2.Claims["auth_time"]; ok {
				t.Error("auth_time minted for a zero AuthTime")
			}
		})
	}
}

func TestMintRegisteredClaimsNeverOverridden(t *testing.T) {
	clk := &clock{now: t0}
	s := newSigner(t, clk, signingKeys(t, "ES256"))
	evil := map[string]any{"org": "acme"}
	for _, name := range []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "typ", "provider", "client_id", "auth_time", "cnf"} {
		if !apitoken.IsRegisteredClaim(name) {
			t.Errorf("IsRegisteredClaim(%q) = false", name)
		}
		evil[name] = "evil"
	}
	if apitoken.IsRegisteredClaim("org") || apitoken.IsRegisteredClaim("roles") {
		t.Error("a webhook claim counts as registered")
	}
	tok, _, err := s.Mint(apitoken.Claims{Subject: "u", Provider: "acme", Extra: evil})
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.Verifier().Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	for name, val := range v.Claims {
		if val == "evil" {
			t.Errorf("claim %s came from Extra", name)
		}
	}
	for _, name := range []string{"nbf", "typ", "client_id", "auth_time", "cnf"} {
		if _, ok := v.Claims[name]; ok {
			t.Errorf("claim %s minted from Extra", name)
		}
	}
	if v.Claims["org"] != "acme" || v.Subject != "u" || v.Claims["iss"] != testIssuer {
		t.Errorf("claims = %v", v.Claims)
	}
	// The payload has each name once: no duplicate for a parser to pick.
	payload, _ := b64dec(strings.Split(tok, ".")[1])
	if n := strings.Count(string(payload), `"sub":`); n != 1 {
		t.Errorf("sub appears %d times in %s", n, payload)
	}
}

func TestMintConfirmation(t *testing.T) {
	clk := &clock{now: t0}
	s := newSigner(t, clk, signingKeys(t, "ES256"))
	const jkt = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
	tok, _, err := s.Mint(apitoken.Claims{Subject: "u", Provider: "acme", Confirmation: jkt})
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.Verifier().Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	cnf, _ := v.Claims["cnf"].(map[string]any)
	if v.Confirmation != jkt || cnf["jkt"] != jkt || len(cnf) != 1 {
		t.Errorf("Confirmation %q, cnf %v", v.Confirmation, v.Claims["cnf"])
	}
}

func TestMintRefuses(t *testing.T) {
	clk := &clock{now: t0}
	s := newSigner(t, clk, signingKeys(t, "ES256"))
	tests := []struct {
		name    string
		claims  apitoken.Claims
		wantErr string
	}{
		{"no subject", apitoken.Claims{Provider: "acme"}, "empty subject"},
		{"unmarshalable claim", apitoken.Claims{Subject: "u", Extra: map[string]any{"f": func() {}}}, `claim "f"`},
		{"too big", apitoken.Claims{Subject: "u", Extra: map[string]any{"blob": strings.Repeat("x", 12<<10)}}, "exceeds"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := s.Mint(tc.claims)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Mint = %v, want error containing %q", err, tc.wantErr)
			}
		})
	}
}

// TestVerifyTokensOfTheFormerSigner: tokens that jwt.Sign made (the server
// before this package) still verify, so a deploy does not log anyone out.
func TestVerifyTokensOfTheFormerSigner(t *testing.T) {
	clk := &clock{now: t0}
	keys := signingKeys(t, "ES256")
	s := newSigner(t, clk, keys)
	k, _ := keys.Key(0)
	tok := jwt.New()
	for name, v := range map[string]any{
		jwt.IssuerKey: testIssuer, jwt.AudienceKey: []string{testAudience}, jwt.SubjectKey: "u",
		jwt.IssuedAtKey: t0, jwt.ExpirationKey: t0.Add(time.Minute), jwt.JwtIDKey: "id1",
		"provider": "acme", "auth_time": t0.Unix(),
	} {
		if err := tok.Set(name, v); err != nil {
			t.Fatal(err)
		}
	}
	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.TypeKey, "at+jwt"); err != nil {
		t.Fatal(err)
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.ES256, k, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.Verifier().Verify(string(signed))
	if err != nil {
		t.Fatal(err)
	}
	if v.Subject != "u" || v.Provider != "acme" || !v.AuthTime.Equal(t0) {
		t.Errorf("Verified = %+v", v)
	}
}

func TestSignerJWKS(t *testing.T) {
	for _, alg := range []string{"ES256", "EdDSA", "RS256"} {
		t.Run(alg, func(t *testing.T) {
			clk := &clock{now: t0}
			// The second key is published, verify-only.
			keys := signingKeys(t, alg, "a", "b")
			s := newSigner(t, clk, keys)
			var doc struct{ Keys []map[string]any }
			if err := json.Unmarshal(s.JWKS(), &doc); err != nil {
				t.Fatal(err)
			}
			if len(doc.Keys) != 2 {
				t.Fatalf("%d keys published, want 2", len(doc.Keys))
			}
			for i, k := range doc.Keys {
				for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
					if _, ok := k[private]; ok {
						t.Errorf("key %d publishes private member %q", i, private)
					}
				}
				want, _ := keys.Key(i)
				if k["kid"] != want.KeyID() || k["alg"] != alg || k["use"] != "sig" {
					t.Errorf("key %d: kid %v alg %v use %v", i, k["kid"], k["alg"], k["use"])
				}
			}
			// A token of the second key (after a rotation) verifies with
			// the first signer's verifier.
			other := newSigner(t, clk, signingKeys(t, alg, "b", "a"))
			tok, _, err := other.Mint(apitoken.Claims{Subject: "u", Provider: "p"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Verifier().Verify(tok); err != nil {
				t.Errorf("token of the published second key: %v", err)
			}
		})
	}
}

func TestNewSignerRefuses(t *testing.T) {
	keys := signingKeys(t, "ES256")
	public, err := jwk.PublicSetOf(keys)
	if err != nil {
		t.Fatal(err)
	}
	cfg := func(f func(*apitoken.SignerConfig)) apitoken.SignerConfig {
		c := apitoken.SignerConfig{Keys: keys, Issuer: testIssuer, Audience: testAudience, TTL: time.Minute}
		f(&c)
		return c
	}
	tests := []struct {
		name    string
		cfg     apitoken.SignerConfig
		wantErr string
	}{
		{"no keys", cfg(func(c *apitoken.SignerConfig) { c.Keys = nil }), "no signing keys"},
		{"empty set", cfg(func(c *apitoken.SignerConfig) { c.Keys = jwk.NewSet() }), "no signing keys"},
		{"public key", cfg(func(c *apitoken.SignerConfig) { c.Keys = public }), "not a private key"},
		{"no issuer", cfg(func(c *apitoken.SignerConfig) { c.Issuer = "" }), "issuer and audience"},
		{"no audience", cfg(func(c *apitoken.SignerConfig) { c.Audience = "" }), "issuer and audience"},
		{"zero ttl", cfg(func(c *apitoken.SignerConfig) { c.TTL = 0 }), "TTL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := apitoken.NewSigner(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("NewSigner = %v, want error containing %q", err, tc.wantErr)
			}
		})
	}
}

func b64dec(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }
