package apitoken_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/apitoken"
	"github.com/edgeauth/edgeauth/statecodec"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

func TestVerifyRefuses(t *testing.T) {
	clk := &clock{now: t0}
	keys := signingKeys(t, "ES256")
	s := newSigner(t, clk, keys)
	v := s.Verifier()
	priv, kid := privateKey(t, keys)
	otherPriv, _ := privateKey(t, signingKeys(t, "ES256", "other"))

	good, _, err := s.Mint(apitoken.Claims{Subject: "u", Provider: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(good); err != nil {
		t.Fatal(err)
	}
	hdr := func(edit func(map[string]any)) map[string]any {
		h := map[string]any{"alg": "ES256", "kid": kid, "typ": "at+jwt"}
		if edit != nil {
			edit(h)
		}
		return h
	}
	claims := func(edit func(map[string]any)) map[string]any {
		c := map[string]any{
			"iss": testIssuer, "aud": testAudience, "sub": "u", "jti": "id",
			"iat": t0.Unix(), "exp": t0.Add(time.Minute).Unix(), "provider": "acme",
		}
		if edit != nil {
			edit(c)
		}
		return c
	}
	signed := func(h, c map[string]any) string { return forge(t, h, c, jwa.ES256, priv) }
	// The forgery helper itself makes acceptable tokens.
	if _, err := v.Verify(signed(hdr(nil), claims(nil))); err != nil {
		t.Fatalf("baseline forged token: %v", err)
	}

	// HS256 keyed with the public key, as PEM: the classic alg confusion.
	pubDER, err := x509.MarshalPKIXPublicKey(&priv.(*ecdsa.PrivateKey).PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})

	codecKeys := stateKeys(t, 1)
	state, err := statecodec.New(codecKeys)
	if err != nil {
		t.Fatal(err)
	}
	stateTok, err := state.Seal("s", map[string]string{"n": "x"}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := apitoken.NewRefreshCodec(codecKeys, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	refreshTok, err := rc.Seal(apitoken.Session{Subject: "u", Provider: "acme", SessionStart: t0}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	// A middle character: changing the last one may only touch padding bits.
	sig := []byte(parts[2])
	sig[10] = map[bool]byte{true: 'B', false: 'A'}[sig[10] == 'A']
	badSig := parts[0] + "." + parts[1] + "." + string(sig)

	tests := []struct {
		name    string
		token   string
		want    error
		wantMsg string
	}{
		{"bad signature", badSig, apitoken.ErrInvalid, "bad signature"},
		{"other key, same kid", forge(t, hdr(nil), claims(nil), jwa.ES256, otherPriv), apitoken.ErrInvalid, "bad signature"},
		{"signature of another token", parts[0] + "." + strings.Split(signed(hdr(nil), claims(nil)), ".")[1] + "." + parts[2], apitoken.ErrInvalid, "bad signature"},
		{"alg none, no signature", b64([]byte(`{"alg":"none","kid":"`+kid+`","typ":"at+jwt"}`)) + "." + parts[1] + ".", apitoken.ErrInvalid, "compact"},
		{"alg none, some signature", b64([]byte(`{"alg":"none","kid":"`+kid+`","typ":"at+jwt"}`)) + "." + parts[1] + ".AAAA", apitoken.ErrInvalid, "alg"},
		{"HS256 keyed with the public key", forge(t, hdr(func(h map[string]any) { h["alg"] = "HS256" }), claims(nil), jwa.HS256, pubPEM), apitoken.ErrInvalid, "alg"},
		{"HS256 keyed with the public DER", forge(t, hdr(func(h map[string]any) { h["alg"] = "HS256" }), claims(nil), jwa.HS256, pubDER), apitoken.ErrInvalid, "alg"},
		{"ES384 header on ES256 key", signed(hdr(func(h map[string]any) { h["alg"] = "ES384" }), claims(nil)), apitoken.ErrInvalid, "alg"},
		{"typ missing", signed(hdr(func(h map[string]any) { delete(h, "typ") }), claims(nil)), apitoken.ErrInvalid, "typ"},
		{"typ JWT", signed(hdr(func(h map[string]any) { h["typ"] = "JWT" }), claims(nil)), apitoken.ErrInvalid, "typ"},
		{"typ logout", signed(hdr(func(h map[string]any) { h["typ"] = "logout+jwt" }), claims(nil)), apitoken.ErrInvalid, "typ"},
		{"typ not a string", signed(hdr(func(h map[string]any) { h["typ"] = 1 }), claims(nil)), apitoken.ErrInvalid, "typ"},
		{"kid unknown", signed(hdr(func(h map[string]any) { h["kid"] = "nope" }), claims(nil)), apitoken.ErrInvalid, "kid"},
		{"kid missing", signed(hdr(func(h map[string]any) { delete(h, "kid") }), claims(nil)), apitoken.ErrInvalid, "header"},
		{"crit", signed(hdr(func(h map[string]any) { h["crit"] = []string{"exp"}; h["exp"] = 1 }), claims(nil)), apitoken.ErrInvalid, "header"},
		{"jwk in header", signed(hdr(func(h map[string]any) { h["jwk"] = map[string]any{"kty": "EC"} }), claims(nil)), apitoken.ErrInvalid, "header"},
		{"duplicate alg", b64([]byte(`{"alg":"ES256","alg":"ES256","kid":"`+kid+`","typ":"at+jwt"}`)) + "." + parts[1] + "." + parts[2], apitoken.ErrInvalid, "twice"},
		{"header trailing data", b64([]byte(`{"alg":"ES256","kid":"`+kid+`","typ":"at+jwt"}{}`)) + "." + parts[1] + "." + parts[2], apitoken.ErrInvalid, "header"},
		{"wrong iss", signed(hdr(nil), claims(func(c map[string]any) { c["iss"] = testIssuer + "/" })), apitoken.ErrInvalid, "iss"},
		{"iss missing", signed(hdr(nil), claims(func(c map[string]any) { delete(c, "iss") })), apitoken.ErrInvalid, "iss"},
		{"aud missing", signed(hdr(nil), claims(func(c map[string]any) { delete(c, "aud") })), apitoken.ErrInvalid, "aud"},
		{"aud other", signed(hdr(nil), claims(func(c map[string]any) { c["aud"] = "https://other.example" })), apitoken.ErrInvalid, "aud"},
		{"aud list without ours", signed(hdr(nil), claims(func(c map[string]any) { c["aud"] = []string{"a", "b"} })), apitoken.ErrInvalid, "aud"},
		{"sub missing", signed(hdr(nil), claims(func(c map[string]any) { delete(c, "sub") })), apitoken.ErrInvalid, "sub"},
		{"sub empty", signed(hdr(nil), claims(func(c map[string]any) { c["sub"] = "" })), apitoken.ErrInvalid, "sub"},
		{"jti missing", signed(hdr(nil), claims(func(c map[string]any) { delete(c, "jti") })), apitoken.ErrInvalid, "jti"},
		{"provider not a string", signed(hdr(nil), claims(func(c map[string]any) { c["provider"] = 1 })), apitoken.ErrInvalid, "provider"},
		{"exp past", signed(hdr(nil), claims(func(c map[string]any) { c["exp"] = t0.Add(-time.Minute).Unix() })), apitoken.ErrExpired, "expired"},
		{"exp just past the leeway", signed(hdr(nil), claims(func(c map[string]any) { c["exp"] = t0.Add(-apitoken.Leeway).Unix() })), apitoken.ErrExpired, "expired"},
		{"exp missing", signed(hdr(nil), claims(func(c map[string]any) { delete(c, "exp") })), apitoken.ErrInvalid, "exp"},
		{"exp a string", signed(hdr(nil), claims(func(c map[string]any) { c["exp"] = "soon" })), apitoken.ErrInvalid, "exp"},
		{"exp absurd", signed(hdr(nil), claims(func(c map[string]any) { c["exp"] = 1e300 })), apitoken.ErrInvalid, "exp"},
		{"iat missing", signed(hdr(nil), claims(func(c map[string]any) { delete(c, "iat") })), apitoken.ErrInvalid, "iat"},
		{"iat future", signed(hdr(nil), claims(func(c map[string]any) { c["iat"] = t0.Add(time.Hour).Unix() })), apitoken.ErrInvalid, "iat"},
		{"nbf future", signed(hdr(nil), claims(func(c map[string]any) { c["nbf"] = t0.Add(time.Hour).Unix() })), apitoken.ErrInvalid, "not valid before"},
		{"expired and wrong iss", signed(hdr(nil), claims(func(c map[string]any) {
			c["iss"] = "x"
			c["exp"] = t0.Add(-time.Hour).Unix()
		})), apitoken.ErrInvalid, "iss"},
		{"cnf without jkt", signed(hdr(nil), claims(func(c map[string]any) { c["cnf"] = map[string]any{"x5t#S256": "abc"} })), apitoken.ErrInvalid, "cnf"},
		{"payload an array", forge(t, hdr(nil), nil, jwa.ES256, priv), apitoken.ErrInvalid, "payload"},
		{"a refresh token", refreshTok, apitoken.ErrInvalid, "compact"},
		{"a state", stateTok, apitoken.ErrInvalid, "compact"},
		{"garbage", "not a token", apitoken.ErrInvalid, "compact"},
		{"empty", "", apitoken.ErrInvalid, "compact"},
		{"two segments", parts[0] + "." + parts[1], apitoken.ErrInvalid, "compact"},
		{"padding", good + "=", apitoken.ErrInvalid, "compact"},
		{"line break", parts[0] + ".\n" + parts[1] + "." + parts[2], apitoken.ErrInvalid, "compact"},
		{"JSON serialization", `{"payload":"` + parts[1] + `","protected":"` + parts[0] + `","signature":"` + parts[2] + `"}`, apitoken.ErrInvalid, "compact"},
		{"oversize", good + strings.Repeat("A", apitoken.MaxTokenLen), apitoken.ErrInvalid, "longer than"},
		{"exactly 16 KiB", strings.Repeat("A", 16<<10), apitoken.ErrInvalid, "longer than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := v.Verify(tc.token)
			if err == nil {
				t.Fatalf("Verify accepted it: %+v", got)
			}
			other := apitoken.ErrExpired
			if tc.want == apitoken.ErrExpired {
				other = apitoken.ErrInvalid
			}
			if !errors.Is(err, tc.want) || errors.Is(err, other) {
				t.Errorf("Verify = %v, want it to wrap only %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("Verify = %v, want it to say %q", err, tc.wantMsg)
			}
			for _, seg := range strings.Split(tc.token, ".") {
				if len(seg) >= 16 && strings.Contains(err.Error(), seg[:16]) {
					t.Errorf("error %q echoes the token", err)
				}
			}
		})
	}
}

func TestVerifyAccepts(t *testing.T) {
	clk := &clock{now: t0}
	keys := signingKeys(t, "ES256")
	v := newSigner(t, clk, keys).Verifier()
	priv, kid := privateKey(t, keys)
	base := map[string]any{"iss": testIssuer, "aud": testAudience, "sub": "u", "jti": "id", "iat": t0.Unix(), "exp": t0.Add(time.Minute).Unix()}
	with := func(k string, val any) map[string]any {
		c := map[string]any{}
		for n, x := range base {
			c[n] = x
		}
		c[k] = val
		return c
	}
	tests := []struct {
		name   string
		header map[string]any
		claims map[string]any
	}{
		{"aud list holding ours", nil, with("aud", []string{"other", testAudience})},
		{"typ application/at+jwt", map[string]any{"typ": "application/at+jwt"}, base},
		{"typ upper case", map[string]any{"typ": "AT+JWT"}, base},
		{"exp within the leeway", nil, with("exp", t0.Add(-apitoken.Leeway+time.Second).Unix())},
		{"iat within the leeway", nil, with("iat", t0.Add(apitoken.Leeway).Unix())},
		{"nbf passed", nil, with("nbf", t0.Unix())},
		{"no provider", nil, base},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]any{"alg": "ES256", "kid": kid, "typ": "at+jwt"}
			for k, x := range tc.header {
				h[k] = x
			}
			if _, err := v.Verify(forge(t, h, tc.claims, jwa.ES256, priv)); err != nil {
				t.Fatalf("Verify = %v", err)
			}
		})
	}
}

// TestVerifierFromPublishedJWKS is a Go backend: it knows only the JWKS
// document, issuer and audience.
func TestVerifierFromPublishedJWKS(t *testing.T) {
	for _, alg := range []string{"ES256", "EdDSA", "RS256"} {
		t.Run(alg, func(t *testing.T) {
			clk := &clock{now: t0}
			s := newSigner(t, clk, signingKeys(t, alg, "a", "b"))
			set, err := jwk.Parse(s.JWKS())
			if err != nil {
				t.Fatal(err)
			}
			v, err := apitoken.NewVerifier(set, testIssuer, testAudience, clk.Now)
			if err != nil {
				t.Fatal(err)
			}
			tok, _, err := s.Mint(apitoken.Claims{Subject: "u", Provider: "acme"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.Verify(tok); err != nil {
				t.Fatal(err)
			}
			// The same keys, stripped of kid and alg: kid is the thumbprint,
			// alg the one the type implies, as ParseSigningKeys names them.
			bare := jwk.NewSet()
			for i := range set.Len() {
				k, _ := set.Key(i)
				c, err := k.Clone()
				if err != nil {
					t.Fatal(err)
				}
				_ = c.Remove(jwk.KeyIDKey)
				_ = c.Remove(jwk.AlgorithmKey)
				_ = bare.AddKey(c)
			}
			v, err = apitoken.NewVerifier(bare, testIssuer, testAudience, clk.Now)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.Verify(tok); err != nil {
				t.Errorf("keys without kid and alg: %v", err)
			}
			clk.now = t0.Add(time.Hour)
			if _, err := v.Verify(tok); !errors.Is(err, apitoken.ErrExpired) {
				t.Errorf("an hour later: %v, want ErrExpired", err)
			}
		})
	}
}

func TestNewVerifierRefuses(t *testing.T) {
	sym, err := jwk.FromRaw([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := jwk.FromRaw(&ecKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	_ = enc.Set(jwk.KeyUsageKey, "enc")
	mismatch, err := jwk.FromRaw(&ecKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	_ = mismatch.Set(jwk.AlgorithmKey, jwa.RS256)
	p521, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p521Key, _ := jwk.FromRaw(&p521.PublicKey)
	one := func(k jwk.Key) jwk.Set { s := jwk.NewSet(); _ = s.AddKey(k); return s }
	twice := jwk.NewSet()
	for range 2 {
		k, _ := jwk.FromRaw(&ecKey.PublicKey)
		_ = k.Set(jwk.KeyIDKey, "same")
		_ = twice.AddKey(k)
	}
	tests := []struct {
		name         string
		keys         jwk.Set
		iss, aud     string
		wantErrPiece string
	}{
		{"no keys", jwk.NewSet(), testIssuer, testAudience, "no keys"},
		{"nil", nil, testIssuer, testAudience, "no keys"},
		{"symmetric key", one(sym), testIssuer, testAudience, "not an EC, Ed25519 or RSA key"},
		{"encryption key", one(enc), testIssuer, testAudience, "use"},
		{"alg of another family", one(mismatch), testIssuer, testAudience, "does not fit"},
		{"P-521", one(p521Key), testIssuer, testAudience, "P-256 and P-384"},
		{"kid twice", twice, testIssuer, testAudience, "twice"},
		{"no issuer", one(enc), "", testAudience, "issuer and audience"},
		{"no audience", one(enc), testIssuer, "", "issuer and audience"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := apitoken.NewVerifier(tc.keys, tc.iss, tc.aud, nil)
			if err == nil || !strings.Contains(err.Error(), tc.wantErrPiece) {
				t.Fatalf("NewVerifier = %v, want error containing %q", err, tc.wantErrPiece)
			}
		})
	}
}

// TestNewVerifierPrivateKeys: a set of private keys verifies with its public
// half, so a process that signs can verify without a second configuration.
func TestNewVerifierPrivateKeys(t *testing.T) {
	clk := &clock{now: t0}
	keys := signingKeys(t, "EdDSA")
	v, err := apitoken.NewVerifier(keys, testIssuer, testAudience, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := newSigner(t, clk, keys).Mint(apitoken.Claims{Subject: "u"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(tok); err != nil {
		t.Fatal(err)
	}
}
