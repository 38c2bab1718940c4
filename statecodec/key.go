package statecodec

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// KeySize is the length of every key in bytes: the content encryption key of
// A256GCM, used directly under alg "dir" (RFC 7518 §4.5, §5.3).
const KeySize = 32

// kidLen is the length of a derived key ID: 6 base64url characters, 36 bits.
// Key IDs only pick a key from a ring of a few; they are not a secret and not
// a security boundary, so short is fine.
const kidLen = 6

// kidDomain separates the key-ID hash from any other use of the same key
// bytes, so the published kid says nothing about other derived values.
const kidDomain = "edgeauth/statecodec/kid/v1\x00"

// Key is one entry of a key ring.
type Key struct {
	// ID is the "kid" header value (RFC 7516 §4.1.6) that picks this key on
	// Open. ParseKeys and GenerateKey derive it from Secret; New derives it
	// when it is empty.
	ID string
	// Secret is the AES-256 key, exactly KeySize bytes.
	Secret []byte
}

// String names the key by its ID only, so a key that reaches a log or an
// error message through fmt does not leak its secret.
func (k Key) String() string { return "statecodec.Key(" + k.ID + ")" }

// GoString is String for %#v.
func (k Key) GoString() string { return k.String() }

// LogValue implements slog.LogValuer for the same reason as String.
func (k Key) LogValue() slog.Value { return slog.GroupValue(slog.String("id", k.ID)) }

// deriveKeyID returns the ID of a key: a short prefix of the base64url SHA-256
// of the domain-separated key, so that replicas sharing the keys agree on
// IDs without any configuration.
func deriveKeyID(secret []byte) string {
	h := sha256.New()
	h.Write([]byte(kidDomain))
	h.Write(secret)
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))[:kidLen]
}

// ParseKeys parses a key ring in the EDGEAUTH_STATE_KEYS form: a comma
// separated list, first key first, each key KeySize bytes in base64url
// (padded or not) or standard base64. Blanks around a key are ignored. Key
// IDs are derived from the keys. Errors name the position of a bad key,
// never its value.
func ParseKeys(s string) ([]Key, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("statecodec: no keys")
	}
	fields := strings.Split(s, ",")
	keys := make([]Key, 0, len(fields))
	for i, f := range fields {
		secret, err := decodeKey(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("statecodec: key %d of %d: %w", i+1, len(fields), err)
		}
		for j, prev := range keys {
			if bytes.Equal(prev.Secret, secret) {
				return nil, fmt.Errorf("statecodec: key %d of %d: same as key %d", i+1, len(fields), j+1)
			}
		}
		keys = append(keys, Key{ID: deriveKeyID(secret), Secret: secret})
	}
	return keys, nil
}

// decodeKey decodes one key. Its errors never quote the input: a typo in a
// key is still mostly a key.
func decodeKey(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("empty")
	}
	// The base64 decoders skip CR and LF; a key with a line break inside is
	// a copy-and-paste accident, not a key.
	if strings.ContainsAny(s, "\r\n") {
		return nil, errors.New("not base64 or base64url")
	}
	// Any two of these that accept the same string decode it to the same
	// bytes, so the order does not matter.
	for _, enc := range [...]*base64.Encoding{
		base64.RawURLEncoding, base64.URLEncoding,
		base64.RawStdEncoding, base64.StdEncoding,
	} {
		b, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		if len(b) != KeySize {
			return nil, fmt.Errorf("decodes to %d bytes, want %d", len(b), KeySize)
		}
		if bytes.Equal(b, make([]byte, KeySize)) {
			// A placeholder, not a key: everyone can open and forge with it.
			return nil, errors.New("is all zeros: make a real key with `edgeauth keygen`")
		}
		return b, nil
	}
	return nil, errors.New("not base64 or base64url")
}

// GenerateKey returns a fresh random key and its encoding for
// EDGEAUTH_STATE_KEYS (unpadded base64url), for `edgeauth keygen`.
func GenerateKey() (Key, string, error) {
	secret := make([]byte, KeySize)
	if _, err := rand.Read(secret); err != nil {
		return Key{}, "", fmt.Errorf("statecodec: generate key: %w", err)
	}
	return Key{ID: deriveKeyID(secret), Secret: secret}, base64.RawURLEncoding.EncodeToString(secret), nil
}
