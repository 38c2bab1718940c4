package oidc

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
)

const (
	// clockLeeway absorbs clock skew between us and the provider in exp,
	// iat and nbf (OpenID Connect Core §3.1.3.7 allows "a few minutes").
	clockLeeway = time.Minute
	// maxIDTokenAge refuses ID tokens issued longer ago than this (Core
	// §3.1.3.7 step 10 leaves the bound to the client). A login's token is
	// minutes old at most; an older one is a replay or a token fished out
	// of some log, even when its exp (often an hour) has not passed.
	maxIDTokenAge = 10 * time.Minute
	// maxIDTokenBytes bounds the work for input that never came from a
	// provider; real ID tokens are 1–2 KiB.
	maxIDTokenBytes = 64 << 10
)

// algFamily says, for one JWS alg (RFC 7518 §3.1), which keys it takes and
// which hash at_hash uses (OpenID Connect Core §3.1.3.6: the hash of the
// alg; SHA-512 for EdDSA with Ed25519).
type algFamily struct {
	hash      crypto.Hash
	hashSize  int
	symmetric bool // HS*: keyed by the client secret
	fits      func(key any) bool
}

// familyOf describes alg; false for algorithms we never verify.
func familyOf(alg string) (algFamily, bool) {
	rsaFam := func(h crypto.Hash, n int) algFamily { return algFamily{hash: h, hashSize: n, fits: isRSA} }
	hmacFam := func(h crypto.Hash, n int) algFamily {
		return algFamily{hash: h, hashSize: n, symmetric: true, fits: isBytes}
	}
	switch alg {
	case "RS256", "PS256":
		return rsaFam(crypto.SHA256, 32), true
	case "RS384", "PS384":
		return rsaFam(crypto.SHA384, 48), true
	case "RS512", "PS512":
		return rsaFam(crypto.SHA512, 64), true
	case "ES256":
		return algFamily{hash: crypto.SHA256, hashSize: 32, fits: isEC(elliptic.P256())}, true
	case "ES384":
		return algFamily{hash: crypto.SHA384, hashSize: 48, fits: isEC(elliptic.P384())}, true
	case "ES512":
		return algFamily{hash: crypto.SHA512, hashSize: 64, fits: isEC(elliptic.P521())}, true
	case "EdDSA":
		return algFamily{hash: crypto.SHA512, hashSize: 64, fits: isEd25519}, true
	case "HS256":
		return hmacFam(crypto.SHA256, 32), true
	case "HS384":
		return hmacFam(crypto.SHA384, 48), true
	case "HS512":
		return hmacFam(crypto.SHA512, 64), true
	}
	return algFamily{}, false
}

// knownAlgs lists what familyOf knows, for messages and tests.
func knownAlgs() []string {
	return []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "HS256", "HS384", "HS512"}
}

func isRSA(k any) bool { _, ok := k.(*rsa.PublicKey); return ok }

func isEC(c elliptic.Curve) func(any) bool {
	return func(k any) bool {
		pub, ok := k.(*ecdsa.PublicKey)
		return ok && pub.Curve == c
	}
}

func isEd25519(k any) bool { _, ok := k.(ed25519.PublicKey); return ok }

func isBytes(k any) bool { _, ok := k.([]byte); return ok }

// VerifyOptions says how [Provider.VerifyIDToken] treats the nonce.
type VerifyOptions struct {
	// Nonce is the value sent in the authorization request (OpenID Connect
	// Core §3.1.3.7 step 11). Required unless SkipNonce.
	Nonce string
	// SkipNonce skips the nonce check: only for tokens that did not come
	// from a flow edgeauth started with a nonce it kept.
	SkipNonce bool
}

// VerifyIDToken verifies an ID token as OpenID Connect Core §3.1.3.7
// requires and returns its claims. at_hash cannot be checked here (no
// access token); Exchange checks it. An empty opts.Nonce without
// opts.SkipNonce is a programming error and returns a plain error.
//
// Each failure is an *Error with Code CodeInvalidIDToken (CodeNonceMismatch
// for the nonce, CodeUnavailable when the JWKS cannot be fetched) and
// Check naming the step: format, header, crit, typ, alg, kid, signature,
// payload, events, iss, aud, azp, exp, iat, nbf, nonce, sub.
func (p *Provider) VerifyIDToken(ctx context.Context, raw string, opts VerifyOptions) (map[string]any, error) {
	if opts.Nonce == "" && !opts.SkipNonce {
		return nil, errors.New("oidc: verify id token: nonce missing (set SkipNonce to skip the check on purpose)")
	}
	return p.verifyIDToken(ctx, raw, verifyParams{nonce: opts.Nonce, skipNonce: opts.SkipNonce})
}

// verifyParams are the variations of ID-token verification between login,
// refresh and Convert.
type verifyParams struct {
	nonce     string
	skipNonce bool
	// accessToken, when set, is checked against at_hash (Core §3.1.3.8).
	accessToken string
	// convert: a token a native app obtained itself. aud/azp may name one
	// of ConvertAudiences, iat is bounded by ConvertMaxAge, and a nonce,
	// when given, may also match as its SHA-256 hex (Google's and Apple's
	// SDKs differ in which they put into the token).
	convert bool
}

func (p *Provider) verifyIDToken(ctx context.Context, raw string, vp verifyParams) (map[string]any, error) {
	if p.cfg.Type != TypeOIDC {
		return nil, newError(CodeInvalidIDToken, "id_token", nil, "id_token: provider %q is plain OAuth 2.0 and has no ID tokens", p.cfg.Name)
	}
	if !vp.skipNonce && vp.nonce == "" && !vp.convert {
		return nil, errors.New("oidc: verify id token: nonce missing")
	}
	tok, err := parseCompact(raw)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(p.cfg.SigningAlgs, tok.alg) {
		return nil, newError(CodeInvalidIDToken, "alg", nil, "alg: %s not allowed (allowed: %s)", clip(tok.alg), strings.Join(p.cfg.SigningAlgs, ", "))
	}
	key, err := p.verificationKey(ctx, tok.alg, tok.kid)
	if err != nil {
		return nil, err
	}
	verifier, err := jws.NewVerifier(jwa.SignatureAlgorithm(tok.alg))
	if err != nil {
		return nil, newError(CodeInvalidIDToken, "alg", err, "alg: %s not supported", tok.alg)
	}
	if err := verifier.Verify([]byte(tok.signingInput), tok.signature, key); err != nil {
		return nil, newError(CodeInvalidIDToken, "signature", err, "signature: invalid for %s key %s", tok.alg, clip(tok.kid))
	}

	var claims map[string]any
	if err := json.Unmarshal(tok.payload, &claims); err != nil || claims == nil {
		return nil, newError(CodeInvalidIDToken, "payload", err, "payload: not a JSON object")
	}
	if err := p.checkClaims(claims, vp); err != nil {
		return nil, err
	}
	if vp.accessToken != "" {
		if err := checkAccessTokenHash(claims, tok.alg, vp.accessToken); err != nil {
			return nil, err
		}
	}
	return claims, nil
}

// compactToken is a JWS in compact serialization, split but not verified.
type compactToken struct {
	alg, kid     string
	signingInput string // header.payload as received: what was signed
	payload      []byte
	signature    []byte
}

// parseCompact splits raw into its three segments and reads the protected
// header with jws.Parse. Only compact serialization is accepted (OpenID
// Connect Core §2: ID tokens are JWTs, RFC 7519 §7.2 compact); JSON
// serialization could carry several signatures or unprotected headers.
// crit is refused outright: we understand no extension (RFC 7515 §4.1.11),
// and b64=false (RFC 7797) would change what the signature covers.
func parseCompact(raw string) (*compactToken, error) {
	if len(raw) > maxIDTokenBytes {
		return nil, newError(CodeInvalidIDToken, "format", nil, "format: token of %d bytes exceeds %d", len(raw), maxIDTokenBytes)
	}
	if strings.HasPrefix(strings.TrimSpace(raw), "{") {
		return nil, newError(CodeInvalidIDToken, "format", nil, "format: JSON serialization not accepted, compact required")
	}
	if n := strings.Count(raw, ".") + 1; n != 3 {
		return nil, newError(CodeInvalidIDToken, "format", nil, "format: expected 3 segments, got %d", n)
	}
	// An empty signature is left for the alg check to refuse (it is what
	// alg "none" looks like); header and payload cannot be empty.
	for i, seg := range strings.SplitN(raw, ".", 3) {
		if (seg == "" && i < 2) || !isBase64URL(seg) {
			return nil, newError(CodeInvalidIDToken, "format", nil, "format: segment %d is not unpadded base64url", i+1)
		}
	}
	msg, err := jws.Parse([]byte(raw), jws.WithCompact())
	if err != nil {
		return nil, newError(CodeInvalidIDToken, "header", err, "header: malformed protected header or segments")
	}
	sigs := msg.Signatures()
	if len(sigs) != 1 {
		return nil, newError(CodeInvalidIDToken, "format", nil, "format: expected one signature, got %d", len(sigs))
	}
	hdr := sigs[0].ProtectedHeaders()
	if _, ok := hdr.Get(jws.CriticalKey); ok {
		return nil, newError(CodeInvalidIDToken, "crit", nil, "crit: critical header extensions are not supported")
	}
	if _, ok := hdr.Get("b64"); ok {
		return nil, newError(CodeInvalidIDToken, "crit", nil, "crit: b64 (unencoded payload) is not supported")
	}
	// RFC 8725 §3.11: other JWTs of the same issuer (access tokens typ
	// at+jwt, RFC 9068; logout tokens typ logout+jwt) may name our client
	// as audience. An ID token has no typ or "JWT".
	if typ := strings.TrimPrefix(strings.ToLower(headerString(hdr, "typ")), "application/"); typ != "" && typ != "jwt" {
		return nil, newError(CodeInvalidIDToken, "typ", nil, "typ: %s marks another kind of JWT, not an ID token", clip(typ))
	}
	dot := strings.LastIndexByte(raw, '.')
	return &compactToken{
		alg:          hdr.Algorithm().String(),
		kid:          hdr.KeyID(),
		signingInput: raw[:dot],
		payload:      msg.Payload(),
		signature:    sigs[0].Signature(),
	}, nil
}

func headerString(h jws.Headers, name string) string {
	v, _ := h.Get(name)
	s, _ := v.(string)
	return s
}

// isBase64URL reports whether s uses only the unpadded base64url alphabet
// (RFC 7515 §2): jws.Parse would also take padding and the standard
// alphabet, and we want one spelling per token.
func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// verificationKey finds the key for alg and kid: the client secret for
// HS* (OpenID Connect Core §10.1), else a key from the JWKS. An unknown
// kid triggers one JWKS refresh, rate-limited by the cache.
func (p *Provider) verificationKey(ctx context.Context, alg, kid string) (any, error) {
	if fam, _ := familyOf(alg); fam.symmetric {
		return []byte(p.cfg.ClientSecret), nil
	}
	eps, err := p.endpoints(ctx)
	if err != nil {
		return nil, err
	}
	cache := p.keyCache(eps.jwks)
	set, err := cache.get(ctx)
	if err != nil {
		return nil, jwksError(err)
	}
	k, err := set.find(alg, kid)
	if errors.Is(err, errNoKey) {
		fresh, rerr := cache.refresh(ctx)
		if fresh != nil {
			k, err = fresh.find(alg, kid)
		}
		if err != nil && rerr != nil {
			err = errors.Join(err, fmt.Errorf("jwks refresh: %w", rerr))
		}
	}
	if err != nil {
		return nil, newError(CodeInvalidIDToken, "kid", err, "kid: no %s key with kid %s in the provider's JWKS", alg, clip(kid))
	}
	return k.key, nil
}

// checkClaims applies the claim checks of OpenID Connect Core §3.1.3.7.
func (p *Provider) checkClaims(c map[string]any, vp verifyParams) error {
	bad := func(check, format string, args ...any) error {
		return newError(CodeInvalidIDToken, check, nil, check+": "+format, args...)
	}

	// A Back-Channel Logout token (OIDC BCL §2.4) carries events and may
	// look like an ID token otherwise.
	if _, ok := c["events"]; ok {
		return bad("events", "an events claim marks a logout token, not an ID token")
	}

	// Step 2: iss exactly equal to the issuer.
	if p.quirks.checkIssuer != nil {
		if err := p.quirks.checkIssuer(p, c); err != nil {
			return err
		}
	} else if iss, _ := c["iss"].(string); iss != p.cfg.Issuer {
		return bad("iss", "expected %s, got %s", clip(p.cfg.Issuer), clip(claimString(c, "iss")))
	}

	// Step 3: aud contains our client id (for Convert: ours or one of
	// ConvertAudiences, the native apps' client ids). Steps 4–5: with
	// several audiences azp must be present, and when present it must be
	// one of those, so a token issued to another client that merely lists
	// us is refused.
	ours := []string{p.cfg.ClientID}
	if vp.convert {
		ours = append(ours, p.cfg.ConvertAudiences...)
	}
	aud, ok := audiences(c["aud"])
	if !ok {
		return bad("aud", "missing or not a string or list of strings")
	}
	if !slices.ContainsFunc(aud, func(a string) bool { return slices.Contains(ours, a) }) {
		return bad("aud", "expected to contain %s, got %d other audience(s)", audienceNames(ours), len(aud))
	}
	azp, hasAzp := c["azp"]
	if len(aud) > 1 && !hasAzp {
		return bad("azp", "required with %d audiences, missing", len(aud))
	}
	if hasAzp {
		if s, _ := azp.(string); !slices.Contains(ours, s) {
			return bad("azp", "expected %s, got %s", audienceNames(ours), clip(claimString(c, "azp")))
		}
	}
	// Step 3 also refuses audiences the client does not trust: a token
	// meant for another relying party as well is not ours to accept.
	for _, a := range aud {
		if !slices.Contains(ours, a) && !slices.Contains(p.cfg.TrustedAudiences, a) {
			return bad("aud", "%d audience(s) besides %s that are not trusted (TRUSTED_AUDIENCES)", len(aud)-1, audienceNames(ours))
		}
	}

	// Steps 9–10: exp and iat required; nbf honoured (RFC 7519 §4.1.5).
	now := p.cfg.Now()
	leeway := clockLeeway.Seconds()
	nowS := float64(now.UnixNano()) / 1e9
	exp, err := numericDate(c, "exp", true)
	if err != nil {
		return err
	}
	if nowS >= exp+leeway {
		return bad("exp", "expired at %s (now %s, leeway %s)", fmtTime(exp), fmtTime(nowS), clockLeeway)
	}
	iat, err := numericDate(c, "iat", true)
	if err != nil {
		return err
	}
	if iat > nowS+leeway {
		return bad("iat", "issued in the future, at %s (now %s, leeway %s)", fmtTime(iat), fmtTime(nowS), clockLeeway)
	}
	maxAge := maxIDTokenAge
	if vp.convert {
		maxAge = p.cfg.ConvertMaxAge
	}
	if iat < nowS-maxAge.Seconds()-leeway {
		return bad("iat", "issued at %s, more than %s ago (now %s)", fmtTime(iat), maxAge, fmtTime(nowS))
	}
	if _, present := c["nbf"]; present {
		nbf, err := numericDate(c, "nbf", false)
		if err != nil {
			return err
		}
		if nbf > nowS+leeway {
			return bad("nbf", "not valid before %s (now %s, leeway %s)", fmtTime(nbf), fmtTime(nowS), clockLeeway)
		}
	}

	// Step 11: the nonce binds the token to our authorization request; a
	// constant-time comparison keeps its value from leaking by timing. A
	// Convert request without a nonce accepts the token (bounded by age).
	// A preset whose provider never echoes the nonce (missingNonce) may
	// leave it out of a login's token, which came straight from the token
	// endpoint for a code redeemed with our secret and PKCE verifier; an
	// injected code is then stopped only by PKCE, where the provider
	// enforces it, and the state's browser binding. A nonce that is there
	// must still match.
	_, hasNonce := c["nonce"]
	absentOK := !hasNonce && !vp.convert && p.quirks.missingNonce
	if !vp.skipNonce && vp.nonce != "" && !absentOK {
		got, _ := c["nonce"].(string)
		match := subtle.ConstantTimeCompare([]byte(got), []byte(vp.nonce)) == 1
		if vp.convert && !match {
			sum := sha256.Sum256([]byte(vp.nonce))
			match = subtle.ConstantTimeCompare([]byte(got), []byte(hex.EncodeToString(sum[:]))) == 1
		}
		if !match {
			detail := "nonce: does not match the request's"
			if got == "" {
				detail = "nonce: missing"
			}
			return newError(CodeNonceMismatch, "nonce", nil, "%s", detail)
		}
	}

	// Core §2: sub is required, a non-empty string.
	if sub, _ := c["sub"].(string); sub == "" {
		return bad("sub", "missing or empty")
	}
	return nil
}

// checkAccessTokenHash applies OpenID Connect Core §3.1.3.8 when the token
// carries at_hash: the left half of the hash of the access token, with the
// hash of the ID token's alg, base64url-encoded.
func checkAccessTokenHash(c map[string]any, alg, accessToken string) error {
	v, present := c["at_hash"]
	if !present {
		return nil
	}
	got, _ := v.(string)
	fam, _ := familyOf(alg)
	want := halfHash(fam.hash, accessToken)
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return newError(CodeInvalidIDToken, "at_hash", nil, "at_hash: does not match the access token")
	}
	return nil
}

func halfHash(h crypto.Hash, s string) string {
	hh := h.New()
	hh.Write([]byte(s))
	sum := hh.Sum(nil)
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}

// audiences reads aud, a string or an array of strings (RFC 7519 §4.1.3).
func audiences(v any) ([]string, bool) {
	switch a := v.(type) {
	case string:
		return []string{a}, a != ""
	case []any:
		out := make([]string, 0, len(a))
		for _, x := range a {
			s, ok := x.(string)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, len(out) > 0
	default:
		return nil, false
	}
}

// numericDate reads a NumericDate claim (RFC 7519 §2: seconds, possibly
// fractional).
func numericDate(c map[string]any, name string, required bool) (float64, error) {
	v, present := c[name]
	if !present {
		if required {
			return 0, newError(CodeInvalidIDToken, name, nil, "%s: missing", name)
		}
		return 0, nil
	}
	f, ok := v.(float64)
	if !ok || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, newError(CodeInvalidIDToken, name, nil, "%s: not a number", name)
	}
	return f, nil
}

func fmtTime(sec float64) string {
	if sec > 253402300799 || sec < -62135596800 { // outside years 1–9999
		return fmt.Sprintf("%g", sec)
	}
	return time.Unix(int64(sec), 0).UTC().Format(time.RFC3339)
}

// audienceNames renders the accepted audiences for a Detail.
func audienceNames(ours []string) string {
	if len(ours) == 1 {
		return clip(ours[0])
	}
	return fmt.Sprintf("one of %d accepted client ids", len(ours))
}

// claimString renders a claim for a Detail: strings as they are, anything
// else by its JSON type, so no structure is echoed.
func claimString(c map[string]any, name string) string {
	switch v := c[name].(type) {
	case nil:
		return "(missing)"
	case string:
		return v
	default:
		return fmt.Sprintf("(%T)", v)
	}
}
