package apitoken

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// TokenType is the JWS "typ" of API access tokens (RFC 9068 §2.1).
const TokenType = "at+jwt"

// MaxTokenLen bounds the access tokens Mint produces and Verify looks at, in
// bytes; Verify refuses longer input before parsing it.
const MaxTokenLen = 16<<10 - 1

// jtiBytes is the entropy of a token ID: 128 bits, so IDs do not collide
// (RFC 7519 §4.1.7).
const jtiBytes = 16

// SignerConfig configures a [Signer].
type SignerConfig struct {
	// Keys come from [ParseSigningKeys]: the first signs, all are published,
	// so a new key can be published before it signs and an old one keeps
	// verifying after it stops.
	Keys jwk.Set
	// Issuer and Audience are the iss and aud of every token.
	Issuer, Audience string
	// TTL is the access token's lifetime, whole seconds.
	TTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Signer mints API access tokens (RFC 9068). It is immutable and safe for
// concurrent use.
type Signer struct {
	alg    jwa.SignatureAlgorithm
	key    any // the raw private key
	sign   jws.Signer
	header string // base64url protected header and the dot after it
	prefix []byte // {"iss":…,"aud":…
	sigLen int    // base64url length of a signature
	ttl    int64  // seconds
	cfg    SignerConfig
	public jwk.Set
	jwks   []byte
	verify *Verifier
}

// NewSigner builds the signer. The published JWK Set and the JWS header are
// computed here once, not per token.
func NewSigner(cfg SignerConfig) (*Signer, error) {
	if cfg.Keys == nil || cfg.Keys.Len() == 0 {
		return nil, errors.New("apitoken: no signing keys")
	}
	if cfg.Issuer == "" || cfg.Audience == "" {
		return nil, errors.New("apitoken: issuer and audience are required")
	}
	if cfg.TTL < time.Second {
		return nil, fmt.Errorf("apitoken: access token TTL %v is under a second", cfg.TTL)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	first, _ := cfg.Keys.Key(0)
	var raw any
	if err := first.Raw(&raw); err != nil {
		return nil, errors.New("apitoken: signing key: unreadable key")
	}
	if _, ok := raw.(crypto.Signer); !ok {
		return nil, errors.New("apitoken: signing key: not a private key")
	}
	_, alg, err := keyAlg(first, raw)
	if err != nil {
		return nil, fmt.Errorf("apitoken: signing key: %w", err)
	}
	kid := first.KeyID()
	if kid == "" {
		return nil, errors.New("apitoken: signing key has no kid (use ParseSigningKeys)")
	}
	sign, err := jws.NewSigner(alg)
	if err != nil {
		return nil, fmt.Errorf("apitoken: signer for %s: %w", alg, err)
	}
	public, err := jwk.PublicSetOf(cfg.Keys)
	if err != nil {
		return nil, fmt.Errorf("apitoken: public keys: %w", err)
	}
	jwks, err := json.Marshal(public)
	if err != nil {
		return nil, fmt.Errorf("apitoken: public keys: %w", err)
	}
	verify, err := NewVerifier(public, cfg.Issuer, cfg.Audience, cfg.Now)
	if err != nil {
		return nil, err
	}

	prefix := []byte(`{"iss":`)
	prefix = appendString(prefix, cfg.Issuer)
	prefix = append(prefix, `,"aud":`...)
	prefix = appendString(prefix, cfg.Audience)

	sigLen := 64 // ES256 and EdDSA
	switch k := raw.(type) {
	case *rsa.PrivateKey:
		sigLen = k.Size()
	default:
		if alg == jwa.ES384 {
			sigLen = 96
		}
	}
	return &Signer{
		alg:    alg,
		key:    raw,
		sign:   sign,
		header: headerSegment(alg, kid) + ".",
		prefix: prefix,
		sigLen: base64.RawURLEncoding.EncodedLen(sigLen),
		ttl:    int64(cfg.TTL / time.Second),
		cfg:    cfg,
		public: public,
		jwks:   jwks,
		verify: verify,
	}, nil
}

// headerSegment is the protected header of a token by key kid, encoded: the
// members in jwx's order (sorted), so tokens look as jwt.Sign made them.
func headerSegment(alg jwa.SignatureAlgorithm, kid string) string {
	hdr := []byte(`{"alg":`)
	hdr = appendString(hdr, alg.String())
	hdr = append(hdr, `,"kid":`...)
	hdr = appendString(hdr, kid)
	hdr = append(hdr, `,"typ":"`+TokenType+`"}`...)
	return base64.RawURLEncoding.EncodeToString(hdr)
}

// Claims are what an access token says beyond iss, aud, iat, exp and jti.
type Claims struct {
	Subject  string
	Provider string
	// AuthTime is when the person authenticated (RFC 9068 §2.2.1); zero
	// leaves auth_time out.
	AuthTime time.Time
	// Extra come from the user webhook. A registered name
	// ([IsRegisteredClaim]) is skipped, never written over the real one.
	Extra map[string]any
	// Confirmation is the RFC 7638 thumbprint of the client's DPoP key; when
	// set the token is bound to it as cnf:{jkt:…} (RFC 9449 §6.1). Empty
	// means a bearer token.
	Confirmation string
}

// Mint signs an access token for c and returns it with its lifetime in
// seconds, for the token response's expires_in (RFC 6749 §5.1).
func (s *Signer) Mint(c Claims) (token string, expiresIn int64, err error) {
	if c.Subject == "" {
		return "", 0, errors.New("apitoken: mint: empty subject")
	}
	now := s.cfg.Now().Unix()
	var jti [jtiBytes]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", 0, fmt.Errorf("apitoken: mint: jti: %w", err)
	}

	p := make([]byte, 0, 192+len(s.prefix)+len(c.Subject)+len(c.Provider)+len(c.Confirmation)+32*len(c.Extra))
	p = append(p, s.prefix...)
	p = append(p, `,"sub":`...)
	p = appendString(p, c.Subject)
	p = append(p, `,"provider":`...)
	p = appendString(p, c.Provider)
	p = appendInt(p, "iat", now)
	p = appendInt(p, "exp", now+s.ttl)
	p = append(p, `,"jti":"`...)
	p = base64.RawURLEncoding.AppendEncode(p, jti[:])
	p = append(p, '"')
	if !c.AuthTime.IsZero() {
		p = appendInt(p, "auth_time", c.AuthTime.Unix())
	}
	if c.Confirmation != "" {
		p = append(p, `,"cnf":{"jkt":`...)
		p = appendString(p, c.Confirmation)
		p = append(p, '}')
	}
	for name, v := range c.Extra {
		if registered[name] {
			continue
		}
		val, err := json.Marshal(v)
		if err != nil {
			return "", 0, fmt.Errorf("apitoken: mint: claim %q: %w", name, err)
		}
		p = append(p, ',')
		p = appendString(p, name)
		p = append(p, ':')
		p = append(p, val...)
	}
	p = append(p, '}')

	n := len(s.header) + base64.RawURLEncoding.EncodedLen(len(p)) + 1 + s.sigLen
	if n > MaxTokenLen {
		return "", 0, fmt.Errorf("apitoken: mint: token of %d bytes exceeds %d (too many claims)", n, MaxTokenLen)
	}
	tok := make([]byte, 0, n)
	tok = append(tok, s.header...)
	tok = base64.RawURLEncoding.AppendEncode(tok, p)
	sig, err := s.sign.Sign(tok, s.key)
	if err != nil {
		return "", 0, fmt.Errorf("apitoken: mint: sign: %w", err)
	}
	tok = append(tok, '.')
	tok = base64.RawURLEncoding.AppendEncode(tok, sig)
	return string(tok), s.ttl, nil
}

// JWKS is the JSON of the public JWK Set (RFC 7517 §5) that verifies
// every token the signer made or will make, computed once. Callers must not
// modify it.
func (s *Signer) JWKS() []byte { return s.jwks }

// Algorithm is the JWS alg of the signing key (RFC 7518 §3.1).
func (s *Signer) Algorithm() string { return s.alg.String() }

// Verifier verifies tokens against the signer's published keys, issuer
// and audience, as a backend would.
func (s *Signer) Verifier() *Verifier { return s.verify }
