package oidctest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// signingKey is one ID-token signing key and its published half.
type signingKey struct {
	kid  string
	alg  string
	priv crypto.Signer
	pub  jwk.Key // kid, alg and use set
}

// newSigningKey makes a key for alg. The kid is the key's RFC 7638
// thumbprint, so a new key always has a new kid.
func newSigningKey(alg string) (*signingKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case "RS256", "PS256":
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "EdDSA":
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		return nil, fmt.Errorf("unsupported signing alg %q (want RS256, PS256, ES256 or EdDSA)", alg)
	}
	if err != nil {
		return nil, fmt.Errorf("generate %s key: %w", alg, err)
	}
	pub, err := jwk.FromRaw(priv.Public())
	if err != nil {
		return nil, fmt.Errorf("public JWK: %w", err)
	}
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("thumbprint: %w", err)
	}
	kid := base64.RawURLEncoding.EncodeToString(tp)[:16]
	for k, v := range map[string]any{jwk.KeyIDKey: kid, jwk.AlgorithmKey: jwa.SignatureAlgorithm(alg), jwk.KeyUsageKey: jwk.ForSignature} {
		if err := pub.Set(k, v); err != nil {
			return nil, fmt.Errorf("public JWK %s: %w", k, err)
		}
	}
	return &signingKey{kid: kid, alg: alg, priv: priv, pub: pub}, nil
}

func marshalJWKS(keys []*signingKey) ([]byte, error) {
	set := jwk.NewSet()
	for _, k := range keys {
		if err := set.AddKey(k.pub); err != nil {
			return nil, fmt.Errorf("JWKS: %w", err)
		}
	}
	b, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("JWKS: %w", err)
	}
	return b, nil
}

// RotateOption changes what RotateKey does.
type RotateOption struct{ keepOld bool }

// KeepOldKey makes RotateKey keep publishing the keys published so far, so
// tokens signed before the rotation still verify.
func KeepOldKey() RotateOption { return RotateOption{keepOld: true} }

// RotateKey makes a new signing key with a new kid. ID tokens are signed with
// it from now on, and the JWKS publishes only it, unless KeepOldKey is given.
func (p *Provider) RotateKey(opts ...RotateOption) error {
	var o RotateOption
	for _, opt := range opts {
		o.keepOld = o.keepOld || opt.keepOld
	}
	k, err := newSigningKey(p.alg)
	if err != nil {
		return fmt.Errorf("oidctest: rotate key: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	published := []*signingKey{k}
	if o.keepOld {
		published = append(published, p.published...)
		if len(published) > maxKeys {
			published = published[:maxKeys]
		}
	}
	b, err := marshalJWKS(published)
	if err != nil {
		return fmt.Errorf("oidctest: rotate key: %w", err)
	}
	p.signing, p.published, p.jwks = k, published, b
	p.known = append([]*signingKey{k}, p.known...)
	if len(p.known) > maxKeys {
		p.known = p.known[:maxKeys]
	}
	return nil
}

// PublicKeys returns the JWK Set the JWKS endpoint serves now, as JSON.
func (p *Provider) PublicKeys() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]byte(nil), p.jwks...)
}

// keyFor returns the key an ID token is signed with under f.
func (p *Provider) keyFor(f *Faults) (*signingKey, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !f.UnpublishedKey {
		return p.signing, nil
	}
	if p.unpublished == nil {
		k, err := newSigningKey(p.alg)
		if err != nil {
			return nil, err
		}
		p.unpublished = k
	}
	return p.unpublished, nil
}

// headerAlg is the alg an ID token's header will carry under f; at_hash is
// computed with its hash, as OpenID Connect Core §3.1.3.6 says.
func (f *Faults) headerAlg(keyAlg string) string {
	switch {
	case f.AlgNone:
		return "none"
	case f.HS256:
		return "HS256"
	case f.HeaderAlg != "":
		return f.HeaderAlg
	case f.SigningAlg != "":
		return f.SigningAlg
	}
	return keyAlg
}

// halfHash is the at_hash of token under alg (OpenID Connect Core §3.1.3.6):
// the left half of its hash, base64url. EdDSA (Ed25519) uses SHA-512.
func halfHash(alg, token string) string {
	var h hash.Hash
	switch {
	case alg == "EdDSA" || strings.HasSuffix(alg, "512"):
		h = sha512.New()
	case strings.HasSuffix(alg, "384"):
		h = sha512.New384()
	default:
		h = sha256.New()
	}
	h.Write([]byte(token))
	sum := h.Sum(nil)
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}

// signJWT makes a compact JWS of claims, applying the header and signature
// faults of f. It builds the serialization itself, because jws.Sign always
// writes the algorithm it signs with, and some faults need another.
func (p *Provider) signJWT(claims map[string]any, f *Faults, clientSecret string) (string, error) {
	k, err := p.keyFor(f)
	if err != nil {
		return "", err
	}
	signAlg := k.alg
	if f.SigningAlg != "" {
		signAlg = f.SigningAlg
	}
	var key any = k.priv
	header := map[string]any{"typ": "JWT", "kid": k.kid}
	switch {
	case f.AlgNone:
		signAlg = "none"
	case f.HS256:
		signAlg, key = "HS256", []byte(clientSecret)
	}
	header["alg"] = f.headerAlg(signAlg)
	if f.NoKID {
		delete(header, "kid")
	}
	if f.IDTokenHeader != nil {
		f.IDTokenHeader(header)
	}
	hb, err := json.Marshal(header)
	if err != nil {
		return "", fmt.Errorf("JWS header: %w", err)
	}
	cb, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("JWT claims: %w", err)
	}
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(hb) + "." + enc.EncodeToString(cb)
	var sig []byte
	if signAlg != "none" {
		s, err := jws.NewSigner(jwa.SignatureAlgorithm(signAlg))
		if err != nil {
			return "", fmt.Errorf("JWS signer: %w", err)
		}
		if sig, err = s.Sign([]byte(input), key); err != nil {
			return "", fmt.Errorf("JWS sign %s: %w", signAlg, err)
		}
		if f.BadSignature {
			sig[len(sig)/2] ^= 0x5a
		}
	}
	return input + "." + enc.EncodeToString(sig), nil
}

// verifyOwnJWT checks that raw was signed by one of this provider's keys
// and returns its claims. Expiry is not checked: it reads id_token_hint,
// which may have expired (RP-Initiated Logout §2).
func (p *Provider) verifyOwnJWT(raw string) (map[string]any, error) {
	msg, err := jws.Parse([]byte(raw))
	if err != nil || len(msg.Signatures()) != 1 || strings.Count(raw, ".") != 2 {
		return nil, fmt.Errorf("not a compact JWS")
	}
	h := msg.Signatures()[0].ProtectedHeaders()
	p.mu.Lock()
	known := append([]*signingKey(nil), p.known...)
	p.mu.Unlock()
	for _, k := range known {
		if k.kid != h.KeyID() || string(h.Algorithm()) != k.alg {
			continue
		}
		payload, err := jws.Verify([]byte(raw), jws.WithKey(jwa.SignatureAlgorithm(k.alg), k.priv.Public()))
		if err != nil {
			return nil, fmt.Errorf("signature: %w", err)
		}
		var claims map[string]any
		if err := json.Unmarshal(payload, &claims); err != nil {
			return nil, fmt.Errorf("claims: %w", err)
		}
		if claims["iss"] != p.issuer {
			return nil, fmt.Errorf("issued by another issuer")
		}
		return claims, nil
	}
	return nil, fmt.Errorf("unknown key")
}
