package server

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

// registeredClaims are the access-token claims edgeauth owns; claims added by
// the user webhook never replace them (RFC 7519 §4.1, RFC 9068 §2.2).
var registeredClaims = map[string]bool{
	"iss": true, "sub": true, "aud": true, "exp": true, "nbf": true, "iat": true,
	"jti": true, "typ": true, "provider": true, "client_id": true, "auth_time": true,
}

// accessTokenType is the JWS `typ` of API access tokens (RFC 9068 §2.1).
const accessTokenType = "at+jwt"

// Signer mints API access tokens with the first key of a JWK Set and
// publishes the public half of every key, so a new key can be published
// before it signs and an old one can keep verifying after it stops.
type Signer struct {
	key       jwk.Key
	alg       jwa.SignatureAlgorithm
	public    jwk.Set
	publicDoc []byte
	issuer    string
	audience  string
	ttl       time.Duration
	now       func() time.Time
}

// ParseSigningKeys reads EDGEAUTH_SIGNING_KEYS: a JWK Set of private keys
// (EC P-256/P-384, Ed25519, RSA ≥ 2048 bits). Keys without `kid` get their
// RFC 7638 thumbprint; keys without `alg` get the one their type implies.
// Error messages never contain key material.
func ParseSigningKeys(raw string) (jwk.Set, error) {
	set, err := jwk.Parse([]byte(raw))
	if err != nil {
		return nil, errors.New("not a JWK Set (expected {\"keys\":[…]}, as `edgeauth keygen` prints)")
	}
	if set.Len() == 0 {
		return nil, errors.New("the JWK Set has no keys")
	}
	out := jwk.NewSet()
	kids := map[string]bool{}
	for i := range set.Len() {
		k, _ := set.Key(i)
		if err := normaliseSigningKey(k); err != nil {
			return nil, fmt.Errorf("key %d: %w", i+1, err)
		}
		if kids[k.KeyID()] {
			return nil, fmt.Errorf("key %d: kid %q is used twice", i+1, k.KeyID())
		}
		kids[k.KeyID()] = true
		if err := out.AddKey(k); err != nil {
			return nil, fmt.Errorf("key %d: %w", i+1, err)
		}
	}
	return out, nil
}

func normaliseSigningKey(k jwk.Key) error {
	var raw any
	if err := k.Raw(&raw); err != nil {
		return errors.New("unreadable key")
	}
	var alg jwa.SignatureAlgorithm
	switch key := raw.(type) {
	case *ecdsa.PrivateKey:
		switch key.Curve {
		case elliptic.P256():
			alg = jwa.ES256
		case elliptic.P384():
			alg = jwa.ES384
		default:
			return errors.New("only P-256 and P-384 EC keys are supported")
		}
	case ed25519.PrivateKey:
		alg = jwa.EdDSA
	case *rsa.PrivateKey:
		if key.N.BitLen() < 2048 {
			return errors.New("RSA keys must have at least 2048 bits")
		}
		alg = jwa.RS256
	default:
		return errors.New("not a private EC, Ed25519 or RSA key (the set must hold private keys)")
	}
	if a, ok := k.Get(jwk.AlgorithmKey); ok {
		given, isSig := a.(jwa.SignatureAlgorithm)
		if !isSig || !algFitsKey(given, alg) {
			return fmt.Errorf("alg %v does not fit a %v key", a, alg)
		}
	} else if err := k.Set(jwk.AlgorithmKey, alg); err != nil {
		return err
	}
	if k.KeyID() == "" {
		tp, err := k.Thumbprint(crypto.SHA256)
		if err != nil {
			return errors.New("cannot compute the key thumbprint")
		}
		if err := k.Set(jwk.KeyIDKey, base64.RawURLEncoding.EncodeToString(tp)); err != nil {
			return err
		}
	}
	return k.Set(jwk.KeyUsageKey, jwk.ForSignature)
}

// algFitsKey allows the RSA family to pick PS256 or RS384 etc. while keeping
// EC and EdDSA keys to the one algorithm their curve defines.
func algFitsKey(given, implied jwa.SignatureAlgorithm) bool {
	if implied == jwa.RS256 {
		switch given {
		case jwa.RS256, jwa.RS384, jwa.RS512, jwa.PS256, jwa.PS384, jwa.PS512:
			return true
		}
		return false
	}
	return given == implied
}

// GenerateSigningKey makes a fresh private key for alg (ES256, EdDSA or
// RS256) and returns it as a one-key JWK Set in JSON.
func GenerateSigningKey(alg string) ([]byte, error) {
	var raw any
	var err error
	switch alg {
	case "", "ES256":
		raw, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "EdDSA":
		_, raw, err = ed25519.GenerateKey(rand.Reader)
	case "RS256":
		raw, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		return nil, fmt.Errorf("unsupported signing algorithm %q (ES256, EdDSA or RS256)", alg)
	}
	if err != nil {
		return nil, fmt.Errorf("generate %s key: %w", alg, err)
	}
	k, err := jwk.FromRaw(raw)
	if err != nil {
		return nil, fmt.Errorf("wrap key: %w", err)
	}
	if err := normaliseSigningKey(k); err != nil {
		return nil, err
	}
	set := jwk.NewSet()
	if err := set.AddKey(k); err != nil {
		return nil, err
	}
	return json.Marshal(set)
}

// NewSigner builds the access-token signer. keys must come from
// ParseSigningKeys.
func NewSigner(keys jwk.Set, issuer, audience string, ttl time.Duration, now func() time.Time) (*Signer, error) {
	if keys == nil || keys.Len() == 0 {
		return nil, errors.New("no signing keys")
	}
	first, _ := keys.Key(0)
	alg, ok := first.Algorithm().(jwa.SignatureAlgorithm)
	if !ok {
		return nil, errors.New("signing key has no signature algorithm")
	}
	public, err := jwk.PublicSetOf(keys)
	if err != nil {
		return nil, fmt.Errorf("public keys: %w", err)
	}
	doc, err := json.Marshal(public)
	if err != nil {
		return nil, fmt.Errorf("public keys: %w", err)
	}
	return &Signer{key: first, alg: alg, public: public, publicDoc: doc, issuer: issuer, audience: audience, ttl: ttl, now: now}, nil
}

// AccessClaims are what an access token says beyond the registered claims.
type AccessClaims struct {
	Subject  string
	Provider string
	AuthTime time.Time
	Extra    map[string]any // from the user webhook; registered names are dropped
}

// Mint signs an access token and returns it with its lifetime in seconds.
func (s *Signer) Mint(c AccessClaims) (string, int64, error) {
	now := s.now().Truncate(time.Second)
	tok := jwt.New()
	for k, v := range maps.All(c.Extra) {
		if registeredClaims[k] {
			continue
		}
		if err := tok.Set(k, v); err != nil {
			return "", 0, fmt.Errorf("claim %q: %w", k, err)
		}
	}
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", 0, fmt.Errorf("jti: %w", err)
	}
	set := map[string]any{
		jwt.IssuerKey:     s.issuer,
		jwt.AudienceKey:   []string{s.audience},
		jwt.SubjectKey:    c.Subject,
		jwt.IssuedAtKey:   now,
		jwt.ExpirationKey: now.Add(s.ttl),
		jwt.JwtIDKey:      base64.RawURLEncoding.EncodeToString(jti),
		"provider":        c.Provider,
	}
	if !c.AuthTime.IsZero() {
		set["auth_time"] = c.AuthTime.Unix()
	}
	for k, v := range set {
		if err := tok.Set(k, v); err != nil {
			return "", 0, fmt.Errorf("claim %q: %w", k, err)
		}
	}
	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.TypeKey, accessTokenType); err != nil {
		return "", 0, err
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(s.alg, s.key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		return "", 0, fmt.Errorf("sign access token: %w", err)
	}
	return string(signed), int64(s.ttl / time.Second), nil
}

// JWKS is the published JSON of the public keys.
func (s *Signer) JWKS() []byte { return s.publicDoc }

// Algorithm is the alg of the signing key.
func (s *Signer) Algorithm() string { return s.alg.String() }
