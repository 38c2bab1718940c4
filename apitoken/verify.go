package apitoken

import (
	"bytes"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// Verify and [RefreshCodec.Open] return errors that wrap exactly one of
// these; compare with errors.Is. Their texts never contain the token.
var (
	// ErrInvalid is every refusal but expiry: malformed, oversized, wrong
	// type, algorithm, key, signature, issuer, audience or claims.
	ErrInvalid = errors.New("apitoken: invalid token")
	// ErrExpired means the token is authentic and otherwise valid, but past
	// its expiry.
	ErrExpired = errors.New("apitoken: expired token")
)

// Leeway is the clock skew allowed on exp, iat and nbf (RFC 7519 §4.1.4):
// backends on other machines verify too.
const Leeway = 30 * time.Second

// Verifier checks API access tokens as a backend should (RFC 9068 §4). It
// is immutable and safe for concurrent use.
type Verifier struct {
	keys     map[string]verifyKey // by kid
	headers  map[string]verifyKey // by the header segment Mint writes for the key
	issuer   string
	audience string
	now      func() time.Time
}

type verifyKey struct {
	alg    jwa.SignatureAlgorithm
	key    crypto.PublicKey
	verify jws.Verifier
}

// NewVerifier returns a Verifier for tokens of issuer for audience, signed
// by one of keys (a JWK Set of public or private keys; only the public half
// is kept). Each key verifies only its own algorithm — its "alg", else the
// one its type implies — so the allow-list is exactly the published keys'
// algorithms. Keys without "kid" are known by their RFC 7638 thumbprint, as
// [ParseSigningKeys] names them. now nil means time.Now.
func NewVerifier(keys jwk.Set, issuer, audience string, now func() time.Time) (*Verifier, error) {
	if keys == nil || keys.Len() == 0 {
		return nil, errors.New("apitoken: verifier: no keys")
	}
	if issuer == "" || audience == "" {
		return nil, errors.New("apitoken: verifier: issuer and audience are required")
	}
	if now == nil {
		now = time.Now
	}
	v := &Verifier{keys: make(map[string]verifyKey, keys.Len()), headers: make(map[string]verifyKey, keys.Len()), issuer: issuer, audience: audience, now: now}
	for i := range keys.Len() {
		k, _ := keys.Key(i)
		if u := k.KeyUsage(); u != "" && u != string(jwk.ForSignature) {
			return nil, fmt.Errorf("apitoken: verifier: key %d: use %q, want sig", i+1, u)
		}
		var raw any
		if err := k.Raw(&raw); err != nil {
			return nil, fmt.Errorf("apitoken: verifier: key %d: unreadable key", i+1)
		}
		pub, alg, err := keyAlg(k, raw)
		if err != nil {
			return nil, fmt.Errorf("apitoken: verifier: key %d: %w", i+1, err)
		}
		kid := k.KeyID()
		if kid == "" {
			if kid, err = thumbprint(k); err != nil {
				return nil, fmt.Errorf("apitoken: verifier: key %d: %w", i+1, err)
			}
		}
		if _, dup := v.keys[kid]; dup {
			return nil, fmt.Errorf("apitoken: verifier: key %d: kid %q is used twice", i+1, kid)
		}
		ver, err := jws.NewVerifier(alg)
		if err != nil {
			return nil, fmt.Errorf("apitoken: verifier: key %d: %w", i+1, err)
		}
		vk := verifyKey{alg: alg, key: pub, verify: ver}
		v.keys[kid] = vk
		v.headers[headerSegment(alg, kid)] = vk
	}
	return v, nil
}

// Verified is what a valid access token says.
type Verified struct {
	Subject, Provider, ID string // sub, provider, jti
	IssuedAt, ExpiresAt   time.Time
	AuthTime              time.Time // zero when the token has no auth_time
	// Confirmation is the DPoP key thumbprint of cnf.jkt (RFC 9449 §6.1),
	// empty for a bearer token. A caller that accepts the token as Bearer
	// must refuse one that is bound.
	Confirmation string
	// Claims are all the token's claims, as encoding/json decodes them.
	Claims map[string]any
}

// Verify checks token and returns its claims. In order: at most
// MaxTokenLen bytes; JWS compact serialization with exactly three segments
// of canonical base64url (RFC 7515 §7.1; refuses JWE states and refresh
// tokens, JSON serialization and unsecured JWTs); a protected header of
// exactly alg, kid and typ, with typ at+jwt (RFC 9068 §4), kid a known key
// and alg that key's algorithm (RFC 8725 §3.1: no none, no HS256 keyed with
// a public key); the signature; iss exactly the issuer; aud the audience or
// a list holding it; sub and jti present; iat present and not in the
// future; nbf, when present, passed; and last exp, present and not passed,
// so that [ErrExpired] means "valid, but too late". The clock allows
// [Leeway] either way.
func (v *Verifier) Verify(token string) (*Verified, error) {
	if len(token) > MaxTokenLen {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrInvalid, MaxTokenLen)
	}
	hdrSeg, paySeg, sigSeg, ok := splitCompact(token)
	if !ok {
		return nil, fmt.Errorf("%w: not a JWS in compact serialization", ErrInvalid)
	}
	// Fast path: the exact header Mint writes. Anything else is parsed and
	// checked strictly, so that an equivalent spelling is judged the same.
	k, ok := v.headers[hdrSeg]
	if !ok {
		var err error
		if k, err = v.headerKey(hdrSeg); err != nil {
			return nil, err
		}
	}
	sig, err := b64.DecodeString(sigSeg)
	if err != nil {
		return nil, fmt.Errorf("%w: signature is not base64url", ErrInvalid)
	}
	if err := k.verify.Verify([]byte(token[:len(hdrSeg)+1+len(paySeg)]), sig, k.key); err != nil {
		return nil, fmt.Errorf("%w: bad signature", ErrInvalid)
	}
	payload, err := b64.DecodeString(paySeg)
	if err != nil {
		return nil, fmt.Errorf("%w: payload is not base64url", ErrInvalid)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil || claims == nil {
		return nil, fmt.Errorf("%w: payload is not a JSON object", ErrInvalid)
	}
	return v.checkClaims(claims)
}

// headerKey parses a protected header and returns the key it names.
func (v *Verifier) headerKey(seg string) (verifyKey, error) {
	hdr, err := parseHeader(seg)
	if err != nil {
		return verifyKey{}, err
	}
	if !strings.EqualFold(hdr.typ, TokenType) && !strings.EqualFold(hdr.typ, "application/"+TokenType) {
		return verifyKey{}, fmt.Errorf("%w: typ: expected %s, got %.40q", ErrInvalid, TokenType, hdr.typ)
	}
	k, ok := v.keys[hdr.kid]
	if !ok {
		return verifyKey{}, fmt.Errorf("%w: kid %.64q is not a published key", ErrInvalid, hdr.kid)
	}
	if hdr.alg != k.alg.String() {
		return verifyKey{}, fmt.Errorf("%w: alg: expected %s for kid %.64q, got %.16q", ErrInvalid, k.alg, hdr.kid, hdr.alg)
	}
	return k, nil
}

// checkClaims applies the claim checks of RFC 9068 §4 and RFC 7519 §4.1.
func (v *Verifier) checkClaims(c map[string]any) (*Verified, error) {
	if iss, _ := c["iss"].(string); iss != v.issuer {
		return nil, fmt.Errorf("%w: iss: expected %q, got %.100q", ErrInvalid, v.issuer, iss)
	}
	if !hasAudience(c["aud"], v.audience) {
		return nil, fmt.Errorf("%w: aud: expected %q among the audiences", ErrInvalid, v.audience)
	}
	out := &Verified{Claims: c}
	var ok bool
	if out.Subject, ok = c["sub"].(string); !ok || out.Subject == "" {
		return nil, fmt.Errorf("%w: sub missing", ErrInvalid)
	}
	if out.ID, ok = c["jti"].(string); !ok || out.ID == "" {
		return nil, fmt.Errorf("%w: jti missing", ErrInvalid)
	}
	if p, present := c["provider"]; present {
		if out.Provider, ok = p.(string); !ok {
			return nil, fmt.Errorf("%w: provider is not a string", ErrInvalid)
		}
	}
	if cnf, present := c["cnf"]; present {
		// RFC 9449 §6.1. A cnf we cannot read must not pass as a bearer token.
		m, _ := cnf.(map[string]any)
		if out.Confirmation, ok = m["jkt"].(string); !ok || out.Confirmation == "" {
			return nil, fmt.Errorf("%w: cnf without a jkt", ErrInvalid)
		}
	}
	var err error
	if out.AuthTime, err = numericDate(c, "auth_time", false); err != nil {
		return nil, err
	}
	if out.IssuedAt, err = numericDate(c, "iat", true); err != nil {
		return nil, err
	}
	nbf, err := numericDate(c, "nbf", false)
	if err != nil {
		return nil, err
	}
	if out.ExpiresAt, err = numericDate(c, "exp", true); err != nil {
		return nil, err
	}
	now := v.now()
	if out.IssuedAt.After(now.Add(Leeway)) {
		return nil, fmt.Errorf("%w: iat %s is in the future", ErrInvalid, out.IssuedAt.UTC().Format(time.RFC3339))
	}
	if !nbf.IsZero() && nbf.After(now.Add(Leeway)) {
		return nil, fmt.Errorf("%w: not valid before %s", ErrInvalid, nbf.UTC().Format(time.RFC3339))
	}
	if !now.Before(out.ExpiresAt.Add(Leeway)) {
		return nil, fmt.Errorf("%w: expired at %s", ErrExpired, out.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return out, nil
}

// hasAudience reports whether aud, a string or an array of strings (RFC
// 7519 §4.1.3), holds want.
func hasAudience(aud any, want string) bool {
	switch a := aud.(type) {
	case string:
		return a == want
	case []any:
		for _, x := range a {
			if s, _ := x.(string); s == want {
				return true
			}
		}
	}
	return false
}

// maxNumericDate keeps dates where int64 seconds and time.Time cannot
// overflow (the year 5138).
const maxNumericDate = 1e11

// numericDate reads a NumericDate claim (RFC 7519 §2), whole seconds.
// Absent is zero time, or an error when required.
func numericDate(c map[string]any, name string, required bool) (time.Time, error) {
	raw, present := c[name]
	if !present {
		if required {
			return time.Time{}, fmt.Errorf("%w: %s missing", ErrInvalid, name)
		}
		return time.Time{}, nil
	}
	f, ok := raw.(float64)
	if !ok || math.IsNaN(f) || f <= 0 || f > maxNumericDate {
		return time.Time{}, fmt.Errorf("%w: %s is not a NumericDate", ErrInvalid, name)
	}
	return time.Unix(int64(f), 0), nil
}

// b64 is strict unpadded base64url: with the alphabet check of
// splitCompact, every accepted string is the only spelling of its bytes.
var b64 = base64.RawURLEncoding.Strict()

// splitCompact splits a JWS compact serialization into its three segments,
// refusing any byte outside the base64url alphabet and the two dots (and
// so JSON serialization and the CR/LF base64 decoders skip).
func splitCompact(s string) (hdr, payload, sig string, ok bool) {
	dots := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.':
			dots++
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return "", "", "", false
		}
	}
	if dots != 2 {
		return "", "", "", false
	}
	hdr, rest, _ := strings.Cut(s, ".")
	payload, sig, _ = strings.Cut(rest, ".")
	if hdr == "" || payload == "" || sig == "" {
		return "", "", "", false
	}
	return hdr, payload, sig, true
}

// header holds the only protected header parameters an access token may
// carry: alg, kid, typ (RFC 7515 §4.1.1, §4.1.4, §4.1.9).
type header struct{ alg, kid, typ string }

// maxHeaderLen bounds the decoded protected header; ours is under 100 bytes.
const maxHeaderLen = 512

var errBadHeader = fmt.Errorf("%w: protected header is not alg, kid and typ", ErrInvalid)

// parseHeader decodes the protected header strictly: one JSON object with
// exactly alg, kid and typ, each a string and each once. crit (RFC 7515
// §4.1.11), which jwx ignores, jwk, jku, x5u and every other member are
// refused: none is ours, and a duplicate is where two parsers disagree.
func parseHeader(seg string) (header, error) {
	var h header
	bad := errBadHeader
	if len(seg) > base64.RawURLEncoding.EncodedLen(maxHeaderLen) {
		return h, bad
	}
	raw, err := b64.DecodeString(seg)
	if err != nil {
		return h, fmt.Errorf("%w: protected header is not base64url", ErrInvalid)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return h, bad
	}
	var seen uint8
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return h, bad
		}
		name, _ := t.(string)
		var bit uint8
		var dst *string
		switch name {
		case "alg":
			bit, dst = 1, &h.alg
		case "kid":
			bit, dst = 2, &h.kid
		case "typ":
			bit, dst = 4, &h.typ
		default:
			return h, fmt.Errorf("%w: protected header member %.20q is not allowed", ErrInvalid, name)
		}
		if seen&bit != 0 {
			return h, fmt.Errorf("%w: protected header member %q twice", ErrInvalid, name)
		}
		seen |= bit
		if t, err = dec.Token(); err != nil {
			return h, bad
		}
		if *dst, _ = t.(string); *dst == "" {
			return h, fmt.Errorf("%w: protected header member %q is not a non-empty string", ErrInvalid, name)
		}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') || dec.More() {
		return h, bad
	}
	if _, err := dec.Token(); err == nil {
		return h, bad // trailing data
	}
	if seen != 7 {
		if seen&4 == 0 {
			return h, fmt.Errorf("%w: typ: expected %s, got none", ErrInvalid, TokenType)
		}
		return h, bad
	}
	return h, nil
}
