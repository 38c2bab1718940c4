package statecodec

import (
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"
)

// deriveSaltDomain prefixes the HKDF salt; the purpose completes it, so each
// purpose has its own fixed salt (RFC 5869 §3.1: a non-secret salt still
// separates the extracted keys).
const deriveSaltDomain = "edgeauth/statecodec/derive/v1\x00"

// DeriveKey returns the key for purpose derived from k with HKDF-SHA256
// (RFC 5869): salt fixed per purpose, info "edgeauth statecodec <purpose>".
// Tokens sealed under the derived key never open under k, nor the other way
// round, even when both rings are built from the same configured keys — so
// a second kind of token can share EDGEAUTH_STATE_KEYS without ever being
// taken for the first. The derived key's ID is derived from the derived
// bytes, as ParseKeys does; rotation carries over key by key.
func DeriveKey(k Key, purpose string) (Key, error) {
	if len(k.Secret) != KeySize {
		return Key{}, fmt.Errorf("statecodec: derive: key %s: %d bytes, want %d", k.ID, len(k.Secret), KeySize)
	}
	if !validName(purpose) {
		return Key{}, fmt.Errorf("statecodec: derive: purpose must be 1 to %d of A-Z a-z 0-9 . _ -", maxNameLen)
	}
	secret, err := hkdf.Key(sha256.New, k.Secret, []byte(deriveSaltDomain+purpose), "edgeauth statecodec "+purpose, KeySize)
	if err != nil {
		return Key{}, fmt.Errorf("statecodec: derive: %w", err)
	}
	return Key{ID: deriveKeyID(secret), Secret: secret}, nil
}
