package statecodec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwe"
)

// Open returns ErrExpired, an error matching ErrInvalid, or nil. Callers
// compare with errors.Is; the texts are safe to show.
var (
	// ErrInvalid matches every failure to open a token other than its
	// expiry: malformed, oversized, tampered, sealed under an unknown key or
	// for another purpose. Answer a client with this one alone: telling it
	// which check failed would give an attacker an oracle.
	ErrInvalid = errors.New("statecodec: invalid token")
	// ErrExpired means the token is authentic and for this purpose, but its
	// sealed expiry has passed.
	ErrExpired = errors.New("statecodec: expired token")

	// ErrMalformed matches ErrInvalid: the token is not a compact JWE of the
	// shape Seal makes (length, alphabet, segments, header members, alg,
	// enc), so nothing was decrypted. For operators' metrics only.
	ErrMalformed error = &invalidError{"statecodec: malformed token"}
	// ErrUnknownKey matches ErrInvalid: the token is well formed but its kid
	// names no key of the ring — typically a key retired too early, or
	// replicas configured with different keys. For operators' metrics only.
	ErrUnknownKey error = &invalidError{"statecodec: token sealed under an unknown key"}
)

// invalidError is a finer reason that still matches ErrInvalid, so callers
// that only know ErrInvalid keep working.
type invalidError struct{ msg string }

func (e *invalidError) Error() string        { return e.msg }
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

// MaxTokenLen bounds the tokens Open looks at and Seal produces, in bytes.
// Longer input is refused before any parsing. It leaves room for a refresh
// payload that carries a provider's refresh token (Microsoft's run to a
// couple of kilobytes) and claims: the payload may be about 6000 bytes.
const MaxTokenLen = 8192

// maxNameLen bounds a purpose and a key ID.
const maxNameLen = 32

// Option configures a Codec.
type Option func(*Codec)

// WithClock sets the clock used for expiry when sealing and opening; the
// default (and what nil keeps) is time.Now. Tests inject a fixed clock here.
func WithClock(now func() time.Time) Option {
	return func(c *Codec) {
		if now != nil {
			c.now = now
		}
	}
}

// Codec seals and opens tokens with a key ring. It is immutable after New
// and safe for concurrent use.
type Codec struct {
	ring []ringKey // ring[0] seals
	now  func() time.Time
}

type ringKey struct {
	id     string
	secret []byte
	jwe    jwe.EncryptDecryptOption // jwe.WithKey(jwa.DIRECT, secret), built once
}

// New returns a Codec over keys: the first key seals, every key opens. Each
// key must be KeySize bytes; an empty ID is derived from the key as
// ParseKeys does. Duplicate keys or IDs are refused.
func New(keys []Key, opts ...Option) (*Codec, error) {
	if len(keys) == 0 {
		return nil, errors.New("statecodec: no keys")
	}
	c := &Codec{ring: make([]ringKey, 0, len(keys)), now: time.Now}
	for i, k := range keys {
		if len(k.Secret) != KeySize {
			return nil, fmt.Errorf("statecodec: key %d: %d bytes, want %d", i+1, len(k.Secret), KeySize)
		}
		id := k.ID
		if id == "" {
			id = deriveKeyID(k.Secret)
		} else if !validName(id) {
			return nil, fmt.Errorf("statecodec: key %d: ID must be 1 to %d of A-Z a-z 0-9 . _ -", i+1, maxNameLen)
		}
		for j, prev := range c.ring {
			if prev.id == id {
				return nil, fmt.Errorf("statecodec: key %d: ID %q already used by key %d", i+1, id, j+1)
			}
			if bytes.Equal(prev.secret, k.Secret) {
				return nil, fmt.Errorf("statecodec: key %d: same as key %d", i+1, j+1)
			}
		}
		// A copy, so the caller reusing its slice cannot change the ring.
		secret := bytes.Clone(k.Secret)
		c.ring = append(c.ring, ringKey{id: id, secret: secret, jwe: jwe.WithKey(jwa.DIRECT, secret)})
	}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Seal encrypts payload (marshalled with encoding/json) for purpose under
// the first key and returns a compact JWE valid for ttl, rounded up to the
// whole second. The protected header is {"alg":"dir","enc":"A256GCM",
// "kid":…,"typ":purpose}; the plaintext is {"e":<expiry, Unix seconds>,
// "p":<payload>}. Purpose is 1 to 32 of A-Z a-z 0-9 . _ -.
//
// Each call draws a random 96-bit IV, so one key should seal well under
// 2^32 tokens (NIST SP 800-38D §8.3) — rotate keys long before that.
func (c *Codec) Seal(purpose string, payload any, ttl time.Duration) (string, error) {
	if !validName(purpose) {
		return "", fmt.Errorf("statecodec: seal: purpose must be 1 to %d of A-Z a-z 0-9 . _ -", maxNameLen)
	}
	if ttl <= 0 {
		return "", fmt.Errorf("statecodec: seal: ttl %v is not positive", ttl)
	}

	var buf bytes.Buffer
	buf.WriteString(`{"e":`)
	buf.WriteString(strconv.FormatInt(expiry(c.now(), ttl), 10))
	buf.WriteString(`,"p":`)
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // \u003c costs five bytes more than <, and the token is never HTML
	if err := enc.Encode(payload); err != nil {
		return "", fmt.Errorf("statecodec: seal: marshal payload: %w", err)
	}
	buf.Truncate(buf.Len() - 1) // Encode's newline
	buf.WriteByte('}')

	k := &c.ring[0]
	h := jwe.NewHeaders()
	if err := h.Set(jwe.KeyIDKey, k.id); err != nil {
		return "", fmt.Errorf("statecodec: seal: set kid: %w", err)
	}
	if err := h.Set(jwe.TypeKey, purpose); err != nil {
		return "", fmt.Errorf("statecodec: seal: set typ: %w", err)
	}
	tok, err := jwe.Encrypt(buf.Bytes(), k.jwe,
		jwe.WithContentEncryption(jwa.A256GCM),
		jwe.WithProtectedHeaders(h),
		jwe.WithCompact())
	if err != nil {
		return "", fmt.Errorf("statecodec: seal: encrypt: %w", err)
	}
	if len(tok) > MaxTokenLen {
		// Open would refuse it; better to fail here, where the cause is known.
		return "", fmt.Errorf("statecodec: seal: token of %d bytes exceeds %d", len(tok), MaxTokenLen)
	}
	return string(tok), nil
}

// expiry returns now+ttl in Unix seconds, rounded up so a token never lives
// shorter than asked.
func expiry(now time.Time, ttl time.Duration) int64 {
	t := now.Add(ttl)
	s := t.Unix()
	if t.Nanosecond() != 0 {
		s++
	}
	return s
}

// envelope is the sealed plaintext; one-letter names keep the token short.
type envelope struct {
	E int64           `json:"e"` // expiry, Unix seconds
	P json.RawMessage `json:"p"` // the caller's payload
}

// Open checks token and, when it is valid, unmarshals its payload into
// payload (a pointer, as for json.Unmarshal; nil to only check the token).
// It returns nil for a valid token, ErrExpired for an authentic token of
// this purpose whose expiry has passed, and an error matching ErrInvalid
// for anything else: ErrMalformed or ErrUnknownKey when the token failed
// before decryption for that reason, ErrInvalid itself when it names
// another purpose, fails authentication, or its payload does not fit.
// payload is written only after every check has passed; if the sealed payload does not
// unmarshal into it, Open returns ErrInvalid and payload may be partly set.
//
// Before decrypting, Open requires what jwx does not check (RFC 7516 §7.1,
// PITFALLS.md): at most MaxTokenLen bytes; exactly five compact segments in
// canonical unpadded base64url; an empty encrypted-key segment, a 96-bit IV
// and a 128-bit tag; a protected header of exactly alg "dir", enc "A256GCM",
// kid naming a key of the ring, and typ equal to purpose — so zip, crit and
// any other parameter are refused. A token is expired from its expiry second
// on; there is no leeway, because only edgeauth replicas seal and open and
// a TTL of minutes dwarfs their clock skew.
func (c *Codec) Open(purpose, token string, payload any) error {
	if !validName(purpose) {
		return ErrInvalid
	}
	if len(token) > MaxTokenLen {
		return ErrMalformed
	}
	k, err := c.precheck(purpose, token)
	if err != nil {
		return err
	}
	plain, err := jwe.Decrypt([]byte(token), k.jwe)
	if err != nil {
		return ErrInvalid
	}
	var env envelope
	if err := json.Unmarshal(plain, &env); err != nil || env.E <= 0 || len(env.P) == 0 {
		return ErrInvalid
	}
	if !c.now().Before(time.Unix(env.E, 0)) {
		return ErrExpired
	}
	if payload != nil {
		if err := json.Unmarshal(env.P, payload); err != nil {
			return ErrInvalid
		}
	}
	return nil
}

// validName reports whether s may be a purpose or key ID: short, and
// nothing that JSON would escape or that could be confused in a header.
func validName(s string) bool {
	if s == "" || len(s) > maxNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if b := s[i]; b != '.' && b64val(b) < 0 {
			return false
		}
	}
	return true
}
