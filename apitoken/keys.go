package apitoken

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

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

// minRSABits is the smallest RSA modulus accepted for signing or verifying
// (RFC 7518 §3.3: 2048 bits or larger).
const minRSABits = 2048

// ParseSigningKeys reads EDGEAUTH_SIGNING_KEYS: a JWK Set (RFC 7517 §5) of
// private keys — EC P-256/P-384, Ed25519, RSA of at least 2048 bits. Keys
// without "kid" get their RFC 7638 thumbprint, keys without "alg" the one
// their type implies, and every key gets "use":"sig". Error messages never
// contain key material.
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

// GenerateSigningKey makes a fresh private key for alg ("ES256", the
// default when empty, "EdDSA" or "RS256") and returns it as a one-key JWK
// Set in JSON, as ParseSigningKeys reads it.
func GenerateSigningKey(alg string) ([]byte, error) {
	var raw any
	var err error
	switch alg {
	case "", "ES256":
		raw, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "EdDSA":
		_, raw, err = ed25519.GenerateKey(rand.Reader)
	case "RS256":
		raw, err = rsa.GenerateKey(rand.Reader, minRSABits)
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

func normaliseSigningKey(k jwk.Key) error {
	var raw any
	if err := k.Raw(&raw); err != nil {
		return errors.New("unreadable key")
	}
	switch raw.(type) {
	case *ecdsa.PrivateKey, ed25519.PrivateKey, *rsa.PrivateKey:
	default:
		return errors.New("not a private EC, Ed25519 or RSA key (the set must hold private keys)")
	}
	_, alg, err := keyAlg(k, raw)
	if err != nil {
		return err
	}
	if _, ok := k.Get(jwk.AlgorithmKey); !ok {
		if err := k.Set(jwk.AlgorithmKey, alg); err != nil {
			return err
		}
	}
	if k.KeyID() == "" {
		kid, err := thumbprint(k)
		if err != nil {
			return err
		}
		if err := k.Set(jwk.KeyIDKey, kid); err != nil {
			return err
		}
	}
	return k.Set(jwk.KeyUsageKey, jwk.ForSignature)
}

// keyAlg returns the public half of raw (a private or public key) and the
// signature algorithm k is for: its "alg" when it names one that fits the
// key, else the one the key type implies. A mismatch is an error, so a key
// can never be used with an algorithm of another family (RFC 8725 §3.1).
func keyAlg(k jwk.Key, raw any) (crypto.PublicKey, jwa.SignatureAlgorithm, error) {
	var pub crypto.PublicKey
	var implied jwa.SignatureAlgorithm
	switch key := raw.(type) {
	case *ecdsa.PrivateKey:
		return keyAlg(k, &key.PublicKey)
	case ed25519.PrivateKey:
		return keyAlg(k, key.Public())
	case *rsa.PrivateKey:
		return keyAlg(k, &key.PublicKey)
	case *ecdsa.PublicKey:
		switch key.Curve {
		case elliptic.P256():
			implied = jwa.ES256
		case elliptic.P384():
			implied = jwa.ES384
		default:
			return nil, "", errors.New("only P-256 and P-384 EC keys are supported")
		}
		pub = key
	case ed25519.PublicKey:
		implied, pub = jwa.EdDSA, key
	case *rsa.PublicKey:
		if key.N.BitLen() < minRSABits {
			return nil, "", fmt.Errorf("RSA keys must have at least %d bits", minRSABits)
		}
		implied, pub = jwa.RS256, key
	default:
		return nil, "", errors.New("not an EC, Ed25519 or RSA key")
	}
	a, ok := k.Get(jwk.AlgorithmKey)
	if !ok {
		return pub, implied, nil
	}
	given, isSig := a.(jwa.SignatureAlgorithm)
	if !isSig || !algFitsKey(given, implied) {
		return nil, "", fmt.Errorf("alg %v does not fit a %v key", a, implied)
	}
	return pub, given, nil
}

// algFitsKey lets an RSA key pick PS256 or RS384 and so on, and keeps EC
// and Ed25519 keys to the one algorithm their curve defines.
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

// thumbprint is the RFC 7638 SHA-256 thumbprint of k in base64url: the
// same for the private and the public half, since it hashes only public
// members.
func thumbprint(k jwk.Key) (string, error) {
	tp, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", errors.New("cannot compute the key thumbprint")
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}
