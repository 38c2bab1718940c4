package apitoken_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/apitoken"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

func TestParseSigningKeys(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwkJSON := func(raw any, set map[string]any) map[string]any {
		k, err := jwk.FromRaw(raw)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(k)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		for n, v := range set {
			m[n] = v
		}
		return m
	}
	setOf := func(keys ...map[string]any) string {
		b, _ := json.Marshal(map[string]any{"keys": keys})
		return string(b)
	}
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p521, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	bare := jwkJSON(ec, nil)
	secretD := bare["d"].(string)

	t.Run("normalised", func(t *testing.T) {
		set, err := apitoken.ParseSigningKeys(setOf(bare))
		if err != nil {
			t.Fatal(err)
		}
		k, _ := set.Key(0)
		tp, _ := k.Thumbprint(crypto.SHA256)
		if k.KeyID() != b64(tp) || k.Algorithm().String() != "ES256" || k.KeyUsage() != "sig" {
			t.Errorf("kid %q alg %v use %q", k.KeyID(), k.Algorithm(), k.KeyUsage())
		}
	})
	t.Run("kept", func(t *testing.T) {
		set, err := apitoken.ParseSigningKeys(setOf(jwkJSON(ec, map[string]any{"kid": "k1", "alg": "ES256"})))
		if err != nil {
			t.Fatal(err)
		}
		if k, _ := set.Key(0); k.KeyID() != "k1" {
			t.Errorf("kid %q, want k1", k.KeyID())
		}
	})

	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{"not JSON", "nope", "not a JWK Set"},
		{"no keys", `{"keys":[]}`, "no keys"},
		{"public key", setOf(jwkJSON(&ec.PublicKey, nil)), "key 1: not a private"},
		{"symmetric key", setOf(map[string]any{"kty": "oct", "k": b64([]byte("0123456789abcdef0123456789abcdef"))}), "key 1: not a private"},
		{"P-521", setOf(jwkJSON(p521, nil)), "P-256 and P-384"},
		{"RSA 1024", setOf(jwkJSON(small, nil)), "2048"},
		{"alg of another family", setOf(jwkJSON(ec, map[string]any{"alg": "RS256"})), "does not fit"},
		{"ES384 on P-256", setOf(jwkJSON(ec, map[string]any{"alg": "ES384"})), "does not fit"},
		{"kid twice", setOf(bare, jwkJSON(ec, nil)), "key 2: kid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := apitoken.ParseSigningKeys(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("ParseSigningKeys = %v, want error containing %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), secretD[:12]) {
				t.Errorf("error %q contains key material", err)
			}
		})
	}
}

func TestGenerateSigningKey(t *testing.T) {
	for _, alg := range []string{"", "ES256", "EdDSA", "RS256"} {
		t.Run(alg, func(t *testing.T) {
			b, err := apitoken.GenerateSigningKey(alg)
			if err != nil {
				t.Fatal(err)
			}
			set, err := apitoken.ParseSigningKeys(string(b))
			if err != nil {
				t.Fatal(err)
			}
			want := alg
			if want == "" {
				want = "ES256"
			}
			if k, _ := set.Key(0); set.Len() != 1 || k.Algorithm().String() != want || k.KeyID() == "" {
				t.Errorf("%d keys, alg %v, kid %q", set.Len(), k.Algorithm(), k.KeyID())
			}
		})
	}
	if _, err := apitoken.GenerateSigningKey("HS256"); err == nil || !strings.Contains(err.Error(), "unsupported") {
		t.Errorf("GenerateSigningKey(HS256) = %v", err)
	}
}
