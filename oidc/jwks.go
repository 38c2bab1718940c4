package oidc

// The JWKS cache is our own small one over jwk.ParseKey rather than
// jwk.Cache: jwk.Cache brings fetch workers, an HTTP client without
// timeout, a 15-minute retry after a failed first fetch and an
// all-or-nothing parse, and every one of those would need an option to
// undo. Here the fetch is one GET through the Provider's bounded client,
// shared by concurrent callers (remote), and each key is parsed on its own.

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// minRSABits: RSA keys below 2048 bits are refused (RFC 7518 §3.3 requires
// at least 2048 for RS*/PS*).
const minRSABits = 2048

// maxJWKSKeys bounds the work a hostile JWKS can cause.
const maxJWKSKeys = 100

// verifyKey is one usable public key from a JWKS.
type verifyKey struct {
	kid string
	alg string // the JWK's `alg`, "" when it has none (RFC 7517 §4.4: optional)
	key any    // *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
}

// keySet is a parsed JWKS: only the keys we could use for signatures.
type keySet struct {
	keys []verifyKey
}

// keyCache returns the JWKS cache for uri, replacing the cache when a new
// discovery document names another jwks_uri. Only that exact URI is ever
// fetched: it comes from validated discovery or from Config.
func (p *Provider) keyCache(uri string) *remote[*keySet] {
	p.keysMu.Lock()
	defer p.keysMu.Unlock()
	if p.keys == nil || p.keysURL != uri {
		p.keysURL = uri
		p.keys = &remote[*keySet]{
			fetch: func(ctx context.Context) (*keySet, error) {
				return p.fetchKeys(ctx, uri)
			},
			maxAge:    jwksMaxAge,
			minForced: jwksMinRefresh,
			timeout:   p.cfg.Timeout,
		}
	}
	return p.keys
}

// fetchKeys fetches and parses the JWKS. A set without one usable key
// counts as a failed call for Config.Observe: it cannot verify anything.
func (p *Provider) fetchKeys(ctx context.Context, uri string) (set *keySet, err error) {
	start, status := time.Now(), 0
	defer func() { p.observe(CallJWKS, start, status, err) }()
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if status, err = p.getJSON(ctx, uri, maxJWKSBytes, "", false, &doc); err != nil {
		return nil, fmt.Errorf("get %s: %w", uri, err)
	}
	// Keys we cannot use are skipped silently: providers publish keys for
	// other uses and newer kinds next to ours.
	set, skipped := parseKeys(doc.Keys)
	if len(set.keys) == 0 {
		return nil, fmt.Errorf("%s: no usable signing key among %d: %w", uri, len(doc.Keys), errors.Join(skipped...))
	}
	return set, nil
}

// parseKeys keeps every key usable for verifying signatures. A key that
// does not parse, is meant for encryption, is too weak or of a kind we do
// not verify with is skipped and reported, without failing the others
// (providers publish keys for other uses and newer kinds next to ours).
func parseKeys(raws []json.RawMessage) (*keySet, []error) {
	set := &keySet{}
	var skipped []error
	if len(raws) > maxJWKSKeys {
		skipped = append(skipped, fmt.Errorf("%d keys, only the first %d considered", len(raws), maxJWKSKeys))
		raws = raws[:maxJWKSKeys]
	}
	for i, raw := range raws {
		k, err := parseKey(raw)
		if err != nil {
			skipped = append(skipped, fmt.Errorf("key %d: %w", i, err))
			continue
		}
		set.keys = append(set.keys, k)
	}
	return set, skipped
}

func parseKey(raw json.RawMessage) (verifyKey, error) {
	k, err := jwk.ParseKey(raw)
	if err != nil {
		return verifyKey{}, err
	}
	vk := verifyKey{kid: k.KeyID()}
	if a := k.Algorithm(); a != nil {
		vk.alg = a.String()
	}
	if use := k.KeyUsage(); use != "" && use != string(jwk.ForSignature) {
		return vk, fmt.Errorf("kid %q: use %q", vk.kid, use)
	}
	if ops := k.KeyOps(); len(ops) > 0 && !slices.Contains(ops, jwk.KeyOpVerify) {
		return vk, fmt.Errorf("kid %q: key_ops without verify", vk.kid)
	}
	var key any
	if err := k.Raw(&key); err != nil {
		return vk, fmt.Errorf("kid %q: %w", vk.kid, err)
	}
	// A provider publishing private material is broken, but its public half
	// is still the right verification key.
	switch priv := key.(type) {
	case *rsa.PrivateKey:
		key = &priv.PublicKey
	case *ecdsa.PrivateKey:
		key = &priv.PublicKey
	case ed25519.PrivateKey:
		key = priv.Public()
	}
	switch pub := key.(type) {
	case *rsa.PublicKey:
		if pub.N.BitLen() < minRSABits {
			return vk, fmt.Errorf("kid %q: RSA key of %d bits", vk.kid, pub.N.BitLen())
		}
	case *ecdsa.PublicKey, ed25519.PublicKey:
	default:
		return vk, fmt.Errorf("kid %q: %T is not a signature verification key", vk.kid, key)
	}
	vk.key = key
	return vk, nil
}

// errNoKey: no key in the set fits the token's kid and alg.
var errNoKey = errors.New("no matching key")

// find picks the key for a token with the given header alg and kid.
// With a kid, only keys with that kid are considered. Without one, OpenID
// Connect Core §10.1 lets the provider omit it only when the JWKS has a
// single key; we accept the token when exactly one key fits the alg.
// Either way the chosen key must be of the alg's type (and curve), and a
// key with its own `alg` must name the token's.
func (s *keySet) find(alg, kid string) (verifyKey, error) {
	var found []verifyKey
	for _, k := range s.keys {
		if kid != "" && k.kid != kid {
			continue
		}
		if !keyFits(k, alg) {
			continue
		}
		found = append(found, k)
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return verifyKey{}, errNoKey
	default:
		if kid != "" {
			// Duplicate kids of the same type: refuse rather than guess.
			return verifyKey{}, fmt.Errorf("%d keys share kid %q", len(found), kid)
		}
		return verifyKey{}, fmt.Errorf("token has no kid and %d keys fit %s", len(found), alg)
	}
}

func keyFits(k verifyKey, alg string) bool {
	if k.alg != "" && k.alg != alg {
		return false
	}
	fam, ok := familyOf(alg)
	if !ok {
		return false
	}
	return fam.fits(k.key)
}

// jwksError wraps a JWKS fetch failure for the caller.
func jwksError(err error) error {
	return newError(CodeUnavailable, "jwks", err, "jwks: %s", safeCause(err))
}
